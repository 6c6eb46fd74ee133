// processor.h — the life of one message: scan (on the worker pool), decide
// (policy), then deliver, bounce or drop, and answer the upstream MTA with
// replies derived from what the next hop said. Writes the summary log line.
//
// The one rule (DESIGN.md): a positive reply goes upstream only after the
// next hop accepted the message (or the destiny dropped it deliberately);
// any doubt — scanner down, next hop unreachable, timeout — is a 4xx.
//
// Two ways to finish a judged message:
//   * after-queue (process()): the processor delivers, bounces or drops per
//     recipient and answers the upstream from the next hop's replies;
//   * in-dialog (before-queue proxy, milter: judge() then in_dialog()):
//     the upstream still has its client on the line, so the message gets
//     one outcome for the whole transaction and the caller carries it out.
//
// Thread safety: everything runs on the I/O executor; scans run on the pool.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "decoders/decoder.h"
#include "filterd/config.h"
#include "filterd/spam_check.h"
#include "filterd/stage_times.h"
#include "policy/dsn.h"
#include "policy/notify.h"
#include "policy/plan.h"
#include "policy/settings.h"
#include "quarantine/store.h"
#include "scanners/virus_scanner.h"
#include "smtp/asio.h"
#include "smtp/connection_cache.h"
#include "smtp/server_session.h"

namespace filterd {

struct ClientInfo {
  std::string peer;         // "[127.0.0.1]:41234", the MTA that connected to us
  std::string addr;         // "127.0.0.1", for mynetworks; "" for unix sockets
  unsigned local_port = 0;  // the listen port it connected to, for policy banks
};

// A scanned and judged message: what delivery and the in-dialog answer
// need. Made by Processor::judge(); owns its transaction.
struct Judgement {
  smtp::Transaction txn;
  smtp::Protocol input = smtp::Protocol::kSmtp;
  ClientInfo client;
  std::string mail_id;
  long long arrival = 0;    // time(), for DSNs and the quarantine
  std::string client_addr;  // XFORWARD ADDR, else the peer's
  const policy::Settings* bank = nullptr;
  std::vector<policy::RecipientPolicy> policies;  // per envelope recipient
  policy::Findings findings;                      // of the message as it goes on (after a removal)
  std::optional<std::string> edited;              // the message after attachment removal
  std::vector<policy::Decision> decisions;        // per envelope recipient
  std::vector<policy::RecipientFate> fates;
  policy::Plan plan;
  bool quarantine_failed = false;
  std::string quarantine_id;  // set once the message is in the quarantine

  // For the summary line.
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  StageTimes times;
  std::string queued_as;
  std::vector<std::string> notes;  // extra words, e.g. "DSN sent" or a failure reason

  // The message as it goes on: edited or as received.
  std::string_view message() const { return edited ? *edited : txn.data; }
};

// The one outcome of an in-dialog transaction.
//   * any recipient D_TEMPFAIL (or the quarantine failed): kTempfail, 4xx;
//   * else any recipient D_REJECT or D_BOUNCE: kReject, 5xx, nobody gets
//     it — the client is told in the dialog, so no DSN and no backscatter,
//     and nobody's copy vanishes without the sender knowing;
//   * else nobody passes: kDiscard, 250 and nothing delivered;
//   * else kPass for the recipients that pass; discarded ones are dropped.
//     They share one set of edits (the first passing recipient's): a
//     transaction carries one message. Sites that need per-recipient
//     copies use the after-queue mode.
struct InDialogOutcome {
  enum class Action { kPass, kDiscard, kReject, kTempfail };
  Action action = Action::kTempfail;
  smtp::Reply reply;  // what the client is told, except for kPass (the next hop's)
  // kPass: per envelope recipient, the address it is delivered to (with an
  // address extension, maybe), or nullopt when it is dropped.
  std::vector<std::optional<std::string>> deliver_to;
  policy::MessageEdits edits;
};

class Processor {
 public:
  // REQUIRES: all references outlive the Processor.
  Processor(const Config& config, scanners::VirusScanner& scanner,
            const decoders::DecoderRegistry& decoders, boost::asio::thread_pool& workers);

  // Blocked mail is kept here from now on; null: no quarantine (tests).
  // REQUIRES: outlives the Processor; called before the first message.
  void set_quarantine(quarantine::Store* store) { quarantine_ = store; }

