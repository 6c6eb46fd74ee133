// server_session.cc — SMTP/LMTP server state machine (see server_session.h).
#include "smtp/server_session.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "smtp/command.h"

namespace filterd::smtp {
namespace {

// RFC 3461 §4.4: ENVID is at most 100 characters.
constexpr size_t kMaxEnvidLength = 100;
// RFC 3461 §4.2: ORCPT is at most 500 characters.
constexpr size_t kMaxOrcptLength = 500;
// A DATA segment without any LF is consumed once it is this long, so that a
// client sending one endless line cannot make us buffer it whole.
constexpr size_t kMaxBufferedSegment = 64 * 1024;

bool valid_notify(std::string_view v) {
  if (v == "NEVER") return true;
  if (v.empty()) return false;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    if (item != "SUCCESS" && item != "FAILURE" && item != "DELAY") return false;
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    if (comma != std::string_view::npos && v.empty()) return false;
  }
  return true;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

}  // namespace

ServerSession::ServerSession(SessionOptions options)
    : options_(std::move(options)), tls_active_(options_.tls_active) {}

std::string ServerSession::greeting() const {
  if (!options_.banner.empty()) return Reply{220, "", options_.banner}.wire();
  return Reply{
      220, "",
      options_.hostname + (options_.protocol == Protocol::kLmtp ? " LMTP" : " ESMTP") + " filterd"}
      .wire();
}

std::string ServerSession::take_output() {
  return std::exchange(output_, {});
}

void ServerSession::reply(int code, std::string_view status, std::string_view text) {
  output_ += Reply{code, std::string(status), std::string(text)}.wire();
}

void ServerSession::error_reply(int code, std::string_view status, std::string_view text) {
  reply(code, status, text);
  if (++errors_ >= options_.limits.max_errors) {
    reply(421, "4.7.0", options_.hostname + " Error: too many errors");
    state_ = State::kClosed;
  }
}

void ServerSession::feed(std::string_view bytes) {
  if (state_ == State::kClosed) return;
  if (input_pos_ > 0 && input_pos_ >= input_.size() / 2) {
    input_.erase(0, input_pos_);
    input_pos_ = 0;
  }
  input_.append(bytes);
  process();
}

void ServerSession::process() {
  while (state_ == State::kCommand || state_ == State::kData) {
    const char* base = input_.data() + input_pos_;
    size_t avail = input_.size() - input_pos_;
    const char* nl = static_cast<const char*>(std::memchr(base, '\n', avail));
    if (nl == nullptr) {
      if (state_ == State::kCommand && avail > options_.limits.max_command_line) {
        if (!skipping_long_line_) error_reply(500, "5.5.2", "Error: line too long");
        skipping_long_line_ = true;
        input_pos_ = input_.size();
      } else if (state_ == State::kData && avail > kMaxBufferedSegment) {
        // Keep the last byte: it may be the CR of a CRLF split across reads.
        handle_data_line(std::string_view(base, avail - 1));
        input_pos_ += avail - 1;
      }
      return;
    }
    size_t len = static_cast<size_t>(nl - base) + 1;
    std::string_view segment(base, len);
    input_pos_ += len;
    if (state_ == State::kData) {
      handle_data_line(segment);
      continue;
    }
    if (skipping_long_line_) {  // the tail of an over-long command line
      skipping_long_line_ = false;
      continue;
    }
    std::string_view line = segment.substr(0, len - 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > options_.limits.max_command_line) {
      auth_step_ = AuthStep::kNone;
      error_reply(500, "5.5.2", "Error: line too long");
      continue;
    }
    if (auth_step_ != AuthStep::kNone) {
      handle_auth_response(line);
      continue;
    }
    handle_command(line);
  }
}

// Called with one LF-terminated segment of DATA input, or with a long piece of
// a line that has no LF yet. Lines end only at CRLF; see the file header.
void ServerSession::handle_data_line(std::string_view seg) {
  const bool crlf_end = seg.size() >= 2 && seg.ends_with("\r\n");
  if (data_at_line_start_) {
    if (seg == ".\r\n") {
      end_of_data();
      return;
    }
    if (!seg.empty() && seg.front() == '.') seg.remove_prefix(1);  // RFC 5321 §4.5.2
  }
  data_at_line_start_ = crlf_end;
  data_size_ += seg.size();
  if (data_size_ > options_.limits.max_message_size) {
    if (!data_too_big_) {
      data_too_big_ = true;
      std::string().swap(txn_.data);
    }
    return;
  }
  txn_.data.append(seg);
}

void ServerSession::end_of_data() {
  if (data_too_big_) {
    reply(552, "5.3.4", "Error: message file too big");
    reset_transaction();
    state_ = State::kCommand;
    return;
  }
  state_ = State::kAwaitingVerdict;
}

Transaction ServerSession::take_transaction() {
  Transaction out = std::move(txn_);
  txn_ = Transaction{};
  return out;
}

void ServerSession::finish_data(const std::vector<Reply>& replies) {
  for (const Reply& r : replies) output_ += r.wire();
  if (!replies.empty() && replies.front().positive()) ++counts_.succeeded[CommandCounts::kData];
  ++transactions_;
  reset_transaction();
  state_ = State::kCommand;
  process();
}

void ServerSession::on_timeout() {
  if (state_ == State::kClosed) return;
  reply(421, "4.4.2", options_.hostname + " Error: timeout exceeded");
  state_ = State::kClosed;
}

void ServerSession::on_shutdown() {
  if (state_ == State::kClosed) return;
  reply(421, "4.3.2", options_.hostname + " Service shutting down, closing channel");
  state_ = State::kClosed;
}

void ServerSession::reset_transaction() {
  txn_ = Transaction{};
  have_mail_ = false;
  data_too_big_ = false;
  data_size_ = 0;
  data_at_line_start_ = true;
  xforward_ = XForward{};  // XFORWARD_README: attributes last one transaction
}

static CommandCounts::Verb command_verb(std::string_view v) {
  using C = CommandCounts;
  static constexpr std::pair<std::string_view, C::Verb> kVerbs[] = {
      {"HELO", C::kHelo}, {"EHLO", C::kEhlo}, {"LHLO", C::kEhlo},        {"STARTTLS", C::kStarttls},
      {"AUTH", C::kAuth}, {"MAIL", C::kMail}, {"RCPT", C::kRcpt},        {"DATA", C::kData},
      {"BDAT", C::kBdat}, {"RSET", C::kRset}, {"NOOP", C::kNoop},        {"VRFY", C::kVrfy},
      {"ETRN", C::kEtrn}, {"QUIT", C::kQuit}, {"XFORWARD", C::kXforward}};
  for (const auto& [name, verb] : kVerbs) {
    if (v == name) return verb;
  }
  return C::kUnknown;
}

std::string CommandCounts::summary() const {
  std::string out;
  unsigned ok = 0, total = 0;
  for (size_t i = 0; i < kVerbs; ++i) {
    if (attempted[i] == 0) continue;
    ok += succeeded[i];
    total += attempted[i];
    out += std::string(kNames[i]) + "=" + std::to_string(succeeded[i]);
    if (succeeded[i] != attempted[i]) out += "/" + std::to_string(attempted[i]);
    out += ' ';
  }
  out += "commands=" + std::to_string(ok);
  if (ok != total) out += "/" + std::to_string(total);
  return out;
}

void ServerSession::handle_command(std::string_view line) {
  const CommandCounts::Verb verb = command_verb(split_command(line).verb);
  const size_t before = output_.size();
  dispatch_command(line);
  ++counts_.attempted[verb];
  if (state_ == State::kAwaitingRelay) return;  // counted in finish_relay()
  // The final reply line decides; DATA's 354 is not success yet (finish_data).
  // AUTH succeeds only in finish_auth().
  if (output_.size() < before + 3 || verb == CommandCounts::kData || verb == CommandCounts::kAuth) {
    return;
  }
  size_t start = output_.rfind("\r\n", output_.size() - 3);
  start = start == std::string::npos || start + 2 < before ? before : start + 2;
  if (output_[start] == '2' || output_[start] == '3') ++counts_.succeeded[verb];
}

void ServerSession::dispatch_command(std::string_view line) {
  CommandLine cmd = split_command(line);
  const std::string& v = cmd.verb;
  const bool lmtp = options_.protocol == Protocol::kLmtp;
  if (v == "EHLO" || v == "HELO" || v == "LHLO") {
    if (lmtp != (v == "LHLO")) {  // RFC 2033 §4.1
      error_reply(
          500, "5.5.1",
          "Error: command not recognized (use " + std::string(lmtp ? "LHLO" : "EHLO") + ")");
      return;
    }
    handle_ehlo(v, cmd.args);
  } else if (v == "MAIL") {
    handle_mail(cmd.args);
  } else if (v == "RCPT") {
    handle_rcpt(cmd.args);
  } else if (v == "DATA") {
    if (!cmd.args.empty()) return error_reply(501, "5.5.4", "Syntax: DATA");
    handle_data();
  } else if (v == "RSET") {
    if (!cmd.args.empty()) return error_reply(501, "5.5.4", "Syntax: RSET");
    if (options_.relay) return await_relay({RelayRequest::Verb::kRset, "", {}, {}});
    reset_transaction();
    reply(250, "2.0.0", "Ok");
  } else if (v == "NOOP") {
    reply(250, "2.0.0", "Ok");
  } else if (v == "QUIT") {
    reply(221, "2.0.0", "Bye");
    state_ = State::kClosed;
  } else if (v == "XFORWARD") {
    handle_xforward(cmd.args);
  } else if (v == "VRFY") {
    reply(252, "2.0.0", "Cannot VRFY user, but will accept message");
  } else if (v == "HELP") {
    reply(214, "2.0.0", "See RFC 5321");
  } else if (v == "STARTTLS" && options_.offer_starttls) {
    handle_starttls(cmd.args);
  } else if (v == "AUTH" && !options_.auth_mechanisms.empty()) {
    handle_auth(cmd.args);
  } else if (v == "STARTTLS" || v == "AUTH" || v == "BDAT" || v == "ETRN" || v == "EXPN" ||
             v == "TURN") {
    error_reply(502, "5.5.1", "Error: command not implemented");
  } else {
    error_reply(500, "5.5.2", "Error: command not recognized");
  }
}

void ServerSession::handle_ehlo(std::string_view verb, std::string_view args) {
  if (args.empty()) return error_reply(501, "5.5.4", "Syntax: " + std::string(verb) + " hostname");
  reset_transaction();
  helo_ = std::string(args);
  if (options_.relay) {
    using V = RelayRequest::Verb;
    return await_relay({verb == "HELO" ? V::kHelo : V::kEhlo, helo_, {}, {}});
  }
  ehlo_reply(verb != "HELO");
}

void ServerSession::ehlo_reply(bool esmtp) {
  greeted_ = true;
  esmtp_ = esmtp;
  if (!esmtp) {
    reply(250, "", options_.hostname);
    return;
  }
  std::string text = options_.hostname;
  text += "\nPIPELINING\nSIZE " + std::to_string(options_.limits.max_message_size);
  if (options_.offer_starttls && !tls_active_) text += "\nSTARTTLS";
  if (auth_offered()) {
    text += "\nAUTH " + options_.auth_mechanisms;
    if (options_.auth_broken_clients) text += "\nAUTH=" + options_.auth_mechanisms;
  }
  text += "\n8BITMIME\nENHANCEDSTATUSCODES\nDSN\nSMTPUTF8";
  if (options_.allow_xforward) text += "\nXFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE";
  reply(250, "", text);
}

void ServerSession::handle_mail(std::string_view args) {
  if (!greeted_) return error_reply(503, "5.5.1", "Error: send HELO/EHLO first");
  if (have_mail_) return error_reply(503, "5.5.1", "Error: nested MAIL command");
  auto parsed = parse_path_args(args, "FROM:");
  if (!parsed) return error_reply(501, parsed.error().status, parsed.error().text);
  Envelope env;
  env.sender = std::move(parsed->address);
  for (auto& [key, value] : parsed->params) {
    if (key == "SIZE") {
      unsigned long long n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size()) {
        return error_reply(501, "5.5.4", "Bad SIZE syntax");
      }
      if (n > options_.limits.max_message_size) {  // RFC 1870 §6.1
        return error_reply(552, "5.3.4", "Message size exceeds fixed limit");
      }
      env.size = n;
    } else if (key == "BODY") {
      std::string b = upper(value);
      if (b != "7BIT" && b != "8BITMIME") {
        return error_reply(555, "5.5.4", "Unsupported BODY parameter");
      }
      env.body = b;
    } else if (key == "RET") {
      std::string r = upper(value);
      if (r != "FULL" && r != "HDRS") return error_reply(501, "5.5.4", "Bad RET parameter");
      env.ret = r;
    } else if (key == "ENVID") {
      if (value.size() > kMaxEnvidLength || !is_valid_xtext(value)) {
        return error_reply(501, "5.5.4", "Bad ENVID parameter");
      }
      env.envid = value;
    } else if (key == "SMTPUTF8") {
      if (!value.empty()) return error_reply(501, "5.5.4", "SMTPUTF8 takes no value");
      env.smtputf8 = true;
    } else if (key == "AUTH") {
      // RFC 4954 §5: accepted and not passed on (we do not authenticate).
    } else {
      return error_reply(555, "5.5.4", "Unsupported option: " + key);
    }
  }
  if (has_8bit(env.sender) && !env.smtputf8) {
    return error_reply(553, "5.6.7", "Non-ASCII sender requires SMTPUTF8");  // RFC 6531 §3.5
  }
  env.xforward = xforward_;
  if (options_.relay) return await_relay({RelayRequest::Verb::kMail, "", std::move(env), {}});
  txn_.envelope = std::move(env);
  have_mail_ = true;
  reply(250, "2.1.0", "Ok");
}

