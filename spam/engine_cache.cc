// engine_cache.cc — compiled pattern sets on disk, so that a restart with
// unchanged rules skips Hyperscan's compile.
//
// One file per rule set, `spam-rules-<hash>.db` in the cache directory, the
// hash covering every class's key and patterns. Layout: a magic line, then
// per class (in the engine's order) a little-endian u64 length and the bytes
// of PatternSet::serialize(). A set that does not deserialize (damaged file,
// other Hyperscan build or CPU) is compiled instead and the file rewritten
// (temp file, fsync, rename); files of other rule sets are removed.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "spam/engine_internal.h"

namespace filterd::spam {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "filterd spam pattern cache 1\n";

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return (h ^ 0xff) * 1099511628211ull;  // a separator, so "ab"+"c" != "a"+"bc"
}

std::string cache_name(const std::vector<PatternClass>& classes) {
  uint64_t h = 14695981039346656037ull;
  for (const auto& c : classes) {
    h = fnv1a(h, c.key);
    for (const auto& s : c.specs) {
      h = fnv1a(h, std::to_string(s.id));
      h = fnv1a(h, s.source);
      h = fnv1a(h, s.flags);
      h = fnv1a(h, std::to_string(s.multiple) + "/" + std::to_string(s.max_hits));
    }
  }
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string("spam-rules-") + hex + ".db";
}

std::vector<std::string> read_blobs(const fs::path& path, size_t count) {
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), {});
  std::vector<std::string> out;
  if (!data.starts_with(kMagic)) return out;
  size_t at = kMagic.size();
  while (out.size() < count && at + 8 <= data.size()) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(data[at + i]);
    at += 8;
    if (n > data.size() - at) break;
    out.push_back(data.substr(at, n));
    at += n;
  }
  return out;
}

// Best effort: a cache that cannot be written only costs the next start-up.
void write_blobs(const fs::path& dir, const std::string& name,
                 const std::vector<PatternClass>& classes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string data(kMagic);
  for (const auto& c : classes) {
    std::string bytes = c.set->serialize();
    uint64_t n = bytes.size();
    for (int i = 0; i < 8; ++i) data += static_cast<char>(n >> (8 * i) & 0xff);
    data += bytes;
  }
  const fs::path tmp = dir / (name + ".tmp" + std::to_string(getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  bool ok = true;
  for (size_t at = 0; ok && at < data.size();) {
    ssize_t w = ::write(fd, data.data() + at, data.size() - at);
    ok = w > 0;
    at += ok ? static_cast<size_t>(w) : 0;
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    fs::remove(tmp, ec);
    return;
  }
  fs::rename(tmp, dir / name, ec);
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string other = entry.path().filename().string();
    if (other.starts_with("spam-rules-") && other != name) fs::remove(entry.path(), ec);
  }
}

}  // namespace

bool load_or_compile(std::vector<PatternClass>& classes, const std::string& dir,
                     const PatternLimits& limits) {
  const std::string name = cache_name(classes);
  std::vector<size_t> missing;
  std::vector<std::string> blobs;
  if (!dir.empty()) blobs = read_blobs(fs::path(dir) / name, classes.size());
  for (size_t i = 0; i < classes.size(); ++i) {
    if (i < blobs.size()) {
      if (auto set = PatternSet::deserialize(classes[i].specs, blobs[i], limits)) {
        classes[i].set = *set;
        continue;
      }
    }
    missing.push_back(i);
  }
  if (missing.empty()) return true;

  // Largest first, on every core: the stock body class alone is most of it.
  std::ranges::sort(missing, std::greater{}, [&](size_t i) { return classes[i].specs.size(); });
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t k; (k = next++) < missing.size();) {
      PatternClass& c = classes[missing[k]];
      c.set = PatternSet::compile(c.specs, limits);
    }
  };
  {
    std::vector<std::jthread> threads;
    unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    for (unsigned t = 1; t < n; ++t) threads.emplace_back(work);
    work();
  }
  if (!dir.empty()) write_blobs(dir, name, classes);
  return false;
}

}  // namespace filterd::spam
