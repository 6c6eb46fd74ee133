// config.cc — see config.h. Boost.Program_options holds the option table;
// the file is read here so that errors can name the line, and $name
// expansion happens after every source is merged (Postfix semantics: a
// value refers to the final value of the other setting).
#include "frontd/config.h"

#include <pwd.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include "filterd/option_file.h"

namespace filterd::frontd {
namespace po = boost::program_options;
namespace {

po::options_description option_table() {
  po::options_description d("frontd options");
  auto s = [](const char* def) { return po::value<std::string>()->default_value(def); };
  // clang-format off
  d.add_options()
    ("myhostname", s(""), "this host's name in greetings, Received and DSNs "
     "(default: the system host name)")
    ("mydomain", s(""), "the domain of this host (default: myhostname less its first label)")
    ("postmaster_domain", s("$mydomain"), "RCPT TO:<postmaster> without a domain (RFC 5321 "
     "requires it be accepted) is delivered to postmaster@ this domain; with virtual "
     "mailboxes only, set it to a virtual_mailbox_domains entry that has a postmaster")
    ("smtpd_banner", s("$myhostname ESMTP"), "text of the 220 greeting")
    ("smtp_listen", s("0.0.0.0:25"), "addresses of the smtp service (mail for "
     "virtual_mailbox_domains; relaying only for mynetworks): HOST:PORT, space or comma "
     "separated; IPv6 as [::]:25; empty: off")
    ("reinjection_listen", s("127.0.0.1:10025"), "where content_filter hands filtered mail "
     "back: loopback addresses only; no filtering, XFORWARD accepted; empty: off")
    ("submission_listen", s(""), "addresses of the submission service (RFC 6409, port 587): "
     "STARTTLS, then AUTH is required to send; empty: off")
    ("smtps_listen", s(""), "addresses of the submissions service (RFC 8314, port 465): TLS "
     "from the first byte, AUTH required to send; empty: off")
    ("smtpd_tls_cert_file", s(""), "PEM certificate chain for STARTTLS and smtps")
    ("smtpd_tls_key_file", s(""), "PEM private key of smtpd_tls_cert_file")
    ("smtpd_tls_security_level", s("none"), "STARTTLS on the smtp service: none or may")
    ("smtpd_tls_auth_only", s("yes"), "offer AUTH only under TLS (yes or no)")
    ("broken_sasl_auth_clients", s("no"), "also advertise the old AUTH=PLAIN LOGIN form "
     "(Outlook Express, old Outlook)")
    ("smtpd_sasl_auth_enable", s("no"), "offer AUTH on the smtp service too (always on "
     "submission and smtps)")
    ("smtpd_sasl_type", s("passwd_file"), "AUTH backend: passwd_file (user:crypt-hash lines, "
     "yescrypt or SHA-512) or dovecot (Dovecot's auth protocol)")
    ("smtpd_sasl_path", s(""), "passwd_file: the file; dovecot: /path/to/auth-client socket "
     "or inet:HOST:PORT")
    ("smtpd_client_auth_failure_limit", po::value<unsigned>()->default_value(5),
     "failed AUTH attempts per client address per anvil_rate_time_unit; then 454 until the "
     "window passes (0: no limit)")
    ("anvil_rate_time_unit", s("60s"), "the window of smtpd_client_auth_failure_limit")
    ("mynetworks", s("127.0.0.0/8 [::1]/128"), "clients that may relay (permit_mynetworks)")
    ("virtual_mailbox_domains", s(""), "domains frontd is the final destination for: names, "
     "/file, texthash:/file")
    ("virtual_mailbox_maps", s(""), "texthash:/file of 'user@domain  domain/user/' lines "
     "(a trailing / means Maildir); recipients not in it are rejected at RCPT (550 5.1.1)")
    ("virtual_mailbox_base", s("/var/mail/vhosts"), "directory the map's paths are relative to")
    ("virtual_uid_maps", s(""), "static:UID owning delivered mail (empty: frontd's own user)")
    ("virtual_gid_maps", s(""), "static:GID owning delivered mail")
    ("header_checks", s(""), "regexp:/file or pcre:/file of Postfix header_checks rules "
     "(IGNORE, REJECT, WARN, DISCARD, REPLACE, PREPEND) for mail from the smtp, submission "
     "and smtps services")
    ("hopcount_limit", po::value<unsigned>()->default_value(50),
     "Received fields a message may have; more is a mail loop, refused with 554 5.4.6 "
     "(Postfix default; RFC 5321 §6.3)")
    ("content_filter", s(""), "where each queued message goes before delivery, e.g. "
     "smtp:[127.0.0.1]:10024 (filterd); empty: deliver directly")
    ("relayhost", s(""), "next hop for mail to other domains: [host]:port; empty: the "
     "domain's MX hosts on port 25")
    ("smtp_tls_security_level", s("none"), "STARTTLS to relayhost and MX hosts: none, may "
     "(when offered) or encrypt (required; the certificate is not verified, as in Postfix)")
    ("smtp_sasl_password_maps", s(""), "texthash:/file of 'relayhost  user:password' lines "
     "(the key is relayhost exactly as written, e.g. [mail.example.net]:587); AUTH PLAIN "
     "to relayhost, only under TLS")
    ("queue_directory", s("/var/spool/frontd"), "the durable queue")
    ("maximal_queue_lifetime", s("5d"), "undeliverable mail is returned to the sender after "
     "this long (Postfix default 5d)")
    ("minimal_backoff_time", s("300s"), "first retry delay; it doubles per attempt")
    ("maximal_backoff_time", s("4000s"), "longest retry delay")
    ("queue_run_delay", s("300s"), "how often the queue is scanned for mail whose retry time "
     "has come")
    ("default_destination_concurrency_limit", po::value<unsigned>()->default_value(20),
     "parallel deliveries")
    ("message_size_limit", po::value<unsigned long long>()->default_value(10240000),
     "largest message accepted, bytes (Postfix default; RFC 1870 SIZE)")
    ("smtpd_recipient_limit", po::value<unsigned>()->default_value(1000),
     "recipients per message")
    ("smtpd_hard_error_limit", po::value<unsigned>()->default_value(20),
     "errors before the connection is closed")
    ("line_length_limit", po::value<unsigned>()->default_value(2048),
     "longest command line, bytes")
    ("smtpd_timeout", s("300s"), "wait for a client command (RFC 5321 §4.5.3.2.7)")
    ("smtpd_data_timeout", s("600s"), "wait for more message data (RFC 5321 §4.5.3.2.5)")
    ("smtpd_client_limit", po::value<unsigned>()->default_value(100),
     "simultaneous connections; more get 421 4.3.2")
    ("smtp_connect_timeout", s("30s"), "connect to content_filter or relayhost")
    ("smtp_data_done_timeout", s("600s"), "wait for the reply after the message "
     "(content_filter scans: RFC 5321 §4.5.3.2.6)")
    ("mail_owner", s(""), "when started as root: user to switch to after binding")
    ("log", s("stderr"), "stderr, syslog or file:PATH")
    ("log_level", s("info"), "trace, debug, info, warn, error");
  // clang-format on
  return d;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : std::string(s.substr(b, e - b + 1));
}

using Raw = std::map<std::string, std::pair<std::string, std::string>>;  // key -> value, where

// Reads the file (with continuation lines) and the overrides into `raw`.
std::expected<void, std::string> read_sources(const LoadOptions& opts,
                                              const po::options_description& desc, Raw& raw) {
  auto add = [&](std::string key, std::string value,
                 const std::string& where) -> std::expected<void, std::string> {
    if (desc.find_nothrow(key, false) == nullptr) {
      return std::unexpected(where + ": unknown setting '" + key + "'");
    }
    raw[key] = {std::move(value), where};
    return {};
  };
  if (!opts.config_file.empty()) {
    std::ifstream in(opts.config_file);
    if (!in) return std::unexpected(opts.config_file + ": cannot open");
    std::string line, key, value, where;
    auto flush = [&]() -> std::expected<void, std::string> {
      if (key.empty()) return {};
      return add(std::exchange(key, {}), trim(value), where);
    };
    for (int n = 1; std::getline(in, line); ++n) {
      if (trim(line).empty() || trim(line).front() == '#') continue;
      if ((line.front() == ' ' || line.front() == '\t') && !key.empty()) {
        value += " " + trim(line);  // main.cf continuation line
        continue;
      }
      if (auto r = flush(); !r) return r;
      where = opts.config_file + ":" + std::to_string(n);
      size_t eq = line.find('=');
      if (eq == std::string::npos || trim(line.substr(0, eq)).empty()) {
        return std::unexpected(where + ": expected 'key = value'");
      }
      key = trim(line.substr(0, eq));
      value = line.substr(eq + 1);
    }
    if (auto r = flush(); !r) return r;
  }
  for (const auto& o : opts.overrides) {
    std::string s = o.starts_with("--") ? o.substr(2) : o;
    size_t eq = s.find('=');
    if (eq == std::string::npos) return std::unexpected("command line: expected --key=value: " + o);
    if (auto r = add(s.substr(0, eq), s.substr(eq + 1), "command line"); !r) return r;
  }
  return {};
}

// Stores `raw` into `vm` through the option table (type checks).
std::expected<void, std::string> store(const po::options_description& desc, const Raw& raw,
                                       po::variables_map& vm) {
  for (const auto& [key, v] : raw) {
    std::vector<std::string> args{"--" + key + "=" + v.first};
    try {
      po::store(po::command_line_parser(args).options(desc).run(), vm);
    } catch (const po::error& e) {
      return std::unexpected(v.second + ": " + e.what());
    }
  }
  try {
    // Applies the defaults of every option not set above.
    po::store(po::command_line_parser(std::vector<std::string>{}).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return std::unexpected(std::string("configuration: ") + e.what());
  }
  return {};
}

// $name / ${name} expansion against the final string settings (one level
// deep per pass, at most a few passes: no recursion loops).
std::string expand(std::string v, const std::map<std::string, std::string>& vars) {
  for (int pass = 0; pass < 4 && v.find('$') != std::string::npos; ++pass) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] != '$' || i + 1 >= v.size()) {
        out += v[i];
        continue;
      }
      size_t start = i + 1, end;
      if (v[start] == '{') {
        end = v.find('}', start);
        if (end == std::string::npos) {
          out += v[i];
          continue;
        }
        auto it = vars.find(v.substr(start + 1, end - start - 1));
        out += it == vars.end() ? "" : it->second;
        i = end;
      } else {
        end = start;
        while (end < v.size() &&
               (std::isalnum(static_cast<unsigned char>(v[end])) || v[end] == '_'))
          ++end;
        auto it = vars.find(v.substr(start, end - start));
        out += it == vars.end() ? "" : it->second;
        i = end - 1;
      }
    }
    v = std::move(out);
  }
  return v;
}