  // Spam rules from now on; null: no spam checks (tests).
  // REQUIRES: outlives the Processor; called before the first message.
  void set_spam_checker(const SpamChecker* spam) { spam_ = spam; }

  // After-queue: judges, delivers and logs. Returns one reply for SMTP
  // input, one per recipient for LMTP input.
  boost::asio::awaitable<std::vector<smtp::Reply>> process(smtp::Transaction txn,
                                                           smtp::Protocol input,
                                                           const ClientInfo& client);

  // Scans the message, decides per recipient and keeps it in the quarantine
  // when a recipient's decision says so (before anything is delivered).
  boost::asio::awaitable<Judgement> judge(smtp::Transaction txn, smtp::Protocol input,
                                          const ClientInfo& client);

  // judge() within config.in_dialog_timeout. nullopt: the time ran out;
  // the caller answers kLateReply, and the judgement, when it comes, is
  // only logged (the client will retry).
  boost::asio::awaitable<std::optional<Judgement>> judge_in_time(smtp::Transaction txn,
                                                                 const ClientInfo& client);
  static smtp::Reply late_reply() {
    return {451, "4.4.5", "Error: content check took too long, try again later"};
  }

  // In-dialog: the outcome for the whole transaction (see InDialogOutcome).
  InDialogOutcome in_dialog(const Judgement& j) const;

  // In-dialog, once the client has its answer (`reply`: the next hop's for
  // a pass): admin notices and recipient warnings, then the summary line.
  boost::asio::awaitable<void> finish_in_dialog(Judgement& j, const InDialogOutcome& outcome,
                                                smtp::Reply reply);

 private:
  struct Race;  // judge_in_time()'s state, shared with the judging coroutine
  boost::asio::awaitable<void> judge_into(std::shared_ptr<Race> race, smtp::Transaction txn,
                                          ClientInfo client);

  // After-queue: deliveries, DSNs and notices. Returns the per-recipient replies.
  boost::asio::awaitable<std::vector<smtp::Reply>> deliver(Judgement& j);
  // One summary line per message, in the spirit of amavis's.
  void log_summary(const Judgement& j, const smtp::Reply& reply) const;

  // What a DSN or notice about this message needs. REQUIRES: outlives the call.
  struct MessageRef {
    const std::string& mail_id;
    long long arrival;
    const smtp::Envelope& envelope;
    std::string_view message;
    const smtp::ClientOptions& forward;
    const policy::Settings& bank;
    const smtp::Endpoint& hop;  // the bank's next hop, else config.forward
    const ClientInfo& client;
    std::string quarantine_id;  // set once the message is in the quarantine
  };
  // The template placeholders for a notice or DSN about this message.
  policy::Values notice_values(const MessageRef& m, const std::string& category,
                               const std::string& reason, policy::Destiny destiny,
                               const std::vector<std::string>& recipients) const;
  // Sends a failure DSN to the envelope sender through the next hop;
  // returns the next hop's reply for it.
  boost::asio::awaitable<smtp::Reply> send_dsn(const MessageRef& m, std::string category,
                                               std::string reason,
                                               std::vector<policy::DsnRecipient> recipients);
  // Admin notices and recipient warnings, best effort (logged on failure).
  boost::asio::awaitable<void> send_notices(const MessageRef& m,
                                            const std::vector<policy::Decision>& decisions,
                                            const std::vector<policy::RecipientPolicy>& policies);
  boost::asio::awaitable<void> send_notice(const MessageRef& m, const policy::Template& tmpl,
                                           const policy::Decision& d, std::string to,
                                           std::string tag);

  const Config& config_;
  scanners::VirusScanner& scanner_;
  const decoders::DecoderRegistry& decoders_;
  boost::asio::thread_pool& workers_;
  quarantine::Store* quarantine_ = nullptr;
  const SpamChecker* spam_ = nullptr;
  // Next-hop sessions kept between messages (config.forward_connection_cache).
  smtp::ConnectionCache next_hop_cache_;
  // The forward options with the session cache, per config.
  smtp::ClientOptions forward_options() {
    smtp::ClientOptions o = config_.forward_options;
    if (config_.forward_connection_cache) o.cache = &next_hop_cache_;
    return o;
  }
  // Quarantine writes wait for fsync: on threads of their own, so that a
  // slow disk does not hold the scanning workers.
  boost::asio::thread_pool disk_{2};
};

}  // namespace filterd
