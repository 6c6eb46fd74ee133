// client_connection.cc — see client_connection.h.
#include "smtp/client_connection.h"

#include <openssl/ssl.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>

#include "smtp/command.h"
#include "smtp/dot_stuff.h"

namespace filterd::smtp {
namespace asio = boost::asio;
namespace {

// RFC 5321 §4.5.3.1.4 command line limit; XFORWARD is split to stay below it.
constexpr size_t kMaxXforwardLine = 500;
// Message data is written in pieces of this size after dot-stuffing.
constexpr size_t kDataChunk = 256 * 1024;

}  // namespace

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

std::string mail_command(const Envelope& env, const Extensions& ext,
                         std::optional<unsigned long long> size) {
  std::string mail = "MAIL FROM:<" + env.sender + ">";
  if (size) mail += " SIZE=" + std::to_string(*size);
  if (!env.body.empty() && ext.eightbit) mail += " BODY=" + env.body;
  if (env.smtputf8) mail += " SMTPUTF8";
  if (ext.dsn && !env.ret.empty()) mail += " RET=" + env.ret;
  if (ext.dsn && !env.envid.empty()) mail += " ENVID=" + env.envid;
  return mail + "\r\n";
}

std::string rcpt_command(const Recipient& r, const Extensions& ext) {
  std::string rcpt = "RCPT TO:<" + r.address + ">";
  if (ext.dsn && !r.notify.empty()) rcpt += " NOTIFY=" + r.notify;
  if (ext.dsn && !r.orcpt.empty()) rcpt += " ORCPT=" + r.orcpt;
  return rcpt + "\r\n";
}

ClientConnection::ClientConnection(Endpoint hop) : hop_(std::move(hop)) {}

ClientConnection::~ClientConnection() {
  close();
}

void ClientConnection::close() {
  if (conn_) conn_->close();
}

asio::awaitable<std::optional<Reply>> ClientConnection::open(std::chrono::seconds timeout) {
  auto sock = co_await connect_to(hop_, timeout);
  if (!sock) {
    error_ = sock.error();
    co_return std::nullopt;
  }
  conn_ = GuardedSocket::create(std::move(*sock));
  co_return co_await read_reply(timeout);
}

asio::awaitable<bool> ClientConnection::send(std::string bytes, std::chrono::seconds timeout) {
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

asio::awaitable<std::optional<Reply>> ClientConnection::read_reply(std::chrono::seconds timeout) {
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

asio::awaitable<std::optional<Reply>> ClientConnection::command(std::string line,
                                                                std::chrono::seconds timeout) {
  const bool sent = co_await send(std::move(line), timeout);
  if (!sent) co_return std::nullopt;
  co_return co_await read_reply(timeout);
}

asio::awaitable<bool> ClientConnection::send_message(std::string_view prefix,
                                                     std::string_view message,
                                                     std::chrono::seconds timeout) {
  DotStuffer stuffer;
  std::string chunk;
  stuffer.add(prefix, chunk);
  for (size_t off = 0; off < message.size(); off += kDataChunk) {
    stuffer.add(message.substr(off, kDataChunk), chunk);
    if (chunk.size() >= kDataChunk) {
      const bool sent = co_await send(std::exchange(chunk, {}), timeout);
      if (!sent) co_return false;
    }
  }
  stuffer.finish(chunk);
  co_return co_await send(std::move(chunk), timeout);
}

asio::awaitable<bool> ClientConnection::start_tls(asio::ssl::context& context,
                                                  std::chrono::seconds timeout) {
  tls_ = std::make_unique<asio::ssl::stream<Socket&>>(conn_->socket(), context);
  if (!hop_.host.empty()) SSL_set_tlsext_host_name(tls_->native_handle(), hop_.host.c_str());
  boost::system::error_code ec;
  conn_->expires_after(timeout);
  co_await tls_->async_handshake(asio::ssl::stream_base::client,
                                 asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    error_ = "TLS handshake with " + hop_.str() + " failed: " + ec.message();
    close();
    co_return false;
  }
  parser_ = ReplyParser();  // nothing sent before the handshake counts (RFC 3207 §4.2)
  co_return true;
}

asio::awaitable<void> ClientConnection::quit() {
  (void)co_await command("QUIT\r\n", std::chrono::seconds(5));
  close();
}

}  // namespace filterd::smtp
