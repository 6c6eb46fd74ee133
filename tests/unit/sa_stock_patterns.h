// sa_stock_patterns.h — a crude extraction of the regexps in SpamAssassin's
// stock .cf files (body, rawbody, full, header, uri lines), for the matcher's
// tests and benchmark only; the real .cf parser is spam/'s rules library.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "spam/matcher.h"

namespace filterd::spam::testing {

struct StockPattern {
  std::string kind;  // "body", "header", ...
  std::string name;
  PatternSpec spec;
};

// "m{src}flags", "/src/flags" or "m!src!flags" (header rules: after =~ / !~,
// with [if-unset: ...] removed) into source and flags; false if not a regexp.
inline bool split_perl_regexp(std::string s, std::string& source, std::string& flags) {
  static const std::regex kIfUnset(R"(\s*\[if-unset:.*\]\s*$)");
  s = std::regex_replace(s, kIfUnset, "");
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t open = 0;
  if (s.size() > 1 && s[0] == 'm' && !std::isalnum(static_cast<unsigned char>(s[1]))) open = 1;
  if (s.empty() || (open == 0 && s[0] != '/')) return false;
  char o = s[open];
  char c = o == '{' ? '}' : o == '(' ? ')' : o == '[' ? ']' : o == '<' ? '>' : o;
  size_t close = s.rfind(c);
  if (close == std::string::npos || close <= open) return false;
  flags = s.substr(close + 1);
  for (char f : flags) {
    if (!std::isalpha(static_cast<unsigned char>(f))) return false;
  }
  source = s.substr(open + 1, close - open - 1);
  return true;
}

inline std::vector<StockPattern> stock_patterns(
    const std::string& dir = "/usr/share/spamassassin") {
  static const std::regex kRule(R"(^\s*(body|rawbody|full|uri|header)\s+(\w+)\s+(.*)$)");
  std::vector<StockPattern> out;
  if (!std::filesystem::is_directory(dir)) return out;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".cf") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  uint32_t id = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
      if (!std::regex_match(line, m, kRule)) continue;
      std::string rest = m[3];
      if (rest.starts_with("eval:") || rest.starts_with("exists:")) continue;
      if (m[1] == "header") {
        size_t op = rest.find("=~");
        if (op == std::string::npos) op = rest.find("!~");
        if (op == std::string::npos) continue;
        rest = rest.substr(rest.find_first_not_of(" \t", op + 2));
      }
      StockPattern p{m[1], m[2], {}};
      if (!split_perl_regexp(rest, p.spec.source, p.spec.flags)) continue;
      p.spec.id = id++;
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace filterd::spam::testing
