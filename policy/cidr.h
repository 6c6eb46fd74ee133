// cidr.h — lists of IP networks, like Postfix's mynetworks and amavis's
// @mynetworks: "127.0.0.0/8 [::1]/128 10.0.0.0/8, 192.168.0.0/16".
//
// Entries, separated by white space or commas:
//   10.0.0.0/8  172.16.1.2          IPv4; without "/len" one host
//   [fe80::]/10  [::1]  ::1/128     IPv6, in brackets (Postfix, amavis) or bare
// An entry with host bits set beyond its prefix ("172.16.1.2/24") is an
// error that names the network meant ("172.16.1.0/24"): the list grants
// trust, so neither widening nor narrowing what was written is a safe
// guess (Postfix, too, treats such a mynetworks entry as a lookup error).
// Negation ("!10.1.2.3"), host names and tables are not supported.
//
// IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291 §2.5.5.2), so
// an IPv4 entry matches "::ffff:10.1.2.3" from a dual-stack socket,
// "::ffff:0:0/96" is all of IPv4, and "::/0" is everything.
//
// Pure: built at start-up, then only read (any number of threads).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace filterd::policy {

class NetworkList {
 public:
  // Errors name the bad entry: "bad network \"10.0.0.0/33\": prefix ...".
  static std::expected<NetworkList, std::string> parse(std::string_view text);

  // Whether `address` lies in a listed network. Takes addresses as they
  // arrive from XFORWARD ADDR or the peer socket: "10.1.2.3",
  // "IPv6:2001:db8::1" (Postfix's XFORWARD form), "::ffff:10.1.2.3",
  // "[10.1.2.3]", "fe80::1%eth0" (the zone is ignored). Anything else,
  // e.g. "[UNAVAILABLE]", is in no network.
  bool contains(std::string_view address) const { return find(address).has_value(); }

  // The first entry, as written, that holds `address`; for logs. The view
  // lives as long as the list.
  std::optional<std::string_view> find(std::string_view address) const;

  size_t size() const { return networks_.size(); }
  bool empty() const { return networks_.empty(); }

 private:
  using Address = std::array<uint8_t, 16>;
  struct Network {
    Address address;  // host bits zero
    unsigned bits;    // prefix length over the 128-bit form
    std::string text;
  };
  static bool in(const Network& n, const Address& a);

  std::vector<Network> networks_;
};

}  // namespace filterd::policy
