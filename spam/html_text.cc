// html_text.cc — Mail::SpamAssassin::HTML's rendering of text/html: an
// HTML::Parser-like tokenizer feeding SpamAssassin's display_text rules
// (block tags insert "\n", "\n\n" or " "; script and style are dropped;
// entities decoded), plus the links its html_uri collects.
#include <algorithm>
#include <cctype>
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

// The renderer state of Mail::SpamAssassin::HTML that the text depends on.
class Renderer {
 public:
  HtmlRendering result;

  void tag(const std::string& name, const std::vector<Attr>& attrs, bool start) {
    int& inside = inside_[name];
    inside += start ? 1 : -1;
    if (inside < 0) inside = 0;
    if (!known(name)) return;
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
    if (start) uri(name, attrs);
  }

  void text(std::string_view raw) {
    if (in("script") || in("style")) return;
    std::string t = decode_entities(raw);
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
    if (!chunks_.empty() && chunks_.back().whitespace && !squeezed.empty() && squeezed[0] == ' ')
      squeezed.erase(0, 1);
    chunks_.push_back({std::move(squeezed), false});
  }

  std::string finish() {
    std::string out;
    for (const auto& c : chunks_) out += c.text;
    return out;
  }

 private:
  struct Chunk {
    std::string text;
    bool whitespace;
  };
  std::vector<Chunk> chunks_;
  std::map<std::string, int> inside_;
  std::string base_href_;

  bool in(const char* name) const {
    auto it = inside_.find(name);
    return it != inside_.end() && it->second > 0;
  }

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
    if (!chunks_.empty() && !chunks_.back().whitespace) {
      std::string& last = chunks_.back().text;
      if (!last.empty() && last.back() == ' ') last.pop_back();
    }
    chunks_.push_back({ws, true});
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
    } else if (n == '!' || n == '?') {
      size_t e = s.find('>', i + 2);
      if (e != std::string_view::npos) {
        flush(i);
        next = e + 1;
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
  r.result.text = r.finish();
  return std::move(r.result);
}

}  // namespace filterd::spam::detail
