// config.cc — see config.h. Boost.Program_options holds the option table;
// the file is read line by line here so that errors can name the line.
#include "filterd/config.h"

#include <grp.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "filterd/option_file.h"
#include "filterd/policy_config.h"
#include "filterd/worker_threads.h"
#include "policy/cidr.h"
#include "policy/lookup.h"

namespace filterd {
namespace po = boost::program_options;
namespace {

po::options_description option_table() {
  po::options_description d("filterd options");
  // clang-format off
  d.add_options()
    ("listen", po::value<std::vector<std::string>>()->composing(),
     "where the MTA hands mail in: smtp:HOST:PORT, lmtp:HOST:PORT or lmtp:unix:PATH "
     "(repeatable; default smtp:127.0.0.1:10024, the amavis port, unless proxy_listen or "
     "milter_listen is set)")
    ("proxy_listen", po::value<std::vector<std::string>>()->composing(),
     "before-queue proxy listeners for Postfix's smtpd_proxy_filter: smtp:HOST:PORT "
     "(repeatable; none by default). Each session is relayed to proxy_forward in real time "
     "and the scan answers the end of DATA")
    ("proxy_forward", po::value<std::string>()->default_value(""),
     "the proxy's downstream, Postfix's reinjection smtpd (default: forward)")
    ("milter_listen", po::value<std::vector<std::string>>()->composing(),
     "milter listeners for Postfix's smtpd_milters / non_smtpd_milters: inet:HOST:PORT or "
     "unix:PATH (repeatable; none by default)")
    ("in_dialog_timeout", po::value<unsigned>()->default_value(60),
     "seconds a proxy or milter message may take from end of DATA to verdict; past it the "
     "client gets 451 4.4.5 (well inside Postfix's smtpd_proxy_timeout of 100 s)")
    ("unix_socket_mode", po::value<std::string>()->default_value("0660"),
     "permissions of unix-domain listen sockets, octal (amavis $unix_socket_mode)")
    ("unix_socket_group", po::value<std::string>()->default_value(""),
     "group of unix-domain listen sockets, e.g. postfix so that Postfix's lmtp client "
     "can connect (default: filterd's own group)")
    ("forward", po::value<std::string>()->default_value("smtp:127.0.0.1:10025"),
     "next hop for passed mail and DSNs (Postfix's reinjection smtpd)")
    ("myhostname", po::value<std::string>()->default_value(""),
     "host name in greetings, headers and DSNs (default: the system host name)")
    ("x_virus_scanned", po::value<std::string>()->default_value("filterd at $myhostname"),
     "value of the X-Virus-Scanned header added to passed mail")
    ("clamav_backend", po::value<std::string>()->default_value("libclamav"),
     "libclamav (in-process engine) or clamd")
    ("clamav_db", po::value<std::string>()->default_value("/var/lib/clamav"),
     "ClamAV signature directory (libclamav backend)")
    ("clamd_socket", po::value<std::string>()->default_value("unix:/run/clamav/clamd.ctl"),
     "clamd address: unix:PATH or inet:HOST:PORT")
    ("clamd_timeout", po::value<unsigned>()->default_value(120),
     "seconds to wait for clamd per scan (clamd's own CommandReadTimeout is 30)")
    ("clamav_db_check_interval", po::value<unsigned>()->default_value(60),
     "seconds between checks of clamav_db for changed signatures (0 = only on SIGHUP)")
    ("clamav_max_scansize", po::value<unsigned long long>()->default_value(400ULL << 20),
     "libclamav MaxScanSize: bytes scanned per message, archives included")
    ("clamav_max_filesize", po::value<unsigned long long>()->default_value(100ULL << 20),
     "libclamav MaxFileSize: largest single file scanned")
    ("clamav_max_recursion", po::value<unsigned>()->default_value(17),
     "libclamav MaxRecursion: archive nesting depth")
    ("clamav_max_files", po::value<unsigned>()->default_value(10000),
     "libclamav MaxFiles: files scanned inside one message")
    ("clamav_max_scantime", po::value<unsigned>()->default_value(120000),
     "libclamav MaxScanTime in milliseconds")
    ("clamav_tmpdir", po::value<std::string>()->default_value("/dev/shm"),
     "libclamav TemporaryDirectory: it makes a directory there for every scan and "
     "unpacks archives into it; a tmpfs saves a disk metadata write per scan (amavis "
     "sites do the same with $TEMPBASE). Falls back to state_dir/tmp if missing")
    ("spam_checks", po::value<std::string>()->default_value("yes"),
     "run the SpamAssassin-compatible rules; no: mail is never SPAM or SPAMMY and gets no "
     "X-Spam-* fields")
    ("spam_backend", po::value<std::string>()->default_value("builtin"),
     "builtin: filterd runs the SpamAssassin rules itself; spamd: ask a running spamd "
     "(SPAMC/1.5) at spamd_socket, for sites that keep SpamAssassin with its plugins")
    ("spamd_socket", po::value<std::string>()->default_value("inet:127.0.0.1:783"),
     "spamd address for spam_backend = spamd: unix:PATH or inet:HOST:PORT")
    ("spamd_timeout", po::value<unsigned>()->default_value(60),
     "seconds to wait for spamd per message; a failed check leaves the message without a score")
    ("spam_rules_dirs", po::value<std::string>()->default_value("auto"),
     "directories of SpamAssassin rule files, read in SpamAssassin's order (every *.pre, then "
     "every *.cf); auto: sa-update's /var/lib/spamassassin/<version>/updates_spamassassin_org "
     "when it exists, else /usr/share/spamassassin, then /etc/spamassassin")
    ("spam_local_rules", po::value<std::string>()->default_value("builtin"),
     "one more rule file, read last: builtin (etc/spam_local.cf, compiled in), none, or a path")
    ("spam_cache_dir", po::value<std::string>()->default_value(""),
     "compiled rule patterns are kept here so that a restart skips the compile, which takes "
     "minutes for the stock rules (default: state_dir/spam-cache)")
    ("spam_trusted_networks", po::value<std::string>()->default_value("mynetworks"),
     "relays whose Received lines the spam rules trust (SpamAssassin's trusted_networks, "
     "which internal_networks follows); mynetworks: the mynetworks list; loopback always")
    ("spam_max_size", po::value<unsigned long long>()->default_value(400ULL << 10),
     "a larger message is spam-checked on its first this many bytes (amavis "
     "$sa_mail_body_size_limit)")
    ("max_depth", po::value<unsigned>()->default_value(14),
     "nesting of parts and archives decoded (amavis $MAXLEVELS); deeper is UNCHECKED")
    ("max_files", po::value<unsigned>()->default_value(3000),
     "parts decoded from one message (amavis $MAXFILES); more is UNCHECKED")
    ("min_expansion_quota", po::value<unsigned long long>()->default_value(100 * 1024),
     "decoded bytes always allowed per message (amavis $MIN_EXPANSION_QUOTA)")
    ("max_expansion_quota", po::value<unsigned long long>()->default_value(500ULL << 20),
     "decoded bytes never exceeded per message (amavis $MAX_EXPANSION_QUOTA)")
    ("min_expansion_factor", po::value<unsigned>()->default_value(5),
     "decoded bytes allowed as a multiple of the message size, at least (amavis)")
    ("max_expansion_factor", po::value<unsigned>()->default_value(500),
     "decoded bytes allowed as a multiple of the message size, at most (amavis); "
     "quota = max(min(max_quota, size*max_factor), max(min_quota, size*min_factor))")
    ("max_member_size", po::value<unsigned long long>()->default_value(100ULL << 20),
     "largest single decoded part, bytes (ClamAV scans no more: MaxFileSize)")
    ("max_mime_parts", po::value<unsigned>()->default_value(1000),
     "MIME entities parsed per message (rspamd's limit); more is UNCHECKED")
    ("max_mime_nesting", po::value<unsigned>()->default_value(30),
     "multipart nesting parsed; deeper is UNCHECKED")
    ("decode_time_budget", po::value<unsigned>()->default_value(20000),
     "milliseconds of decoding per message; past it the message is UNCHECKED")
    ("decode_spill_threshold", po::value<unsigned long long>()->default_value(8ULL << 20),
     "decoded parts larger than this many bytes go to a temp file under state_dir/tmp")
    ("max_message_size", po::value<unsigned long long>()->default_value(50ULL << 20),
     "largest message accepted, bytes (RFC 1870 SIZE)")
    ("max_recipients", po::value<unsigned>()->default_value(1000),
     "recipients per transaction (Postfix smtpd_recipient_limit)")
    ("max_command_line", po::value<unsigned>()->default_value(2048),
     "longest command line, bytes (RFC 5321 says 512; XFORWARD needs more)")
    ("max_errors", po::value<unsigned>()->default_value(20),
     "protocol errors before the connection is closed (Postfix smtpd_hard_error_limit)")
    ("smtp_timeout", po::value<unsigned>()->default_value(300),
     "seconds to wait for a command (RFC 5321 §4.5.3.2.7: 5 minutes)")
    ("data_timeout", po::value<unsigned>()->default_value(600),
     "seconds to wait for more message data (RFC 5321 §4.5.3.2.5)")
    ("forward_connect_timeout", po::value<unsigned>()->default_value(30),
     "seconds to connect to the next hop and get its greeting")
    ("forward_command_timeout", po::value<unsigned>()->default_value(300),
     "seconds to wait for the next hop's reply to a command (RFC 5321 §4.5.3.2)")
    ("forward_data_timeout", po::value<unsigned>()->default_value(600),
     "seconds to wait for the next hop's reply at end of data (RFC 5321 §4.5.3.2.6)")
    ("forward_connection_cache", po::value<std::string>()->default_value("yes"),
     "keep sessions to the next hop open for the next message, a few seconds at most "
     "(Postfix's smtp_connection_cache_on_demand): saves a connect and EHLO per message")
    ("max_connections", po::value<unsigned>()->default_value(100),
     "simultaneous connections; more get 421 4.3.2")
    ("workers", po::value<unsigned>()->default_value(0),
     "scanning threads (0 = one per CPU filterd may use)")
    ("worker_cpu_affinity", po::value<std::string>()->default_value("yes"),
     "bind each scanning thread to a CPU of its own (when there are no more workers than "
     "CPUs): a message's spam rules and virus scan then run side by side at once; no where "
     "filterd shares its CPUs with other heavy work")
    ("user", po::value<std::string>()->default_value(""),
     "when started as root: user to switch to after binding the listeners")
    ("state_dir", po::value<std::string>()->default_value("/var/lib/filterd"),
     "directory for filterd's working files")
    ("log", po::value<std::string>()->default_value("stderr"),
     "where logs go: stderr, syslog or file:PATH")
    ("log_level", po::value<std::string>()->default_value("info"),
     "trace, debug, info, warn, error")
    ("local_domains", po::value<std::string>()->default_value(""),
     "domains whose recipients get spam header fields, subject tags and warnings: "
     "example.com (that domain), .example.org (it and its subdomains), . (all)")
    ("recipient_delimiter", po::value<std::string>()->default_value(""),
     "separator of address extensions, e.g. + for user+spam@ (empty: no extensions)")
    ("recipient", po::value<std::vector<std::string>>()->composing(),
     "per-recipient settings, repeatable: KEY SETTING=VALUE ..., e.g. "
     "'boss@example.com spam_lover=yes' or '.example.org spam_kill_level=10'; KEY is "
     "user@domain, user@, domain or .domain (amavis lookup order, most specific wins)")
    ("recipient_map", po::value<std::string>()->default_value(""),
     "file with more recipient entries, one 'KEY SETTING=VALUE ...' per line")
    ("mynetworks", po::value<std::string>()->default_value(
       "127.0.0.0/8 [::1]/128 [fe80::]/10 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16"),
     "client networks whose mail loads the MYNETS policy bank, if one is defined "
     "(amavis @mynetworks; the client is XFORWARD's ADDR when the MTA sends it)")
    ("quarantine_dir", po::value<std::string>()->default_value(""),
     "where quarantined mail and its SQLite index live (default: state_dir/quarantine)")
    ("quarantine_gzip", po::value<std::string>()->default_value("no"),
     "gzip quarantined messages")
    ("release_socket", po::value<std::string>()->default_value(""),
     "unix socket for amavis AM.PDP release requests (amavisd-release, web front ends); "
     "empty: none")
    ("release_admins", po::value<std::string>()->default_value(""),
     "requesters (requested_by) who may release without the secret_id")
    ("policy_bank_by_port", po::value<std::vector<std::string>>()->composing(),
     "PORT:NAME, repeatable: mail arriving on listen port PORT loads policy bank NAME, "
     "e.g. 10026:ORIGINATING");
  // clang-format on
  d.add(policy_option_table());
  return d;
}

std::string origin_of(const Origins& o, const std::string& key) {
  auto it = o.find(key);
  return it == o.end() ? "default" : it->second;
}

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Parses the file and the overrides into `vm`; records each key's origin.
// Options that may be given more than once; for the rest the last wins.
const std::set<std::string> kRepeatable = {"listen", "proxy_listen", "milter_listen", "recipient",
                                           "policy_bank_by_port"};

// Postfix's milter address forms: "inet:HOST:PORT", "unix:PATH".
std::expected<smtp::Endpoint, std::string> parse_milter_endpoint(std::string_view spec) {
  if (spec.starts_with("inet:")) return smtp::parse_endpoint("smtp:" + std::string(spec.substr(5)));
  if (spec.starts_with("unix:")) return smtp::parse_endpoint("smtp:" + std::string(spec));
  return std::unexpected("expected inet:HOST:PORT or unix:PATH, got '" + std::string(spec) + "'");
}

// One [policy_bank NAME] section: its options and where each was set.
struct BankSection {
  std::vector<po::option> options;
  Origins origins;
};

std::expected<void, std::string> parse_all(const LoadOptions& opts,
                                           const po::options_description& desc,
                                           po::variables_map& vm, Origins& origins,
                                           std::map<std::string, BankSection>* banks = nullptr) {
  // Entries per key from the file, then from the command line. A key set
  // on the command line replaces the file's values for it (like postfix -o);
  // within one source the last value of a single-valued key wins.
  std::vector<std::pair<std::string, po::option>> file_opts, cli_opts;
  auto add_one = [&](const std::string& key, const std::string& value, const std::string& where,
                     auto& into, Origins& seen) -> std::expected<void, std::string> {
    std::vector<std::string> args{"--" + key + "=" + value};
    try {
      auto parsed = po::command_line_parser(args).options(desc).run();
      for (auto& o : parsed.options) into.emplace_back(o.string_key, o);
      seen[key] = where;
    } catch (const po::error& e) {
      return std::unexpected(where + ": " + e.what());
    }
    return {};
  };

  if (!opts.config_file.empty()) {
    std::ifstream in(opts.config_file);
    if (!in) return std::unexpected(opts.config_file + ": cannot open");
    const po::options_description bank_desc = policy_option_table();
    std::string line, bank;  // the current [policy_bank NAME] section, "" = top level
    for (int n = 1; std::getline(in, line); ++n) {
      std::string where = opts.config_file + ":" + std::to_string(n);
      std::string t = trim(line);
      if (t.empty() || t.front() == '#') continue;
      if (t.front() == '[') {
        const std::string head = t.back() == ']' ? trim(t.substr(1, t.size() - 2)) : "";
        if (!head.starts_with("policy_bank ") || trim(head.substr(12)).empty()) {
          return std::unexpected(where + ": expected [policy_bank NAME]");
        }
        bank = trim(head.substr(12));
        if (banks) (*banks)[bank];
        continue;
      }
      size_t eq = t.find('=');
      if (eq == std::string::npos) return std::unexpected(where + ": expected 'key = value'");
      std::string key = trim(t.substr(0, eq));
      std::string value = trim(t.substr(eq + 1));
      if (key.empty()) return std::unexpected(where + ": expected 'key = value'");
      if (bank.empty()) {
        if (auto r = add_one(key, value, where, file_opts, origins); !r) return r;
        continue;
      }
      if (bank_desc.find_nothrow(key, false) == nullptr) {
        return std::unexpected(where + ": " + key + " cannot be set in a policy bank");
      }
      BankSection scratch;
      BankSection& section = banks ? (*banks)[bank] : scratch;
      std::vector<std::pair<std::string, po::option>> one;
      if (auto r = add_one(key, value, where, one, section.origins); !r) return r;
      std::erase_if(section.options, [&](const po::option& o) { return o.string_key == key; });
      for (auto& [k, o] : one) section.options.push_back(o);
    }
  }
  for (const auto& o : opts.overrides) {
    std::string s = o.starts_with("--") ? o.substr(2) : o;
    size_t eq = s.find('=');
    if (eq == std::string::npos) return std::unexpected("command line: expected --key=value: " + o);
    if (auto r = add_one(s.substr(0, eq), s.substr(eq + 1), "command line", cli_opts, origins);
        !r) {
      return r;
    }
  }
  po::parsed_options merged(&desc);
  std::set<std::string> from_cli;
  for (const auto& [key, o] : cli_opts) from_cli.insert(key);
  std::map<std::string, size_t> last;  // key -> index in merged of its single value
  auto merge = [&](const auto& list, bool skip_cli_keys) {
    for (const auto& [key, o] : list) {
      if (skip_cli_keys && from_cli.contains(key)) continue;
      auto it = last.find(key);
      if (it != last.end() && !kRepeatable.contains(key)) {
        merged.options[it->second] = o;
      } else {
        last[key] = merged.options.size();
        merged.options.push_back(o);
      }
    }
  };
  merge(file_opts, true);
  merge(cli_opts, false);
  try {
    po::store(merged, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return std::unexpected(std::string("configuration: ") + e.what());
  }
  return {};
}

// The policy part of the config: the base bank, recipient entries, bank
// selection, and every combination of banks a message can load.
std::expected<void, std::string> load_policy(const po::variables_map& vm, const Origins& origins,
                                             std::map<std::string, BankSection>& sections,
                                             Config& c) {
  auto str = [&](const char* k) { return vm[k].as<std::string>(); };
  auto bad = [&](const std::string& key, const std::string& why) {
    return std::unexpected(origin_of(origins, key) + ": " + key + ": " + why);
  };
  PolicyResources resources;
  if (auto r = apply_policy_options(vm, false, origins, c.myhostname, resources, c.policy); !r) {
    return r;
  }
  auto local = policy::LookupSet::parse(str("local_domains"));
  if (!local) return bad("local_domains", local.error());
  if (local->size() > 0) c.policy.local_domains = std::make_shared<const policy::LookupSet>(*local);
  const std::string delimiter = str("recipient_delimiter");
  if (delimiter.size() > 1 ||
      (delimiter.size() == 1 &&
       (delimiter[0] == '@' || static_cast<unsigned char>(delimiter[0]) <= 32))) {
    return bad("recipient_delimiter", "expected one character such as +");
  }
  c.policy.recipient_delimiter = delimiter.empty() ? 0 : delimiter[0];
  {
    auto table = std::make_shared<policy::RecipientTable>(policy::recipient_schema());
    if (!str("recipient_map").empty()) {
      auto loaded = policy::load_recipient_table(str("recipient_map"), policy::recipient_schema());
      if (!loaded) return bad("recipient_map", loaded.error());
      *table = std::move(*loaded);
    }
    if (vm.count("recipient")) {
      for (const auto& entry : vm["recipient"].as<std::vector<std::string>>()) {
        if (auto r = table->add_entry(entry, origin_of(origins, "recipient")); !r) {
          return bad("recipient", r.error());
        }
      }
    }
    if (table->size() > 0) c.policy.recipients = std::move(table);
  }
  auto nets = policy::NetworkList::parse(str("mynetworks"));
  if (!nets) return bad("mynetworks", nets.error());
  c.mynetworks = std::make_shared<const policy::NetworkList>(std::move(*nets));

  // Each bank's own options, checked once.
  const po::options_description bank_desc = policy_option_table();
  std::map<std::string, po::variables_map> bank_vms;
  for (auto& [name, section] : sections) {
    po::parsed_options parsed(&bank_desc);
    parsed.options = section.options;
    try {
      po::store(parsed, bank_vms[name]);
      po::notify(bank_vms[name]);
    } catch (const po::error& e) {
      return std::unexpected("policy bank " + name + ": " + e.what());
    }
    policy::Settings probe = c.policy;
    if (auto r = apply_policy_options(bank_vms[name], true, section.origins, c.myhostname,
                                      resources, probe);
        !r) {
      return r;
    }
  }
  std::set<std::string> port_banks{""};
  if (vm.count("policy_bank_by_port")) {
    for (const auto& entry : vm["policy_bank_by_port"].as<std::vector<std::string>>()) {
      const size_t colon = entry.find(':');
      unsigned long port = 0;
      const char* digits_end = entry.data() + (colon == std::string::npos ? 0 : colon);
      auto [end, ec] = std::from_chars(entry.data(), digits_end, port);
      if (colon == std::string::npos || ec != std::errc() || end != digits_end || port == 0 ||
          port > 65535) {
        return bad("policy_bank_by_port", "expected PORT:NAME, got '" + entry + "'");
      }
      const std::string name = entry.substr(colon + 1);
      if (!sections.contains(name)) {
        return bad("policy_bank_by_port", "no [policy_bank " + name + "] section");
      }
      c.bank_by_port[static_cast<unsigned>(port)] = name;
      port_banks.insert(name);
    }
  }
  // Loaded in this order, each on top of the last: the port's bank, MYNETS
  // when the client is in mynetworks, ORIGINATING when the mail is.
  auto apply = [&](const std::string& name,
                   policy::Settings& s) -> std::expected<void, std::string> {
    if (auto r = apply_policy_options(bank_vms[name], true, sections[name].origins, c.myhostname,
                                      resources, s);
        !r) {
      return r;
    }
    s.name = s.name == "base" ? name : s.name + "+" + name;
    return {};
  };
  for (const std::string& port_bank : port_banks) {
    for (bool mynets : {false, true}) {
      policy::Settings s = c.policy;
      if (!port_bank.empty()) {
        if (auto r = apply(port_bank, s); !r) return r;
      }
      if (mynets && sections.contains("MYNETS") && port_bank != "MYNETS") {
        if (auto r = apply("MYNETS", s); !r) return r;
      }
      if (s.originating && sections.contains("ORIGINATING") &&
          s.name.find("ORIGINATING") == std::string::npos) {
        if (auto r = apply("ORIGINATING", s); !r) return r;
      }
      c.banks[bank_key(port_bank, mynets)] = std::move(s);
    }
  }
  return {};
}

}  // namespace

std::string bank_key(std::string_view port_bank, bool mynets) {
  return std::string(port_bank) + (mynets ? "|MYNETS" : "|");
}

std::expected<Config, std::string> load_config(const LoadOptions& opts) {
  const po::options_description desc = option_table();
  po::variables_map vm;
  Origins origins;
  std::map<std::string, BankSection> banks;
  if (auto r = parse_all(opts, desc, vm, origins, &banks); !r) return std::unexpected(r.error());

  Config c;
  auto str = [&](const char* k) { return vm[k].as<std::string>(); };
  auto num = [&](const char* k) { return vm[k].as<unsigned>(); };
  auto big = [&](const char* k) { return vm[k].as<unsigned long long>(); };
  auto bad = [&](const std::string& key, const std::string& why) {
    return std::unexpected(origin_of(origins, key) + ": " + key + ": " + why);
  };

  auto list = [&](const char* k) {
    return vm.count(k) ? vm[k].as<std::vector<std::string>>() : std::vector<std::string>{};
  };
  for (const auto& l : list("proxy_listen")) {
    auto ep = smtp::parse_endpoint(l);
    if (!ep) return bad("proxy_listen", ep.error());
    if (ep->protocol != smtp::Protocol::kSmtp) return bad("proxy_listen", "Postfix speaks SMTP");
    c.proxy_listen.push_back(*ep);
  }
  for (const auto& l : list("milter_listen")) {
    auto ep = parse_milter_endpoint(l);
    if (!ep) return bad("milter_listen", ep.error());
    c.milter_listen.push_back(*ep);
  }
  std::vector<std::string> listen = list("listen");
  if (listen.empty() && c.proxy_listen.empty() && c.milter_listen.empty()) {
    listen.push_back("smtp:127.0.0.1:10024");
  }
  for (const auto& l : listen) {
    auto ep = smtp::parse_endpoint(l);
    if (!ep) return bad("listen", ep.error());
    c.listen.push_back(*ep);
  }
  c.in_dialog_timeout = std::chrono::seconds(num("in_dialog_timeout"));
  if (c.in_dialog_timeout.count() == 0) return bad("in_dialog_timeout", "must be > 0");
  {
    const std::string mode = str("unix_socket_mode");
    char* end = nullptr;
    unsigned long m = std::strtoul(mode.c_str(), &end, 8);
    if (mode.empty() || *end != '\0' || m > 0777) {
      return bad("unix_socket_mode", "expected an octal mode such as 0660");
    }
    c.unix_socket_mode = static_cast<unsigned>(m);
  }
  c.unix_socket_group = str("unix_socket_group");
  if (!c.unix_socket_group.empty() && getgrnam(c.unix_socket_group.c_str()) == nullptr) {
    return bad("unix_socket_group", "unknown group '" + c.unix_socket_group + "'");
  }
  auto fwd = smtp::parse_endpoint(str("forward"));
  if (!fwd) return bad("forward", fwd.error());
  c.forward = *fwd;
  c.proxy_forward = c.forward;
  if (!str("proxy_forward").empty()) {
    auto pf = smtp::parse_endpoint(str("proxy_forward"));
    if (!pf) return bad("proxy_forward", pf.error());
    if (pf->protocol != smtp::Protocol::kSmtp) {
      return bad("proxy_forward", "the proxy relays one SMTP transaction: use smtp:");
    }
    c.proxy_forward = *pf;
  }

  c.myhostname = str("myhostname").empty() ? system_hostname() : str("myhostname");
  c.x_virus_scanned = str("x_virus_scanned");
  for (size_t at; (at = c.x_virus_scanned.find("$myhostname")) != std::string::npos;) {
    c.x_virus_scanned.replace(at, 11, c.myhostname);
  }
  for (char ch : c.x_virus_scanned) {
    if (ch == '\r' || ch == '\n') return bad("x_virus_scanned", "must be one line");
  }

  c.clamav_backend = str("clamav_backend");
  if (c.clamav_backend != "libclamav" && c.clamav_backend != "clamd") {
    return bad("clamav_backend", "expected libclamav or clamd, got '" + c.clamav_backend + "'");
  }
  c.clamav_db = str("clamav_db");
  c.clamd_socket = str("clamd_socket");
  if (!c.clamd_socket.starts_with("unix:/") && !c.clamd_socket.starts_with("inet:")) {
    return bad("clamd_socket", "expected unix:/PATH or inet:HOST:PORT");
  }
  c.clamd_timeout = std::chrono::seconds(num("clamd_timeout"));
  c.clamav_db_check_interval = std::chrono::seconds(num("clamav_db_check_interval"));
  c.clamav_limits.max_scan_size = big("clamav_max_scansize");
  c.clamav_limits.max_file_size = big("clamav_max_filesize");
  c.clamav_limits.max_recursion = num("clamav_max_recursion");
  c.clamav_limits.max_files = num("clamav_max_files");
  c.clamav_limits.max_scan_time_ms = num("clamav_max_scantime");
  c.clamav_limits.temp_dir = str("clamav_tmpdir");

  if (str("spam_checks") != "yes" && str("spam_checks") != "no") {
    return bad("spam_checks", "expected yes or no");
  }
  c.spam.enabled = str("spam_checks") == "yes";
  c.spam.backend = str("spam_backend");
  if (c.spam.backend != "builtin" && c.spam.backend != "spamd") {
    return bad("spam_backend", "expected builtin or spamd, got '" + c.spam.backend + "'");
  }
  c.spam.spamd_socket = str("spamd_socket");
  if (!c.spam.spamd_socket.starts_with("unix:/") && !c.spam.spamd_socket.starts_with("inet:")) {
    return bad("spamd_socket", "expected unix:/PATH or inet:HOST:PORT");
  }
  c.spam.spamd_timeout = std::chrono::seconds(num("spamd_timeout"));
  if (c.spam.spamd_timeout.count() == 0) return bad("spamd_timeout", "must be > 0");
  c.spam.rule_dirs = config_words(str("spam_rules_dirs"));
  c.spam.local_rules = str("spam_local_rules");
  c.spam.max_size = big("spam_max_size");
  for (std::string net :
       config_words(str("spam_trusted_networks") == "mynetworks" ? str("mynetworks")
                                                                 : str("spam_trusted_networks"))) {
    std::erase(net, '[');  // "[::1]/128", Postfix style
    std::erase(net, ']');
    c.spam.trusted_networks.push_back(net);
  }
  if (c.spam.max_size == 0) return bad("spam_max_size", "must be > 0");

  c.decode_limits.max_depth = static_cast<int>(num("max_depth"));
  c.decode_limits.max_files = num("max_files");
  c.decode_limits.min_expansion_quota = big("min_expansion_quota");
  c.decode_limits.max_expansion_quota = big("max_expansion_quota");
  c.decode_limits.min_expansion_factor = num("min_expansion_factor");
  c.decode_limits.max_expansion_factor = num("max_expansion_factor");
  c.decode_limits.max_member_size = big("max_member_size");
  c.decode_limits.mime.max_parts = num("max_mime_parts");
  c.decode_limits.mime.max_nesting = static_cast<int>(num("max_mime_nesting"));
  c.decode_limits.time_budget = std::chrono::milliseconds(num("decode_time_budget"));
  c.decode_limits.spill_threshold = big("decode_spill_threshold");
  if (c.decode_limits.max_depth < 1) return bad("max_depth", "must be at least 1");
  if (c.decode_limits.max_files < 1) return bad("max_files", "must be at least 1");

  c.session_limits.max_message_size = big("max_message_size");
  c.session_limits.max_recipients = num("max_recipients");
  c.session_limits.max_command_line = num("max_command_line");
  c.session_limits.max_errors = num("max_errors");
  if (c.session_limits.max_message_size == 0) return bad("max_message_size", "must be > 0");
  if (c.session_limits.max_recipients == 0) return bad("max_recipients", "must be > 0");
  if (c.session_limits.max_command_line < 512) {
    return bad("max_command_line", "must be at least 512 (RFC 5321 §4.5.3.1.4)");
  }
  c.smtp_timeout = std::chrono::seconds(num("smtp_timeout"));
  c.data_timeout = std::chrono::seconds(num("data_timeout"));
  if (c.smtp_timeout.count() == 0) return bad("smtp_timeout", "must be > 0");
  if (c.data_timeout.count() == 0) return bad("data_timeout", "must be > 0");
  c.forward_options.helo_name = c.myhostname;
  c.forward_options.connect_timeout = std::chrono::seconds(num("forward_connect_timeout"));
  c.forward_options.command_timeout = std::chrono::seconds(num("forward_command_timeout"));
  c.forward_options.data_timeout = std::chrono::seconds(num("forward_data_timeout"));
  c.max_connections = num("max_connections");
  if (c.max_connections == 0) return bad("max_connections", "must be > 0");
  c.workers = num("workers");
  if (c.workers == 0) c.workers = static_cast<unsigned>(usable_cpus().size());
  if (str("worker_cpu_affinity") != "yes" && str("worker_cpu_affinity") != "no") {
    return bad("worker_cpu_affinity", "expected yes or no");
  }
  c.worker_cpu_affinity = str("worker_cpu_affinity") == "yes";

  c.user = str("user");
  c.state_dir = str("state_dir");
  c.decode_limits.temp_dir = c.state_dir + "/tmp";
  c.spam.cache_dir =
      str("spam_cache_dir").empty() ? c.state_dir + "/spam-cache" : str("spam_cache_dir");
  c.quarantine_dir =
      str("quarantine_dir").empty() ? c.state_dir + "/quarantine" : str("quarantine_dir");
  if (str("quarantine_gzip") != "yes" && str("quarantine_gzip") != "no") {
    return bad("quarantine_gzip", "expected yes or no");
  }
  c.quarantine_gzip = str("quarantine_gzip") == "yes";
  if (str("forward_connection_cache") != "yes" && str("forward_connection_cache") != "no") {
    return bad("forward_connection_cache", "expected yes or no");
  }
  c.forward_connection_cache = str("forward_connection_cache") == "yes";
  c.release_socket = str("release_socket");
  if (!c.release_socket.empty() && c.release_socket.front() != '/') {
    return bad("release_socket", "expected an absolute path");
  }
  c.release_admins = config_words(str("release_admins"));
  if (c.clamav_limits.temp_dir.empty() || ::access(c.clamav_limits.temp_dir.c_str(), W_OK) != 0) {
    c.clamav_limits.temp_dir = c.decode_limits.temp_dir;
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
  if (auto r = load_policy(vm, origins, banks, c); !r) return std::unexpected(r.error());
  return c;
}

const policy::Settings& Config::bank_for(unsigned local_port, std::string_view client_addr) const {
  auto port = bank_by_port.find(local_port);
  const bool mynets = mynetworks && mynetworks->contains(client_addr);
  auto it = banks.find(bank_key(port == bank_by_port.end() ? "" : port->second, mynets));
  return it == banks.end() ? policy : it->second;
}

std::string non_default_settings(const LoadOptions& opts) {
  const po::options_description desc = option_table();
  po::variables_map vm;
  Origins origins;
  if (!parse_all(opts, desc, vm, origins)) return {};
  std::ostringstream out;
  for (const auto& [key, value] : vm) {
    if (value.defaulted()) continue;
    const auto& v = value.value();
    if (auto* s = boost::any_cast<std::string>(&v)) {
      out << key << " = " << *s << "\n";
    } else if (auto* u = boost::any_cast<unsigned>(&v)) {
      out << key << " = " << *u << "\n";
    } else if (auto* b = boost::any_cast<unsigned long long>(&v)) {
      out << key << " = " << *b << "\n";
    } else if (auto* list = boost::any_cast<std::vector<std::string>>(&v)) {
      for (const auto& item : *list) out << key << " = " << item << "\n";
    }
  }
  return out.str();
}

std::string default_config_file() {
  return commented_options(option_table(), {{"listen", "smtp:127.0.0.1:10024"}});
}

std::string describe_options() {
  std::ostringstream out;
  out << option_table();
  return out.str();
}

}  // namespace filterd
