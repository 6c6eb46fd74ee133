// spam_engine_bench — the rule engine with the full stock SpamAssassin rules
// on the oracle's sample of ../shared/corpus (tests/spam_oracle/hits.tsv):
// start-up (compile or cache), check time per message (median, p99), verdict
// quality next to SpamAssassin's on the same messages, and per-rule agreement
// with SpamAssassin's hits (figures, not a test; spam_oracle_test asserts).
//
//   spam_engine_bench [--corpus DIR] [--cache DIR] [--worst N] [--repeat N] [--rule NAME]
//                     [--per-db N]   (patterns per Hyperscan database; default the engine's)
//                     [--dump FILE]  (every verdict: path, score, hits with values, sub-rules;
//                                     diff two dumps to prove a change keeps verdicts identical)
//                     [--dir DIR]    (time every file in DIR instead of the oracle's sample,
//                                     e.g. bench/side_by_side's corpus; the agreement figures
//                                     are then meaningless)
#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "bench/read_file.h"
#include "tests/unit/spam_oracle.h"

namespace {
using Clock = std::chrono::steady_clock;
using namespace filterd::spam;

// "VmRSS 123 MB, VmHWM 140 MB": this process's resident and peak memory.
std::string memory() {
  std::ifstream in("/proc/self/status");
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("VmRSS:") && !line.starts_with("VmHWM:") &&
        !line.starts_with("RssAnon:") && !line.starts_with("RssFile:")) {
      continue;
    }
    const size_t colon = line.find(':');
    std::istringstream words(line.substr(colon + 1));
    double kb = 0;
    words >> kb;
    out += (out.empty() ? "" : ", ") + line.substr(0, colon) + " " +
           std::to_string(int(kb / 1024)) + " MB";
  }
  return out;
}

double thread_cpu_micros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

