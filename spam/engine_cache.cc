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
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <optional>
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

// The cache file mapped read-only. Reading it into the heap instead left
// the file's ~35 MB (and copies of its blobs) as freed heap that glibc keeps
// resident: the loaded daemon stayed ~33 MB larger than its rules.
class MappedFile {
 public:
  explicit MappedFile(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) data_ = {static_cast<const char*>(p), static_cast<size_t>(st.st_size)};
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (!data_.empty()) ::munmap(const_cast<char*>(data_.data()), data_.size());
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view data() const { return data_; }

  // Drops the pages wholly inside `part` (a view of data()) from the
  // process: a deserialized database is a heap copy, and keeping the file's
  // pages mapped until every class was loaded made start-up the daemon's
  // RSS peak (the rules twice, ~35 MB more than it runs with).
  void release(std::string_view part) const {
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto first = (reinterpret_cast<uintptr_t>(part.data()) + page - 1) & ~(page - 1);
    const auto last = (reinterpret_cast<uintptr_t>(part.data()) + part.size()) & ~(page - 1);
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  }

 private:
  std::string_view data_;
};

// The blobs of the first `count` classes, viewing `data`.
std::vector<std::string_view> split_blobs(std::string_view data, size_t count) {
  std::vector<std::string_view> out;
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

bool write_all(int fd, std::string_view bytes) {
  for (size_t at = 0; at < bytes.size();) {
    ssize_t w = ::write(fd, bytes.data() + at, bytes.size() - at);
    if (w <= 0) return false;
    at += static_cast<size_t>(w);
  }
  return true;
}

// Best effort: a cache that cannot be written only costs the next start-up.
// Written one class at a time, never the whole file in memory (see
// MappedFile for what a transient 35 MB string costs).
void write_blobs(const fs::path& dir, const std::string& name,
                 const std::vector<PatternClass>& classes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path tmp = dir / (name + ".tmp" + std::to_string(getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  bool ok = write_all(fd, kMagic);
  for (size_t i = 0; ok && i < classes.size(); ++i) {
    const std::string bytes = classes[i].set->serialize();
    char length[8];
    for (int k = 0; k < 8; ++k) length[k] = static_cast<char>(bytes.size() >> (8 * k) & 0xff);
    ok = write_all(fd, {length, sizeof length}) && write_all(fd, bytes);
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
  {
    std::optional<MappedFile> file;
    if (!dir.empty()) file.emplace(fs::path(dir) / name);
    const auto blobs =
        file ? split_blobs(file->data(), classes.size()) : std::vector<std::string_view>{};
    for (size_t i = 0; i < classes.size(); ++i) {
      if (i < blobs.size()) {
        auto set = PatternSet::deserialize(classes[i].specs, blobs[i], limits,
                                           [&](std::string_view db) { file->release(db); });
        if (set) {
          classes[i].set = *set;
          continue;
        }
      }
      missing.push_back(i);
    }
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
#ifdef __GLIBC__
  // Hyperscan's compile allocates and frees hundreds of MB; glibc keeps the
  // freed heap resident (the bench stayed at ~420 MB after a cold compile
  // of the stock rules). Give it back now rather than hold it until exit.
  malloc_trim(0);
#endif
  return false;
}

}  // namespace filterd::spam
