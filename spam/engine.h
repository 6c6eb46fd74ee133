// engine.h — a SpamAssassin rule set, compiled, run on one message at a
// time: the score and the rules that hit, as `spamassassin -L -t` reports
// them with score set 0 (no network tests, no Bayes).
//
// Loading (RuleEngine::load) reads the rule files (rules.h), drops what cannot
// run here — rules of score 0 in the score set, `tflags net` rules, `eval:`
// tests that are not implemented (eval.h) — and compiles each class of
// regexps into pattern sets (matcher.h): body (and body for `nosubject`
// rules), rawbody, full, uri, one set per distinct header request
// ("Subject", "From:addr", "ALL" ...) and per mimeheader name. Compiled sets
// are cached in `cache_dir`, in one file keyed by a hash of every pattern, so
// a restart with unchanged rules skips Hyperscan's compile (tens of seconds
// for the stock rules). Nothing in loading is fatal: what is dropped is
// counted and listed in diagnostics(), with file:line.
//
// GTUBE is always detected: if the rule files do not define GTUBE, the
// engine adds SpamAssassin's own rule (score 1000).
//
// Checking (RuleEngine::check) follows PerMsgStatus::check: each rule's hit
// value (1, or the match count for `tflags multiple`), then meta rules over
// those values in dependency order, then the score as the sum of the scores
// of the rules that hit, `__` sub-rules excepted. Header rules see
// PerMsgStatus::get's value; a missing header without [if-unset: ...] hits
// only `!~` rules.
//
// Thread safety: a RuleEngine is immutable once loaded; check() may run on one
// engine from any number of threads. Share it as shared_ptr<const RuleEngine>
// and swap the pointer to reload.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spam/matcher.h"
#include "spam/rules.h"
#include "spam/text.h"

namespace filterd::spam {

struct EngineOptions {
  // Read with load_rule_dirs (SpamAssassin's order), then `files` in order.
  std::vector<std::string> rule_dirs;
  std::vector<std::string> files;
  LoadOptions load;
  int score_set = 0;                     // 0: no network, no Bayes
  std::optional<double> required_score;  // else the rule files' required_score
  std::string cache_dir;                 // "": compile at every load
  PatternLimits limits;
  TextLimits text_limits;
  // SpamAssassin's trusted_networks / internal_networks / msa_networks
  // ("10.0.0.0/8", "192.168.1.1", "!10.1.2.3"), which split the Received
  // path into trusted/untrusted and internal/external relays. 127.0.0.0/8
  // and ::1 are always in both. Both empty: SpamAssassin's inference
  // (private and authenticated relays are trusted); one empty: it follows
  // the other.
  std::vector<std::string> trusted_networks, internal_networks, msa_networks;
};

struct RuleHit {
  std::string name;
  double score = 0;  // in the engine's score set
  double value = 1;  // 1, the match count for `multiple`, or a meta's value
  friend bool operator==(const RuleHit&, const RuleHit&) = default;
};

struct CheckInput {
  std::string_view message;  // raw, CRLF or LF
  // SMTP MAIL FROM ("" for the null sender), which header rules see as
  // EnvelopeFrom; unset: from the Return-Path / X-Envelope-From fields.
  std::optional<std::string> envelope_from;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

struct CheckResult {
  double score = 0;
  double required_score = 5;
  std::vector<RuleHit> hits;          // rules that count toward the score, by name
  std::vector<std::string> subrules;  // `__` rules (and score-less metas) that hit, by name
  std::string truncated;              // what a text limit cut, "" if nothing

  bool is_spam() const { return score >= required_score; }
  // SpamAssassin's `tests=` list: "GTUBE,MISSING_HEADERS" (sorted by name).
  std::string test_names() const;
};

// What loading did, for the start-up log line.
struct EngineStats {
  size_t rules = 0;     // rules in the files (incl. sub-rules and metas)
  size_t active = 0;    // rules that run
  size_t disabled = 0;  // score 0 in the score set, or net rules
  size_t skipped = 0;   // could not run: parse error, no eval, pattern failed
  size_t hyperscan = 0, prefiltered = 0, pcre2 = 0;  // where the patterns ended
  bool from_cache = false;
  double compile_seconds = 0;
  size_t database_bytes = 0;         // Hyperscan databases of all pattern classes
  size_t database_bytes_mapped = 0;  // of those, run in place in the mapped cache file
};

class RuleEngine {
 public:
  static std::shared_ptr<const RuleEngine> load(const EngineOptions& options);

  CheckResult check(const CheckInput& input) const;

  const EngineStats& stats() const;
  // Every rule that cannot run, "FILE:LINE: RULE: category: reason".
  const std::vector<std::string>& diagnostics() const;
  // "2940 rules, 2501 active (420 disabled, 19 skipped: ...); patterns:
  // 1300 hyperscan, ... ; compiled in 41.2 s" — one line for the log.
  std::string summary() const;
  const RuleSet& rules() const;

  RuleEngine(const RuleEngine&) = delete;
  RuleEngine& operator=(const RuleEngine&) = delete;
  ~RuleEngine();

  struct Impl;  // engine.cc

 private:
  explicit RuleEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace filterd::spam
