// smtpd.cc — see smtpd.h.
#include "frontd/smtpd.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>

#include "frontd/mail_header.h"
#include "frontd/recipient_policy.h"
#include "policy/dsn.h"
#include "smtp/server_session.h"

namespace filterd::frontd {
namespace asio = boost::asio;
namespace {

const char* service_name(Service s) {
  return s == Service::kSmtp ? "smtp" : "reinjection";
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

Smtpd::Smtpd(asio::io_context& io, const Config& config, LocalDirectory& directory, Qmgr& qmgr)
    : io_(io), config_(config), directory_(directory), qmgr_(qmgr) {}

void Smtpd::bind() {
  auto add = [&](const std::vector<smtp::Endpoint>& eps, Service s) {
    for (const auto& ep : eps) {
      listeners_.push_back(Listener{ep, s, smtp::listen_on(io_.get_executor(), ep)});
      spdlog::info("{} service listening on {}:{}", service_name(s), ep.host, ep.port);
    }
  };
  add(config_.smtp_listen, Service::kSmtp);
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

asio::awaitable<bool> Smtpd::write_all(smtp::GuardedSocket& conn, std::string out) {
  if (out.empty()) co_return true;
  boost::system::error_code ec;
  conn.expires_after(config_.smtpd_timeout);
  co_await asio::async_write(conn.socket(), asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<smtp::Reply> Smtpd::queue_message(smtp::Transaction txn, Service service,
                                                  std::string client_addr, std::string helo,
                                                  bool esmtp) {
  const std::string client = client_name(client_addr);
  QueuedMessage m;
  m.id = qmgr_.new_id();
  m.arrival_ms = now_ms();
  m.stage = service == Service::kSmtp && config_.content_filter ? Stage::kFilter : Stage::kDeliver;
  m.client = client;
  m.helo = helo;
  m.envelope = std::move(txn.envelope);
  if (m.stage == Stage::kFilter && m.envelope.xforward.empty()) {
    // What the content filter logs and decides on (mynetworks, banks).
    smtp::XForward& x = m.envelope.xforward;
    x.name = "unknown";
    x.addr = client_addr;
    x.proto = esmtp ? "ESMTP" : "SMTP";
    x.helo = helo;
    x.source = "REMOTE";
  }
  m.data = received_field(helo, client_addr, config_.myhostname, esmtp ? "ESMTP" : "SMTP", m.id,
                          m.envelope, m.arrival_ms / 1000) +
           txn.data;
  const std::string message_id = printable(header_value(m.data, "Message-ID"));
  const size_t size = m.data.size(), nrcpt = m.envelope.recipients.size();
  const std::string sender = m.envelope.sender;
  auto queued = co_await qmgr_.enqueue(std::move(m));
  if (!queued) {
    spdlog::warn("NOQUEUE: queue file write error from {}: {}", client, queued.error());
    co_return smtp::Reply{451, "4.3.0", "Error: queue file write error"};
  }
  const std::string& id = *queued;
  spdlog::info("{}: client={}", id, client);
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
  const std::string client = client_name(addr);
  auto conn = smtp::GuardedSocket::create(std::move(socket));
  ClientTrust trust;
  trust.mynetworks = config_.mynetworks && config_.mynetworks->contains(addr);
  trust.reinjection = service == Service::kReinjection;

  smtp::SessionOptions opts;
  opts.hostname = config_.myhostname;
  opts.banner = config_.smtpd_banner;
  opts.limits = config_.session_limits;
  opts.allow_xforward = service == Service::kReinjection;
  smtp::ServerSession* self = nullptr;
  opts.check_recipient = [&](const smtp::Envelope& env,
                             const smtp::Recipient& r) -> std::optional<smtp::Reply> {
    const DirectorySnapshot dir = directory_.snapshot();
    auto refused = check_recipient(r.address, trust, dir.tables());
    if (refused) {
      spdlog::info("NOQUEUE: reject: RCPT from {}: {}; from=<{}> to=<{}> proto={} helo=<{}>",
                   client, refused->one_line(), printable(env.sender, 300),
                   printable(r.address, 300), self && self->esmtp() ? "ESMTP" : "SMTP",
                   printable(self ? self->helo() : "", 255));
    }
    return refused;
  };
  smtp::ServerSession session(opts);
  self = &session;
  spdlog::info("connect from {}", client);

  bool ok = co_await write_all(*conn, session.greeting());
  char buf[64 * 1024];
  while (ok && !session.closed()) {
    if (stopping_ && session.state() == smtp::ServerSession::State::kCommand) {
      session.on_shutdown();
      break;
    }
    conn->expires_after(session.state() == smtp::ServerSession::State::kData
                            ? config_.data_timeout
                            : config_.smtpd_timeout);
    boost::system::error_code ec;
    size_t n = co_await conn->socket().async_read_some(
        asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (conn->timed_out()) {
        spdlog::info("timeout after {} from {}",
                     session.state() == smtp::ServerSession::State::kData ? "DATA" : "command",
                     client);
        session.on_timeout();
      } else {
        spdlog::info("lost connection after {} from {}",
                     session.state() == smtp::ServerSession::State::kData ? "DATA" : "command",
                     client);
      }
      break;  // never said 250 for a half-received message: the client retries
    }
    session.feed(std::string_view(buf, n));
    while (ok && session.transaction_ready()) {
      ok = co_await write_all(*conn, session.take_output());
      if (!ok) break;
      conn->expires_after(std::chrono::hours(1));  // disk writes are bounded by the disk
      smtp::Reply r = co_await queue_message(session.take_transaction(), service, addr,
                                             session.helo(), session.esmtp());
      session.finish_data({r});
    }
    if (ok) ok = co_await write_all(*conn, session.take_output());
  }
  if (session.closed()) (void)co_await write_all(*conn, session.take_output());
  conn->close();
  spdlog::info("disconnect from {} {}", client, session.command_counts().summary());
}

}  // namespace filterd::frontd
