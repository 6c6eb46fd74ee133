// dsn.h — RFC 3464 delivery status notifications (multipart/report) for
// D_BOUNCE and for recipients the next hop refused.
//
// The DSN carries only the original header section (text/rfc822-headers),
// never the body: a bounced virus must not travel back to the sender.
// Pure: the caller supplies the date and ids.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "smtp/envelope.h"
#include "smtp/reply.h"

namespace filterd::policy {

struct DsnRecipient {
  std::string address;  // Final-Recipient
  std::string orcpt;    // as received in ORCPT (xtext), or empty
  smtp::Reply reply;    // Status and Diagnostic-Code come from here
};

struct DsnInput {
  std::string reporting_mta;  // our host name
  std::string mail_id;        // for Message-ID and the boundary
  std::string date;           // RFC 5322 date-time, "now"
  std::string arrival_date;   // when we received the message
  std::string envid;          // ENVID as received (xtext), or empty
  std::string sender;         // the DSN's recipient (original envelope sender)
  std::string reason;         // one human line: "virus found: Eicar-Test-Signature"
  std::vector<DsnRecipient> recipients;
  std::string_view original_headers;  // the header section of the message
  // From the sender_dsn template (notify.h), or empty for the built-in
  // English. human_text replaces the first, human-readable part (UTF-8;
  // sent 8bit if non-ASCII, so the next hop must offer 8BITMIME); subject
  // replaces "Undelivered mail returned to sender" (RFC 2047 when needed).
  std::string human_text;  // render_text(): CRLF lines, none over 998 bytes
  std::string subject;     // render_subject()
};

// The whole DSN message with CRLF line ends, ready for deliver().
std::string compose_dsn(const DsnInput& in);

// RFC 3461 §4.1: whether a failure DSN may be sent for this recipient
// (NOTIFY absent, or listing FAILURE). Never for the null sender.
bool failure_dsn_wanted(const smtp::Envelope& env, const smtp::Recipient& rcpt);

// RFC 5322 §3.3 date-time for `t` (seconds since the epoch), local zone.
std::string rfc5322_date(long long t);

}  // namespace filterd::policy
