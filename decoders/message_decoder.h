// message_decoder.h — unpacks a whole message into parts: MIME structure,
// transfer encodings, embedded messages, then every container through the
// decoder registry, recursively — bounded by named limits that turn into an
// UNCHECKED verdict, never a crash, a hang or unbounded memory.
//
// The limits and their reasons (amavisd-new's names in brackets):
//   max_depth 14           nesting of parts [$MAXLEVELS]
//   max_files 3000         parts in one message [$MAXFILES]
//   expansion quota        decoded bytes per message:
//                          max(min(max_quota, size*max_factor),
//                              max(min_quota, size*min_factor))
//                          [$MIN/MAX_EXPANSION_QUOTA, $MIN/MAX_EXPANSION_FACTOR]
//   max_member_size        one part's decoded size (ClamAV's MaxFileSize)
//   MIME max_parts/nesting rspamd-style parser bounds
//   time_budget            wall time for decoding one message
// Parts larger than spill_threshold are written to temp files and mapped.
//
// Thread safety: decode_message() is reentrant; the registry is shared
// read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "decoders/decoder.h"
#include "decoders/mime_parser.h"
#include "decoders/part.h"

namespace filterd::decoders {

struct DecodeLimits {
  int max_depth = 14;
  size_t max_files = 3000;
  uint64_t min_expansion_quota = 100 * 1024;
  uint64_t max_expansion_quota = 500ull << 20;
  uint64_t min_expansion_factor = 5;
  uint64_t max_expansion_factor = 500;
  uint64_t max_member_size = 100ull << 20;
  std::chrono::milliseconds time_budget{20000};
  uint64_t spill_threshold = 8ull << 20;
  std::string temp_dir = "/tmp";
  MimeLimits mime;

  // The decoded-bytes quota for a message of `message_size` bytes.
  uint64_t expansion_quota(uint64_t message_size) const;
};

struct DecodeResult {
  std::vector<Part> parts;               // pre-order: a part precedes its children
  std::string limit;                     // "" or "max expansion exceeded in p002 zbsm.zip"
  std::vector<std::string> encrypted;    // labels of encrypted members
  std::vector<std::string> undecodable;  // containers nobody can open: "p002 test.arc (.arc)"
  uint64_t decoded_bytes = 0;            // bytes written into parts by decoders
  std::string temp_error;                // a temp file could not be written
  // Problems of multipart entities, which are not parts: "message:
  // multipart without boundary parameter". A leaf's problem is its part's.
  std::vector<std::string> structure_problems;

  bool over_limits() const { return !limit.empty(); }
};

DecodeResult decode_message(std::string_view message, const DecodeLimits& limits,
                            const DecoderRegistry& registry);

}  // namespace filterd::decoders
