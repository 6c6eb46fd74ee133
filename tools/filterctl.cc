// filterctl — the admin's command-line tool.
//
//   filterctl scan [--config FILE] [--clamav-db DIR] [--no-spam] [--verbose] [--parts]
//                  [--json] FILE... | -
//   filterctl spam-rules [--config FILE] [--cache-dir DIR]
//   filterctl quarantine ...   (see quarantine_cli.h)
//
// scan classifies messages or plain files offline with the same decoders,
// engine and settings as the daemon. Output like clamscan: "FILE: OK",
// "FILE: NAME FOUND", "FILE: ERROR reason", and filterd's own categories
// "FILE: UNCHECKED (max expansion exceeded in p002 zbsm.zip)", "FILE: SPAM
// score=12.3 tests=[GTUBE,...]" (at or above spam_kill_level; --verbose
// adds the score and hits to every line, --no-spam skips the rules; inputs
// that do not start like a message are not spam-checked). Exit 0 all
// clean, 1 something blocking or unchecked, 2 an error (which wins: an
// unscanned file is not clean). --parts adds the part tree under each file
// (path, declared type, declared name, detected type, size, decoder);
// --json prints one JSON object per file instead.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "decoders/decoder.h"
#include "filterd/config.h"
#include "filterd/content_scan.h"
#include "filterd/scanner_factory.h"
#include "filterd/spam_check.h"
#include "tools/cli_text.h"
#include "tools/quarantine_cli.h"

namespace {

constexpr const char* kUsage =
    "usage: filterctl scan [--config FILE] [--clamav-db DIR] [--no-spam] [--verbose] [--parts]\n"
    "                      [--json] FILE... | -\n"
    "       filterctl spam-rules [--config FILE] [--cache-dir DIR]\n"
    "       filterctl quarantine [--config FILE] list|show|release|delete|purge|stats ...\n";

using filterd::tools::json_string;
using filterd::tools::read_all;

// Parts sorted by path, so children follow their parent.
std::vector<const filterd::decoders::Part*> sorted_parts(const filterd::decoders::DecodeResult& r) {
  std::vector<const filterd::decoders::Part*> v;
  for (const auto& p : r.parts) v.push_back(&p);
  std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->path < b->path; });
  return v;
}

void print_parts(const filterd::decoders::DecodeResult& r, const filterd::policy::Findings& f) {
  for (const auto* p : sorted_parts(r)) {
    std::string indent(static_cast<size_t>(2 * p->depth), ' ');
    std::cout << indent << p->path << "  " << (p->declared_type.empty() ? "-" : p->declared_type)
              << "  " << (p->declared_names.empty() ? "-" : p->declared_names.front()) << "  "
              << (p->detected_type.empty() ? "?" : p->detected_type) << "  " << p->content.size()
              << "  " << p->decoder;
    if (p->encrypted) std::cout << "  ENCRYPTED";
    if (!p->problem.empty()) std::cout << "  (" << p->problem << ")";
    std::cout << "\n";
  }
  if (!f.virus_location.empty()) std::cout << "  virus in " << f.virus_location << "\n";
  if (!r.limit.empty()) std::cout << "  limit: " << r.limit << "\n";
}

void print_json(const std::string& label, const std::string& verdict,
                const filterd::policy::Findings& f, const filterd::decoders::DecodeResult& r) {
  std::cout << "{\"file\":" << json_string(label) << ",\"verdict\":" << json_string(verdict)
            << ",\"virus_location\":" << json_string(f.virus_location)
            << ",\"limit\":" << json_string(r.limit) << ",\"decoded_bytes\":" << r.decoded_bytes;
  if (f.spam) {
    std::cout << ",\"spam_score\":" << filterd::policy::score_text(f.spam->score)
              << ",\"spam_tests\":[";
    for (size_t i = 0; i < f.spam->tests.size(); ++i) {
      std::cout << (i ? "," : "") << json_string(f.spam->tests[i]);
    }
    std::cout << "]";
  }
  std::cout << ",\"parts\":[";
  bool first = true;
  for (const auto* p : sorted_parts(r)) {
    if (!first) std::cout << ",";
    first = false;
    std::cout << "{\"path\":" << json_string(p->path)
              << ",\"declared_type\":" << json_string(p->declared_type) << ",\"names\":[";
    for (size_t i = 0; i < p->declared_names.size(); ++i) {
      std::cout << (i ? "," : "") << json_string(p->declared_names[i]);
    }
    std::cout << "],\"detected_type\":" << json_string(p->detected_type)
              << ",\"size\":" << p->content.size() << ",\"decoder\":" << json_string(p->decoder)
              << ",\"encrypted\":" << (p->encrypted ? "true" : "false")
              << ",\"problem\":" << json_string(p->problem) << "}";
  }
  std::cout << "]}\n";
}

// Mail, not just any file: it starts with a header field (or an mbox
// "From " line), so the spam rules have something to judge.
bool looks_like_message(std::string_view data) {
  if (data.starts_with("From ")) return true;
  const size_t colon = data.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon > 76) return false;
  return std::ranges::all_of(data.substr(0, colon), [](char c) { return c > ' ' && c <= '~'; });
}

// "score=12.3 tests=[GTUBE,MISSING_HEADERS]"
std::string spam_words(const filterd::policy::SpamResult& s) {
  std::string names;
  for (const auto& t : s.tests) names += (names.empty() ? "" : ",") + t.substr(0, t.find('='));
  return "score=" + filterd::policy::score_text(s.score) + " tests=[" + names + "]";
}

