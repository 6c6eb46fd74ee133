// endpoint.h — "smtp:HOST:PORT", "lmtp:HOST:PORT", "lmtp:unix:PATH" (and
// "smtp:unix:PATH"), as written in filterd.conf for `listen` and `forward`,
// plus Asio helpers to listen on and connect to them.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "smtp/asio.h"
#include "smtp/server_session.h"

namespace filterd::smtp {

struct Endpoint {
  Protocol protocol = Protocol::kSmtp;
  std::string host;  // IP literal or name; empty for unix sockets
  uint16_t port = 0;
  std::string unix_path;  // set for unix-domain sockets

  bool is_unix() const { return !unix_path.empty(); }
  std::string str() const;  // back to the config form
};

// Parses the config form. IPv6 hosts are written in brackets: smtp:[::1]:25.
std::expected<Endpoint, std::string> parse_endpoint(std::string_view spec);

using Socket = boost::asio::generic::stream_protocol::socket;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol>;

// Opens a listening socket (SO_REUSEADDR; an existing unix socket file is
// replaced). Throws boost::system::system_error: start-up only.
Acceptor listen_on(boost::asio::any_io_executor ex, const Endpoint& ep, int backlog = 128);

// Connects to `ep`, resolving a host name if needed, giving up on each
// address after `timeout`. Errors are returned, not thrown.
boost::asio::awaitable<std::expected<Socket, std::string>> connect_to(
    const Endpoint& ep, std::chrono::steady_clock::duration timeout);

// "[127.0.0.1]:41234" for logs; "unix" for unix sockets.
std::string peer_name(const Socket& s);
// The peer's address only ("127.0.0.1"), or "" for unix sockets.
std::string peer_address(const Socket& s);
// The local TCP port the peer connected to, or 0 for unix sockets.
unsigned local_port(const Socket& s);

}  // namespace filterd::smtp
