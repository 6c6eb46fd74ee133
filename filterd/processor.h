// processor.h — the life of one message: scan (on the worker pool), decide
// (policy), then deliver, bounce or drop, and answer the upstream MTA with
// replies derived from what the next hop said. Writes the summary log line.
//
// The one rule (DESIGN.md): a positive reply goes upstream only after the
// next hop accepted the message (or the destiny dropped it deliberately);
// any doubt — scanner down, next hop unreachable, timeout — is a 4xx.
//
// Thread safety: process() runs on the I/O executor; scans run on the pool.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <string>
#include <vector>

#include "decoders/decoder.h"
#include "filterd/config.h"
#include "filterd/spam_check.h"
#include "policy/dsn.h"
#include "policy/notify.h"
#include "policy/settings.h"
#include "quarantine/store.h"
#include "scanners/virus_scanner.h"
#include "smtp/asio.h"
#include "smtp/server_session.h"

namespace filterd {

struct ClientInfo {
  std::string peer;         // "[127.0.0.1]:41234", the MTA that connected to us
  std::string addr;         // "127.0.0.1", for mynetworks; "" for unix sockets
  unsigned local_port = 0;  // the listen port it connected to, for policy banks
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

  // Returns one reply for SMTP input, one per recipient for LMTP input.
  boost::asio::awaitable<std::vector<smtp::Reply>> process(smtp::Transaction txn,
                                                           smtp::Protocol input,
                                                           const ClientInfo& client);

 private:
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
  // Quarantine writes wait for fsync: on threads of their own, so that a
  // slow disk does not hold the scanning workers.
  boost::asio::thread_pool disk_{2};
};

}  // namespace filterd