void ServerSession::handle_rcpt(std::string_view args) {
  if (!have_mail_) return error_reply(503, "5.5.1", "Error: need MAIL command");
  if (txn_.envelope.recipients.size() >= options_.limits.max_recipients) {
    return reply(452, "4.5.3", "Error: too many recipients");  // RFC 5321 §4.5.3.1.10
  }
  auto parsed = parse_path_args(args, "TO:");
  if (!parsed) return error_reply(501, parsed.error().status, parsed.error().text);
  if (parsed->address.empty()) return error_reply(553, "5.1.3", "Error: empty recipient");
  Recipient rcpt;
  rcpt.address = std::move(parsed->address);
  for (auto& [key, value] : parsed->params) {
    if (key == "NOTIFY") {
      std::string n = upper(value);
      if (!valid_notify(n)) return error_reply(501, "5.5.4", "Bad NOTIFY parameter");
      rcpt.notify = n;
    } else if (key == "ORCPT") {
      size_t semi = value.find(';');
      if (semi == std::string::npos || semi == 0 || value.size() > kMaxOrcptLength ||
          !is_valid_xtext(std::string_view(value).substr(semi + 1))) {
        return error_reply(501, "5.5.4", "Bad ORCPT parameter");
      }
      rcpt.orcpt = value;
    } else {
      return error_reply(555, "5.5.4", "Unsupported option: " + key);
    }
  }
  if (has_8bit(rcpt.address) && !txn_.envelope.smtputf8) {
    return error_reply(553, "5.6.7", "Non-ASCII recipient requires SMTPUTF8");
  }
  if (options_.check_recipient) {
    if (std::optional<Reply> refused = options_.check_recipient(txn_.envelope, rcpt)) {
      return error_reply(refused->code, refused->status, refused->text);
    }
  }
  if (options_.relay) {
    return await_relay({RelayRequest::Verb::kRcpt, "", txn_.envelope, std::move(rcpt)});
  }
  txn_.envelope.recipients.push_back(std::move(rcpt));
  reply(250, "2.1.5", "Ok");
}

