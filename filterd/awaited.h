// awaited.h — a value one coroutine waits for and another coroutine (or a
// handler posted back from a worker thread) delivers, on one executor; the
// wait may have a deadline. The wake-up is a steady_timer that set()
// cancels.
//
// Thread safety: use from one executor; workers post to it to call set().
#pragma once

#include <chrono>
#include <optional>

#include "smtp/asio.h"

namespace filterd {

template <typename T>
class Awaited {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Awaited(const boost::asio::any_io_executor& ex) : timer_(ex, Clock::time_point::max()) {}

  // Delivers the value and wakes the waiter.
  void set(T v) {
    value_ = std::move(v);
    timer_.cancel();
  }

  // Returns once the value is there, or `timeout` (if any) has passed.
  boost::asio::awaitable<void> wait(std::optional<Clock::duration> timeout = std::nullopt) {
    if (value_) co_return;
    if (timeout) timer_.expires_after(*timeout);
    boost::system::error_code ignored;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
  }

  std::optional<T>& value() { return value_; }
  boost::asio::any_io_executor executor() { return timer_.get_executor(); }

 private:
  boost::asio::steady_timer timer_;
  std::optional<T> value_;
};

}  // namespace filterd
