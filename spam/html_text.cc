// html_text.cc — Mail::SpamAssassin::HTML's rendering of text/html: an
// HTML::Parser-like tokenizer feeding SpamAssassin's display_text rules
// (block tags insert "\n", "\n\n" or " "; script and style are dropped;
// entities decoded), plus the links its html_uri collects.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_set>

#include "decoders/ascii.h"
#include "spam/text_internal.h"

namespace filterd::spam::detail {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

}  // namespace

namespace {

struct Attr {
  std::string name, value;
};

bool is_element(const std::string& n) {
  static const std::unordered_set<std::string> names = {
      "a",      "abbr",       "acronym",  "address",  "area",     "b",       "base",     "bdo",
      "big",    "blockquote", "body",     "br",       "button",   "caption", "cite",     "code",
      "col",    "colgroup",   "dd",       "del",      "dfn",      "div",     "dl",       "dt",
      "em",     "fieldset",   "form",     "h1",       "h2",       "h3",      "h4",       "h5",
      "h6",     "head",       "hr",       "html",     "i",        "img",     "input",    "ins",
      "kbd",    "label",      "legend",   "li",       "link",     "map",     "meta",     "noscript",
      "object", "ol",         "optgroup", "option",   "p",        "param",   "pre",      "q",
      "samp",   "script",     "select",   "small",    "span",     "strong",  "style",    "sub",
      "sup",    "table",      "tbody",    "td",       "textarea", "tfoot",   "th",       "thead",
      "title",  "tr",         "tt",       "ul",       "var",      "applet",  "basefont", "center",
      "dir",    "font",       "frame",    "frameset", "iframe",   "isindex", "menu",     "noframes",
      "s",      "strike",     "u",        "nobr",     "x-sigsep", "x-tab"};
  return names.count(n) > 0;
}

// /^(?:o|st\d):[\w-]+\/?$/: an Office namespace tag.
bool maybe_namespace(const std::string& n) {
  size_t i = 0;
  if (n.starts_with("o:")) {
    i = 2;
  } else if (n.size() > 3 && n[0] == 's' && n[1] == 't' &&
             std::isdigit(static_cast<unsigned char>(n[2])) && n[3] == ':') {
    i = 4;
  } else {
    return false;
  }
  size_t e = n.size();
  if (e > i && n[e - 1] == '/') --e;
  if (e == i) return false;
  for (size_t k = i; k < e; ++k)
    if (!(std::isalnum(static_cast<unsigned char>(n[k])) || n[k] == '_' || n[k] == '-'))
      return false;
  return true;
}

// HTML.pm's word characters for obfuscation: not whitespace, not ASCII
// punctuation (/[^\s\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/).
bool wordish(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  if (c >= 0x80) return true;
  return std::isalnum(c) != 0;
}

std::string lower(std::string_view s) {
  return decoders::ascii_lower(s);
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (is_space(s[b]) || s[b] == '\x0B')) ++b;
  while (e > b && (is_space(s[e - 1]) || s[e - 1] == '\x0B')) --e;
  return std::string(s.substr(b, e - b));
}

std::string hex2(long v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lx", v);
  return buf;
}

