// qmgr.cc — see qmgr.h.
#include "frontd/qmgr.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <map>

#include "frontd/address.h"
#include "frontd/bounce.h"
#include "frontd/mx.h"

namespace filterd::frontd {
namespace asio = boost::asio;
namespace {

// Runs f() on a worker pool (the disk thread, the DNS thread) and resumes on
// the caller's executor. `f`
// is captured by reference (it lives in this frame): GCC 12 double-destroys
// non-trivial captures moved into a coroutine lambda.
template <typename F>
asio::awaitable<std::invoke_result_t<F>> on_disk(asio::thread_pool& disk, F f) {
  co_return co_await asio::co_spawn(
      disk, [&f]() -> asio::awaitable<std::invoke_result_t<F>> { co_return f(); },
      asio::use_awaitable);
}

std::string delay_text(long long arrival_ms) {
  return fmt::format("{:.2f}", static_cast<double>(now_ms() - arrival_ms) / 1000.0);
}

// MX hosts tried per attempt (Postfix smtp_mx_address_limit is 5).
constexpr size_t kMaxMxHosts = 5;

std::string dsn_of(const smtp::Reply& r) {
  return r.status.empty() ? std::to_string(r.code / 100) + ".0.0" : r.status;
}

}  // namespace

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Qmgr::Qmgr(asio::io_context& io, asio::thread_pool& disk, asio::thread_pool& dns, QueueStore& store,
           const Config& config, LocalDirectory& directory)
    : io_(io),
      disk_(disk),
      dns_(dns),
      store_(store),
      config_(config),
      directory_(directory),
      timer_(io) {}

void Qmgr::start() {
  asio::co_spawn(io_, run(), asio::detached);
}

void Qmgr::stop() {
  stopping_ = true;
  wake();
}

void Qmgr::wake() {
  timer_.cancel();
}

void Qmgr::flush() {
  for (auto& [id, e] : entries_) e.status.next_attempt = 0;
  spdlog::info("queue flush: {} messages due now", entries_.size());
  wake();
}

std::chrono::seconds Qmgr::backoff(unsigned attempts) const {
  auto d = config_.minimal_backoff_time;
  for (unsigned i = 1; i < attempts && d < config_.maximal_backoff_time; ++i) d *= 2;
  return std::min(d, config_.maximal_backoff_time);
}

asio::awaitable<std::expected<std::string, std::string>> Qmgr::enqueue(QueuedMessage m) {
  auto r = co_await on_disk(disk_, [&]() { return store_.enqueue(m); });
  if (!r) co_return std::unexpected(r.error().what);
  Entry e;
  e.header = std::move(m);
  const std::string id = e.header.id;
  e.header.data.clear();
  e.header.data.shrink_to_fit();
  entries_.emplace(id, std::move(e));
  wake();
  co_return id;
}

asio::awaitable<void> Qmgr::run() {
  std::vector<std::string> problems;
  auto found = co_await on_disk(disk_, [&]() { return store_.scan(problems); });
  for (const auto& p : problems) spdlog::warn("{}", p);
  for (auto& q : found) {
    const std::string id = q.header.id;
    entries_.emplace(id, Entry{std::move(q.header), std::move(q.status), false});
  }
  spdlog::info("queue {}: {} messages", store_.dir(), entries_.size());
  started_ = true;
  while (!stopping_) {
    const long long now = now_ms() / 1000;
    long long next_due = now + config_.queue_run_delay.count();
    for (auto& [id, e] : entries_) {
      if (e.busy) continue;
      if (e.status.next_attempt <= now) {
        if (busy_ >= config_.delivery_concurrency) {
          next_due = now + 1;
          continue;
        }
        e.busy = true;
        ++busy_;
        asio::co_spawn(io_, attempt(id), asio::detached);
      } else {
        next_due = std::min(next_due, e.status.next_attempt);
      }
    }
    timer_.expires_after(std::chrono::seconds(std::max<long long>(next_due - now, 1)));
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Qmgr::attempt(std::string id) {
  auto loaded = co_await on_disk(disk_, [&]() { return store_.load(id); });
  if (!loaded) {
    auto moved = co_await on_disk(disk_, [&]() { return store_.move_aside(id); });
    spdlog::error("{}: corrupt queue file {} ({})", id,
                  moved ? "moved to corrupt/" : "could not be moved: " + moved.error().what,
                  loaded.error());
    entries_.erase(id);
    --busy_;
    wake();
    co_return;
  }
  QueuedMessage m = std::move(*loaded);
  std::vector<size_t> pending;
  {
    const Entry& e = entries_.at(id);
    for (size_t i = 0; i < m.envelope.recipients.size(); ++i) {
      if (!e.status.done.contains(i)) pending.push_back(i);
    }
  }
  std::vector<Outcome> outcomes = co_await deliver(m, pending);
  co_await settle(id, std::move(m), std::move(outcomes));
  --busy_;
  wake();
}

asio::awaitable<std::vector<Outcome>> Qmgr::deliver(const QueuedMessage& m,
                                                    std::vector<size_t> pending) {
  if (pending.empty()) co_return std::vector<Outcome>{};
  if (m.stage == Stage::kFilter && config_.content_filter) {
    co_return co_await deliver_smtp(*config_.content_filter, m, pending, config_.client_options);
  }
  // Stage deliver (or a filter message queued before content_filter was
  // turned off): local recipients to Maildir, the rest to relayhost.
  const DirectorySnapshot dir = directory_.snapshot();
  std::vector<Outcome> out;
  std::vector<size_t> remote;
  for (size_t i : pending) {
    const Address a = split_address(m.envelope.recipients[i].address);
    if (dir.domains && dir.domains->contains(a.domain)) {
      out.push_back(co_await on_disk(disk_, [&]() { return deliver_local(m, i, dir, config_); }));
    } else {
      remote.push_back(i);
    }
  }
  if (!remote.empty() && config_.relayhost) {
    auto relayed = co_await deliver_smtp(*config_.relayhost, m, remote, config_.relay_options);
    out.insert(out.end(), relayed.begin(), relayed.end());
  } else if (!remote.empty()) {
    std::map<std::string, std::vector<size_t>> by_domain;
    for (size_t i : remote)
      by_domain[split_address(m.envelope.recipients[i].address).domain].push_back(i);
    for (auto& [domain, indexes] : by_domain) {
      auto sent = co_await deliver_mx(m, domain, indexes);
      out.insert(out.end(), sent.begin(), sent.end());
    }
  }
  co_return out;
}

asio::awaitable<std::vector<Outcome>> Qmgr::deliver_mx(const QueuedMessage& m, std::string domain,
                                                       std::vector<size_t> indexes) {
  const MxResult mx = co_await on_disk(dns_, [&]() { return lookup_mx(domain); });
  std::vector<Outcome> out;
  auto all = [&](smtp::Reply r) {
    for (size_t i : indexes) out.push_back(Outcome{i, "none", r, ""});
  };
  switch (mx.kind) {
    case MxResult::Kind::kNoSuchDomain:
      all(smtp::Reply{550, "5.4.4", mx.error});
      co_return out;
    case MxResult::Kind::kNullMx:
      all(smtp::Reply{556, "5.1.10", mx.error});  // RFC 7505 §4.2
      co_return out;
    case MxResult::Kind::kTempFail:
      all(smtp::Reply{451, "4.4.3", mx.error});
      co_return out;
    case MxResult::Kind::kOk:
      break;
  }
  // Try the hosts in preference order while every recipient is deferred
  // (the host is down or busy); the first definite answers stand.
  smtp::ClientOptions options = config_.relay_options;
  options.auth_user.clear();  // credentials are for relayhost only
  options.auth_password.clear();
  const size_t tries = std::min(mx.hosts.size(), kMaxMxHosts);
  for (size_t h = 0; h < tries; ++h) {
    smtp::Endpoint hop;
    hop.host = mx.hosts[h];
    hop.port = 25;
    out = co_await deliver_smtp(hop, m, indexes, options);
    const bool all_deferred =
        std::all_of(out.begin(), out.end(), [](const Outcome& o) { return o.reply.transient(); });
    if (!all_deferred) break;
  }
  co_return out;
}

asio::awaitable<void> Qmgr::settle(std::string id, QueuedMessage m, std::vector<Outcome> outcomes) {
  Entry& e = entries_.at(id);
  const long long now = now_ms() / 1000;
  const bool expired = config_.maximal_queue_lifetime.count() > 0 &&
                       now_ms() - m.arrival_ms >= config_.maximal_queue_lifetime.count() * 1000;
  std::vector<FailedRecipient> failed;
  std::string reason;
  for (Outcome& o : outcomes) {
    const std::string& rcpt = m.envelope.recipients[o.index].address;
    std::string status = o.reply.positive() ? "sent" : o.reply.permanent() ? "bounced" : "deferred";
    if (status == "deferred" && expired) status = "expired, returned to sender";
    const std::string text = o.text.empty() ? o.reply.one_line() : o.text;
    spdlog::info("{}: to=<{}>, relay={}, delay={}, dsn={}, status={} ({})", id, rcpt, o.relay,
                 delay_text(m.arrival_ms), dsn_of(o.reply), status, text);
    if (o.reply.positive()) {
      e.status.done.insert(o.index);
    } else if (o.reply.permanent() || expired) {
      failed.push_back(FailedRecipient{o.index, o.reply});
    } else {
      reason = text;
    }
  }
  if (!failed.empty()) {
    std::optional<QueuedMessage> dsn = make_bounce(m, failed, config_.myhostname, now);
    bool returned = true;
    if (dsn) {
      auto queued = co_await enqueue(std::move(*dsn));
      if (queued) {
        spdlog::info("{}: sender non-delivery notification: {}", id, *queued);
      } else {
        // Keep the recipients: the next attempt fails them again and retries the DSN.
        spdlog::warn("{}: cannot queue the non-delivery notification: {}", id, queued.error());
        returned = false;
        reason = "non-delivery notification not queued: " + queued.error();
      }
    } else if (m.envelope.sender.empty()) {
      spdlog::info("{}: no non-delivery notification for the null sender", id);
    }
    if (returned) {
      for (const FailedRecipient& f : failed) e.status.done.insert(f.index);
    }
  }
  if (e.status.done.size() >= m.envelope.recipients.size()) {
    auto removed = co_await on_disk(disk_, [&]() { return store_.remove(id); });
    if (!removed) {
      // Still on disk: delivered again after a restart (a duplicate, not a loss).
      spdlog::error("{}: cannot remove the queue file: {}", id, removed.error().what);
    } else {
      spdlog::info("{}: removed", id);
    }
    entries_.erase(id);
    co_return;
  }
  ++e.status.attempts;
  e.status.reason = reason;
  e.status.next_attempt = now + backoff(e.status.attempts).count();
  const QueueStatus status = e.status;
  auto saved = co_await on_disk(disk_, [&]() { return store_.save_status(id, status); });
  if (!saved) spdlog::warn("{}: cannot save the delivery status: {}", id, saved.error().what);
  entries_.at(id).busy = false;
}

}  // namespace filterd::frontd
