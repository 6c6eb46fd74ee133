// server.cc — see server.h.
#include "filterd/server.h"

#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filterd/milter.h"
#include "filterd/proxy.h"
#include "filterd/session_loop.h"
#include "smtp/deadline.h"
#include "smtp/server_session.h"

namespace filterd {
namespace asio = boost::asio;

Server::Server(asio::io_context& io, const Config& config, Processor& processor)
    : io_(io), config_(config), processor_(processor) {}

void Server::bind() {
  auto add = [&](const smtp::Endpoint& ep, Kind kind, std::string_view what) {
    listeners_.push_back({ep, kind, smtp::listen_on(io_.get_executor(), ep)});
    if (ep.is_unix()) set_unix_socket_access(config_, ep.unix_path);
    // A milter address is written as in Postfix's smtpd_milters.
    std::string where = ep.str();
    if (kind == Kind::kMilter && where.starts_with("smtp:")) {
      where = (ep.is_unix() ? "" : "inet:") + where.substr(5);
    }
    spdlog::info("listening on {}{}", where, what);
  };
  for (const auto& ep : config_.listen) add(ep, Kind::kAfterQueue, "");
  for (const auto& ep : config_.proxy_listen) add(ep, Kind::kProxy, " (before-queue proxy)");
  for (const auto& ep : config_.milter_listen) add(ep, Kind::kMilter, " (milter)");
}

// The MTA's client (Postfix's lmtp runs as user postfix) must be able to
// connect: mode and group from config, like amavis's $unix_socket_mode.
void set_unix_socket_access(const Config& config, const std::string& path) {
  if (!config.unix_socket_group.empty()) {
    group* g = getgrnam(config.unix_socket_group.c_str());
    if (g == nullptr || chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
      throw boost::system::system_error(errno, boost::system::system_category(),
                                        "chgrp " + path + " " + config.unix_socket_group);
    }
  }
  if (chmod(path.c_str(), config.unix_socket_mode) != 0) {
    throw boost::system::system_error(errno, boost::system::system_category(), "chmod " + path);
  }
}

void Server::start() {
  for (size_t i = 0; i < listeners_.size(); ++i) {
    asio::co_spawn(io_, accept_loop(i), asio::detached);
  }
}

void Server::stop() {
  stopping_ = true;
  for (auto& l : listeners_) {
    boost::system::error_code ignored;
    l.acceptor.close(ignored);
  }
}

asio::awaitable<void> Server::accept_loop(size_t index) {
  Listener& l = listeners_[index];
  const smtp::Protocol protocol = l.endpoint.protocol;
  while (!stopping_) {
    boost::system::error_code ec;
    smtp::Socket sock(io_);
    co_await l.acceptor.async_accept(sock, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      spdlog::warn("accept on {}: {}", l.endpoint.str(), ec.message());
      continue;  // EMFILE and friends: keep serving the connections we have
    }
    if (*active_ >= config_.max_connections && l.kind != Kind::kMilter) {
      // Answer the refusal without blocking the accept loop. (A milter
      // client is not refused: it speaks no SMTP, and a closed socket makes
      // Postfix apply milter_default_action, which a 421 would not help.)
      auto refused = std::make_shared<smtp::Socket>(std::move(sock));
      static const std::string kBusy =
          smtp::Reply{421, "4.3.2", "Service not available, too many connections"}.wire();
      asio::async_write(*refused, asio::buffer(kBusy),
                        [refused](boost::system::error_code, size_t) {
                          boost::system::error_code ignored;
                          refused->close(ignored);
                        });
      spdlog::warn("connection limit {} reached, refused {}", config_.max_connections,
                   smtp::peer_name(*refused));
      continue;
    }
    if (!l.endpoint.is_unix()) {
      // Replies are small and each one is awaited by the MTA.
      sock.set_option(asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_NODELAY>(true), ec);
    }
    asio::co_spawn(io_, dispatch(std::move(sock), l.kind, protocol), asio::detached);
  }
}

asio::awaitable<void> Server::dispatch(smtp::Socket socket, Kind kind, smtp::Protocol protocol) {
  // The counter is shared with the coroutine frame: frames still pending
  // when the io_context is torn down are destroyed after the Server.
  std::shared_ptr<unsigned> active = active_;
  ++*active;
  struct Leave {
    std::shared_ptr<unsigned> n;
    ~Leave() { --*n; }
  } leave{active};
  switch (kind) {
    case Kind::kAfterQueue:
      co_await serve(std::move(socket), protocol);
      break;
    case Kind::kProxy:
      co_await serve_proxy(std::move(socket), config_, processor_, stopping_);
      break;
    case Kind::kMilter:
      co_await serve_milter(std::move(socket), config_, processor_, stopping_);
      break;
  }
}

asio::awaitable<void> Server::serve(smtp::Socket socket, smtp::Protocol protocol) {
  const ClientInfo client{smtp::peer_name(socket), smtp::peer_address(socket),
                          smtp::local_port(socket)};
  auto conn = smtp::GuardedSocket::create(std::move(socket));
  smtp::SessionOptions opts;
  opts.protocol = protocol;
  opts.hostname = config_.myhostname;
  opts.limits = config_.session_limits;
  smtp::ServerSession session(opts);
  spdlog::debug("connect from {}", client.peer);
  co_await drive_session(
      *conn, session, config_, stopping_, client.peer,
      [&](std::chrono::steady_clock::duration receive) -> asio::awaitable<bool> {
        const bool written = co_await write_to(*conn, session.take_output(), config_.smtp_timeout);
        if (!written) co_return false;
        conn->expires_after(std::chrono::hours(24));  // the processor bounds its own waits
        smtp::Transaction txn = session.take_transaction();
        txn.receive_time = receive;
        auto replies = co_await processor_.process(std::move(txn), protocol, client);
        session.finish_data(replies);
        co_return true;
      });
  spdlog::debug("disconnect from {} transactions={} errors={}", client.peer, session.transactions(),
                session.errors());
}

}  // namespace filterd