const std::map<std::string, int, std::less<>>& color_names() {
  static const std::map<std::string, int, std::less<>> names = {{"aliceblue", 0xf0f8ff},
                                                                {"antiquewhite", 0xfaebd7},
                                                                {"aqua", 0x00ffff},
                                                                {"aquamarine", 0x7fffd4},
                                                                {"azure", 0xf0ffff},
                                                                {"beige", 0xf5f5dc},
                                                                {"bisque", 0xffe4c4},
                                                                {"black", 0x000000},
                                                                {"blanchedalmond", 0xffebcd},
                                                                {"blue", 0x0000ff},
                                                                {"blueviolet", 0x8a2be2},
                                                                {"brown", 0xa52a2a},
                                                                {"burlywood", 0xdeb887},
                                                                {"cadetblue", 0x5f9ea0},
                                                                {"chartreuse", 0x7fff00},
                                                                {"chocolate", 0xd2691e},
                                                                {"coral", 0xff7f50},
                                                                {"cornflowerblue", 0x6495ed},
                                                                {"cornsilk", 0xfff8dc},
                                                                {"crimson", 0xdc143c},
                                                                {"cyan", 0x00ffff},
                                                                {"darkblue", 0x00008b},
                                                                {"darkcyan", 0x008b8b},
                                                                {"darkgoldenrod", 0xb8860b},
                                                                {"darkgray", 0xa9a9a9},
                                                                {"darkgreen", 0x006400},
                                                                {"darkgrey", 0xa9a9a9},
                                                                {"darkkhaki", 0xbdb76b},
                                                                {"darkmagenta", 0x8b008b},
                                                                {"darkolivegreen", 0x556b2f},
                                                                {"darkorange", 0xff8c00},
                                                                {"darkorchid", 0x9932cc},
                                                                {"darkred", 0x8b0000},
                                                                {"darksalmon", 0xe9967a},
                                                                {"darkseagreen", 0x8fbc8f},
                                                                {"darkslateblue", 0x483d8b},
                                                                {"darkslategray", 0x2f4f4f},
                                                                {"darkslategrey", 0x2f4f4f},
                                                                {"darkturquoise", 0x00ced1},
                                                                {"darkviolet", 0x9400d3},
                                                                {"deeppink", 0xff1493},
                                                                {"deepskyblue", 0x00bfff},
                                                                {"dimgray", 0x696969},
                                                                {"dimgrey", 0x696969},
                                                                {"dodgerblue", 0x1e90ff},
                                                                {"firebrick", 0xb22222},
                                                                {"floralwhite", 0xfffaf0},
                                                                {"forestgreen", 0x228b22},
                                                                {"fuchsia", 0xff00ff},
                                                                {"gainsboro", 0xdcdcdc},
                                                                {"ghostwhite", 0xf8f8ff},
                                                                {"gold", 0xffd700},
                                                                {"goldenrod", 0xdaa520},
                                                                {"gray", 0x808080},
                                                                {"green", 0x008000},
                                                                {"greenyellow", 0xadff2f},
                                                                {"grey", 0x808080},
                                                                {"honeydew", 0xf0fff0},
                                                                {"hotpink", 0xff69b4},
                                                                {"indianred", 0xcd5c5c},
                                                                {"indigo", 0x4b0082},
                                                                {"ivory", 0xfffff0},
                                                                {"khaki", 0xf0e68c},
                                                                {"lavender", 0xe6e6fa},
                                                                {"lavenderblush", 0xfff0f5},
                                                                {"lawngreen", 0x7cfc00},
                                                                {"lemonchiffon", 0xfffacd},
                                                                {"lightblue", 0xadd8e6},
                                                                {"lightcoral", 0xf08080},
                                                                {"lightcyan", 0xe0ffff},
                                                                {"lightgoldenrodyellow", 0xfafad2},
                                                                {"lightgray", 0xd3d3d3},
                                                                {"lightgreen", 0x90ee90},
                                                                {"lightgrey", 0xd3d3d3},
                                                                {"lightpink", 0xffb6c1},
                                                                {"lightsalmon", 0xffa07a},
                                                                {"lightseagreen", 0x20b2aa},
                                                                {"lightskyblue", 0x87cefa},
                                                                {"lightslategray", 0x778899},
                                                                {"lightslategrey", 0x778899},
                                                                {"lightsteelblue", 0xb0c4de},
                                                                {"lightyellow", 0xffffe0},
                                                                {"lime", 0x00ff00},
                                                                {"limegreen", 0x32cd32},
                                                                {"linen", 0xfaf0e6},
                                                                {"magenta", 0xff00ff},
                                                                {"maroon", 0x800000},
                                                                {"mediumaquamarine", 0x66cdaa},
                                                                {"mediumblue", 0x0000cd},
                                                                {"mediumorchid", 0xba55d3},
                                                                {"mediumpurple", 0x9370db},
                                                                {"mediumseagreen", 0x3cb371},
                                                                {"mediumslateblue", 0x7b68ee},
                                                                {"mediumspringgreen", 0x00fa9a},
                                                                {"mediumturquoise", 0x48d1cc},
                                                                {"mediumvioletred", 0xc71585},
                                                                {"midnightblue", 0x191970},
                                                                {"mintcream", 0xf5fffa},
                                                                {"mistyrose", 0xffe4e1},
                                                                {"moccasin", 0xffe4b5},
                                                                {"navajowhite", 0xffdead},
                                                                {"navy", 0x000080},
                                                                {"oldlace", 0xfdf5e6},
                                                                {"olive", 0x808000},
                                                                {"olivedrab", 0x6b8e23},
                                                                {"orange", 0xffa500},
                                                                {"orangered", 0xff4500},
                                                                {"orchid", 0xda70d6},
                                                                {"palegoldenrod", 0xeee8aa},
                                                                {"palegreen", 0x98fb98},
                                                                {"paleturquoise", 0xafeeee},
                                                                {"palevioletred", 0xdb7093},
                                                                {"papayawhip", 0xffefd5},
                                                                {"peachpuff", 0xffdab9},
                                                                {"peru", 0xcd853f},
                                                                {"pink", 0xffc0cb},
                                                                {"plum", 0xdda0dd},
                                                                {"powderblue", 0xb0e0e6},
                                                                {"purple", 0x800080},
                                                                {"red", 0xff0000},
                                                                {"rosybrown", 0xbc8f8f},
                                                                {"royalblue", 0x4169e1},
                                                                {"saddlebrown", 0x8b4513},
                                                                {"salmon", 0xfa8072},
                                                                {"sandybrown", 0xf4a460},
                                                                {"seagreen", 0x2e8b57},
                                                                {"seashell", 0xfff5ee},
                                                                {"sienna", 0xa0522d},
                                                                {"silver", 0xc0c0c0},
                                                                {"skyblue", 0x87ceeb},
                                                                {"slateblue", 0x6a5acd},
                                                                {"slategray", 0x708090},
                                                                {"slategrey", 0x708090},
                                                                {"snow", 0xfffafa},
                                                                {"springgreen", 0x00ff7f},
                                                                {"steelblue", 0x4682b4},
                                                                {"tan", 0xd2b48c},
                                                                {"teal", 0x008080},
                                                                {"thistle", 0xd8bfd8},
                                                                {"tomato", 0xff6347},
                                                                {"turquoise", 0x40e0d0},
                                                                {"violet", 0xee82ee},
                                                                {"wheat", 0xf5deb3},
                                                                {"white", 0xffffff},
                                                                {"whitesmoke", 0xf5f5f5},
                                                                {"yellow", 0xffff00},
                                                                {"yellowgreen", 0x9acd32}};
  return names;
}

// Reads up to three numbers "N" or "N%" out of "rgb(a, b, c)"; Perl's
// m/rgb\((\d+)%,\s*(\d+)%,\s*(\d+)%\s*\)/ and the plain form.
bool rgb_triplet(const std::string& s, bool percent, long v[3]) {
  for (size_t p = s.find("rgb("); p != std::string::npos; p = s.find("rgb(", p + 1)) {
    size_t i = p + 4;
    bool ok = true;
    for (int k = 0; k < 3 && ok; ++k) {
      if (k > 0) {
        if (i >= s.size() || s[i] != ',') {
          ok = false;
          break;
        }
        ++i;
        while (i < s.size() && is_space(s[i])) ++i;
      }
      size_t d = i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i == d || i - d > 9) {
        ok = false;
        break;
      }
      v[k] = std::stol(s.substr(d, i - d));
      if (percent) {
        if (i >= s.size() || s[i] != '%') ok = false;
        ++i;
      }
    }
    if (!ok) continue;
    while (i < s.size() && is_space(s[i])) ++i;
    if (i < s.size() && s[i] == ')') return true;
  }
  return false;
}