void ServerSession::await_relay(RelayRequest request) {
  relay_ = std::move(request);
  state_ = State::kAwaitingRelay;
}

void ServerSession::finish_relay(const Reply& r) {
  using V = RelayRequest::Verb;
  static constexpr CommandCounts::Verb kCounted[] = {CommandCounts::kHelo, CommandCounts::kEhlo,
                                                     CommandCounts::kMail, CommandCounts::kRcpt,
                                                     CommandCounts::kRset};
  state_ = State::kCommand;
  const bool ok = r.positive() || relay_.verb == V::kRset;
  if (ok) ++counts_.succeeded[kCounted[static_cast<int>(relay_.verb)]];
  if (!ok) {
    error_reply(r.code, r.status, r.text);
  } else if (relay_.verb == V::kHelo || relay_.verb == V::kEhlo) {
    ehlo_reply(relay_.verb == V::kEhlo);
  } else if (relay_.verb == V::kMail) {
    txn_.envelope = std::move(relay_.envelope);
    have_mail_ = true;
    output_ += r.wire();
  } else if (relay_.verb == V::kRcpt) {
    txn_.envelope.recipients.push_back(std::move(relay_.recipient));
    output_ += r.wire();
  } else {
    reset_transaction();
    reply(250, "2.0.0", "Ok");
  }
  relay_ = RelayRequest{};
  if (state_ == State::kCommand) process();
}

