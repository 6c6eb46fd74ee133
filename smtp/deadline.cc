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
  armed_ = true;
  timer_.async_wait([self = shared_from_this()](boost::system::error_code) {
    self->armed_ = false;
    if (self->closed_ || self->idle_) return;
    if (self->timer_.expiry() <= std::chrono::steady_clock::now()) {
      // Cancel rather than close: the owner may still say goodbye
      // ("421 4.4.2 timeout") under a fresh deadline before closing.
      self->timed_out_ = true;
      boost::system::error_code ignored;
      self->socket_.cancel(ignored);
      return;  // re-armed by the next expires_after()
    }
    self->arm();  // the deadline moved; wait for the new one
  });
}

void GuardedSocket::expires_after(std::chrono::steady_clock::duration d) {
  idle_ = false;
  timer_.expires_after(d);  // cancels a pending wait, whose handler re-arms
  if (!armed_ && !closed_) arm();
}

void GuardedSocket::disarm() {
  idle_ = true;
  timer_.cancel();
}

void GuardedSocket::close() {
  closed_ = true;
  timer_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace filterd::smtp
