// driver.cc — a self-contained runner for LLVMFuzzerTestOneInput targets,
// so every fuzz target runs in the normal build and under ASan+UBSan in CI
// without clang's libFuzzer (clang 14 cannot compile this C++23 code).
//
//   fuzz_X [--iterations N] [--seed S] [--max-len L] PATH...
//
// Runs each seed file (PATH may be a directory, read recursively), then N
// mutations of random seeds (byte flips, inserts, deletes, splices, chunk
// duplication) from a fixed seed, so a run is reproducible. A crash or a
// sanitizer report fails the run. For coverage-guided fuzzing, the same
// targets link against AFL++'s driver (see tests/fuzz/README.md).
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// The input being run, written to ./fuzz-crash-input when the target dies,
// so a failure can be replayed and turned into a regression test.
const std::string* g_current = nullptr;

void on_fatal_signal(int sig) {
  if (g_current != nullptr) {
    int fd = ::open("fuzz-crash-input", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      (void)!::write(fd, g_current->data(), g_current->size());
      ::close(fd);
    }
    static const char kMsg[] = "fuzz driver: crashing input written to ./fuzz-crash-input\n";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void run_one(const std::string& s) {
  g_current = &s;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  g_current = nullptr;
}

std::vector<std::string> load(const std::vector<std::string>& paths, size_t max_len) {
  std::vector<std::string> out;
  auto add = [&](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    if (s.size() > max_len) s.resize(max_len);
    out.push_back(std::move(s));
  };
  for (const auto& p : paths) {
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) add(e.path());
      }
    } else if (std::filesystem::exists(p)) {
      add(p);
    }
  }
  if (out.empty()) out.emplace_back();
  return out;
}

std::string mutate(std::string s, const std::vector<std::string>& pool, std::mt19937_64& rng,
                   size_t max_len) {
  auto pick = [&](size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  };
  static const std::string kTokens[] = {"\r\n", "\n", "\r", ".", "\r\n.\r\n", "\n.\n", ":",   "<",
                                        ">",    "=",  "+",  " ", "\t",        "\0",    "\xff"};
  int rounds = 1 + static_cast<int>(pick(8));
  for (int r = 0; r < rounds; ++r) {
    switch (pick(6)) {
      case 0:  // flip a byte
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 1:  // insert a token
        s.insert(pick(s.size() + 1), kTokens[pick(std::size(kTokens))]);
        break;
      case 2:  // delete a range
        if (!s.empty()) {
          size_t at = pick(s.size());
          s.erase(at, pick(std::min<size_t>(64, s.size() - at) + 1));
        }
        break;
      case 3: {  // splice from another input
        const std::string& o = pool[pick(pool.size())];
        if (!o.empty()) {
          size_t from = pick(o.size());
          s.insert(pick(s.size() + 1), o.substr(from, pick(256)));
        }
        break;
      }
      case 4:  // duplicate a chunk (long lines, repeated boundaries)
        if (!s.empty()) {
          size_t at = pick(s.size());
          std::string chunk = s.substr(at, 1 + pick(32));
          for (size_t n = pick(64); n > 0; --n) s.insert(at, chunk);
        }
        break;
      case 5:  // random byte
        s.insert(pick(s.size() + 1), 1, static_cast<char>(pick(256)));
        break;
    }
  }
  if (s.size() > max_len) s.resize(max_len);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  size_t iterations = 10000, max_len = 1 << 20;
  uint64_t seed = 1;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--iterations" && i + 1 < argc)
      iterations = std::stoull(argv[++i]);
    else if (a == "--seed" && i + 1 < argc)
      seed = std::stoull(argv[++i]);
    else if (a == "--max-len" && i + 1 < argc)
      max_len = std::stoull(argv[++i]);
    else
      paths.push_back(a);
  }
  std::vector<std::string> pool = load(paths, max_len);
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, on_fatal_signal);
  for (const auto& s : pool) run_one(s);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < iterations; ++i) {
    std::string m = mutate(pool[rng() % pool.size()], pool, rng, max_len);
    run_one(m);
    if (i % 4 == 0 && pool.size() < 4096) pool.push_back(std::move(m));
  }
  std::cout << "fuzz driver: " << pool.size() << " inputs in pool, " << iterations
            << " mutations run, no crash\n";
  return 0;
}