std::expected<std::vector<smtp::Endpoint>, std::string> parse_listen(std::string_view v) {
  std::vector<smtp::Endpoint> out;
  std::string s(v);
  for (char& c : s) c = c == ',' ? ' ' : c;
  std::istringstream words(s);
  for (std::string w; words >> w;) {
    auto ep = smtp::parse_endpoint("smtp:" + w);
    if (!ep || ep->is_unix()) return std::unexpected("expected HOST:PORT, got '" + w + "'");
    out.push_back(*ep);
  }
  return out;
}

std::expected<unsigned, std::string> parse_static_id(std::string_view v) {
  if (!v.starts_with("static:")) return std::unexpected("expected static:NUMBER");
  unsigned id = 0;
  std::string_view n = v.substr(7);
  auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), id);
  if (ec != std::errc() || p != n.data() + n.size() || n.empty()) {
    return std::unexpected("expected static:NUMBER");
  }
  return id;
}

bool is_loopback(const std::string& host) {
  return host == "::1" || host.starts_with("127.");
}

}  // namespace

std::expected<std::chrono::seconds, std::string> parse_duration(std::string_view v) {
  long long n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p == v.data() || n < 0) {
    return std::unexpected("expected a time such as 300s, 5m, 2h or 5d, got '" + std::string(v) +
                           "'");
  }
  std::string_view unit(p, static_cast<size_t>(v.data() + v.size() - p));
  long long mult = unit.empty() || unit == "s" ? 1
                   : unit == "m"               ? 60
                   : unit == "h"               ? 3600
                   : unit == "d"               ? 86400
                   : unit == "w"               ? 604800
                                               : 0;
  if (mult == 0) return std::unexpected("unknown time unit '" + std::string(unit) + "'");
  return std::chrono::seconds(n * mult);
}

