// banned.h — amavis's banned-file rules ($banned_filename_re): does a decoded
// part of the message have a name or type that must not pass?
//
// Rules are an ordered list of (ban|allow, PCRE2 pattern), read from a file
// like etc/banned.rules:
//
//   # comment; blank lines are ignored
//   ban   ^\.(exe-ms|dll)$
//   allow ^\.(rpm|cpio|tar)$
//   ban   (?i).\.(pif|scr)$
//
// The keyword, white space, then the rest of the line verbatim (trailing white
// space trimmed) is the pattern, in Perl syntax so that amavis rules port as
// they are; `(?i)` makes one case-insensitive.
//
// Keys. Each part is judged with the keys of its whole chain: the part itself,
// its parent (the archive it came from), and so on up to the top-level MIME
// part. Every level contributes, in this order:
//   - its detected type (".exe-ms", ".zip"; see decoders/file_type.h),
//   - its declared MIME type ("application/x-msdownload"),
//   - each declared file name,
//   - per declared name one combined key "T=<detected>\tM=<declared>\tN=<name>"
//     (a field is left out when empty; one key without N= if there is no
//     name), so that one rule can relate the type and the name of one level:
//       ban ^T=\.exe-ms\t.*N=.*\.pdf$     an executable that claims to be a PDF
// A pattern not anchored at the start also sees a name at the end of the
// combined key; a class like [^.]* can then run back from the name into the
// T= and M= fields, so leave \t out of it (as the shipped double-extension
// rule does).
// Keys that are not valid UTF-8 (hostile names) are matched with each invalid
// byte replaced by U+FFFD, so a name like "\xff.exe" still ends in ".exe" for
// `.\.exe$`.
//
// Decision (amavis's): the rules are tried in order; each rule is tried on all
// keys of the chain; the first rule that matches any key decides the part:
// `ban` bans it, `allow` lets it pass without trying further rules. No rule
// matching lets it pass. So `allow ^\.tar$` before `ban \.scr$` passes a .scr
// file inside a tar, while `ban ^\.exe-ms$` before it bans an executable
// anywhere. A banned archive's members are banned too (the archive is on
// their chain).
//
// Bounded matching. Every match runs under the limits in BannedLimits. A
// match that fails (limit reached, out of memory, a key longer than
// max_key_bytes) fails closed: for a `ban` rule it counts as a match and the
// result says why in `error` (worth a log line: the rule or the name is
// pathological); for an `allow` rule it counts as no match, so an allow rule
// never passes what it could not judge.
//
// Thread safety: a BannedRules is immutable once built; match_banned() may be
// called on the same BannedRules from any number of threads at once (match
// data is per thread). BannedRules is move-only (it owns compiled patterns);
// to share one set across threads and config reloads, hold it in a
// std::shared_ptr<const BannedRules>.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "decoders/part.h"

namespace filterd::policy {

// Limits on matching, so that no rule and no name can stall a message.
// PCRE2's own limits (match context) stop runaway backtracking; the key limit
// bounds the time a pattern can spend scanning within those steps (the cost
// of `[^.]*[a-z][^.]*` grows with the square of the name's length).
struct BannedLimits {
  uint32_t match_limit = 1'000'000;  // backtracking steps per start position
  uint32_t depth_limit = 10'000;     // nested backtracking frames (not used by the JIT)
  uint32_t heap_limit_kib = 16'384;  // backtracking memory per match
  // Longer keys are not matched but fail closed (see "Bounded matching").
  // A file name is at most 255 bytes on ext4 and 255 UTF-16 units (765 bytes
  // of UTF-8) on NTFS; the rest leaves room for a combined key's types.
  size_t max_key_bytes = 2048;
};

enum class BannedAction { kBan, kAllow };

struct BannedRule {
  BannedAction action;
  std::string text;  // the rule as written: "ban (?i).\.(pif|scr)$"
  int line = 0;      // in the rules file, from 1
};

// Longest matched key and part label kept in a BannedPart: log lines stay
// short whatever a sender puts in a file name.
inline constexpr size_t kBannedMaxKeyBytes = 100;
inline constexpr size_t kBannedMaxLabelBytes = 200;

struct BannedPart {
  size_t index = 0;           // into the parts given to match_banned()
  std::string label;          // "p002 invoice.pdf.exe", log-safe
  std::string detected_type;  // ".exe-ms", log-safe
  std::string key;            // the key the rule matched, log-safe
  int rule_line = 0;          // BannedRule::line of the deciding rule
  std::string rule;           // BannedRule::text of the deciding rule
  std::string error;          // why the match failed, if it did (fail closed); "" normally
};

class BannedRules;

// Parses and compiles a rules file's text. `origin` names it in errors, which
// read "ORIGIN:LINE: reason" (unknown keyword, missing pattern, bad pattern).
std::expected<BannedRules, std::string> parse_banned_rules(std::string_view text,
                                                           std::string_view origin,
                                                           const BannedLimits& limits = {});

// Reads `path` and parses it; a file that cannot be read is "PATH: reason".
std::expected<BannedRules, std::string> load_banned_rules(const std::string& path,
                                                          const BannedLimits& limits = {});

// The banned parts of a message, in the order of `parts`.
// REQUIRES: `parts` is a decoder's pre-order list: each parent index is -1 or
// an earlier part. Any other parent value ends the chain there.
std::vector<BannedPart> match_banned(const BannedRules& rules,
                                     const std::vector<decoders::Part>& parts);

// Compiled rules. A moved-from BannedRules may only be assigned to or
// destroyed.
class BannedRules {
 public:
  BannedRules(BannedRules&&) noexcept;
  BannedRules& operator=(BannedRules&&) noexcept;
  BannedRules(const BannedRules&) = delete;
  BannedRules& operator=(const BannedRules&) = delete;
  ~BannedRules();

  const std::vector<BannedRule>& rules() const;
  const std::string& origin() const;  // what the rules came from, as given to the parser

 private:
  friend std::expected<BannedRules, std::string> parse_banned_rules(std::string_view,
                                                                    std::string_view,
                                                                    const BannedLimits&);
  friend std::vector<BannedPart> match_banned(const BannedRules&,
                                              const std::vector<decoders::Part>&);
  struct Impl;
  explicit BannedRules(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// amavis's short form for logs and the BANNED reason:
// "p002 invoice.pdf.exe .exe-ms".
std::string banned_reason(const BannedPart& banned);

// `s` fit for a log line: control characters and invalid UTF-8 become '?';
// at most `max_bytes` bytes, cut at a character boundary ("..." appended).
std::string log_safe(std::string_view s, size_t max_bytes);

}  // namespace filterd::policy
