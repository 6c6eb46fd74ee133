// cidr.cc — see cidr.h. inet_pton does the address syntax.
#include "policy/cidr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "decoders/ascii.h"

namespace filterd::policy {
namespace {

using Address = std::array<uint8_t, 16>;

// INET6_ADDRSTRLEN less its NUL: the longest text form inet_pton reads
// ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"). Longer is no address.
constexpr size_t kMaxAddressText = INET6_ADDRSTRLEN - 1;

// "10.1.2.3" as ::ffff:10.1.2.3, or an IPv6 address; no brackets, prefix or zone.
std::optional<Address> parse_address(std::string_view s, bool* v4 = nullptr) {
  if (s.empty() || s.size() > kMaxAddressText || s.find('\0') != std::string_view::npos) {
    return std::nullopt;  // inet_pton would stop at a NUL and read a prefix of the text
  }
  char text[INET6_ADDRSTRLEN];
  std::memcpy(text, s.data(), s.size());
  text[s.size()] = '\0';
  Address a{};
  const bool ipv4 = s.find(':') == std::string_view::npos;
  if (ipv4) {
    a[10] = a[11] = 0xff;
    if (inet_pton(AF_INET, text, a.data() + 12) != 1) return std::nullopt;
  } else if (inet_pton(AF_INET6, text, a.data()) != 1) {
    return std::nullopt;
  }
  if (v4 != nullptr) *v4 = ipv4;
  return a;
}

bool is_separator(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',';
}

std::string format(const Address& a, bool v4) {
  char text[INET6_ADDRSTRLEN] = "";
  if (v4) {
    inet_ntop(AF_INET, a.data() + 12, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, a.data(), text, sizeof text);
  }
  return text;
}

}  // namespace

bool NetworkList::in(const Network& n, const Address& a) {
  const size_t whole = n.bits / 8;
  if (!std::equal(a.begin(), a.begin() + whole, n.address.begin())) return false;
  const unsigned rest = n.bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == n.address[whole];
}

std::expected<NetworkList, std::string> NetworkList::parse(std::string_view text) {
  NetworkList list;
  size_t pos = 0;
  while (true) {
    while (pos < text.size() && is_separator(text[pos])) ++pos;
    if (pos >= text.size()) break;
    size_t start = pos;
    while (pos < text.size() && !is_separator(text[pos])) ++pos;
    const std::string_view entry = text.substr(start, pos - start);
    auto bad = [&](std::string_view why) {
      std::string shown(entry.substr(0, 64));
      return std::unexpected("bad network \"" + shown + "\": " + std::string(why));
    };

    if (entry.front() == '!') return bad("negation is not supported");
    std::string_view addr = entry, prefix;
    bool bracketed = false;
    if (entry.front() == '[') {
      size_t close = entry.find(']');
      if (close == std::string_view::npos) return bad("no closing bracket");
      addr = entry.substr(1, close - 1);
      std::string_view after = entry.substr(close + 1);
      if (!after.empty() && after.front() != '/') return bad("text after the closing bracket");
      if (!after.empty()) prefix = after.substr(1);
      if (after == "/") return bad("no prefix length after '/'");
      bracketed = true;
    } else if (size_t slash = entry.find('/'); slash != std::string_view::npos) {
      addr = entry.substr(0, slash);
      prefix = entry.substr(slash + 1);
      if (prefix.empty()) return bad("no prefix length after '/'");
    }
    bool v4 = false;
    auto address = parse_address(addr, &v4);
    if (!address) return bad("not an IPv4 or IPv6 address");
    const unsigned max_bits = v4 ? 32 : 128;
    unsigned bits = max_bits;
    if (!prefix.empty()) {
      auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
      if (ec != std::errc() || end != prefix.data() + prefix.size() || bits > max_bits ||
          prefix.size() > 3) {
        return bad("prefix length must be 0 to " + std::to_string(max_bits));
      }
    }
    Network n{*address, v4 ? 96 + bits : bits, std::string(entry)};
    // Clear the host bits; if any were set, the entry says two things.
    Address masked = n.address;
    for (unsigned i = 0; i < 16; ++i) {
      unsigned keep = n.bits > i * 8 ? std::min(8u, n.bits - i * 8) : 0;
      masked[i] &= static_cast<uint8_t>(0xff00 >> keep);
    }
    if (masked != n.address) {
      std::string net = format(masked, v4);
      if (bracketed) net = "[" + net + "]";
      return bad("host bits set beyond the prefix; perhaps " + net + "/" + std::to_string(bits));
    }
    list.networks_.push_back(std::move(n));
  }
  return list;
}

std::optional<std::string_view> NetworkList::find(std::string_view address) const {
  if (networks_.empty()) return std::nullopt;
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  if (address.size() >= 5 && decoders::iequals(address.substr(0, 5), "IPv6:")) {
    address.remove_prefix(5);
  }
  size_t zone = address.find('%');  // fe80::1%eth0: the zone names a link, not bits
  if (zone != std::string_view::npos && address.find(':') < zone) address = address.substr(0, zone);
  auto a = parse_address(address);
  if (!a) return std::nullopt;
  for (const auto& n : networks_) {
    if (in(n, *a)) return std::string_view(n.text);
  }
  return std::nullopt;
}

}  // namespace filterd::policy
