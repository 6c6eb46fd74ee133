// Fuzz target: reading a quarantine file back. The file may have been
// damaged or edited on disk: strip_prepended() must never crash, and what
// it returns is a suffix of its input; fields written for hostile values
// always strip back to the message exactly.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "quarantine/file_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace filterd::quarantine;
  std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto m = strip_prepended(in)) {
    if (m->data() < in.data() || m->data() + m->size() != in.data() + in.size()) std::abort();
  }

  // The input as hostile envelope and verdict values around a fixed message.
  Entry e;
  e.mail_id = "ABCDEFGHIJKL";
  e.time = 1'800'000'000;
  e.category = std::string(in.substr(0, 40));
  e.reason = std::string(in);
  e.sender = std::string(in.substr(in.size() / 2));
  e.recipients = {std::string(in.substr(0, in.size() / 3)), "b@example.test"};
  const std::string message = "Subject: x\r\n\r\nbody\r\n";
  const std::string file = prepended_fields(e, message) + message;
  auto back = strip_prepended(file);
  if (!back || *back != message) std::abort();
  if (!valid_relative_path(relative_path(e.mail_id, e.time, false))) std::abort();
  (void)valid_relative_path(in);
  (void)valid_id(in);
  return 0;
}
