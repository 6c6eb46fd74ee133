// reply_parser.h — incremental parser of a peer's SMTP/LMTP replies
// (RFC 5321 §4.2), for the reinjection client. Fed with bytes, yields whole
// (possibly multi-line) replies. Bounded: an over-long line or too many
// lines is a protocol error, not unbounded memory.
#pragma once

#include <deque>
#include <expected>
#include <string>
#include <string_view>

#include "smtp/reply.h"

namespace filterd::smtp {

class ReplyParser {
 public:
  // RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets; be lenient.
  static constexpr size_t kMaxLine = 4096;
  // EHLO replies are the longest; no sane server sends more lines.
  static constexpr size_t kMaxLines = 200;

  // Feeds bytes. Returns an error text if the peer broke the protocol; the
  // parser is then unusable.
  std::expected<void, std::string> feed(std::string_view bytes);

  bool has_reply() const { return !ready_.empty(); }
  // REQUIRES: has_reply().
  Reply pop();

  // The lines of a multi-line reply as received (EHLO keywords), for the
  // last reply popped. Text lines only, without code and status.
  const std::string& last_text() const { return last_text_; }

 private:
  std::expected<void, std::string> line(std::string_view l);

  std::string partial_;
  Reply current_;
  size_t lines_ = 0;
  std::deque<Reply> ready_;
  std::string last_text_;
};

}  // namespace filterd::smtp
