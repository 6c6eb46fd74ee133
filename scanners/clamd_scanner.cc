// clamd_scanner.cc — VirusScanner client for clamd's z-command protocol.
//
// This is the I/O edge; the pure socket-spec and reply parsers are in
// clamd_protocol.cc. One non-blocking socket per exchange, every wait a poll()
// against the exchange's deadline. The socket is non-blocking so that a
// send() after poll() said "writable" can never block past the deadline;
// for the calling worker thread the call is synchronous.
//
// Security: clamd is trusted to scan, not to be well-formed. Reply length
// is bounded, names and error texts are checked for printable ASCII before
// they reach logs or headers. No scanned data is ever logged.
#include "scanners/clamd_scanner.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

#include "scanners/clamd_protocol.h"

namespace filterd::scanners {
namespace {

using Clock = std::chrono::steady_clock;
using Kind = ScanError::Kind;
using clamd::fail;
using clamd::printable;

std::string_view trim_terminators(std::string_view s) {
  while (!s.empty() && (s.back() == '\0' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string errno_text(int err) {
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
std::expected<void, ScanError> wait_for(int fd, short events, Clock::time_point deadline) {
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
class ClamdConnection {
 public:
  static std::expected<ClamdConnection, ScanError> open(const std::vector<Endpoint>& endpoints,
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
  ClamdConnection(UniqueFd fd, Clock::time_point deadline)
      : fd_(std::move(fd)), deadline_(deadline) {}

  static std::expected<ClamdConnection, ScanError> connect_to(const Endpoint& endpoint,
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
    return ClamdConnection(std::move(fd), deadline);
  }

  UniqueFd fd_;
  Clock::time_point deadline_;
};

std::expected<std::vector<Endpoint>, ScanError> resolve(const ClamdAddress& address) {
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

// Sends one NUL-terminated z-command and returns the reply without its
// terminator.
std::expected<std::string, ScanError> short_command(const std::vector<Endpoint>& endpoints,
                                                    std::string_view command,
                                                    std::chrono::milliseconds timeout) {
  auto connection = ClamdConnection::open(endpoints, Clock::now() + timeout);
  if (!connection) return std::unexpected(connection.error());
  const std::string wire = std::string(command) + '\0';
  if (auto sent = connection->send_all(wire); !sent) return std::unexpected(sent.error());
  auto reply = connection->read_until_eof(kMaxClamdShortReplyBytes);
  if (!reply) return reply;
  return std::string(trim_terminators(*reply));
}

void append_be32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

class ClamdScanner final : public VirusScanner {
 public:
  ClamdScanner(std::string spec, std::vector<Endpoint> endpoints, std::chrono::milliseconds timeout,
               std::string version)
      : spec_(std::move(spec)),
        endpoints_(std::move(endpoints)),
        timeout_(timeout),
        version_(std::move(version)) {}

  std::expected<VirusScanResult, ScanError> scan(std::string_view data,
                                                 std::string_view /*name*/) override {
    auto connection = ClamdConnection::open(endpoints_, Clock::now() + timeout_);
    if (!connection) return with_context(connection.error());
    auto sent = stream(*connection, data);
    auto reply = connection->read_until_eof(kMaxClamdReplyBytes);
    if (sent) {
      if (!reply) return with_context(reply.error());
      auto verdict = parse_clamd_instream_reply(*reply);
      if (!verdict) return with_context(verdict.error());
      return verdict;
    }
    // clamd stops reading at StreamMaxLength and says so. From a partial
    // stream only an error or a finding may be taken, never "clean".
    if (reply && !reply->empty()) {
      auto verdict = parse_clamd_instream_reply(*reply);
      if (!verdict) return with_context(verdict.error());
      if (verdict->infected()) return verdict;
    }
    return with_context(sent.error());
  }

  std::expected<void, ScanError> reload() override { return {}; }

  std::string describe() const override { return version_ + " (clamd at " + spec_ + ")"; }

 private:
  static std::expected<void, ScanError> stream(ClamdConnection& connection, std::string_view data) {
    if (auto sent = connection.send_all(std::string_view("zINSTREAM\0", 10)); !sent) return sent;
    std::string frame;
    frame.reserve(4 + kClamdChunkBytes);
    do {
      if (connection.peer_has_spoken()) {
        return fail(Kind::kProtocol, "clamd answered before the end of the stream");
      }
      const std::string_view chunk = data.substr(0, kClamdChunkBytes);
      data.remove_prefix(chunk.size());
      frame.clear();
      append_be32(frame, static_cast<std::uint32_t>(chunk.size()));
      frame.append(chunk);
      if (auto sent = connection.send_all(frame); !sent) return sent;
    } while (frame.size() > 4);  // the last frame sent was the empty terminator
    return {};
  }

  std::unexpected<ScanError> with_context(ScanError error) const {
    error.message = "clamd at " + spec_ + ": " + error.message;
    return std::unexpected(std::move(error));
  }

  const std::string spec_;
  const std::vector<Endpoint> endpoints_;
  const std::chrono::milliseconds timeout_;
  const std::string version_;
};

}  // namespace

std::expected<std::unique_ptr<VirusScanner>, ScanError> make_clamd_scanner(
    std::string socket_spec, std::chrono::milliseconds timeout) {
  const auto in_context = [&](ScanError error) {
    error.message = "clamd at " + printable(socket_spec) + ": " + error.message;
    return std::unexpected(std::move(error));
  };
  auto address = parse_clamd_socket_spec(socket_spec);
  if (!address) return std::unexpected(address.error());
  if (timeout.count() <= 0) return in_context({Kind::kInternal, "timeout must be positive"});
  auto endpoints = resolve(*address);
  if (!endpoints) return in_context(endpoints.error());

  auto pong = short_command(*endpoints, "zPING", timeout);
  if (!pong) return in_context(pong.error());
  if (*pong != "PONG") {
    return in_context({Kind::kUnavailable, "PING answered with \"" + printable(*pong) + "\""});
  }
  auto version = short_command(*endpoints, "zVERSION", timeout);
  if (!version) return in_context(version.error());
  std::string described = version->empty() ? "ClamAV" : printable(*version);
  spdlog::debug("clamd at {}: {}", socket_spec, described);
  return std::make_unique<ClamdScanner>(std::move(socket_spec), std::move(*endpoints), timeout,
                                        std::move(described));
}

}  // namespace filterd::scanners
