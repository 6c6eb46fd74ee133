// deadline.h — a socket with a deadline: when the deadline passes, the
// socket is closed, so whatever read or write is pending fails. This is how
// every network wait in filterd gets its timeout (RFC 5321 §4.5.3.2 times).
//
// Thread safety: all members must be used from the socket's executor.
#pragma once

#include "smtp/asio.h"
#include <chrono>
#include <memory>

#include "smtp/endpoint.h"

namespace filterd::smtp {

class GuardedSocket : public std::enable_shared_from_this<GuardedSocket> {
 public:
  // Starts the watchdog; the deadline is "never" until set().
  static std::shared_ptr<GuardedSocket> create(Socket socket);

  Socket& socket() { return socket_; }
  // Sets the deadline to now + d. Call before each network wait.
  void expires_after(std::chrono::steady_clock::duration d);
  // True once the deadline closed the socket.
  bool timed_out() const { return timed_out_; }
  // Stops the watchdog and closes the socket.
  void close();

 private:
  explicit GuardedSocket(Socket socket);
  void arm();

  Socket socket_;
  boost::asio::steady_timer timer_;
  bool timed_out_ = false;
  bool closed_ = false;
};

}  // namespace filterd::smtp
