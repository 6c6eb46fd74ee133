// milter.cc — see milter.h.
#include "filterd/milter.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <variant>

#include "decoders/ascii.h"
#include "filterd/milter_answer.h"
#include "milter/codec.h"
#include "policy/dsn.h"
#include "smtp/command.h"
#include "smtp/deadline.h"

namespace filterd {
namespace asio = boost::asio;
namespace m = milter;

namespace {

// The macro stages, latest first: a name is looked up in the most recent
// stage that defined it (`i`, the queue id, appears from MAIL or RCPT on).
constexpr char kStages[] = {m::command::kEndOfBody, m::command::kBody, m::command::kEndOfHeaders,
                            m::command::kHeader,    m::command::kData, m::command::kRcpt,
                            m::command::kMail,      m::command::kHelo, m::command::kConnect};

// MAIL's and RCPT's arguments as an SMTP command's ("FROM:<a@b> SIZE=1"),
// for smtp::parse_path_args. The MTA has checked them already; what does not
// parse is taken as a bare address.
smtp::PathArgs path_args(const std::vector<std::string>& args, std::string_view prefix) {
  std::string line(prefix);
  for (size_t i = 0; i < args.size(); ++i) line += (i ? " " : "") + args[i];
  if (auto p = smtp::parse_path_args(line, prefix)) return std::move(*p);
  std::string_view a = args.empty() ? std::string_view() : std::string_view(args.front());
  if (a.starts_with('<') && a.ends_with('>') && a.size() >= 2) a = a.substr(1, a.size() - 2);
  return {std::string(a), {}};
}

// A codec error for a log line that already says "milter".
std::string why(const m::Error& e) {
  std::string s = e.message();
  return s.starts_with("milter: ") ? s.substr(8) : s;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// "Name:" + value + CRLF, the message's own bytes again: the value keeps
// its leading space (SMFIP_HDR_LEADSPC) or gets back the one the MTA ate;
// the MTA separates folded lines with LF alone.
// The Received field Postfix's smtpd adds (smtpd_received_header):
// "from HELO (NAME [ADDR]) by HOST (Postfix) with ESMTP id QID for <RCPT>; DATE".
std::string postfix_received(const smtp::Envelope& env, std::string host, const std::string& qid) {
  const smtp::XForward& c = env.xforward;
  if (host.empty()) host = "localhost";
  std::string f = "Received: from " + (c.helo.empty() ? c.name : c.helo) + " (" +
                  (c.name.empty() ? "unknown" : c.name) + " [" + c.addr + "])\r\n\tby " + host +
                  " (Postfix) with ESMTP";
  if (!qid.empty()) f += " id " + qid;
  if (env.recipients.size() == 1) f += "\r\n\tfor <" + env.recipients.front().address + ">";
  return f + "; " + policy::rfc5322_date(std::time(nullptr)) + "\r\n";
}

void append_field(std::string& data, const m::Header& h, bool leading_space) {
  data += h.name;
  data += ':';
  if (!leading_space && !h.value.empty()) data += ' ';
  for (size_t i = 0; i < h.value.size(); ++i) {
    const char c = h.value[i];
    if (c == '\n' && (i == 0 || h.value[i - 1] != '\r')) data += '\r';
    data += c;
  }
  data += "\r\n";
}

class MilterSession {
 public:
  MilterSession(smtp::Socket socket, const Config& config, Processor& processor,
                const bool& stopping)
      : config_(config),
        processor_(processor),
        stopping_(stopping),
        client_{smtp::peer_name(socket), smtp::peer_address(socket), smtp::local_port(socket)},
        conn_(smtp::GuardedSocket::create(std::move(socket))) {}

  asio::awaitable<void> run();

 private:
  // One packet; false: close the connection.
  asio::awaitable<bool> handle(const m::Packet& packet);
  bool on_command(const m::Command& command);
  asio::awaitable<void> end_of_message();
  void on_mail(const m::Mail& mail);
  void on_rcpt(const m::Rcpt& rcpt);
  void append(std::string_view bytes);
  void reset_message();
  std::string macro(std::string_view name) const;
  // "4Bc2Df1Zx" (the queue id) or the MTA's address, to start log lines with.
  std::string who() const;
  void queue(const m::Reply& reply);
  void answer(char command) {
    if (m::expects_reply(command, protocol_)) queue(m::Continue{});
  }
  asio::awaitable<bool> flush();
  bool leading_space() const { return (protocol_ & m::protocol::kHeaderLeadingSpace) != 0; }

  const Config& config_;
  Processor& processor_;
  const bool& stopping_;
  const ClientInfo client_;
  std::shared_ptr<smtp::GuardedSocket> conn_;
  m::MilterDecoder decoder_{m::kDefaultMaxPacket};
  bool negotiated_ = false;
  uint32_t actions_ = 0;
  uint32_t protocol_ = 0;
  std::map<char, std::vector<std::pair<std::string, std::string>>> macros_;
  smtp::XForward client_attrs_;  // the SMTP client, from CONNECT and HELO
  // The message being received.
  smtp::Transaction txn_;
  bool in_message_ = false;     // MAIL seen
  bool headers_ended_ = false;  // the blank line is in txn_.data
  // DATA (or the first header, from an MTA that sends no DATA event): the
  // start of the transaction's receive_time.
  std::optional<std::chrono::steady_clock::time_point> data_since_;
  bool oversized_ = false;  // above max_message_size: no longer buffered
  std::string out_;         // encoded replies not yet written
};

std::string MilterSession::macro(std::string_view name) const {
  std::string braced = name.size() > 1 ? "{" + std::string(name) + "}" : std::string(name);
  for (char stage : kStages) {
    auto it = macros_.find(stage);
    if (it == macros_.end()) continue;
    for (const auto& [k, v] : it->second) {
      if (k == name || k == braced) return v;
    }
  }
  return {};
}

std::string MilterSession::who() const {
  std::string qid = macro("i");
  return qid.empty() ? "milter " + client_.peer : qid + ": milter";
}

void MilterSession::queue(const m::Reply& reply) {
  auto bytes = m::encode_reply(reply);
  if (!bytes) {
    // Only an edit can fail (a header value from the MTA with a bare CR):
    // the message goes on without it.
    spdlog::warn("{}: reply dropped: {}", who(), bytes.error().message());
    return;
  }
  out_ += *bytes;
}

asio::awaitable<bool> MilterSession::flush() {
  if (out_.empty()) co_return true;
  std::string out = std::move(out_);
  out_.clear();
  boost::system::error_code ec;
  conn_->expires_after(config_.smtp_timeout);
  co_await asio::async_write(conn_->socket(), asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

void MilterSession::reset_message() {
  txn_ = smtp::Transaction{};
  in_message_ = headers_ended_ = oversized_ = false;
  data_since_.reset();
  for (char stage : kStages) {
    if (stage != m::command::kConnect && stage != m::command::kHelo) macros_.erase(stage);
  }
}

void MilterSession::append(std::string_view bytes) {
  if (oversized_) return;
  if (txn_.data.size() + bytes.size() > config_.session_limits.max_message_size) {
    oversized_ = true;  // the verdict is 552 at the end of the body; keep nothing
    std::string().swap(txn_.data);
    return;
  }
  txn_.data += bytes;
}

void MilterSession::on_mail(const m::Mail& mail) {
  reset_message();
  in_message_ = true;
  smtp::Envelope& env = txn_.envelope;
  smtp::PathArgs p = path_args(mail.args, "FROM:");
  env.sender = std::move(p.address);
  for (const auto& [key, value] : p.params) {
    if (key == "SIZE") {
      unsigned long long n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && end == value.data() + value.size()) env.size = n;
    } else if (key == "BODY") {
      env.body = upper(value);
    } else if (key == "SMTPUTF8") {
      env.smtputf8 = true;
    } else if (key == "RET") {
      env.ret = upper(value);
    } else if (key == "ENVID" && smtp::is_valid_xtext(value)) {
      env.envid = value;
    }
  }
  if (env.size && *env.size > config_.session_limits.max_message_size) oversized_ = true;
  if (oversized_ && m::expects_reply(m::command::kMail, protocol_)) {
    queue(milter_refusal({552, "5.3.4", "Error: message too big"}));
    return;
  }
  answer(m::command::kMail);
}

void MilterSession::on_rcpt(const m::Rcpt& rcpt) {
  smtp::Envelope& env = txn_.envelope;
  if (env.recipients.size() >= config_.session_limits.max_recipients) {
    // RFC 5321 §4.5.3.1.10: 452 and the client sends the rest later.
    if (m::expects_reply(m::command::kRcpt, protocol_)) {
      queue(milter_refusal({452, "4.5.3", "Error: too many recipients"}));
    }
    return;
  }
  smtp::PathArgs p = path_args(rcpt.args, "TO:");
  smtp::Recipient r{std::move(p.address), "", ""};
  for (const auto& [key, value] : p.params) {
    if (key == "NOTIFY") r.notify = upper(value);
    if (key == "ORCPT") r.orcpt = value;
  }
  env.recipients.push_back(std::move(r));
  answer(m::command::kRcpt);
}

bool MilterSession::on_command(const m::Command& command) {
  if (const auto* o = std::get_if<m::OptNeg>(&command)) {
    auto agreed = m::negotiate(*o);
    if (!agreed) {
      spdlog::warn("{}: {}; closing", who(), why(agreed.error()));
      return false;
    }
    negotiated_ = true;
    actions_ = agreed->actions;
    protocol_ = agreed->protocol;
    queue(*agreed);
    return true;
  }
  if (!negotiated_) {
    spdlog::warn("milter {}: a command before OPTNEG; closing", client_.peer);
    return false;
  }
  if (const auto* d = std::get_if<m::Macros>(&command)) {
    macros_[d->for_command] = d->pairs;
  } else if (const auto* c = std::get_if<m::Connect>(&command)) {
    reset_message();
    client_attrs_ = smtp::XForward{};
    client_attrs_.name = c->hostname;
    if (c->family == m::Family::kInet || c->family == m::Family::kInet6) {
      client_attrs_.addr = c->address;
      client_attrs_.port = std::to_string(c->port);
    }
    answer(m::command::kConnect);
  } else if (const auto* h = std::get_if<m::Helo>(&command)) {
    client_attrs_.helo = h->name;
    answer(m::command::kHelo);
  } else if (const auto* mail = std::get_if<m::Mail>(&command)) {
    on_mail(*mail);
  } else if (const auto* rcpt = std::get_if<m::Rcpt>(&command)) {
    on_rcpt(*rcpt);
  } else if (std::holds_alternative<m::Data>(command)) {
    data_since_ = std::chrono::steady_clock::now();
    answer(m::command::kData);
  } else if (const auto* header = std::get_if<m::Header>(&command)) {
    if (!data_since_) data_since_ = std::chrono::steady_clock::now();
    std::string field;
    append_field(field, *header, leading_space());
    append(field);
    answer(m::command::kHeader);
  } else if (std::holds_alternative<m::EndOfHeaders>(command)) {
    append("\r\n");
    headers_ended_ = true;
    answer(m::command::kEndOfHeaders);
  } else if (const auto* body = std::get_if<m::BodyChunk>(&command)) {
    if (!headers_ended_) {  // no EOH from this MTA: the blank line goes here
      append("\r\n");
      headers_ended_ = true;
    }
    append(body->data);
    answer(m::command::kBody);
  } else if (std::holds_alternative<m::Abort>(command)) {
    reset_message();
  } else if (std::holds_alternative<m::QuitNewConnection>(command)) {
    // The same socket serves a new SMTP session: nothing carries over.
    reset_message();
    macros_.clear();
    client_attrs_ = smtp::XForward{};
  } else if (std::holds_alternative<m::Quit>(command)) {
    return false;
  } else if (std::holds_alternative<m::Unknown>(command)) {
    answer(m::command::kUnknown);
  }
  return true;
}

asio::awaitable<void> MilterSession::end_of_message() {
  const std::string qid = macro("i");
  if (!in_message_ || txn_.envelope.recipients.empty()) {
    spdlog::warn("{}: end of message without MAIL or RCPT; answering tempfail", who());
    queue(m::Tempfail{});
    reset_message();
    co_return;
  }
  if (oversized_) {
    spdlog::info("{}: rejected, message larger than max_message_size ({} bytes)", who(),
                 config_.session_limits.max_message_size);
    queue(milter_refusal({552, "5.3.4", "Error: message too big"}));
    reset_message();
    co_return;
  }
  smtp::Transaction txn = std::move(txn_);
  if (data_since_) txn.receive_time = std::chrono::steady_clock::now() - *data_since_;
  txn.envelope.xforward = client_attrs_;
  txn.envelope.xforward.ident = qid;
  // Postfix hides the Received field it will add from its milters; the
  // spam rules' trust path needs it (without it every message hits
  // NO_RELAYS), so the message is judged as it will be delivered.
  txn.data.insert(0, postfix_received(txn.envelope, macro("j"), qid));
  reset_message();

  conn_->expires_after(std::chrono::hours(24));  // judge_in_time bounds the wait
  std::optional<Judgement> j = co_await processor_.judge_in_time(std::move(txn), client_);
  if (!j) {
    queue(milter_refusal(Processor::late_reply()));
    co_return;
  }
  InDialogOutcome outcome = processor_.in_dialog(*j);
  const MilterAnswer a = milter_answer(*j, outcome, actions_, leading_space(), qid);
  for (const m::Reply& r : a.replies) queue(r);
  for (const std::string& note : a.notes) j->notes.push_back("milter: " + note);
  if (outcome.action == InDialogOutcome::Action::kPass && !a.reply.positive()) {
    outcome.action = InDialogOutcome::Action::kTempfail;  // nobody got it
  }
  j->queued_as = qid;
  // The client waits for this answer; notices and the summary line come after.
  const bool sent = co_await flush();
  if (!sent) j->notes.push_back("milter: MTA gone before the answer");
  co_await processor_.finish_in_dialog(*j, outcome, a.reply);
}

asio::awaitable<bool> MilterSession::handle(const m::Packet& packet) {
  auto command = m::parse_command(packet);
  if (!command) {
    spdlog::warn("{}: {}; closing", who(), why(command.error()));
    co_return false;
  }
  const auto* eob = std::get_if<m::EndOfBody>(&*command);
  if (eob == nullptr || !negotiated_) co_return on_command(*command);
  if (!eob->data.empty()) append(eob->data);  // Sendmail's last chunk
  co_await end_of_message();
  co_return true;
}

asio::awaitable<void> MilterSession::run() {
  spdlog::debug("milter connect from {}", client_.peer);
  char buf[64 * 1024];
  bool open = true;
  while (open) {
    if (stopping_ && !in_message_) break;  // Postfix applies milter_default_action
    // Postfix keeps this connection for its whole SMTP session and waits
    // between events as long as its client does (smtpd_timeout, 300 s).
    conn_->expires_after(config_.data_timeout);
    boost::system::error_code ec;
    const size_t n = co_await conn_->socket().async_read_some(
        asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (conn_->timed_out()) spdlog::info("{}: timeout, closing", who());
      break;
    }
    auto packets = decoder_.feed(std::string_view(buf, n));
    if (!packets) {
      spdlog::warn("{}: {}; closing", who(), why(packets.error()));
      break;
    }
    for (const m::Packet& p : *packets) {
      open = co_await handle(p);
      if (!open) break;
    }
    const bool flushed = co_await flush();
    open = open && flushed;
  }
  conn_->close();
  spdlog::debug("milter disconnect from {}", client_.peer);
}

}  // namespace

asio::awaitable<void> serve_milter(smtp::Socket socket, const Config& config, Processor& processor,
                                   const bool& stopping) {
  MilterSession session(std::move(socket), config, processor, stopping);
  co_await session.run();
}

}  // namespace filterd
