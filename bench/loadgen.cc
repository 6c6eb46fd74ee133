// loadgen — an SMTP load generator for the benchmarks: sends messages read
// from files (e.g. ../shared/corpus) to a target with N concurrent
// connections, one message per connection (as Postfix's content_filter
// does without connection caching), and prints throughput and latency.
//
//   loadgen --target smtp:127.0.0.1:10024 --concurrency 4 --count 2000
//           [--rate MSGS_PER_S] [--max-size BYTES] [--json] PATH...
//
// PATH is a file or a directory (read recursively). Closed loop by default:
// each connection sends its next message when the last one is answered, so
// at saturation the latency is mostly the wait in the target's queue
// (concurrency / throughput). With --rate, open loop: messages arrive at
// random (Poisson, fixed seed) at that mean rate whatever the target does,
// on at most --concurrency connections at once, as mail reaches a real
// MTA; a message's latency then counts from its arrival, so time spent
// waiting for a free connection is not hidden. A message's latency is from
// connect (or arrival) to the end-of-data reply. Output: one line of
// key=value pairs (or JSON with --json); `late` is how many messages found
// every connection busy (started over 1 ms after their arrival). Exit 1 if
// any message was not accepted.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>

#include "smtp/client.h"

namespace {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string target = "smtp:127.0.0.1:10024";
  unsigned concurrency = 1;
  size_t count = 1000;
  size_t max_size = 25 << 20;
  std::optional<double> rate;  // open loop when given
  bool json = false;
  std::vector<std::string> paths;
};

std::string to_crlf(const std::string& in) {
  std::string out;
  out.reserve(in.size() + in.size() / 30);
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) out += '\r';
    out += in[i];
  }
  return out;
}

std::vector<std::string> load_messages(const Options& o) {
  std::vector<std::filesystem::path> files;
  for (const auto& p : o.paths) {
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.emplace_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) {
    if (std::filesystem::file_size(f) > o.max_size) continue;
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(to_crlf(ss.str()));
  }
  return out;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--target")
      o.target = next();
    else if (a == "--concurrency")
      o.concurrency = std::stoul(next());
    else if (a == "--count")
      o.count = std::stoull(next());
    else if (a == "--rate")
      o.rate = std::stod(next());
    else if (a == "--max-size")
      o.max_size = std::stoull(next());
    else if (a == "--json")
      o.json = true;
    else
      o.paths.push_back(a);
  }
  // The whole schedule must fit the clock (and a rate must be a rate).
  if (o.rate && !(*o.rate > 0 && static_cast<double>(o.count) / *o.rate < 1e6)) {
    std::cerr << "loadgen: --rate wants a positive rate that sends --count within 1e6 s\n";
    return 2;
  }
  auto target = filterd::smtp::parse_endpoint(o.target);
  if (!target) {
    std::cerr << "loadgen: " << target.error() << "\n";
    return 2;
  }
  const std::vector<std::string> messages = load_messages(o);
  if (messages.empty()) {
    std::cerr << "loadgen: no messages in the given paths\n";
    return 2;
  }

  asio::io_context io(1);
  size_t next_index = 0, failures = 0, late = 0;
  unsigned long long bytes = 0;
  std::vector<double> latencies_ms;
  std::map<int, size_t> codes;
  filterd::smtp::ClientOptions copt;
  copt.helo_name = "loadgen.test";
  // Arrival times (open loop): exponential gaps at the mean rate.
  std::vector<Clock::duration> arrivals;
  if (o.rate) {
    std::mt19937_64 random(8);
    std::exponential_distribution<double> gap(*o.rate);
    double at = 0;
    for (size_t i = 0; i < o.count; ++i, at += gap(random)) {
      arrivals.push_back(
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at)));
    }
  }
  auto start = Clock::now();
  auto worker = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(io);
    while (next_index < o.count) {
      const size_t i = next_index++;
      const std::string& msg = messages[i % messages.size()];
      auto t0 = Clock::now();
      if (!arrivals.empty()) {
        const auto due = start + arrivals[i];
        if (t0 < due) {
          timer.expires_at(due);
          co_await timer.async_wait(asio::use_awaitable);
        } else if (t0 - due > std::chrono::milliseconds(1)) {
          ++late;  // every connection was busy when it arrived
        }
        t0 = due;
      }
      filterd::smtp::Envelope env;
      env.sender = "loadgen@sender.test";
      env.recipients.push_back({"user@example.test", "", ""});
      auto r = co_await filterd::smtp::deliver(*target, env, "", msg, copt);
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      ++codes[r.recipients[0].code];
      if (!r.recipients[0].positive()) ++failures;
      bytes += msg.size();
    }
  };
  for (unsigned c = 0; c < o.concurrency; ++c) asio::co_spawn(io, worker(), asio::detached);
  io.run();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> l = latencies_ms;
  double p50 = percentile(l, 0.50), p99 = percentile(l, 0.99);
  double mps = latencies_ms.size() / secs, mbps = bytes / secs / 1e6;
  std::string code_list;
  for (auto& [code, n] : codes) code_list += std::to_string(code) + ":" + std::to_string(n) + " ";
  if (o.json) {
    std::cout << "{\"messages\":" << latencies_ms.size() << ",\"seconds\":" << secs
              << ",\"msgs_per_s\":" << mps << ",\"mb_per_s\":" << mbps << ",\"p50_ms\":" << p50
              << ",\"p99_ms\":" << p99 << ",\"failures\":" << failures << ",\"late\":" << late
              << "}\n";
  } else {
    std::cout << "messages=" << latencies_ms.size() << " seconds=" << secs << " msgs/s=" << mps
              << " MB/s=" << mbps << " p50_ms=" << p50 << " p99_ms=" << p99
              << " failures=" << failures << " late=" << late << " codes=" << code_list << "\n";
  }
  return failures == 0 ? 0 : 1;
}
