// index.cc — see index.h.
#include "quarantine/index.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <limits>
#include <utility>

namespace filterd::quarantine {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS entries (
  mail_id TEXT NOT NULL UNIQUE,
  secret_id TEXT NOT NULL,
  time INTEGER NOT NULL,
  category TEXT NOT NULL,
  minor TEXT NOT NULL,
  reason TEXT NOT NULL,
  spam_score REAL NOT NULL,
  spam_tests TEXT NOT NULL,
  sender TEXT NOT NULL,
  header_from TEXT NOT NULL,
  subject TEXT NOT NULL,
  message_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  client_addr TEXT NOT NULL,
  policy_bank TEXT NOT NULL,
  path TEXT NOT NULL,
  released_at INTEGER NOT NULL DEFAULT 0,
  released_by TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS entries_time ON entries(time, mail_id);
CREATE INDEX IF NOT EXISTS entries_category ON entries(category, time);
CREATE INDEX IF NOT EXISTS entries_sender ON entries(sender);
CREATE TABLE IF NOT EXISTS recipients (
  mail_id TEXT NOT NULL REFERENCES entries(mail_id) ON DELETE CASCADE,
  pos INTEGER NOT NULL,
  address TEXT NOT NULL,
  PRIMARY KEY (mail_id, pos)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS recipients_address ON recipients(address);
CREATE TABLE IF NOT EXISTS released_to (
  mail_id TEXT NOT NULL REFERENCES entries(mail_id) ON DELETE CASCADE,
  pos INTEGER NOT NULL,
  address TEXT NOT NULL,
  PRIMARY KEY (mail_id, pos)) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";
static_assert(kSchemaVersion == 1, "kSchema sets user_version");

// Entry's columns, in read_entry()'s order.
#define FILTERD_ENTRY_COLUMNS                                                             \
  "mail_id, secret_id, time, category, minor, reason, spam_score, spam_tests, sender, "   \
  "header_from, subject, message_id, size, client_addr, policy_bank, path, released_at, " \
  "released_by"

constexpr const char* kInsert = "INSERT INTO entries (" FILTERD_ENTRY_COLUMNS
                                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                "?13, ?14, ?15, ?16, ?17, ?18)";
constexpr const char* kInsertRecipient =
    "INSERT INTO recipients (mail_id, pos, address) VALUES (?1, ?2, ?3)";
constexpr const char* kInsertReleasedTo =
    "INSERT INTO released_to (mail_id, pos, address) VALUES (?1, ?2, ?3)";
constexpr const char* kSelectOne =
    "SELECT " FILTERD_ENTRY_COLUMNS " FROM entries WHERE mail_id = ?1";
constexpr const char* kSelectRecipients =
    "SELECT address FROM recipients WHERE mail_id = ?1 ORDER BY pos";
constexpr const char* kSelectReleasedTo =
    "SELECT address FROM released_to WHERE mail_id = ?1 ORDER BY pos";
// Absent filters are bound as '' (always true) and the time bounds as open
// ends, so one constant statement serves every filter.
constexpr const char* kSelectList =
    "SELECT " FILTERD_ENTRY_COLUMNS
    " FROM entries e WHERE (?1 = '' OR e.category = ?1) AND e.time >= ?2 AND e.time < ?3"
    " AND (?4 = '' OR instr(lower(e.sender), lower(?4)) > 0)"
    " AND (?5 = '' OR instr(lower(e.subject), lower(?5)) > 0)"
    " AND (?6 = '' OR EXISTS (SELECT 1 FROM recipients r WHERE r.mail_id = e.mail_id"
    " AND instr(lower(r.address), lower(?6)) > 0))"
    " ORDER BY e.time DESC, e.mail_id DESC LIMIT ?7 OFFSET ?8";
constexpr const char* kRelease =
    "UPDATE entries SET released_at = ?2, released_by = ?3 WHERE mail_id = ?1 AND released_at = 0";
constexpr const char* kExists = "SELECT 1 FROM entries WHERE mail_id = ?1";
constexpr const char* kRemove = "DELETE FROM entries WHERE mail_id = ?1 RETURNING path";
constexpr const char* kRemoveOlder =
    "DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries WHERE time < ?1 LIMIT ?2)"
    " RETURNING path";
constexpr const char* kStats =
    "SELECT strftime('%Y-%m-%d', time, 'unixepoch') AS day, category, count(*) FROM entries"
    " WHERE time >= ?1 GROUP BY day, category ORDER BY day, category";
constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kRollback = "ROLLBACK";

int64_t clamp64(uint64_t v) {
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  return static_cast<int64_t>(v > kMax ? kMax : v);
}

}  // namespace

// One use of a cached statement: bind, step, read columns; reset on scope
// exit. A bind or prepare error is kept and returned by step().
class Index::Statement {
 public:
  Statement(sqlite3_stmt* s, int rc) : s_(s), rc_(rc) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Statement& bind(int i, std::string_view v) {
    if (rc_ == SQLITE_OK)
      rc_ = sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
  }
  Statement& bind(int i, int64_t v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Statement& bind(int i, double v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_double(s_, i, v);
    return *this;
  }
  int step() { return rc_ != SQLITE_OK ? rc_ : sqlite3_step(s_); }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p == nullptr ? std::string() : std::string(p, sqlite3_column_bytes(s_, col));
  }
  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  double real(int col) const { return sqlite3_column_double(s_, col); }

  Entry entry() const {
    Entry e;
    e.mail_id = text(0);
    e.secret_id = text(1);
    e.time = int64(2);
    e.category = text(3);
    e.minor = text(4);
    e.reason = text(5);
    e.spam_score = real(6);
    e.spam_tests = text(7);
    e.sender = text(8);
    e.from = text(9);
    e.subject = text(10);
    e.message_id = text(11);
    e.size = static_cast<uint64_t>(int64(12));
    e.client_addr = text(13);
    e.policy_bank = text(14);
    e.path = text(15);
    e.released_at = int64(16);
    e.released_by = text(17);
    return e;
  }

 private:
  sqlite3_stmt* s_;
  int rc_;
};

Index::Index(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Index::~Index() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

std::string Index::error(std::string_view what) const {
  return fmt::format("quarantine index {}: {}: {}", path_, what, sqlite3_errmsg(db_));
}

Index::Statement Index::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Statement(it->second, SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return Statement(nullptr, rc);
  cache_.emplace(sql, s);
  return Statement(s, SQLITE_OK);
}

std::expected<void, std::string> Index::exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return std::unexpected(error(sql));
  return {};
}

std::expected<std::unique_ptr<Index>, std::string> Index::open(const std::string& path,
                                                               bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<Index> index(new Index(db, path));  // closes db on every path
  if (rc != SQLITE_OK) return std::unexpected(index->error("open"));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  for (const char* pragma :
       {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON"}) {
    if (auto r = index->exec(pragma); !r) return std::unexpected(r.error());
  }
  if (auto r = index->migrate(); !r) return std::unexpected(r.error());
  return index;
}

std::expected<void, std::string> Index::migrate() {
  auto version = [&]() -> std::expected<int64_t, std::string> {
    Statement s = prepare("PRAGMA user_version");
    if (s.step() != SQLITE_ROW) return std::unexpected(error("read user_version"));
    return s.int64(0);
  };
  auto v = version();
  if (!v) return std::unexpected(v.error());
  if (*v == kSchemaVersion) return {};
  if (*v > kSchemaVersion)
    return std::unexpected(fmt::format("quarantine index {}: schema version {} is newer than {}",
                                       path_, *v, kSchemaVersion));
  if (auto r = exec(kBegin); !r) return r;
  // Another process may have created the schema since we looked.
  v = version();
  if (!v) {
    exec(kRollback);
    return std::unexpected(v.error());
  }
  if (*v < kSchemaVersion) {
    if (auto r = exec(kSchema); !r) {
      exec(kRollback);
      return r;
    }
  }
  return exec(kCommit);
}

std::expected<void, std::string> Index::insert(const Entry& e) {
  if (auto r = exec(kBegin); !r) return r;
  auto fail = [&](std::string_view what) {
    std::string err = error(what);
    exec(kRollback);
    return std::unexpected(err);
  };
  {
    Statement s = prepare(kInsert);
    s.bind(1, e.mail_id).bind(2, e.secret_id).bind(3, e.time).bind(4, e.category);
    s.bind(5, e.minor).bind(6, e.reason).bind(7, e.spam_score).bind(8, e.spam_tests);
    s.bind(9, e.sender).bind(10, e.from).bind(11, e.subject).bind(12, e.message_id);
    s.bind(13, clamp64(e.size)).bind(14, e.client_addr).bind(15, e.policy_bank);
    s.bind(16, e.path).bind(17, e.released_at).bind(18, e.released_by);
    int rc = s.step();
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
      exec(kRollback);
      return std::unexpected(
          fmt::format("quarantine index {}: {} is already quarantined", path_, e.mail_id));
    }
    if (rc != SQLITE_DONE) return fail("insert");
  }
  for (size_t i = 0; i < e.recipients.size(); ++i) {
    Statement s = prepare(kInsertRecipient);
    s.bind(1, e.mail_id).bind(2, static_cast<int64_t>(i)).bind(3, e.recipients[i]);
    if (s.step() != SQLITE_DONE) return fail("insert recipient");
  }
  for (size_t i = 0; i < e.released_to.size(); ++i) {
    Statement s = prepare(kInsertReleasedTo);
    s.bind(1, e.mail_id).bind(2, static_cast<int64_t>(i)).bind(3, e.released_to[i]);
    if (s.step() != SQLITE_DONE) return fail("insert released_to");
  }
  if (auto r = exec(kCommit); !r) {
    exec(kRollback);
    return r;
  }
  return {};
}

std::expected<void, std::string> Index::load_addresses(Entry& e) {
  for (auto [sql, out] : {std::pair{kSelectRecipients, &e.recipients},
                          std::pair{kSelectReleasedTo, &e.released_to}}) {
    Statement s = prepare(sql);
    s.bind(1, e.mail_id);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out->push_back(s.text(0));
    if (rc != SQLITE_DONE) return std::unexpected(error("read addresses"));
  }
  return {};
}

std::expected<std::vector<Entry>, std::string> Index::list(const Filter& f) {
  std::vector<Entry> out;
  {
    Statement s = prepare(kSelectList);
    s.bind(1, f.category).bind(2, f.since);
    s.bind(3, f.until == 0 ? std::numeric_limits<int64_t>::max() : f.until);
    s.bind(4, f.sender).bind(5, f.subject).bind(6, f.recipient);
    s.bind(7, f.limit == 0 ? int64_t{-1} : clamp64(f.limit)).bind(8, clamp64(f.offset));
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(s.entry());
    if (rc != SQLITE_DONE) return std::unexpected(error("list"));
  }
  for (Entry& e : out)
    if (auto r = load_addresses(e); !r) return std::unexpected(r.error());
  return out;
}

std::expected<std::optional<Entry>, std::string> Index::get(std::string_view mail_id) {
  Entry e;
  {
    Statement s = prepare(kSelectOne);
    s.bind(1, mail_id);
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return std::unexpected(error("get"));
    e = s.entry();
  }
  if (auto r = load_addresses(e); !r) return std::unexpected(r.error());
  return e;
}

std::expected<bool, std::string> Index::mark_released(std::string_view mail_id, std::string_view by,
                                                      const std::vector<std::string>& to,
                                                      int64_t when) {
  if (auto r = exec(kBegin); !r) return std::unexpected(r.error());
  auto fail = [&](std::string e) {
    exec(kRollback);
    return std::unexpected(std::move(e));
  };
  {
    Statement s = prepare(kRelease);
    s.bind(1, mail_id).bind(2, when).bind(3, by);
    if (s.step() != SQLITE_DONE) return fail(error("release"));
  }
  if (sqlite3_changes(db_) == 0) {
    Statement s = prepare(kExists);
    s.bind(1, mail_id);
    int rc = s.step();
    if (rc == SQLITE_DONE)
      return fail(fmt::format("quarantine index {}: no entry {}", path_, mail_id));
    if (rc != SQLITE_ROW) return fail(error("release"));
    exec(kRollback);
    return false;
  }
  for (size_t i = 0; i < to.size(); ++i) {
    Statement s = prepare(kInsertReleasedTo);
    s.bind(1, mail_id).bind(2, static_cast<int64_t>(i)).bind(3, to[i]);
    if (s.step() != SQLITE_DONE) return fail(error("insert released_to"));
  }
  if (auto r = exec(kCommit); !r) return fail(r.error());
  return true;
}

std::expected<std::optional<std::string>, std::string> Index::remove(std::string_view mail_id) {
  Statement s = prepare(kRemove);
  s.bind(1, mail_id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return std::unexpected(error("remove"));
  std::string path = s.text(0);
  if (s.step() != SQLITE_DONE) return std::unexpected(error("remove"));
  return path;
}

std::expected<std::vector<std::string>, std::string> Index::remove_older(int64_t older_than) {
  std::vector<std::string> paths;
  Statement s = prepare(kRemoveOlder);
  s.bind(1, older_than).bind(2, kPurgeBatch);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) paths.push_back(s.text(0));
  if (rc != SQLITE_DONE) return std::unexpected(error("purge"));
  return paths;
}

std::expected<std::vector<Stat>, std::string> Index::stats(int64_t since) {
  std::vector<Stat> out;
  Statement s = prepare(kStats);
  s.bind(1, since);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW)
    out.push_back(Stat{s.text(0), s.text(1), static_cast<uint64_t>(s.int64(2))});
  if (rc != SQLITE_DONE) return std::unexpected(error("stats"));
  return out;
}

}  // namespace filterd::quarantine
