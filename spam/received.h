// received.h — the message's relay path from its Received headers, as
// SpamAssassin's Message::Metadata::Received computes it: each header parsed
// into a relay (ip, rdns, helo, by, ident, envfrom, id, auth), then split by
// the trust path (trusted_networks / internal_networks / msa_networks) into
// trusted/untrusted and internal/external relays. Header rules see the
// lists as X-Spam-Relays-{Trusted,Untrusted,Internal,External}, in the form
//   [ ip=1.2.3.4 rdns=mx.example.com helo=mx by=in.example.org ident=
//     envfrom= intl=0 id=4Q2 auth= msa=0 ]
// and the eval: tests of RelayEval / HeaderEval read the relays themselves.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spam/text.h"

namespace filterd::spam {

struct Relay {
  std::string ip, rdns, helo, by, ident, id, auth;
  std::optional<std::string> envfrom;
  std::string lc_rdns, lc_helo, lc_by;
  bool no_reverse_dns = false;       // the MTA looked the name up and found none
  bool rdns_not_in_headers = false;  // the MTA did not say
  bool ip_private = false;           // Constants::IP_PRIVATE
  bool internal = false;
  bool msa = false;

  // Metadata::Received::make_relay_as_string.
  std::string as_string() const;
};

// One Received line: a relay, a line that is not a relay handover (local
// delivery, fetchmail ...: Perl's 0) or one that could not be parsed (undef).
struct ReceivedLine {
  enum Kind { kRelay, kIgnored, kUnparseable } kind = kUnparseable;
  Relay relay;
  bool pop_fetcher = false;  // "with POP3/IMAP": a mail fetcher's handover
  // qmail-scanner's envelope sender, for the relay of the next line.
  std::optional<std::string> qmail_scanner_envfrom;
};
ReceivedLine parse_received_line(std::string_view line);

// trusted_networks and friends: "10.0.0.0/8", "192.168.1.1", "::1", "!10.1.2.3"
// (an exclusion, when it comes before the network it cuts out of), as in
// Conf.pm. 127.0.0.0/8 and ::1 are always in trusted and internal networks.
class IpNetworks {
 public:
  void add(std::string_view entry);  // malformed entries are ignored
  bool contains(std::string_view ip) const;
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::array<uint8_t, 16> address{};
    unsigned bits = 0;
    bool exclude = false;
  };
  std::vector<Entry> entries_;
};

struct TrustPath {
  IpNetworks trusted, internal, msa;
  bool trusted_configured = false, internal_configured = false;
  // originating_ip_headers: their first IP address is one more relay.
  std::vector<std::string> originating_ip_headers;
};

// Builds a TrustPath from configured lists (the loopback nets are added).
TrustPath make_trust_path(const std::vector<std::string>& trusted,
                          const std::vector<std::string>& internal,
                          const std::vector<std::string>& msa,
                          std::vector<std::string> originating_ip_headers);

struct Relays {
  std::vector<Relay> trusted, untrusted, internal, external;
  int unparseable = 0;
  int last_trusted_index = -1;  // counting Received headers from the top
  int last_internal_index = -1;

  static std::string join(const std::vector<Relay>& relays);
};

// Metadata::Received::parse_received_headers over the message's header.
Relays parse_relays(const std::vector<TextHeader>& headers, const TrustPath& trust);

}  // namespace filterd::spam
