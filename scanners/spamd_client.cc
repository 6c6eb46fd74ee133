// spamd_client.cc — see spamd_client.h. The protocol parsers are pure; the
// socket work is stream_connection.h's, as for clamd.
#include "scanners/spamd_client.h"

#include <cctype>
#include <charconv>

#include "scanners/clamd_protocol.h"
#include "scanners/stream_connection.h"

namespace filterd::scanners {
namespace {

using Kind = ScanError::Kind;
using clamd::fail;
using clamd::printable;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

class SocketSpamdClient final : public SpamdClient {
 public:
  SocketSpamdClient(std::string spec, std::vector<net::Endpoint> endpoints,
                    std::chrono::milliseconds timeout, std::string user)
      : endpoints_(std::move(endpoints)), timeout_(timeout) {
    spec_ = std::move(spec);
    user_ = std::move(user);
  }
  void set_version(std::string v) { version_ = std::move(v); }

  std::expected<std::string, ScanError> exchange(std::string_view request,
                                                 std::size_t max_reply) const override {
    auto connection = net::StreamConnection::open(endpoints_, net::Clock::now() + timeout_);
    if (!connection) return std::unexpected(connection.error());
    if (auto sent = connection->send_all(request); !sent) return std::unexpected(sent.error());
    return connection->read_until_eof(max_reply);
  }

 private:
  std::vector<net::Endpoint> endpoints_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::string spamd_request(std::string_view message, std::string_view user) {
  std::string out =
      "SYMBOLS SPAMC/1.5\r\nContent-length: " + std::to_string(message.size()) + "\r\n";
  if (!user.empty()) out += "User: " + std::string(user) + "\r\n";
  out += "\r\n";
  out += message;
  return out;
}

std::expected<SpamdResult, ScanError> parse_spamd_reply(std::string_view reply) {
  const size_t end = reply.find("\r\n\r\n");
  std::string_view head = reply.substr(0, end);
  std::string_view body = end == std::string_view::npos ? "" : reply.substr(end + 4);
  const size_t eol = head.find("\r\n");
  const std::string_view status = head.substr(0, eol);
  // "SPAMD/1.1 0 EX_OK"
  if (!status.starts_with("SPAMD/")) {
    return fail(Kind::kProtocol, "not a spamd reply: \"" + printable(status.substr(0, 80)) + "\"");
  }
  const size_t sp1 = status.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : status.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || status.substr(sp1 + 1, sp2 - sp1 - 1) != "0") {
    return fail(Kind::kProtocol, "spamd says \"" + printable(status.substr(0, 200)) + "\"");
  }
  SpamdResult r;
  bool have_spam = false;
  for (std::string_view rest = eol == std::string_view::npos ? "" : head.substr(eol + 2);
       !rest.empty();) {
    const size_t n = rest.find("\r\n");
    const std::string_view line = rest.substr(0, n);
    rest = n == std::string_view::npos ? "" : rest.substr(n + 2);
    if (!line.starts_with("Spam:")) continue;
    // "Spam: True ; 1000.0 / 5.0"
    const std::string_view v = line.substr(5);
    const size_t semi = v.find(';'), slash = v.find('/');
    if (semi == std::string_view::npos || slash == std::string_view::npos || slash < semi ||
        !parse_double(v.substr(semi + 1, slash - semi - 1), r.score) ||
        !parse_double(v.substr(slash + 1), r.threshold)) {
      return fail(Kind::kProtocol, "bad Spam: header \"" + printable(line.substr(0, 120)) + "\"");
    }
    const std::string_view flag = trim(v.substr(0, semi));
    r.is_spam = flag == "True" || flag == "Yes";
    have_spam = true;
  }
  if (!have_spam) return fail(Kind::kProtocol, "reply without a Spam: header");
  for (std::string_view rest = trim(body); !rest.empty();) {
    const size_t comma = rest.find(',');
    const std::string_view name = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    if (name.empty()) continue;
    if (name.size() > 128 || !std::ranges::all_of(name, [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      return fail(Kind::kProtocol, "bad rule name \"" + printable(name.substr(0, 80)) + "\"");
    }
    r.symbols.emplace_back(name);
  }
  return r;
}

std::expected<std::unique_ptr<SpamdClient>, ScanError> SpamdClient::make(
    std::string socket_spec, std::chrono::milliseconds timeout, std::string user) {
  const auto in_context = [&](ScanError error) {
    error.message = "spamd at " + printable(socket_spec) + ": " + error.message;
    return std::unexpected(std::move(error));
  };
  auto address = parse_clamd_socket_spec(socket_spec);
  if (!address) return in_context(address.error());
  if (timeout.count() <= 0) return in_context({Kind::kInternal, "timeout must be positive"});
  auto endpoints = net::resolve(*address);
  if (!endpoints) return in_context(endpoints.error());
  auto client = std::make_unique<SocketSpamdClient>(socket_spec, std::move(*endpoints), timeout,
                                                    std::move(user));
  // "SPAMD/1.5 0 PONG"
  auto pong = client->exchange("PING SPAMC/1.5\r\n\r\n", 1024);
  if (!pong) return in_context(pong.error());
  if (pong->find(" PONG") == std::string::npos || !pong->starts_with("SPAMD/")) {
    return in_context({Kind::kUnavailable, "PING answered with \"" + printable(*pong) + "\""});
  }
  client->set_version(std::string(trim(pong->substr(0, pong->find(' ')))));
  return client;
}

std::expected<SpamdResult, ScanError> SpamdClient::check(std::string_view message) const {
  auto reply = exchange(spamd_request(message, user_), kMaxSpamdReplyBytes);
  auto result = reply ? parse_spamd_reply(*reply) : std::unexpected(reply.error());
  if (!result) {
    ScanError e = result.error();
    e.message = "spamd at " + spec_ + ": " + e.message;
    return std::unexpected(std::move(e));
  }
  return result;
}

std::string SpamdClient::describe() const {
  return "spamd at " + spec_ + (version_.empty() ? "" : " (" + version_ + ")");
}

}  // namespace filterd::scanners
