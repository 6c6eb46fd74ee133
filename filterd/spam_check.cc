// spam_check.cc — see spam_check.h.
#include "filterd/spam_check.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "filterd/embedded_files.h"

namespace filterd {
namespace {

namespace fs = std::filesystem;

// sa-update's rules replace the packaged ones when present
// (/var/lib/spamassassin/<version>/updates_spamassassin_org); the newest
// version directory that holds *.cf files wins.
std::string stock_rules_dir() {
  std::error_code ec;
  std::string best, best_version;
  for (const auto& e : fs::directory_iterator("/var/lib/spamassassin", ec)) {
    const fs::path dir = e.path() / "updates_spamassassin_org";
    const std::string version = e.path().filename().string();
    if (version.empty() || !std::isdigit(static_cast<unsigned char>(version[0]))) continue;
    bool has_cf = false;
    for (const auto& f : fs::directory_iterator(dir, ec)) has_cf |= f.path().extension() == ".cf";
    if (has_cf && version > best_version) best = dir.string(), best_version = version;
  }
  return best.empty() ? "/usr/share/spamassassin" : best;
}

// The compiled-in local rules as a file the rule reader can open (it
// resolves includes relative to files); "" if it cannot be written.
std::string builtin_local_rules(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path path = fs::path(dir) / "spam_local.cf";
  const fs::path tmp = fs::path(dir) / "spam_local.cf.tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << embedded::kFiles.at("etc/spam_local.cf");
    if (!out.flush()) return "";
  }
  fs::rename(tmp, path, ec);
  return ec ? "" : path.string();
}

}  // namespace

spam::EngineOptions spam_engine_options(const Config& config) {
  spam::EngineOptions o;
  for (const auto& d : config.spam.rule_dirs) {
    if (d == "auto") {
      o.rule_dirs.push_back(stock_rules_dir());
      o.rule_dirs.push_back("/etc/spamassassin");
    } else {
      o.rule_dirs.push_back(d);
    }
  }
  if (config.spam.local_rules == "builtin") {
    if (std::string path = builtin_local_rules(config.spam.cache_dir); !path.empty()) {
      o.files.push_back(path);
    } else {
      spdlog::error("spam rules: cannot write the built-in local rules to {}",
                    config.spam.cache_dir);
    }
  } else if (config.spam.local_rules != "none") {
    o.files.push_back(config.spam.local_rules);
  }
  o.cache_dir = config.spam.cache_dir;
  o.trusted_networks = config.spam.trusted_networks;
  return o;
}

namespace {

// Loads and logs: one summary line, every rule that cannot run.
std::shared_ptr<const spam::RuleEngine> load_spam_engine(const Config& config) {
  const spam::EngineOptions options = spam_engine_options(config);
  std::string dirs;
  for (const auto& d : options.rule_dirs) dirs += (dirs.empty() ? "" : " ") + d;
  spdlog::info("spam rules: loading {}{}", dirs, options.files.empty() ? "" : " and local rules");
  auto engine = spam::RuleEngine::load(options);
  spdlog::info("spam rules: {}", engine->summary());
  for (const auto& d : engine->diagnostics()) spdlog::info("spam rules: skipped {}", d);
  if (engine->rules().files.empty()) {
    spdlog::warn("spam rules: no rule files found in {}; only GTUBE is checked", dirs);
  }
  return engine;
}

}  // namespace

std::expected<std::unique_ptr<SpamChecker>, std::string> SpamChecker::make(const Config& config) {
  std::unique_ptr<SpamChecker> checker(new SpamChecker(config));
  if (!config.spam.enabled) return checker;
  if (config.spam.backend == "spamd") {
    auto client = scanners::SpamdClient::make(config.spam.spamd_socket, config.spam.spamd_timeout);
    if (!client) return std::unexpected(client.error().message);
    checker->spamd_ = std::move(*client);
    spdlog::info("spam checks: {}", checker->spamd_->describe());
    return checker;
  }
  checker->engine_ = load_spam_engine(config);
  return checker;
}

std::string SpamChecker::describe() const {
  if (spamd_) return spamd_->describe();
  return engine_ ? "built-in rules" : "off";
}

void SpamChecker::reload() {
  if (!engine_) return;  // spamd reloads its own rules
  auto fresh = load_spam_engine(config_);
  // Rule files that vanished (a package upgrade in progress, a bad mount)
  // must not silently turn the filter into GTUBE only.
  if (fresh->rules().files.empty() && !engine()->rules().files.empty()) {
    spdlog::error("spam rules: reload found no rule files; keeping the rules loaded before");
    return;
  }
  std::lock_guard lock(mutex_);
  engine_ = std::move(fresh);
}

namespace {

std::string_view truncated(std::string_view message, uint64_t max_size) {
  if (message.size() <= max_size) return message;
  size_t cut = message.rfind('\n', max_size);
  return message.substr(0, cut == std::string_view::npos ? max_size : cut + 1);
}

// The built-in rules on one message: tests "NAME=score", sorted by name.
policy::SpamResult check_spam(const spam::RuleEngine& engine, std::string_view message,
                              std::string_view sender, uint64_t max_size) {
  spam::CheckInput in;
  in.message = truncated(message, max_size);
  in.envelope_from = std::string(sender);
  const spam::CheckResult r = engine.check(in);
  policy::SpamResult out;
  out.score = r.score;
  for (const auto& h : r.hits) out.tests.push_back(h.name + "=" + policy::score_text(h.score));
  return out;
}

}  // namespace

std::expected<policy::SpamResult, std::string> SpamChecker::check(std::string_view message,
                                                                  std::string_view sender) const {
  if (auto e = engine()) return check_spam(*e, message, sender, config_.spam.max_size);
  if (!spamd_) return std::unexpected("spam checks are off");
  std::string with_sender = "Return-Path: <" + std::string(sender) + ">\r\n";
  with_sender += truncated(message, config_.spam.max_size);
  auto r = spamd_->check(with_sender);
  if (!r) return std::unexpected(r.error().message);
  policy::SpamResult out;
  out.score = r->score;
  out.tests = std::move(r->symbols);
  std::ranges::sort(out.tests);
  return out;
}

}  // namespace filterd
