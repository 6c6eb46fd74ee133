// local_directory.h — the local tables frontd consults at RCPT time and at
// delivery: virtual_mailbox_domains and virtual_mailbox_maps, reloaded
// when their files change (refresh()) or on SIGHUP (refresh(true)). A
// broken new file is logged and the old table kept: a typo in a map never
// turns into bounces.
//
// Thread safety: refresh() and snapshot() from one thread (the I/O
// thread); snapshots are immutable and may travel to other threads.
#pragma once

#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontd/maps.h"
#include "frontd/recipient_policy.h"

namespace filterd::frontd {

struct DirectorySnapshot {
  std::shared_ptr<const DomainList> domains;
  std::shared_ptr<const TextMap> mailboxes;  // null when no map is configured

  LocalTables tables() const { return LocalTables{domains.get(), mailboxes.get()}; }
};

class LocalDirectory {
 public:
  // Errors name the setting: start-up errors.
  static std::expected<LocalDirectory, std::string> open(const std::string& domains_spec,
                                                         const std::string& maps_spec);

  DirectorySnapshot snapshot() const {
    return DirectorySnapshot{domains_, map_ ? map_->current() : nullptr};
  }

  // Re-reads changed files (all when forced); returns what happened, one
  // line per change or problem, for the log.
  std::vector<std::string> refresh(bool force);

 private:
  std::string domains_spec_;
  std::shared_ptr<const DomainList> domains_;
  std::optional<MapFile> map_;
};

}  // namespace filterd::frontd
