// auth_throttle.cc — see auth_throttle.h.
#include "frontd/auth_throttle.h"

namespace filterd::frontd {
namespace {
// Clients remembered at once; beyond this the oldest window goes.
constexpr size_t kMaxClients = 10000;
}  // namespace

void AuthThrottle::expire(Clock::time_point now) {
  std::erase_if(clients_, [&](const auto& kv) { return now - kv.second.window_start >= window_; });
}

bool AuthThrottle::allowed(const std::string& client, Clock::time_point now) {
  if (limit_ == 0) return true;
  auto it = clients_.find(client);
  if (it == clients_.end()) return true;
  if (now - it->second.window_start >= window_) {
    clients_.erase(it);
    return true;
  }
  return it->second.failures < limit_;
}

void AuthThrottle::record_failure(const std::string& client, Clock::time_point now) {
  if (limit_ == 0) return;
  auto it = clients_.find(client);
  if (it == clients_.end() || now - it->second.window_start >= window_) {
    if (clients_.size() >= kMaxClients) expire(now);
    if (clients_.size() >= kMaxClients) {
      auto oldest = clients_.begin();
      for (auto i = clients_.begin(); i != clients_.end(); ++i) {
        if (i->second.window_start < oldest->second.window_start) oldest = i;
      }
      clients_.erase(oldest);
    }
    clients_[client] = Entry{1, now};
    return;
  }
  ++it->second.failures;
}

}  // namespace filterd::frontd
