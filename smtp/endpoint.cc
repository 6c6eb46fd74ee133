// endpoint.cc — see endpoint.h.
#include "smtp/endpoint.h"

#include <netinet/tcp.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <memory>

namespace filterd::smtp {
namespace asio = boost::asio;
using asio::ip::tcp;

std::string Endpoint::str() const {
  std::string out = protocol == Protocol::kLmtp ? "lmtp:" : "smtp:";
  if (is_unix()) return out + "unix:" + unix_path;
  bool v6 = host.find(':') != std::string::npos;
  return out + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::expected<Endpoint, std::string> parse_endpoint(std::string_view spec) {
  Endpoint ep;
  if (spec.starts_with("smtp:")) {
    ep.protocol = Protocol::kSmtp;
  } else if (spec.starts_with("lmtp:")) {
    ep.protocol = Protocol::kLmtp;
  } else {
    return std::unexpected("expected smtp:HOST:PORT, lmtp:HOST:PORT or lmtp:unix:PATH, got '" +
                           std::string(spec) + "'");
  }
  std::string_view rest = spec.substr(5);
  if (rest.starts_with("unix:")) {
    ep.unix_path = std::string(rest.substr(5));
    if (ep.unix_path.empty() || ep.unix_path.front() != '/') {
      return std::unexpected("unix socket path must be absolute in '" + std::string(spec) + "'");
    }
    return ep;
  }
  size_t colon;
  if (rest.starts_with("[")) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return std::unexpected("bad [IPv6]:PORT in '" + std::string(spec) + "'");
    }
    ep.host = std::string(rest.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return std::unexpected("missing HOST:PORT in '" + std::string(spec) + "'");
    }
    ep.host = std::string(rest.substr(0, colon));
  }
  std::string_view port = rest.substr(colon + 1);
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) {
    return std::unexpected("bad port in '" + std::string(spec) + "'");
  }
  ep.port = static_cast<uint16_t>(p);
  return ep;
}

Acceptor listen_on(asio::any_io_executor ex, const Endpoint& ep, int backlog) {
  Acceptor acc(ex);
  asio::generic::stream_protocol::endpoint gep;
  if (ep.is_unix()) {
    std::error_code ignored;
    std::filesystem::remove(ep.unix_path, ignored);
    gep = asio::local::stream_protocol::endpoint(ep.unix_path);
  } else {
    gep = tcp::endpoint(asio::ip::make_address(ep.host), ep.port);
  }
  acc.open(gep.protocol());
  if (!ep.is_unix()) acc.set_option(asio::socket_base::reuse_address(true));
  acc.bind(gep);
  acc.listen(backlog);
  return acc;
}

namespace {

// One connect attempt, closed by a timer if it takes longer than `timeout`.
asio::awaitable<boost::system::error_code> connect_one(
    std::shared_ptr<Socket> s, const asio::generic::stream_protocol::endpoint& to,
    std::chrono::steady_clock::duration timeout) {
  asio::steady_timer timer(s->get_executor());
  timer.expires_after(timeout);
  timer.async_wait([s](boost::system::error_code ec) {
    if (!ec) s->close(ec);
  });
  boost::system::error_code ec;
  co_await s->async_connect(to, asio::redirect_error(asio::use_awaitable, ec));
  timer.cancel();
  co_return ec;
}

}  // namespace

asio::awaitable<std::expected<Socket, std::string>> connect_to(
    const Endpoint& ep, std::chrono::steady_clock::duration timeout) {
  auto ex = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  if (ep.is_unix()) {
    auto s = std::make_shared<Socket>(ex);
    ec = co_await connect_one(s, asio::local::stream_protocol::endpoint(ep.unix_path), timeout);
    if (ec) co_return std::unexpected("connect to " + ep.unix_path + ": " + ec.message());
    co_return std::move(*s);
  }
  std::vector<tcp::endpoint> candidates;
  auto addr = asio::ip::make_address(ep.host, ec);
  if (!ec) {
    candidates.emplace_back(addr, ep.port);
  } else {
    tcp::resolver resolver(ex);
    auto results = co_await resolver.async_resolve(ep.host, std::to_string(ep.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::unexpected("resolve " + ep.host + ": " + ec.message());
    for (const auto& r : results) candidates.push_back(r.endpoint());
  }
  std::string last_error = "no address for " + ep.host;
  for (const auto& c : candidates) {
    auto s = std::make_shared<Socket>(ex);
    ec = co_await connect_one(s, c, timeout);
    if (!ec) {
      // Replies are small and latency-bound.
      s->set_option(asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_NODELAY>(true), ec);
      co_return std::move(*s);
    }
    last_error = "connect to " + ep.str() + ": " + ec.message();
  }
  co_return std::unexpected(last_error);
}

std::string peer_name(const Socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown";
  if (ep.protocol().family() == AF_INET || ep.protocol().family() == AF_INET6) {
    const auto* sa = ep.data();
    tcp::endpoint t;
    std::memcpy(t.data(), sa, std::min<size_t>(ep.size(), sizeof(sockaddr_storage)));
    t.resize(ep.size());
    return "[" + t.address().to_string() + "]:" + std::to_string(t.port());
  }
  return "unix";
}

std::string peer_address(const Socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec || (ep.protocol().family() != AF_INET && ep.protocol().family() != AF_INET6)) return "";
  tcp::endpoint t;
  std::memcpy(t.data(), ep.data(), std::min<size_t>(ep.size(), sizeof(sockaddr_storage)));
  t.resize(ep.size());
  return t.address().to_string();
}

unsigned local_port(const Socket& s) {
  boost::system::error_code ec;
  auto ep = s.local_endpoint(ec);
  if (ec || (ep.protocol().family() != AF_INET && ep.protocol().family() != AF_INET6)) return 0;
  tcp::endpoint t;
  std::memcpy(t.data(), ep.data(), std::min<size_t>(ep.size(), sizeof(sockaddr_storage)));
  t.resize(ep.size());
  return t.port();
}

}  // namespace filterd::smtp
