// deadline.cc — see deadline.h.
#include "smtp/deadline.h"

namespace filterd::smtp {

std::shared_ptr<GuardedSocket> GuardedSocket::create(Socket socket) {
  std::shared_ptr<GuardedSocket> g(new GuardedSocket(std::move(socket)));
  g->arm();
  return g;
}

GuardedSocket::GuardedSocket(Socket socket)
    : socket_(std::move(socket)), timer_(socket_.get_executor()) {
  timer_.expires_at(std::chrono::steady_clock::time_point::max());
}

void GuardedSocket::arm() {
  timer_.async_wait([self = shared_from_this()](boost::system::error_code) {
    if (self->closed_) return;
    if (self->timer_.expiry() <= std::chrono::steady_clock::now()) {
      self->timed_out_ = true;
      boost::system::error_code ignored;
      self->socket_.close(ignored);
      return;
    }
    self->arm();  // the deadline moved; wait for the new one
  });
}

void GuardedSocket::expires_after(std::chrono::steady_clock::duration d) {
  timer_.expires_after(d);  // cancels the pending wait, which re-arms
}

void GuardedSocket::close() {
  closed_ = true;
  timer_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace filterd::smtp
