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
#include "policy/dsn.h"
#include "scanners/virus_scanner.h"
#include "smtp/asio.h"
#include "smtp/server_session.h"

namespace filterd {

struct ClientInfo {
  std::string peer;  // "[127.0.0.1]:41234", the MTA that connected to us
};

class Processor {
 public:
  // REQUIRES: all references outlive the Processor.
  Processor(const Config& config, scanners::VirusScanner& scanner,
            const decoders::DecoderRegistry& decoders, boost::asio::thread_pool& workers);

  // Returns one reply for SMTP input, one per recipient for LMTP input.
  boost::asio::awaitable<std::vector<smtp::Reply>> process(smtp::Transaction txn,
                                                           smtp::Protocol input,
                                                           const ClientInfo& client);

 private:
  // What a DSN about this message needs. REQUIRES: outlives send_dsn().
  struct Dsn {
    const std::string& mail_id;
    long long arrival;
    const smtp::Envelope& envelope;
    std::string_view message;
    const smtp::ClientOptions& forward;
  };
  // Sends a failure DSN to the envelope sender through the next hop;
  // returns the next hop's reply for it.
  boost::asio::awaitable<smtp::Reply> send_dsn(const Dsn& dsn, std::string reason,
                                               std::vector<policy::DsnRecipient> recipients);

  const Config& config_;
  scanners::VirusScanner& scanner_;
  const decoders::DecoderRegistry& decoders_;
  boost::asio::thread_pool& workers_;
};

}  // namespace filterd
