// store.h — the quarantine: messages filterd blocked (amavis's D_DISCARD:
// "not delivered, but not lost"), each kept as a file and indexed in SQLite
// so that an admin can list, show, release, delete, purge and count them.
//
// Layout under the root (ROOT):
//   ROOT/index.sqlite            the index (WAL mode: also -wal and -shm)
//   ROOT/YYYY/MM/DD/HH/<mail_id>[.gz]   one message per file, UTC arrival hour
// Hour directories bound the size of every directory, so lookups and
// purges stay fast with millions of entries.
//
// A file holds amavis's quarantine format: prepended fields
//   Return-Path: <sender>
//   X-Envelope-From: <sender>
//   X-Envelope-To: <r1>,
//    <r2>                       (one recipient per line, folded)
//   X-Quarantine-ID: <mail_id>
//   X-Filterd-Verdict: CATEGORY (reason)
// then the original message bytes, unchanged. The fields end in CRLF when
// the message's first line does, else in LF, so the file reads as one
// message. Values are made one line of valid UTF-8 and bounded
// (kMaxFieldValue), so nothing from the mail can add a field or hide the
// end of the prepended block; read_message() strips exactly these lines.
//
// Durability (DESIGN.md, "the one rule"): put() returns only after the file
// is on disk (temp file in the same directory, fsync, rename, fsync of the
// directory and of every directory it created) and the index row is
// committed (synchronous=FULL). The file comes first: a crash between the
// two leaves a file without a row, which is harmless and which purge()
// removes once it is older than kOrphanGrace. Rows are deleted before their
// files, so a row never points at a file that is gone, unless the file was
// damaged or removed from outside; read_message() then fails with a clear
// error and list() still works.
//
// Thread safety: a Store may be shared by any number of threads; it holds
// one SQLite connection behind a mutex, and writes files outside it. Any
// number of Stores (threads, filterd, filterctl processes) may use the
// same root at once: SQLite serializes writers (busy_timeout
// kBusyTimeoutMs), and put(), remove() and purge() keep index and files
// consistent against each other.
//
// Security: the quarantine holds malware and private mail. Directories are
// created 0750 and files 0640. mail_id is checked ([A-Za-z0-9_-]{12}) before
// it names a file, paths read from the index are checked against the
// layout before they are opened, and gzip input is inflated to a bound.
// Every SQL value is bound, never spliced into SQL text.
//
// Errors are values: "quarantine: WHAT PATH: strerror" or
// "quarantine index ROOT/index.sqlite: sqlite message".
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace filterd::quarantine {

// Longest value in a prepended field, bytes (after one-line cleaning);
// longer ones end in "...". Keeps every field line within RFC 5322's 998.
inline constexpr size_t kMaxFieldValue = 900;
// SQLite waits this long for another connection's write lock before an
// operation fails with "database is locked".
inline constexpr int kBusyTimeoutMs = 10'000;
// purge() removes a file without an index row only when its mtime is older
// than this: a put() in flight writes its file before its row.
inline constexpr int64_t kOrphanGrace = 3600;

struct Entry {             // one index row
  std::string mail_id;     // filterd's id, [A-Za-z0-9_-]{12}, unique key
  std::string secret_id;   // random, required for non-admin release (amavis)
  int64_t time = 0;        // arrival, unix seconds
  std::string category;    // "INFECTED", "BANNED", "SPAM", "UNCHECKED", "BAD-HEADER", ...
  std::string minor;       // "ENCRYPTED", ... or ""
  std::string reason;      // "Eicar-Test-Signature in p002 eicar.com", banned parts, ...
  double spam_score = 0;   // 0 when no spam check
  std::string spam_tests;  // "RULE=1.5, RULE2=3"
  std::string sender;      // envelope sender, "" = null sender
  std::vector<std::string> recipients;    // envelope recipients
  std::string from, subject, message_id;  // header values (already decoded to UTF-8 one-liners)
  uint64_t size = 0;                      // bytes of the original message
  std::string client_addr;                // "192.0.2.1" or ""
  std::string policy_bank;                // "base", "ORIGINATING", ...
  std::string path;                       // file, relative to the store root (set by put())
  int64_t released_at = 0;                // 0 = never
  std::string released_by;                // who asked, as given
  std::vector<std::string> released_to;
};

struct Filter {
  std::string category;            // exact, "" = any
  int64_t since = 0, until = 0;    // unix seconds, since <= time < until, 0 = open
  std::string sender, recipient;   // substring, case-insensitive (ASCII letters)
  std::string subject;             // substring, case-insensitive (ASCII letters)
  size_t limit = 100, offset = 0;  // paging, newest first (time, then mail_id, descending);
                                   // limit 0 = no limit
};

struct StoreOptions {
  bool gzip = false;   // compress message files (zlib, .gz suffix)
  bool create = true;  // create the directory and database if missing
};

struct Stat {  // day "2026-11-28" UTC
  std::string day;
  std::string category;
  uint64_t count;
};

class Store {
 public:
  // Opens (and with o.create, makes) ROOT and ROOT/index.sqlite; upgrades
  // an older index schema, refuses a newer one.
  static std::expected<Store, std::string> open(const std::string& root,
                                                const StoreOptions& o = {});

  // Writes `message` durably (see above), then inserts the row. Sets
  // e.path and e.size (= message.size()); fills e.secret_id if empty and
  // e.time (now) if 0. Any failure (disk full, permissions, a duplicate
  // mail_id) is an error and leaves no row and, where it can, no file.
  // REQUIRES: e.mail_id is [A-Za-z0-9_-]{12}; e.category is not empty.
  std::expected<void, std::string> put(Entry& e, std::string_view message);

  std::expected<std::vector<Entry>, std::string> list(const Filter& f) const;
  std::expected<std::optional<Entry>, std::string> get(std::string_view mail_id) const;

  // The original message bytes (prepended fields stripped exactly), for
  // show --raw and release. A missing, truncated or corrupt file (or one
  // whose length disagrees with e.size) is an error naming the file.
  std::expected<std::string, std::string> read_message(const Entry& e) const;

  // Marks released; returns false (and changes nothing) if it already was.
  // An unknown mail_id, or when <= 0, is an error.
  std::expected<bool, std::string> mark_released(std::string_view mail_id, std::string_view by,
                                                 const std::vector<std::string>& to, int64_t when);

  // Deletes the row, then the file. false: no such id.
  std::expected<bool, std::string> remove(std::string_view mail_id);

  // Deletes every entry with time < older_than (rows, then their files),
  // then files without rows older than kOrphanGrace in hour directories
  // wholly before older_than, and directories left empty. Returns the
  // number of entries (rows) removed.
  std::expected<uint64_t, std::string> purge(int64_t older_than);

  // Entries per UTC day and category with time >= since, by day then
  // category.
  std::expected<std::vector<Stat>, std::string> stats(int64_t since = 0) const;

  const std::string& root() const;

  // Move-only; a moved-from Store may only be assigned to or destroyed.
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

 private:
  struct State;
  explicit Store(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

// 12 chars [A-Za-z0-9_-] from a CSPRNG (getrandom).
std::string new_secret_id();

}  // namespace filterd::quarantine
