// maildir.cc — see maildir.h.
#include "frontd/maildir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
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

std::expected<void, IoError> make_dir(const std::string& path,
                                      const std::optional<MailboxOwner>& owner) {
  if (::mkdir(path.c_str(), 0700) != 0) {
    if (errno == EEXIST) return {};
    return fail("create maildir " + path);
  }
  if (owner && ::chown(path.c_str(), owner->uid, owner->gid) != 0) return fail("chown " + path);
  return {};
}

}  // namespace

std::string to_lf(std::string_view m) {
  std::string out;
  out.reserve(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r') {
      out += '\n';
      if (i + 1 < m.size() && m[i + 1] == '\n') ++i;
    } else {
      out += m[i];
    }
  }
  return out;
}

std::string maildir_name(long long seconds, long usec, long pid, unsigned long long n,
                         std::string_view host, size_t size, size_t crlf_size) {
  std::string h;
  for (char c : host) {
    if (c == '/')
      h += "\\057";
    else if (c == ':')
      h += "\\072";
    else
      h += c;
  }
  return std::to_string(seconds) + ".M" + std::to_string(usec) + "P" + std::to_string(pid) + "Q" +
         std::to_string(n) + "." + h + ",S=" + std::to_string(size) +
         ",W=" + std::to_string(crlf_size);
}

std::expected<std::string, IoError> deliver_to_maildir(const MaildirDelivery& d,
                                                       std::string_view message) {
  static std::atomic<unsigned long long> counter{0};
  std::string dir = d.maildir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  // Missing parents (domain directory, even the base) like virtual(8), then
  // the Maildir and its three subdirectories.
  for (size_t slash = dir.find('/', 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1)) {
    if (auto r = make_dir(dir.substr(0, slash), d.owner); !r) return std::unexpected(r.error());
  }
  for (const std::string& sub : {dir, dir + "/tmp", dir + "/new", dir + "/cur"}) {
    if (auto r = make_dir(sub, d.owner); !r) return std::unexpected(r.error());
  }
  std::string content = "Return-Path: <" + d.sender + ">\nDelivered-To: " + d.recipient + "\n";
  content += to_lf(message);
  if (!content.ends_with('\n')) content += '\n';
  size_t lines = 0;
  for (char c : content) lines += c == '\n';

  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  const std::string name = maildir_name(tv.tv_sec, tv.tv_usec, ::getpid(), counter.fetch_add(1),
                                        d.hostname, content.size(), content.size() + lines);
  const std::string tmp = dir + "/tmp/" + name;
  const std::string dst = dir + "/new/" + name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail("create " + tmp);
  auto w = write_all(fd, content, tmp);
  if (w && d.owner && ::fchown(fd, d.owner->uid, d.owner->gid) != 0) w = fail("chown " + tmp);
  if (w && ::fsync(fd) != 0) w = fail("fsync " + tmp);
  if (::close(fd) != 0 && w) w = fail("close " + tmp);
  if (w && ::link(tmp.c_str(), dst.c_str()) != 0) w = fail("link " + dst);
  ::unlink(tmp.c_str());
  if (!w) return std::unexpected(w.error());
  if (auto s = sync_directory(dir + "/new"); !s) {
    ::unlink(dst.c_str());  // not durable: take it back, the queue retries
    return std::unexpected(s.error());
  }
  return dst;
}

}  // namespace filterd::frontd
