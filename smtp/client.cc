// client.cc — see client.h. A connection per delivery, or a session from the
// cache (connection_cache.h); PIPELINING for the
// envelope (RFC 2920), then DATA only if the envelope went through.
#include "smtp/client.h"

#include <boost/asio/use_awaitable.hpp>

#include "smtp/client_connection.h"
#include "smtp/connection_cache.h"
#include "smtp/sasl.h"

namespace filterd::smtp {
namespace asio = boost::asio;
namespace {

// One client conversation. All failures end in fail_all() with a 4xx.
class Conversation {
 public:
  Conversation(const Endpoint& hop, const Envelope& env, const ClientOptions& opt)
      : hop_(hop), env_(env), opt_(opt), conn_(std::make_unique<ClientConnection>(hop)) {
    result_.recipients.resize(env.recipients.size());
  }
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  asio::awaitable<DeliveryResult> run(std::string_view prefix, std::string_view message);

 private:
  void fail_all(std::string_view why);
  void decide_undecided(const Reply& r);
  asio::awaitable<void> quit();
  // STARTTLS and AUTH after EHLO; false when the message must wait (all
  // recipients decided). May replace `ehlo` (EHLO again under TLS).
  asio::awaitable<bool> secure_and_authenticate(Reply& ehlo);

  const Endpoint& hop_;
  const Envelope& env_;
  const ClientOptions& opt_;
  // A session from the cache failed before its first envelope reply: the
  // peer had closed it; retry on a fresh one (nothing was accepted).
  enum class Outcome { kDone, kStale };
  // Connect, greeting, EHLO (and STARTTLS/AUTH); false: all decided.
  asio::awaitable<bool> open();
  // The transaction on the open session, from XFORWARD to the end-of-data replies.
  asio::awaitable<Outcome> transact(std::string_view prefix, std::string_view message);
  // The transaction ended cleanly: keep the session for the next message
  // when there is a cache, else QUIT.
  asio::awaitable<void> release();
  bool cacheable() const {
    return opt_.cache != nullptr && opt_.tls == ClientOptions::Tls::kNone && opt_.auth_user.empty();
  }

