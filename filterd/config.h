// config.h — filterd's settings: every option with its default and reason,
// loaded from a config file ("key = value" lines) plus command-line
// overrides ("--key=value"), validated into typed values.
//
// Diagnostics: load_config() reports the first problem as
// "FILE:LINE: reason" (or "command line: reason"); unknown options are
// errors. Exceptions stay inside this module (start-up only).
#pragma once

#include <chrono>
#include <expected>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "decoders/message_decoder.h"
#include "policy/cidr.h"
#include "policy/settings.h"
#include "policy/verdict.h"
#include "scanners/virus_scanner.h"
#include "smtp/client.h"
#include "smtp/endpoint.h"
#include "smtp/server_session.h"

namespace filterd {

struct Config {
  std::vector<smtp::Endpoint> listen;         // where the MTA hands us mail (after-queue)
  std::vector<smtp::Endpoint> proxy_listen;   // before-queue proxy (smtpd_proxy_filter)
  smtp::Endpoint proxy_forward;               // the proxy's downstream
  std::vector<smtp::Endpoint> milter_listen;  // milter (smtpd_milters)
  std::chrono::seconds in_dialog_timeout{0};  // end of DATA to verdict, proxy and milter
  unsigned unix_socket_mode = 0660;           // for unix-domain listeners
  std::string unix_socket_group;              // empty: our own group
  smtp::Endpoint forward;                     // where passed mail goes
  std::string myhostname;
  std::string x_virus_scanned;  // the header value, "$myhostname" expanded

  std::string clamav_backend;  // "libclamav" | "clamd"
  std::string clamav_db;
  std::string clamd_socket;
  std::chrono::seconds clamd_timeout{0};
  std::chrono::seconds clamav_db_check_interval{0};
  scanners::ClamavLimits clamav_limits;

  struct Spam {
    bool enabled = true;
    std::string backend;  // "builtin" | "spamd"
    std::string spamd_socket;
    std::chrono::seconds spamd_timeout{0};
    std::vector<std::string> rule_dirs;  // {"auto"} or directories
    std::string local_rules;             // "builtin" | "none" | a path
    std::string cache_dir;
    uint64_t max_size = 0;
    std::vector<std::string> trusted_networks;  // SpamAssassin's trusted_networks
  } spam;

  policy::Settings policy;  // the base policy bank
  // Every combination of banks a message can load, by bank_key(); filled
  // when policy banks are configured. Use bank_for().
  std::map<std::string, policy::Settings> banks;
  std::map<unsigned, std::string> bank_by_port;  // listen port -> bank name
  std::shared_ptr<const policy::NetworkList> mynetworks;
  decoders::DecodeLimits decode_limits;  // temp_dir = state_dir/tmp

  smtp::SessionLimits session_limits;
  std::chrono::seconds smtp_timeout{0};  // idle time between commands
  std::chrono::seconds data_timeout{0};  // idle time while reading DATA
  smtp::ClientOptions forward_options;
  bool forward_connection_cache = true;  // Processor keeps next-hop sessions
  unsigned max_connections = 0;
  unsigned workers = 0;  // 0 = one per usable CPU
  bool worker_cpu_affinity = true;

  std::string quarantine_dir;  // message files and index.sqlite
  bool quarantine_gzip = false;
  std::string release_socket;               // AM.PDP listener; "" = none
  std::vector<std::string> release_admins;  // may release without secret_id

  std::string user;       // drop privileges to this user after binding
  std::string state_dir;  // temp files, pid file
  std::string log;        // "stderr" | "syslog" | "file:PATH"
  std::string log_level;

  // The policy for a message that arrived on `local_port` from
  // `client_addr` (XFORWARD ADDR, else the peer): the base bank, then the
  // port's bank, then MYNETS if the client is in mynetworks, then
  // ORIGINATING if the result says the mail is originating.
  const policy::Settings& bank_for(unsigned local_port, std::string_view client_addr) const;
};

std::string bank_key(std::string_view port_bank, bool mynets);

struct LoadOptions {
  std::string config_file;             // empty = built-in defaults only
  std::vector<std::string> overrides;  // "--key=value" strings
};

// Parses and validates. The Config is complete: defaults filled in.
std::expected<Config, std::string> load_config(const LoadOptions& opts);

// The settings whose values differ from the defaults, one "key = value" per
// line, sorted (like `postconf -n`).
std::string non_default_settings(const LoadOptions& opts);

// Every option as a commented-out "#key = default" line under its help
// text: the body of etc/filterd.conf (`filterd --print-defaults`).
std::string default_config_file();

// Every option, its default and its help text (for --help and the docs).
std::string describe_options();

}  // namespace filterd
