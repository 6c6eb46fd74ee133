// release.h — sends a quarantined message on: to its original recipients
// or the ones asked for, through the next hop, with the original envelope
// sender and the original bytes under two added fields (X-Quarantine-ID,
// X-Filterd-Released). Used by `filterctl quarantine release` and by the
// daemon's AM.PDP listener (amavisd-release).
//
// A message is released once: a second request sends nothing and says so.
// It counts as released when the next hop accepted it for at least one
// recipient; the replies say which.
#pragma once

#include <string>
#include <vector>

#include "filterd/config.h"
#include "quarantine/store.h"
#include "smtp/asio.h"
#include "smtp/reply.h"

namespace filterd {

struct ReleaseOutcome {
  bool found = false;    // the id is in the quarantine
  bool already = false;  // released before: nothing was sent
  std::vector<std::string> recipients;
  std::vector<smtp::Reply> replies;  // the next hop's, one per recipient
  std::string error;                 // the store or the message file failed
  bool any_accepted() const;
};

boost::asio::awaitable<ReleaseOutcome> release_message(const Config& config,
                                                       quarantine::Store& store,
                                                       std::string mail_id,
                                                       std::vector<std::string> to,
                                                       std::string requested_by);

}  // namespace filterd
