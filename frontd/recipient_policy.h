// recipient_policy.h — who may send mail where: frontd's fixed
// smtpd_recipient_restrictions, as a pure function of the recipient, the
// client and the local tables (decided at RCPT time).
//
//   1. sender-specified routing (address.h) ........ 554 5.7.1 Relay access denied
//   2. no domain ................................... 501 5.1.3 Bad recipient address syntax
//   3. domain in virtual_mailbox_domains:
//        in virtual_mailbox_maps ................... accepted
//        otherwise ................................. 550 5.1.1 User unknown
//      (also for trusted clients: Postfix's smtpd_reject_unlisted_recipient)
//   0. submission and smtps without AUTH .......... 530 5.7.0 Authentication required
//   4. another domain: permit_mynetworks, permit_sasl_authenticated and the
//      reinjection listener (the content filter) may relay; everyone else
//      gets reject_unauth_destination's 554 5.7.1 Relay access denied.
//
// frontd is never an open relay: with no trusted client nothing but local
// mailboxes is reachable.
#pragma once

#include <optional>
#include <string_view>

#include "frontd/maps.h"
#include "smtp/reply.h"

namespace filterd::frontd {

struct ClientTrust {
  bool mynetworks = false;     // permit_mynetworks
  bool authenticated = false;  // permit_sasl_authenticated
  bool reinjection = false;    // the content filter handing mail back
  bool require_auth = false;   // submission services: nothing without AUTH
};

struct LocalTables {
  const DomainList* domains = nullptr;  // virtual_mailbox_domains
  const TextMap* mailboxes = nullptr;   // virtual_mailbox_maps; null = none
};

// nullopt: accept. Otherwise the reply for the RCPT command.
std::optional<smtp::Reply> check_recipient(std::string_view address, const ClientTrust& client,
                                           const LocalTables& tables);

// The Maildir of a local recipient: nullopt if `address` is not a local
// mailbox. The map's value is relative to virtual_mailbox_base; a value
// that climbs out of it ("../", absolute) is refused (nullopt).
std::optional<std::string> mailbox_path(std::string_view address, const LocalTables& tables,
                                        std::string_view base);

}  // namespace filterd::frontd
