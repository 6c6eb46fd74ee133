// auth_throttle.h — failed SMTP AUTH attempts per client address within a
// window (Postfix's anvil does the like with smtpd_client_auth_rate_limit).
// Once a client reaches the limit its next attempts are refused with a 4xx
// before any password is checked, until the window has passed: a password
// guesser learns nothing and gets slow. Bounded memory: entries expire,
// and the table is capped (oldest dropped).
//
// Thread safety: one thread (the I/O thread).
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace filterd::frontd {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  AuthThrottle(unsigned limit, std::chrono::seconds window) : limit_(limit), window_(window) {}

  // Whether `client` may try again now (limit 0: always).
  bool allowed(const std::string& client, Clock::time_point now);
  void record_failure(const std::string& client, Clock::time_point now);

 private:
  struct Entry {
    unsigned failures = 0;
    Clock::time_point window_start;
  };
  void expire(Clock::time_point now);

  unsigned limit_;
  std::chrono::seconds window_;
  std::map<std::string, Entry> clients_;
};

}  // namespace filterd::frontd
