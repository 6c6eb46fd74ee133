// auth_dovecot.cc — the Dovecot auth-client protocol backend (see auth.h).
// Protocol (Dovecot's doc/auth-protocol and src/lib-auth/auth-client):
//   C: VERSION\t1\t2        C: CPID\t<pid>
//   S: VERSION\t1\t2  MECH\t... SPID\t.. CUID\t.. COOKIE\t..  DONE
//   C: AUTH\t<id>\tPLAIN\tservice=smtp\tnologin\tlip=..\trip=..[\tsecured]\tresp=<base64>
//   S: OK\t<id>\tuser=<name>...  |  FAIL\t<id>\t[reason=..]...  |  CONT\t<id>\t<data>
// One connection per attempt (SMTP AUTH is rare); every wait is bounded.
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>

#include "frontd/auth.h"
#include "frontd/config.h"
#include "smtp/deadline.h"
#include "smtp/endpoint.h"

namespace filterd::frontd {
namespace asio = boost::asio;
namespace {

constexpr auto kAuthTimeout = std::chrono::seconds(30);
// Dovecot's lines are short; a longer one is not Dovecot.
constexpr size_t kMaxLine = 16 * 1024;

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    size_t tab = line.find('\t');
    out.push_back(line.substr(0, tab));
    if (tab == std::string_view::npos) return out;
    line.remove_prefix(tab + 1);
  }
}

// Dovecot escapes \t, \n, \001 and \\ in values (str_tabescape).
std::string tab_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\001') {
      out += "\0011";
    } else if (c == '\t') {
      out += "\001t";
    } else if (c == '\n') {
      out += "\001n";
    } else if (c == '\r') {
      out += "\001r";
    } else {
      out += c;
    }
  }
  return out;
}

class Dovecot : public Authenticator {
 public:
  explicit Dovecot(std::string spec, smtp::Endpoint ep)
      : spec_(std::move(spec)), ep_(std::move(ep)) {}

  asio::awaitable<AuthResult> authenticate(smtp::PlainCredentials creds, AuthContext ctx) override {
    auto sock = co_await smtp::connect_to(ep_, kAuthTimeout);
    if (!sock) co_return AuthResult{AuthResult::Kind::kTempFail, "", "dovecot: " + sock.error()};
    auto conn = smtp::GuardedSocket::create(std::move(*sock));
    AuthResult r = co_await converse(*conn, std::move(creds), std::move(ctx));
    conn->close();
    co_return r;
  }

  std::string describe() const override { return "dovecot:" + spec_; }

 private:
  asio::awaitable<AuthResult> converse(smtp::GuardedSocket& conn, smtp::PlainCredentials creds,
                                       AuthContext ctx) {
    auto temp = [](std::string why) {
      return AuthResult{AuthResult::Kind::kTempFail, "", "dovecot: " + std::move(why)};
    };
    boost::system::error_code ec;
    conn.expires_after(kAuthTimeout);
    const std::string hello = "VERSION\t1\t2\nCPID\t" + std::to_string(::getpid()) + "\n";
    co_await asio::async_write(conn.socket(), asio::buffer(hello),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return temp("write: " + ec.message());
    asio::streambuf buf(kMaxLine);
    bool plain = false;
    for (;;) {  // the handshake, up to DONE
      const size_t n = co_await asio::async_read_until(
          conn.socket(), buf, '\n', asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return temp(conn.timed_out() ? "timeout" : "read: " + ec.message());
      std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n - 1);
      buf.consume(n);
      auto f = fields(line);
      if (f[0] == "VERSION" && (f.size() < 2 || f[1] != "1")) co_return temp("unsupported version");
      if (f[0] == "MECH" && f.size() >= 2 && f[1] == "PLAIN") plain = true;
      if (f[0] == "DONE") break;
    }
    if (!plain) co_return temp("PLAIN is not among Dovecot's auth_mechanisms");
    std::string sasl = creds.authzid + '\0' + creds.authcid + '\0' + creds.password;
    std::string req = "AUTH\t1\tPLAIN\tservice=smtp\tnologin";
    if (!ctx.local_addr.empty()) req += "\tlip=" + tab_escape(ctx.local_addr);
    if (!ctx.client_addr.empty()) req += "\trip=" + tab_escape(ctx.client_addr);
    if (ctx.secured) req += "\tsecured";
    req += "\tresp=" + smtp::base64_encode(sasl) + "\n";
    std::fill(sasl.begin(), sasl.end(), '\0');
    co_await asio::async_write(conn.socket(), asio::buffer(req),
                               asio::redirect_error(asio::use_awaitable, ec));
    std::fill(req.begin(), req.end(), '\0');
    if (ec) co_return temp("write: " + ec.message());
    const size_t n = co_await asio::async_read_until(conn.socket(), buf, '\n',
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return temp(conn.timed_out() ? "timeout" : "read: " + ec.message());
    std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n - 1);
    auto f = fields(line);
    if (f.size() < 2 || f[1] != "1") co_return temp("unexpected reply");
    std::string user, reason;
    bool temporary = false;
    for (size_t i = 2; i < f.size(); ++i) {
      if (f[i].starts_with("user=")) user = std::string(f[i].substr(5));
      if (f[i].starts_with("reason=")) reason = std::string(f[i].substr(7));
      if (f[i] == "temp") temporary = true;
    }
    if (f[0] == "OK") {
      co_return AuthResult{AuthResult::Kind::kOk, user.empty() ? creds.authcid : user, ""};
    }
    if (f[0] == "FAIL") {
      co_return AuthResult{temporary ? AuthResult::Kind::kTempFail : AuthResult::Kind::kFail, "",
                           reason.empty() ? "authentication failed" : reason};
    }
    co_return temp("unexpected " + std::string(f[0].substr(0, 20)));  // CONT: not for PLAIN
  }

  const std::string spec_;
  const smtp::Endpoint ep_;
};

}  // namespace

std::expected<std::unique_ptr<Authenticator>, std::string> make_passwd_file(
    const std::string& path, asio::thread_pool& workers);

std::expected<std::unique_ptr<Authenticator>, std::string> make_authenticator(
    const std::string& type, const std::string& path, asio::thread_pool& workers) {
  if (type == "passwd_file") {
    if (path.empty() || path.front() != '/') {
      return std::unexpected("smtpd_sasl_path: expected the absolute path of the password file");
    }
    return make_passwd_file(path, workers);
  }
  if (type == "dovecot") {
    smtp::Endpoint ep;
    if (path.starts_with("inet:")) {
      auto hop = parse_next_hop(path.substr(5));
      if (!hop) return std::unexpected("smtpd_sasl_path: " + hop.error());
      ep = *hop;
    } else if (!path.empty() && path.front() == '/') {
      ep.unix_path = path;
    } else {
      return std::unexpected("smtpd_sasl_path: expected /path/to/socket or inet:HOST:PORT");
    }
    return std::make_unique<Dovecot>(path, ep);
  }
  return std::unexpected("smtpd_sasl_type: expected passwd_file or dovecot, got '" + type + "'");
}

}  // namespace filterd::frontd
