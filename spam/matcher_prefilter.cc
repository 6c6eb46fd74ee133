// matcher_prefilter.cc — looser rewrites of a Perl regexp that Hyperscan
// rejects as too large, so that its prefilter stays selective.
//
// Given such a pattern, Hyperscan's HS_FLAG_PREFILTER reduces it until it
// fits, and for the stock __FILL_THIS_FORM_* rules that reduction fires on
// nearly every body line, so PCRE2 ran on all of them (tens of µs each).
// What makes them too large is bounded repeats ({1,100}) that Hyperscan
// unrolls, and a whole pattern repeated ((?:X){3}). A rewrite that only
// widens the language keeps the prefilter sound (it must match wherever the
// pattern does) and lets Hyperscan keep the pattern's words:
//   - a repeat {m,n} with n above kRelaxAbove becomes {m,}: every string
//     the bounded repeat takes, the open one takes too;
//   - (?:X){n} or (?:X){n,m} with n >= 1 becomes X: a match of the whole
//     starts with a match of X, in the same text and context.
// Lookarounds, atomic groups and possessive quantifiers are where widening
// a part can narrow the whole ((?!a{1,2}b), a{1,3}+a), so patterns with any
// of them get no rewrite, nor do /x patterns (comments hide the syntax) and
// \Q...\E quoting.
#include "spam/matcher_prefilter.h"

#include <charconv>
#include <cstdint>

namespace filterd::spam {
namespace {

// Hyperscan unrolls a bounded repeat into that many states; below this
// bound the repeat is cheap and its bound keeps the filter tight.
constexpr unsigned kRelaxAbove = 10;

// The length of the token at `i` that can hide syntax: an escape (`\x`) or
// a character class (`[...]`, with `]` first and [:name:] inside); 0 if
// `s[i]` is neither.
size_t opaque_length(std::string_view s, size_t i) {
  if (s[i] == '\\') return std::min<size_t>(2, s.size() - i);
  if (s[i] != '[') return 0;
  size_t j = i + 1;
  if (j < s.size() && s[j] == '^') ++j;
  if (j < s.size() && s[j] == ']') ++j;
  while (j < s.size() && s[j] != ']') {
    if (s[j] == '\\') {
      j += 2;
    } else if (s.compare(j, 2, "[:") == 0 && s.find(":]", j + 2) != std::string_view::npos) {
      j = s.find(":]", j + 2) + 2;
    } else {
      ++j;
    }
  }
  return std::min(j + 1, s.size()) - i;
}

// A counted repeat at `i`: "{m}", "{m,}" or "{m,n}". Sets `length`, `min`
// and `max` (UINT32_MAX when open); false if `s[i]` starts none (a literal
// brace).
bool counted_repeat(std::string_view s, size_t i, size_t& length, unsigned& min, unsigned& max) {
  if (s[i] != '{') return false;
  const size_t close = s.find('}', i);
  if (close == std::string_view::npos) return false;
  const std::string_view body = s.substr(i + 1, close - i - 1);
  const size_t comma = body.find(',');
  auto number = [](std::string_view digits, unsigned& out) {
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
  };
  if (!number(body.substr(0, comma), min)) return false;
  max = UINT32_MAX;
  if (comma == std::string_view::npos) {
    max = min;
  } else if (comma + 1 < body.size() && !number(body.substr(comma + 1), max)) {
    return false;
  }
  length = close - i + 1;
  return true;
}

// Constructs whose meaning a widened part can narrow (see the file comment).
bool rewrite_is_unsafe(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (size_t n = opaque_length(s, i)) {
      if (s.compare(i, 2, "\\Q") == 0) return true;
      i += n;
      continue;
    }
    if (s.compare(i, 3, "(?=") == 0 || s.compare(i, 3, "(?!") == 0 || s.compare(i, 3, "(?<") == 0 ||
        s.compare(i, 3, "(?>") == 0 || s.compare(i, 2, "(*") == 0) {
      return true;
    }
    // An inline option group that may switch on /x.
    if (s.compare(i, 2, "(?") == 0) {
      const size_t end = s.find_first_of(":)", i + 2);
      if (s.substr(i + 2, end - i - 2).find('x') != std::string_view::npos) return true;
    }
    size_t length = 0;
    unsigned min = 0, max = 0;
    const bool quantifier = s[i] == '*' || s[i] == '+' || s[i] == '?';
    if (quantifier || counted_repeat(s, i, length, min, max)) {
      const size_t next = i + (quantifier ? 1 : length);
      if (next < s.size() && s[next] == '+') return true;  // possessive
      i = next;
      continue;
    }
    ++i;
  }
  return false;
}

// `s` with every counted repeat whose upper bound is above kRelaxAbove made
// open ({m,n} -> {m,}).
std::string relax_repeats(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (size_t n = opaque_length(s, i)) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    size_t length = 0;
    unsigned min = 0, max = 0;
    // After nothing, "(" or "|" a brace is no quantifier (PCRE2 refuses it).
    const bool follows_item = i > 0 && s[i - 1] != '(' && s[i - 1] != '|';
    if (counted_repeat(s, i, length, min, max) && follows_item && max != UINT32_MAX &&
        max > kRelaxAbove) {
      out += '{' + std::to_string(min) + ",}";
    } else {
      out.append(s.substr(i, length ? length : 1));
    }
    i += length ? length : 1;
  }
  return out;
}

// X when `s` is "(?:X){n}", "(?:X){n,}", "(?:X){n,m}" (n >= 1) or "(?:X)+"
// with nothing after; empty otherwise.
std::string_view repeated_group_body(std::string_view s) {
  if (!s.starts_with("(?:")) return {};
  int depth = 0;
  for (size_t i = 0; i < s.size();) {
    if (size_t n = opaque_length(s, i)) {
      i += n;
      continue;
    }
    if (s[i] == '(') ++depth;
    if (s[i] == ')' && --depth == 0) {
      const std::string_view body = s.substr(3, i - 3);
      const std::string_view rest = s.substr(i + 1);
      size_t length = 0;
      unsigned min = 0, max = 0;
      if (rest == "+") return body;
      if (!rest.empty() && counted_repeat(rest, 0, length, min, max) && length == rest.size() &&
          min >= 1) {
        return body;
      }
      return {};
    }
    ++i;
  }
  return {};
}

}  // namespace

std::vector<std::string> prefilter_rewrites(std::string_view source) {
  std::vector<std::string> out;
  if (rewrite_is_unsafe(source)) return out;
  std::string whole = relax_repeats(source);
  if (whole != source) out.push_back(std::move(whole));
  if (std::string_view body = repeated_group_body(source); !body.empty()) {
    out.push_back(relax_repeats(body));
  }
  return out;
}

}  // namespace filterd::spam
