// connection_cache.cc — see connection_cache.h.
#include "smtp/connection_cache.h"

#include <algorithm>

namespace filterd::smtp {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// QUIT in the background, so that the peer logs a clean end, not a lost
// connection.
asio::awaitable<void> say_goodbye(std::unique_ptr<ClientConnection> conn) {
  co_await conn->quit();
}

void retire(CachedSession& s) {
  auto ex = s.conn->executor();
  if (!ex) {
    s.conn->close();
    return;
  }
  asio::co_spawn(*ex, say_goodbye(std::move(s.conn)), asio::detached);
}

}  // namespace

void ConnectionCache::expire(Clock::time_point now) {
  while (!idle_.empty() && now - idle_.front().idle_since >= limits_.idle_time) {
    retire(idle_.front());
    idle_.pop_front();
  }
}

std::optional<CachedSession> ConnectionCache::take(const Endpoint& hop) {
  expire(Clock::now());
  const std::string key = hop.str();
  // The most recently used first: the least likely to have been closed.
  auto it = std::find_if(idle_.rbegin(), idle_.rend(),
                         [&](const CachedSession& s) { return s.conn->hop().str() == key; });
  if (it == idle_.rend()) return std::nullopt;
  CachedSession s = std::move(*it);
  idle_.erase(std::next(it).base());
  return s;
}

void ConnectionCache::put(CachedSession s) {
  const auto now = Clock::now();
  expire(now);
  if (s.uses >= limits_.max_uses || limits_.max_idle == 0) {
    retire(s);
    return;
  }
  if (idle_.size() >= limits_.max_idle) {
    retire(idle_.front());
    idle_.pop_front();
  }
  s.idle_since = now;
  s.conn->idle();
  idle_.push_back(std::move(s));
}

void ConnectionCache::clear() {
  for (CachedSession& s : idle_) retire(s);
  idle_.clear();
}

}  // namespace filterd::smtp
