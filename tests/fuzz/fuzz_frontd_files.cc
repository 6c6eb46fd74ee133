// Fuzz target: frontd's parsers of things that may be damaged or hostile —
// queue files and status files (a crash, a bad disk), Postfix text maps
// (an admin's typo), recipient addresses (the network). Properties: no
// crash; a queue file that parses re-encodes to bytes that parse to the
// same envelope and data; a recipient decision exists for every address.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "frontd/address.h"
#include "frontd/maps.h"
#include "frontd/queue_file.h"
#include "frontd/recipient_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace filterd::frontd;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto m = parse_message(in)) {
    auto again = parse_message(encode_message(*m));
    if (!again || again->data != m->data || again->envelope.sender != m->envelope.sender ||
        again->envelope.recipients.size() != m->envelope.recipients.size() || again->id != m->id) {
      std::abort();
    }
  }
  (void)parse_message(in, true);
  if (auto s = parse_status(in)) {
    auto again = parse_status(encode_status(*s));
    if (!again || again->done != s->done || again->reason != s->reason) std::abort();
  }
  auto map = TextMap::parse(in, "fuzz");
  static const DomainList domains = *DomainList::parse("example.test");
  const LocalTables tables{&domains, map ? &*map : nullptr};
  const std::string_view first_line = in.substr(0, in.find('\n'));
  auto r = check_recipient(first_line, {}, tables);
  if (r && r->code < 500) std::abort();  // every refusal here is permanent
  (void)mailbox_path(first_line, tables, "/var/mail/vhosts");
  (void)split_address(in);
  return 0;
}
