// config.h — frontd's settings, Postfix main.cf names where Postfix has
// one: every option with its default and reason, loaded from a main.cf-like
// file ("key = value", '#' comments, a line starting with white space
// continues the previous one, $name and ${name} expand other settings)
// plus command-line overrides ("--key=value", like postfix -o).
//
// Diagnostics: load_config() reports the first problem as "FILE:LINE:
// reason" or "KEY: reason"; unknown options are errors. Exceptions stay
// inside this module (start-up only).
#pragma once

#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontd/maildir.h"
#include "frontd/maps.h"
#include "policy/cidr.h"
#include "smtp/client.h"
#include "smtp/endpoint.h"
#include "smtp/server_session.h"

namespace filterd::frontd {

struct Config {
  std::string myhostname;
  std::string mydomain;
  std::string postmaster_domain;  // bare <postmaster> goes to postmaster@ this
  std::string smtpd_banner;       // expanded

  std::vector<smtp::Endpoint> smtp_listen;         // port 25 role: local domains only
  std::vector<smtp::Endpoint> reinjection_listen;  // loopback only: from content_filter
  std::vector<smtp::Endpoint> submission_listen;   // port 587 role: STARTTLS, then AUTH
  std::vector<smtp::Endpoint> smtps_listen;        // port 465 role: TLS from the start, AUTH

  std::string tls_cert_file, tls_key_file;
  bool smtp_offer_starttls = false;  // smtpd_tls_security_level = may (smtp service)
  bool tls_auth_only = true;         // AUTH only under TLS
  bool broken_sasl_auth_clients = false;
  bool smtp_sasl_auth_enable = false;  // AUTH on the smtp service too
  std::string sasl_type;               // "passwd_file" | "dovecot"
  std::string sasl_path;
  unsigned auth_failure_limit = 0;  // failed AUTHs per client per window
  std::chrono::seconds auth_failure_window{0};
  std::shared_ptr<const policy::NetworkList> mynetworks;

  std::string virtual_mailbox_domains;  // spec, parsed into DomainList at start
  std::string virtual_mailbox_maps;     // "texthash:/path"
  std::string virtual_mailbox_base;
  std::optional<MailboxOwner> mailbox_owner;  // from virtual_uid_maps/virtual_gid_maps

  std::string header_checks;    // "regexp:/path" | "pcre:/path" | ""
  unsigned hopcount_limit = 0;  // Received fields before a message is refused as a loop

  std::optional<smtp::Endpoint> content_filter;  // none: deliver directly
  std::optional<smtp::Endpoint> relayhost;

  std::string queue_directory;
  std::chrono::seconds maximal_queue_lifetime{0};
  std::chrono::seconds minimal_backoff_time{0};
  std::chrono::seconds maximal_backoff_time{0};
  std::chrono::seconds queue_run_delay{0};
  unsigned delivery_concurrency = 0;

  smtp::SessionLimits session_limits;
  std::chrono::seconds smtpd_timeout{0};
  std::chrono::seconds data_timeout{0};
  unsigned max_connections = 0;
  smtp::ClientOptions client_options;  // to content_filter (loopback: no TLS, no AUTH)
  // To relayhost: client_options plus smtp_tls_security_level and the
  // credentials for relayhost from smtp_sasl_password_maps. The TLS client
  // context is made at start (main.cc).
  smtp::ClientOptions relay_options;

  std::string mail_owner;  // drop privileges to this user after binding
  std::string log;         // "stderr" | "syslog" | "file:PATH"
  std::string log_level;
};

struct LoadOptions {
  std::string config_file;             // empty = built-in defaults only
  std::vector<std::string> overrides;  // "--key=value"
};

std::expected<Config, std::string> load_config(const LoadOptions& opts);

// Settings that differ from the defaults, "key = value" sorted (postconf -n).
std::string non_default_settings(const LoadOptions& opts);
// Every option as a commented "#key = default" under its help text.
std::string default_config_file();
std::string describe_options();

// Postfix time values: "300", "300s", "5m", "2h", "5d", "1w".
std::expected<std::chrono::seconds, std::string> parse_duration(std::string_view v);

// Postfix next-hop forms: "[host]:port", "host:port", "[host]", with an
// optional "smtp:" or "lmtp:" transport in front ("smtp:[127.0.0.1]:10024").
// Without a port: 25. Brackets are accepted and dropped (frontd never does
// MX lookups for an explicit next hop).
std::expected<smtp::Endpoint, std::string> parse_next_hop(std::string_view v);

}  // namespace filterd::frontd
