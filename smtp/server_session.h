// server_session.h — the server side of one SMTP or LMTP connection as a
// state machine fed with bytes. No sockets, no clocks: the caller reads from
// the network, calls feed(), writes take_output(), and arms its own timers.
//
// Protocol stance
//   * ESMTP per RFC 5321 with PIPELINING (RFC 2920), SIZE (RFC 1870),
//     8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034), DSN (RFC 3461),
//     SMTPUTF8 (RFC 6531) and Postfix's XFORWARD. LMTP per RFC 2033.
//   * Commands end at CRLF; a bare LF is accepted as a command terminator.
//   * The DATA phase ends only at <CRLF>.<CRLF>. A bare LF or bare CR inside
//     DATA is message content, never a line end, so "\n.\n" cannot end the
//     message (no SMTP smuggling). The reinjection client writes such bytes
//     as CRLF with dot-stuffing, so the next hop cannot be fooled either.
//   * Every limit is named in SessionLimits; hitting one produces a reply,
//     never unbounded memory.
//
// Flow: after the end of DATA the session holds a Transaction and stops
// reading input (pipelined commands stay buffered) until finish_data()
// supplies the replies — one for SMTP, one per accepted recipient for LMTP.
//
// STARTTLS (RFC 3207) and AUTH (RFC 4954, PLAIN and LOGIN), for frontd; off
// unless SessionOptions asks for them. After "220 Ready to start TLS" the
// session stops in kStartTls: the caller handshakes and calls tls_started(),
// which forgets everything said before (state, EHLO, and any bytes pipelined
// after STARTTLS: no command injection, CVE-2011-0411). An AUTH exchange
// ends in kAwaitingAuth with an AuthRequest; the caller verifies it and
// calls finish_auth(). Credentials are never put in a reply.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/envelope.h"
#include "smtp/reply.h"
#include "smtp/sasl.h"

namespace filterd::smtp {

enum class Protocol { kSmtp, kLmtp };

struct SessionLimits {
  // RFC 5321 §4.5.3.1.4 allows 512; extensions (XFORWARD, ORCPT) need more.
  // Postfix's line_length_limit is 2048.
  size_t max_command_line = 2048;
  // Message size limit in bytes (Postfix message_size_limit default 10 MB;
  // a content filter sees mail its MTA accepted, so default higher).
  uint64_t max_message_size = 50ull << 20;
  // Postfix smtpd_recipient_limit default.
  size_t max_recipients = 1000;
  // Postfix smtpd_hard_error_limit default: disconnect after this many errors.
  unsigned max_errors = 20;
  // Bounded input buffering while a verdict is pending (pipelined commands).
  size_t max_pending_input = 64 * 1024;
};

struct SessionOptions {
  Protocol protocol = Protocol::kSmtp;
  std::string hostname = "localhost";
  SessionLimits limits;
  bool allow_xforward = true;
  // The greeting's text after "220 " (Postfix smtpd_banner, expanded). Empty:
  // "<hostname> ESMTP filterd" (or LMTP).
  std::string banner;
  // Called for every syntactically valid RCPT TO before it is accepted, with
  // the envelope so far. A reply refuses the recipient (it counts as an error,
  // like Postfix's rejects); nullopt accepts it. Unset: every recipient is
  // accepted (filterd: its MTA already decided). Runs synchronously inside
  // feed(), so it must not block.
  std::function<std::optional<Reply>(const Envelope&, const Recipient&)> check_recipient;
  // Offer STARTTLS (until TLS is active).
  bool offer_starttls = false;
  // TLS from the first byte (SMTPS, RFC 8314).
  bool tls_active = false;
  // SASL mechanisms to offer, upper case, space separated ("PLAIN LOGIN");
  // empty: no AUTH. Only PLAIN and LOGIN are implemented.
  std::string auth_mechanisms;
  // AUTH only under TLS (Postfix smtpd_tls_auth_only).
  bool auth_requires_tls = true;
  // Also advertise "AUTH=PLAIN LOGIN" (Postfix broken_sasl_auth_clients).
  bool auth_broken_clients = false;
  // Before-queue proxy: a valid EHLO/HELO, MAIL, RCPT or RSET is not
  // answered here but handed to the caller (kAwaitingRelay), which relays
  // it downstream and calls finish_relay() with the downstream's reply.
  bool relay = false;
};

// A command for the caller to relay downstream (SessionOptions::relay).
struct RelayRequest {
  enum class Verb { kHelo, kEhlo, kMail, kRcpt, kRset } verb = Verb::kRset;
  std::string helo;     // kHelo, kEhlo: the client's name
  Envelope envelope;    // kMail: the envelope the MAIL would start (with XFORWARD);
                        // kRcpt: the envelope so far
  Recipient recipient;  // kRcpt
};

// A complete SASL exchange, to be verified by the caller.
struct AuthRequest {
  std::string mechanism;  // "PLAIN" or "LOGIN"
  PlainCredentials credentials;
};

// Per-command counters for Postfix's disconnect line ("ehlo=1 mail=1
// rcpt=0/1 quit=1 commands=3/4"): a command succeeded when its (final)
// reply was 2xx or 3xx; DATA succeeds only when the message was accepted.
struct CommandCounts {
  // Postfix's order; kUnknown counts unrecognized verbs.
  enum Verb {
    kHelo,
    kEhlo,
    kStarttls,
    kAuth,
    kMail,
    kRcpt,
    kData,
    kBdat,
    kRset,
    kNoop,
    kVrfy,
    kEtrn,
    kQuit,
    kXforward,
    kUnknown,
    kVerbs
  };
  static constexpr std::array<const char*, kVerbs> kNames = {
      "helo", "ehlo", "starttls", "auth", "mail", "rcpt",     "data",   "bdat",
      "rset", "noop", "vrfy",     "etrn", "quit", "xforward", "unknown"};
  std::array<unsigned, kVerbs> attempted{};
  std::array<unsigned, kVerbs> succeeded{};

