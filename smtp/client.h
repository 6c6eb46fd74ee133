// client.h — the SMTP/LMTP client that hands a message to the next hop
// (reinjection into Postfix, frontd, or an LMTP mailbox server).
//
// Contract: deliver() never throws and never "loses" a recipient: each
// envelope recipient ends with exactly one reply — the next hop's own, or a
// synthesized 451 4.4.x when the connection failed, timed out or the peer
// broke the protocol. 250 for a recipient means the next hop accepted it.
//
// With all_or_nothing (for SMTP upstreams, which get one reply per message)
// the client sends RSET instead of DATA when any recipient was deferred at
// RCPT, so that the upstream can retry the whole message without anyone
// getting a duplicate.
//
// Outbound STARTTLS (RFC 3207) and AUTH PLAIN (RFC 4954), for frontd's
// relayhost; both off by default. TLS here encrypts but does not verify the
// peer (Postfix's smtp_tls_security_level = may / encrypt). Credentials
// are only ever sent inside TLS. A failed handshake, a missing STARTTLS
// under kEncrypt, and a refused AUTH are all 4xx: the mail waits.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/asio.h"
#include "smtp/endpoint.h"
#include "smtp/envelope.h"
#include "smtp/reply.h"

namespace boost::asio::ssl {
class context;
}

namespace filterd::smtp {

class ConnectionCache;

struct ClientOptions {
  std::string helo_name = "localhost";
  std::chrono::seconds connect_timeout{30};   // Postfix smtp_connect_timeout
  std::chrono::seconds command_timeout{300};  // RFC 5321 §4.5.3.2.2-4 (MAIL, RCPT: 5 min)
  std::chrono::seconds data_timeout{600};     // RFC 5321 §4.5.3.2.6 (end of data: 10 min)
  bool all_or_nothing = true;
  bool send_xforward = true;
  // kMay: STARTTLS when the next hop offers it; kEncrypt: required.
  enum class Tls { kNone, kMay, kEncrypt } tls = Tls::kNone;
  // REQUIRES: set (a client context) when tls != kNone.
  std::shared_ptr<boost::asio::ssl::context> tls_context;
  // AUTH PLAIN as this user when the next hop offers it; empty: no AUTH.
  std::string auth_user, auth_password;
  // Sessions are taken from and kept in this cache (plain sessions only:
  // none with TLS or AUTH); null: one connection per delivery.
  // REQUIRES: outlives the delivery; used from the delivery's executor.
  ConnectionCache* cache = nullptr;
};

struct DeliveryResult {
  // One reply per envelope recipient, in envelope order.
  std::vector<Reply> recipients;
  // True if message data was sent and the next hop accepted it for at least
  // one recipient.
  bool delivered_any = false;
  // The next hop's queue id ("queued as X"), if it said one.
  std::string queued_as;
};

// Sends `prefix` followed by `message` (both raw, CRLF line ends; the client
// does the dot-stuffing) to `hop`. `prefix` holds header lines filterd adds.
boost::asio::awaitable<DeliveryResult> deliver(const Endpoint& hop, const Envelope& envelope,
                                               std::string_view prefix, std::string_view message,
                                               const ClientOptions& options);

// Extracts the queue id from "Ok: queued as 4Xyz" (Postfix, frontd) or
// "Ok id=1abc" (Exim); empty if none.
std::string parse_queued_as(std::string_view reply_text);

}  // namespace filterd::smtp
