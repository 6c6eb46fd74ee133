// qmgr.h — frontd's queue manager: schedules every queued message,
// attempts delivery (content_filter for stage "filter", then Maildir or
// relayhost — or, without one, the domain's MX hosts on port 25 — for
// stage "deliver"), records per-recipient results in the
// status file, retries with exponential backoff, and returns mail to its
// sender (bounce.h) on a 5xx or after maximal_queue_lifetime.
//
// Log lines (Postfix's form; every one starts with the queue id):
//   QID: to=<rcpt>, relay=R, delay=S, dsn=X.Y.Z, status=sent|deferred|bounced|expired (text)
//   QID: sender non-delivery notification: DSNQID
//   QID: removed
//   QID: corrupt queue file moved to corrupt/ (reason)
//
// Delivery guarantee: a recipient is marked done only after the next hop
// said 2xx/5xx or the Maildir file was fsynced; its status is saved before
// the next attempt. Crash between a delivery and saving its status repeats
// that delivery (documented in queue_store.h); nothing is dropped.
//
// Thread safety: all members on the io_context's thread; disk work goes to
// the one-thread `disk` pool, which also owns the QueueStore.
#pragma once

#include <map>
#include <string>

#include "frontd/config.h"
#include "frontd/local_directory.h"
#include "frontd/queue_store.h"
#include "frontd/transport.h"
#include "smtp/asio.h"

namespace boost::asio {
class thread_pool;
}

namespace filterd::frontd {

class Qmgr {
 public:
  // REQUIRES: all arguments outlive the Qmgr. `dns` runs MX lookups.
  Qmgr(boost::asio::io_context& io, boost::asio::thread_pool& disk, boost::asio::thread_pool& dns,
       QueueStore& store, const Config& config, LocalDirectory& directory);

  // Reads the queue from disk (corrupt files are moved aside and logged)
  // and starts scheduling.
  void start();
  // Stops starting new attempts; attempts in flight finish.
  void stop();

  // Writes `m` durably (stage, envelope and data set; id chosen by the
  // store, or m.id if set) and schedules it at once. Returns the queue id,
  // or the reason it could not be written (the caller answers 4xx).
  boost::asio::awaitable<std::expected<std::string, std::string>> enqueue(QueuedMessage m);

  // A fresh queue id for a message about to be enqueue()d (thread-safe).
  std::string new_id() { return store_.new_id(); }

  // Makes every deferred message due now (postqueue -f).
  void flush();

  size_t queued() const { return entries_.size(); }
  size_t in_flight() const { return busy_; }

 private:
  struct Entry {
    QueuedMessage header;  // data empty
    QueueStatus status;
    bool busy = false;
  };

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> attempt(std::string id);
  boost::asio::awaitable<std::vector<Outcome>> deliver(const QueuedMessage& m,
                                                       std::vector<size_t> pending);
  // Recipients of one non-local domain, without relayhost: its MX hosts.
  boost::asio::awaitable<std::vector<Outcome>> deliver_mx(const QueuedMessage& m,
                                                          std::string domain,
                                                          std::vector<size_t> indexes);
  // Records outcomes, bounces, reschedules or removes. Returns when done.
  boost::asio::awaitable<void> settle(std::string id, QueuedMessage m,
                                      std::vector<Outcome> outcomes);
  void wake();
  std::chrono::seconds backoff(unsigned attempts) const;

  boost::asio::io_context& io_;
  boost::asio::thread_pool& disk_;
  boost::asio::thread_pool& dns_;
  QueueStore& store_;
  const Config& config_;
  LocalDirectory& directory_;
  std::map<std::string, Entry> entries_;
  boost::asio::steady_timer timer_;
  size_t busy_ = 0;
  bool stopping_ = false;
  bool started_ = false;
};

// Milliseconds since the epoch (the queue's clock).
long long now_ms();

}  // namespace filterd::frontd