// HTML.pm name_to_rgb: "#rrggbb" or "invalid".
std::string name_to_rgb(std::string_view in) {
  std::string color = trim(lower(in));
  const auto& names = color_names();
  if (auto it = names.find(color); it != names.end()) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "#%06x", it->second);
    return buf;
  }
  const bool hexish = std::all_of(color.begin(), color.end(), [](char c) {
    return c == '#' || std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
  });
  bool rgbish = false;
  for (size_t p = color.find("rgb("); p != std::string::npos && !rgbish;
       p = color.find("rgb(", p + 1)) {
    size_t i = p + 4;
    while (i < color.size() && (std::isdigit(static_cast<unsigned char>(color[i])) ||
                                color[i] == '%' || color[i] == ',' || color[i] == ' '))
      ++i;
    rgbish = i < color.size() && color[i] == ')';
  }
  if (!hexish && !rgbish) return "invalid";
  long v[3];
  if (rgb_triplet(color, true, v)) {
    color = "#";
    for (long x : v) color += hex2(static_cast<long>(static_cast<double>(x) / 100 * 255));
  }
  if (rgb_triplet(color, false, v)) {
    color = "#";
    for (long x : v) color += hex2(x);
  }
  if (!color.starts_with("#")) return "invalid";
  std::string h;
  for (char c : color)
    if (std::isxdigit(static_cast<unsigned char>(c))) h += c;
  if (h.size() > 6) h.resize(6);
  if (h.size() > 3 && h.size() < 6) h.resize(3);
  if (h.size() % 3) h.append(3 - h.size() % 3, '0');
  if (h.size() == 3) h = std::string{h[0], h[0], h[1], h[1], h[2], h[2]};
  return "#" + h;
}

// HTML.pm parse_css_background: the last layer's tokens.
std::vector<std::string> css_background_last_layer(const std::string& bg) {
  std::vector<std::vector<std::string>> layers;
  std::vector<std::string> tokens;
  std::vector<int> stack;
  int state = 0;
  std::string token;
  for (char ch : bg) {
    if (state == 0) {
      if (ch == ' ') {
        if (!token.empty()) tokens.push_back(token);
        token.clear();
      } else if (ch == '(' || ch == '"' || ch == '\'') {
        token += ch;
        stack.push_back(state);
        state = ch == '(' ? 1 : ch == '"' ? 2 : 3;
      } else if (ch == ',') {
        if (!token.empty()) tokens.push_back(token);
        token.clear();
        layers.push_back(tokens);
        tokens.clear();
      } else {
        token += ch;
      }
    } else if (state == 1) {
      token += ch;
      if (ch == ')') {
        tokens.push_back(token);
        token.clear();
        state = stack.empty() ? 0 : stack.back();
        if (!stack.empty()) stack.pop_back();
      } else if (ch == '"' || ch == '\'') {
        stack.push_back(state);
        state = ch == '"' ? 2 : 3;
      }
    } else {
      token += ch;
      if ((state == 2 && ch == '"') || (state == 3 && ch == '\'')) {
        state = stack.empty() ? 0 : stack.back();
        if (!stack.empty()) stack.pop_back();
      }
    }
  }
  if (!token.empty()) tokens.push_back(token);
  if (!tokens.empty()) layers.push_back(tokens);
  return layers.empty() ? std::vector<std::string>{} : layers.back();
}

// The font face test of HTML.pm html_tests: a comma-separated list of
// plain names (/^\s*["'.]?[a-z ][a-z -]*[a-z]\d?["']?(?:,\s*["']?[a-z][a-z
// -]*[a-z]\d?["']?)*;?$/i), checked item by item (no comma can occur
// inside an item, so the split is exact).
bool font_face_ok(std::string_view face) {
  std::string f = lower(face);
  if (f.ends_with("\n")) f.pop_back();
  std::vector<std::string> items;
  size_t b = 0;
  for (size_t c; (c = f.find(',', b)) != std::string::npos; b = c + 1)
    items.push_back(f.substr(b, c - b));
  items.push_back(f.substr(b));
  auto letter = [](char c) { return c >= 'a' && c <= 'z'; };
  for (size_t k = 0; k < items.size(); ++k) {
    std::string s = items[k];
    const bool first = k == 0, last = k + 1 == items.size();
    size_t i = 0;
    while (i < s.size() && (is_space(s[i]) || s[i] == '\x0B')) ++i;
    const bool ws = i > 0;
    bool quote = false;
    if (i < s.size() && (s[i] == '"' || s[i] == '\'' || (first && s[i] == '.'))) ++i, quote = true;
    std::string core = s.substr(i);
    if (last && core.ends_with(";")) core.pop_back();
    if (!core.empty() && (core.back() == '"' || core.back() == '\'')) core.pop_back();
    if (!core.empty() && std::isdigit(static_cast<unsigned char>(core.back()))) core.pop_back();
    bool ok = core.size() >= 2 && (letter(core[0]) || (first && core[0] == ' ')) &&
              letter(core.back()) && std::all_of(core.begin(), core.end(), [&](char c) {
                return letter(c) || c == ' ' || c == '-';
              });
    if (!ok && first && !quote && ws && core.size() == 1 && letter(core[0])) ok = true;
    if (!ok) return false;
  }
  return true;
}

// The renderer state of Mail::SpamAssassin::HTML: the text, the links, and
// the counters and flags HTMLEval reads (html_end's results).
class Renderer {
 public:
  HtmlRendering result;

  Renderer() { styles_.push_back({"default", "#000000", "#ffffff", 3, "", ""}); }

  void tag(const std::string& name, const std::vector<Attr>& attrs, bool start) {
    const bool ns = maybe_namespace(name);
    const bool seen = inside_.count(name) > 0;
    if (is_element(name) || ns) {
      ++elements_;
      if (!seen) ++elements_seen_;
    }
    ++tags_;
    if (!seen) ++tags_seen_;
    int& inside = inside_[name];
    inside += start ? 1 : -1;
    if (inside < 0) {
      inside = 0;
      ++closed_extra_;
    }
    if (ns || !known(name)) return;
    if (name == "body" || name == "font" || name == "table" || name == "tr" || name == "th" ||
        name == "td" || name == "big" || name == "small" || name == "basefont" || name == "span" ||
        name == "p" || name == "div" || name == "a")
      text_style(name, attrs, start);
    if (name == "br" || name == "div") {
      whitespace("\n");
    } else if (name == "li" || name == "th" || name == "td" || name == "dt" || name == "dd" ||
               name == "embed" ||
               (name.size() == 2 && name[0] == 'h' && name[1] >= '0' && name[1] <= '9')) {
      whitespace(" ");
    } else if (name == "p" || name == "hr" || name == "blockquote" || name == "pre" ||
               name == "listing" || name == "plaintext" || name == "xmp" || name == "title") {
      whitespace("\n\n");
    }
    if (start) {
      uri(name, attrs);
      html_tests(name, attrs);
    }
  }

