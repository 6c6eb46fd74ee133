// spam_check.h — the SpamAssassin-compatible rules (spam/engine.h) as the
// daemon and `filterctl scan` run them: the engine built from the config,
// reloaded on SIGHUP, and one message's result as policy::SpamResult.
//
// Loading blocks until the engine is ready: cached pattern sets load in
// about a second, a cold compile of the stock rules takes minutes and
// happens once per rule change (see spam_cache_dir). Every rule that cannot
// run is logged once with FILE:LINE, after one summary line.
//
// Thread safety: engine() and reload() may be called from any thread; an
// engine, once handed out, stays valid for as long as its holder keeps it.
#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "filterd/config.h"
#include "policy/verdict.h"
#include "spam/engine.h"

namespace filterd {

// The engine options the config describes: `auto` resolved to the rule
// directories present, the built-in local rules written to the cache dir.
spam::EngineOptions spam_engine_options(const Config& config);

// Loads and logs; null when spam_checks = no.
std::shared_ptr<const spam::RuleEngine> load_spam_engine(const Config& config);

class SpamChecker {
 public:
  explicit SpamChecker(const Config& config) : config_(config), engine_(load_spam_engine(config)) {}

  std::shared_ptr<const spam::RuleEngine> engine() const {
    std::lock_guard lock(mutex_);
    return engine_;
  }

  // Builds a new engine from the rule files as they are now and swaps it
  // in; messages being checked finish with the old one.
  void reload() {
    auto fresh = load_spam_engine(config_);
    std::lock_guard lock(mutex_);
    engine_ = std::move(fresh);
  }

 private:
  const Config& config_;
  mutable std::mutex mutex_;
  std::shared_ptr<const spam::RuleEngine> engine_;
};

// Checks `message` (its first `max_size` bytes, cut at a line end) with
// `sender` as the envelope sender. Tests are "NAME=score", sorted by name.
policy::SpamResult check_spam(const spam::RuleEngine& engine, std::string_view message,
                              std::string_view sender, uint64_t max_size);

}  // namespace filterd
