// queue_file.h — the on-disk form of one queued message and of its delivery
// status. Pure: bytes in, values out; nothing is trusted (a queue file may be
// truncated by a crash before its rename could not happen, or damaged on disk).
//
// Message file (immutable once written):
//     frontd-queue 1\n
//     id QUEUEID\n  arrival MILLISECONDS\n  stage filter|deliver\n
//     client NAME[ADDR]\n  helo XTEXT\n  sender XTEXT\n
//     [ret FULL|HDRS] [envid XTEXT] [body 7BIT|8BITMIME] [smtputf8]
//     [xforward KEY XTEXT]...
//     rcpt XTEXT NOTIFY|- ORCPT|-\n ...      (at least one)
//     size BYTES\n
//     \n
//     BYTES bytes of message (CRLF line ends, as received)
// Values that come from the network are xtext (RFC 3461 §4), so no value
// can hold a space or a line end.
//
// Status file (replaced atomically after each attempt):
//     frontd-status 1\n  attempts N\n  next SECONDS\n
//     done INDEX\n ...   (recipients finished: delivered or bounced)
//     reason XTEXT\n     (the last deferral reason)
#pragma once

#include <expected>
#include <set>
#include <string>
#include <string_view>

#include "smtp/envelope.h"

namespace filterd::frontd {

enum class Stage {
  kFilter,   // still to go through content_filter
  kDeliver,  // filtered (or no filter): deliver locally or relay
};

struct QueuedMessage {
  std::string id;
  long long arrival_ms = 0;  // milliseconds since the epoch
  Stage stage = Stage::kDeliver;
  std::string client;  // "unknown[192.0.2.1]" for logs and Received
  std::string helo;
  smtp::Envelope envelope;
  std::string data;  // the message; empty when only the header was read
  unsigned long long size = 0;
};

struct QueueStatus {
  unsigned attempts = 0;
  long long next_attempt = 0;  // seconds since the epoch; 0 = now
  std::set<size_t> done;       // recipient indexes that need no more attempts
  std::string reason;          // last deferral reason
};

std::string encode_message(const QueuedMessage& m);
// The whole file; with header_only the message bytes are not copied (the
// size is still checked against the file's length).
std::expected<QueuedMessage, std::string> parse_message(std::string_view file,
                                                        bool header_only = false);
// Parses only the header block of a file whose first bytes are `head`;
// checks that header + size == total_size.
std::expected<QueuedMessage, std::string> parse_message_header(std::string_view head,
                                                               unsigned long long total_size);

std::string encode_status(const QueueStatus& s);
std::expected<QueueStatus, std::string> parse_status(std::string_view file);

}  // namespace filterd::frontd
