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
#include "scanners/stream_connection.h"

namespace filterd::scanners {
namespace {

using Clock = std::chrono::steady_clock;
using Kind = ScanError::Kind;
using clamd::fail;
using clamd::printable;
using net::Endpoint;
using net::resolve;
using net::StreamConnection;

std::string_view trim_terminators(std::string_view s) {
  while (!s.empty() && (s.back() == '\0' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Sends one NUL-terminated z-command and returns the reply without its
// terminator.
std::expected<std::string, ScanError> short_command(const std::vector<Endpoint>& endpoints,
                                                    std::string_view command,
                                                    std::chrono::milliseconds timeout) {
  auto connection = StreamConnection::open(endpoints, Clock::now() + timeout);
  if (!connection) return std::unexpected(connection.error());
  const std::string wire = std::string(command) + '\0';
  if (auto sent = connection->send_all(wire); !sent) return std::unexpected(sent.error());
  auto reply = connection->read_until_eof(kMaxClamdShortReplyBytes);
  if (!reply) return reply;
  return std::string(trim_terminators(*reply));
}

void put_be32(char* out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) *out++ = static_cast<char>(value >> shift);
}

class ClamdScanner final : public VirusScanner {
 public:
  ClamdScanner(std::string spec, std::vector<Endpoint> endpoints, std::chrono::milliseconds timeout,
               std::string version)
      : spec_(std::move(spec)),
        endpoints_(std::move(endpoints)),
        timeout_(timeout),
        version_(std::move(version)) {}

  // clamd decides for itself how to unpack (ScanMail, ScanArchive ...).
  std::expected<VirusScanResult, ScanError> do_scan(std::string_view data,
                                                    std::string_view /*name*/,
                                                    const ScanOptions& options) override {
    auto connection = StreamConnection::open(endpoints_, Clock::now() + timeout_);
    if (!connection) return with_context(connection.error());
    bool read_failed = false;
    auto sent = stream(*connection, data, options.fd, read_failed);
    if (read_failed) return with_context(sent.error());
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
  // Sends `data` as INSTREAM chunks. When `fd` is a regular file holding
  // exactly the data (a large part on disk), the chunks are read from it:
  // streaming the mapping would fault every page of it into filterd's RSS.
  // A failed read sets `read_failed`: the stream is cut short, and clamd
  // waits for the rest, so there is no answer to wait for.
  static std::expected<void, ScanError> stream(StreamConnection& connection, std::string_view data,
                                               int fd, bool& read_failed) {
    if (auto sent = connection.send_all(std::string_view("zINSTREAM\0", 10)); !sent) return sent;
    const bool from_file = fd_holds(fd, data.size());
    std::expected<void, ScanError> sent;
    std::string frame;
    frame.reserve(4 + kClamdChunkBytes);
    size_t offset = 0;
    do {
      if (connection.peer_has_spoken()) {
        return fail(Kind::kProtocol, "clamd answered before the end of the stream");
      }
      const size_t length = std::min(kClamdChunkBytes, data.size() - offset);
      frame.resize(4 + length);
      if (from_file && length > 0 && !read_exactly(fd, frame.data() + 4, length, offset)) {
        const int err = errno;
        read_failed = true;
        return fail(Kind::kInternal, std::string("reading the part: ") + std::strerror(err));
      }
      if (!from_file) data.copy(frame.data() + 4, length, offset);
      offset += length;
      put_be32(frame.data(), static_cast<std::uint32_t>(length));
      sent = connection.send_all(frame);
    } while (sent && frame.size() > 4);  // the last frame sent was the empty terminator
    return sent;
  }

  static bool read_exactly(int fd, char* out, size_t length, size_t offset) {
    while (length > 0) {
      const ssize_t n = ::pread(fd, out, length, static_cast<off_t>(offset));
      if (n <= 0) {
        if (n == 0) errno = EIO;  // the file shrank under us
        return false;
      }
      out += n;
      length -= static_cast<size_t>(n);
      offset += static_cast<size_t>(n);
    }
    return true;
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
