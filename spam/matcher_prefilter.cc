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
//     starts with a match of X, in the same text and context;
//   - in a group (?:A|B|...), every alternative that only matches one UTF-8
//     multi-byte character (a lead byte, then one to three continuation
//     bytes, each from a class or \xNN) becomes one generic such character,
//     [\xc2-\xf4][\x80-\xbf]{1,3}. The stock FUZZY_* rules spell each
//     letter as dozens of look-alikes ([\xc3][\x9d\xbd\xbf]|[\xe1](?:...)
//     ...): Hyperscan refused __YOUR_PASSWORD's 37 KB as too long, so PCRE2
//     ran it on every body line. Collapsed, a letter is its ASCII class or
//     "some non-ASCII character", and the words stay. (Only for patterns
//     Hyperscan refuses outright: where it can reduce the pattern itself,
//     as for the other FUZZY_* rules, its filter keeps the look-alikes and
//     fires far less on non-Latin text, where any character would do here.)
// Lookarounds (which Hyperscan does not run) are dropped first: without an
// assertion a pattern matches wherever it did. Atomic groups and possessive
// quantifiers are where widening a part can narrow the whole (a{1,3}+a), so
// patterns with any of them get no rewrite, nor do /x patterns and (?#...)
// comments (they hide the syntax), \Q...\E quoting and \cX (which the
// tokens here misread), backreferences (a capture dropped with a lookaround
// would renumber them) and conditionals (a condition that is an assertion
// would turn into something else).
#include "spam/matcher_prefilter.h"

#include <algorithm>
#include <bitset>
#include <charconv>
#include <cstdint>
#include <optional>

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

