// envelope.h — the SMTP envelope of one transaction, as received from the
// upstream MTA and as handed on to the next hop: sender, recipients, the
// DSN parameters of RFC 3461 and the XFORWARD attributes Postfix sends.
//
// Values are stored decoded (xtext removed) except where noted; the client
// re-encodes them on the wire.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace filterd::smtp {

// Postfix XFORWARD attributes (XFORWARD_README). Empty = not sent.
struct XForward {
  std::string name, addr, port, proto, helo, ident, source;

  bool empty() const {
    return name.empty() && addr.empty() && port.empty() && proto.empty() && helo.empty() &&
           ident.empty() && source.empty();
  }
};

struct Recipient {
  std::string address;  // without angle brackets
  std::string notify;   // RFC 3461 NOTIFY value as received ("SUCCESS,FAILURE"), or empty
  std::string orcpt;    // RFC 3461 ORCPT as received, still xtext ("rfc822;a+2Bb@c")
};

struct Envelope {
  std::string sender;                      // without angle brackets; empty = null sender
  std::string ret;                         // RFC 3461 RET: "FULL", "HDRS" or empty
  std::string envid;                       // RFC 3461 ENVID, still xtext, or empty
  std::string body;                        // "7BIT", "8BITMIME" or empty
  bool smtputf8 = false;                   // RFC 6531
  std::optional<unsigned long long> size;  // SIZE= as declared, if any
  std::vector<Recipient> recipients;
  XForward xforward;
};

}  // namespace filterd::smtp
