// server.h — filterd's listeners: accepts connections from the MTA on every
// configured endpoint and enforces the connection limit (421 4.3.2) and the
// idle timeouts. An after-queue connection runs one ServerSession and hands
// each complete transaction to the Processor; a proxy connection runs a
// ProxySession (proxy.h), a milter connection a MilterSession (milter.h).
//
// Thread safety: everything runs on the io_context's single thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "filterd/config.h"
#include "filterd/processor.h"
#include "smtp/asio.h"
#include "smtp/deadline.h"
#include "smtp/endpoint.h"

namespace filterd {

// Gives a unix-domain listen socket config.unix_socket_mode and
// config.unix_socket_group. Throws boost::system::system_error.
void set_unix_socket_access(const Config& config, const std::string& path);

class Server {
 public:
  // REQUIRES: config and processor outlive the Server.
  Server(boost::asio::io_context& io, const Config& config, Processor& processor);

  // Binds every listener. Throws boost::system::system_error (start-up only).
  void bind();
  // Starts accepting on the bound listeners.
  void start();
  // Stops accepting; connections in progress finish their current
  // transaction and then get 421.
  void stop();

  unsigned active_connections() const { return *active_; }

  // What a listener serves.
  enum class Kind { kAfterQueue, kProxy, kMilter };

 private:
  struct Listener {
    smtp::Endpoint endpoint;
    Kind kind;
    smtp::Acceptor acceptor;
  };
  boost::asio::awaitable<void> accept_loop(size_t index);
  boost::asio::awaitable<void> dispatch(smtp::Socket socket, Kind kind, smtp::Protocol protocol);
  boost::asio::awaitable<void> serve(smtp::Socket socket, smtp::Protocol protocol);

  boost::asio::io_context& io_;
  const Config& config_;
  Processor& processor_;
  std::vector<Listener> listeners_;
  std::shared_ptr<unsigned> active_ = std::make_shared<unsigned>(0);
  bool stopping_ = false;
};

}  // namespace filterd
