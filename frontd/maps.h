// maps.h — Postfix-style lookup tables as frontd reads them.
//
// TextMap: the source format of Postfix's texthash:/hash: tables
// (postmap(5)): "key  value" per line, '#' comments, empty lines ignored,
// a line starting with white space continues the previous one. Keys are
// case-insensitive (lower-cased); a later duplicate key is an error with
// its line number, as postmap warns and keeps the first.
//
// DomainList: the value of virtual_mailbox_domains — names separated by
// commas or white space, "/path" (a file of names, one or more per line,
// '#' comments) and "texthash:/path" / "hash:/path" (a map whose keys are
// the names; hash: reads the source file, frontd has no Berkeley DB).
//
// MapFile: a TextMap loaded from "texthash:/path", "hash:/path" or a bare
// path that reloads itself when the file's mtime or size changes (and on
// reload()), keeping the old table when the new file is broken.
//
// Thread safety: TextMap and DomainList are immutable after load; MapFile
// is used from one thread (the daemon's I/O thread) and hands out shared
// snapshots that any thread may keep.
#pragma once

#include <ctime>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace filterd::frontd {

class TextMap {
 public:
  // Errors: "FILE:LINE: reason" (`name` is used for FILE).
  static std::expected<TextMap, std::string> parse(std::string_view text, std::string_view name);
  static std::expected<TextMap, std::string> load(const std::string& path);

  // Exact lookup of `key` (lower-cased first).
  std::optional<std::string> find(std::string_view key) const;
  // virtual(8) order for an address: "user@domain", then "@domain".
  std::optional<std::string> find_address(std::string_view address) const;

  size_t size() const { return entries_.size(); }
  const std::map<std::string, std::string>& entries() const { return entries_; }

 private:
  std::map<std::string, std::string> entries_;
};

class DomainList {
 public:
  static std::expected<DomainList, std::string> parse(std::string_view spec);
  bool contains(std::string_view domain) const;  // case-insensitive, exact
  size_t size() const { return domains_.size(); }

 private:
  std::set<std::string> domains_;
};

// "texthash:/p", "hash:/p" or "/p" -> "/p"; error for other types.
std::expected<std::string, std::string> map_path(std::string_view spec);

class MapFile {
 public:
  // Loads now; an error here is a start-up error.
  static std::expected<MapFile, std::string> open(std::string_view spec);

  std::shared_ptr<const TextMap> current() const { return map_; }
  const std::string& path() const { return path_; }

  // Reloads if the file changed (force: always). Returns an error, and
  // keeps the old table, if the new file cannot be read or parsed;
  // returns true if a new table was loaded.
  std::expected<bool, std::string> reload(bool force = false);

 private:
  std::string path_;
  std::shared_ptr<const TextMap> map_;
  std::timespec mtime_{};
  long long size_ = -1;
};

}  // namespace filterd::frontd
