// spam_check.h — the spam check as the daemon and `filterctl scan` run it:
// the built-in SpamAssassin-compatible rules (spam/engine.h), or an external
// spamd (`spam_backend = spamd`, SPAMC/1.5), giving one message's score and
// hits as policy::SpamResult.
//
// Built-in: loading blocks until the engine is ready — cached pattern sets
// load in about a second, a cold compile of the stock rules takes minutes
// and happens once per rule change (spam_cache_dir). Every rule that cannot
// run is logged once with FILE:LINE, after one summary line. reload()
// builds a new engine and swaps it in; messages being checked finish with
// the old one.
//
// spamd: make() checks that spamd answers; each check sends the message
// with a Return-Path field for the envelope sender (as amavis does for
// SpamAssassin). A failed check is an error for the caller, who logs it
// and goes on without a score: mail is never lost or delayed because spamd
// is down (the virus scan still decides).
//
// Thread safety: check() and reload() may be called from any thread.
#pragma once

#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "filterd/config.h"
#include "policy/verdict.h"
#include "scanners/spamd_client.h"
#include "spam/engine.h"

namespace filterd {

// The engine options the config describes: `auto` resolved to the rule
// directories present, the built-in local rules written to the cache dir.
spam::EngineOptions spam_engine_options(const Config& config);

class SpamChecker {
 public:
  // Per config: nothing (spam_checks = no), the built-in rules, or spamd
  // (an error when spamd does not answer).
  static std::expected<std::unique_ptr<SpamChecker>, std::string> make(const Config& config);

  bool enabled() const { return engine_ || spamd_; }
  std::string describe() const;

  // Checks `message` (its first spam_max_size bytes, cut at a line end)
  // with `sender` as the envelope sender. Tests are "NAME=score" (spamd:
  // "NAME"), sorted by name.
  std::expected<policy::SpamResult, std::string> check(std::string_view message,
                                                       std::string_view sender) const;

  // Built-in rules: reads and compiles the rule files again and swaps
  // (keeps the old rules when the files have vanished).
  void reload();

 private:
  explicit SpamChecker(const Config& config) : config_(config) {}
  std::shared_ptr<const spam::RuleEngine> engine() const {
    std::lock_guard lock(mutex_);
    return engine_;
  }

  const Config& config_;
  mutable std::mutex mutex_;
  std::shared_ptr<const spam::RuleEngine> engine_;
  std::unique_ptr<scanners::SpamdClient> spamd_;
};

}  // namespace filterd
