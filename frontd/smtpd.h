// smtpd.h — frontd's SMTP listeners: one ServerSession per connection,
// recipient restrictions at RCPT (recipient_policy.h), and each accepted
// message written into the queue before the client hears 250.
//
// Services:
//   smtp         mail for virtual_mailbox_domains from anyone; relaying for
//                mynetworks only. Queued for content_filter when one is set.
//   submission   STARTTLS, then AUTH; without AUTH nothing is accepted (530).
//   smtps        the same with TLS from the first byte (RFC 8314).
//   reinjection  loopback only (config enforces it): the content filter
//                hands mail back; XFORWARD accepted, any domain may be
//                relayed, unknown local users still get 550. Queued for
//                delivery (never filtered again: no loop).
//
// Log lines (Postfix's form):
//   connect from unknown[ADDR]
//   NOQUEUE: reject: RCPT from unknown[ADDR]: 554 5.7.1 <x>: Relay access denied; from=<..> to=<..>
//   proto=ESMTP helo=<..> QID: client=unknown[ADDR] QID: message-id=<...> QID: from=<...>, size=N,
//   nrcpt=N (queue active) disconnect from unknown[ADDR] ehlo=1 mail=1 rcpt=1 data=1 quit=1
//   commands=5
// No reverse DNS is done: every client is "unknown", like Postfix with
// smtpd_peername_lookup = no.
//
// Thread safety: everything on the io_context's single thread.
#pragma once

#include <memory>
#include <vector>

#include "frontd/auth.h"
#include "frontd/auth_throttle.h"
#include "frontd/config.h"
#include "frontd/header_checks.h"
#include "frontd/local_directory.h"
#include "frontd/qmgr.h"
#include "frontd/tls.h"
#include "smtp/asio.h"
#include "smtp/deadline.h"
#include "smtp/endpoint.h"

namespace filterd::frontd {

enum class Service { kSmtp, kSubmission, kSmtps, kReinjection };

class Smtpd {
 public:
  // REQUIRES: the arguments outlive the Smtpd. `tls` may be null (no TLS
  // listeners configured), `auth` too (no AUTH anywhere).
  Smtpd(boost::asio::io_context& io, const Config& config, LocalDirectory& directory, Qmgr& qmgr,
        std::shared_ptr<boost::asio::ssl::context> tls, Authenticator* auth);

  // The header_checks for messages from now on (null: none). Messages in
  // progress keep the table they started with.
  void set_header_checks(std::shared_ptr<const HeaderChecks> checks) {
    header_checks_ = std::move(checks);
  }

  // Binds every configured listener. Throws boost::system::system_error.
  void bind();
  void start();
  // Stops accepting; sessions finish their transaction, then get 421.
  void stop();
  unsigned active_connections() const { return *active_; }

 private:
  struct Listener {
    smtp::Endpoint endpoint;
    Service service;
    smtp::Acceptor acceptor;
  };
  boost::asio::awaitable<void> accept_loop(size_t index);
  boost::asio::awaitable<void> serve(smtp::Socket socket, Service service);
  boost::asio::awaitable<bool> write_all(ClientStream& stream, std::string out);
  // Verifies a finished AUTH exchange and answers it.
  boost::asio::awaitable<void> authenticate(smtp::ServerSession& session, std::string client_addr,
                                            std::string local_addr, bool secured);
  boost::asio::awaitable<smtp::Reply> queue_message(smtp::Transaction txn, Service service,
                                                    std::string client_addr,
                                                    const smtp::ServerSession& session);

  boost::asio::io_context& io_;
  const Config& config_;
  LocalDirectory& directory_;
  Qmgr& qmgr_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  Authenticator* auth_;
  std::shared_ptr<const HeaderChecks> header_checks_;
  AuthThrottle throttle_;
  std::vector<Listener> listeners_;
  std::shared_ptr<unsigned> active_ = std::make_shared<unsigned>(0);
  bool stopping_ = false;
};

// The Received field frontd puts on top of a message it accepts.
std::string received_field(std::string_view helo, std::string_view client_addr,
                           std::string_view myhostname, std::string_view protocol,
                           std::string_view queue_id, const smtp::Envelope& env, long long now);

}  // namespace filterd::frontd