  // <!doctype ...>: counted as an element and a tag, never "seen".
  void doctype() {
    ++elements_;
    ++tags_;
    inside_["!doctype"] = 0;
  }

  void comment(std::string_view text) {
    if (result.facts.comment.size() < kMaxStrings) result.facts.comment.emplace_back(text);
  }

  void text(std::string_view raw) {
    HtmlFacts& f = result.facts;
    if (in("script")) {
      if (f.script.size() < kMaxStrings) f.script.emplace_back(raw);
      return;
    }
    if (in("style")) return;
    std::string t = decode_entities(raw);
    if (in("a") && !f.anchor.empty() && f.anchor.back().size() < kMaxString) f.anchor.back() += t;
    if (in("title") && !f.title.empty() && f.title.back().size() < kMaxString) f.title.back() += t;
    bool invisible = false;
    bool visible_chars = false;
    for (size_t i = 0; i < t.size() && !visible_chars; ++i) {
      if (t[i] == '\xC2' && i + 1 < t.size() && t[i + 1] == '\xA0') {
        ++i;
        continue;
      }
      visible_chars = !(is_space(t[i]) || t[i] == '\x0B');
    }
    if (visible_chars) invisible = font_invisible();
    if (!chunks_.empty() && !t.empty() && wordish(t[0])) {
      const std::string& last = chunks_.back().text;
      if (!last.empty() && wordish(last.back())) ++obfuscation_;
    }
    // display_text: runs of ASCII whitespace (and NBSP) become one space.
    std::string squeezed;
    for (size_t i = 0; i < t.size();) {
      const bool nbsp = t[i] == '\xC2' && i + 1 < t.size() && t[i + 1] == '\xA0';
      if (is_space(t[i]) || t[i] == '\x0B' || nbsp) {
        if (!nbsp) {
          while (i < t.size() && (is_space(t[i]) || t[i] == '\x0B')) ++i;
        } else {
          i += 2;
        }
        squeezed += ' ';
      } else {
        squeezed += t[i++];
      }
    }
    if (!invisible && !chunks_.empty() && chunks_.back().whitespace && !squeezed.empty() &&
        squeezed[0] == ' ')
      squeezed.erase(0, 1);
    chunks_.push_back({std::move(squeezed), false, invisible});
  }

  std::string finish(size_t input_chars) {
    std::string out;
    for (const auto& c : chunks_) out += c.text;
    HtmlFacts& f = result.facts;
    f.inside.insert(inside_.begin(), inside_.end());
    f.length = static_cast<double>(input_chars);
    f.image_area = image_area_;
    f.max_size = max_size_;
    f.min_size = min_size_;
    if (tags_) {
      f.closed_extra_ratio = closed_extra_ / tags_;
      if (elements_) f.bad_tag_ratio = (tags_ - elements_) / tags_;
      if (obfuscation_) f.obfuscation_ratio = obfuscation_ / tags_;
    }
    if (tags_seen_ && elements_seen_)
      f.non_element_ratio = (tags_seen_ - elements_seen_) / tags_seen_;
    double chars = 0, spaces = 0;
    for (size_t i = 0; i < out.size();) {
      const size_t n = unicode_space_at(out, i);
      if (n) {
        ++spaces, ++chars;
        i += n;
        continue;
      }
      if ((static_cast<unsigned char>(out[i]) & 0xC0) != 0x80) ++chars;
      ++i;
    }
    f.html_length = chars;
    f.non_space_len = chars - spaces;
    return out;
  }

 private:
  static constexpr size_t kMaxStrings = 10000;  // comments, titles ... kept
  static constexpr size_t kMaxString = 100000;  // bytes of one anchor or title
  static constexpr size_t kMaxStyles = 10000;   // nesting of styled tags

  struct Chunk {
    std::string text;
    bool whitespace;
    bool invisible = false;
  };
  struct Style {
    std::string tag, fg, bg;
    double size;
    std::string display, visibility;  // style="display: ...; visibility: ..."
  };
  std::vector<Chunk> chunks_;
  std::map<std::string, int> inside_;
  std::string base_href_;
  std::vector<Style> styles_;
  double basefont_ = 3, max_size_ = 3, min_size_ = 3;
  double tags_ = 0, elements_ = 0, tags_seen_ = 0, elements_seen_ = 0, closed_extra_ = 0;
  double obfuscation_ = 0, image_area_ = 0;

