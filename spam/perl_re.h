// perl_re.h — a Perl regular expression for the eval: tests and the
// Received parser, whose semantics are SpamAssassin's Perl regexps: PCRE2
// (byte mode, no UTF), compiled once, matched from any number of threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace filterd::spam {

class PerlRe {
 public:
  // `flags`: any of "i" (caseless), "x" (extended), "s" (dot matches \n),
  // "m" (multi-line). A pattern that fails to compile is a programming
  // error: it aborts at first use in debug, never matches in release.
  explicit PerlRe(std::string_view pattern, std::string_view flags = "");
  ~PerlRe();
  PerlRe(const PerlRe&) = delete;
  PerlRe& operator=(const PerlRe&) = delete;

  // Whether the pattern matches anywhere in `subject` (from `start`).
  bool search(std::string_view subject, size_t start = 0) const;
  // Like search; `groups[0]` is the whole match, `groups[n]` group n ("" if
  // it did not take part). `end` (if given) receives the match's end.
  bool search(std::string_view subject, std::vector<std::string>& groups, size_t start = 0,
              size_t* end = nullptr) const;
  // Perl's s///: replaces the first match (or every match with `all`) by
  // `replacement`, in which $1..$9 name groups. Returns the replacements made.
  size_t replace(std::string& subject, std::string_view replacement, bool all = false) const;

 private:
  void* code_ = nullptr;  // pcre2_code_8*
};

}  // namespace filterd::spam
