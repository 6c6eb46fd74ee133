// proxy.cc — see proxy.h.
#include "filterd/proxy.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "filterd/session_loop.h"
#include "policy/edits.h"
#include "policy/verdict.h"
#include "smtp/client_connection.h"
#include "smtp/deadline.h"
#include "smtp/server_session.h"

namespace filterd {
namespace asio = boost::asio;
using smtp::RelayRequest;
using smtp::Reply;

namespace {

// One proxied session: the upstream (Postfix's smtpd) and the downstream.
class ProxySession {
 public:
  ProxySession(smtp::Socket socket, const Config& config, Processor& processor,
               const bool& stopping)
      : config_(config),
        processor_(processor),
        stopping_(stopping),
        client_{smtp::peer_name(socket), smtp::peer_address(socket), smtp::local_port(socket)},
        up_(smtp::GuardedSocket::create(std::move(socket))),
        down_(config.proxy_forward),
        session_(session_options(config)) {}

  asio::awaitable<void> run();

 private:
  static smtp::SessionOptions session_options(const Config& config) {
    smtp::SessionOptions o;
    o.hostname = config.myhostname;
    o.limits = config.session_limits;
    o.relay = true;
    return o;
  }
  // Each downstream wait is bounded by the proxy's own budget, so that
  // Postfix (smtpd_proxy_timeout, 100 s) hears from us before it gives up.
  std::chrono::seconds wait(std::chrono::seconds configured) const {
    return std::min(configured, config_.in_dialog_timeout);
  }
  asio::awaitable<bool> write_up(std::string out);
  asio::awaitable<Reply> relay(RelayRequest request);
  // One downstream command; a lost downstream answers 451 from then on.
  asio::awaitable<Reply> down_command(std::string line);
  asio::awaitable<Reply> end_of_data(smtp::Transaction txn);
  asio::awaitable<Reply> forward(const Judgement& j, const InDialogOutcome& out);
  // MAIL and RCPT for `env` on the downstream; the MAIL's reply, or the
  // refusal that stopped the transaction (then reset).
  asio::awaitable<Reply> open_transaction(smtp::Envelope env);
  asio::awaitable<void> reset_downstream();
  Reply down_failed() const { return {451, "4.4.1", "Error: next hop failed: " + down_error_}; }

