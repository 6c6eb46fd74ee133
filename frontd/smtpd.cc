// smtpd.cc — see smtpd.h.
#include "frontd/smtpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "frontd/address.h"
#include "frontd/mail_header.h"
#include "frontd/recipient_policy.h"
#include "policy/dsn.h"
#include "smtp/server_session.h"

namespace filterd::frontd {
namespace asio = boost::asio;
namespace {

const char* service_name(Service s) {
  switch (s) {
    case Service::kSmtp:
      return "smtp";
    case Service::kSubmission:
      return "submission";
    case Service::kSmtps:
      return "smtps";
    case Service::kReinjection:
      return "reinjection";
  }
  return "?";
}

// The address the client connected to ("" for non-IP sockets).
std::string local_address(smtp::Socket& s) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(s.native_handle(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  } else if (ss.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

// RFC 3848 protocol names for Received.
std::string protocol_name(const smtp::ServerSession& s) {
  std::string p = s.esmtp() ? "ESMTP" : "SMTP";
  if (s.esmtp() && s.tls_active()) p += "S";
  if (s.esmtp() && s.authenticated()) p += "A";
  return p;
}

std::string client_name(const std::string& addr) {
  return "unknown[" + (addr.empty() ? std::string("local") : addr) + "]";
}

}  // namespace

std::string received_field(std::string_view helo, std::string_view client_addr,
                           std::string_view myhostname, std::string_view protocol,
                           std::string_view queue_id, const smtp::Envelope& env, long long now) {
  std::string f = "Received: from " + printable(helo.empty() ? "unknown" : helo, 255) +
                  " (unknown [" + printable(client_addr, 64) + "])\r\n\tby " +
                  std::string(myhostname) + " (frontd) with " + std::string(protocol) + " id " +
                  std::string(queue_id);
  if (env.recipients.size() == 1) {
    f += "\r\n\tfor <" + printable(env.recipients.front().address, 256) + ">";
  }
  return f + "; " + policy::rfc5322_date(now) + "\r\n";
}

Smtpd::Smtpd(asio::io_context& io, const Config& config, LocalDirectory& directory, Qmgr& qmgr,
             std::shared_ptr<asio::ssl::context> tls, Authenticator* auth)
    : io_(io),
      config_(config),
      directory_(directory),
      qmgr_(qmgr),
      tls_(std::move(tls)),
      auth_(auth),
      throttle_(config.auth_failure_limit, config.auth_failure_window) {}

void Smtpd::bind() {
  auto add = [&](const std::vector<smtp::Endpoint>& eps, Service s) {
    for (const auto& ep : eps) {
      listeners_.push_back(Listener{ep, s, smtp::listen_on(io_.get_executor(), ep)});
      spdlog::info("{} service listening on {}:{}", service_name(s), ep.host, ep.port);
    }
  };
  add(config_.smtp_listen, Service::kSmtp);
  add(config_.submission_listen, Service::kSubmission);
  add(config_.smtps_listen, Service::kSmtps);
  add(config_.reinjection_listen, Service::kReinjection);
}

void Smtpd::start() {
  for (size_t i = 0; i < listeners_.size(); ++i) {
    asio::co_spawn(io_, accept_loop(i), asio::detached);
  }
}

void Smtpd::stop() {
  stopping_ = true;
  for (auto& l : listeners_) {
    boost::system::error_code ignored;
    l.acceptor.close(ignored);
  }
}

asio::awaitable<void> Smtpd::accept_loop(size_t index) {
  Listener& l = listeners_[index];
  while (!stopping_) {
    boost::system::error_code ec;
    smtp::Socket sock(io_);
    co_await l.acceptor.async_accept(sock, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      spdlog::warn("accept on {}:{}: {}", l.endpoint.host, l.endpoint.port, ec.message());
      continue;
    }
    if (*active_ >= config_.max_connections) {
      auto refused = std::make_shared<smtp::Socket>(std::move(sock));
      static const std::string kBusy =
          smtp::Reply{421, "4.3.2", "Service not available, too many connections"}.wire();
      asio::async_write(*refused, asio::buffer(kBusy),
                        [refused](boost::system::error_code, size_t) {
                          boost::system::error_code ignored;
                          refused->close(ignored);
                        });
      spdlog::warn("connection limit {} reached, refused {}", config_.max_connections,
                   client_name(smtp::peer_address(*refused)));
      continue;
    }
    sock.set_option(asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_NODELAY>(true), ec);
    asio::co_spawn(io_, serve(std::move(sock), l.service), asio::detached);
  }
}

asio::awaitable<bool> Smtpd::write_all(ClientStream& stream, std::string out) {
  if (out.empty()) co_return true;
  stream.guard().expires_after(config_.smtpd_timeout);
  const boost::system::error_code ec = co_await stream.write(std::move(out));
  co_return !ec;
}

asio::awaitable<void> Smtpd::authenticate(smtp::ServerSession& session, std::string client_addr,
                                          std::string local_addr, bool secured) {
  smtp::AuthRequest req = session.take_auth_request();
  const std::string client = client_name(client_addr);
  const std::string user = printable(req.credentials.authcid, 100);
  if (!throttle_.allowed(client_addr, AuthThrottle::Clock::now())) {
    spdlog::warn(
        "{}: SASL {} authentication refused: too many failed attempts, "
        "sasl_username={}",
        client, req.mechanism, user);
    session.finish_auth(
        smtp::Reply{454, "4.7.0", "Temporary authentication failure: too many failed attempts"},
        "");
    co_return;
  }
  // Named locals, not temporaries, as coroutine arguments: GCC 12 destroys
  // a temporary aggregate in a co_await expression twice.
  const AuthContext ctx{client_addr, local_addr, secured};
  smtp::PlainCredentials creds = std::move(req.credentials);
  AuthResult r = co_await auth_->authenticate(creds, ctx);
  std::fill(creds.password.begin(), creds.password.end(), '\0');
  switch (r.kind) {
    case AuthResult::Kind::kOk:
      session.finish_auth(smtp::Reply{235, "2.7.0", "Authentication successful"}, r.user);
      break;
    case AuthResult::Kind::kFail:
      throttle_.record_failure(client_addr, AuthThrottle::Clock::now());
      spdlog::warn("{}: SASL {} authentication failed: {}, sasl_username={}", client, req.mechanism,
                   printable(r.reason), user);
      session.finish_auth(smtp::Reply{535, "5.7.8", "Error: authentication failed"}, "");
      break;
    case AuthResult::Kind::kTempFail:
      spdlog::warn("{}: SASL {} authentication temporarily failed: {}, sasl_username={}", client,
                   req.mechanism, printable(r.reason), user);
      session.finish_auth(smtp::Reply{454, "4.7.0", "Temporary authentication failure"}, "");
      break;
  }
}

asio::awaitable<smtp::Reply> Smtpd::queue_message(smtp::Transaction txn, Service service,
                                                  std::string client_addr,
                                                  const smtp::ServerSession& session) {
  const std::string helo = session.helo();
  const std::string client = client_name(client_addr);
  QueuedMessage m;
  m.id = qmgr_.new_id();
  m.arrival_ms = now_ms();
  m.stage =
      service != Service::kReinjection && config_.content_filter ? Stage::kFilter : Stage::kDeliver;
  m.client = client;
  m.helo = helo;
  m.envelope = std::move(txn.envelope);
  for (auto& r : m.envelope.recipients) {
    r.address = qualify_postmaster(r.address, config_.postmaster_domain);
  }
  if (m.stage == Stage::kFilter && m.envelope.xforward.empty()) {
    // What the content filter logs and decides on (mynetworks, banks).
    smtp::XForward& x = m.envelope.xforward;
    x.name = "unknown";
    x.addr = client_addr;
    x.proto = protocol_name(session);
    x.helo = helo;
    x.source = "REMOTE";
  }
  m.data = received_field(helo, client_addr, config_.myhostname, protocol_name(session), m.id,
                          m.envelope, m.arrival_ms / 1000) +
           txn.data;
  // RFC 5321 §6.3: a message that went round too often is a loop; refuse it
  // here rather than bounce it later (no backscatter).
  if (const size_t hops = count_fields(m.data, "Received"); hops > config_.hopcount_limit) {
    spdlog::info(
        "NOQUEUE: reject: DATA from {}: 554 5.4.6 Too many hops ({} Received fields); "
        "from=<{}>",
        client, hops, printable(m.envelope.sender));
    co_return smtp::Reply{554, "5.4.6", "Error: too many hops"};
  }
  const std::shared_ptr<const HeaderChecks> checks = header_checks_;
  if (checks && service != Service::kReinjection) {
    HeaderChecks::Result hc = checks->apply(m.data);
    static constexpr const char* kNames[] = {"ignore",  "reject",  "warning", "discard",
                                             "replace", "prepend", "dunno"};
    const std::string to =
        m.envelope.recipients.empty() ? "" : printable(m.envelope.recipients.front().address);
    for (const auto& e : hc.events) {
      if (e.action == HeaderChecks::Action::kIgnore) continue;
      spdlog::info("{}: {}: header {} from {}; from=<{}> to=<{}> proto={} helo=<{}>: {}", m.id,
                   kNames[static_cast<int>(e.action)], e.header, client,
                   printable(m.envelope.sender), to, protocol_name(session), printable(helo),
                   printable(e.text));
    }
    if (hc.reject) co_return *hc.reject;
    if (hc.discard) co_return smtp::Reply{250, "2.0.0", "Ok: queued as " + m.id};
    m.data = std::move(hc.message);
  }
  const std::string message_id = printable(header_value(m.data, "Message-ID"));
  const size_t size = m.data.size(), nrcpt = m.envelope.recipients.size();
  const std::string sender = m.envelope.sender;
  auto queued = co_await qmgr_.enqueue(std::move(m));
  if (!queued) {
    spdlog::warn("NOQUEUE: queue file write error from {}: {}", client, queued.error());
    co_return smtp::Reply{451, "4.3.0", "Error: queue file write error"};
  }
  const std::string& id = *queued;
  if (session.authenticated()) {
    spdlog::info("{}: client={}, sasl_method={}, sasl_username={}", id, client,
                 session.auth_mechanism(), printable(session.auth_user(), 100));
  } else {
    spdlog::info("{}: client={}", id, client);
  }
  spdlog::info("{}: message-id={}", id, message_id);
  spdlog::info("{}: from=<{}>, size={}, nrcpt={} (queue active)", id, printable(sender, 300), size,
               nrcpt);
  co_return smtp::Reply{250, "2.0.0", "Ok: queued as " + id};
}

asio::awaitable<void> Smtpd::serve(smtp::Socket socket, Service service) {
  std::shared_ptr<unsigned> active = active_;
  ++*active;
  struct Leave {
    std::shared_ptr<unsigned> n;
    ~Leave() { --*n; }
  } leave{active};

  const std::string addr = smtp::peer_address(socket);
  const std::string local = local_address(socket);
  const std::string client = client_name(addr);
  ClientStream stream(smtp::GuardedSocket::create(std::move(socket)));
  spdlog::info("connect from {}", client);
  if (service == Service::kSmtps) {
    stream.guard().expires_after(config_.smtpd_timeout);
    const boost::system::error_code ec = co_await stream.handshake(tls_);
    if (ec) {
      spdlog::info("SSL_accept error from {}: {}", client, ec.message());
      stream.guard().close();
      spdlog::info("lost connection after CONNECT from {}", client);
      co_return;
    }
    spdlog::info("TLS connection established from {}: {}", client, stream.tls_description());
  }

  const bool submission = service == Service::kSubmission || service == Service::kSmtps;
  ClientTrust trust;
  trust.mynetworks = config_.mynetworks && config_.mynetworks->contains(addr);
  trust.reinjection = service == Service::kReinjection;
  trust.require_auth = submission;

  smtp::SessionOptions opts;
  opts.hostname = config_.myhostname;
  opts.banner = config_.smtpd_banner;
  opts.limits = config_.session_limits;
  opts.allow_xforward = service == Service::kReinjection;
  opts.tls_active = service == Service::kSmtps;
  opts.offer_starttls = tls_ && (service == Service::kSubmission ||
                                 (service == Service::kSmtp && config_.smtp_offer_starttls));
  if (auth_ && (submission || (service == Service::kSmtp && config_.smtp_sasl_auth_enable))) {
    opts.auth_mechanisms = "PLAIN LOGIN";
  }
  opts.auth_requires_tls = config_.tls_auth_only;
  opts.auth_broken_clients = config_.broken_sasl_auth_clients;
  smtp::ServerSession* self = nullptr;
  opts.check_recipient = [&](const smtp::Envelope& env,
                             const smtp::Recipient& r) -> std::optional<smtp::Reply> {
    const DirectorySnapshot dir = directory_.snapshot();
    ClientTrust now = trust;
    now.authenticated = self != nullptr && self->authenticated();
    auto refused = check_recipient(qualify_postmaster(r.address, config_.postmaster_domain), now,
                                   dir.tables());
    if (refused) {
      spdlog::info("NOQUEUE: reject: RCPT from {}: {}; from=<{}> to=<{}> proto={} helo=<{}>",
                   client, refused->one_line(), printable(env.sender, 300),
                   printable(r.address, 300), self ? protocol_name(*self) : "SMTP",
                   printable(self ? self->helo() : "", 255));
    }
    return refused;
  };
  smtp::ServerSession session(opts);
  self = &session;

  bool ok = co_await write_all(stream, session.greeting());
  char buf[64 * 1024];
  while (ok && !session.closed()) {
    if (stopping_ && session.state() == smtp::ServerSession::State::kCommand) {
      session.on_shutdown();
      break;
    }
    stream.guard().expires_after(session.state() == smtp::ServerSession::State::kData
                                     ? config_.data_timeout
                                     : config_.smtpd_timeout);
    auto [n, ec] = co_await stream.read_some(buf, sizeof buf);
    if (ec) {
      const char* when = session.state() == smtp::ServerSession::State::kData ? "DATA" : "command";
      if (stream.guard().timed_out()) {
        spdlog::info("timeout after {} from {}", when, client);
        session.on_timeout();
      } else {
        spdlog::info("lost connection after {} from {}", when, client);
      }
      break;  // never said 250 for a half-received message: the client retries
    }
    session.feed(std::string_view(buf, n));
    for (;;) {
      using State = smtp::ServerSession::State;
      if (session.transaction_ready()) {
        ok = co_await write_all(stream, session.take_output());
        if (!ok) break;
        stream.guard().expires_after(std::chrono::hours(1));  // bounded by the disk
        smtp::Transaction txn = session.take_transaction();
        smtp::Reply r = co_await queue_message(std::move(txn), service, addr, session);
        session.finish_data({r});
      } else if (session.state() == State::kAwaitingAuth) {
        ok = co_await write_all(stream, session.take_output());
        if (!ok) break;
        stream.guard().expires_after(std::chrono::minutes(2));  // the backend bounds its waits
        co_await authenticate(session, addr, local, stream.tls());
      } else if (session.state() == State::kStartTls) {
        ok = co_await write_all(stream, session.take_output());
        if (!ok) break;
        stream.guard().expires_after(config_.smtpd_timeout);
        const boost::system::error_code hs = co_await stream.handshake(tls_);
        if (hs) {
          spdlog::info("SSL_accept error from {}: {}", client, hs.message());
          ok = false;
          break;
        }
        spdlog::info("TLS connection established from {}: {}", client, stream.tls_description());
        session.tls_started();
      } else {
        break;
      }
    }
    if (ok) ok = co_await write_all(stream, session.take_output());
  }
  if (session.closed()) (void)co_await write_all(stream, session.take_output());
  stream.guard().close();
  spdlog::info("disconnect from {} {}", client, session.command_counts().summary());
}

}  // namespace filterd::frontd
