// transport.h — the delivery agents the queue manager uses for one attempt
// of one message: SMTP/LMTP to a next hop (content_filter, relayhost) and
// local delivery to Maildir. Each returns one Outcome per requested
// recipient, in order; none throws or loses a recipient (a failure the
// agent cannot classify is a 4xx: the queue retries).
#pragma once

#include <string>
#include <vector>

#include "frontd/config.h"
#include "frontd/local_directory.h"
#include "frontd/queue_file.h"
#include "smtp/asio.h"
#include "smtp/reply.h"

namespace filterd::frontd {

struct Outcome {
  size_t index;       // into the message's recipients
  std::string relay;  // for the log: "127.0.0.1[127.0.0.1]:10024", "virtual", "none"
  smtp::Reply reply;  // 2xx delivered, 4xx retry, 5xx bounce
  std::string text;   // the log's status text; empty: reply.one_line()
};

// "host[addr]:port" as Postfix logs a relay.
std::string relay_name(const smtp::Endpoint& hop);

// Hands recipients `indexes` of `m` to `hop` (by value: GCC 12 coroutines).
boost::asio::awaitable<std::vector<Outcome>> deliver_smtp(smtp::Endpoint hop,
                                                          const QueuedMessage& m,
                                                          std::vector<size_t> indexes,
                                                          const smtp::ClientOptions& options);

// Delivers recipient `index` to its Maildir. Blocking (fsync): call it on
// the disk thread.
Outcome deliver_local(const QueuedMessage& m, size_t index, const DirectorySnapshot& dir,
                      const Config& config);

}  // namespace filterd::frontd
