// rules_finish.cc — after the last file: each rule joined with its score,
// flags, description and priority, default scores (Parser.pm fix_tests),
// replace tags applied; and the small RuleSet helpers.
#include <charconv>
#include <map>

#include "spam/rules_internal.h"

namespace filterd::spam {

std::string_view rule_type_name(RuleType type) {
  switch (type) {
    case RuleType::kHeader:
      return "header";
    case RuleType::kMimeHeader:
      return "mimeheader";
    case RuleType::kBody:
      return "body";
    case RuleType::kRawBody:
      return "rawbody";
    case RuleType::kFull:
      return "full";
    case RuleType::kUri:
      return "uri";
    case RuleType::kMeta:
      return "meta";
    case RuleType::kHeaderEval:
      return "header_eval";
    case RuleType::kRblEval:
      return "rbl_eval";
    case RuleType::kBodyEval:
      return "body_eval";
    case RuleType::kRawBodyEval:
      return "rawbody_eval";
    case RuleType::kFullEval:
      return "full_eval";
    case RuleType::kEmpty:
      return "empty";
  }
  return "?";
}

bool TFlags::has(std::string_view flag) const {
  for (const auto& w : words)
    if (w == flag) return true;
  return false;
}

std::string Diagnostic::to_string() const {
  std::string s = file + ":" + std::to_string(line) + ": ";
  if (!rule.empty()) s += rule + ": ";
  return s + category + ": " + reason;
}

const Rule* RuleSet::find(std::string_view name) const {
  for (const auto& r : rules)
    if (r.name == name) return &r;
  return nullptr;
}

std::string RuleSet::summary() const {
  std::map<std::string, int> by;
  for (const auto& d : skipped) ++by[d.category];
  std::string s = std::to_string(rules.size()) + " rules loaded, " +
                  std::to_string(skipped.size()) + " skipped";
  const char* sep = ": ";
  for (const auto& [category, n] : by) {
    s += sep + std::to_string(n) + " " + category;
    sep = ", ";
  }
  int ignored = 0;
  for (const auto& [k, n] : ignored_directives) ignored += n;
  return s + "; " + std::to_string(ignored) + " other settings ignored";
}

namespace detail {
namespace {

TFlags parse_tflags(std::string_view text) {
  TFlags f;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    if (j > i) f.words.emplace_back(text.substr(i, j - i));
    i = j;
  }
  for (const auto& w : f.words) {
    if (w == "net")
      f.net = true;
    else if (w == "nice")
      f.nice = true;
    else if (w == "learn")
      f.learn = true;
    else if (w == "userconf")
      f.userconf = true;
    else if (w == "noautolearn")
      f.noautolearn = true;
    else if (w == "multiple")
      f.multiple = true;
    else if (w == "nosubject")
      f.nosubject = true;
    else if (w.starts_with("maxhits=")) {
      uint32_t n = 0;
      auto [end, ec] = std::from_chars(w.data() + 8, w.data() + w.size(), n);
      if (ec == std::errc{} && end == w.data() + w.size()) f.maxhits = n;
    }
  }
  return f;
}

bool takes_replace_tags(const Rule& r) {
  switch (r.type) {
    case RuleType::kHeader:
      return !r.header.exists;
    case RuleType::kBody:
    case RuleType::kRawBody:
    case RuleType::kFull:
    case RuleType::kUri:
      return true;
    default:
      return false;  // mimeheader lives in its plugin: ReplaceTags never sees it
  }
}

// Parser.pm fix_tflags: a meta rule that depends on a net rule is a net
// rule. SpamAssassin makes one pass in hash order; this goes to the fixed
// point, so chains of metas inherit regardless of order.
void inherit_net(std::vector<Rule>& rules) {
  std::map<std::string_view, Rule*> by_name;
  for (auto& r : rules) by_name.emplace(r.name, &r);
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& r : rules) {
      if (r.type != RuleType::kMeta || r.tflags.net) continue;
      for (const auto& t : r.meta_tokens) {
        if (t.kind != MetaToken::Kind::kRule) continue;
        auto it = by_name.find(t.text);
        if (it == by_name.end() || !it->second->tflags.net) continue;
        r.tflags.net = true;
        r.tflags.words.emplace_back("net");
        changed = true;
        break;
      }
    }
  }
}

}  // namespace