  const Config& config_;
  Processor& processor_;
  const bool& stopping_;
  const ClientInfo client_;
  std::shared_ptr<smtp::GuardedSocket> up_;
  smtp::ClientConnection down_;
  smtp::Extensions ext_;
  std::string down_error_;  // non-empty once the downstream failed
  smtp::ServerSession session_;
};

asio::awaitable<bool> ProxySession::write_up(std::string out) {
  co_return co_await write_to(*up_, std::move(out), config_.smtp_timeout);
}

asio::awaitable<Reply> ProxySession::down_command(std::string line) {
  if (!down_error_.empty()) co_return down_failed();
  std::optional<Reply> r =
      co_await down_.command(std::move(line), wait(config_.forward_options.command_timeout));
  if (!r) {
    down_error_ = down_.error();
    down_.close();
    spdlog::warn("proxy {}: downstream {} failed: {}", client_.peer, config_.proxy_forward.str(),
                 down_error_);
    co_return down_failed();
  }
  if (r->code == 421) {  // the downstream is closing: nothing more goes through it
    down_error_ = r->one_line();
    down_.close();
  }
  co_return *r;
}

asio::awaitable<Reply> ProxySession::relay(RelayRequest request) {
  using V = RelayRequest::Verb;
  switch (request.verb) {
    case V::kHelo:
    case V::kEhlo: {
      std::string line = request.verb == V::kEhlo ? "EHLO " : "HELO ";
      line += request.helo + "\r\n";
      Reply r = co_await down_command(std::move(line));
      if (r.positive()) ext_ = smtp::parse_ehlo(r.text);
      co_return r;
    }
    case V::kMail: {
      // XFORWARD goes with the MAIL it describes; the downstream refusing
      // it only costs log detail.
      if (config_.forward_options.send_xforward) {
        for (std::string& x : smtp::xforward_commands(request.envelope.xforward, ext_)) {
          (void)co_await down_command(std::move(x));
        }
      }
      std::string mail = smtp::mail_command(request.envelope, ext_, request.envelope.size);
      co_return co_await down_command(std::move(mail));
    }
    case V::kRcpt: {
      std::string rcpt = smtp::rcpt_command(request.recipient, ext_);
      co_return co_await down_command(std::move(rcpt));
    }
    case V::kRset:
      co_return co_await down_command("RSET\r\n");
  }
  co_return down_failed();
}

asio::awaitable<void> ProxySession::reset_downstream() {
  Reply r = co_await down_command("RSET\r\n");
  if (!r.positive() && down_error_.empty()) {
    spdlog::warn("proxy {}: downstream RSET: {}", client_.peer, r.one_line());
  }
}

asio::awaitable<Reply> ProxySession::forward(const Judgement& j, const InDialogOutcome& out) {
  const smtp::Envelope& env = j.txn.envelope;
  const policy::EditedMessage e = policy::apply_edits(j.message(), out.edits);
  const std::string_view body = j.message().substr(e.keep_from);
  bool same_envelope = true;
  for (size_t i = 0; i < env.recipients.size(); ++i) {
    same_envelope &= out.deliver_to[i] == env.recipients[i].address;
  }
  if (!same_envelope) {
    // The downstream holds RCPTs some of which must not get the message (or
    // must get it at another address): start the transaction over.
    co_await reset_downstream();
    smtp::Envelope copy = env;
    copy.recipients.clear();
    for (size_t i = 0; i < env.recipients.size(); ++i) {
      if (!out.deliver_to[i]) continue;
      copy.recipients.push_back(env.recipients[i]);
      copy.recipients.back().address = *out.deliver_to[i];
    }
    const Reply opened = co_await open_transaction(copy);
    if (!opened.positive()) co_return opened;
  }
  Reply go = co_await down_command("DATA\r\n");
  if (go.code != 354) co_return go;
  const auto data_wait = wait(config_.forward_options.data_timeout);
  const bool sent = co_await down_.send_message(e.head, body, data_wait);
  std::optional<Reply> r;
  if (sent) r = co_await down_.read_reply(data_wait);
  if (!r) {
    // The downstream may or may not have the message: only a retry is safe.
    down_error_ = down_.error();
    down_.close();
    co_return down_failed();
  }
  co_return *r;
}

asio::awaitable<Reply> ProxySession::open_transaction(smtp::Envelope env) {
  RelayRequest mail_request{RelayRequest::Verb::kMail, "", env, {}};
  const Reply mail = co_await relay(std::move(mail_request));
  if (!mail.positive()) co_return mail;
  std::optional<Reply> refused;
  for (const smtp::Recipient& r : env.recipients) {
    RelayRequest rcpt_request{RelayRequest::Verb::kRcpt, "", {}, r};
    const Reply rcpt = co_await relay(std::move(rcpt_request));
    if (!rcpt.positive() && (!refused || rcpt.transient())) refused = rcpt;
  }
  if (!refused) co_return mail;
  // All or nothing, as the client's one reply covers every recipient.
  co_await reset_downstream();
  co_return refused->transient() || env.recipients.size() == 1
      ? *refused
      : Reply{451, "4.5.0", "Error: the next hop refused a recipient: " + refused->one_line()};
}

asio::awaitable<Reply> ProxySession::end_of_data(smtp::Transaction txn) {
  using Action = InDialogOutcome::Action;
  std::optional<Judgement> j = co_await processor_.judge_in_time(std::move(txn), client_);
  if (!j) {
    co_await reset_downstream();
    co_return Processor::late_reply();
  }
  const InDialogOutcome out = processor_.in_dialog(*j);
  Reply reply = out.reply;
  if (out.action == Action::kPass) {
    const auto start = std::chrono::steady_clock::now();
    reply = co_await forward(*j, out);
    j->times.forward += std::chrono::steady_clock::now() - start;  // the relay downstream
  } else {
    co_await reset_downstream();
  }
  co_await processor_.finish_in_dialog(*j, out, reply);
  co_return reply;
}

asio::awaitable<void> ProxySession::run() {
  spdlog::debug("proxy connect from {}", client_.peer);
  std::optional<Reply> greeting =
      co_await down_.open(wait(config_.forward_options.connect_timeout));
  if (!greeting || greeting->code != 220) {
    // Postfix tells its client 451 and keeps nothing: the client retries.
    const std::string why = greeting ? greeting->one_line() : down_.error();
    spdlog::warn("proxy {}: downstream {} not available: {}", client_.peer,
                 config_.proxy_forward.str(), why);
    std::string refusal =
        Reply{421, "4.4.1", config_.myhostname + " Error: next hop not available"}.wire();
    (void)co_await write_up(std::move(refusal));
    up_->close();
    co_return;
  }

  co_await drive_session(
      *up_, session_, config_, stopping_, client_.peer,
      [this](std::chrono::steady_clock::duration receive) -> asio::awaitable<bool> {
        if (session_.state() == smtp::ServerSession::State::kAwaitingRelay) {
          RelayRequest request = session_.relay_request();
          const Reply relayed = co_await relay(std::move(request));
          session_.finish_relay(relayed);
          co_return true;
        }
        const bool written = co_await write_up(session_.take_output());
        if (!written) co_return false;
        up_->expires_after(std::chrono::hours(24));  // bounded by end_of_data
        smtp::Transaction txn = session_.take_transaction();
        txn.receive_time = receive;
        const Reply reply = co_await end_of_data(std::move(txn));
        session_.finish_data({reply});
        co_return true;
      });
  if (down_.is_open()) co_await down_.quit();
  spdlog::debug("proxy disconnect from {} {}", client_.peer, session_.command_counts().summary());
}

}  // namespace

asio::awaitable<void> serve_proxy(smtp::Socket socket, const Config& config, Processor& processor,
                                  const bool& stopping) {
  ProxySession session(std::move(socket), config, processor, stopping);
  co_await session.run();
}

}  // namespace filterd
