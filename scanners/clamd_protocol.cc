// clamd_protocol.cc — the pure half of the clamd client (see
// clamd_scanner.h): socket-spec parsing and interpretation of clamd's
// zINSTREAM reply. No I/O here, so all of it is testable without sockets;
// the socket edge is clamd_scanner.cc.
//
// Security: clamd is trusted to scan, not to be well-formed. Names and
// error texts are checked for printable ASCII before they reach logs or
// headers.
#include "scanners/clamd_protocol.h"

#include <sys/un.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "scanners/clamd_scanner.h"

namespace filterd::scanners {
namespace {

using Kind = ScanError::Kind;
using clamd::fail;
using clamd::printable;

bool is_printable(char c) {
  return c >= 0x20 && c <= 0x7e;
}

void add_virus_name(VirusScanResult& result, std::string_view name) {
  auto& names = result.viruses;
  if (names.size() < kMaxVirusNames && std::ranges::find(names, name) == names.end()) {
    names.emplace_back(name);
  }
}

}  // namespace

std::string clamd::printable(std::string_view text, std::size_t max) {
  std::string out(text.substr(0, max));
  std::ranges::replace_if(
      out, [](char c) { return !is_printable(c); }, '?');
  return out;
}

std::expected<ClamdAddress, ScanError> parse_clamd_socket_spec(std::string_view spec) {
  const auto invalid = [&](std::string_view why) {
    return fail(Kind::kInternal,
                "invalid clamd socket \"" + printable(spec) + "\": " + std::string(why));
  };
  ClamdAddress address;
  if (spec.starts_with("unix:")) {
    address.path_or_host = spec.substr(5);
    if (!address.path_or_host.starts_with('/')) return invalid("path must be absolute");
    if (address.path_or_host.size() >= sizeof(sockaddr_un::sun_path)) {
      return invalid("path longer than a unix socket path can be");
    }
    return address;
  }
  if (!spec.starts_with("inet:")) return invalid("expected unix:/path or inet:HOST:PORT");
  address.family = ClamdAddress::Family::kInet;
  std::string_view rest = spec.substr(5);
  std::string_view host;
  std::string_view port;
  if (rest.starts_with('[')) {  // [IPv6]:PORT
    const auto close = rest.find("]:");
    if (close == std::string_view::npos) return invalid("expected [ADDRESS]:PORT");
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return invalid("missing :PORT");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return invalid("write IPv6 hosts as [ADDRESS]");
  }
  if (host.empty()) return invalid("missing host");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return invalid("port must be a number in 1..65535");
  }
  address.path_or_host = host;
  address.port = static_cast<std::uint16_t>(value);
  return address;
}

std::expected<VirusScanResult, ScanError> parse_clamd_instream_reply(std::string_view reply) {
  VirusScanResult result;
  std::optional<ScanError> error;
  bool ok = false;
  while (!reply.empty()) {
    const auto end = reply.find_first_of(std::string_view("\0\n", 2));
    std::string_view line = reply.substr(0, end);
    reply = end == std::string_view::npos ? std::string_view() : reply.substr(end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) continue;

    if (line.ends_with(" FOUND")) {
      std::string_view name = line.substr(0, line.size() - 6);
      const auto colon = name.find(": ");
      if (colon == std::string_view::npos) {
        return fail(Kind::kProtocol, "clamd FOUND line without name: " + printable(line));
      }
      name = name.substr(colon + 2);
      if (name.ends_with(')')) {  // ExtendedDetectionInfo: "Name(md5:size)"
        if (const auto open = name.rfind('('); open != std::string_view::npos && open > 0) {
          name = name.substr(0, open);
        }
      }
      if (name.empty() || !std::ranges::all_of(name, is_printable)) {
        return fail(Kind::kProtocol, "clamd sent an unusable virus name: " + printable(line));
      }
      add_virus_name(result, name);
    } else if (line.ends_with(": OK")) {
      ok = true;
    } else if (line.ends_with(" ERROR")) {
      if (!error) {
        const bool limit = line.find("size limit exceeded") != std::string_view::npos;
        error = ScanError{limit ? Kind::kLimit : Kind::kInternal, "clamd: " + printable(line)};
      }
    } else {
      return fail(Kind::kProtocol, "unexpected reply from clamd: " + printable(line));
    }
  }
  if (result.infected()) return result;  // a finding outranks an error
  if (error) return std::unexpected(*error);
  if (ok) return result;
  return fail(Kind::kProtocol, "clamd closed the connection without a reply");
}

}  // namespace filterd::scanners
