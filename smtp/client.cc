// client.cc — see client.h. One connection per delivery; PIPELINING for the
// envelope (RFC 2920), then DATA only if the envelope went through.
#include "smtp/client.h"

#include <openssl/ssl.h>

#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <set>

#include "smtp/command.h"
#include "smtp/deadline.h"
#include "smtp/dot_stuff.h"
#include "smtp/reply_parser.h"
#include "smtp/sasl.h"

namespace filterd::smtp {
namespace asio = boost::asio;
namespace {

// RFC 5321 §4.5.3.1.4 command line limit; XFORWARD is split to stay below it.
constexpr size_t kMaxXforwardLine = 500;
// Message data is written in pieces of this size after dot-stuffing.
constexpr size_t kDataChunk = 256 * 1024;

struct Extensions {
  bool pipelining = false, dsn = false, smtputf8 = false, eightbit = false;
  bool starttls = false, auth_plain = false;
  std::set<std::string> xforward;
};

Extensions parse_ehlo(std::string_view text) {
  Extensions e;
  size_t pos = text.find('\n');  // first line is the greeting name
  while (pos != std::string_view::npos) {
    std::string_view rest = text.substr(pos + 1);
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    pos = nl == std::string_view::npos ? nl : pos + 1 + nl;
    std::string upper;
    for (char c : line) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "PIPELINING")
      e.pipelining = true;
    else if (upper == "DSN")
      e.dsn = true;
    else if (upper == "SMTPUTF8")
      e.smtputf8 = true;
    else if (upper == "8BITMIME")
      e.eightbit = true;
    else if (upper == "STARTTLS")
      e.starttls = true;
    else if ((upper.starts_with("AUTH ") || upper.starts_with("AUTH=")) &&
             (" " + upper.substr(5) + " ").find(" PLAIN ") != std::string::npos)
      e.auth_plain = true;
    else if (upper.starts_with("XFORWARD")) {
      std::string_view attrs = std::string_view(upper).substr(8);
      while (!attrs.empty()) {
        size_t sp = attrs.find(' ');
        if (sp != 0) e.xforward.emplace(attrs.substr(0, sp));
        attrs = sp == std::string_view::npos ? std::string_view() : attrs.substr(sp + 1);
      }
    }
  }
  return e;
}

std::vector<std::string> xforward_commands(const XForward& x, const Extensions& ext) {
  const std::pair<const char*, const std::string*> attrs[] = {
      {"NAME", &x.name}, {"ADDR", &x.addr},   {"PORT", &x.port},    {"PROTO", &x.proto},
      {"HELO", &x.helo}, {"IDENT", &x.ident}, {"SOURCE", &x.source}};
  std::vector<std::string> out;
  std::string line;
  for (const auto& [name, value] : attrs) {
    if (value->empty() || !ext.xforward.contains(name)) continue;
    std::string item = std::string(name) + "=" + xtext_encode(*value);
    if (!line.empty() && line.size() + 1 + item.size() > kMaxXforwardLine) {
      out.push_back("XFORWARD" + line + "\r\n");
      line.clear();
    }
    line += " " + item;
  }
  if (!line.empty()) out.push_back("XFORWARD" + line + "\r\n");
  return out;
}

// One client conversation. All failures end in fail_all() with a 4xx.
class Conversation {
 public:
  Conversation(const Endpoint& hop, const Envelope& env, const ClientOptions& opt)
      : hop_(hop), env_(env), opt_(opt) {
    result_.recipients.resize(env.recipients.size());
  }
  ~Conversation() {
    if (conn_) conn_->close();
  }
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  asio::awaitable<DeliveryResult> run(std::string_view prefix, std::string_view message);

 private:
  // Coroutine parameters are taken by value: GCC 12 mishandles temporaries
  // bound to references across a suspension.
  asio::awaitable<bool> send(std::string bytes, std::chrono::seconds timeout);
  asio::awaitable<std::optional<Reply>> read_reply(std::chrono::seconds timeout);
  // send() then read_reply(); nullopt (with error_ set) on failure.
  asio::awaitable<std::optional<Reply>> command(std::string line, std::chrono::seconds timeout);
  void fail_all(std::string_view why);
  void decide_undecided(const Reply& r);
  asio::awaitable<void> quit();
  // STARTTLS and AUTH after EHLO; false when the message must wait (all
  // recipients decided). May replace `ehlo` (EHLO again under TLS).
  asio::awaitable<bool> secure_and_authenticate(Reply& ehlo);

