// sasl.h — the SASL pieces of SMTP AUTH (RFC 4954) that a server session
// needs without a SASL library: strict base64 (RFC 4648 §4) for the 334
// challenges and the client's responses, and the PLAIN message (RFC 4616).
//
// Security: responses are hostile. Decoding is strict (no white space, no
// junk, correct padding) and bounded by its input; decoded credentials are
// handed to the caller and never appear in a reply or a log line.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace filterd::smtp {

std::string base64_encode(std::string_view in);
// nullopt on any character outside the alphabet or bad padding.
std::optional<std::string> base64_decode(std::string_view in);

struct PlainCredentials {
  std::string authzid;  // may be empty
  std::string authcid;  // the user name
  std::string password;
};

// RFC 4616: [authzid] NUL authcid NUL passwd; authcid and passwd non-empty,
// no further NUL.
std::optional<PlainCredentials> parse_plain(std::string_view message);

}  // namespace filterd::smtp
