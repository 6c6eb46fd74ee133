// reply.h — an SMTP/LMTP reply: three-digit code, RFC 3463 enhanced status
// code and text, as sent by our server sessions and as parsed from a peer.
#pragma once

#include <string>
#include <string_view>

namespace filterd::smtp {

struct Reply {
  int code = 0;        // 200..599
  std::string status;  // enhanced status code "2.0.0"; may be empty
  std::string text;    // may hold several lines separated by '\n'

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }

  // Wire form: "250-first\r\n250 2.0.0 last\r\n". The status code is put on
  // every line, as RFC 2034 §4 asks.
  std::string wire() const;

  // "250 2.0.0 Ok: queued as X" — one line, for logs and DSN diagnostics.
  std::string one_line() const;
};

// Builds a reply; `status` may be empty for replies without an enhanced code
// (the greeting, for one).
inline Reply make_reply(int code, std::string_view status, std::string_view text) {
  return Reply{code, std::string(status), std::string(text)};
}

// Returns `status` if it is a syntactically valid RFC 3463 code whose class
// digit agrees with `code`, else a generic one for the class ("4.0.0").
std::string checked_status(int code, std::string_view status);

}  // namespace filterd::smtp
