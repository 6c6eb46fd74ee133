// Fuzz target: the MIME parser and the whole decode chain (transfer
// decodings, embedded messages, every decoder plugin) on arbitrary bytes,
// with small limits. Invariants: entity offsets stay inside the input,
// every part's path is well formed, decoded bytes respect the quota.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "decoders/decoder.h"
#include "decoders/message_decoder.h"
#include "decoders/mime_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace filterd::decoders;
  std::string_view in(reinterpret_cast<const char*>(data), size);

  MimeTree t = parse_mime(in, MimeLimits{.max_parts = 200, .max_nesting = 10});
  for (const MimeEntity& e : t.entities) {
    if (e.begin > e.body_begin || e.body_begin > e.end || e.end > in.size()) std::abort();
  }

  static const DecoderRegistry registry = builtin_decoders();
  DecodeLimits limits;
  limits.max_files = 200;
  limits.max_depth = 6;
  limits.min_expansion_quota = 1 << 20;
  limits.max_expansion_quota = 4 << 20;
  limits.spill_threshold = 1 << 20;
  DecodeResult r = decode_message(in, limits, registry);
  if (r.decoded_bytes > limits.expansion_quota(in.size()) + (1 << 20)) std::abort();
  for (const Part& p : r.parts) {
    if (p.path.size() < 4 || p.path[0] != 'p') std::abort();
    if (p.depth > limits.max_depth + 1) std::abort();
  }
  return 0;
}
