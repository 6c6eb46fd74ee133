// fuzz_spam_text.cc — arbitrary bytes through build_message_text and every
// header access: no crash, no hang, bounded output.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "spam/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unordered_set<std::string> tlds = {"com", "net", "org", "de", "uk"};
  filterd::spam::TextOptions options;
  options.tlds = &tlds;
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  const auto text = filterd::spam::build_message_text(msg, options);
  for (const char* request : {"Subject", "From:addr", "From:name", "To:raw", "ToCc", "ALL",
                              "MESSAGEID", "EnvelopeFrom", "Received:first:addr"})
    (void)text.get(request);
  (void)text.get_mime_header("Content-Type", false);
  return 0;
}
