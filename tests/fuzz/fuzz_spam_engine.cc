// fuzz_spam_engine.cc — arbitrary messages through the rule engine with
// every implemented eval: test called as the stock rules call it (the
// Received parser, date parsing, address and MIME facts behind them) and
// once with no arguments, plus header rules on the relay pseudo-headers.
// No crash, no hang, a finite score.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <string_view>

#include "spam/engine.h"
#include "spam/eval.h"

namespace {

namespace fs = std::filesystem;

// One .cf text: every eval line of the stock rules whose function is
// implemented, every implemented function without arguments, relay rules.
std::string rules_text() {
  std::string out;
  int n = 0;
  for (auto name : filterd::spam::implemented_evals()) {
    out += "header FZ_NOARGS_" + std::to_string(n++) + " eval:" + std::string(name) + "()\n";
  }
  static const std::regex kEval(R"(^\s*(header|body|rawbody|full)\s+\w+\s+eval:(\w+)\((.*)\)\s*$)");
  std::error_code ec;
  for (const auto& f : fs::directory_iterator("/usr/share/spamassassin", ec)) {
    if (f.path().extension() != ".cf") continue;
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (!std::regex_match(line, m, kEval) || !filterd::spam::find_eval(m[2].str())) continue;
      out += m[1].str() + " FZ_STOCK_" + std::to_string(n++) + " eval:" + m[2].str() + "(" +
             m[3].str() + ")\n";
    }
  }
  out += "header FZ_RELAY_U X-Spam-Relays-Untrusted =~ /^\\[ ip=\\S+ rdns= /\n";
  out += "header FZ_RELAY_T X-Spam-Relays-Trusted =~ /auth=\\S/\n";
  out += "header FZ_ENVFROM EnvelopeFrom =~ /\\@/\n";
  return out;
}

std::shared_ptr<const filterd::spam::RuleEngine> engine() {
  static const auto e = [] {
    const fs::path dir =
        fs::temp_directory_path() / ("fuzz_spam_engine." + std::to_string(getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "10_fuzz.cf") << rules_text();
    filterd::spam::EngineOptions o;
    o.rule_dirs = {dir.string()};
    o.trusted_networks = {"10.0.0.0/8", "!10.1.2.3"};
    auto loaded = filterd::spam::RuleEngine::load(o);
    fs::remove_all(dir);
    return loaded;
  }();
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  filterd::spam::CheckInput in;
  in.message = std::string_view(reinterpret_cast<const char*>(data), size);
  in.envelope_from = size % 2 ? std::optional<std::string>("a@b.example") : std::nullopt;
  in.now = std::chrono::system_clock::from_time_t(1735689600);
  const auto r = engine()->check(in);
  if (!std::isfinite(r.score)) std::abort();
  return 0;
}