// The end of the group that opens at s[i] ('('), one past its ')'; npos if
// it does not close.
size_t group_end(std::string_view s, size_t i) {
  int depth = 0;
  for (size_t j = i; j < s.size();) {
    if (size_t n = opaque_length(s, j)) {
      j += n;
      continue;
    }
    if (s[j] == '(') ++depth;
    if (s[j] == ')' && --depth == 0) return j + 1;
    ++j;
  }
  return std::string_view::npos;
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

// Constructs whose meaning a widened part can narrow (see the file comment),
// or that the tokens here would misread. Lookarounds count unless
// `before_stripping` (strip_lookarounds removes them).
bool rewrite_is_unsafe(std::string_view s, bool before_stripping = false) {
  // Quoting, and \cX (three characters, which the tokens here would
  // misread), anywhere, classes included (an escaped backslash before a Q
  // or c errs on the safe side).
  if (s.find("\\Q") != std::string_view::npos || s.find("\\c") != std::string_view::npos) {
    return true;
  }
  for (size_t i = 0; i < s.size();) {
    if (size_t n = opaque_length(s, i)) {
      // Backreferences, which a capture dropped with a lookaround would
      // renumber (and Hyperscan's reduction copies the group for).
      if (s.compare(i, 2, "\\g") == 0 || s.compare(i, 2, "\\k") == 0 ||
          (s[i] == '\\' && i + 1 < s.size() && s[i + 1] >= '1' && s[i + 1] <= '9')) {
        return true;
      }
      i += n;
      continue;
    }
    // Comments, named backreferences, and conditionals (whose condition may
    // be an assertion that stripping would turn into something else).
    if (s.compare(i, 3, "(?#") == 0 || s.compare(i, 4, "(?P=") == 0 ||
        s.compare(i, 3, "(?(") == 0) {
      return true;
    }
    const bool lookaround = s.compare(i, 3, "(?=") == 0 || s.compare(i, 3, "(?!") == 0 ||
                            s.compare(i, 4, "(?<=") == 0 || s.compare(i, 4, "(?<!") == 0;
    if ((lookaround && !before_stripping) || s.compare(i, 3, "(?>") == 0 ||
        s.compare(i, 2, "(*") == 0) {
      return true;
    }
    // An inline option group that may switch on /x.
    if (s.compare(i, 2, "(?") == 0) {
      const size_t end = s.find_first_of(":)", i + 2);
      const std::string_view options = s.substr(i + 2, end - i - 2);
      if (options.find_first_not_of("imnsxJU^-") == std::string_view::npos &&
          options.find('x') != std::string_view::npos) {
        return true;
      }
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

// `s` copied token by token, the way every rewrite here walks it: escapes
// and classes whole (nothing inside them is syntax); at any other position
// `step(i, out)` may write its own text for a construct starting there and
// return where the construct ends, or return `i` to have the byte copied.
template <typename Step>
std::string rewrite_tokens(std::string_view s, Step step) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (size_t n = opaque_length(s, i)) {
      out.append(s.substr(i, n));
      i += n;
    } else if (size_t next = step(i, out); next != i) {
      i = next;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// `s` with every counted repeat whose upper bound is above kRelaxAbove made
// open ({m,n} -> {m,}).
std::string relax_repeats(std::string_view s) {
  return rewrite_tokens(s, [&](size_t i, std::string& out) {
    size_t length = 0;
    unsigned min = 0, max = 0;
    if (!counted_repeat(s, i, length, min, max)) return i;
    // After nothing, "(" or "|" a brace is no quantifier (PCRE2 refuses it).
    const bool follows_item = i > 0 && s[i - 1] != '(' && s[i - 1] != '|';
    if (follows_item && max != UINT32_MAX && max > kRelaxAbove) {
      out += '{' + std::to_string(min) + ",}";
    } else {
      out.append(s.substr(i, length));
    }
    return i + length;
  });
}

// X when `s` is "(?:X){n}", "(?:X){n,}", "(?:X){n,m}" (n >= 1) or "(?:X)+"
// with nothing after; empty otherwise.
std::string_view repeated_group_body(std::string_view s) {
  if (!s.starts_with("(?:")) return {};
  const size_t end = group_end(s, 0);
  if (end == std::string_view::npos) return {};
  const std::string_view body = s.substr(3, end - 4);
  const std::string_view rest = s.substr(end);
  size_t length = 0;
  unsigned min = 0, max = 0;
  if (rest == "+") return body;
  if (!rest.empty() && counted_repeat(rest, 0, length, min, max) && length == rest.size() &&
      min >= 1) {
    return body;
  }
  return {};
}

using ByteSet = std::bitset<256>;

constexpr std::string_view kAnyUtf8Char = R"([\xc2-\xf4][\x80-\xbf]{1,3})";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte of "\xNN" at s[i] (sets `length` to 4); nullopt if it is not one.
std::optional<unsigned> hex_escape(std::string_view s, size_t i, size_t& length) {
  if (s.compare(i, 2, "\\x") != 0 || i + 4 > s.size()) return std::nullopt;
  const int hi = hex_digit(s[i + 2]), lo = hex_digit(s[i + 3]);
  if (hi < 0 || lo < 0) return std::nullopt;
  length = 4;
  return static_cast<unsigned>(hi * 16 + lo);
}

// The bytes the single-byte item at s[i] matches: "\xNN", or a class of
// such escapes, ranges of them and plain bytes. Sets `length`. nullopt for
// anything else (\w, [:alpha:], a negated class, a metacharacter ...): the
// callers only need to recognise classes of raw bytes.
std::optional<ByteSet> byte_item(std::string_view s, size_t i, size_t& length) {
  if (auto b = hex_escape(s, i, length)) return ByteSet().set(*b);
  if (s[i] != '[' || i + 1 >= s.size() || s[i + 1] == '^') return std::nullopt;
  ByteSet set;
  int previous = -1;  // the last single byte, for a range
  bool range = false;
  for (size_t j = i + 1; j < s.size();) {
    if (s[j] == ']' && j > i + 1) {
      if (range) return std::nullopt;
      length = j + 1 - i;
      return set;
    }
    size_t n = 1;
    unsigned byte = 0;
    if (s[j] == '\\') {
      auto escaped = hex_escape(s, j, n);
      if (!escaped) return std::nullopt;
      byte = *escaped;
    } else if (s[j] == '-' && previous >= 0 && j + 1 < s.size() && s[j + 1] != ']' && !range) {
      range = true;
      ++j;
      continue;
    } else if (s[j] == '[') {
      return std::nullopt;  // [:name:]
    } else {
      byte = static_cast<unsigned char>(s[j]);
    }
    if (range) {
      if (byte < static_cast<unsigned>(previous)) return std::nullopt;
      for (unsigned b = static_cast<unsigned>(previous); b <= byte; ++b) set.set(b);
      range = false;
      previous = -1;
    } else {
      set.set(byte);
      previous = static_cast<int>(byte);
    }
    j += n;
  }
  return std::nullopt;
}

bool within(const ByteSet& set, unsigned lo, unsigned hi) {
  for (unsigned b = 0; b < 256; ++b) {
    if (set[b] && (b < lo || b > hi)) return false;
  }
  return set.any();
}

bool quantified(std::string_view s, size_t i) {
  return i < s.size() && (s[i] == '?' || s[i] == '*' || s[i] == '+' || s[i] == '{');
}

// The top-level alternatives of a group's body.
std::vector<std::string_view> alternatives(std::string_view body) {
  std::vector<std::string_view> out;
  size_t start = 0;
  int depth = 0;
  for (size_t j = 0; j < body.size();) {
    if (size_t n = opaque_length(body, j)) {
      j += n;
      continue;
    }
    if (body[j] == '(') ++depth;
    if (body[j] == ')') --depth;
    if (body[j] == '|' && depth == 0) {
      out.push_back(body.substr(start, j - start));
      start = j + 1;
    }
    ++j;
  }
  out.push_back(body.substr(start));
  return out;
}

// How many continuation bytes (0x80-0xbf) `s` matches, as [min, max], when
// it is only such byte items and (?:...) groups of them, unquantified;
// nullopt otherwise.
std::optional<std::pair<unsigned, unsigned>> continuation_run(std::string_view s) {
  unsigned min = 0, max = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = 0;
    if (auto set = byte_item(s, i, n)) {
      if (!within(*set, 0x80, 0xbf) || quantified(s, i + n)) return std::nullopt;
      ++min;
      ++max;
      i += n;
      continue;
    }
    if (s.compare(i, 3, "(?:") != 0) return std::nullopt;
    const size_t end = group_end(s, i);
    if (end == std::string_view::npos || quantified(s, end)) return std::nullopt;
    unsigned lo = UINT32_MAX, hi = 0;
    for (std::string_view alt : alternatives(s.substr(i + 3, end - i - 4))) {
      auto run = continuation_run(alt);
      if (!run) return std::nullopt;
      lo = std::min(lo, run->first);
      hi = std::max(hi, run->second);
    }
    min += lo;
    max += hi;
    i = end;
  }
  return std::pair{min, max};
}

// Whether `alt` only matches one UTF-8 multi-byte character: a lead byte
// item (0xc2-0xf4), then one to three continuation bytes.
bool one_utf8_char(std::string_view alt) {
  size_t n = 0;
  if (alt.empty()) return false;
  auto lead = byte_item(alt, 0, n);
  if (!lead || !within(*lead, 0xc2, 0xf4) || quantified(alt, n)) return false;
  auto run = continuation_run(alt.substr(n));
  return run && run->first >= 1 && run->second <= 3;
}

// `s` with the alternatives of every (?:...) group that match one UTF-8
// multi-byte character replaced by one generic such character (see the file
// comment).
std::string collapse_utf8_alternatives(std::string_view s) {
  return rewrite_tokens(s, [&](size_t i, std::string& out) {
    const size_t end = s.compare(i, 3, "(?:") == 0 ? group_end(s, i) : std::string_view::npos;
    if (end == std::string_view::npos) return i;
    std::string group = "(?:";
    bool collapsed = false, first = true;
    for (std::string_view alt : alternatives(s.substr(i + 3, end - i - 4))) {
      if (one_utf8_char(alt)) {
        collapsed = true;
        continue;
      }
      if (!first) group += '|';
      group += collapse_utf8_alternatives(alt);
      first = false;
    }
    if (collapsed) {
      if (!first) group += '|';
      group += kAnyUtf8Char;
    }
    out += group + ')';
    return end;
  });
}

bool is_lookaround(std::string_view s, size_t i) {
  return s.compare(i, 3, "(?=") == 0 || s.compare(i, 3, "(?!") == 0 ||
         s.compare(i, 4, "(?<=") == 0 || s.compare(i, 4, "(?<!") == 0;
}

// `s` without its lookarounds (and any quantifier on one); `s` itself when
// it has none or one does not close.
std::string strip_lookarounds(std::string_view s) {
  bool unclosed = false;
  std::string out = rewrite_tokens(s, [&](size_t i, std::string&) {
    if (!is_lookaround(s, i)) return i;
    size_t end = group_end(s, i);
    if (end == std::string_view::npos) {
      unclosed = true;
      return s.size();
    }
    // A quantifier on the assertion goes with it (and its lazy or
    // possessive mark); a brace that is no counted repeat is a literal.
    size_t length = 0;
    unsigned min = 0, max = 0;
    bool quantifier = false;
    if (end < s.size() && (s[end] == '?' || s[end] == '*' || s[end] == '+')) {
      ++end;
      quantifier = true;
    } else if (end < s.size() && counted_repeat(s, end, length, min, max)) {
      end += length;
      quantifier = true;
    }
    if (quantifier && end < s.size() && (s[end] == '?' || s[end] == '+')) ++end;
    return end;
  });
  return unclosed ? std::string(s) : out;
}

}  // namespace

std::vector<std::string> prefilter_rewrites(std::string_view original) {
  std::vector<std::string> out;
  if (rewrite_is_unsafe(original, true)) return out;
  const std::string stripped = strip_lookarounds(original);
  const std::string_view source = stripped;
  if (rewrite_is_unsafe(source)) return out;
  auto add = [&](std::string rewrite) {
    if (rewrite != original && std::ranges::find(out, rewrite) == out.end()) {
      out.push_back(std::move(rewrite));
    }
  };
  // The caller takes the first that compiles: tightest first, and the
  // collapsed forms only where none of the others does.
  const std::string narrow = collapse_utf8_alternatives(source);
  for (std::string_view s : {source, std::string_view(narrow)}) {
    add(std::string(s));
    add(relax_repeats(s));
    if (std::string_view body = repeated_group_body(s); !body.empty()) add(relax_repeats(body));
  }
  return out;
}

}  // namespace filterd::spam
