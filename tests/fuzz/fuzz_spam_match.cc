// fuzz_spam_match — patterns and texts from the input through PatternSet
// (both engines, counting, the cache), and meta expressions through
// compile_metas/evaluate. Input: lines; the first byte of a line picks its
// role ('p' pattern "flags/source", 'm' meta "NAME expr", else a text).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "spam/matcher.h"
#include "spam/meta.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace filterd::spam;
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
  if (auto back = PatternSet::deserialize(specs, set->serialize(), limits)) {
    auto r2 = (*back)->match(texts);
    if (r2.hits.size() != r.hits.size()) __builtin_trap();
  }
  auto program = compile_metas(metas, [](std::string_view n) { return n.size() % 2 == 0; });
  std::unordered_map<std::string, double> hits;
  for (const auto& h : r.hits) hits["R" + std::to_string(h.id)] = h.count;
  program.evaluate(hits);
  return 0;
}