std::expected<smtp::Endpoint, std::string> parse_next_hop(std::string_view v) {
  std::string transport = "smtp";
  for (std::string_view t : {"smtp:", "lmtp:"}) {
    if (v.starts_with(t)) {
      transport = std::string(t.substr(0, 4));
      v.remove_prefix(t.size());
    }
  }
  std::string host, port = "25";
  if (v.starts_with("[")) {
    size_t close = v.find(']');
    if (close == std::string_view::npos) return std::unexpected("missing ] in next hop");
    host = std::string(v.substr(1, close - 1));
    std::string_view rest = v.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::unexpected("expected [host]:port");
      port = std::string(rest.substr(1));
    }
  } else {
    size_t colon = v.rfind(':');
    host = std::string(v.substr(0, colon));
    if (colon != std::string_view::npos) port = std::string(v.substr(colon + 1));
  }
  if (host.empty()) return std::unexpected("empty host in next hop");
  const bool v6 = host.find(':') != std::string::npos;
  auto ep = smtp::parse_endpoint(transport + ":" + (v6 ? "[" + host + "]" : host) + ":" + port);
  if (!ep) return std::unexpected(ep.error());
  return *ep;
}

std::expected<Config, std::string> load_config(const LoadOptions& opts) {
  const po::options_description desc = option_table();
  Raw raw;
  if (auto r = read_sources(opts, desc, raw); !r) return std::unexpected(r.error());
  po::variables_map vm;
  if (auto r = store(desc, raw, vm); !r) return std::unexpected(r.error());

  std::map<std::string, std::string> vars;
  for (const auto& [key, value] : vm) {
    if (auto* sv = boost::any_cast<std::string>(&value.value())) vars[key] = *sv;
  }
  if (vars["myhostname"].empty()) vars["myhostname"] = system_hostname();
  if (vars["mydomain"].empty()) {
    const std::string& h = vars["myhostname"];
    size_t dot = h.find('.');
    vars["mydomain"] = dot == std::string::npos ? "localdomain" : h.substr(dot + 1);
  }
  auto where = [&](const std::string& key) {
    auto it = raw.find(key);
    return it == raw.end() ? key + " (default)" : it->second.second + ": " + key;
  };
  auto bad = [&](const std::string& key, const std::string& why) {
    return std::unexpected(where(key) + ": " + why);
  };
  auto str = [&](const std::string& k) { return expand(vars[k], vars); };
  auto num = [&](const char* k) { return vm[k].as<unsigned>(); };
  auto dur = [&](const std::string& k,
                 std::chrono::seconds& out) -> std::expected<void, std::string> {
    auto d = parse_duration(str(k));
    if (!d) return bad(k, d.error());
    out = *d;
    return {};
  };

  Config c;
  c.myhostname = str("myhostname");
  c.mydomain = str("mydomain");
  c.postmaster_domain = str("postmaster_domain");
  c.smtpd_banner = str("smtpd_banner");
  if (c.smtpd_banner.find_first_of("\r\n") != std::string::npos) {
    return bad("smtpd_banner", "must be one line");
  }
  auto smtp_listen = parse_listen(str("smtp_listen"));
  if (!smtp_listen) return bad("smtp_listen", smtp_listen.error());
  c.smtp_listen = *smtp_listen;
  auto reinject = parse_listen(str("reinjection_listen"));
  if (!reinject) return bad("reinjection_listen", reinject.error());
  for (const auto& ep : *reinject) {
    if (!is_loopback(ep.host)) {
      return bad("reinjection_listen", ep.host +
                                           " is not a loopback address (it accepts mail "
                                           "for anywhere, unfiltered)");
    }
  }
  c.reinjection_listen = *reinject;
  for (auto [key, out] : {std::pair{"submission_listen", &c.submission_listen},
                          std::pair{"smtps_listen", &c.smtps_listen}}) {
    auto eps = parse_listen(str(key));
    if (!eps) return bad(key, eps.error());
    *out = *eps;
  }
  auto yes_no = [&](const char* key, bool& out) -> std::expected<void, std::string> {
    const std::string v = str(key);
    if (v != "yes" && v != "no") return bad(key, "expected yes or no");
    out = v == "yes";
    return {};
  };
  for (auto [key, out] : {std::pair{"smtpd_tls_auth_only", &c.tls_auth_only},
                          std::pair{"broken_sasl_auth_clients", &c.broken_sasl_auth_clients},
                          std::pair{"smtpd_sasl_auth_enable", &c.smtp_sasl_auth_enable}}) {
    if (auto r = yes_no(key, *out); !r) return std::unexpected(r.error());
  }
  const std::string level = str("smtpd_tls_security_level");
  if (level != "none" && level != "may")
    return bad("smtpd_tls_security_level", "expected none or may");
  c.smtp_offer_starttls = level == "may";
  c.tls_cert_file = str("smtpd_tls_cert_file");
  c.tls_key_file = str("smtpd_tls_key_file");
  const bool tls_needed =
      c.smtp_offer_starttls || !c.submission_listen.empty() || !c.smtps_listen.empty();
  if (tls_needed && (c.tls_cert_file.empty() || c.tls_key_file.empty())) {
    return bad(c.tls_cert_file.empty() ? "smtpd_tls_cert_file" : "smtpd_tls_key_file",
               "needed for submission, smtps or smtpd_tls_security_level = may");
  }
  c.sasl_type = str("smtpd_sasl_type");
  c.sasl_path = str("smtpd_sasl_path");
  if (c.sasl_type != "passwd_file" && c.sasl_type != "dovecot") {
    return bad("smtpd_sasl_type", "expected passwd_file or dovecot");
  }
  const bool sasl_needed =
      c.smtp_sasl_auth_enable || !c.submission_listen.empty() || !c.smtps_listen.empty();
  if (sasl_needed && c.sasl_path.empty()) {
    return bad("smtpd_sasl_path", "needed for AUTH (submission, smtps, smtpd_sasl_auth_enable)");
  }
  c.auth_failure_limit = num("smtpd_client_auth_failure_limit");
  if (auto r = dur("anvil_rate_time_unit", c.auth_failure_window); !r) {
    return std::unexpected(r.error());
  }
  auto nets = policy::NetworkList::parse(str("mynetworks"));
  if (!nets) return bad("mynetworks", nets.error());
  c.mynetworks = std::make_shared<const policy::NetworkList>(std::move(*nets));

  c.virtual_mailbox_domains = str("virtual_mailbox_domains");
  c.virtual_mailbox_maps = str("virtual_mailbox_maps");
  c.virtual_mailbox_base = str("virtual_mailbox_base");
  if (!c.virtual_mailbox_maps.empty()) {
    if (auto p = map_path(c.virtual_mailbox_maps); !p)
      return bad("virtual_mailbox_maps", p.error());
  }
  if (c.virtual_mailbox_base.empty() || c.virtual_mailbox_base.front() != '/') {
    return bad("virtual_mailbox_base", "expected an absolute path");
  }
  if (!str("virtual_uid_maps").empty() || !str("virtual_gid_maps").empty()) {
    auto uid = parse_static_id(str("virtual_uid_maps"));
    if (!uid) return bad("virtual_uid_maps", uid.error());
    auto gid = parse_static_id(str("virtual_gid_maps"));
    if (!gid) return bad("virtual_gid_maps", gid.error());
    c.mailbox_owner = MailboxOwner{*uid, *gid};
  }
  c.header_checks = str("header_checks");
  c.hopcount_limit = num("hopcount_limit");
  if (c.hopcount_limit == 0) return bad("hopcount_limit", "must be > 0");
  if (!c.header_checks.empty() && !c.header_checks.starts_with("regexp:/") &&
      !c.header_checks.starts_with("pcre:/")) {
    return bad("header_checks", "expected regexp:/PATH or pcre:/PATH");
  }
  if (!str("content_filter").empty()) {
    auto ep = parse_next_hop(str("content_filter"));
    if (!ep) return bad("content_filter", ep.error());
    c.content_filter = *ep;
  }
  if (!str("relayhost").empty()) {
    auto ep = parse_next_hop(str("relayhost"));
    if (!ep) return bad("relayhost", ep.error());
    c.relayhost = *ep;
  }
  c.queue_directory = str("queue_directory");
  if (c.queue_directory.empty() || c.queue_directory.front() != '/') {
    return bad("queue_directory", "expected an absolute path");
  }
  for (auto [key, out] : {std::pair{"maximal_queue_lifetime", &c.maximal_queue_lifetime},
                          std::pair{"minimal_backoff_time", &c.minimal_backoff_time},
                          std::pair{"maximal_backoff_time", &c.maximal_backoff_time},
                          std::pair{"queue_run_delay", &c.queue_run_delay},
                          std::pair{"smtpd_timeout", &c.smtpd_timeout},
                          std::pair{"smtpd_data_timeout", &c.data_timeout},
                          std::pair{"smtp_connect_timeout", &c.client_options.connect_timeout},
                          std::pair{"smtp_data_done_timeout", &c.client_options.data_timeout}}) {
    if (auto r = dur(key, *out); !r) return std::unexpected(r.error());
    if (out->count() == 0 && std::string_view(key) != "maximal_queue_lifetime") {
      return bad(key, "must be > 0");
    }
  }
  if (c.minimal_backoff_time > c.maximal_backoff_time) {
    return bad("minimal_backoff_time", "is larger than maximal_backoff_time");
  }
  c.delivery_concurrency = num("default_destination_concurrency_limit");
  if (c.delivery_concurrency == 0)
    return bad("default_destination_concurrency_limit", "must be > 0");
  c.session_limits.max_message_size = vm["message_size_limit"].as<unsigned long long>();
  c.session_limits.max_recipients = num("smtpd_recipient_limit");
  c.session_limits.max_errors = num("smtpd_hard_error_limit");
  c.session_limits.max_command_line = num("line_length_limit");
  if (c.session_limits.max_message_size == 0) return bad("message_size_limit", "must be > 0");
  if (c.session_limits.max_recipients == 0) return bad("smtpd_recipient_limit", "must be > 0");
  if (c.session_limits.max_command_line < 512) {
    return bad("line_length_limit", "must be at least 512 (RFC 5321 §4.5.3.1.4)");
  }
  c.max_connections = num("smtpd_client_limit");
  if (c.max_connections == 0) return bad("smtpd_client_limit", "must be > 0");
  c.client_options.helo_name = c.myhostname;
  c.client_options.all_or_nothing = false;  // per-recipient results go into the queue status
  c.relay_options = c.client_options;
  c.relay_options.send_xforward = false;
  const std::string tls_level = str("smtp_tls_security_level");
  if (tls_level == "none") {
    c.relay_options.tls = smtp::ClientOptions::Tls::kNone;
  } else if (tls_level == "may") {
    c.relay_options.tls = smtp::ClientOptions::Tls::kMay;
  } else if (tls_level == "encrypt") {
    c.relay_options.tls = smtp::ClientOptions::Tls::kEncrypt;
  } else {
    return bad("smtp_tls_security_level", "expected none, may or encrypt");
  }
  if (!str("smtp_sasl_password_maps").empty()) {
    auto path = map_path(str("smtp_sasl_password_maps"));
    if (!path) return bad("smtp_sasl_password_maps", path.error());
    auto map = TextMap::load(*path);
    if (!map) return bad("smtp_sasl_password_maps", map.error());
    if (auto v = map->find(str("relayhost"))) {
      const size_t colon = v->find(':');
      if (colon == std::string::npos || colon == 0) {
        return bad("smtp_sasl_password_maps", "expected user:password for " + str("relayhost"));
      }
      c.relay_options.auth_user = v->substr(0, colon);
      c.relay_options.auth_password = v->substr(colon + 1);
    }
  }
  c.mail_owner = str("mail_owner");
  if (!c.mail_owner.empty() && getpwnam(c.mail_owner.c_str()) == nullptr) {
    return bad("mail_owner", "unknown user '" + c.mail_owner + "'");
  }
  c.log = str("log");
  if (c.log != "stderr" && c.log != "syslog" && !c.log.starts_with("file:/")) {
    return bad("log", "expected stderr, syslog or file:/PATH");
  }
  c.log_level = str("log_level");
  if (c.log_level != "trace" && c.log_level != "debug" && c.log_level != "info" &&
      c.log_level != "warn" && c.log_level != "error") {
    return bad("log_level", "expected trace, debug, info, warn or error");
  }
  return c;
}

std::string non_default_settings(const LoadOptions& opts) {
  const po::options_description desc = option_table();
  Raw raw;
  if (!read_sources(opts, desc, raw)) return {};
  std::ostringstream out;
  for (const auto& [key, v] : raw) out << key << " = " << v.first << "\n";
  return out.str();
}

std::string default_config_file() {
  std::ostringstream out;
  out << "# frontd.conf — frontd's configuration, main.cf style: \"key = value\" lines,\n"
         "# \"#\" comments, a line starting with white space continues the one above,\n"
         "# $name and ${name} expand other settings (Postfix names where Postfix has\n"
         "# one). Every setting is listed below, commented out, with its default; set\n"
         "# only what differs (`frontd -n` shows exactly that, like `postconf -n`).\n"
         "# Any setting can also be given as --key=value, which wins over this file.\n"
         "# Check a file with: frontd --config /etc/frontd/frontd.conf --check-config\n"
         "#\n"
         "# Generated by `frontd --print-defaults`; a unit test keeps the two in step.\n";
  out << filterd::commented_options(option_table());
  return out.str();
}

std::string describe_options() {
  std::ostringstream out;
  out << option_table();
  return out.str();
}

}  // namespace filterd::frontd
