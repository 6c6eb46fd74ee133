// engine.cc — RuleEngine::load: from rule files to compiled pattern classes,
// eval calls and the meta program. See engine.h.
#include "spam/engine.h"

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <unordered_map>

#include "decoders/ascii.h"
#include "spam/engine_internal.h"

namespace filterd::spam {
namespace {

constexpr size_t kNoRule = static_cast<size_t>(-1);

// SpamAssassin's own GTUBE rule (20_body_tests.cf, score 1000), for rule
// sets that lack it: GTUBE is always detected.
Rule gtube_rule() {
  Rule r;
  r.name = "GTUBE";
  r.type = RuleType::kBody;
  r.pattern.source =
      R"(XJS\*C4JDBQADN1\.NSBN3\*2IDNEN\*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL\*C\.34X)";
  r.scores = {1000, 1000, 1000, 1000};
  r.score_given = true;
  r.description = "Generic Test for Unsolicited Bulk Email";
  r.file = "(built in)";
  return r;
}

std::string header_request(const HeaderTest& h) {
  std::string request = h.name;
  for (const auto& m : h.modifiers) request += ":" + m;
  return request;
}

// The meta's expression with rules_matching(GLOB) expanded to the sum of
// the rules whose names match (SpamAssassin's feature_meta_rules_matching).
std::string expand_meta(const Rule& meta, const RuleSet& set) {
  std::string out;
  for (const auto& t : meta.meta_tokens) {
    if (!out.empty()) out += ' ';
    if (t.kind != MetaToken::Kind::kRulesMatching) {
      out += t.text;
      continue;
    }
    std::string sum;
    for (const auto& r : set.rules) {
      if (r.name == meta.name || fnmatch(t.text.c_str(), r.name.c_str(), 0) != 0) continue;
      sum += (sum.empty() ? "" : " + ") + r.name;
    }
    out += "(" + (sum.empty() ? std::string("0") : sum) + ")";
  }
  return out;
}

class Builder {
 public:
  Builder(RuleEngine::Impl& impl, const EngineOptions& options) : e_(impl), options_(options) {}

  void build() {
    const auto& rules = e_.rules.rules;
    e_.negated.assign(rules.size(), false);
    e_.active.assign(rules.size(), false);
    std::vector<MetaDef> metas;
    std::vector<size_t> meta_rules;
    for (size_t i = 0; i < rules.size(); ++i) {
      const Rule& r = rules[i];
      if (r.type == RuleType::kEmpty) continue;
      if (!r.enabled(e_.score_set) || r.tflags.net || r.type == RuleType::kRblEval) {
        ++e_.stats.disabled;
        continue;
      }
      switch (r.type) {
        case RuleType::kMeta:
          metas.push_back({r.name, expand_meta(r, e_.rules)});
          meta_rules.push_back(i);
          e_.active[i] = true;
          break;
        case RuleType::kHeaderEval:
        case RuleType::kBodyEval:
        case RuleType::kRawBodyEval:
        case RuleType::kFullEval:
          add_eval(i, r);
          break;
        case RuleType::kHeader:
          add_header(i, r);
          break;
        case RuleType::kMimeHeader:
          add_pattern(i, r, Source::kMimeHeader, r.header.name,
                      std::ranges::find(r.header.modifiers, "raw") != r.header.modifiers.end(),
                      r.header.if_unset);
          e_.negated[i] = r.header.negate;
          break;
        case RuleType::kBody:
          add_pattern(i, r, r.tflags.nosubject ? Source::kBodyNoSubject : Source::kBody);
          break;
        case RuleType::kRawBody:
          add_pattern(i, r, Source::kRawBody);
          break;
        case RuleType::kFull:
          add_pattern(i, r, Source::kFull);
          break;
        case RuleType::kUri:
          add_pattern(i, r, Source::kUri);
          break;
        default:
          break;
      }
    }
    compile_patterns();
    compile_meta(metas);
    for (const auto& d : e_.rules.skipped) e_.diagnostics.push_back(d.to_string());
    e_.stats.skipped += e_.rules.skipped.size();
    e_.stats.rules = rules.size();
    e_.stats.active = static_cast<size_t>(std::ranges::count(e_.active, true));
  }