  // HTML.pm text_style: the style stack of body/font/table... tags.
  void text_style(std::string tag, const std::vector<Attr>& attrs, bool start) {
    if (tag == "th") tag = "td";
    if (!start) {
      if (tag != "body") close_tag(tag);
      return;
    }
    if (tag == "basefont") {
      if (const std::string* size = attr(attrs, "size")) {
        size_t i = 0;
        while (i < size->size() && (is_space((*size)[i]) || (*size)[i] == '\x0B')) ++i;
        size_t d = i;
        while (i < size->size() && i - d < 9 &&
               std::isdigit(static_cast<unsigned char>((*size)[i])))
          ++i;
        if (i > d) {
          basefont_ = std::stod(size->substr(d, i - d));
          return;
        }
      }
    }
    if (tag == "td" || tag == "tr") close_table_tag(tag);
    if (styles_.size() >= kMaxStyles) return;
    Style s = styles_.back();
    s.tag = tag;
    if (tag == "big" || tag == "small") {
      s.size += tag == "big" ? 1 : -1;
      styles_.push_back(std::move(s));
      return;
    }
    const bool color_ok = tag == "font" || tag == "basefont";
    for (const Attr& a : attrs) {
      const std::string& n = a.name;
      const bool ok =
          (n == "color" && color_ok) || (n == "text" && tag == "body") ||
          (n == "size" && color_ok) || (n == "face" && color_ok) ||
          (n == "bgcolor" && (tag == "body" || tag == "table" || tag == "td" || tag == "tr")) ||
          (n == "style" && (tag == "table" || tag == "td" || tag == "tr" || tag == "span" ||
                            tag == "p" || tag == "div" || tag == "a")) ||
          (tag == "body" && (n == "link" || n == "alink" || n == "vlink" || n == "background"));
      if (!ok) continue;
      if (n == "text" || n == "color") {
        s.fg = name_to_rgb(a.value);
      } else if (n == "size") {
        size_t i = 0;
        while (i < a.value.size() && (is_space(a.value[i]) || a.value[i] == '\x0B')) ++i;
        const bool sign = i < a.value.size() && (a.value[i] == '+' || a.value[i] == '-');
        size_t d = i + (sign ? 1 : 0), e = d;
        while (e < a.value.size() && e - d < 9 &&
               std::isdigit(static_cast<unsigned char>(a.value[e])))
          ++e;
        if (e > d) {
          const double v = std::stod(a.value.substr(d, e - d));
          s.size = sign ? basefont_ + (a.value[i] == '-' ? -v : v) : v;
        }
      } else if (n == "style") {
        apply_css(a.value, s);
      }
      if (s.size > max_size_)
        max_size_ = s.size;
      else if (s.size < min_size_)
        min_size_ = s.size;
    }
    styles_.push_back(std::move(s));
  }

  void apply_css(const std::string& style, Style& s) {
    size_t b = 0;
    for (;;) {
      size_t e = style.find(';', b);
      std::string part = style.substr(b, e == std::string::npos ? std::string::npos : e - b);
      const std::string lp = lower(part);
      size_t i = 0;
      while (i < lp.size() && (is_space(lp[i]) || lp[i] == '\x0B')) ++i;
      const bool bgc = lp.compare(i, 17, "background-color:") == 0;
      if (bgc || lp.compare(i, 6, "color:") == 0) {
        std::string value = trim(lp.substr(i + (bgc ? 17 : 6)));
        // s/\s*!\s*important$//
        if (value.ends_with("important")) {
          std::string v = value.substr(0, value.size() - 9);
          while (!v.empty() && is_space(v.back())) v.pop_back();
          if (!v.empty() && v.back() == '!') {
            v.pop_back();
            while (!v.empty() && is_space(v.back())) v.pop_back();
            value = v;
          }
        }
        std::string& target = bgc ? s.bg : s.fg;
        if (!value.empty()) {
          if (value.find("rgb") != std::string::npos) {
            std::string digits;
            for (char c : value)
              if (std::isdigit(static_cast<unsigned char>(c)) || c == ',') digits += c;
            long v[3] = {0, 0, 0};
            size_t p = 0;
            for (int k = 0; k < 3; ++k) {
              size_t q = digits.find(',', p);
              std::string num =
                  digits.substr(p, q == std::string::npos ? std::string::npos : q - p);
              long x = 0;
              for (char c : num.substr(0, 9)) x = x * 10 + (c - '0');
              if (num.size() > 9) x = 256;
              v[k] = x > 255 ? 255 : x;
              if (q == std::string::npos) {
                p = digits.size();
              } else {
                p = q + 1;
              }
            }
            target = "#" + hex2(v[0]) + hex2(v[1]) + hex2(v[2]);
          } else if (value == "inherit") {
          } else if (value == "transparent") {
            target = value;
          } else {
            target = name_to_rgb(value);
          }
        }
      } else if (part.compare(i, 11, "background:") == 0) {
        const std::string value = trim(lp.substr(i + 11));
        if (!value.empty())
          for (const std::string& tok : css_background_last_layer(value)) {
            std::string c = name_to_rgb(tok);
            if (c != "invalid") {
              s.bg = c;
              break;
            }
          }
      } else {
        // /^\s*([a-z_-]+)\s*:\s*(\S.*?)\s*$/i: display and visibility matter.
        size_t k = i;
        while (k < part.size() && (std::isalpha(static_cast<unsigned char>(part[k])) ||
                                   part[k] == '_' || part[k] == '-'))
          ++k;
        const std::string name = part.substr(i, k - i);
        while (k < part.size() && (is_space(part[k]) || part[k] == '\x0B')) ++k;
        if (k > i && k < part.size() && part[k] == ':') {
          std::string value = trim(part.substr(k + 1));
          if (!value.empty() && name == "display") s.display = value;
          if (!value.empty() && name == "visibility") s.visibility = value;
        }
      }
      if (e == std::string::npos) break;
      b = e + 1;
    }
    if (s.bg == "transparent") s.bg = styles_.back().bg;
    if (s.fg == "transparent") s.fg = s.bg;
  }

  void close_table_tag(const std::string& tag) {
    if (std::none_of(styles_.begin(), styles_.end(), [&](const Style& s) { return s.tag == tag; }))
      return;
    while (styles_.size() > 1) {
      const std::string& top = styles_.back().tag;
      if ((tag == "td" && (top == "font" || top == "td")) ||
          (tag == "tr" && (top == "font" || top == "td" || top == "tr")))
        styles_.pop_back();
      else
        break;
    }
  }

  void close_tag(const std::string& tag) {
    if (std::none_of(styles_.begin(), styles_.end(), [&](const Style& s) { return s.tag == tag; }))
      return;
    while (styles_.size() > 1) {
      const bool match = styles_.back().tag == tag;
      styles_.pop_back();
      if (match) break;
    }
  }

