// header_checks.h — Postfix's header_checks (header_checks(5)) for mail
// that frontd receives on its smtp, submission and smtps services (not on
// the reinjection listener: that mail was checked on its way in, like
// Postfix's receive_override_options = no_header_body_checks there).
//
// Table: "regexp:/path" or "pcre:/path"; one rule per line,
//     /pattern/flags ACTION [text]        !/pattern/ ACTION [text]
// '#' comments and empty lines ignored; a line starting with white space
// continues the previous one. Any delimiter may replace '/'. Both table
// types are compiled with PCRE2 (POSIX ERE is a subset in practice). As in
// Postfix, matching is case-insensitive unless the flag "i" toggles it;
// other flags: m (multi-line), s (dot matches newline), x (extended).
// $1..$9 and ${1}..${9} in the text are the pattern's captures.
//
// Actions (the first rule that matches a header wins):
//   IGNORE          delete the header
//   REJECT [text]   refuse the message: 550 5.7.1 text
//   WARN [text]     log the header, change nothing
//   DISCARD [text]  accept (250) and drop the message, logged
//   REPLACE text    put "text" (a whole "Name: value") in the header's place
//   PREPEND text    insert "text" above the header
//   DUNNO, OK       no action; stop looking for this header
// Other Postfix actions (HOLD, FILTER, REDIRECT, ...) and if/endif blocks
// are configuration errors naming the line, never silently ignored.
//
// Matching sees each logical header (continuation lines joined, their line
// breaks removed) of the primary header section, including the Received
// field frontd itself adds (Postfix behaves the same, which is how sites
// hide internal addresses).
//
// Thread safety: immutable after load; apply() from any thread.
#pragma once

#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/reply.h"

namespace filterd::frontd {

class HeaderChecks {
 public:
  enum class Action { kIgnore, kReject, kWarn, kDiscard, kReplace, kPrepend, kDunno };

  // "regexp:/path" or "pcre:/path". Errors: "FILE:LINE: reason".
  static std::expected<HeaderChecks, std::string> load(const std::string& spec);
  static std::expected<HeaderChecks, std::string> parse(std::string_view text,
                                                        std::string_view name);
  HeaderChecks();
  ~HeaderChecks();
  HeaderChecks(HeaderChecks&&) noexcept;
  HeaderChecks& operator=(HeaderChecks&&) noexcept;

  struct Event {
    Action action;
    std::string header;  // the logical header that matched (for the log)
    std::string text;    // the action's text, captures expanded
  };
  struct Result {
    std::string message;                // with IGNORE/REPLACE/PREPEND applied
    std::optional<smtp::Reply> reject;  // REJECT: refuse, do not queue
    bool discard = false;               // DISCARD: say 250, do not queue
    std::vector<Event> events;          // everything but DUNNO, in order
  };
  // REQUIRES: `message` as received (CRLF line ends); the body is untouched.
  Result apply(std::string_view message) const;

  size_t size() const;

 private:
  struct Rule;
  std::vector<std::unique_ptr<Rule>> rules_;
};

}  // namespace filterd::frontd
