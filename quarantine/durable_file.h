// durable_file.h — private to quarantine/: the file system half of the
// store. Writes are atomic and durable (temp file in the target directory,
// fsync, rename without replacing, fsync of the directory and of the parent
// of every directory created), so after a crash a quarantine file is either
// complete or absent; a leftover temp file (".<name>.XXXXXX") is swept by
// purge().
//
// Failures are errors naming the path and errno text; tests provoke them
// with RLIMIT_FSIZE (EFBIG, as from a full disk) and with a file where a
// directory must go.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace filterd::quarantine {

// Directories are made 0750 and files 0640: the quarantine holds malware and
// private mail; an admin group may read it.
inline constexpr unsigned kDirMode = 0750;
inline constexpr unsigned kFileMode = 0640;

// Writes `data` to ROOT/REL, making REL's missing directories. Fails with
// EEXIST's text, leaving the old file alone, if ROOT/REL exists.
std::expected<void, std::string> write_durably(const std::string& root, std::string_view rel,
                                               std::string_view data);

// The content of `path`; an error if it is missing, not a regular file, or
// over `max_bytes`.
std::expected<std::string, std::string> read_file(const std::string& path, size_t max_bytes);

// Unlinks `path`; false if it was not there.
std::expected<bool, std::string> remove_file(const std::string& path);

struct DirFile {
  std::string name;
  int64_t mtime;  // unix seconds
};
// The regular files in `dir` (not recursive); empty if it cannot be read.
std::vector<DirFile> list_files(const std::string& dir);

// Calls `visit(dir)` for each hour directory "YYYY/MM/DD/HH" under root
// whose hour ends at or before `before`, and afterwards removes the ones
// (and their day, month and year directories) left empty. Non-layout names
// are ignored.
void for_each_old_hour_dir(const std::string& root, int64_t before,
                           const std::function<void(const std::string& dir)>& visit);

}  // namespace filterd::quarantine
