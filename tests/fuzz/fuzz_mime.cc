// Fuzz target: the MIME parser and the whole decode chain (transfer
// decodings, embedded messages, every decoder plugin) on arbitrary bytes,
// with small limits. Invariants: entity offsets stay inside the input,
// every part's path is well formed, decoded bytes respect the quota; and
// attachment removal on the decoded parts keeps every byte outside the
// replaced entities.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "decoders/decoder.h"
#include "decoders/message_decoder.h"
#include "decoders/mime_parser.h"
#include "filterd/attachment_removal.h"

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
    if (p.entity_end > in.size() || p.entity_begin > p.entity_end) std::abort();
  }

  // Remove every third part (or the parts holding them).
  std::vector<filterd::Offence> offences;
  for (size_t i = 0; i < r.parts.size(); i += 3) {
    offences.push_back({static_cast<int>(i), "INFECTED: Fuzz"});
  }
  if (auto removal = filterd::remove_attachments(in, r, offences, "ID")) {
    if (removal->removed.empty()) std::abort();
    // The bytes before the first replaced entity are untouched.
    size_t first = in.size();
    for (const Part& p : r.parts) {
      if (p.parent < 0 && p.entity_end > p.entity_begin) first = std::min(first, p.entity_begin);
    }
    if (removal->message.compare(0, first, in.substr(0, first)) != 0) std::abort();
    (void)decode_message(removal->message, limits, registry);
  }
  return 0;
}
