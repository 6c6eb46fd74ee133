// rules_regexp.h — a Perl regexp as SpamAssassin rule files write it
// ("/re/flags", "m{re}flags", "m!re!", "qr/re/") split into source and
// flags, and checked against Perl's syntax envelope without compiling it
// (Util.pm compile_regexp's rules, then the structure Perl would reject):
//   - delimiters: "/", or "m"/"qr" then any non-word character but '\';
//     ( [ { < close with ) ] } >;
//   - the end delimiter is the first one followed only by modifier letters;
//     a non-bracket delimiter may not appear unescaped inside;
//   - modifiers are Perl's inline ones: i m s x n p a d l u;
//   - no code blocks "(?{ })" / "(??{ })";
//   - groups and character classes balanced, no trailing lone '\', no
//     quantifier at the start of a branch ("Quantifier follows nothing").
// Errors are short reasons without position ("unmatched (").
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace filterd::spam {

struct PerlRegexp {
  std::string source;  // between the delimiters, as written
  std::string flags;   // modifiers after the end delimiter: "i", "msx"
  friend bool operator==(const PerlRegexp&, const PerlRegexp&) = default;
};

// Splits and checks a delimited regexp. Leading/trailing white space must
// have been removed by the caller.
std::expected<PerlRegexp, std::string> read_perl_regexp(std::string_view text);

// Checks an undelimited pattern (after replace tags) with `flags`.
std::expected<void, std::string> check_perl_regexp(std::string_view source, std::string_view flags);

}  // namespace filterd::spam
