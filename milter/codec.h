// codec.h — the milter protocol (version 6, as Postfix's milter8 client
// speaks it) as pure functions over bytes: no sockets, no state beyond the
// framing buffer.
//
// Contract:
//  * Framing. A packet is a 4-byte big-endian length N, then N bytes: one
//    command byte and N-1 bytes of data. MilterDecoder takes bytes in any
//    split and yields whole packets. N == 0 and N > max_packet (default
//    kDefaultMaxPacket) are protocol errors, detected from the 4 length
//    bytes alone, so a hostile peer never makes the decoder buffer more
//    than max_packet bytes. After an error the decoder is dead: every later
//    feed() returns the same error, and the caller closes the connection
//    with a log line (Error::message()).
//  * Commands (MTA → filter). parse_command() turns a packet into a typed
//    struct; bad contents (missing NUL terminators, an unknown address
//    family, a short OPTNEG, data on a command that has none) are typed
//    errors. encode_command() is its inverse (for tests and for a test MTA):
//    parse_command(encode_command(c)) == c for every command, and the
//    bytes are identical for every packet parse_command accepted, except
//    OPTNEG, whose bytes past the 12 it reads are ignored (as libmilter does).
//  * Replies (filter → MTA). encode_reply() checks what would break the
//    MTA or inject text (reply codes outside 4xx/5xx, NUL, CR or LF where
//    the MTA does not expect them, header names that are not RFC 5322
//    field names) and returns an error instead of bytes. Builders
//    (reply_code(), quarantine(), replace_body()) clean up free text
//    instead: CR, LF and other control characters become spaces.
//    parse_reply() is the inverse, for tests and for a test MTA.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "milter/protocol.h"

namespace filterd::milter {

// The packet length bound. Postfix sends body chunks of at most kBodyChunk
// bytes (no larger data size is negotiated), but a header is sent in one
// packet whatever its size, and Postfix's header_size_limit is 102400 bytes
// by default: 256 KiB leaves room for that, the header name and the macros,
// and still bounds the memory per connection.
inline constexpr uint32_t kDefaultMaxPacket = 256 * 1024;

struct Error {
  enum class Kind {
    kZeroLength,      // a packet length of 0 (no command byte)
    kOversized,       // a packet length above the bound
    kUnknownCommand,  // a command (or reply) byte the protocol does not define
    kMissingNul,      // a string not terminated by NUL, or too few strings
    kTrailingData,    // bytes after the last field, or data on an empty command
    kBadFamily,       // CONNECT with an address family other than U, L, 4, 6
    kShortPacket,     // fixed-size fields (OPTNEG, indexes, port) cut short
    kBadMacros,       // macro names and values not in pairs
    kBadVersion,      // OPTNEG version the codec cannot speak
    kBadValue,        // a reply field encode_reply() refuses (code, header name)
  };
  Kind kind;
  char command = 0;  // the packet's command byte, 0 for framing errors
  std::string detail;

  // One line for the log: "milter: oversized packet (length 300000 > 262144)".
  std::string message() const;
  bool operator==(const Error&) const = default;
};

// One framed packet.
struct Packet {
  char command = 0;
  std::string data;
  bool operator==(const Packet&) const = default;
};

// Frames `command` and `data` (REQUIRES: data.size() < 2^32 - 1).
std::string frame(char command, std::string_view data);

class MilterDecoder {
 public:
  explicit MilterDecoder(uint32_t max_packet = kDefaultMaxPacket) : max_packet_(max_packet) {}

  // Consumes all of `bytes`; returns the packets completed by them (maybe
  // none: a partial packet is kept for the next call), or the error. On an
  // error, packets completed earlier in the same call are dropped too: the
  // connection is closed anyway.
  std::expected<std::vector<Packet>, Error> feed(std::string_view bytes);

  // True between packets: no partial length or data is buffered.
  bool idle() const { return header_fill_ == 0 && !in_packet_; }

