// client_connection.h — one SMTP/LMTP client connection, a command at a
// time: the primitives under deliver() (client.h) and under the
// before-queue proxy's downstream (filterd/proxy.h).
//
// Every wait has a timeout; every failure is a nullopt/false with error()
// saying what happened ("timeout waiting for reply from smtp:...").
// Thread safety: use from one executor.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/asio.h"
#include "smtp/deadline.h"
#include "smtp/endpoint.h"
#include "smtp/envelope.h"
#include "smtp/reply.h"
#include "smtp/reply_parser.h"

namespace boost::asio::ssl {
class context;
template <typename Stream>
class stream;
}  // namespace boost::asio::ssl

namespace filterd::smtp {

// What a next hop's EHLO reply offers.
struct Extensions {
  bool pipelining = false, dsn = false, smtputf8 = false, eightbit = false;
  bool starttls = false, auth_plain = false;
  std::set<std::string> xforward;  // attribute names, upper case
};
Extensions parse_ehlo(std::string_view reply_text);

// XFORWARD command lines (with CRLF) for the attributes the next hop takes,
// split to stay within the command line limit.
std::vector<std::string> xforward_commands(const XForward& x, const Extensions& ext);

// "MAIL FROM:<a@b> ...\r\n" with the parameters the next hop takes; SIZE=
// `size` when given.
std::string mail_command(const Envelope& env, const Extensions& ext,
                         std::optional<unsigned long long> size);
// "RCPT TO:<a@b> ...\r\n" with the DSN parameters if the next hop takes them.
std::string rcpt_command(const Recipient& r, const Extensions& ext);

class ClientConnection {
 public:
  explicit ClientConnection(Endpoint hop);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Connects and reads the greeting (both within `timeout`).
  boost::asio::awaitable<std::optional<Reply>> open(std::chrono::seconds timeout);

  boost::asio::awaitable<bool> send(std::string bytes, std::chrono::seconds timeout);
  boost::asio::awaitable<std::optional<Reply>> read_reply(std::chrono::seconds timeout);
  // send() then read_reply().
  boost::asio::awaitable<std::optional<Reply>> command(std::string line,
                                                       std::chrono::seconds timeout);
  // The message data after a 354: `prefix` then `message`, dot-stuffed,
  // bare line ends sent as CRLF, and the final ".". The reply is not read.
  // REQUIRES: both views stay valid until the call completes.
  boost::asio::awaitable<bool> send_message(std::string_view prefix, std::string_view message,
                                            std::chrono::seconds timeout);
  // The TLS handshake after "220" to STARTTLS (RFC 3207); replies read
  // before it are forgotten.
  boost::asio::awaitable<bool> start_tls(boost::asio::ssl::context& context,
                                         std::chrono::seconds timeout);
  // Between transactions, kept for later: no deadline runs meanwhile.
  void idle() {
    if (conn_) conn_->disarm();
  }
  // QUIT, waiting at most 5 s for the reply, then close.
  boost::asio::awaitable<void> quit();
  void close();

  bool is_open() const { return conn_ != nullptr; }
  // The connection's executor, once open.
  std::optional<boost::asio::any_io_executor> executor() const {
    if (!conn_) return std::nullopt;
    return conn_->socket().get_executor();
  }
  bool tls_active() const { return tls_ != nullptr; }
  const Endpoint& hop() const { return hop_; }
  const std::string& error() const { return error_; }

 private:
  Endpoint hop_;
  std::shared_ptr<GuardedSocket> conn_;
  std::unique_ptr<boost::asio::ssl::stream<Socket&>> tls_;  // after STARTTLS
  ReplyParser parser_;
  std::string error_;
};

}  // namespace filterd::smtp
