// clamd_scanner.h — VirusScanner that asks a running clamd over its socket.
//
// Each scan() opens one connection to clamd, streams the data with
// zINSTREAM (4-byte big-endian length + chunk, ..., zero-length chunk) and
// reads clamd's reply until clamd closes the connection. All I/O of a scan
// is bounded by one deadline (`timeout` from creation), so a stuck clamd
// costs a worker at most that long. Replies are read into a buffer of at
// most kMaxClamdReplyBytes; anything longer is a protocol error.
//
// The reply parser and the socket-spec parser are pure functions, exposed
// so that they can be tested without sockets.
//
// reload() sends nothing and succeeds: clamd reloads its own databases
// (SelfCheck), and a RELOAD from every filterd process would only make
// clamd recompile more often. database_changed() is always false.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

#include "scanners/virus_scanner.h"

namespace filterd::scanners {

// Data is streamed in chunks of this size (clamd accepts any chunk size up
// to its StreamMaxLength; 64 KiB keeps each frame within one socket buffer).
inline constexpr std::size_t kClamdChunkBytes = 64 * 1024;

// Longest reply to one zINSTREAM we read. A reply is one line per finding
// ("stream: <name> FOUND"), at most a few hundred bytes each.
inline constexpr std::size_t kMaxClamdReplyBytes = 64 * 1024;

// Longest reply to zPING / zVERSION we read.
inline constexpr std::size_t kMaxClamdShortReplyBytes = 1024;

// Where clamd listens, from a socket spec "unix:/path" or "inet:HOST:PORT"
// (an IPv6 HOST is written in brackets: "inet:[::1]:3310").
struct ClamdAddress {
  enum class Family { kUnix, kInet };
  Family family = Family::kUnix;
  std::string path_or_host;  // socket path (kUnix) or host name/address (kInet)
  std::uint16_t port = 0;    // kInet only
};

// Parses a socket spec. Errors (kind kInternal, since it is a configuration
// mistake): unknown prefix, empty or too long path, missing host, port not
// in 1..65535.
std::expected<ClamdAddress, ScanError> parse_clamd_socket_spec(std::string_view spec);

// Interprets clamd's complete reply to one zINSTREAM: lines separated by
// NUL (z-commands) or newline, e.g. "stream: OK", "stream: NAME FOUND" (one
// line per match in all-match mode), "INSTREAM size limit exceeded. ERROR".
// Any FOUND line makes the result infected, even next to an ERROR line;
// "(hash:size)" details (ExtendedDetectionInfo) are dropped from names.
// Errors: "size limit exceeded" -> kLimit; other ERROR lines -> kInternal;
// empty reply or any other line -> kProtocol.
std::expected<VirusScanResult, ScanError> parse_clamd_instream_reply(std::string_view reply);

// Connects to clamd at `socket_spec`, checks that it answers zPING with
// PONG and fetches zVERSION once for describe(), e.g.
// "ClamAV 1.4.6/27500/Thu Nov 27 09:41:00 2026 (clamd at unix:/run/clamav/clamd.ctl)".
// `timeout` bounds each of those exchanges and every later scan() as a
// whole.
//
// Errors: kInternal for an invalid spec; kUnavailable when the host does
// not resolve or clamd is not reachable or does not answer PONG; kTimeout
// when it does not answer in time.
//
// Thread safety: scan() may be called concurrently; each call uses its own
// connection. Host names are resolved once, here.
std::expected<std::unique_ptr<VirusScanner>, ScanError> make_clamd_scanner(
    std::string socket_spec, std::chrono::milliseconds timeout);

}  // namespace filterd::scanners