 private:
  uint32_t max_packet_;
  unsigned char header_[4] = {};
  size_t header_fill_ = 0;
  bool in_packet_ = false;
  uint32_t remaining_ = 0;  // bytes of the current packet still to come
  Packet current_;
  bool have_command_ = false;
  std::expected<void, Error> failed_;
};

// --- Commands (MTA → filter) ---------------------------------------------

// SMFIC_OPTNEG, and the filter's OPTNEG reply: protocol version, action
// flags (action::*), protocol flags (protocol::*).
struct OptNeg {
  uint32_t version = kVersion;
  uint32_t actions = 0;
  uint32_t protocol = 0;
  bool operator==(const OptNeg&) const = default;
};
// SMFIC_MACRO: the macros for the command that follows (e.g. 'C', 'M').
struct Macros {
  char for_command = 0;
  std::vector<std::pair<std::string, std::string>> pairs;  // {"j", "mx.example"}
  bool operator==(const Macros&) const = default;
};
enum class Family : char { kUnknown = 'U', kUnix = 'L', kInet = '4', kInet6 = '6' };
// SMFIC_CONNECT. With Family::kUnknown the MTA sends no port and address.
struct Connect {
  std::string hostname;  // the client's name, or "[addr]" / "unknown"
  Family family = Family::kUnknown;
  uint16_t port = 0;
  std::string address;  // "192.0.2.1", "2001:db8::1", or a socket path
  bool operator==(const Connect&) const = default;
};
struct Helo {
  std::string name;
  bool operator==(const Helo&) const = default;
};
// SMFIC_MAIL / SMFIC_RCPT: args[0] is the address ("<a@b>"), the rest the
// ESMTP parameters ("SIZE=123"). Never empty.
struct Mail {
  std::vector<std::string> args;
  bool operator==(const Mail&) const = default;
};
struct Rcpt {
  std::vector<std::string> args;
  bool operator==(const Rcpt&) const = default;
};
struct Data {
  bool operator==(const Data&) const = default;
};
// SMFIC_HEADER. The value keeps its leading space when
// protocol::kHeaderLeadingSpace was negotiated.
struct Header {
  std::string name;
  std::string value;
  bool operator==(const Header&) const = default;
};
struct EndOfHeaders {
  bool operator==(const EndOfHeaders&) const = default;
};
struct BodyChunk {
  std::string data;
  bool operator==(const BodyChunk&) const = default;
};
// SMFIC_BODYEOB. Sendmail may put a last body chunk here; Postfix sends none.
struct EndOfBody {
  std::string data;
  bool operator==(const EndOfBody&) const = default;
};
struct Abort {
  bool operator==(const Abort&) const = default;
};
struct Quit {
  bool operator==(const Quit&) const = default;
};
// SMFIC_QUIT_NC: end of this connection's session, a new one follows on the
// same socket.
struct QuitNewConnection {
  bool operator==(const QuitNewConnection&) const = default;
};
// SMFIC_UNKNOWN: an SMTP command the MTA did not recognise.
struct Unknown {
  std::string line;
  bool operator==(const Unknown&) const = default;
};

using Command = std::variant<OptNeg, Macros, Connect, Helo, Mail, Rcpt, Data, Header, EndOfHeaders,
                             BodyChunk, EndOfBody, Abort, Quit, QuitNewConnection, Unknown>;

std::expected<Command, Error> parse_command(const Packet& packet);
// The framed packet. REQUIRES: strings hold no NUL (true of parsed ones).
std::string encode_command(const Command& command);

// The filter's OPTNEG answer to the MTA's offer: version 6, kWantedActions
// and kWantedProtocol, each limited to what the MTA offered. An MTA that
// speaks a version below 6, or cannot add headers, is an error (kBadVersion);
// missing optional actions (quarantine, body replacement) just stay unset.
std::expected<OptNeg, Error> negotiate(const OptNeg& offer);

// Whether the MTA waits for a reply to `command` under the negotiated
// protocol flags. Macros, ABORT and the QUITs never get one.
bool expects_reply(char command, uint32_t negotiated_protocol);

// --- Replies (filter → MTA) ------------------------------------------------

struct Continue {
  bool operator==(const Continue&) const = default;
};
struct Accept {
  bool operator==(const Accept&) const = default;
};
struct Reject {
  bool operator==(const Reject&) const = default;
};
struct Tempfail {
  bool operator==(const Tempfail&) const = default;
};
struct Discard {
  bool operator==(const Discard&) const = default;
};
struct Progress {
  bool operator==(const Progress&) const = default;
};
// SMFIR_REPLYCODE: a whole SMTP reply line, "554 5.7.0 text", which the MTA
// uses instead of its own for a reject or tempfail.
struct ReplyCode {
  std::string line;
  bool operator==(const ReplyCode&) const = default;
};
struct AddHeader {
  std::string name;
  std::string value;
  bool operator==(const AddHeader&) const = default;
};
// SMFIR_INSHEADER: insert at position `index` (0 = before the first header).
struct InsertHeader {
  uint32_t index = 0;
  std::string name;
  std::string value;
  bool operator==(const InsertHeader&) const = default;
};
// SMFIR_CHGHEADER: change the index-th (from 1) header called `name`; an
// empty value deletes it.
struct ChangeHeader {
  uint32_t index = 1;
  std::string name;
  std::string value;
  bool operator==(const ChangeHeader&) const = default;
};
// SMFIR_REPLBODY: one chunk of the new body (at most kBodyChunk bytes).
struct ReplaceBody {
  std::string chunk;
  bool operator==(const ReplaceBody&) const = default;
};
// SMFIR_QUARANTINE: Postfix puts the message on hold, logging the reason.
struct Quarantine {
  std::string reason;
  bool operator==(const Quarantine&) const = default;
};
// SMFIR_ADDRCPT / SMFIR_DELRCPT: add an envelope recipient, or delete one
// (and, in Postfix, everything it expanded to). The address is sent in
// angle brackets, as libmilter applications send it: "<bob@example.com>"
// (see rcpt_address()).
struct AddRcpt {
  std::string address;
  bool operator==(const AddRcpt&) const = default;
};
struct DeleteRcpt {
  std::string address;
  bool operator==(const DeleteRcpt&) const = default;
};

using Reply =
    std::variant<Continue, Accept, Reject, Tempfail, Discard, Progress, ReplyCode, AddHeader,
                 InsertHeader, ChangeHeader, ReplaceBody, Quarantine, OptNeg, AddRcpt, DeleteRcpt>;

// The framed packet, or kBadValue (or kMissingNul for an embedded NUL).
// Header values may be folded ("a\n\tb" or "a\r\n\tb"), but every line
// break must be followed by a space or tab: no new header can be injected.
std::expected<std::string, Error> encode_reply(const Reply& reply);
std::expected<Reply, Error> parse_reply(const Packet& packet);

// "554 5.7.0 text": `code` must be 4xx or 5xx (kBadValue otherwise);
// `status` must be an RFC 3463 code of the same class, or empty for none;
// control characters in `text` (CR, LF, NUL, ...) become spaces.
std::expected<ReplyCode, Error> reply_code(int code, std::string_view status,
                                           std::string_view text);
// A quarantine reason with control characters made spaces.
Quarantine quarantine(std::string_view reason);
// "<bob@example.com>" for "bob@example.com" (a bracketed address is kept
// as is). encode_reply() refuses an empty address or one with control
// characters (an envelope address never has any: RFC 5321 §4.1.2).
std::string rcpt_address(std::string_view address);
// The SMFIR_REPLBODY packets that replace the body with `body`, in chunks of
// kBodyChunk bytes. An empty body is one empty packet (the MTA then
// truncates the body; sending no packet would leave it unchanged).
std::string replace_body(std::string_view body);

}  // namespace filterd::milter