struct Quality {
  size_t ham = 0, spam = 0, fp = 0, detected = 0;
  void add(const std::string& label, bool is_spam) {
    if (label == "ham") ++ham, fp += is_spam;
    if (label == "spam") ++spam, detected += is_spam;
  }
  std::string text() const {
    std::ostringstream o;
    o << std::fixed << std::setprecision(1) << "detection " << 100.0 * detected / spam << "% ("
      << detected << "/" << spam << "), false positives " << 100.0 * fp / ham << "% (" << fp << "/"
      << ham << ")";
    return o.str();
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string corpus = FILTERD_SOURCE_DIR "/../shared/corpus";
  std::string cache = "/var/tmp/filterd-spam-cache";
  std::string only_rule;
  size_t worst = 40;
  int repeat = 1;
  size_t per_db = 0;
  size_t slow_shown = 0;  // --slow N: the N slowest messages
  std::string only;       // --only TEXT: just the messages whose path contains TEXT
  std::string dump;       // --dump FILE
  std::string dir;        // --dir DIR
  double below = 0.97;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--corpus")) corpus = argv[i + 1];
    if (!strcmp(argv[i], "--cache")) cache = argv[i + 1];
    if (!strcmp(argv[i], "--worst")) worst = std::stoul(argv[i + 1]);
    if (!strcmp(argv[i], "--repeat")) repeat = std::stoi(argv[i + 1]);
    if (!strcmp(argv[i], "--rule")) only_rule = argv[i + 1];
    if (!strcmp(argv[i], "--per-db")) per_db = std::stoul(argv[i + 1]);
    if (!strcmp(argv[i], "--slow")) slow_shown = std::stoul(argv[i + 1]);
    if (!strcmp(argv[i], "--only")) only = argv[i + 1];
    if (!strcmp(argv[i], "--below")) below = std::stod(argv[i + 1]);
    if (!strcmp(argv[i], "--dump")) dump = argv[i + 1];
    if (!strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  std::ofstream dump_out;
  if (!dump.empty()) dump_out.open(dump);
  auto t0 = Clock::now();
  EngineOptions options = testing::oracle_engine_options(FILTERD_SOURCE_DIR, cache);
  if (per_db) options.limits.patterns_per_database = per_db;
  auto engine = RuleEngine::load(options);
  std::cout << "load: " << std::chrono::duration<double>(Clock::now() - t0).count() << " s wall; "
            << engine->summary() << "\n"
            << "memory after load: " << memory() << "\n";

  auto oracle = testing::read_oracle(FILTERD_SOURCE_DIR "/tests/spam_oracle/hits.tsv");
  if (!dir.empty()) {
    oracle.clear();
    corpus = dir;
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      if (f.is_regular_file()) oracle.push_back({f.path().filename().string(), "", 0, false, {}});
    }
    std::ranges::sort(oracle, {}, &testing::OracleEntry::path);
  }
  testing::AgreementTable table(*engine);
  Quality ours, theirs;
  std::vector<double> micros;
  std::vector<double> best;  // per message, the fastest of its repeats
  std::vector<double> cpu;   // per message, the least thread CPU time of its repeats
  std::vector<std::pair<double, std::string>> slowest;  // (us, "path (bytes)")
  size_t same_verdict = 0;
  for (const auto& sa : oracle) {
    if (!only.empty() && sa.path.find(only) == std::string::npos) continue;
    const std::string message = filterd::bench::read_file(corpus + "/" + sa.path);
    CheckInput in;
    in.message = message;
    in.now = std::chrono::system_clock::from_time_t(testing::kOracleNow);
    CheckResult r;
    best.push_back(1e300);
    cpu.push_back(1e300);
    for (int k = 0; k < repeat; ++k) {
      const double c0 = thread_cpu_micros();
      auto t = Clock::now();
      r = engine->check(in);
      micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
      best.back() = std::min(best.back(), micros.back());
      cpu.back() = std::min(cpu.back(), thread_cpu_micros() - c0);
    }
    slowest.emplace_back(micros.back(), sa.path + " (" + std::to_string(message.size()) + " B)");
    table.add(sa, r);
    if (dump_out.is_open()) {
      dump_out << sa.path << "\t" << std::setprecision(10) << r.score << "\t";
      for (const auto& h : r.hits) dump_out << h.name << "=" << h.value << ",";
      dump_out << "\t";
      for (const auto& s : r.subrules) dump_out << s << ",";
      dump_out << "\t" << r.truncated << "\n";
    }
    ours.add(sa.label, r.is_spam());
    theirs.add(sa.label, sa.is_spam);
    same_verdict += r.is_spam() == sa.is_spam;
    if (!only_rule.empty()) {
      bool u = std::ranges::find(r.subrules, only_rule) != r.subrules.end() ||
               std::ranges::find(r.hits, only_rule, &RuleHit::name) != r.hits.end();
      if (u != sa.hits.contains(only_rule))
        std::cout << (u ? "+ " : "- ") << only_rule << " " << sa.path << "\n";
    }
  }
  std::cout << std::fixed << std::setprecision(1) << oracle.size() << " messages x " << repeat
            << ": check median " << percentile(micros, 0.5) << " us, p99 "
            << percentile(micros, 0.99) << " us, max " << percentile(micros, 1.0) << " us, mean "
            << std::accumulate(micros.begin(), micros.end(), 0.0) /
                   std::max<size_t>(1, micros.size())
            << " us\n"
            // Less noisy on a shared machine: each message's fastest repeat.
            << "best of " << repeat << " per message: median " << percentile(best, 0.5)
            << " us, p99 " << percentile(best, 0.99) << " us, mean "
            << std::accumulate(best.begin(), best.end(), 0.0) / std::max<size_t>(1, best.size())
            << " us\n"
            // Time this thread ran: what a busy machine's other work adds is out.
            << "thread CPU, least of " << repeat << " per message: median " << percentile(cpu, 0.5)
            << " us, p99 " << percentile(cpu, 0.99) << " us, mean "
            << std::accumulate(cpu.begin(), cpu.end(), 0.0) / std::max<size_t>(1, cpu.size())
            << " us\n"
            << "filterd:      " << ours.text() << "\n"
            << "SpamAssassin: " << theirs.text() << "\n"
            << "same spam/ham verdict as SpamAssassin: " << same_verdict << "/" << oracle.size()
            << "\n"
            << "memory after the checks: " << memory() << "\n";
  std::ranges::sort(slowest, std::greater{});
  for (size_t i = 0; i < slowest.size() && i < slow_shown; ++i) {
    std::cout << "  slow: " << slowest[i].first << " us " << slowest[i].second << "\n";
  }
  auto bad = table.below(below);
  std::cout << table.rules() << " rules compared; " << bad.size() << " agree on fewer than "
            << below * 100 << "% of messages:\n";
  for (size_t i = 0; i < bad.size() && i < worst; ++i) {
    std::cout << "  " << std::setprecision(3) << bad[i].agreement() << " " << bad[i].rule
              << " only_sa=" << bad[i].only_sa << " only_filterd=" << bad[i].only_us;
    for (const auto& ex : bad[i].examples) std::cout << " " << ex;
    std::cout << "\n";
  }
}
