// spamd_client.h — asks a running SpamAssassin spamd for a message's score
// and rule hits over SPAMC/1.5 (`SYMBOLS`), for sites that keep
// SpamAssassin with its plugins (filterd's `spam_backend = spamd`).
//
// One connection per check: the request (headers, Content-length, the
// message), then spamd's reply until it closes, all within one deadline.
// Replies are bounded (kMaxSpamdReplyBytes) and parsed strictly; spamd's
// error replies ("SPAMD/1.0 76 Bad header line") are errors, never a score.
//
// Thread safety: check() may run on one client from many threads.
#pragma once

#include <chrono>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scanners/virus_scanner.h"

namespace filterd::scanners {

// The SYMBOLS reply is a header and one line of rule names.
inline constexpr std::size_t kMaxSpamdReplyBytes = 64 * 1024;

struct SpamdResult {
  double score = 0;
  double threshold = 0;  // spamd's required_score
  bool is_spam = false;
  std::vector<std::string> symbols;  // rule names, as spamd lists them
};

// Builds the request for `message` ("SYMBOLS SPAMC/1.5", Content-length,
// User: when `user` is not empty).
std::string spamd_request(std::string_view message, std::string_view user);

// Parses spamd's complete reply to SYMBOLS. Errors (kProtocol): not SPAMD/,
// a non-zero response code (with spamd's text), no Spam: header, bad
// numbers, rule names that are not [A-Za-z0-9_].
std::expected<SpamdResult, ScanError> parse_spamd_reply(std::string_view reply);

class SpamdClient {
 public:
  // Resolves `socket_spec` ("unix:/path", "inet:HOST:PORT") and checks that
  // spamd answers PING.
  static std::expected<std::unique_ptr<SpamdClient>, ScanError> make(
      std::string socket_spec, std::chrono::milliseconds timeout, std::string user = "");

  std::expected<SpamdResult, ScanError> check(std::string_view message) const;

  std::string describe() const;  // "spamd at inet:127.0.0.1:783 (SPAMD/1.5)"

  virtual ~SpamdClient() = default;

 protected:
  SpamdClient() = default;
  virtual std::expected<std::string, ScanError> exchange(std::string_view request,
                                                         std::size_t max_reply) const = 0;
  std::string spec_, user_, version_;
};

}  // namespace filterd::scanners
