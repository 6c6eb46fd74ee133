// queue_store.h — frontd's durable mail queue on disk.
//
// Layout under queue_directory:
//     queue/QUEUEID      the message file (queue_file.h), never changed
//     status/QUEUEID     its delivery status, replaced atomically per attempt
//     corrupt/QUEUEID    files that could not be parsed, moved aside
// Temp files are "NAME.tmp.PID.N" next to their final name; start-up
// removes leftovers (they never got a name, so nobody was told 250).
//
// The one rule: enqueue() returns success only when the message file and
// its directory entry are fsynced; only then may a client get 250.
// Deliveries are recorded by save_status() after the fact, so a crash
// between a delivery and its record repeats that delivery (a duplicate,
// never a loss). A missing or unreadable status file means "nothing
// delivered yet" (duplicates again, never loss).
//
// Queue ids: 12 upper-case hex digits (microseconds, seconds, a counter),
// unique per queue: the name is taken with link(), never overwritten.
//
// Thread safety: new_id() is thread-safe; everything else is used from one
// thread at a time (frontd's disk thread).
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "frontd/queue_file.h"
#include "frontd/safe_io.h"

namespace filterd::frontd {

struct QueueEntry {
  QueuedMessage header;  // data empty
  QueueStatus status;
};

class QueueStore {
 public:
  // Creates the directories if missing. REQUIRES: io outlives the store.
  static std::expected<QueueStore, std::string> open(const std::string& dir, SafeIo& io);

  // Writes `m` durably under m.id (from new_id()), or, when m.id is empty,
  // under a fresh id stored in m.id. A taken id is IoError{EEXIST}.
  std::expected<void, IoError> enqueue(QueuedMessage& m);

  // A fresh queue id. Thread-safe.
  std::string new_id();

  // Every queued message (headers and status). Files that cannot be parsed
  // are moved to corrupt/ and named in `problems` ("ID: reason"); stale
  // temp files are removed.
  std::vector<QueueEntry> scan(std::vector<std::string>& problems);
  // The same, read-only (for `frontd queue list`): nothing is moved or
  // removed; corrupt files are only named in `problems`.
  std::vector<QueueEntry> list(std::vector<std::string>& problems);

  // The whole message. An unparsable file is an error (the caller moves it
  // aside with move_aside()).
  std::expected<QueuedMessage, std::string> load(const std::string& id);

  std::expected<void, IoError> save_status(const std::string& id, const QueueStatus& s);
  // Removes the message file, then its status (a crash in between leaves a
  // status without a message, swept by scan()).
  std::expected<void, IoError> remove(const std::string& id);
  std::expected<void, IoError> move_aside(const std::string& id);

  const std::string& dir() const { return dir_; }
  std::string message_path(const std::string& id) const { return dir_ + "/queue/" + id; }
  std::string status_path(const std::string& id) const { return dir_ + "/status/" + id; }

 private:
  QueueStore(std::string dir, SafeIo& io) : dir_(std::move(dir)), io_(&io) {}
  std::vector<QueueEntry> read_all(std::vector<std::string>& problems, bool repair);

  std::string dir_;
  SafeIo* io_;
};

// True for a syntactically valid queue id (what new_id() makes).
bool valid_queue_id(std::string_view id);

}  // namespace filterd::frontd
