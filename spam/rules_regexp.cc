// rules_regexp.cc — see rules_regexp.h. A single left-to-right scan that
// tracks escapes, \Q..\E, character classes (with POSIX [:name:]), (?#...)
// comments and /x comments, enough to find what Perl would refuse to
// compile structurally; semantic errors (bad escapes, bad ranges) are left
// to the matcher's compiler.
#include "spam/rules_regexp.h"

namespace filterd::spam {
namespace {

constexpr std::string_view kModifiers = "imsxnpadlu";

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_quantifier_start(std::string_view s, size_t i) {
  char c = s[i];
  if (c == '*' || c == '+' || c == '?') return true;
  if (c != '{') return false;
  // {n}, {n,}, {n,m}: anything else is a literal brace in Perl.
  size_t j = i + 1;
  size_t digits = 0;
  while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j, ++digits;
  if (digits == 0) return false;
  if (j < s.size() && s[j] == ',') {
    ++j;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
  }
  return j < s.size() && s[j] == '}';
}

}  // namespace

std::expected<void, std::string> check_perl_regexp(std::string_view s, std::string_view flags) {
  for (char f : flags) {
    if (kModifiers.find(f) == std::string_view::npos)
      return std::unexpected(std::string("unknown modifier '") + f + "'");
  }
  if (s.find("(?{") != std::string_view::npos || s.find("(??{") != std::string_view::npos)
    return std::unexpected("code block (?{ }) not allowed");
  const bool extended = flags.find('x') != std::string_view::npos;
  int depth = 0;
  bool can_quantify = false;  // something precedes that a quantifier may follow
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      if (i + 1 >= s.size()) return std::unexpected("trailing \\");
      if (s[i + 1] == 'Q') {  // literal up to \E or the end
        size_t e = s.find("\\E", i + 2);
        i = e == std::string_view::npos ? s.size() : e + 1;
      } else {
        ++i;
      }
      can_quantify = true;
      continue;
    }
    if (extended && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')) continue;
    if (extended && c == '#') {
      size_t e = s.find('\n', i);
      if (e == std::string_view::npos) break;
      i = e;
      continue;
    }
    if (c == '[') {
      size_t j = i + 1;
      if (j < s.size() && s[j] == '^') ++j;
      if (j < s.size() && s[j] == ']') ++j;  // a leading ] is literal
      for (;; ++j) {
        if (j >= s.size()) return std::unexpected("unmatched [");
        if (s[j] == '\\') {
          ++j;
          continue;
        }
        if (s[j] == '[' && j + 1 < s.size() &&
            (s[j + 1] == ':' || s[j + 1] == '=' || s[j + 1] == '.')) {
          size_t close = s.find(std::string{s[j + 1], ']'}, j + 2);
          if (close != std::string_view::npos) {
            j = close + 1;
            continue;
          }
        }
        if (s[j] == ']') break;
      }
      i = j;
      can_quantify = true;
      continue;
    }
    if (c == '(') {
      if (s.substr(i, 3) == "(?#") {
        size_t e = s.find(')', i);
        if (e == std::string_view::npos) return std::unexpected("unterminated (?# comment");
        i = e;
        continue;
      }
      ++depth;
      can_quantify = false;
      // Step over "(?", "(*" and a sign after them ("(?-i)", "(?+1)",
      // "(*FAIL)"): not quantifiers.
      if (i + 1 < s.size() && (s[i + 1] == '?' || s[i + 1] == '*')) {
        ++i;
        if (i + 1 < s.size() && (s[i + 1] == '+' || s[i + 1] == '-')) ++i;
      }
      continue;
    }
    if (c == ')') {
      if (--depth < 0) return std::unexpected("unmatched )");
      can_quantify = true;
      continue;
    }
    if (c == '|') {
      can_quantify = false;
      continue;
    }
    if (is_quantifier_start(s, i)) {
      if (!can_quantify) return std::unexpected("quantifier follows nothing");
      if (c == '{') i = s.find('}', i);
      // A following ? or + makes it lazy or possessive; a third is nested.
      if (i + 1 < s.size() && (s[i + 1] == '?' || s[i + 1] == '+')) ++i;
      if (i + 1 < s.size() && is_quantifier_start(s, i + 1))
        return std::unexpected("nested quantifiers");
      can_quantify = false;
      continue;
    }
    can_quantify = c != '^';
  }
  if (depth > 0) return std::unexpected("unmatched (");
  return {};
}

std::expected<PerlRegexp, std::string> read_perl_regexp(std::string_view text) {
  std::string_view rest = text;
  char end;
  if (rest.starts_with('/')) {
    end = '/';
    rest.remove_prefix(1);
  } else {
    size_t prefix = rest.starts_with("qr") ? 2 : rest.starts_with('m') ? 1 : 0;
    if (prefix == 0 || rest.size() <= prefix || is_word(rest[prefix]))
      return std::unexpected("missing regexp delimiters");
    char open = rest[prefix];
    if (open == '\\') return std::unexpected("backslash delimiter not allowed");
    switch (open) {
      case '{':
        end = '}';
        break;
      case '(':
        end = ')';
        break;
      case '<':
        end = '>';
        break;
      case '[':
        end = ']';
        break;
      default:
        end = open;
    }
    rest.remove_prefix(prefix + 1);
  }
  // The first end delimiter followed only by modifier letters (Perl's
  // s/\Q$end\E([a-df-z]*)\z// is leftmost).
  size_t at = std::string_view::npos;
  for (size_t i = rest.find(end); i != std::string_view::npos; i = rest.find(end, i + 1)) {
    bool mods = true;
    for (size_t j = i + 1; j < rest.size() && mods; ++j)
      mods = rest[j] >= 'a' && rest[j] <= 'z' && rest[j] != 'e';
    if (mods) {
      at = i;
      break;
    }
  }
  if (at == std::string_view::npos) return std::unexpected("invalid end delimiter/mods");
  PerlRegexp re{std::string(rest.substr(0, at)), std::string(rest.substr(at + 1))};
  if (end != '}' && end != ')' && end != ']') {
    for (size_t i = 0; i < re.source.size(); ++i) {
      if (re.source[i] == '\\') {
        ++i;
      } else if (re.source[i] == end) {
        return std::unexpected(std::string("unquoted delimiter '") + end + "' found");
      }
    }
  }
  if (auto ok = check_perl_regexp(re.source, re.flags); !ok) return std::unexpected(ok.error());
  return re;
}

}  // namespace filterd::spam
