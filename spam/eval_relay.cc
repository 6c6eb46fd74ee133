// eval_relay.cc — Mail::SpamAssassin::Plugin::RelayEval's tests, over the
// relay path the engine parsed (received.h).
#include <algorithm>
#include <cctype>

#include "spam/eval_internal.h"
#include "spam/ip_patterns.h"
#include "spam/perl_re.h"

namespace filterd::spam::eval {
namespace {

const PerlRe& is_ipv4() {
  static const PerlRe re(std::string("^") + ip_patterns::kIpv4 + "$");
  return re;
}
const PerlRe& is_private() {
  static const PerlRe re(std::string("^(?:") + ip_patterns::kIpPrivate + ")$");
  return re;
}

// RelayEval::hostname_to_domain: the last two labels (three when the top
// level one is a two-letter code other than ie/fr/de); IPs unchanged.
std::string hostname_to_domain(const std::string& host) {
  if (std::none_of(host.begin(), host.end(), [](unsigned char c) { return std::isalpha(c) != 0; }))
    return host;
  std::vector<std::string> parts;  // Perl's split drops trailing empty fields
  size_t b = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      parts.push_back(host.substr(b, i - b));
      b = i + 1;
    }
  }
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  static const PerlRe tld(R"((?:\S{3,}|ie|fr|de))");
  auto join_last = [&](size_t n) {
    std::string out;
    for (size_t i = parts.size() - n; i < parts.size(); ++i)
      out += (out.empty() ? "" : ".") + parts[i];
    return out;
  };
  if (parts.size() > 1 && tld.search(parts.back())) return join_last(2);
  if (parts.size() > 2) return join_last(3);
  return host;
}

const PerlRe& hostname_like() {
  static const PerlRe re(R"(^\w+(?:[\w.-]+\.)+\w+$)");
  return re;
}

struct Forgery {
  int mismatch_from = 0, mismatch_ip_helo = 0;
};

// RelayEval::_check_for_forged_received: for each untrusted relay, whether
// its IP-literal HELO is in another /16 than its IP, and whether the host
// the previous relay said it came from differs from this one's `by`.
Forgery forged_received(const Relays& relays) {
  Forgery out;
  const auto& r = relays.untrusted;
  std::vector<std::optional<std::string>> from;
  for (const auto& x : r) from.emplace_back(hostname_to_domain(x.lc_rdns));
  static const PerlRe dotted(R"(^(\d+\.\d+)\.\d+\.\d+$)");
  for (size_t i = 0; i < r.size(); ++i) {
    const std::string by = hostname_to_domain(r[i].lc_by);
    if (!hostname_like().search(by)) continue;
    static const PerlRe local(R"(^localhost(?:\.localdomain)?$)");
    if (from[i] && local.search(*from[i]) && r[i].ip == "127.0.0.1") from[i].reset();
    const std::string helo = hostname_to_domain(r[i].lc_helo);
    const std::string& ip = r[i].ip;
    std::vector<std::string> hg, fg;
    if (dotted.search(helo, hg) && dotted.search(ip, fg) && ip != helo && hg[1] != fg[1] &&
        !is_private().search(helo))
      ++out.mismatch_ip_helo;
    // Perl's $from[$i-1] at i == 0 is the last element, but i > 0 is required.
    if (i > 0 && from[i - 1] && hostname_like().search(*from[i - 1]) && by != *from[i - 1] &&
        !(by == "msn.com" && *from[i - 1] == "hotmail.com"))
      ++out.mismatch_from;
  }
  return out;
}

}  // namespace

// Every relay is trusted and none could not be parsed (and there is one).
double check_all_trusted(const EvalContext& c, Args) {
  return !c.relays.trusted.empty() && c.relays.untrusted.empty() && c.relays.unparseable == 0;
}

// No Received header made a relay (and none was unparseable).
double check_no_relays(const EvalContext& c, Args) {
  return c.relays.trusted.empty() && c.relays.untrusted.empty() && c.relays.unparseable == 0;
}

// Some Received header could not be parsed.
double check_relays_unparseable(const EvalContext& c, Args) {
  return c.relays.unparseable ? 1 : 0;
}

// An untrusted relay's HELO is a public IPv4 address in another /24 ... of
// its (public) IP: the first three octets of the HELO do not start the IP.
double helo_ip_mismatch(const EvalContext& c, Args) {
  static const PerlRe three(R"(^(\d+\.\d+\.\d+\.))");
  for (const auto& r : c.relays.untrusted) {
    if (!is_ipv4().search(r.helo) || is_private().search(r.helo)) continue;
    std::vector<std::string> g;
    if (is_ipv4().search(r.ip) && !is_private().search(r.ip) && r.helo != r.ip &&
        three.search(r.helo, g) && !r.ip.starts_with(g[1]))
      return 1;
  }
  return 0;
}

// The earliest untrusted public relay claimed to be a big free-mail domain
// (HELO ending in aol.com, hotmail.com ...) and its MTA found no reverse DNS.
double check_for_no_rdns_dotcom_helo(const EvalContext& c, Args) {
  static const PerlRe dotcom(
      R"((?:\.|^)(lycos\.com|lycos\.co\.uk|hotmail\.com|localhost\.com|excite\.com|caramail\.com|cs\.com|aol\.com|msn\.com|yahoo\.com|drizzle\.com)$)",
      "i");
  bool hit = false;
  for (const auto& r : c.relays.untrusted) {
    if (r.ip_private) continue;
    hit = dotcom.search(r.helo) && r.no_reverse_dns;  // each public relay overrides (as in Perl)
  }
  return hit;
}

// The untrusted relay path is broken more than once: a relay's `by` is not
// the host the next one down said it came from.
double check_for_forged_received_trail(const EvalContext& c, Args) {
  return forged_received(c.relays).mismatch_from > 1;
}

// An untrusted relay gave an IP-literal HELO in another /16 than its IP.
double check_for_forged_received_ip_helo(const EvalContext& c, Args) {
  return forged_received(c.relays).mismatch_ip_helo > 0;
}

// The first untrusted relay's rDNS is a public name (has a dot).
double check_for_sender_no_reverse(const EvalContext& c, Args) {
  if (c.relays.untrusted.empty()) return 0;
  const Relay& r = c.relays.untrusted.back();
  return r.rdns.find('.') != std::string::npos && !r.ip_private;
}

// A public IPv4 literal as HELO in the untrusted relays.
double check_for_numeric_helo(const EvalContext& c, Args) {
  static const PerlRe helo(
      std::string(R"(\bhelo=()") + ip_patterns::kIpv4 + R"()(?=[\000-\040,;\[()<>]|\z))", "i");
  std::vector<std::string> g;
  const std::string s = Relays::join(c.relays.untrusted);
  return helo.search(s, g) && !is_private().search(g[1]);
}

}  // namespace filterd::spam::eval
