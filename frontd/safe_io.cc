// safe_io.cc — see safe_io.h.
#include "frontd/safe_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace filterd::frontd {
namespace {

std::unexpected<IoError> fail(const std::string& what) {
  int e = errno;
  return std::unexpected(IoError{e, what + ": " + std::strerror(e)});
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::expected<void, IoError> write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write " + what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

std::expected<void, IoError> sync_directory(const std::string& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0) return fail("open " + dir);
  if (::fsync(d.fd) != 0) return fail("fsync " + dir);
  return {};
}

std::expected<void, IoError> PosixIo::write_atomic(const std::string& path, std::string_view data,
                                                   bool exclusive) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  {
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (f.fd < 0) return fail("create " + tmp);
    auto w = write_all(f.fd, data, tmp);
    if (w && ::fsync(f.fd) != 0) w = fail("fsync " + tmp);
    if (!w) {
      ::unlink(tmp.c_str());
      return w;
    }
  }
  if (exclusive) {
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      auto e = fail("link " + path);
      ::unlink(tmp.c_str());
      return e;
    }
    ::unlink(tmp.c_str());  // a leftover temp name after a crash is swept at start-up
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = fail("rename " + tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  if (auto s = sync_directory(dir_of(path)); !s) {
    // The data is written, but its name may not survive a crash: not durable.
    if (exclusive) ::unlink(path.c_str());
    return s;
  }
  return {};
}

std::expected<void, IoError> PosixIo::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail("unlink " + path);
  return sync_directory(dir_of(path));
}

std::expected<void, IoError> PosixIo::move(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return fail("rename " + from);
  if (auto s = sync_directory(dir_of(to)); !s) return s;
  return sync_directory(dir_of(from));
}

std::expected<std::string, IoError> PosixIo::read(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return fail("open " + path);
  std::string out;
  struct stat st {};
  if (::fstat(f.fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace filterd::frontd