  const Endpoint& hop_;
  const Envelope& env_;
  const ClientOptions& opt_;
  std::shared_ptr<GuardedSocket> conn_;
  std::unique_ptr<asio::ssl::stream<Socket&>> tls_;  // after STARTTLS
  ReplyParser parser_;
  DeliveryResult result_;
  std::vector<bool> decided_ = std::vector<bool>(env_.recipients.size(), false);
  std::string error_;
};

asio::awaitable<bool> Conversation::send(std::string bytes, std::chrono::seconds timeout) {
  boost::system::error_code ec;
  conn_->expires_after(timeout);
  if (tls_) {
    co_await asio::async_write(*tls_, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await asio::async_write(conn_->socket(), asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    error_ = conn_->timed_out() ? "timeout sending to " + hop_.str()
                                : "lost connection with " + hop_.str() + ": " + ec.message();
    co_return false;
  }
  co_return true;
}

asio::awaitable<std::optional<Reply>> Conversation::read_reply(std::chrono::seconds timeout) {
  char buf[4096];
  conn_->expires_after(timeout);
  while (!parser_.has_reply()) {
    boost::system::error_code ec;
    size_t n = 0;
    if (tls_) {
      n = co_await tls_->async_read_some(asio::buffer(buf),
                                         asio::redirect_error(asio::use_awaitable, ec));
    } else {
      n = co_await conn_->socket().async_read_some(asio::buffer(buf),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      error_ = conn_->timed_out() ? "timeout waiting for reply from " + hop_.str()
                                  : "lost connection with " + hop_.str() + ": " + ec.message();
      co_return std::nullopt;
    }
    if (auto r = parser_.feed(std::string_view(buf, n)); !r) {
      error_ = "protocol error from " + hop_.str() + ": " + r.error();
      co_return std::nullopt;
    }
  }
  co_return parser_.pop();
}

asio::awaitable<std::optional<Reply>> Conversation::command(std::string line,
                                                            std::chrono::seconds timeout) {
  const bool sent = co_await send(std::move(line), timeout);
  if (!sent) co_return std::nullopt;
  co_return co_await read_reply(timeout);
}

void Conversation::decide_undecided(const Reply& r) {
  for (size_t i = 0; i < decided_.size(); ++i) {
    if (!decided_[i]) {
      result_.recipients[i] = r;
      decided_[i] = true;
    }
  }
}

void Conversation::fail_all(std::string_view why) {
  // Anything we are unsure about is a temporary failure: the upstream retries.
  decide_undecided(Reply{451, "4.4.1", "next hop failed: " + std::string(why)});
}

asio::awaitable<void> Conversation::quit() {
  (void)co_await command("QUIT\r\n", std::chrono::seconds(5));
  conn_->close();
}

asio::awaitable<DeliveryResult> Conversation::run(std::string_view prefix,
                                                  std::string_view message) {
  const bool lmtp = hop_.protocol == Protocol::kLmtp;
  {
    auto sock = co_await connect_to(hop_, opt_.connect_timeout);
    if (!sock) {
      fail_all(sock.error());
      co_return result_;
    }
    conn_ = GuardedSocket::create(std::move(*sock));
  }
  auto greeting = co_await read_reply(opt_.connect_timeout);
  if (!greeting) {
    fail_all(error_);
    co_return result_;
  }
  if (greeting->code != 220) {
    // A refused greeting is about the session, not this message: retry later.
    fail_all("greeting: " + greeting->one_line());
    co_await quit();
    co_return result_;
  }
  std::string hello = std::string(lmtp ? "LHLO " : "EHLO ") + opt_.helo_name + "\r\n";
  std::optional<Reply> ehlo = co_await command(hello, opt_.command_timeout);
  if (ehlo && !ehlo->positive() && !lmtp) {
    ehlo = co_await command("HELO " + opt_.helo_name + "\r\n", opt_.command_timeout);
    if (ehlo) ehlo->text = ehlo->text.substr(0, ehlo->text.find('\n'));
  }
  if (!ehlo || !ehlo->positive()) {
    fail_all(ehlo ? "EHLO: " + ehlo->one_line() : error_);
    co_await quit();
    co_return result_;
  }
  if (opt_.tls != ClientOptions::Tls::kNone || !opt_.auth_user.empty()) {
    const bool go_on = co_await secure_and_authenticate(*ehlo);
    if (!go_on) co_return result_;
  }
  const Extensions ext = parse_ehlo(ehlo->text);

  if (env_.smtputf8 && !ext.smtputf8) {
    // RFC 6531 §3.2: the message cannot be delivered without SMTPUTF8.
    decide_undecided(Reply{553, "5.6.7", "next hop does not support SMTPUTF8"});
    co_await quit();
    co_return result_;
  }

  // The envelope: XFORWARD, MAIL, RCPT... pipelined when the peer allows.
  std::vector<std::string> commands;
  if (opt_.send_xforward && !env_.xforward.empty()) {
    commands = xforward_commands(env_.xforward, ext);
  }
  const size_t n_xforward = commands.size();
  std::string mail = "MAIL FROM:<" + env_.sender + ">";
  if (env_.size) mail += " SIZE=" + std::to_string(prefix.size() + message.size());
  if (!env_.body.empty() && ext.eightbit) mail += " BODY=" + env_.body;
  if (env_.smtputf8) mail += " SMTPUTF8";
  if (ext.dsn && !env_.ret.empty()) mail += " RET=" + env_.ret;
  if (ext.dsn && !env_.envid.empty()) mail += " ENVID=" + env_.envid;
  commands.push_back(mail + "\r\n");
  for (const Recipient& r : env_.recipients) {
    std::string rcpt = "RCPT TO:<" + r.address + ">";
    if (ext.dsn && !r.notify.empty()) rcpt += " NOTIFY=" + r.notify;
    if (ext.dsn && !r.orcpt.empty()) rcpt += " ORCPT=" + r.orcpt;
    commands.push_back(rcpt + "\r\n");
  }

  std::vector<Reply> replies;
  if (ext.pipelining) {
    std::string batch;
    for (const auto& c : commands) batch += c;
    const bool sent = co_await send(std::move(batch), opt_.command_timeout);
    if (!sent) {
      fail_all(error_);
      co_return result_;
    }
    for (size_t i = 0; i < commands.size(); ++i) {
      auto r = co_await read_reply(opt_.command_timeout);
      if (!r) {
        fail_all(error_);
        conn_->close();
        co_return result_;
      }
      replies.push_back(std::move(*r));
    }
  } else {
    for (const auto& c : commands) {
      std::optional<Reply> r = co_await command(c, opt_.command_timeout);
      if (!r) {
        fail_all(error_);
        conn_->close();
        co_return result_;
      }
      replies.push_back(std::move(*r));
      // Without pipelining a failed MAIL ends the envelope early.
      if (replies.size() == n_xforward + 1 && !replies.back().positive()) break;
    }
  }
  // XFORWARD failures are not fatal: the next hop just logs less.
  const Reply& mail_reply = replies[n_xforward];
  if (!mail_reply.positive()) {
    decide_undecided(mail_reply);
    co_await quit();
    co_return result_;
  }
  std::vector<size_t> accepted;
  bool any_deferred = false;
  for (size_t i = 0; i < env_.recipients.size(); ++i) {
    const Reply& r = replies[n_xforward + 1 + i];
    if (r.positive()) {
      accepted.push_back(i);
    } else {
      result_.recipients[i] = r;
      decided_[i] = true;
      any_deferred |= r.transient();
    }
  }
  if (accepted.empty() || (opt_.all_or_nothing && any_deferred)) {
    decide_undecided(Reply{451, "4.5.0", "not sent: the next hop deferred another recipient"});
    (void)co_await command("RSET\r\n", opt_.command_timeout);
    co_await quit();
    co_return result_;
  }

  std::optional<Reply> go = co_await command("DATA\r\n", opt_.command_timeout);
  if (!go) {
    fail_all(error_);
    conn_->close();
    co_return result_;
  }
  if (go->code != 354) {
    decide_undecided(*go);
    co_await quit();
    co_return result_;
  }

  DotStuffer stuffer;
  std::string chunk;
  stuffer.add(prefix, chunk);
  bool sent = true;
  for (size_t off = 0; off < message.size() && sent; off += kDataChunk) {
    stuffer.add(message.substr(off, kDataChunk), chunk);
    if (chunk.size() >= kDataChunk)
      sent = co_await send(std::exchange(chunk, {}), opt_.data_timeout);
  }
  if (sent) {
    stuffer.finish(chunk);
    sent = co_await send(std::move(chunk), opt_.data_timeout);
  }
  if (!sent) {
    fail_all(error_);
    conn_->close();
    co_return result_;
  }
  // SMTP: one reply for the message. LMTP (RFC 2033 §4.2): one per accepted RCPT.
  const size_t expected = lmtp ? accepted.size() : 1;
  for (size_t k = 0; k < expected; ++k) {
    auto r = co_await read_reply(opt_.data_timeout);
    if (!r) {
      // The peer may or may not have taken it; only a retry is safe.
      fail_all(error_);
      conn_->close();
      co_return result_;
    }
    if (r->positive()) {
      result_.delivered_any = true;
      if (result_.queued_as.empty()) result_.queued_as = parse_queued_as(r->text);
    }
    if (lmtp) {
      result_.recipients[accepted[k]] = *r;
      decided_[accepted[k]] = true;
    } else {
      decide_undecided(*r);
    }
  }
  co_await quit();
  co_return result_;
}

asio::awaitable<bool> Conversation::secure_and_authenticate(Reply& ehlo) {
  Extensions ext = parse_ehlo(ehlo.text);
  const bool lmtp = hop_.protocol == Protocol::kLmtp;
  if (opt_.tls != ClientOptions::Tls::kNone && opt_.tls_context) {
    std::optional<Reply> go;
    if (ext.starttls) go = co_await command("STARTTLS\r\n", opt_.command_timeout);
    if (ext.starttls && !go) {
      fail_all(error_);
      co_return false;
    }
    if (go && go->code == 220) {
      tls_ = std::make_unique<asio::ssl::stream<Socket&>>(conn_->socket(), *opt_.tls_context);
      if (!hop_.host.empty()) SSL_set_tlsext_host_name(tls_->native_handle(), hop_.host.c_str());
      boost::system::error_code ec;
      conn_->expires_after(opt_.connect_timeout);
      co_await tls_->async_handshake(asio::ssl::stream_base::client,
                                     asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        fail_all("TLS handshake with " + hop_.str() + " failed: " + ec.message());
        conn_->close();
        co_return false;
      }
      parser_ = ReplyParser();  // nothing sent before the handshake counts (RFC 3207 §4.2)
      std::string hello = std::string(lmtp ? "LHLO " : "EHLO ") + opt_.helo_name + "\r\n";
      std::optional<Reply> again = co_await command(hello, opt_.command_timeout);
      if (!again || !again->positive()) {
        fail_all(again ? "EHLO after STARTTLS: " + again->one_line() : error_);
        co_await quit();
        co_return false;
      }
      ehlo = *again;
      ext = parse_ehlo(ehlo.text);
    } else if (opt_.tls == ClientOptions::Tls::kEncrypt) {
      fail_all(go ? "STARTTLS refused: " + go->one_line()
                  : hop_.str() + " does not offer STARTTLS (TLS is required)");
      co_await quit();
      co_return false;
    }
  }
  if (!opt_.auth_user.empty() && ext.auth_plain) {
    if (!tls_) {
      fail_all("not sending credentials to " + hop_.str() + " without TLS");
      co_await quit();
      co_return false;
    }
    std::string plain = std::string(1, '\0') + opt_.auth_user + '\0' + opt_.auth_password;
    std::string line = "AUTH PLAIN " + base64_encode(plain) + "\r\n";
    std::fill(plain.begin(), plain.end(), '\0');
    std::optional<Reply> r = co_await command(std::move(line), opt_.command_timeout);
    if (!r) {
      fail_all(error_);
      co_return false;
    }
    if (r->code != 235) {
      // The relay refusing us is our configuration's problem, not the
      // message's: keep it and retry (Postfix defers too).
      decide_undecided(Reply{454, "4.7.0", "SASL authentication failed: " + r->one_line()});
      co_await quit();
      co_return false;
    }
  }
  co_return true;
}

}  // namespace

std::string parse_queued_as(std::string_view text) {
  for (std::string_view marker : {"queued as ", "id="}) {
    size_t at = text.find(marker);
    if (at == std::string_view::npos) continue;
    std::string_view rest = text.substr(at + marker.size());
    size_t end = rest.find_first_of(" \n\r,;)");
    return std::string(rest.substr(0, end));
  }
  return {};
}

asio::awaitable<DeliveryResult> deliver(const Endpoint& hop, const Envelope& envelope,
                                        std::string_view prefix, std::string_view message,
                                        const ClientOptions& options) {
  Conversation c(hop, envelope, options);
  co_return co_await c.run(prefix, message);
}

}  // namespace filterd::smtp
