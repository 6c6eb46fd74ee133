// deadline.h — a socket with a deadline: when the deadline passes, every
// pending operation on the socket is cancelled and fails; the socket stays
// open so the owner can still send a last reply under a new deadline. This is how
// every network wait in filterd gets its timeout (RFC 5321 §4.5.3.2 times).
//
// Thread safety: all members must be used from the socket's executor.
#pragma once

#include <chrono>
#include <memory>

#include "smtp/asio.h"
#include "smtp/endpoint.h"

namespace filterd::smtp {

class GuardedSocket : public std::enable_shared_from_this<GuardedSocket> {
 public:
  // Starts the watchdog; the deadline is "never" until set().
  static std::shared_ptr<GuardedSocket> create(Socket socket);

  Socket& socket() { return socket_; }
  // Sets the deadline to now + d. Call before each network wait.
  void expires_after(std::chrono::steady_clock::duration d);
  // No deadline until the next expires_after(): for a socket kept idle
  // (a cached session), which then holds no timer.
  void disarm();
  // True once a deadline passed (stays true).
  bool timed_out() const { return timed_out_; }
  // Stops the watchdog and closes the socket. Owners must call it (the
  // watchdog keeps the object alive while a deadline is armed).
  void close();

 private:
  explicit GuardedSocket(Socket socket);
  void arm();

  Socket socket_;
  boost::asio::steady_timer timer_;
  bool timed_out_ = false;
  bool armed_ = false;
  bool idle_ = false;
  bool closed_ = false;
};

}  // namespace filterd::smtp
