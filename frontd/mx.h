// mx.h — where mail for a domain goes without a relayhost (RFC 5321 §5.1):
// its MX records in preference order; with no MX record, the domain itself
// (the implicit MX); a null MX ("0 .", RFC 7505) means the domain takes no
// mail. Lookups use the system resolver (res_nquery) and block, so the
// queue manager runs them on a worker thread.
//
// Errors: a domain that does not exist (NXDOMAIN) or has a null MX is
// permanent (the recipient bounces); anything else that goes wrong with DNS
// is temporary (the mail waits).
#pragma once

#include <string>
#include <vector>

namespace filterd::frontd {

struct MxResult {
  enum class Kind { kOk, kNoSuchDomain, kNullMx, kTempFail } kind = Kind::kTempFail;
  std::vector<std::string> hosts;  // kOk: in preference order, never empty
  std::string error;               // otherwise, for the log and the DSN
};

// Parses a DNS response to an MX query for `domain` (pure; the input is
// hostile).
MxResult parse_mx_response(const unsigned char* msg, int len, const std::string& domain);

// Looks `domain` up. Blocking; thread-safe (own resolver state per call).
MxResult lookup_mx(const std::string& domain);

}  // namespace filterd::frontd
