// Fuzz target: the SMTP/LMTP server session fed with arbitrary client bytes
// in arbitrary chunks. Invariants: no crash, bounded buffering, and every
// reply line is "ddd" + " " or "-" + text + CRLF. Bit 1 of the first byte
// turns on what frontd uses (STARTTLS, AUTH, a RCPT hook); then a decoded
// password never appears in the output. Bit 5 turns on the proxy's relay
// mode, answered by a downstream that refuses every third command.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "smtp/server_session.h"

namespace {

void check_replies(const std::string& out) {
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find("\r\n", pos);
    if (nl == std::string::npos || nl - pos < 4) std::abort();
    for (size_t i = pos; i < pos + 3; ++i) {
      if (out[i] < '0' || out[i] > '9') std::abort();
    }
    if (out[pos + 3] != ' ' && out[pos + 3] != '-') std::abort();
    for (size_t i = pos; i < nl; ++i) {
      if (out[i] == '\r' || out[i] == '\n') std::abort();
    }
    pos = nl + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using namespace filterd::smtp;
  SessionOptions o;
  o.protocol = (data[0] & 1) ? Protocol::kLmtp : Protocol::kSmtp;
  o.limits.max_message_size = 64 * 1024;
  o.limits.max_recipients = 8;
  const bool frontd = (data[0] & 2) != 0;
  if (frontd) {
    o.offer_starttls = true;
    o.auth_mechanisms = "PLAIN LOGIN";
    o.auth_requires_tls = (data[0] & 8) != 0;
    o.check_recipient = [](const Envelope&, const Recipient& r) -> std::optional<Reply> {
      if (r.address.find('%') != std::string::npos) return Reply{554, "5.7.1", "denied"};
      return std::nullopt;
    };
  }
  o.relay = (data[0] & 16) != 0 && o.protocol == Protocol::kSmtp;
  unsigned relayed = 0;
  ServerSession s(o);
  std::string password;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t chunk = 1 + data[0] % 61;
  for (size_t pos = 0; pos < in.size() && !s.closed(); pos += chunk) {
    s.feed(std::string_view(in).substr(pos, chunk));
    for (;;) {
      if (s.state() == ServerSession::State::kStartTls) {
        s.tls_started();
        continue;
      }
      if (s.state() == ServerSession::State::kAwaitingAuth) {
        AuthRequest a = s.take_auth_request();
        if (a.credentials.password.empty()) std::abort();
        password = a.credentials.password;
        const bool ok = (data[0] & 4) != 0;
        s.finish_auth(ok ? Reply{235, "2.7.0", "ok"} : Reply{535, "5.7.8", "failed"},
                      ok ? a.credentials.authcid : "");
        if (ok != s.authenticated()) std::abort();
        continue;
      }
      if (s.state() == ServerSession::State::kAwaitingRelay) {
        const RelayRequest& r = s.relay_request();
        if (r.verb == RelayRequest::Verb::kRcpt && r.recipient.address.empty()) std::abort();
        s.finish_relay(++relayed % 3 == 0 ? Reply{451, "4.3.0", "down\nstream"}
                                          : Reply{250, "2.0.0", "Ok"});
        continue;
      }
      if (!s.transaction_ready()) break;
      Transaction t = s.take_transaction();
      if (t.data.size() > o.limits.max_message_size) std::abort();
      if (t.envelope.recipients.empty() || t.envelope.recipients.size() > 8) std::abort();
      std::vector<Reply> replies(o.protocol == Protocol::kLmtp ? t.envelope.recipients.size() : 1,
                                 Reply{250, "2.0.0", "Ok"});
      s.finish_data(replies);
    }
    const std::string out = s.take_output();
    check_replies(out);
    // A password is never echoed. (Checked for ones no reply text could
    // contain by chance: with a byte that replies never carry.)
    if (password.find('\x01') != std::string::npos && out.find(password) != std::string::npos) {
      std::abort();
    }
  }
  return 0;
}