int scan(int argc, char** argv) {
  filterd::LoadOptions load;
  std::vector<std::string> files;
  bool show_parts = false, json = false, verbose = false;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (a == flag && i + 1 < argc) return std::string(argv[++i]);
      if (a.starts_with(std::string(flag) + "=")) return a.substr(std::string(flag).size() + 1);
      return std::nullopt;
    };
    if (auto v = value("--config")) {
      load.config_file = *v;
    } else if (auto d = value("--clamav-db")) {
      load.overrides.push_back("--clamav_db=" + *d);
      load.overrides.push_back("--clamav_backend=libclamav");
    } else if (a == "--no-spam") {
      load.overrides.push_back("--spam_checks=no");
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--parts") {
      show_parts = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "-" || !a.starts_with("-")) {
      files.push_back(a);
    } else {
      std::cerr << "filterctl scan: unknown option '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (files.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  auto config = filterd::load_config(load);
  if (!config) {
    std::cerr << "filterctl: " << config.error() << "\n";
    return 2;
  }
  auto scanner = filterd::make_scanner(*config);
  if (!scanner) {
    std::cerr << "filterctl: virus scanner: " << scanner.error() << "\n";
    return 2;
  }
  const auto registry = filterd::decoders::builtin_decoders();
  std::filesystem::create_directories(config->decode_limits.temp_dir);
  // The spam rules load on the first input that is a message (plain files
  // are not spam-checked), so scanning files never waits for a compile.
  std::unique_ptr<filterd::SpamChecker> spam;
  int status = 0;
  for (const auto& f : files) {
    const std::string label = f == "-" ? "stdin" : f;
    auto data = read_all(f);
    if (!data) {
      std::cout << label << ": ERROR cannot read\n";
      status = 2;
      continue;
    }
    filterd::ContentScan scan =
        filterd::scan_content(*data, **scanner, registry, config->decode_limits, config->policy);
    if (config->spam.enabled && looks_like_message(*data) && !spam) {
      auto made = filterd::SpamChecker::make(*config);
      if (!made) {
        std::cerr << "filterctl: spam checks: " << made.error() << "\n";
        return 2;
      }
      spam = std::move(*made);
    }
    if (spam && looks_like_message(*data)) {
      if (auto r = spam->check(*data, "")) {
        scan.findings.spam = std::move(*r);
      } else {
        std::cerr << "filterctl: " << label << ": spam check failed: " << r.error() << "\n";
      }
    }
    const filterd::policy::Findings& fi = scan.findings;
    const filterd::policy::Decision d = filterd::policy::decide(
        fi, config->policy.recipient, config->policy.scanner_failure_destiny);
    int file_status = 0;
    std::string verdict;
    if (!fi.viruses.empty()) {
      for (const auto& v : fi.viruses) verdict += v + " ";
      verdict += "FOUND";
      file_status = 1;
    } else if (fi.scan_failed) {
      verdict = "ERROR " + fi.scan_error;
      file_status = 2;
    } else if (!fi.banned.empty()) {
      verdict = "BANNED (" + fi.banned.front().reason + ")";
      file_status = 1;
    } else if (d.main == filterd::policy::Category::kUnchecked) {
      verdict = "UNCHECKED" + (d.minor == "ENCRYPTED" ? "-ENCRYPTED" : std::string()) + " (" +
                (d.minor == "ENCRYPTED" ? fi.encrypted : fi.unchecked_reason) + ")";
      file_status = 1;
    } else if (d.main == filterd::policy::Category::kSpam) {
      verdict = "SPAM";
      file_status = 1;
    } else {
      verdict = d.main == filterd::policy::Category::kSpammy && verbose ? "SPAMMY" : "OK";
    }
    if (fi.spam && (verdict == "SPAM" || verbose)) verdict += " " + spam_words(*fi.spam);
    status = file_status == 2 || status == 2 ? 2 : std::max(status, file_status);
    if (json) {
      print_json(label, verdict, fi, scan.decoded);
      continue;
    }
    std::cout << label << ": " << verdict << "\n";
    if (show_parts) print_parts(scan.decoded, fi);
  }
  return status;
}

// `filterctl spam-rules`: loads the spam rules as the daemon would, which
// compiles them into the cache (run it after sa-update, before SIGHUP, so
// the reload is quick), and prints the summary and every rule skipped, like
// `spamassassin --lint`. Exit 0, or 2 on a config error.
int spam_rules(int argc, char** argv) {
  filterd::LoadOptions load;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      load.config_file = argv[++i];
    } else if (a == "--cache-dir" && i + 1 < argc) {
      load.overrides.push_back(std::string("--spam_cache_dir=") + argv[++i]);
    } else {
      std::cerr << "filterctl spam-rules: unknown option '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  auto config = filterd::load_config(load);
  if (!config) {
    std::cerr << "filterctl: " << config.error() << "\n";
    return 2;
  }
  if (!config->spam.enabled || config->spam.backend != "builtin") {
    std::cout << "the built-in spam rules are off (spam_checks = no or spam_backend = spamd)\n";
    return 0;
  }
  auto engine = filterd::spam::RuleEngine::load(filterd::spam_engine_options(*config));
  std::cout << engine->summary() << "\n";
  for (const auto& d : engine->diagnostics()) std::cout << "skipped " << d << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // stdout carries only verdict lines; diagnostics go to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("filterctl"));
  spdlog::set_level(spdlog::level::warn);
  if (argc >= 2 && std::string(argv[1]) == "scan") return scan(argc - 2, argv + 2);
  if (argc >= 2 && std::string(argv[1]) == "spam-rules") return spam_rules(argc - 2, argv + 2);
  if (argc >= 2 && std::string(argv[1]) == "quarantine") {
    return filterd::tools::quarantine_command(argc - 2, argv + 2);
  }
  std::cerr << kUsage;
  return 2;
}
