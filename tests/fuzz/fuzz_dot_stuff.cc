// Fuzz target (property): whatever the message bytes, writing them with
// DotStuffer and reading them back with ServerSession yields the message
// with bare CR/LF normalised to CRLF — so the next hop sees exactly one
// message, and no content can end DATA early (SMTP smuggling).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "smtp/dot_stuff.h"
#include "smtp/server_session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace filterd::smtp;
  std::string msg(reinterpret_cast<const char*>(data), size);
  std::string expected;
  for (size_t i = 0; i < msg.size(); ++i) {
    char c = msg[i];
    if (c == '\r') {
      expected += "\r\n";
      if (i + 1 < msg.size() && msg[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      expected += "\r\n";
    } else {
      expected += c;
    }
  }
  if (!expected.empty() && !expected.ends_with("\r\n")) expected += "\r\n";

  SessionOptions o;
  o.limits.max_message_size = 1 << 22;
  ServerSession s(o);
  s.feed("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
  s.feed(dot_stuff(msg));
  if (!s.transaction_ready()) std::abort();
  if (s.take_transaction().data != expected) std::abort();
  return 0;
}
