// bounce.h — the DSN (RFC 3464) frontd sends to the envelope sender for
// recipients that failed permanently or whose mail expired in the queue
// (maximal_queue_lifetime). It returns the original header section only,
// never the body (policy/dsn.h). Pure.
//
// No DSN is made for the null sender (a bounce of a bounce would loop;
// Postfix sends those to the postmaster, frontd only logs them) nor for
// recipients whose NOTIFY excludes FAILURE (RFC 3461 §4.1).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "frontd/queue_file.h"
#include "smtp/reply.h"

namespace filterd::frontd {

struct FailedRecipient {
  size_t index;  // into the message's recipients
  smtp::Reply reply;
};

// The DSN as a queued message (stage deliver, null sender, to the original
// sender), or nullopt when none is due. `now` in seconds.
std::optional<QueuedMessage> make_bounce(const QueuedMessage& original,
                                         const std::vector<FailedRecipient>& failed,
                                         const std::string& myhostname, long long now);

}  // namespace filterd::frontd
