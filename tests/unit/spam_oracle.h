// spam_oracle.h — SpamAssassin's recorded verdicts (tests/spam_oracle/
// hits.tsv) next to the engine's, for the agreement test and the engine
// benchmark: the same rules (stock + Debian's site config + oracle.cf), the
// same pinned clock, per-rule agreement over every message.
#pragma once

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "spam/engine.h"

namespace filterd::spam::testing {

struct OracleEntry {
  std::string path;   // relative to the corpus root
  std::string label;  // "ham", "spam" or "" (unlabelled MIME samples)
  double score = 0;
  bool is_spam = false;
  std::set<std::string> hits;  // scored rules and `__` sub-rules that hit
};

inline std::set<std::string> split_names(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string name; std::getline(in, name, ',');) {
    if (!name.empty()) out.insert(name);
  }
  return out;
}

inline std::vector<OracleEntry> read_oracle(const std::string& tsv) {
  std::ifstream in(tsv);
  std::vector<OracleEntry> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line.starts_with("path\t")) continue;
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, '\t');) f.push_back(x);
    f.resize(7);
    OracleEntry e{f[0], f[1] == "ham" || f[1] == "spam" ? f[1] : "", std::stod(f[2]), f[4] == "1",
                  split_names(f[5])};
    for (auto& s : split_names(f[6])) e.hits.insert(s);
    out.push_back(std::move(e));
  }
  return out;
}

// The oracle's configuration (tests/spam_oracle/README.md).
inline EngineOptions oracle_engine_options(const std::string& source_dir,
                                           const std::string& cache_dir) {
  EngineOptions o;
  o.rule_dirs = {"/usr/share/spamassassin", "/etc/spamassassin"};
  o.files = {source_dir + "/tests/spam_oracle/oracle.cf"};
  o.required_score = 5.0;
  o.cache_dir = cache_dir;
  o.trusted_networks = {"127.0.0.0/8"};  // oracle.cf's trust path
  o.internal_networks = {"127.0.0.0/8"};
  return o;
}

// make_oracle pins SpamAssassin's clock to this (2025-01-01T00:00:00Z).
inline constexpr long long kOracleNow = 1735689600;

struct RuleAgreement {
  std::string rule;
  size_t messages = 0, only_sa = 0, only_us = 0;
  std::vector<std::string> examples;  // paths of the first differences
  double agreement() const {
    return messages ? 1.0 - double(only_sa + only_us) / double(messages) : 1.0;
  }
};

// Per rule the engine runs: on how many messages the hit sets agree.
class AgreementTable {
 public:
  explicit AgreementTable(const RuleEngine& engine) {
    const auto& rules = engine.rules().rules;
    std::set<std::string> skipped;
    for (const auto& d : engine.diagnostics()) {
      // "FILE:LINE: RULE: category: reason"
      size_t a = d.find(": "), b = a == std::string::npos ? a : d.find(": ", a + 2);
      if (b != std::string::npos) skipped.insert(d.substr(a + 2, b - a - 2));
    }
    for (const auto& r : rules) {
      if (r.type == RuleType::kEmpty || r.type == RuleType::kRblEval || r.tflags.net ||
          !r.enabled(0) || skipped.contains(r.name))
        continue;
      table_[r.name].rule = r.name;
    }
  }

  void add(const OracleEntry& sa, const CheckResult& ours) {
    std::set<std::string> mine(ours.subrules.begin(), ours.subrules.end());
    for (const auto& h : ours.hits) mine.insert(h.name);
    for (auto& [name, a] : table_) {
      ++a.messages;
      const bool s = sa.hits.contains(name), u = mine.contains(name);
      if (s == u) continue;
      (s ? a.only_sa : a.only_us)++;
      if (a.examples.size() < 3) a.examples.push_back((s ? "-" : "+") + sa.path);
    }
  }

  // Rules under `min_agreement`, worst first.
  std::vector<RuleAgreement> below(double min_agreement) const {
    std::vector<RuleAgreement> out;
    for (const auto& [name, a] : table_) {
      if (a.agreement() < min_agreement) out.push_back(a);
    }
    std::ranges::sort(out, {}, &RuleAgreement::agreement);
    return out;
  }
  size_t rules() const { return table_.size(); }

 private:
  std::map<std::string, RuleAgreement> table_;
};

}  // namespace filterd::spam::testing