  // "ehlo=1 mail=1 rcpt=0/1 data=1 quit=1 commands=4/5": only commands that
  // were attempted, "ok/total" where they differ.
  std::string summary() const;
};

struct Transaction {
  Envelope envelope;
  std::string data;  // the message, dot-unstuffed, CRLF line ends as received
  // From DATA's 354 to the final dot, for the summary line; set by the I/O
  // loop around the session (ServerSession itself keeps no clock).
  std::chrono::steady_clock::duration receive_time{};
};

class ServerSession {
 public:
  enum class State {
    kCommand,          // reading commands
    kData,             // reading message content
    kAwaitingVerdict,  // a Transaction is ready; waiting for finish_data()
    kStartTls,         // "220 Ready to start TLS" sent: handshake, then tls_started()
    kAwaitingAuth,     // an AuthRequest is ready; waiting for finish_auth()
    kAwaitingRelay,    // a RelayRequest is ready; waiting for finish_relay()
    kClosed,           // QUIT, 421 or too many errors: close after output
  };

  explicit ServerSession(SessionOptions options);

  // The 220 greeting. Call once, first.
  std::string greeting() const;

  // Consumes bytes from the client and produces replies (take_output()).
  // In kAwaitingVerdict the bytes are buffered, not interpreted.
  void feed(std::string_view bytes);

  // Bytes to send to the client; clears the buffer.
  std::string take_output();

  State state() const { return state_; }
  bool closed() const { return state_ == State::kClosed; }
  // True while a transaction is ready: call take_transaction(), then finish_data().
  bool transaction_ready() const { return state_ == State::kAwaitingVerdict; }

  // REQUIRES: transaction_ready(). Moves the transaction out.
  Transaction take_transaction();

  // Completes a transaction. For SMTP `replies` holds one reply; for LMTP one
  // per accepted recipient in RCPT order. Resets the transaction, then
  // interprets any buffered pipelined input. REQUIRES: transaction_ready().
  void finish_data(const std::vector<Reply>& replies);

  // REQUIRES: state() == kStartTls and the TLS handshake succeeded. Resets
  // the session to its state after the greeting, with TLS active.
  void tls_started();

  // REQUIRES: state() == kAwaitingAuth. Moves the request out.
  AuthRequest take_auth_request();
  // Completes an AUTH: a 2xx reply authenticates `username`; 5xx/4xx do not
  // (and count as errors). REQUIRES: state() == kAwaitingAuth.
  void finish_auth(const Reply& reply, const std::string& username);

  // REQUIRES: state() == kAwaitingRelay.
  const RelayRequest& relay_request() const { return relay_; }
  // Completes a relayed command with the downstream's reply: a positive
  // reply makes the command take effect (the session's own EHLO reply
  // goes out, with its extensions); a negative one is passed on as it is
  // and counts as an error. RSET always resets and answers 250.
  // REQUIRES: state() == kAwaitingRelay.
  void finish_relay(const Reply& reply);

  bool tls_active() const { return tls_active_; }
  bool authenticated() const { return !auth_user_.empty(); }
  const std::string& auth_user() const { return auth_user_; }
  const std::string& auth_mechanism() const { return auth_mechanism_; }

  // The caller's idle timer fired: "421 4.4.2 ... timeout" and close.
  void on_timeout();

  // Shutting down: "421 4.3.2 ..." and close.
  void on_shutdown();

  // For the disconnect log line.
  unsigned errors() const { return errors_; }
  unsigned transactions() const { return transactions_; }
  const CommandCounts& command_counts() const { return counts_; }
  // The last HELO/EHLO argument ("" before one), and whether it was EHLO.
  const std::string& helo() const { return helo_; }
  bool esmtp() const { return esmtp_; }

 private:
  void process();
  void handle_command(std::string_view line);  // counts, then dispatch_command()
  void dispatch_command(std::string_view line);
  void handle_data_line(std::string_view line_with_crlf);
  void handle_ehlo(std::string_view verb, std::string_view args);
  void handle_mail(std::string_view args);
  void handle_rcpt(std::string_view args);
  void handle_data();
  void handle_xforward(std::string_view args);
  void handle_starttls(std::string_view args);
  void handle_auth(std::string_view args);
  void handle_auth_response(std::string_view line);
  void ehlo_reply(bool esmtp);
  void await_relay(RelayRequest request);
  bool auth_offered() const;
  void end_of_data();
  void reset_transaction();
  void reply(int code, std::string_view status, std::string_view text);
  void error_reply(int code, std::string_view status, std::string_view text);

  SessionOptions options_;
  State state_ = State::kCommand;
  std::string input_;     // unconsumed input
  size_t input_pos_ = 0;  // consumed prefix of input_
  std::string output_;
  bool greeted_ = false;
  bool esmtp_ = false;
  bool have_mail_ = false;
  bool data_too_big_ = false;
  bool skipping_long_line_ = false;
  bool data_at_line_start_ = true;
  uint64_t data_size_ = 0;
  unsigned errors_ = 0;
  unsigned transactions_ = 0;
  CommandCounts counts_;
  std::string helo_;
  bool tls_active_ = false;
  // An AUTH exchange in progress: which response the next line is.
  enum class AuthStep { kNone, kPlain, kLoginUser, kLoginPassword } auth_step_ = AuthStep::kNone;
  AuthRequest auth_;
  std::string auth_user_, auth_mechanism_;
  Transaction txn_;
  XForward xforward_;
  RelayRequest relay_;
};

}  // namespace filterd::smtp
