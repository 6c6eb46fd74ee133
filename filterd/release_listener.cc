// release_listener.cc — see release_listener.h.
#include "filterd/release_listener.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "filterd/release.h"
#include "filterd/server.h"

namespace filterd {
namespace asio = boost::asio;
namespace q = quarantine;

namespace {

// Compares without leaking where the first difference is.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

ReleaseListener::ReleaseListener(asio::io_context& io, const Config& config, q::Store& store)
    : io_(io), config_(config), store_(store) {}

void ReleaseListener::start() {
  auto ep = smtp::parse_endpoint("lmtp:unix:" + config_.release_socket);
  if (!ep) {
    throw boost::system::system_error(make_error_code(boost::system::errc::invalid_argument),
                                      "release_socket: " + ep.error());
  }
  acceptor_.emplace(smtp::listen_on(io_.get_executor(), *ep));
  const std::string& path = config_.release_socket;
  set_unix_socket_access(config_, path);
  spdlog::info("release requests (AM.PDP) on {}", path);
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void ReleaseListener::stop() {
  if (!acceptor_) return;
  boost::system::error_code ignored;
  acceptor_->close(ignored);
}

asio::awaitable<void> ReleaseListener::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    smtp::Socket s =
        co_await acceptor_->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(io_, serve(std::move(s)), asio::detached);
  }
}

asio::awaitable<void> ReleaseListener::serve(smtp::Socket socket) {
  q::PdpParser parser;
  char buf[4096];
  for (;;) {
    boost::system::error_code ec;
    size_t n = co_await socket.async_read_some(asio::buffer(buf),
                                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    auto fed = parser.feed(std::string_view(buf, n));
    std::string out;
    while (parser.has_request()) out += co_await answer(parser.pop());
    if (!fed) out += q::pdp_failure_response(fed.error());
    if (!out.empty()) {
      co_await asio::async_write(socket, asio::buffer(out),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    if (!fed) co_return;
  }
}

asio::awaitable<std::string> ReleaseListener::answer(q::PdpRequest request) {
  auto req = q::parse_release(request);
  if (!req) {
    spdlog::warn("release request refused: {}", req.error());
    co_return q::pdp_failure_response(req.error());
  }
  const std::string who = req->requested_by.empty() ? "amavisd-release" : req->requested_by;
  auto entry = store_.get(req->mail_id);
  if (!entry) co_return q::pdp_failure_response("quarantine: " + entry.error());
  if (!*entry) co_return q::pdp_failure_response("no such mail_id in the quarantine");
  if (req->secret_id.empty()) {
    const auto& admins = config_.release_admins;
    if (req->requested_by.empty() ||
        std::find(admins.begin(), admins.end(), req->requested_by) == admins.end()) {
      spdlog::warn("({}) release by {} refused: no secret_id", req->mail_id, who);
      co_return q::pdp_failure_response("secret_id is required");
    }
  } else if (!same_secret(req->secret_id, (*entry)->secret_id) &&
             !q::secret_id_matches(req->mail_id, req->secret_id)) {
    spdlog::warn("({}) release by {} refused: secret_id does not match", req->mail_id, who);
    co_return q::pdp_failure_response("Secret_id does not match mail_id");
  }
  ReleaseOutcome out =
      co_await release_message(config_, store_, req->mail_id, req->recipients, who);
  if (out.already) co_return q::pdp_failure_response("already released, nothing sent");
  if (out.replies.empty()) co_return q::pdp_failure_response(out.error);
  std::vector<q::PdpAttribute> reply;
  for (size_t i = 0; i < out.replies.size(); ++i) {
    const smtp::Reply& r = out.replies[i];
    reply.push_back(
        q::pdp_setreply(r.code, r.status.empty() ? (r.positive() ? "2.0.0" : "4.0.0") : r.status,
                        "Ok, id=rel-" + req->mail_id + ", from MTA: " + r.one_line()));
  }
  spdlog::info("({}) released by {} to {}: {}", req->mail_id, who, out.recipients.size(),
               out.replies.front().one_line());
  co_return q::pdp_response(reply);
}

}  // namespace filterd
