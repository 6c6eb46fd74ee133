// Fuzz target: arbitrary client bytes into the AM.PDP request reader, in
// arbitrary chunks, then through parse_release. Properties: how the bytes
// are split never changes what is read; every request stays within the
// limits; an accepted release carries no control character into an
// address and no ".." into a file name; encoding round-trips, and a
// response is read back by the same parser as exactly what was encoded.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "quarantine/am_pdp.h"

namespace {

using namespace filterd::quarantine;

constexpr PdpLimits kLimits{.max_line = 256, .max_attributes = 16, .max_request_bytes = 2048};

void check(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  std::vector<PdpRequest> requests;
  std::string error;
};

// Feeds `in` in chunks whose sizes come from `sizes` (0: all at once).
Outcome read_all(std::string_view in, std::string_view sizes) {
  PdpParser p(kLimits);
  Outcome o;
  std::size_t k = 0;
  while (!in.empty()) {
    std::size_t n =
        sizes.empty() ? in.size() : 1 + static_cast<uint8_t>(sizes[k++ % sizes.size()]) % 64;
    n = std::min(n, in.size());
    auto fed = p.feed(in.substr(0, n));
    in.remove_prefix(n);
    while (p.has_request()) o.requests.push_back(p.pop());
    if (!fed) {
      o.error = fed.error();
      check(!p.feed("x\r\n\r\n"));  // errors are final
      break;
    }
  }
  return o;
}

bool has_control(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

void check_release(const PdpRequest& r) {
  check(r.attributes.size() <= kLimits.max_attributes);
  for (const auto& [n, v] : r.attributes)
    check(n.size() <= kLimits.max_line && v.size() <= kLimits.max_line);
  auto rel = parse_release(r);
  if (!rel) {
    check(!rel.error().empty() && !has_control(rel.error()));
    return;
  }
  check(rel->request == kPdpRelease || rel->request == kPdpRequeue);
  check(!rel->mail_id.empty() && rel->mail_id.size() <= 64 && !has_control(rel->mail_id));
  check(rel->mail_file.empty() ||
        (rel->mail_file[0] != '/' && rel->mail_file.find("../") == std::string::npos &&
         !rel->mail_file.ends_with("..")));
  check(!has_control(rel->requested_by) && !has_control(rel->sender.value_or("")));
  for (const auto& a : rel->recipients) check(!a.empty() && !has_control(a));
  (void)secret_id_matches(rel->mail_id, rel->secret_id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  // Chunking does not matter: whole, byte by byte, and sizes from the input.
  const Outcome whole = read_all(in, "");
  const Outcome bytes = read_all(in, std::string_view("\0", 1));
  const Outcome mixed = read_all(in, in);
  for (const Outcome* o : {&bytes, &mixed}) {
    check(o->error == whole.error && o->requests.size() == whole.requests.size());
    for (std::size_t i = 0; i < whole.requests.size(); ++i) {
      check(o->requests[i].attributes == whole.requests[i].attributes &&
            o->requests[i].malformed_lines == whole.requests[i].malformed_lines);
    }
  }
  for (const PdpRequest& r : whole.requests) check_release(r);

  // Encoding: printable, no space, no '%' but as an escape; decodes back.
  const std::string enc = pdp_encode(in);
  for (unsigned char c : enc) check(c > 0x20 && c < 0x7f);
  check(pdp_decode(enc) == in);
  check(pdp_decode(pdp_encode_name(in)) == in);

  // A response read back by the request reader is exactly what was encoded.
  const std::string resp = pdp_response({pdp_setreply(250, "2.0.0", in), {std::string(in), {"v"}}});
  PdpParser back({.max_line = 1 << 20, .max_attributes = 4, .max_request_bytes = 1 << 22});
  check(back.feed(resp).has_value() && back.has_request());
  const PdpRequest r = back.pop();
  check(!back.has_request() && r.attributes.size() == 2 && r.malformed_lines == 0);
  check(r.attributes[0].first == "setreply" &&
        r.attributes[0].second == "250 2.0.0 " + std::string(in));
  check(r.attributes[1].first == in && r.attributes[1].second == "v");
  return 0;
}
