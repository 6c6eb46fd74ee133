// connection_cache.h — idle SMTP/LMTP sessions to next hops, kept after a
// delivery for the next message (Postfix's scache): a cached session saves
// a connect, the greeting and EHLO per message, on both sides.
//
// Contract:
//  * put() keeps a session that ended a transaction cleanly (after the
//    end-of-data reply or a successful RSET); take() hands it out once.
//  * A session is kept at most `idle_time` and used at most `max_uses`
//    times; at most `max_idle` are kept (the oldest closed first). Expired
//    sessions are closed lazily, on the next take() or put().
//  * A cached session may have been closed by the peer meanwhile: the
//    client must treat a failure before the first envelope reply as
//    "stale" and retry on a fresh connection (nothing was accepted yet).
//  * Not thread-safe: use from one executor (filterd's I/O thread).
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "smtp/client_connection.h"
#include "smtp/endpoint.h"

namespace filterd::smtp {

struct CachedSession {
  std::unique_ptr<ClientConnection> conn;
  Extensions ext;     // what its EHLO offered
  unsigned uses = 0;  // transactions made on it so far
  std::chrono::steady_clock::time_point idle_since;
};

class ConnectionCache {
 public:
  struct Limits {
    size_t max_idle = 16;
    std::chrono::seconds idle_time{5};  // far below Postfix's smtpd_timeout (300 s)
    unsigned max_uses = 100;            // Postfix's smtp_connection_reuse_count_limit spirit
  };
  ConnectionCache() = default;
  explicit ConnectionCache(Limits limits) : limits_(limits) {}

  // An idle session to `hop`, or nullopt.
  std::optional<CachedSession> take(const Endpoint& hop);
  // Keeps `s` unless it is used up; otherwise (or when full) closes it.
  void put(CachedSession s);

  // QUITs every idle session (in the background).
  void clear();

  size_t idle() const { return idle_.size(); }
  const Limits& limits() const { return limits_; }

 private:
  void expire(std::chrono::steady_clock::time_point now);

  Limits limits_;
  std::deque<CachedSession> idle_;  // oldest first
};

}  // namespace filterd::smtp
