// session_loop.h — the socket side of one SMTP/LMTP session, shared by the
// after-queue listener (server.cc) and the before-queue proxy (proxy.cc):
// the greeting, reads with the idle timeouts (smtp_timeout, data_timeout
// while in DATA), writes, and 421 on timeout or shutdown.
//
// Whenever the session waits for its owner — a transaction is ready, or in
// relay mode a command is to be relayed — drive_session() awaits
// `serve_owner`, which completes that wait (finish_data(), finish_relay())
// and returns false when the connection must end (the peer is gone). It is
// given how long the client took from DATA's 354 to the final dot (for a
// transaction's receive_time; zero in relay mode).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "filterd/config.h"
#include "smtp/asio.h"
#include "smtp/deadline.h"
#include "smtp/server_session.h"

namespace filterd {

// Writes `out` within `timeout`; false when the peer is gone. Nothing to
// write is success.
boost::asio::awaitable<bool> write_to(smtp::GuardedSocket& conn, std::string out,
                                      std::chrono::seconds timeout);

// Runs `session` over `conn` until either side ends it. `stopping` turns
// true when the daemon shuts down: a session between transactions then
// gets 421. REQUIRES: all references outlive the coroutine.
boost::asio::awaitable<void> drive_session(
    smtp::GuardedSocket& conn, smtp::ServerSession& session, const Config& config,
    const bool& stopping, std::string peer,
    std::function<boost::asio::awaitable<bool>(std::chrono::steady_clock::duration receive)>
        serve_owner);

}  // namespace filterd
