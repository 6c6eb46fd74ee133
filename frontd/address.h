// address.h — envelope addresses as frontd's recipient restrictions see
// them: split into local part and domain, and checked for sender-specified
// routing (the relay tricks).
//
// Security stance (Postfix's reject_unauth_destination, stricter): an
// address "contains sender-specified routing" when its local part holds
// '@', '%' or '!', quoted or not:
//     user%other@local       the percent hack
//     "user@other"@local     a quoted '@'
//     user@other@local       two '@' (the domain is the part after the last)
//     other!user@local       a UUCP bang path
// Postfix would accept some of these from trusted clients (it rewrites them
// with allow_percent_hack / swap_bangpath and relays); frontd never rewrites
// a routed address, so it refuses them from everyone (554 5.7.1). A source
// route "@local:user@other" is removed by the SMTP parser (RFC 5321 §4.1.2)
// and leaves "user@other", which is judged like any other address.
//
// Pure; no allocation beyond the returned strings.
#pragma once

#include <string>
#include <string_view>

namespace filterd::frontd {

struct Address {
  std::string local;   // as written, quotes included
  std::string domain;  // lower-cased ASCII; empty if there was no '@'
};

// Splits at the last '@' outside a quoted string.
Address split_address(std::string_view address);

// True if the local part shows sender-specified routing (see above).
bool has_routing(const Address& a);

// RFC 5321 §4.5.1: "<Postmaster>" without a domain must be accepted. It is
// delivered as postmaster@`domain` (Postfix appends its own origin); every
// other address is returned unchanged.
std::string qualify_postmaster(std::string_view address, std::string_view domain);

// Lower-cases ASCII letters only (domains, map keys).
std::string ascii_lower(std::string_view s);

}  // namespace filterd::frontd
