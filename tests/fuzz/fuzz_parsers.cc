// Fuzz target: the small parsers that read network or message bytes —
// SMTP reply parser (peer replies), path/parameter parser, xtext, endpoint
// specs, the header section reader and the BAD-HEADER checks. No crash, no unbounded growth.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "decoders/header_block.h"
#include "policy/bad_header.h"
#include "smtp/command.h"
#include "smtp/endpoint.h"
#include "smtp/reply_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace filterd;
  std::string_view in(reinterpret_cast<const char*>(data), size);

  smtp::ReplyParser p;
  for (size_t pos = 0; pos < in.size(); pos += 7) {
    if (!p.feed(in.substr(pos, 7))) break;
    while (p.has_reply()) {
      smtp::Reply r = p.pop();
      if (r.code < 200 || r.code > 599) std::abort();
    }
  }
  if (auto a = smtp::parse_path_args(in, "FROM:")) {
    if (a->address.size() > smtp::kMaxPathLength) std::abort();
  }
  if (auto x = smtp::xtext_decode(in)) {
    if (smtp::xtext_decode(smtp::xtext_encode(*x)) != *x) std::abort();
  }
  (void)smtp::parse_endpoint(in);

  size_t end = decoders::header_section_end(in);
  if (end > in.size()) std::abort();
  for (const auto& f : decoders::parse_header_fields(in)) {
    if (f.raw.data() < in.data() || f.raw.data() + f.raw.size() > in.data() + in.size())
      std::abort();
  }
  (void)decoders::header_value(in, "Message-ID");
  for (const auto& b : policy::check_headers(in, {})) {
    if (b.minor.empty()) std::abort();
  }
  return 0;
}
