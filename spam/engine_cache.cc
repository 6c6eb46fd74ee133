// engine_cache.cc — compiled pattern sets on disk, so that a restart with
// unchanged rules skips Hyperscan's compile.
//
// One file per rule set, `spam-rules-<hash>.db` in the cache directory, the
// hash covering every class's key and patterns. Layout: a magic line, then
// per class (in the engine's order) a little-endian u64 length, zeros up to
// a multiple of kSerializedAlignment from the start (so that each set's
// bytes are aligned alike in the page-aligned mapping), and the bytes of
// PatternSet::serialize(). A set that does not deserialize (damaged file,
// other Hyperscan build or CPU) is compiled instead and the file rewritten
// (temp file, fsync, rename); files of other rule sets are removed.
//
// The sets run their Hyperscan databases in place, in the mapped file
// (~35 MB for the stock rules): only the pages the matching touches are
// resident, they are clean page cache the kernel can drop and reread, and
// every filterd on the machine shares them. This needs the file to stay as
// it is while mapped: filterd itself only ever renames a new file over it,
// and an admin must not edit, copy over or truncate it in place (SIGBUS,
// or Hyperscan running changed bytes). On a network or FUSE filesystem,
// where another host may replace it, the sets copy their databases.
#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "spam/engine_internal.h"

namespace filterd::spam {
namespace {

namespace fs = std::filesystem;

// 2: blobs aligned for PatternSet::deserialize to run them in place.
constexpr std::string_view kMagic = "filterd spam pattern cache 2\n";

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

// The cache file mapped read-only, shared by the pattern sets that run
// their databases in it.
class MappedFile {
 public:
  explicit MappedFile(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct statfs fs {};
    local_ = ::fstatfs(fd, &fs) == 0 && is_local(fs.f_type);
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
  // Whether the sets may run in the mapping: the file is on a local
  // filesystem, which no other host changes under us.
  bool local() const { return local_; }
  // Drops the pages of `part` (a view of data()) from the process's page
  // tables, not from the file: loading a set read all of its bytes (the checksum,
  // Hyperscan's CRC), and only the pages matching touches again should
  // count in the daemon's RSS. They come back from the page cache on the
  // next touch; a page shared with the next part only faults once more.
  void drop_pages(std::string_view part) const {
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto first = reinterpret_cast<uintptr_t>(part.data()) & ~(page - 1);
    const auto last = reinterpret_cast<uintptr_t>(part.data()) + part.size();
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  }

 private:
  static bool is_local(decltype(statfs::f_type) type) {
    switch (static_cast<unsigned long>(type)) {
      case 0x6969:      // NFS
      case 0x517B:      // SMB
      case 0xFF534D42:  // CIFS
      case 0xFE534D42:  // SMB2
      case 0x65735546:  // FUSE
      case 0x00C36400:  // Ceph
      case 0x5346414F:  // AFS
        return false;
      default:
        return true;
    }
  }

  std::string_view data_;
  bool local_ = false;
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
    const size_t padding = padding_to_alignment(at);
    if (padding > data.size() - at) break;
    at += padding;
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
// Written one class at a time, never the whole file in memory (a transient
// 35 MB string stays resident as freed heap). A class that loaded from the
// old file is copied as it was (`loaded[i]`, empty for the others): its
// set runs in those pages, and serializing it again would fault them all
// back in and copy each database four times over.
void write_blobs(const fs::path& dir, const std::string& name,
                 const std::vector<PatternClass>& classes,
                 const std::vector<std::string_view>& loaded) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path tmp = dir / (name + ".tmp" + std::to_string(getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  bool ok = write_all(fd, kMagic);
  size_t at = kMagic.size();
  for (size_t i = 0; ok && i < classes.size(); ++i) {
    std::string serialized;
    if (loaded[i].empty()) serialized = classes[i].set->serialize();
    const std::string_view bytes = loaded[i].empty() ? serialized : loaded[i];
    char length[8];
    for (int k = 0; k < 8; ++k) length[k] = static_cast<char>(bytes.size() >> (8 * k) & 0xff);
    const std::string padding(padding_to_alignment(at + sizeof length), '\0');
    ok = write_all(fd, {length, sizeof length}) && write_all(fd, padding) && write_all(fd, bytes);
    at += sizeof length + padding.size() + bytes.size();
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
    // Not another process's file in the writing (`.tmp<pid>`).
    if (other.starts_with("spam-rules-") && other != name &&
        other.find(".tmp") == std::string::npos) {
      fs::remove(entry.path(), ec);
    }
  }
}

}  // namespace

bool load_or_compile(std::vector<PatternClass>& classes, const std::string& dir,
                     const PatternLimits& limits) {
  const std::string name = cache_name(classes);
  std::vector<size_t> missing;
  std::shared_ptr<const MappedFile> file;
  if (!dir.empty()) file = std::make_shared<const MappedFile>(fs::path(dir) / name);
  const auto blobs =
      file ? split_blobs(file->data(), classes.size()) : std::vector<std::string_view>{};
  std::vector<std::string_view> loaded(classes.size());
  for (size_t i = 0; i < classes.size(); ++i) {
    if (i < blobs.size()) {
      auto set = PatternSet::deserialize(classes[i].specs, blobs[i], limits,
                                         file->local() ? file : nullptr);
      file->drop_pages(blobs[i]);  // now, or the whole file would be the start-up peak
      if (set) {
        classes[i].set = *set;
        loaded[i] = blobs[i];
        continue;
      }
    }
    missing.push_back(i);
  }
  // Reading one set faulted in its neighbours' pages too (fault-around).
  if (file) file->drop_pages(file->data());
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
  if (!dir.empty()) {
    write_blobs(dir, name, classes, loaded);
    if (file) file->drop_pages(file->data());  // the classes copied from it
  }
#ifdef __GLIBC__
  // Hyperscan's compile allocates and frees hundreds of MB; glibc keeps the
  // freed heap resident (the bench stayed at ~420 MB after a cold compile
  // of the stock rules). Give it back now rather than hold it until exit.
  malloc_trim(0);
#endif
  return false;
}

}  // namespace filterd::spam
