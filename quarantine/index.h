// index.h — private to quarantine/: the SQLite index of the quarantine
// (ROOT/index.sqlite), one row per entry plus child tables of envelope
// recipients and release recipients (so a recipient filter looks at each
// address on its own).
//
// WAL mode, so filterctl reads while filterd writes; synchronous=FULL, so a
// committed row survives a power cut like the file it points at; writes in
// BEGIN IMMEDIATE transactions, so the busy timeout (kBusyTimeoutMs) covers
// every wait for the write lock. The schema version is PRAGMA user_version
// (kSchemaVersion); open() creates or upgrades, and refuses a newer one.
//
// Every statement is a constant, prepared once per connection, with every
// value bound. Not thread-safe: Store serializes calls.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "quarantine/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace filterd::quarantine {

inline constexpr int kSchemaVersion = 1;
// purge() deletes rows in batches of this many, each its own transaction,
// so writers never wait long for the write lock.
inline constexpr int64_t kPurgeBatch = 500;

class Index {
 public:
  static std::expected<std::unique_ptr<Index>, std::string> open(const std::string& path,
                                                                 bool create);
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  // Inserts e's row and its recipients; an error if e.mail_id is there.
  std::expected<void, std::string> insert(const Entry& e);
  std::expected<std::vector<Entry>, std::string> list(const Filter& f);
  std::expected<std::optional<Entry>, std::string> get(std::string_view mail_id);
  std::expected<bool, std::string> mark_released(std::string_view mail_id, std::string_view by,
                                                 const std::vector<std::string>& to, int64_t when);
  // The removed row's path; nullopt if there was no such row.
  std::expected<std::optional<std::string>, std::string> remove(std::string_view mail_id);
  // Deletes up to kPurgeBatch rows with time < older_than; their paths.
  std::expected<std::vector<std::string>, std::string> remove_older(int64_t older_than);
  std::expected<std::vector<Stat>, std::string> stats(int64_t since);

 private:
  class Statement;
  Index(sqlite3* db, std::string path);
  Statement prepare(const char* sql);
  std::string error(std::string_view what) const;
  std::expected<void, std::string> exec(const char* sql);
  std::expected<void, std::string> migrate();
  std::expected<void, std::string> load_addresses(Entry& e);

  sqlite3* db_;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;  // keyed by the constant SQL text
};

}  // namespace filterd::quarantine
