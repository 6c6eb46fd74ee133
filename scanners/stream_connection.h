// stream_connection.h — one request/reply exchange over a stream socket
// (unix or TCP) with a single deadline, for the clients of scanning
// daemons (clamd, spamd). The socket is non-blocking and every wait is a
// poll() against the deadline, so a send() after "writable" can never block
// past it; for the calling worker thread each call is synchronous.
//
// Contract: open() tries each resolved endpoint in order; send_all() sends
// everything or fails; read_until_eof() reads until the peer closes, at
// most `max_bytes` (more is a protocol error). Errors are ScanErrors:
// kUnavailable (connect, connection lost), kTimeout (deadline), kProtocol
// (reply too long), kInternal (local failures).
#pragma once

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <expected>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "scanners/clamd_protocol.h"
#include "scanners/clamd_scanner.h"
#include "scanners/virus_scanner.h"

namespace filterd::scanners::net {

using Clock = std::chrono::steady_clock;
using Kind = ScanError::Kind;
using clamd::fail;

inline std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
};

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` is ready for `events` or the deadline passes.
inline std::expected<void, ScanError> wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return fail(Kind::kTimeout, "no answer within the timeout");
    pollfd pfd{.fd = fd, .events = events, .revents = 0};
    const int n = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), INT_MAX)));
    if (n > 0) return {};  // ready, or an error the next call will report
    if (n < 0 && errno != EINTR) return fail(Kind::kInternal, "poll: " + errno_text(errno));
  }
}

// One exchange with clamd: a connected socket and the exchange's deadline.
class StreamConnection {
 public:
  static std::expected<StreamConnection, ScanError> open(const std::vector<Endpoint>& endpoints,
                                                         Clock::time_point deadline) {
    ScanError last{Kind::kUnavailable, "no address to connect to"};
    for (const Endpoint& endpoint : endpoints) {
      auto connection = connect_to(endpoint, deadline);
      if (connection) return connection;
      last = connection.error();
    }
    return std::unexpected(last);
  }

  std::expected<void, ScanError> send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n >= 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (auto ready = wait_for(fd_.get(), POLLOUT, deadline_); !ready) return ready;
      } else if (errno != EINTR) {
        return fail(Kind::kUnavailable, "connection lost while sending: " + errno_text(errno));
      }
    }
    return {};
  }

  // True when clamd has sent something or hung up. During a stream that
  // means it gave up early (StreamMaxLength); sending on would only
  // provoke a reset that can cost us its explanation.
  bool peer_has_spoken() const {
    pollfd pfd{.fd = fd_.get(), .events = POLLIN, .revents = 0};
    return ::poll(&pfd, 1, 0) > 0;
  }

  // Reads until clamd closes the connection; more than `max_bytes` is a
  // protocol error. A reset after some data also ends the reply: clamd
  // closes with our unread stream in its buffer when it refuses a stream,
  // and the kernel then reports its close as a reset.
  std::expected<std::string, ScanError> read_until_eof(std::size_t max_bytes) {
    std::string reply;
    std::array<char, 4096> buffer;
    for (;;) {
      const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
      if (n == 0) return reply;
      if (n > 0) {
        if (reply.size() + static_cast<std::size_t>(n) > max_bytes) {
          return fail(Kind::kProtocol, "reply longer than " + std::to_string(max_bytes) + " bytes");
        }
        reply.append(buffer.data(), static_cast<std::size_t>(n));
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (auto ready = wait_for(fd_.get(), POLLIN, deadline_); !ready) {
          return std::unexpected(ready.error());
        }
      } else if (errno == ECONNRESET && !reply.empty()) {
        return reply;
      } else if (errno != EINTR) {
        return fail(Kind::kUnavailable, "connection lost while reading: " + errno_text(errno));
      }
    }
  }

 private:
  StreamConnection(UniqueFd fd, Clock::time_point deadline)
      : fd_(std::move(fd)), deadline_(deadline) {}

  static std::expected<StreamConnection, ScanError> connect_to(const Endpoint& endpoint,
                                                               Clock::time_point deadline) {
    const int family = endpoint.address.ss_family;
    UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return fail(Kind::kInternal, "socket: " + errno_text(errno));
    if (family != AF_UNIX) {  // frames are written whole; do not let Nagle hold the last one
      const int one = 1;
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    const auto* address = reinterpret_cast<const sockaddr*>(&endpoint.address);
    if (::connect(fd.get(), address, endpoint.length) != 0) {
      if (errno != EINPROGRESS && errno != EINTR) {
        return fail(Kind::kUnavailable, "connect: " + errno_text(errno));
      }
      if (auto ready = wait_for(fd.get(), POLLOUT, deadline); !ready) {
        return std::unexpected(ready.error());
      }
      int err = 0;
      socklen_t length = sizeof err;
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &length) != 0) err = errno;
      if (err != 0) return fail(Kind::kUnavailable, "connect: " + errno_text(err));
    }
    return StreamConnection(std::move(fd), deadline);
  }

  UniqueFd fd_;
  Clock::time_point deadline_;
};

inline std::expected<std::vector<Endpoint>, ScanError> resolve(const ClamdAddress& address) {
  std::vector<Endpoint> endpoints;
  if (address.family == ClamdAddress::Family::kUnix) {
    Endpoint endpoint;
    auto* un = reinterpret_cast<sockaddr_un*>(&endpoint.address);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, address.path_or_host.c_str(), address.path_or_host.size() + 1);
    endpoint.length = sizeof(sockaddr_un);
    endpoints.push_back(endpoint);
    return endpoints;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  if (int rc = ::getaddrinfo(address.path_or_host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return fail(Kind::kUnavailable,
                "cannot resolve " + address.path_or_host + ": " + ::gai_strerror(rc));
  }
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Endpoint endpoint;
    std::memcpy(&endpoint.address, ai->ai_addr, ai->ai_addrlen);
    endpoint.length = ai->ai_addrlen;
    endpoints.push_back(endpoint);
  }
  ::freeaddrinfo(found);
  return endpoints;
}

}  // namespace filterd::scanners::net
