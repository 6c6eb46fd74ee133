// quarantine_cli.cc — see quarantine_cli.h.
#include "tools/quarantine_cli.h"

#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "decoders/decoder.h"
#include "decoders/header_block.h"
#include "filterd/config.h"
#include "filterd/content_scan.h"
#include "filterd/release.h"
#include "filterd/scanner_factory.h"
#include "quarantine/store.h"
#include "smtp/asio.h"
#include "tools/cli_text.h"

namespace filterd::tools {
namespace {

constexpr const char* kUsage =
    "usage: filterctl quarantine [--config FILE] COMMAND ...\n"
    "  list [--category C] [--since T] [--until T] [--sender S] [--recipient R]\n"
    "       [--subject S] [--limit N] [--offset N] [--json]\n"
    "  show ID [--raw] [--json]\n"
    "  release ID [--to ADDR]... [--by WHO]\n"
    "  delete ID\n"
    "  purge --older-than AGE\n"
    "  stats [--since T] [--json]\n";

// The command's arguments: flags with values, repeatable, and positionals.
struct Args {
  std::multimap<std::string, std::string> flags;
  std::vector<std::string> positional;
  bool has(const std::string& f) const { return flags.contains(f); }
  std::string get(const std::string& f) const {
    auto it = flags.find(f);
    return it == flags.end() ? "" : it->second;
  }
};

std::optional<Args> parse_args(int argc, char** argv, const std::vector<std::string>& booleans) {
  Args a;
  for (int i = 0; i < argc; ++i) {
    std::string s = argv[i];
    if (!s.starts_with("--")) {
      a.positional.push_back(s);
      continue;
    }
    if (size_t eq = s.find('='); eq != std::string::npos) {
      a.flags.emplace(s.substr(0, eq), s.substr(eq + 1));
    } else if (std::find(booleans.begin(), booleans.end(), s) != booleans.end()) {
      a.flags.emplace(s, "");
    } else if (i + 1 < argc) {
      a.flags.emplace(s, argv[++i]);
    } else {
      std::cerr << "filterctl quarantine: " << s << " needs a value\n";
      return std::nullopt;
    }
  }
  return a;
}

std::string who_am_i() {
  for (const char* v : {"SUDO_USER", "USER", "LOGNAME"}) {
    if (const char* u = std::getenv(v); u && *u) return std::string("filterctl:") + u;
  }
  return "filterctl";
}

std::string joined(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string entry_json(const quarantine::Entry& e) {
  std::string rcpts;
  for (const auto& r : e.recipients) rcpts += (rcpts.empty() ? "" : ",") + json_string(r);
  return "{\"mail_id\":" + json_string(e.mail_id) + ",\"time\":" + std::to_string(e.time) +
         ",\"category\":" + json_string(e.category) + ",\"minor\":" + json_string(e.minor) +
         ",\"reason\":" + json_string(e.reason) +
         ",\"spam_score\":" + std::to_string(e.spam_score) +
         ",\"sender\":" + json_string(e.sender) + ",\"recipients\":[" + rcpts + "]" +
         ",\"from\":" + json_string(e.from) + ",\"subject\":" + json_string(e.subject) +
         ",\"message_id\":" + json_string(e.message_id) + ",\"size\":" + std::to_string(e.size) +
         ",\"client\":" + json_string(e.client_addr) + ",\"bank\":" + json_string(e.policy_bank) +
         ",\"path\":" + json_string(e.path) + ",\"released_at\":" + std::to_string(e.released_at) +
         ",\"released_by\":" + json_string(e.released_by) + "}";
}

std::optional<int64_t> time_flag(const Args& a, const std::string& flag) {
  if (!a.has(flag)) return 0;
  auto t = parse_time_arg(a.get(flag));
  if (!t) {
    std::cerr << "filterctl quarantine: " << flag << ": expected a date, seconds or an age\n";
    return std::nullopt;
  }
  return t->relative ? std::time(nullptr) - t->value : t->value;
}

int list(quarantine::Store& store, const Args& a) {
  quarantine::Filter f;
  f.category = a.get("--category");
  f.sender = a.get("--sender");
  f.recipient = a.get("--recipient");
  f.subject = a.get("--subject");
  auto since = time_flag(a, "--since");
  auto until = time_flag(a, "--until");
  if (!since || !until) return 2;
  f.since = *since;
  f.until = *until;
  if (a.has("--limit")) f.limit = std::stoul(a.get("--limit"));
  if (a.has("--offset")) f.offset = std::stoul(a.get("--offset"));
  auto rows = store.list(f);
  if (!rows) {
    std::cerr << "filterctl quarantine: " << rows.error() << "\n";
    return 2;
  }
  if (a.has("--json")) {
    std::cout << "[";
    for (size_t i = 0; i < rows->size(); ++i)
      std::cout << (i ? ",\n " : "") << entry_json((*rows)[i]);
    std::cout << "]\n";
    return 0;
  }
  std::printf("%-12s  %-19s  %-12s  %8s  %s\n", "MAIL_ID", "DATE (UTC)", "CATEGORY", "SIZE",
              "SENDER -> RECIPIENTS: SUBJECT");
  for (const auto& e : *rows) {
    std::string what = "<" + e.sender + "> -> " + joined(e.recipients) + ": " + e.subject;
    if (e.released_at) what += "  [released]";
    std::printf("%-12s  %-19s  %-12s  %8llu  %s\n", e.mail_id.c_str(), utc_time(e.time).c_str(),
                e.category.c_str(), static_cast<unsigned long long>(e.size), what.c_str());
  }
  return 0;
}

int show(const Config& config, quarantine::Store& store, const Args& a) {
  if (a.positional.size() != 1) {
    std::cerr << kUsage;
    return 2;
  }
  auto e = store.get(a.positional[0]);
  if (!e) {
    std::cerr << "filterctl quarantine: " << e.error() << "\n";
    return 2;
  }
  if (!*e) {
    std::cerr << "filterctl quarantine: no such mail id: " << a.positional[0] << "\n";
    return 1;
  }
  auto message = store.read_message(**e);
  if (!message) {
    std::cerr << "filterctl quarantine: " << a.positional[0] << ": " << message.error() << "\n";
    return 2;
  }
  if (a.has("--raw")) {
    std::cout << *message;
    return 0;
  }
  if (a.has("--json")) {
    std::cout << entry_json(**e) << "\n";
    return 0;
  }
  const quarantine::Entry& x = **e;
  std::cout << "Mail id:     " << x.mail_id << "\n"
            << "Date:        " << utc_time(x.time) << " UTC\n"
            << "Category:    " << x.category << (x.minor.empty() ? "" : "-" + x.minor) << "\n"
            << "Reason:      " << x.reason << "\n";
  if (x.spam_score != 0)
    std::cout << "Spam score:  " << x.spam_score << " " << x.spam_tests << "\n";
  std::cout << "Sender:      <" << x.sender << ">\n"
            << "Recipients:  " << joined(x.recipients) << "\n"
            << "Client:      " << (x.client_addr.empty() ? "-" : x.client_addr) << "\n"
            << "Policy bank: " << x.policy_bank << "\n"
            << "Size:        " << x.size << "\n"
            << "File:        " << store.root() << "/" << x.path << "\n"
            << "Released:    "
            << (x.released_at ? utc_time(x.released_at) + " UTC by " + x.released_by + " to " +
                                    joined(x.released_to)
                              : std::string("no"))
            << "\n\n";
  const size_t end = decoders::header_section_end(*message);
  std::cout << message->substr(0, end);
  if (end == 0 || (*message)[end - 1] != '\n') std::cout << "\n";

  // The part tree with each part's verdict, by today's rules and signatures.
  auto scanner = make_scanner(config);
  if (!scanner) {
    std::cout << "Parts: (virus scanner unavailable: " << scanner.error() << ")\n";
    return 0;
  }
  const decoders::DecoderRegistry registry = decoders::builtin_decoders();
  std::filesystem::create_directories(config.decode_limits.temp_dir);
  ContentScan scan =
      scan_content(*message, **scanner, registry, config.decode_limits, config.policy);
  std::cout << "Parts:\n";
  for (size_t i = 0; i < scan.decoded.parts.size(); ++i) {
    const decoders::Part& p = scan.decoded.parts[i];
    std::string verdict;
    for (int v : scan.findings.virus_parts) {
      if (v == static_cast<int>(i)) verdict = "  INFECTED (" + joined(scan.findings.viruses) + ")";
    }
    for (const auto& b : scan.findings.banned) {
      if (b.part == static_cast<int>(i)) verdict += "  BANNED (" + b.reason + ")";
    }
    if (p.encrypted) verdict += "  ENCRYPTED";
    std::cout << std::string(static_cast<size_t>(2 * p.depth), ' ') << p.path << "  "
              << (p.declared_type.empty() ? "-" : p.declared_type) << "  "
              << (p.declared_names.empty() ? "-" : p.declared_names.front()) << "  "
              << (p.detected_type.empty() ? "?" : p.detected_type) << "  " << p.content.size()
              << (verdict.empty() ? "  OK" : verdict) << "\n";
  }
  if (!scan.findings.viruses.empty() && scan.findings.virus_parts.empty()) {
    std::cout << "  (virus found in the message as a whole: " << joined(scan.findings.viruses)
              << ")\n";
  }
  return 0;
}

int release(const Config& config, quarantine::Store& store, const Args& a) {
  if (a.positional.size() != 1) {
    std::cerr << kUsage;
    return 2;
  }
  std::vector<std::string> to;
  for (auto [it, end] = a.flags.equal_range("--to"); it != end; ++it) to.push_back(it->second);
  const std::string by = a.has("--by") ? a.get("--by") : who_am_i();
  boost::asio::io_context io;
  ReleaseOutcome out;
  boost::asio::co_spawn(io, release_message(config, store, a.positional[0], to, by),
                        [&](std::exception_ptr, ReleaseOutcome r) { out = std::move(r); });
  io.run();
  if (!out.error.empty() && out.replies.empty()) {
    std::cerr << "filterctl quarantine: " << a.positional[0] << ": " << out.error << "\n";
    return 2;
  }
  if (!out.found) {
    std::cerr << "filterctl quarantine: no such mail id: " << a.positional[0] << "\n";
    return 1;
  }
  if (out.already) {
    std::cout << a.positional[0] << ": already released, nothing sent\n";
    return 1;
  }
  for (size_t i = 0; i < out.replies.size(); ++i) {
    std::cout << a.positional[0] << ": <" << out.recipients[i] << "> " << out.replies[i].one_line()
              << "\n";
  }
  if (!out.error.empty()) std::cerr << "filterctl quarantine: " << out.error << "\n";
  return out.any_accepted() ? 0 : 2;
}

int remove(quarantine::Store& store, const Args& a) {
  if (a.positional.size() != 1) {
    std::cerr << kUsage;
    return 2;
  }
  auto r = store.remove(a.positional[0]);
  if (!r) {
    std::cerr << "filterctl quarantine: " << r.error() << "\n";
    return 2;
  }
  if (!*r) {
    std::cerr << "filterctl quarantine: no such mail id: " << a.positional[0] << "\n";
    return 1;
  }
  std::cout << a.positional[0] << ": deleted\n";
  return 0;
}

int purge(quarantine::Store& store, const Args& a) {
  auto age = parse_time_arg(a.get("--older-than"));
  if (!age || !age->relative) {
    std::cerr << "filterctl quarantine: purge needs --older-than AGE (e.g. 30d)\n";
    return 2;
  }
  auto n = store.purge(std::time(nullptr) - age->value);
  if (!n) {
    std::cerr << "filterctl quarantine: " << n.error() << "\n";
    return 2;
  }
  std::cout << "purged " << *n << " messages older than " << a.get("--older-than") << "\n";
  return 0;
}

int stats(quarantine::Store& store, const Args& a) {
  auto since = time_flag(a, "--since");
  if (!since) return 2;
  auto rows = store.stats(*since);
  if (!rows) {
    std::cerr << "filterctl quarantine: " << rows.error() << "\n";
    return 2;
  }
  if (a.has("--json")) {
    std::cout << "[";
    for (size_t i = 0; i < rows->size(); ++i) {
      const auto& s = (*rows)[i];
      std::cout << (i ? "," : "") << "{\"day\":" << json_string(s.day)
                << ",\"category\":" << json_string(s.category) << ",\"count\":" << s.count << "}";
    }
    std::cout << "]\n";
    return 0;
  }
  std::printf("%-10s  %-12s  %8s\n", "DAY", "CATEGORY", "COUNT");
  for (const auto& s : *rows) {
    std::printf("%-10s  %-12s  %8llu\n", s.day.c_str(), s.category.c_str(),
                static_cast<unsigned long long>(s.count));
  }
  return 0;
}

}  // namespace

int quarantine_command(int argc, char** argv) {
  LoadOptions load;
  int i = 0;
  for (; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--config" && i + 1 < argc) {
      load.config_file = argv[++i];
    } else if (s.starts_with("--config=")) {
      load.config_file = s.substr(9);
    } else {
      break;
    }
  }
  if (i >= argc) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = argv[i];
  auto args = parse_args(argc - i - 1, argv + i + 1, {"--json", "--raw"});
  if (!args) return 2;
  auto config = load_config(load);
  if (!config) {
    std::cerr << "filterctl: " << config.error() << "\n";
    return 2;
  }
  auto store = quarantine::Store::open(config->quarantine_dir,
                                       {.gzip = config->quarantine_gzip, .create = false});
  if (!store) {
    std::cerr << "filterctl quarantine: " << store.error() << "\n";
    return 2;
  }
  if (command == "list") return list(*store, *args);
  if (command == "show") return show(*config, *store, *args);
  if (command == "release") return release(*config, *store, *args);
  if (command == "delete") return remove(*store, *args);
  if (command == "purge") return purge(*store, *args);
  if (command == "stats") return stats(*store, *args);
  std::cerr << "filterctl quarantine: unknown command '" << command << "'\n" << kUsage;
  return 2;
}

}  // namespace filterd::tools
