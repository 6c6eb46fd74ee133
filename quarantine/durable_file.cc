// durable_file.cc — see durable_file.h.
#include "quarantine/durable_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "quarantine/file_format.h"

namespace filterd::quarantine {
namespace {

// purge() may remove an empty directory of the path between our mkdir and
// our mkostemp (it only ever removes hours wholly before its cutoff, so the
// daemon, writing the current hour, meets this only when an admin purges
// with a cutoff in the future). Each try makes progress unless a purge wins
// the race again; that many tries before giving up, yielding in between.
constexpr int kCreateTries = 50;

std::string failed(std::string_view what, const std::string& path, int err) {
  return fmt::format("quarantine: {} {}: {}", what, path, std::strerror(err));
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::expected<void, std::string> fsync_dir(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd < 0) return std::unexpected(failed("open directory", dir, errno));
  if (::fsync(d.fd) != 0) return std::unexpected(failed("fsync directory", dir, errno));
  return {};
}

// Makes each missing directory of ROOT/DIR; appends the parents of those it
// made (whose entries must reach the disk) to `touched`. Returns 0 or the
// errno of the mkdir that failed, whose path is then in `where`.
int make_dirs(const std::string& root, std::string_view dir, std::vector<std::string>& touched,
              std::string& where) {
  std::string path = root;
  size_t pos = 0;
  while (pos <= dir.size()) {
    size_t slash = dir.find('/', pos);
    if (slash == std::string_view::npos) slash = dir.size();
    std::string parent = path;
    path += "/";
    path += dir.substr(pos, slash - pos);
    if (::mkdir(path.c_str(), kDirMode) == 0) {
      touched.push_back(parent);
    } else if (errno != EEXIST) {
      where = path;
      return errno;
    }
    pos = slash + 1;
  }
  return 0;
}

std::expected<void, std::string> write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(failed("write", path, errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// Renames without replacing an existing file: a duplicate mail_id must not
// overwrite the quarantined message it names.
int rename_noreplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (::link(from.c_str(), to.c_str()) != 0) return -1;  // file systems without the flag
  ::unlink(from.c_str());
  return 0;
}

}  // namespace

std::expected<void, std::string> write_durably(const std::string& root, std::string_view rel,
                                               std::string_view data) {
  size_t slash = rel.rfind('/');
  std::string_view dir = rel.substr(0, slash), name = rel.substr(slash + 1);
  std::string dir_path = root + "/" + std::string(dir);
  std::string final_path = root + "/" + std::string(rel);
  std::vector<std::string> touched;
  std::string temp;
  int fd = -1;
  for (int attempt = 1; fd < 0; ++attempt) {
    std::string where;
    std::string_view verb = "mkdir";
    int err = make_dirs(root, dir, touched, where);
    if (err == 0) {
      temp = dir_path + "/." + std::string(name) + ".XXXXXX";
      fd = ::mkostemp(temp.data(), O_CLOEXEC);
      err = errno;
      where = temp;
      verb = "create";
    }
    if (fd < 0 && (err != ENOENT || attempt == kCreateTries))
      return std::unexpected(failed(verb, where, err));
    if (fd < 0) std::this_thread::yield();
  }
  Fd file(fd);
  auto cleanup = [&](std::string e) {
    ::unlink(temp.c_str());
    return std::unexpected(std::move(e));
  };
  if (::fchmod(fd, kFileMode) != 0) return cleanup(failed("chmod", temp, errno));
  if (auto w = write_all(fd, data, temp); !w) return cleanup(w.error());
  if (::fsync(fd) != 0) return cleanup(failed("fsync", temp, errno));
  if (rename_noreplace(temp, final_path) != 0)
    return cleanup(failed("rename to", final_path, errno));
  touched.push_back(dir_path);
  for (const std::string& d : touched) {
    if (auto s = fsync_dir(d); !s) {
      ::unlink(final_path.c_str());
      return s;
    }
  }
  return {};
}

std::expected<std::string, std::string> read_file(const std::string& path, size_t max_bytes) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (f.fd < 0) return std::unexpected(failed("open", path, errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return std::unexpected(failed("stat", path, errno));
  if (!S_ISREG(st.st_mode)) return std::unexpected(fmt::format("quarantine: {}: not a file", path));
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return std::unexpected(fmt::format("quarantine: {}: {} bytes, more than the {} expected", path,
                                       st.st_size, max_bytes));
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(f.fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(failed("read", path, errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

std::expected<bool, std::string> remove_file(const std::string& path) {
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  return std::unexpected(failed("unlink", path, errno));
}

namespace {

std::vector<std::string> subdirs(const std::string& path, size_t width) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n.size() == width && n.find_first_not_of("0123456789") == std::string_view::npos)
      out.emplace_back(n);
  }
  ::closedir(d);
  return out;
}

}  // namespace

std::vector<DirFile> list_files(const std::string& dir) {
  std::vector<DirFile> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
      out.push_back(DirFile{e->d_name, static_cast<int64_t>(st.st_mtime)});
  }
  ::closedir(d);
  return out;
}

void for_each_old_hour_dir(const std::string& root, int64_t before,
                           const std::function<void(const std::string& dir)>& visit) {
  // Years, months and days whose first hour is already too new are skipped
  // without being read, so this stays cheap on a large store.
  for (const std::string& y : subdirs(root, 4)) {
    if (hour_start(y + "/01/01/00") >= before) continue;
    for (const std::string& m : subdirs(root + "/" + y, 2)) {
      std::string ym = y + "/" + m;
      if (hour_start(ym + "/01/00") >= before) continue;
      for (const std::string& d : subdirs(root + "/" + ym, 2)) {
        std::string ymd = ym + "/" + d;
        if (hour_start(ymd + "/00") >= before) continue;
        for (const std::string& h : subdirs(root + "/" + ymd, 2)) {
          std::string hour = ymd + "/" + h;
          int64_t start = hour_start(hour);
          if (start < 0 || start + 3600 > before) continue;
          visit(hour);
          ::rmdir((root + "/" + hour).c_str());  // fails, harmlessly, unless empty
        }
        ::rmdir((root + "/" + ymd).c_str());
      }
      ::rmdir((root + "/" + ym).c_str());
    }
    ::rmdir((root + "/" + y).c_str());
  }
}

}  // namespace filterd::quarantine