void ConfigState::diagnose(const Where& w, std::string_view rule, std::string_view category,
                           std::string reason) {
  out.skipped.push_back(
      {std::string(w.file), w.line, std::string(rule), std::string(category), std::move(reason)});
}

void ConfigState::define(Rule rule, const Where& w) {
  rule.file = std::string(w.file);
  rule.line = w.line;
  auto it = index.find(rule.name);
  if (it != index.end()) {
    defs[it->second] = std::move(rule);
    return;
  }
  index.emplace(rule.name, defs.size());
  defs.push_back(std::move(rule));
}

// Parser.pm pack_eval_args: 'quoted', "quoted" or [\d.:A-Za-z-]+, comma
// separated; a quoted argument ends at the first matching quote followed by
// a comma or the end.
std::optional<std::vector<std::string>> parse_eval_args(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; };
  auto bare = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == ':' || c == '-';
  };
  std::vector<std::string> args;
  bool all_space = !s.empty();
  for (char c : s) all_space = all_space && space(c);
  if (all_space) return args;
  size_t i = 0;
  // After an argument: \s* (, \s* | $); returns the next position or npos.
  auto after = [&](size_t k) -> size_t {
    while (k < s.size() && space(s[k])) ++k;
    if (k == s.size()) return k;
    if (s[k] != ',') return std::string_view::npos;
    ++k;
    while (k < s.size() && space(s[k])) ++k;
    return k;
  };
  while (i < s.size()) {
    size_t k = i;
    while (k < s.size() && space(s[k])) ++k;
    if (k < s.size() && (s[k] == '\'' || s[k] == '"')) {
      char q = s[k];
      size_t next = std::string_view::npos;
      for (size_t e = s.find(q, k + 1); e != std::string_view::npos; e = s.find(q, e + 1)) {
        if ((next = after(e + 1)) != std::string_view::npos) {
          args.emplace_back(s.substr(k + 1, e - k - 1));
          break;
        }
      }
      if (next == std::string_view::npos) return std::nullopt;
      i = next;
      continue;
    }
    size_t e = k;
    while (e < s.size() && bare(s[e])) ++e;
    size_t next = e > k ? after(e) : std::string_view::npos;
    if (next == std::string_view::npos) return std::nullopt;
    args.emplace_back(s.substr(k, e - k));
    i = next;
  }
  return args;
}

RuleSet finish(ConfigState& st) {
  std::vector<Rule> rules;
  rules.reserve(st.defs.size());
  for (auto& def : st.defs) {
    Rule r = std::move(def);
    if (auto it = st.descriptions.find(r.name); it != st.descriptions.end())
      r.description = it->second;
    if (auto it = st.tflags.find(r.name); it != st.tflags.end())
      r.tflags = parse_tflags(it->second);
    if (auto it = st.scores.find(r.name); it != st.scores.end()) {
      r.scores = it->second;
      r.score_given = true;
    } else {
      double s = r.name.starts_with("T_") ? 0.01 : 1.0;
      if (r.tflags.nice) s = -s;
      r.scores = {s, s, s, s};
    }
    if (auto it = st.priorities.find(r.name); it != st.priorities.end())
      r.priority = it->second;
    else if (st.capture_rules.contains(r.name))
      r.priority = -10000;
    if (st.replace_rules.contains(r.name) && takes_replace_tags(r)) {
      std::string replaced = replace_tags(r.pattern.source, st);
      if (replaced != r.pattern.source) {
        if (auto ok = check_perl_regexp(replaced, r.pattern.flags); ok) {
          r.pattern.source = std::move(replaced);
          r.tags_replaced = true;
        } else {
          st.diagnose({r.file, r.line}, r.name, "bad regexp",
                      "after replace tags: " + ok.error() + ": kept as written");
        }
      }
    }
    rules.push_back(std::move(r));
  }
  inherit_net(rules);
  // Parser.pm finish_parsing: a priority of 0 (also when given) means -100
  // for net rules.
  for (auto& r : rules)
    if (r.priority == 0 && r.tflags.net) r.priority = -100;
  RuleSet out = std::move(st.out);
  out.rules = std::move(rules);
  return out;
}

}  // namespace detail
}  // namespace filterd::spam