 private:
  void skip(const Rule& r, std::string_view category, std::string_view reason) {
    e_.diagnostics.push_back(
        Diagnostic{r.file, r.line, r.name, std::string(category), std::string(reason)}.to_string());
    ++e_.stats.skipped;
  }

  void add_eval(size_t i, const Rule& r) {
    EvalFunction fn = find_eval(r.eval.function);
    if (!fn) return skip(r, "eval not implemented", r.eval.function);
    e_.evals.push_back({i, fn});
    e_.active[i] = true;
  }

  void add_header(size_t i, const Rule& r) {
    if (r.header.exists) {
      e_.exists.push_back({i, header_request(r.header)});
      e_.active[i] = true;
      return;
    }
    e_.negated[i] = r.header.negate;
    add_pattern(i, r, Source::kHeader, header_request(r.header), false, r.header.if_unset);
  }

  void add_pattern(size_t i, const Rule& r, Source source, std::string request = {},
                   bool raw = false, std::optional<std::string> if_unset = {}) {
    std::string key = std::to_string(static_cast<int>(source)) + "\t" + request + "\t" +
                      (raw ? "raw" : "") + "\t" + (if_unset ? "=" + *if_unset : "");
    auto [it, fresh] = class_index_.try_emplace(key, e_.classes.size());
    if (fresh) {
      PatternClass c;
      c.source = source;
      c.request = request;
      c.raw = raw;
      c.if_unset = std::move(if_unset);
      c.key = key;
      e_.classes.push_back(std::move(c));
    }
    PatternSpec spec;
    spec.id = static_cast<uint32_t>(i);
    spec.source = r.pattern.source;
    spec.flags = r.pattern.flags;
    spec.multiple = r.tflags.multiple;
    spec.max_hits = r.tflags.maxhits;
    e_.classes[it->second].specs.push_back(std::move(spec));
    e_.active[i] = true;
  }

  void compile_patterns() {
    auto t0 = std::chrono::steady_clock::now();
    e_.stats.from_cache = load_or_compile(e_.classes, options_.cache_dir, options_.limits);
    e_.stats.compile_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (auto& c : e_.classes) {
      // The rule set keeps the sources; matching needs the ids only.
      for (const auto& spec : c.specs) c.ids.push_back(spec.id);
      std::vector<PatternSpec>().swap(c.specs);
      e_.stats.hyperscan += c.set->count(Engine::kHyperscan);
      e_.stats.prefiltered += c.set->count(Engine::kPcre2Prefiltered);
      e_.stats.pcre2 += c.set->count(Engine::kPcre2);
      e_.stats.database_bytes += c.set->database_bytes();
      if (c.set->databases_in_place()) e_.stats.database_bytes_mapped += c.set->database_bytes();
      for (const auto& report : c.set->reports()) {
        if (report.engine != Engine::kFailed) continue;
        const Rule& r = e_.rules.rules[report.id];
        e_.active[report.id] = false;
        skip(r, "pattern failed", report.reason);
      }
    }
  }

  void compile_meta(const std::vector<MetaDef>& metas) {
    std::unordered_map<std::string_view, size_t> by_name;
    for (size_t i = 0; i < e_.rules.rules.size(); ++i) by_name[e_.rules.rules[i].name] = i;
    e_.metas = compile_metas(metas, [&](std::string_view name) {
      auto it = by_name.find(name);
      return it != by_name.end() && e_.rules.rules[it->second].type != RuleType::kMeta;
    });
    e_.slot_rule.assign(e_.metas.names().size(), kNoRule);
    for (size_t s = 0; s < e_.metas.names().size(); ++s) {
      auto it = by_name.find(e_.metas.names()[s]);
      if (it != by_name.end()) e_.slot_rule[s] = it->second;
    }
    for (const auto& d : e_.metas.diagnostics()) {
      if (d.kind == MetaDiagnostic::Kind::kUnknownName) continue;  // counts as 0, as in SA
      auto it = by_name.find(d.meta);
      if (it == by_name.end()) continue;
      e_.active[it->second] = false;
      skip(e_.rules.rules[it->second], "bad meta", d.message);
    }
  }

