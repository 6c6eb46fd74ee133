// am_pdp.h — amavis's policy delegation protocol (AM.PDP), the part that
// releases quarantined mail, so that amavisd-release (Debian package
// amavisd-new) and front ends written for amavis work against filterd.
//
// The protocol, as amavisd-new 2.13 speaks it (README.protocol; the server
// side is Amavis/In/AMPDP.pm, the client /usr/sbin/amavisd-release):
//
//   A request is a series of `name=value` lines and ends at an empty line.
//   Clients send CRLF; the server also accepts bare LF (amavis splits on LF
//   and drops one CR before it). A name runs to the first '=' — or to a ':'
//   followed by optional blanks, Postfix-policy style — and may not hold NUL.
//   Names and values are %XX-decoded (hex digits in either case; a '%' not
//   followed by two hex digits stays as it is). A line that is no attribute
//   is ignored by amavis; here it is counted (PdpRequest::malformed_lines).
//   Attributes may repeat (recipient=...); unknown ones are ignored. After a
//   response the client may send another request on the same connection.
//
//   What `amavisd-release spam-W-7uJyXUjw32.gz[7] SECRET a@example.net`
//   sends (captured; see tests/unit/am_pdp_test.cc for more):
//
//     request=release\r\n         requeue when run as amavisd-requeue
//     mail_id=W-7uJyXUjw32\r\n    from the file name
//     quar_type=Z\r\n             Z for *.gz, F for a name with a directory,
//                                 absent otherwise (server default: F or Q)
//     secret_id=SECRET\r\n        absent when not given
//     mail_file=spam-W-7uJyXUjw32.gz\r\n
//     partition_tag=7\r\n         only for NAME[tag] (SQL quarantine)
//     recipient=a@example.net\r\n once per alternative recipient; none means
//                                 the original recipients
//     \r\n
//
//   amavisd-release finds the id in a file name ([prefix-]ID[.gz]) only if
//   the id starts and ends with a letter or digit, as amavis's ids do (it
//   draws again otherwise); for "spam-abcdefghijk_" it sends the whole name
//   as mail_id, and "_bcdefghijkl" fails the mail_id check below.
//
//   Front ends may add requested_by=<admin@example.net> (lands in
//   Resent-From:) and sender=<...> (replaces the envelope sender).
//
//   The response has the same framing, always CRLF. For a release amavis
//   answers one `setreply` per recipient, like LMTP; its three fields
//   (code, enhanced code, text) are encoded one by one and joined by one
//   plain space:
//
//     setreply=250 2.0.0 Ok,%20id=rel-Q1,%20from%20MTA:%20250%202.0.0%20Ok\r\n
//     \r\n
//
//   and when the request itself is refused (bad mail_id, wrong secret, no
//   such file):
//
//     setreply=450 4.5.0 Failure:%20Secret_id%20...%20does%20not%20match\r\n
//     return_value=tempfail\r\n
//     exit_code=75\r\n
//     \r\n
//
//   amavisd-release prints each decoded setreply on stderr ("250 2.0.0 Ok,
//   id=..."), nothing on stdout, and exits 0 whatever the code — 450 too. A
//   response without one attribute line (closed connection, bare empty
//   line, LF-only lines: it reads CRLF lines) makes it die "Invalid response
//   received" with a nonzero status.
//
// Pure: bytes in, requests out; replies as bytes. The socket is the
// caller's. Nothing here is trusted: every limit is in PdpLimits.
#pragma once

#include <cstddef>
#include <deque>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace filterd::quarantine {

// One decoded request, attributes in the order sent.
struct PdpRequest {
  std::vector<std::pair<std::string, std::string>> attributes;
  std::size_t malformed_lines = 0;  // lines that were no name=value

  std::string get(std::string_view name) const;  // first value, or ""
  std::vector<std::string> all(std::string_view name) const;
  std::size_t count(std::string_view name) const;
};

// AM.PDP sets no limits ("both must be prepared to handle arbitrary line
// lengths"); these bound what one local client can make us hold.
struct PdpLimits {
  // An encoded RFC 5321 path (256 octets, §4.5.3.1.3) is at most 768
  // bytes; ids and tags are shorter.
  std::size_t max_line = 4096;
  // Recipients of a release: Postfix's smtpd_recipient_limit is 1000.
  std::size_t max_attributes = 1024;
  std::size_t max_request_bytes = 256 * 1024;
};

