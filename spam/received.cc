// received.cc — the trust path over the parsed Received lines
// (Metadata::Received::parse_received_headers) and the network lists it
// uses. See received.h.
#include "spam/received.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "decoders/ascii.h"
#include "spam/ip_patterns.h"
#include "spam/perl_re.h"

namespace filterd::spam {
namespace {

// "1.2.3.4" or an IPv6 address (optionally "IPv6:"/bracketed) as 16 bytes,
// IPv4 as ::ffff:a.b.c.d.
std::optional<std::array<uint8_t, 16>> to_bytes(std::string_view text) {
  std::string s(text.substr(0, 64));
  if (s.size() > 5 && decoders::ascii_lower(s.substr(0, 5)) == "ipv6:") s.erase(0, 5);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (auto pct = s.find('%'); pct != std::string::npos) s.resize(pct);
  std::array<uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

bool in_network(const std::array<uint8_t, 16>& net, unsigned bits,
                const std::array<uint8_t, 16>& a) {
  for (unsigned i = 0; i < 16 && bits > 0; ++i) {
    const unsigned take = std::min(bits, 8u);
    const uint8_t mask = static_cast<uint8_t>(0xff << (8 - take));
    if ((net[i] & mask) != (a[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

}  // namespace

void IpNetworks::add(std::string_view entry) {
  Entry e;
  if (entry.starts_with('!')) e.exclude = true, entry.remove_prefix(1);
  std::string_view addr = entry;
  std::optional<unsigned> bits;
  if (auto slash = entry.find('/'); slash != std::string_view::npos) {
    addr = entry.substr(0, slash);
    unsigned b = 0;
    const std::string_view n = entry.substr(slash + 1);
    if (n.empty() || n.size() > 3) return;
    for (char c : n) {
      if (c < '0' || c > '9') return;
      b = b * 10 + (c - '0');
    }
    bits = b;
  }
  // Conf.pm also takes IPv4 prefixes written short: "10", "192.168.".
  std::string a(addr);
  const bool v4 = a.find(':') == std::string::npos;
  if (v4) {
    if (a.ends_with('.')) a.pop_back();
    const size_t dots = std::ranges::count(a, '.');
    if (dots < 3 && !bits) bits = 8 * (dots + 1);
    for (size_t d = dots; d < 3; ++d) a += ".0";
  }
  auto bytes = to_bytes(a);
  if (!bytes) return;
  const unsigned full = v4 ? 32 : 128;
  const unsigned b = bits.value_or(full);
  if (b > full) return;
  e.address = *bytes;
  e.bits = v4 ? b + 96 : b;
  entries_.push_back(e);
}

bool IpNetworks::contains(std::string_view ip) const {
  auto a = to_bytes(ip);
  if (!a) return false;
  for (const Entry& e : entries_)  // NetSet: the first entry that holds it decides
    if (in_network(e.address, e.bits, *a)) return !e.exclude;
  return false;
}

TrustPath make_trust_path(const std::vector<std::string>& trusted,
                          const std::vector<std::string>& internal,
                          const std::vector<std::string>& msa,
                          std::vector<std::string> originating_ip_headers) {
  TrustPath t;
  for (const auto& n : trusted) t.trusted.add(n);
  for (const auto& n : internal) t.internal.add(n);
  for (const auto& n : msa) t.msa.add(n);
  t.trusted_configured = !trusted.empty();
  t.internal_configured = !internal.empty();
  for (IpNetworks* n : {&t.trusted, &t.internal}) {
    n->add("127.0.0.0/8");
    n->add("::1");
  }
  t.originating_ip_headers = std::move(originating_ip_headers);
  return t;
}

std::string Relay::as_string() const {
  return "[ ip=" + ip + " rdns=" + rdns + " helo=" + helo + " by=" + by + " ident=" + ident +
         " envfrom=" + envfrom.value_or("") + " intl=" + (internal ? "1" : "0") + " id=" + id +
         " auth=" + auth + " msa=" + (msa ? "1" : "0") + " ]";
}

std::string Relays::join(const std::vector<Relay>& relays) {
  std::string out;
  for (const auto& r : relays) {
    if (!out.empty()) out += ' ';
    out += r.as_string();
  }
  return out;
}

Relays parse_relays(const std::vector<TextHeader>& headers, const TrustPath& trust) {
  constexpr size_t kMaxReceived = 200;  // more Received headers are not read
  Relays out;
  std::vector<std::string> lines;
  for (const auto& h : headers)
    if (decoders::iequals(h.name, "received") && lines.size() < kMaxReceived)
      lines.push_back(h.decoded);
  static const PerlRe kIp(std::string("(") + ip_patterns::kIpAddress + ")");
  for (const auto& name : trust.originating_ip_headers) {
    const TextHeader* last = nullptr;
    for (const auto& h : headers)
      if (decoders::iequals(h.name, name)) last = &h;
    std::vector<std::string> g;
    if (last && kIp.search(last->decoded, g)) lines.push_back("from X-Originating-IP: " + g[1]);
  }

  // Only one of the lists configured: the other follows it.
  const IpNetworks* trusted = &trust.trusted;
  const IpNetworks* internal = &trust.internal;
  if (trust.trusted_configured && !trust.internal_configured) internal = trusted;
  if (!trust.trusted_configured && trust.internal_configured) trusted = internal;
  const bool configured = trust.trusted_configured || trust.internal_configured;

  bool in_trusted = true, in_internal = true, found_msa = false, allow_fetch_markers = true;
  std::optional<std::string> qmail_envfrom;
  for (const auto& line : lines) {
    std::optional<std::string> qms = std::move(qmail_envfrom);
    qmail_envfrom.reset();
    ReceivedLine parsed = parse_received_line(line);
    if (parsed.qmail_scanner_envfrom) qmail_envfrom = parsed.qmail_scanner_envfrom;
    if (parsed.pop_fetcher && allow_fetch_markers) {
      out.trusted.clear();
      out.internal.clear();
      out.external.clear();
    }
    if (parsed.kind != ReceivedLine::kRelay) {
      if (parsed.kind == ReceivedLine::kUnparseable) ++out.unparseable;
      if (in_trusted) ++out.last_trusted_index;
      if (in_internal) ++out.last_internal_index;
      continue;
    }
    Relay relay = std::move(parsed.relay);
    if (qms && !qms->empty()) relay.envfrom = qms;
    if (in_trusted && !found_msa) {
      if (!configured) {
        // Nothing configured: private addresses and authenticated relays
        // are trusted, the first other one ends trust.
        if (!relay.ip_private && relay.auth.empty()) in_trusted = in_internal = false;
      } else if (relay.auth.empty() && !trusted->contains(relay.ip)) {
        in_trusted = false;
        in_internal = false;
      } else {
        if (in_internal && relay.auth.empty() && !internal->contains(relay.ip)) in_internal = false;
        if (trust.msa.contains(relay.ip)) found_msa = relay.msa = true;
      }
    }
    relay.internal = in_internal;
    if (in_trusted) {
      allow_fetch_markers = true;
      ++out.last_trusted_index;
      out.trusted.push_back(relay);
    } else {
      allow_fetch_markers = false;
      out.untrusted.push_back(relay);
    }
    if (in_internal) {
      ++out.last_internal_index;
      out.internal.push_back(relay);
    } else {
      out.external.push_back(std::move(relay));
    }
  }
  return out;
}

}  // namespace filterd::spam
