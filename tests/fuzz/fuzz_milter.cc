// Fuzz target (property): arbitrary bytes from a peer, fed to MilterDecoder
// whole and in input-chosen chunks, give the same packets and the same error
// (the error as soon as a bad length arrives, never a buffered oversized
// packet). Every packet that parses as a command re-encodes to a packet that
// parses back to the same command (to the same bytes, OPTNEG aside); every
// packet that parses as a reply and re-encodes does the same.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "milter/codec.h"

namespace {

using namespace filterd::milter;

// A small bound, so the fuzzer reaches the oversized path with short inputs.
constexpr uint32_t kMax = 4096;

void check_command(const Packet& p) {
  auto c = parse_command(p);
  if (!c) return;
  std::string bytes = encode_command(*c);
  MilterDecoder d(UINT32_MAX);
  auto again = d.feed(bytes);
  if (!again || again->size() != 1 || !d.idle()) std::abort();
  auto c2 = parse_command(again->front());
  if (!c2 || *c2 != *c) std::abort();
  if (p.command != command::kOptNeg && bytes != frame(p.command, p.data)) std::abort();
  if (const auto* o = std::get_if<OptNeg>(&*c)) {
    if (auto n = negotiate(*o); n && (n->actions & ~o->actions) != 0) std::abort();
  }
  (void)expects_reply(p.command, 0);
}

void check_reply(const Packet& p) {
  auto r = parse_reply(p);
  if (!r) return;
  auto bytes = encode_reply(*r);
  if (!bytes) return;  // a field encode_reply refuses to send
  MilterDecoder d(UINT32_MAX);
  auto again = d.feed(*bytes);
  if (!again || again->size() != 1) std::abort();
  auto r2 = parse_reply(again->front());
  if (!r2 || *r2 != *r) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 17;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  MilterDecoder whole(kMax);
  auto all = whole.feed(in);

  MilterDecoder chunked(kMax);
  std::vector<Packet> packets;
  std::expected<void, Error> failed;
  for (size_t at = 0; at < in.size() && failed; at += step) {
    auto got = chunked.feed(in.substr(at, step));
    if (!got) {
      failed = std::unexpected(got.error());
      if (chunked.feed("x").error() != got.error()) std::abort();  // stays dead
    } else {
      for (auto& p : *got) packets.push_back(std::move(p));
    }
  }
  if (all.has_value() != failed.has_value()) std::abort();
  if (all && *all != packets) std::abort();
  if (!all && all.error() != failed.error()) std::abort();

  for (const Packet& p : packets) {
    if (p.data.size() >= kMax) std::abort();
    check_command(p);
    check_reply(p);
  }
  // Builders never produce what encode_reply refuses.
  std::string text(in.substr(0, 200));
  if (auto rc = reply_code(550, "5.7.1", text); !rc || !encode_reply(*rc)) std::abort();
  if (!encode_reply(quarantine(text))) std::abort();
  if (!MilterDecoder(UINT32_MAX).feed(replace_body(in))) std::abort();
  return 0;
}