// Incremental request reader: feed bytes as they arrive, pop requests as
// they complete. A limit hit is an error, and a final one: the stream is
// out of step, so the caller should answer pdp_failure_response() and close.
// Not thread-safe.
class PdpParser {
 public:
  explicit PdpParser(PdpLimits limits = {}) : limits_(limits) {}

  // Consumes all of `bytes`. After an error every further feed() returns it.
  std::expected<void, std::string> feed(std::string_view bytes);
  bool has_request() const { return !done_.empty(); }
  // REQUIRES: has_request(). Oldest first.
  PdpRequest pop();
  // True when part of a request has been read (a closed connection then
  // means a truncated request).
  bool mid_request() const { return current_bytes_ > 0; }

 private:
  std::expected<void, std::string> end_line();

  PdpLimits limits_;
  std::string line_;    // the line being read, without its LF
  PdpRequest current_;  // the request being read
  std::size_t current_bytes_ = 0;
  std::deque<PdpRequest> done_;
  std::string error_;  // set once a limit is hit
};

// %XX decoding as amavis's proto_decode: lower- or upper-case hex.
std::string pdp_decode(std::string_view s);
// Encodes one value field as amavis's proto_encode: every byte outside
// '!'..'~', and '%', becomes %xx (lower-case hex). Space is encoded, '=' is
// not (only a name's first '=' separates).
std::string pdp_encode(std::string_view field);
// Encodes an attribute name: all but [0-9A-Za-z._+-] (as amavis's server).
std::string pdp_encode_name(std::string_view name);

// One response attribute: its fields are encoded one by one and joined by
// a plain space (setreply has three: "250", "2.0.0", the text).
struct PdpAttribute {
  std::string name;
  std::vector<std::string> fields;
};

// The response bytes: one CRLF line per attribute, then an empty line.
std::string pdp_response(const std::vector<PdpAttribute>& attrs);
// setreply=CODE ENHANCED TEXT, one per recipient in a release response.
PdpAttribute pdp_setreply(int code, std::string_view enhanced, std::string_view text);
// amavis's answer to a request it refused before trying it: setreply=450
// 4.5.0 "Failure: REASON", return_value=tempfail, exit_code=75 (EX_TEMPFAIL).
std::string pdp_failure_response(std::string_view reason);

// The request kinds (request=, case-insensitive).
inline constexpr std::string_view kPdpRelease = "release";
inline constexpr std::string_view kPdpRequeue = "requeue";

// A release request, checked as amavis checks it, plus what amavis leaves
// to later stages (addresses without control characters, bounded ids).
struct ReleaseRequest {
  std::string request;                  // "release" or "requeue" (same handling), lower-case
  std::string mail_id;                  // [A-Za-z0-9][A-Za-z0-9_+-]*={0,2}, at most 64
  std::string secret_id;                // "" when not sent; else base64url (or amavis's
                                        // pre-2.7 "+-" alphabet), at most 64
  std::string quar_type;                // "" (server default) or one of F Z B Q M
  std::string mail_file;                // "" or a relative path: [A-Za-z0-9][A-Za-z0-9/_.+-]*
                                        // with no ".." component; only a hint
  std::string partition_tag;            // SQL quarantines only; may be ""
  std::string requested_by;             // "" or an address, without <>
  std::optional<std::string> sender;    // replacement sender without <>; "" is <>
  std::vector<std::string> recipients;  // empty: the original ones; without <>
};

// Checks `r`: request=release or requeue (anything else, report and AM.PDP
// mail checks included, is an error), mail_id present and well-formed, no
// malformed lines, single-valued attributes at most once. Errors are short
// sentences fit for "setreply=450 4.5.0 Failure: ...".
std::expected<ReleaseRequest, std::string> parse_release(const PdpRequest& r);

// amavis's release authorization, stateless: mail_id is the first 12
// characters of base64url(md5(secret)), where secret_id is base64url of the
// secret bytes (amavis >= 2.7); before 2.7 the id was almost-base64 ('/' as
// '-') of md5 of the secret_id text itself. Both are accepted, as amavis
// does. Ids filterd makes at random have no secret: this is false for them.
bool secret_id_matches(std::string_view mail_id, std::string_view secret_id);

}  // namespace filterd::quarantine