  RuleEngine::Impl& e_;
  const EngineOptions& options_;
  std::map<std::string, size_t> class_index_;
};

}  // namespace

RuleEngine::RuleEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuleEngine::~RuleEngine() = default;

std::shared_ptr<const RuleEngine> RuleEngine::load(const EngineOptions& options) {
  auto impl = std::make_unique<Impl>();
  std::vector<std::string> files = rule_dir_files(options.rule_dirs);
  files.insert(files.end(), options.files.begin(), options.files.end());
  impl->rules = load_rule_files(files, options.load);
  if (!impl->rules.find("GTUBE")) impl->rules.rules.push_back(gtube_rule());
  impl->score_set = options.score_set;
  impl->required_score = options.required_score.value_or(impl->rules.required_score);
  impl->text_limits = options.text_limits;
  for (const auto* list :
       {&impl->rules.util_rb_tld, &impl->rules.util_rb_2tld, &impl->rules.util_rb_3tld}) {
    for (const auto& tld : *list) impl->tlds.insert(decoders::ascii_lower(tld));
  }
  // originating_ip_headers from the rule files (10_default_prefs.cf clears
  // the list before it fills it, so every value read counts).
  std::vector<std::string> originating;
  if (auto it = impl->rules.settings.find("originating_ip_headers");
      it != impl->rules.settings.end()) {
    for (const auto& v : it->second) {
      std::istringstream words(v);
      for (std::string w; words >> w;) originating.push_back(w);
    }
  }
  impl->trust = make_trust_path(options.trusted_networks, options.internal_networks,
                                options.msa_networks, std::move(originating));
  impl->eval_config = make_eval_config(impl->rules);
  Builder(*impl, options).build();
  return std::shared_ptr<const RuleEngine>(new RuleEngine(std::move(impl)));
}

const EngineStats& RuleEngine::stats() const {
  return impl_->stats;
}
const std::vector<std::string>& RuleEngine::diagnostics() const {
  return impl_->diagnostics;
}
const RuleSet& RuleEngine::rules() const {
  return impl_->rules;
}

std::string RuleEngine::summary() const {
  const EngineStats& s = impl_->stats;
  std::map<std::string, int> by_category;
  for (const auto& d : impl_->diagnostics) {
    // "FILE:LINE: RULE: category: reason"
    size_t a = d.find(": "), b = a == std::string::npos ? a : d.find(": ", a + 2);
    size_t c = b == std::string::npos ? b : d.find(": ", b + 2);
    if (c != std::string::npos) ++by_category[d.substr(b + 2, c - b - 2)];
  }
  std::ostringstream out;
  out << s.rules << " rules, " << s.active << " active (" << s.disabled << " disabled, "
      << s.skipped << " skipped";
  const char* sep = ": ";
  for (const auto& [category, n] : by_category) {
    out << sep << n << " " << category;
    sep = ", ";
  }
  out << "); patterns: " << s.hyperscan << " hyperscan, " << s.prefiltered << " pcre2+prefilter, "
      << s.pcre2 << " pcre2; " << (s.from_cache ? "loaded from cache in " : "compiled in ");
  out.precision(2);
  out << std::fixed << s.compile_seconds << " s; " << s.database_bytes / 1e6
      << " MB of Hyperscan databases";
  if (s.database_bytes_mapped == s.database_bytes && s.database_bytes > 0) {
    out << ", run in the mapped cache file";
  } else if (s.database_bytes_mapped > 0) {
    out << " (" << s.database_bytes_mapped / 1e6 << " MB run in the mapped cache file)";
  }
  return out.str();
}

std::string CheckResult::test_names() const {
  std::string out;
  for (const auto& h : hits) out += (out.empty() ? "" : ",") + h.name;
  return out;
}

}  // namespace filterd::spam
