// html_entities.cc — HTML::Entities::decode as HTML::Parser applies it to
// text and attribute values (the entity table holds the names seen in mail).
#include <cctype>
#include <map>

#include "decoders/ascii.h"
#include "spam/text_internal.h"

namespace filterd::spam::detail {
namespace {

void append_utf8(std::string& out, unsigned long cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// HTML::Entities' table, the entities seen in mail (Latin-1 and the common
// typographic ones); unknown names stay as written, as HTML::Parser leaves them.
const std::map<std::string, unsigned long, std::less<>>& entities() {
  static const std::map<std::string, unsigned long, std::less<>> table = [] {
    std::map<std::string, unsigned long, std::less<>> t = {
        {"amp", '&'},       {"lt", '<'},        {"gt", '>'},        {"quot", '"'},
        {"apos", '\''},     {"nbsp", 0xA0},     {"copy", 0xA9},     {"reg", 0xAE},
        {"trade", 0x2122},  {"hellip", 0x2026}, {"mdash", 0x2014},  {"ndash", 0x2013},
        {"lsquo", 0x2018},  {"rsquo", 0x2019},  {"ldquo", 0x201C},  {"rdquo", 0x201D},
        {"bull", 0x2022},   {"euro", 0x20AC},   {"middot", 0xB7},   {"laquo", 0xAB},
        {"raquo", 0xBB},    {"deg", 0xB0},      {"plusmn", 0xB1},   {"times", 0xD7},
        {"divide", 0xF7},   {"shy", 0xAD},      {"sect", 0xA7},     {"para", 0xB6},
        {"pound", 0xA3},    {"yen", 0xA5},      {"cent", 0xA2},     {"iexcl", 0xA1},
        {"iquest", 0xBF},   {"ordf", 0xAA},     {"ordm", 0xBA},     {"frac12", 0xBD},
        {"frac14", 0xBC},   {"frac34", 0xBE},   {"sup1", 0xB9},     {"sup2", 0xB2},
        {"sup3", 0xB3},     {"micro", 0xB5},    {"szlig", 0xDF},    {"dagger", 0x2020},
        {"Dagger", 0x2021}, {"permil", 0x2030}, {"sbquo", 0x201A},  {"bdquo", 0x201E},
        {"ensp", 0x2002},   {"emsp", 0x2003},   {"thinsp", 0x2009}, {"zwnj", 0x200C},
        {"zwj", 0x200D},    {"lrm", 0x200E},    {"rlm", 0x200F},    {"curren", 0xA4},
        {"brvbar", 0xA6},   {"uml", 0xA8},      {"not", 0xAC},      {"macr", 0xAF},
        {"acute", 0xB4},    {"cedil", 0xB8},    {"rarr", 0x2192},   {"larr", 0x2190}};
    // Latin-1 letters U+00C0..U+00FF by name.
    const char* latin[] = {"Agrave", "Aacute", "Acirc",  "Atilde", "Auml",   "Aring",  "AElig",
                           "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave", "Iacute",
                           "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",
                           "Otilde", "Ouml",   nullptr,  "Oslash", "Ugrave", "Uacute", "Ucirc",
                           "Uuml",   "Yacute", "THORN",  nullptr};
    for (int i = 0; i < 32; ++i) {
      if (!latin[i]) continue;
      t[latin[i]] = 0xC0 + i;
      std::string small = decoders::ascii_lower(latin[i]);
      if (small != "eth" && small != "thorn" && small != "aelig") t[small] = 0xE0 + i;
    }
    t["eth"] = 0xF0, t["thorn"] = 0xFE, t["aelig"] = 0xE6, t["yuml"] = 0xFF, t["szlig"] = 0xDF;
    return t;
  }();
  return table;
}

}  // namespace

// HTML::Entities::decode: "&#NNN;", "&#xHH;", "&name;" (the ";" optional
// for numeric references and the named ones, as HTML::Parser accepts).
std::string decode_entities(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    if (in[i] != '&') {
      out += in[i++];
      continue;
    }
    size_t j = i + 1;
    if (j < in.size() && in[j] == '#') {
      const bool hex = j + 1 < in.size() && (in[j + 1] == 'x' || in[j + 1] == 'X');
      size_t k = j + (hex ? 2 : 1), start = k;
      unsigned long cp = 0;
      while (k < in.size() && k - start < 8 &&
             (hex ? std::isxdigit(static_cast<unsigned char>(in[k]))
                  : std::isdigit(static_cast<unsigned char>(in[k])))) {
        const char d = static_cast<char>(std::tolower(static_cast<unsigned char>(in[k])));
        cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(d <= '9' ? d - '0' : d - 'a' + 10);
        ++k;
      }
      if (k > start) {
        append_utf8(out, cp);
        i = k < in.size() && in[k] == ';' ? k + 1 : k;
        continue;
      }
    } else {
      size_t k = j;
      while (k < in.size() && k - j < 10 && std::isalnum(static_cast<unsigned char>(in[k]))) ++k;
      auto it = entities().find(in.substr(j, k - j));
      if (it != entities().end()) {
        append_utf8(out, it->second);
        i = k < in.size() && in[k] == ';' ? k + 1 : k;
        continue;
      }
    }
    out += in[i++];
  }
  return out;
}

}  // namespace filterd::spam::detail