  // HTML.pm html_font_invisible for the text about to be shown.
  bool font_invisible() {
    const Style& s = styles_.back();
    auto tail6 = [](const std::string& c) { return c.size() > 6 ? c.substr(c.size() - 6) : c; };
    if (tail6(s.fg) == tail6(s.bg)) {
      result.facts.font_low_contrast = true;
      return true;
    }
    auto rgb = [](const std::string& c, int out[3]) {
      std::string_view v = c;
      if (v.starts_with("#")) v.remove_prefix(1);
      if (v.size() != 6 || !std::all_of(v.begin(), v.end(), [](char x) {
            return std::isdigit(static_cast<unsigned char>(x)) || (x >= 'a' && x <= 'f');
          }))
        return false;
      for (int k = 0; k < 3; ++k) out[k] = std::stoi(std::string(v.substr(2 * k, 2)), nullptr, 16);
      return true;
    };
    int a[3], b[3];
    if (rgb(s.fg, a) && rgb(s.bg, b)) {
      const double r = 0.2126 * (a[0] - b[0]), g = 0.7152 * (a[1] - b[1]),
                   bl = 0.0722 * (a[2] - b[2]);
      if (std::sqrt(r * r + g * g + bl * bl) < 12) {
        result.facts.font_low_contrast = true;
        return true;
      }
    }
    if (s.fg == "invalid" || s.bg == "invalid") {
      result.facts.font_invalid_color = true;
      return true;
    }
    if (s.size <= 1) return true;
    if (lower(s.display) == "none") return true;
    if (lower(s.visibility) == "hidden") return true;
    return false;
  }

  // HTML.pm html_tests: per start tag.
  void html_tests(const std::string& tag, const std::vector<Attr>& attrs) {
    HtmlFacts& f = result.facts;
    if (tag == "font")
      if (const std::string* face = attr(attrs, "face"); face && !font_face_ok(*face))
        f.font_face_bad = true;
    if (tag == "img" && in("a") && !f.anchor.empty() && f.anchor.back().size() < kMaxString)
      f.anchor.back() += "<img>\n";
    if (tag == "img") {
      const std::string* w = attr(attrs, "width");
      const std::string* h = attr(attrs, "height");
      if (w && h) {
        // /^(\d+)(\%)?$/, a percentage scaled to 800x600.
        auto dim = [](const std::string& v, double scale) {
          std::string s = v;
          if (s.ends_with("\n")) s.pop_back();
          const bool pct = s.ends_with("%");
          if (pct) s.pop_back();
          if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c));
              }))
            return 0.0;
          return std::stod(s) * (pct ? scale : 1);
        };
        double width = dim(*w, 8), height = dim(*h, 6);
        if (width <= 0) width = 200;
        if (height <= 0) height = 200;
        image_area_ += width * height;
      }
    }
    if (tag == "form")
      if (const std::string* action = attr(attrs, "action");
          action && lower(*action).find("mailto:") != std::string::npos)
        f.form_action_mailto = true;
    if (tag == "object" || tag == "embed") f.embeds = true;
    if (tag == "a" && f.anchor.size() < kMaxStrings) f.anchor.emplace_back();
    if (tag == "title" && f.title.size() < kMaxStrings) f.title.emplace_back();
    if (tag == "meta") {
      const std::string* equiv = attr(attrs, "http-equiv");
      const std::string* content = attr(attrs, "content");
      if (equiv && content && lower(*equiv).find("content-type") != std::string::npos) {
        const std::string lc = lower(*content);
        for (size_t p = lc.find("charset"); p != std::string::npos; p = lc.find("charset", p + 1)) {
          if (p > 0 && (std::isalnum(static_cast<unsigned char>(lc[p - 1])) || lc[p - 1] == '_'))
            continue;
          size_t q = p + 7;
          while (q < lc.size() && is_space(lc[q])) ++q;
          if (q >= lc.size() || lc[q] != '=') continue;
          ++q;
          while (q < lc.size() && is_space(lc[q])) ++q;
          if (q < lc.size() && (lc[q] == '"' || lc[q] == '\'')) ++q;
          size_t e = q;
          while (e < content->size() && (*content)[e] != '"' && (*content)[e] != '\'') ++e;
          if (e == q) continue;
          const std::string cs = content->substr(q, e - q);
          f.charsets = f.charsets ? *f.charsets + " " + cs : cs;
          break;
        }
      }
    }
  }

  bool in(const char* name) const { return open(name); }

 public:
  bool open(const char* name) const {
    auto it = inside_.find(name);
    return it != inside_.end() && it->second > 0;
  }

 private:
  static bool known(const std::string& n) {
    static const std::unordered_set<std::string> names = {
        "a",      "abbr",     "acronym",    "address",  "area",     "b",        "base",
        "bdo",    "big",      "blockquote", "body",     "br",       "button",   "caption",
        "cite",   "code",     "col",        "colgroup", "dd",       "del",      "dfn",
        "div",    "dl",       "dt",         "em",       "fieldset", "form",     "h1",
        "h2",     "h3",       "h4",         "h5",       "h6",       "head",     "hr",
        "html",   "i",        "img",        "input",    "ins",      "kbd",      "label",
        "legend", "li",       "link",       "map",      "meta",     "noscript", "object",
        "ol",     "optgroup", "option",     "p",        "param",    "pre",      "q",
        "samp",   "script",   "select",     "small",    "span",     "strong",   "style",
        "sub",    "sup",      "table",      "tbody",    "td",       "textarea", "tfoot",
        "th",     "thead",    "title",      "tr",       "tt",       "ul",       "var",
        "applet", "basefont", "center",     "dir",      "font",     "frame",    "frameset",
        "iframe", "isindex",  "menu",       "noframes", "s",        "strike",   "u",
        "nobr",   "x-sigsep", "x-tab",      "bgsound",  "embed",    "listing",  "plaintext",
        "xmp"};
    return names.count(n) > 0;
  }

  void whitespace(const char* ws) {
    if (!chunks_.empty() && !chunks_.back().whitespace && !chunks_.back().invisible) {
      std::string& last = chunks_.back().text;
      if (!last.empty() && last.back() == ' ') last.pop_back();
    }
    chunks_.push_back({ws, true, false});
  }

  static const std::string* attr(const std::vector<Attr>& attrs, std::string_view name) {
    for (const auto& a : attrs)
      if (a.name == name) return &a.value;
    return nullptr;
  }

  void push_uri(std::string u) {
    // canon_uri: no leading/trailing whitespace (incl. NBSP), at most 8192.
    auto trim_ws = [](std::string& s) {
      while (!s.empty() && (is_space(s.back()) || s.back() == '\x0B')) s.pop_back();
      if (s.size() >= 2 && s.compare(s.size() - 2, 2, "\xC2\xA0") == 0) s.resize(s.size() - 2);
      size_t b = 0;
      while (b < s.size() && (is_space(s[b]) || s[b] == '\x0B')) ++b;
      s.erase(0, b);
    };
    trim_ws(u);
    if (u.size() > 8192) u.resize(8192);
    if (u.empty()) return;
    const std::string l = decoders::ascii_lower(u.substr(0, 7));
    for (const char* scheme : {"data:", "mailto:", "file:", "cid:", "tel:"})
      if (l.starts_with(scheme)) {
        result.uris.push_back(u);
        return;
      }
    result.uris.push_back(resolve(u));
  }

  // HTML.pm target_uri, simplified: a relative link is joined to <base>.
  std::string resolve(const std::string& u) const {
    if (base_href_.empty()) return u;
    size_t colon = u.find(':');
    if (colon != std::string::npos && colon > 0 &&
        std::all_of(u.begin(), u.begin() + static_cast<long>(colon), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        }))
      return u;
    if (u.starts_with("//")) return base_href_.substr(0, base_href_.find(':') + 1) + u;
    if (u.starts_with("/")) {
      size_t host = base_href_.find("//");
      size_t path = base_href_.find('/', host == std::string::npos ? 0 : host + 2);
      return base_href_.substr(0, path) + u;
    }
    return base_href_ + u;
  }

  void uri(const std::string& tag, const std::vector<Attr>& attrs) {
    const std::string* v = nullptr;
    if (tag == "body" || tag == "table" || tag == "tr" || tag == "td") {
      if ((v = attr(attrs, "background"))) push_uri(*v);
    } else if (tag == "a" || tag == "area" || tag == "link") {
      if ((v = attr(attrs, "href"))) {
        std::string h = *v;
        for (size_t p; (p = h.find("\xEF\xBB\xBF")) != std::string::npos;) h.erase(p, 3);
        push_uri(h);
      }
      if ((v = attr(attrs, "data-saferedirecturl"))) push_uri(*v);
    } else if (tag == "img" || tag == "frame" || tag == "iframe" || tag == "embed" ||
               tag == "script" || tag == "bgsound") {
      if ((v = attr(attrs, "src"))) push_uri(*v);
    } else if (tag == "form") {
      if ((v = attr(attrs, "action"))) push_uri(*v);
    } else if (tag == "base") {
      if ((v = attr(attrs, "href")) && !v->empty()) {
        push_uri(*v);
        std::string b = *v;
        const std::string l = decoders::ascii_lower(b);
        if (l.starts_with("http:") || l.starts_with("https:") || l.starts_with("ftp:")) {
          if (!b.ends_with("/")) {
            size_t slash = b.rfind('/');
            size_t dot = b.rfind('.');
            if (slash != std::string::npos && slash > b.find("//") + 1 &&
                dot != std::string::npos && dot > slash)
              b.resize(slash + 1);
          }
          if (!b.ends_with("/")) b += '/';
          base_href_ = b;
        }
      }
    } else if (tag == "meta") {
      const std::string* equiv = attr(attrs, "http-equiv");
      const std::string* content = attr(attrs, "content");
      if (equiv && content && decoders::ascii_lower(*equiv).find("refresh") != std::string::npos) {
        const std::string l = decoders::ascii_lower(*content);
        size_t p = l.find("url");
        while (p != std::string::npos) {
          size_t q = p + 3;
          while (q < l.size() && is_space(l[q])) ++q;
          if (q < l.size() && l[q] == '=') {
            ++q;
            while (q < l.size() && is_space(l[q])) ++q;
            std::string u = content->substr(q);
            size_t semi = u.find(';');
            if (semi != std::string::npos) u.resize(semi);
            push_uri(u);
            break;
          }
          p = l.find("url", p + 1);
        }
      }
    }
  }
};

