// engine_internal.h — the compiled form of a rule set, shared by engine.cc
// (loading), engine_check.cc (checking) and engine_cache.cc (the on-disk
// cache of compiled pattern sets).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "spam/engine.h"
#include "spam/eval.h"
#include "spam/matcher.h"
#include "spam/meta.h"
#include "spam/received.h"

namespace filterd::spam {

// The texts a pattern class is matched against.
enum class Source {
  kBody,           // MessageText::body
  kBodyNoSubject,  // body without its first line (tflags nosubject)
  kRawBody,
  kFull,
  kUri,
  kHeader,      // MessageText::get(request), one text
  kMimeHeader,  // MessageText::get_mime_header(request, raw), one text per value
};

// One compiled pattern set. Pattern ids are rule indexes into RuleSet::rules.
struct PatternClass {
  Source source = Source::kBody;
  std::string request;                  // kHeader: "From:addr"; kMimeHeader: the name
  bool raw = false;                     // kMimeHeader: undecoded values
  std::optional<std::string> if_unset;  // kHeader: the value of a missing header
  std::string key;                      // identifies the class in the cache
  std::vector<PatternSpec> specs;       // until the set is built; then empty
  std::vector<uint32_t> ids;            // the specs' ids (rule indexes)
  std::shared_ptr<const PatternSet> set;
};

struct EvalRule {
  size_t rule = 0;
  EvalFunction function = nullptr;
};

struct ExistsRule {
  size_t rule = 0;
  std::string request;
};

struct RuleEngine::Impl {
  RuleSet rules;
  int score_set = 0;
  double required_score = 5;
  TextLimits text_limits;
  std::unordered_set<std::string> tlds;  // util_rb_tld/2tld/3tld, lower case
  TrustPath trust;                       // networks and originating_ip_headers
  EvalConfig eval_config;

  std::vector<PatternClass> classes;
  std::vector<bool> negated;  // by rule index: header/mimeheader `!~`
  std::vector<EvalRule> evals;
  std::vector<ExistsRule> exists;
  MetaProgram metas;
  std::vector<size_t> slot_rule;  // meta slot -> rule index (npos: unknown name)
  std::vector<bool> active;       // by rule index: runs and may hit

  EngineStats stats;
  std::vector<std::string> diagnostics;
};

// Cache of compiled pattern sets: fills `set` of every class it can from
// `dir`, compiles the others (in parallel) and rewrites the cache when it
// compiled anything. Returns true if every set came from the cache.
bool load_or_compile(std::vector<PatternClass>& classes, const std::string& dir,
                     const PatternLimits& limits);

}  // namespace filterd::spam
