// clamd_protocol.h — internal to the clamd client: the text helpers that
// the pure parsers (clamd_protocol.cc) share with the socket code
// (clamd_scanner.cc). The parsers themselves are declared in
// clamd_scanner.h, the public contract; include this only from those two
// files.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

#include "scanners/virus_scanner.h"

namespace filterd::scanners::clamd {

// Longest clamd text (error line, version) we copy into a message.
inline constexpr std::size_t kMaxQuotedReplyChars = 200;

inline std::unexpected<ScanError> fail(ScanError::Kind kind, std::string message) {
  return std::unexpected(ScanError{kind, std::move(message)});
}

// `text` with non-printable bytes replaced by '?' and cut at `max` chars,
// fit for a log line or a header.
std::string printable(std::string_view text, std::size_t max = kMaxQuotedReplyChars);

}  // namespace filterd::scanners::clamd
