// fuzz_spam_match — patterns and texts from the input through PatternSet
// (both engines, counting, the cache), and meta expressions through
// compile_metas/evaluate. Input: lines; the first byte of a line picks its
// role ('p' pattern "flags/source", 'm' meta "NAME expr", else a text).
// The prefilter rewrites of each pattern must match every text it does.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "spam/matcher.h"
#include "spam/matcher_prefilter.h"
#include "spam/meta.h"

namespace {

using namespace filterd::spam;

// A prefilter rewrite may only widen: wherever a pattern matches a text,
// each of its rewrites does too (unless either one failed or hit a limit).
void check_rewrites_widen(const PatternSpec& spec, const std::vector<std::string_view>& texts,
                          const PatternLimits& limits) {
  if (spec.flags.find('x') != std::string::npos) return;
  std::vector<PatternSpec> specs = {{0, spec.source, spec.flags}};
  for (auto& rewrite : prefilter_rewrites(spec.source)) {
    specs.push_back({static_cast<uint32_t>(specs.size()), std::move(rewrite), spec.flags});
  }
  if (specs.size() == 1) return;
  auto set = PatternSet::compile(specs, limits);
  for (std::string_view text : texts) {
    const MatchResult r = set->match(text);
    auto has = [](const std::vector<uint32_t>& v, uint32_t id) {
      for (uint32_t x : v) {
        if (x == id) return true;
      }
      return false;
    };
    auto hit = [&](uint32_t id) {
      for (const auto& h : r.hits) {
        if (h.id == id) return true;
      }
      return false;
    };
    if (!hit(0)) continue;
    for (uint32_t id = 1; id < specs.size(); ++id) {
      const bool unjudged = has(r.aborted, id) || set->reports()[id].engine == Engine::kFailed;
      if (!hit(id) && !unjudged) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<PatternSpec> specs;
  std::vector<MetaDef> metas;
  std::vector<std::string_view> texts;
  for (size_t pos = 0; pos < in.size();) {
    size_t nl = in.find('\n', pos);
    std::string_view line = in.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? in.size() : nl + 1;
    if (line.starts_with("p") && specs.size() < 16) {
      line.remove_prefix(1);
      size_t slash = line.find('/');
      PatternSpec s;
      s.id = static_cast<uint32_t>(specs.size());
      s.flags = std::string(line.substr(0, std::min<size_t>(slash, 6)));
      s.source =
          slash == std::string_view::npos ? std::string(line) : std::string(line.substr(slash + 1));
      s.multiple = s.id % 2 == 1;
      s.max_hits = s.id % 4 == 1 ? 3 : 0;
      specs.push_back(std::move(s));
    } else if (line.starts_with("m") && metas.size() < 16) {
      line.remove_prefix(1);
      size_t sp = line.find(' ');
      metas.push_back({std::string(line.substr(0, sp)),
                       sp == std::string_view::npos ? "" : std::string(line.substr(sp + 1))});
    } else if (texts.size() < 64) {
      texts.push_back(line);
    }
  }
  PatternLimits limits;
  limits.match_limit = 10'000;
  limits.patterns_per_database = 4;
  auto set = PatternSet::compile(specs, limits);
  auto r = set->match(texts);
  const std::string bytes = set->serialize();
  if (auto back = PatternSet::deserialize(specs, bytes, limits)) {
    auto r2 = (*back)->match(texts);
    if (r2.hits.size() != r.hits.size()) __builtin_trap();
  }
  // Any one changed byte is damage the closing checksum sees (each step of
  // it is a bijection of its state): never a set that runs it.
  if (!bytes.empty()) {
    std::string damaged = bytes;
    damaged[in.size() % damaged.size()] ^= 0x20;
    if (PatternSet::deserialize(specs, damaged, limits)) __builtin_trap();
  }
  // Each check compiles a set of its own: one per input keeps the rounds quick.
  if (!specs.empty()) check_rewrites_widen(specs[0], texts, limits);
  auto program = compile_metas(metas, [](std::string_view n) { return n.size() % 2 == 0; });
  std::unordered_map<std::string, double> hits;
  for (const auto& h : r.hits) hits["R" + std::to_string(h.id)] = h.count;
  program.evaluate(hits);
  return 0;
}
