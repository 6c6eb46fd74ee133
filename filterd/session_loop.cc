// session_loop.cc — see session_loop.h.
#include "filterd/session_loop.h"

#include <spdlog/spdlog.h>

#include "filterd/receive_stopwatch.h"

namespace filterd {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using State = smtp::ServerSession::State;

asio::awaitable<bool> write_to(smtp::GuardedSocket& conn, std::string out,
                               std::chrono::seconds timeout) {
  if (out.empty()) co_return true;
  boost::system::error_code ec;
  conn.expires_after(timeout);
  co_await asio::async_write(conn.socket(), asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> drive_session(
    smtp::GuardedSocket& conn, smtp::ServerSession& session, const Config& config,
    const bool& stopping, std::string peer,
    std::function<asio::awaitable<bool>(Clock::duration)> serve_owner) {
  bool ok = co_await write_to(conn, session.greeting(), config.smtp_timeout);
  // Started when the session is seen in DATA: the 354 goes out with the
  // reply to the bytes that got it there.
  ReceiveStopwatch receive_time;
  char buf[64 * 1024];
  while (ok && !session.closed()) {
    if (stopping && session.state() == State::kCommand) {
      session.on_shutdown();
      break;
    }
    conn.expires_after(session.state() == State::kData ? config.data_timeout : config.smtp_timeout);
    boost::system::error_code ec;
    const size_t n = co_await conn.socket().async_read_some(
        asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (conn.timed_out()) {
        spdlog::info("timeout after {} from {}",
                     session.state() == State::kData ? "DATA" : "command", peer);
        session.on_timeout();  // 421 4.4.2, written below
      }
      break;  // a lost connection mid-transaction: we never said 250, the MTA retries
    }
    session.feed(std::string_view(buf, n));
    receive_time.note(session, Clock::now());
    while (ok && (session.transaction_ready() || session.state() == State::kAwaitingRelay)) {
      Clock::duration receive{};
      if (session.transaction_ready()) receive = receive_time.stop(Clock::now());
      ok = co_await serve_owner(receive);
      receive_time.note(session, Clock::now());  // pipelined input may have begun DATA
    }
    if (ok) ok = co_await write_to(conn, session.take_output(), config.smtp_timeout);
  }
  if (session.closed()) (void)co_await write_to(conn, session.take_output(), config.smtp_timeout);
  conn.close();
}

}  // namespace filterd
