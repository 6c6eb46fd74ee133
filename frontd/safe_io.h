// safe_io.h — the disk writes that decide whether mail is lost, behind an
// interface that tests replace to make each step fail (STYLE.md rule 8).
//
// write_atomic(): temp file in the same directory → write → fsync → link to
// the final name (fails with EEXIST instead of replacing, when exclusive) or
// rename over it → fsync the directory. When it returns success the file and
// its name survive a crash or power loss; on failure nothing is left under
// the final name.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace filterd::frontd {

struct IoError {
  int error = 0;  // errno
  std::string what;
};

class SafeIo {
 public:
  virtual ~SafeIo() = default;
  // exclusive: fail with IoError{EEXIST} if `path` exists; else replace it.
  virtual std::expected<void, IoError> write_atomic(const std::string& path, std::string_view data,
                                                    bool exclusive) = 0;
  // Removes `path` and fsyncs its directory. A missing file is success.
  virtual std::expected<void, IoError> remove(const std::string& path) = 0;
  // rename() then fsync of both directories.
  virtual std::expected<void, IoError> move(const std::string& from, const std::string& to) = 0;
  virtual std::expected<std::string, IoError> read(const std::string& path) = 0;
};

// The real thing (POSIX calls, EINTR retried).
class PosixIo : public SafeIo {
 public:
  std::expected<void, IoError> write_atomic(const std::string& path, std::string_view data,
                                            bool exclusive) override;
  std::expected<void, IoError> remove(const std::string& path) override;
  std::expected<void, IoError> move(const std::string& from, const std::string& to) override;
  std::expected<std::string, IoError> read(const std::string& path) override;
};

// fsync of a directory, so that a name created or removed in it is durable.
std::expected<void, IoError> sync_directory(const std::string& dir);

// Writes all of `data` to `fd` (EINTR and short writes handled).
std::expected<void, IoError> write_all(int fd, std::string_view data, const std::string& what);

}  // namespace filterd::frontd
