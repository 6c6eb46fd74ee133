// store.cc — see store.h. Files here and in durable_file.cc, rows in
// index.cc; this file keeps the two in step.
#include "quarantine/store.h"

#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>

#include "quarantine/durable_file.h"
#include "quarantine/file_format.h"
#include "quarantine/gzip.h"
#include "quarantine/index.h"

namespace filterd::quarantine {
namespace {

constexpr std::string_view kIndexFile = "index.sqlite";
// gzip's worst case on incompressible input: 5 bytes per 16 KiB block plus
// header and trailer (RFC 1951 §3.2.4, RFC 1952 §2.3), rounded up.
size_t max_gzip_size(size_t n) {
  return n + n / 1000 + 1024;
}

std::expected<void, std::string> make_root(const std::string& root, bool create) {
  struct stat st {};
  if (::stat(root.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return std::unexpected(fmt::format("quarantine: {}: not a directory", root));
  }
  if (!create || errno != ENOENT)
    return std::unexpected(fmt::format("quarantine: {}: {}", root, std::strerror(errno)));
  for (size_t slash = root.find('/', 1);; slash = root.find('/', slash + 1)) {
    std::string dir = root.substr(0, slash);
    if (::mkdir(dir.c_str(), kDirMode) != 0 && errno != EEXIST)
      return std::unexpected(fmt::format("quarantine: mkdir {}: {}", dir, std::strerror(errno)));
    if (slash == std::string::npos) return {};
  }
}

}  // namespace

struct Store::State {
  std::string root;
  StoreOptions options;
  std::mutex mu;  // guards index: one SQLite connection per Store
  std::unique_ptr<Index> index;
};

Store::Store(std::unique_ptr<State> s) : s_(std::move(s)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

const std::string& Store::root() const {
  return s_->root;
}

std::expected<Store, std::string> Store::open(const std::string& root, const StoreOptions& o) {
  if (root.empty()) return std::unexpected("quarantine: no directory given");
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (auto made = make_root(r, o.create); !made) return std::unexpected(made.error());
  auto index = Index::open(r + "/" + std::string(kIndexFile), o.create);
  if (!index) return std::unexpected(index.error());
  return Store(std::unique_ptr<State>(new State{r, o, {}, std::move(*index)}));
}

std::expected<void, std::string> Store::put(Entry& e, std::string_view message) {
  if (!valid_id(e.mail_id))
    return std::unexpected(fmt::format("quarantine: bad mail_id \"{}\"", e.mail_id));
  if (e.category.empty())
    return std::unexpected(fmt::format("quarantine: {}: no category", e.mail_id));
  if (e.time < 0) return std::unexpected(fmt::format("quarantine: {}: time < 0", e.mail_id));
  if (e.time == 0) e.time = static_cast<int64_t>(std::time(nullptr));
  if (e.secret_id.empty()) e.secret_id = new_secret_id();
  e.size = message.size();
  e.path = relative_path(e.mail_id, e.time, s_->options.gzip);

  std::string content = prepended_fields(e, message);
  content.append(message);
  if (s_->options.gzip) {
    auto z = gzip_compress(content);
    if (!z) return std::unexpected(fmt::format("quarantine: {}: {}", e.mail_id, z.error()));
    content = std::move(*z);
  }
  if (auto w = write_durably(s_->root, e.path, content); !w) return w;
  std::expected<void, std::string> inserted;
  {
    std::lock_guard lock(s_->mu);
    inserted = s_->index->insert(e);
  }
  if (!inserted) (void)remove_file(s_->root + "/" + e.path);  // ours: the rename never replaces
  return inserted;
}

std::expected<std::vector<Entry>, std::string> Store::list(const Filter& f) const {
  std::lock_guard lock(s_->mu);
  return s_->index->list(f);
}

std::expected<std::optional<Entry>, std::string> Store::get(std::string_view mail_id) const {
  std::lock_guard lock(s_->mu);
  return s_->index->get(mail_id);
}

std::expected<std::string, std::string> Store::read_message(const Entry& e) const {
  if (!valid_relative_path(e.path))
    return std::unexpected(
        fmt::format("quarantine: {}: bad path \"{}\" in the index", e.mail_id, e.path));
  std::string full = s_->root + "/" + e.path;
  size_t max = e.size + max_prepended_size(e);
  bool gz = e.path.ends_with(".gz");
  auto raw = read_file(full, gz ? max_gzip_size(max) : max);
  if (!raw) return std::unexpected(raw.error());
  std::string content;
  if (gz) {
    auto inflated = gzip_decompress(*raw, max);
    if (!inflated)
      return std::unexpected(fmt::format("quarantine: {}: {}", full, inflated.error()));
    content = std::move(*inflated);
  } else {
    content = std::move(*raw);
  }
  auto message = strip_prepended(content);
  if (!message)
    return std::unexpected(
        fmt::format("quarantine: {}: not a quarantine file: {}", full, message.error()));
  if (message->size() != e.size)
    return std::unexpected(fmt::format("quarantine: {}: the message has {} bytes, the index {}",
                                       full, message->size(), e.size));
  return std::string(*message);
}

std::expected<bool, std::string> Store::mark_released(std::string_view mail_id, std::string_view by,
                                                      const std::vector<std::string>& to,
                                                      int64_t when) {
  if (when <= 0) return std::unexpected(fmt::format("quarantine: {}: release time <= 0", mail_id));
  std::lock_guard lock(s_->mu);
  return s_->index->mark_released(mail_id, by, to, when);
}

std::expected<bool, std::string> Store::remove(std::string_view mail_id) {
  std::expected<std::optional<std::string>, std::string> path;
  {
    std::lock_guard lock(s_->mu);
    path = s_->index->remove(mail_id);
  }
  if (!path) return std::unexpected(path.error());
  if (!*path) return false;
  // The row is gone; a file left by a failed unlink is an orphan for purge().
  if (valid_relative_path(**path)) {
    if (auto r = remove_file(s_->root + "/" + **path); !r) return std::unexpected(r.error());
  }
  return true;
}

std::expected<uint64_t, std::string> Store::purge(int64_t older_than) {
  uint64_t removed = 0;
  std::string first_error;
  for (;;) {
    std::expected<std::vector<std::string>, std::string> paths;
    {
      std::lock_guard lock(s_->mu);
      paths = s_->index->remove_older(older_than);
    }
    if (!paths) return std::unexpected(paths.error());
    removed += paths->size();
    for (const std::string& p : *paths) {
      if (!valid_relative_path(p)) continue;
      if (auto r = remove_file(s_->root + "/" + p); !r && first_error.empty())
        first_error = r.error();
    }
    if (paths->size() < static_cast<size_t>(kPurgeBatch)) break;
  }
  // Orphans: files of crashed puts, temp files, files whose unlink failed.
  // Only old ones: a put() in flight has written its file but not its row.
  int64_t settled = static_cast<int64_t>(std::time(nullptr)) - kOrphanGrace;
  for_each_old_hour_dir(s_->root, older_than, [&](const std::string& dir) {
    for (const DirFile& f : list_files(s_->root + "/" + dir)) {
      if (f.mtime > settled) continue;
      std::string_view id = f.name;
      if (id.ends_with(".gz")) id.remove_suffix(3);
      if (valid_id(id)) {
        std::lock_guard lock(s_->mu);
        auto row = s_->index->get(id);
        if (!row || *row) continue;  // indexed, or we cannot tell
      }
      (void)remove_file(s_->root + "/" + dir + "/" + f.name);
    }
  });
  if (!first_error.empty()) return std::unexpected(first_error);
  return removed;
}

std::expected<std::vector<Stat>, std::string> Store::stats(int64_t since) const {
  std::lock_guard lock(s_->mu);
  return s_->index->stats(since);
}

std::string new_secret_id() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // amavis's AM.PDP (and our parser, am_pdp.cc) takes an id only when it
  // starts with a letter or digit: draw again while it starts with '-'/'_'
  // (1 in 32 draws; amavisd-release refused those).
  std::string id;
  do {
    unsigned char bytes[9];  // 72 bits, 12 base64url characters
    size_t got = 0;
    while (got < sizeof bytes) {
      ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {  // no getrandom(2) (Linux < 3.17): the C++ library's source
        std::random_device rd;
        for (; got < sizeof bytes; ++got) bytes[got] = static_cast<unsigned char>(rd());
        break;
      }
      got += static_cast<size_t>(n);
    }
    id.clear();
    for (size_t i = 0; i < sizeof bytes; i += 3) {
      uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      for (int shift = 18; shift >= 0; shift -= 6) id += kAlphabet[(v >> shift) & 63];
    }
  } while (id.front() == '-' || id.front() == '_');
  return id;
}

}  // namespace filterd::quarantine
