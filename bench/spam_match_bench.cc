// spam_match_bench — the stock SpamAssassin body regexps (one PatternSet)
// against the SpamAssassin public corpus, one message at a time, single
// thread (figures, not a test). The "rendered" body is crude: the raw body
// after the header, one text per paragraph (lines joined, as SpamAssassin
// joins them), without MIME decoding or HTML rendering.
//
//   spam_match_bench [CORPUS_DIR]   (default ../shared/corpus)
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bench/read_file.h"
#include "spam/matcher.h"
#include "tests/unit/sa_stock_patterns.h"

namespace {
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using namespace filterd::spam;

using filterd::bench::read_file;

// Paragraphs of the body: lines joined with a space, blank lines separate.
std::vector<std::string> paragraphs(const std::string& mail) {
  size_t start = mail.find("\n\n");
  std::vector<std::string> out(1);
  std::istringstream in(start == std::string::npos ? "" : mail.substr(start + 2));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (!out.back().empty()) out.emplace_back();
      continue;
    }
    if (!out.back().empty()) out.back() += ' ';
    out.back() += line;
  }
  return out;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path corpus = fs::path(argc > 1 ? argv[1] : "../shared/corpus") / "spamassassin-public";
  std::vector<PatternSpec> specs;
  for (auto& p : testing::stock_patterns()) {
    if (p.kind == "body") specs.push_back(p.spec);
  }
  const fs::path cache = fs::temp_directory_path() / "spam_match_bench.cache";
  auto t0 = Clock::now();
  std::shared_ptr<const PatternSet> set;
  if (auto cached = PatternSet::deserialize(specs, read_file(cache))) set = *cached;
  bool from_cache = set != nullptr;
  if (!set) {
    set = PatternSet::compile(specs);
    std::ofstream(cache, std::ios::binary) << set->serialize();
  }
  double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::cout << specs.size() << " body regexps " << (from_cache ? "loaded from cache" : "compiled")
            << " in " << load_s << " s: " << set->count(Engine::kHyperscan) << " hyperscan, "
            << set->count(Engine::kPcre2Prefiltered) << " pcre2+prefilter, "
            << set->count(Engine::kPcre2) << " pcre2, " << set->count(Engine::kFailed)
            << " failed\n";

  std::vector<double> micros;
  size_t hits = 0, texts = 0, aborted = 0;
  for (const auto& e : fs::recursive_directory_iterator(corpus)) {
    if (!e.is_regular_file()) continue;
    auto paras = paragraphs(read_file(e.path()));
    std::vector<std::string_view> views(paras.begin(), paras.end());
    auto t = Clock::now();
    auto r = set->match(views);
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    hits += r.hits.size();
    aborted += r.aborted.size();
    texts += views.size();
  }
  std::cout << micros.size() << " messages, " << texts << " paragraphs, " << hits << " rule hits, "
            << aborted << " aborted matches\n"
            << "per message: median " << percentile(micros, 0.5) << " us, p99 "
            << percentile(micros, 0.99) << " us, max " << percentile(micros, 1.0) << " us\n";
}