bool name_char(char c) {
  return !is_space(c) && c != '>' && c != '/' && c != '=' && c != '\x0B';
}

std::string prepare(std::string_view html) {
  std::string t;
  t.reserve(html.size());
  for (size_t i = 0; i < html.size();) {
    if (html.compare(i, 6, "&nbsp;") == 0) {  // bug 4695 era: NBSP is a space
      t += ' ';
      i += 6;
    } else if (html.compare(i, 3, "\xE2\x80\x9C") == 0 || html.compare(i, 3, "\xE2\x80\x9D") == 0) {
      t += '"';  // curly quotes would break attribute parsing
      i += 3;
    } else if (html[i] == '<') {  // "<br/>" is "<br>"
      size_t j = i + 1;
      while (j < html.size() &&
             (std::isalnum(static_cast<unsigned char>(html[j])) || html[j] == '_'))
        ++j;
      size_t k = j;
      while (k < html.size() && is_space(html[k])) ++k;
      if (j > i + 1 && k + 1 < html.size() && html[k] == '/' && html[k + 1] == '>') {
        t.append(html.substr(i, j - i));
        t += '>';
        i = k + 2;
      } else {
        t += html[i++];
      }
    } else {
      t += html[i++];
    }
  }
  return t;
}

// Finds the '>' closing a tag that starts at `from`, skipping quoted values.
size_t tag_end(std::string_view s, size_t from) {
  char quote = 0;
  for (size_t i = from; i < s.size(); ++i) {
    if (quote) {
      if (s[i] == quote) quote = 0;
    } else if (s[i] == '"' || s[i] == '\'') {
      if (i > 0 && (s[i - 1] == '=' || is_space(s[i - 1]))) quote = s[i];
    } else if (s[i] == '>') {
      return i;
    }
  }
  return std::string_view::npos;
}