  std::unique_ptr<ClientConnection> conn_;
  Extensions ext_;
  bool reused_ = false;  // conn_ came from the cache
  unsigned uses_ = 0;    // transactions on conn_ before this one
  DeliveryResult result_;
  std::vector<bool> decided_ = std::vector<bool>(env_.recipients.size(), false);
};

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
  co_await conn_->quit();
}

asio::awaitable<void> Conversation::release() {
  if (!cacheable()) {
    co_await quit();
    co_return;
  }
  opt_.cache->put(CachedSession{std::move(conn_), ext_, uses_ + 1, {}});
}

asio::awaitable<DeliveryResult> Conversation::run(std::string_view prefix,
                                                  std::string_view message) {
  if (cacheable()) {
    if (std::optional<CachedSession> idle = opt_.cache->take(hop_)) {
      conn_ = std::move(idle->conn);
      ext_ = std::move(idle->ext);
      uses_ = idle->uses;
      reused_ = true;
      const Outcome o = co_await transact(prefix, message);
      if (o == Outcome::kDone) co_return result_;
      conn_ = std::make_unique<ClientConnection>(hop_);
      reused_ = false;
      uses_ = 0;
    }
  }
  const bool opened = co_await open();
  if (!opened) co_return result_;
  (void)co_await transact(prefix, message);
  co_return result_;
}

asio::awaitable<bool> Conversation::open() {
  const bool lmtp = hop_.protocol == Protocol::kLmtp;
  auto greeting = co_await conn_->open(opt_.connect_timeout);
  if (!greeting) {
    fail_all(conn_->error());
    co_return false;
  }
  if (greeting->code != 220) {
    // A refused greeting is about the session, not this message: retry later.
    fail_all("greeting: " + greeting->one_line());
    co_await quit();
    co_return false;
  }
  std::string hello = std::string(lmtp ? "LHLO " : "EHLO ") + opt_.helo_name + "\r\n";
  std::optional<Reply> ehlo = co_await conn_->command(hello, opt_.command_timeout);
  if (ehlo && !ehlo->positive() && !lmtp) {
    ehlo = co_await conn_->command("HELO " + opt_.helo_name + "\r\n", opt_.command_timeout);
    if (ehlo) ehlo->text = ehlo->text.substr(0, ehlo->text.find('\n'));
  }
  if (!ehlo || !ehlo->positive()) {
    fail_all(ehlo ? "EHLO: " + ehlo->one_line() : conn_->error());
    co_await quit();
    co_return false;
  }
  if (opt_.tls != ClientOptions::Tls::kNone || !opt_.auth_user.empty()) {
    const bool go_on = co_await secure_and_authenticate(*ehlo);
    if (!go_on) co_return false;
  }
  ext_ = parse_ehlo(ehlo->text);
  co_return true;
}

asio::awaitable<Conversation::Outcome> Conversation::transact(std::string_view prefix,
                                                              std::string_view message) {
  const bool lmtp = hop_.protocol == Protocol::kLmtp;
  const Extensions& ext = ext_;
  if (env_.smtputf8 && !ext.smtputf8) {
    // RFC 6531 §3.2: the message cannot be delivered without SMTPUTF8.
    decide_undecided(Reply{553, "5.6.7", "next hop does not support SMTPUTF8"});
    co_await quit();
    co_return Outcome::kDone;
  }

  // The envelope: XFORWARD, MAIL, RCPT... pipelined when the peer allows.
  std::vector<std::string> commands;
  if (opt_.send_xforward && !env_.xforward.empty()) {
    commands = xforward_commands(env_.xforward, ext);
  }
  const size_t n_xforward = commands.size();
  std::optional<unsigned long long> size;
  if (env_.size) size = prefix.size() + message.size();
  commands.push_back(mail_command(env_, ext, size));
  for (const Recipient& r : env_.recipients) commands.push_back(rcpt_command(r, ext));

  std::vector<Reply> replies;
  if (ext.pipelining) {
    std::string batch;
    for (const auto& c : commands) batch += c;
    const bool sent = co_await conn_->send(std::move(batch), opt_.command_timeout);
    if (!sent && reused_) co_return Outcome::kStale;
    if (!sent) {
      fail_all(conn_->error());
      co_return Outcome::kDone;
    }
    for (size_t i = 0; i < commands.size(); ++i) {
      auto r = co_await conn_->read_reply(opt_.command_timeout);
      if (i == 0 && reused_ && (!r || r->code == 421)) co_return Outcome::kStale;
      if (!r) {
        fail_all(conn_->error());
        conn_->close();
        co_return Outcome::kDone;
      }
      replies.push_back(std::move(*r));
    }
  } else {
    for (const auto& c : commands) {
      std::optional<Reply> r = co_await conn_->command(c, opt_.command_timeout);
      if (replies.empty() && reused_ && (!r || r->code == 421)) co_return Outcome::kStale;
      if (!r) {
        fail_all(conn_->error());
        conn_->close();
        co_return Outcome::kDone;
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
    co_return Outcome::kDone;
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
    const std::optional<Reply> reset = co_await conn_->command("RSET\r\n", opt_.command_timeout);
    if (reset && reset->positive()) {
      co_await release();
    } else {
      co_await quit();
    }
    co_return Outcome::kDone;
  }

  std::optional<Reply> go = co_await conn_->command("DATA\r\n", opt_.command_timeout);
  if (!go) {
    fail_all(conn_->error());
    conn_->close();
    co_return Outcome::kDone;
  }
  if (go->code != 354) {
    decide_undecided(*go);
    co_await quit();
    co_return Outcome::kDone;
  }

  const bool sent = co_await conn_->send_message(prefix, message, opt_.data_timeout);
  if (!sent) {
    fail_all(conn_->error());
    conn_->close();
    co_return Outcome::kDone;
  }
  // SMTP: one reply for the message. LMTP (RFC 2033 §4.2): one per accepted RCPT.
  const size_t expected = lmtp ? accepted.size() : 1;
  for (size_t k = 0; k < expected; ++k) {
    auto r = co_await conn_->read_reply(opt_.data_timeout);
    if (!r) {
      // The peer may or may not have taken it; only a retry is safe.
      fail_all(conn_->error());
      conn_->close();
      co_return Outcome::kDone;
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
  co_await release();
  co_return Outcome::kDone;
}

asio::awaitable<bool> Conversation::secure_and_authenticate(Reply& ehlo) {
  Extensions ext = parse_ehlo(ehlo.text);
  const bool lmtp = hop_.protocol == Protocol::kLmtp;
  if (opt_.tls != ClientOptions::Tls::kNone && opt_.tls_context) {
    std::optional<Reply> go;
    if (ext.starttls) go = co_await conn_->command("STARTTLS\r\n", opt_.command_timeout);
    if (ext.starttls && !go) {
      fail_all(conn_->error());
      co_return false;
    }
    if (go && go->code == 220) {
      const bool secured = co_await conn_->start_tls(*opt_.tls_context, opt_.connect_timeout);
      if (!secured) {
        fail_all(conn_->error());
        co_return false;
      }
      std::string hello = std::string(lmtp ? "LHLO " : "EHLO ") + opt_.helo_name + "\r\n";
      std::optional<Reply> again = co_await conn_->command(hello, opt_.command_timeout);
      if (!again || !again->positive()) {
        fail_all(again ? "EHLO after STARTTLS: " + again->one_line() : conn_->error());
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
    if (!conn_->tls_active()) {
      fail_all("not sending credentials to " + hop_.str() + " without TLS");
      co_await quit();
      co_return false;
    }
    std::string plain = std::string(1, '\0') + opt_.auth_user + '\0' + opt_.auth_password;
    std::string line = "AUTH PLAIN " + base64_encode(plain) + "\r\n";
    std::fill(plain.begin(), plain.end(), '\0');
    std::optional<Reply> r = co_await conn_->command(std::move(line), opt_.command_timeout);
    if (!r) {
      fail_all(conn_->error());
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