void ServerSession::handle_data() {
  if (!have_mail_) return error_reply(503, "5.5.1", "Error: need RCPT command");
  if (txn_.envelope.recipients.empty()) {
    return error_reply(554, "5.5.1", "Error: no valid recipients");
  }
  reply(354, "", "End data with <CR><LF>.<CR><LF>");
  state_ = State::kData;
  data_at_line_start_ = true;
  data_size_ = 0;
  if (txn_.envelope.size) {
    txn_.data.reserve(std::min<uint64_t>(*txn_.envelope.size, options_.limits.max_message_size));
  }
}

void ServerSession::handle_xforward(std::string_view args) {
  if (!options_.allow_xforward) return error_reply(502, "5.5.1", "Error: command not implemented");
  if (!greeted_) return error_reply(503, "5.5.1", "Error: send HELO/EHLO first");
  if (have_mail_) return error_reply(503, "5.5.1", "Error: MAIL transaction in progress");
  if (args.empty()) return error_reply(501, "5.5.4", "Syntax: XFORWARD attribute=value...");
  XForward next = xforward_;
  while (!args.empty()) {
    size_t sp = args.find(' ');
    std::string_view item = args.substr(0, sp);
    args = sp == std::string_view::npos ? std::string_view() : args.substr(sp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return error_reply(501, "5.5.4", "Bad XFORWARD syntax");
    std::string key = upper(item.substr(0, eq));
    auto value = xtext_decode(item.substr(eq + 1));
    if (!value) return error_reply(501, "5.5.4", "Bad XFORWARD attribute value");
    std::string* slot = key == "NAME"     ? &next.name
                        : key == "ADDR"   ? &next.addr
                        : key == "PORT"   ? &next.port
                        : key == "PROTO"  ? &next.proto
                        : key == "HELO"   ? &next.helo
                        : key == "IDENT"  ? &next.ident
                        : key == "SOURCE" ? &next.source
                                          : nullptr;
    if (slot == nullptr) return error_reply(501, "5.5.4", "Bad XFORWARD attribute: " + key);
    *slot = std::move(*value);
  }
  xforward_ = std::move(next);
  reply(250, "2.0.0", "Ok");
}

bool ServerSession::auth_offered() const {
  return !options_.auth_mechanisms.empty() && (tls_active_ || !options_.auth_requires_tls);
}

void ServerSession::handle_starttls(std::string_view args) {
  if (!args.empty()) return error_reply(501, "5.5.4", "Syntax: STARTTLS");
  if (tls_active_) return error_reply(554, "5.5.1", "Error: TLS already active");
  if (!greeted_) return error_reply(503, "5.5.1", "Error: send HELO/EHLO first");
  reply(220, "2.0.0", "Ready to start TLS");
  state_ = State::kStartTls;
}

void ServerSession::tls_started() {
  tls_active_ = true;
  // RFC 3207 §4.2: forget all knowledge obtained from the client before.
  reset_transaction();
  greeted_ = false;
  esmtp_ = false;
  helo_.clear();
  auth_user_.clear();
  auth_mechanism_.clear();
  auth_step_ = AuthStep::kNone;
  input_.clear();  // pipelined after STARTTLS, in clear text: never executed
  input_pos_ = 0;
  skipping_long_line_ = false;
  state_ = State::kCommand;
}

void ServerSession::handle_auth(std::string_view args) {
  if (!auth_offered()) return error_reply(503, "5.5.1", "Error: authentication not enabled");
  if (!greeted_ || !esmtp_) return error_reply(503, "5.5.1", "Error: send EHLO first");
  if (authenticated()) return error_reply(503, "5.5.1", "Error: already authenticated");
  if (have_mail_) return error_reply(503, "5.5.1", "Error: MAIL transaction in progress");
  const size_t sp = args.find(' ');
  const std::string mech = upper(args.substr(0, sp));
  std::string_view initial =
      sp == std::string_view::npos ? std::string_view() : args.substr(sp + 1);
  bool offered = false;
  for (std::string_view m = options_.auth_mechanisms; !m.empty();) {
    const size_t s = m.find(' ');
    offered |= m.substr(0, s) == mech;
    m = s == std::string_view::npos ? std::string_view() : m.substr(s + 1);
  }
  if (mech.empty()) return error_reply(501, "5.5.4", "Syntax: AUTH mechanism");
  if (!offered || (mech != "PLAIN" && mech != "LOGIN")) {
    return error_reply(504, "5.5.4", "Error: unsupported authentication mechanism");
  }
  auth_ = AuthRequest{mech, {}};
  if (mech == "PLAIN") {
    auth_step_ = AuthStep::kPlain;
    if (initial.empty()) return reply(334, "", "");
  } else {
    auth_step_ = AuthStep::kLoginUser;
    if (initial.empty()) return reply(334, "", "VXNlcm5hbWU6");  // "Username:"
  }
  handle_auth_response(initial == "=" ? std::string_view() : initial);  // RFC 4954 §4
}

void ServerSession::handle_auth_response(std::string_view line) {
  const AuthStep step = std::exchange(auth_step_, AuthStep::kNone);
  if (line == "*") return error_reply(501, "5.7.0", "Authentication aborted");
  auto decoded = base64_decode(line);
  if (!decoded) return error_reply(501, "5.5.2", "Cannot decode response");
  switch (step) {
    case AuthStep::kPlain: {
      auto creds = parse_plain(*decoded);
      if (!creds)
        return error_reply(535, "5.7.8", "Error: authentication failed: bad PLAIN message");
      auth_.credentials = std::move(*creds);
      break;
    }
    case AuthStep::kLoginUser:
      if (decoded->empty()) return error_reply(535, "5.7.8", "Error: authentication failed");
      auth_.credentials.authcid = std::move(*decoded);
      auth_step_ = AuthStep::kLoginPassword;
      return reply(334, "", "UGFzc3dvcmQ6");  // "Password:"
    case AuthStep::kLoginPassword:
      if (decoded->empty()) return error_reply(535, "5.7.8", "Error: authentication failed");
      auth_.credentials.password = std::move(*decoded);
      break;
    case AuthStep::kNone:
      return;
  }
  state_ = State::kAwaitingAuth;
}

AuthRequest ServerSession::take_auth_request() {
  AuthRequest out = std::move(auth_);
  auth_ = AuthRequest{out.mechanism, {}};  // the secret leaves with `out`
  return out;
}

void ServerSession::finish_auth(const Reply& r, const std::string& username) {
  state_ = State::kCommand;
  if (r.positive()) {
    ++counts_.succeeded[CommandCounts::kAuth];
    auth_user_ = username;
    auth_mechanism_ = auth_.mechanism;
    reply(r.code, r.status, r.text);
  } else {
    error_reply(r.code, r.status, r.text);
  }
  if (state_ == State::kCommand) process();
}

}  // namespace filterd::smtp