std::vector<Attr> parse_attrs(std::string_view s) {
  std::vector<Attr> attrs;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (is_space(s[i]) || s[i] == '/' || s[i] == '\x0B')) ++i;
    size_t n = i;
    while (i < s.size() && name_char(s[i])) ++i;
    if (i == n) {
      ++i;
      continue;
    }
    Attr a{decoders::ascii_lower(s.substr(n, i - n)), ""};
    size_t k = i;
    while (k < s.size() && is_space(s[k])) ++k;
    if (k < s.size() && s[k] == '=') {
      ++k;
      while (k < s.size() && is_space(s[k])) ++k;
      if (k < s.size() && (s[k] == '"' || s[k] == '\'')) {
        size_t close = s.find(s[k], k + 1);
        if (close == std::string_view::npos) close = s.size();
        a.value = decode_entities(s.substr(k + 1, close - k - 1));
        i = close + 1;
      } else {
        size_t e = k;
        while (e < s.size() && !is_space(s[e])) ++e;
        a.value = decode_entities(s.substr(k, e - k));
        i = e;
      }
    } else {
      a.value = a.name;  // <input checked>: HTML::Parser sets the name
    }
    if (std::none_of(attrs.begin(), attrs.end(), [&](const Attr& o) { return o.name == a.name; }))
      attrs.push_back(std::move(a));
  }
  return attrs;
}

}  // namespace

HtmlRendering render_html(std::string_view html_in) {
  const std::string html = prepare(html_in);
  const std::string_view s = html;
  Renderer r;
  size_t text_start = 0, i = 0;
  auto flush = [&](size_t upto) {
    if (upto > text_start) r.text(s.substr(text_start, upto - text_start));
  };
  while (i < s.size()) {
    if (s[i] != '<' || i + 1 >= s.size()) {
      ++i;
      continue;
    }
    const char n = s[i + 1];
    size_t next = std::string_view::npos;
    if (s.compare(i, 4, "<!--") == 0) {
      size_t e = s.find("-->", i + 4);
      next = e == std::string_view::npos ? s.size() : e + 3;
      flush(i);
      r.comment(s.substr(i, next - i));
    } else if (n == '!' || n == '?') {
      size_t e = s.find('>', i + 2);
      if (e != std::string_view::npos) {
        flush(i);
        next = e + 1;
        // HTML::Parser: "<!doctype ...>" is a declaration, other "<!...>"
        // markup a comment; "<?...>" a processing instruction.
        if (n == '!') {
          if (decoders::ascii_lower(s.substr(i, 9)) == "<!doctype")
            r.doctype();
          else if (!(i + 2 < s.size() && std::isalpha(static_cast<unsigned char>(s[i + 2]))))
            r.comment(s.substr(i, next - i));
        }
      }
    } else if (std::isalpha(static_cast<unsigned char>(n)) ||
               (n == '/' && i + 2 < s.size() &&
                std::isalpha(static_cast<unsigned char>(s[i + 2])))) {
      const bool end = n == '/';
      size_t e = tag_end(s, i + 1);
      if (e != std::string_view::npos) {
        flush(i);
        size_t b = i + (end ? 2 : 1), k = b;
        while (k < e && name_char(s[k])) ++k;
        const std::string name = decoders::ascii_lower(s.substr(b, k - b));
        r.tag(name, end ? std::vector<Attr>{} : parse_attrs(s.substr(k, e - k)), !end);
        next = e + 1;
        // Literal content (HTML::Parser's CDATA elements) runs to its end tag.
        if (!end && (name == "script" || name == "style" || name == "xmp" || name == "textarea" ||
                     name == "title")) {
          size_t close = next;
          const std::string closing = "</" + name;
          while ((close = s.find("</", close)) != std::string_view::npos &&
                 decoders::ascii_lower(s.substr(close, closing.size())) != closing)
            close += 2;
          if (close == std::string_view::npos) close = s.size();
          if (close > next) r.text(s.substr(next, close - next));
          next = close;
        }
      }
    }
    if (next == std::string_view::npos) {
      ++i;
      continue;
    }
    i = text_start = next;
  }
  flush(s.size());
  // HTML.pm parse: unclosed style and script elements are closed.
  for (const char* literal : {"style", "script"})
    for (int k = 0; k < 100000 && r.open(literal); ++k) r.tag(literal, {}, false);
  size_t chars = 0;
  for (char c : html_in) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  r.result.text = r.finish(chars);
  return std::move(r.result);
}

}  // namespace filterd::spam::detail

namespace filterd::spam {

std::optional<double> HtmlFacts::number(std::string_view name) const {
  if (name == "length") return length;
  if (name == "html_length") return html_length;
  if (name == "non_space_len") return non_space_len;
  if (name == "image_area") return image_area;
  if (name == "max_size") return max_size;
  if (name == "min_size") return min_size;
  if (name == "closed_extra_ratio") return closed_extra_ratio;
  if (name == "bad_tag_ratio") return bad_tag_ratio;
  if (name == "non_element_ratio") return non_element_ratio;
  if (name == "obfuscation_ratio") return obfuscation_ratio;
  if (name == "html") return 1;
  if (name == "font_low_contrast" && font_low_contrast) return 1;
  if (name == "font_invalid_color" && font_invalid_color) return 1;
  if (name == "font_face_bad" && font_face_bad) return 1;
  if (name == "form_action_mailto" && form_action_mailto) return 1;
  if (name == "embeds" && embeds) return 1;
  return std::nullopt;
}

bool HtmlFacts::test(std::string_view name) const {
  if (strings(name)) return true;  // an array reference is true
  const auto v = number(name);
  return v && *v != 0;
}

const std::vector<std::string>* HtmlFacts::strings(std::string_view name) const {
  // html_end stores each list only when the parser made one.
  if (name == "comment") return comment.empty() ? nullptr : &comment;
  if (name == "title") return title.empty() ? nullptr : &title;
  if (name == "anchor") return anchor.empty() ? nullptr : &anchor;
  if (name == "script") return script.empty() ? nullptr : &script;
  return nullptr;
}

}  // namespace filterd::spam
