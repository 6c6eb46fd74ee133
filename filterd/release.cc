// release.cc — see release.h.
#include "filterd/release.h"

#include <algorithm>
#include <ctime>

#include "decoders/header_block.h"
#include "policy/dsn.h"
#include "policy/mail_text.h"
#include "smtp/client.h"

namespace filterd {

bool ReleaseOutcome::any_accepted() const {
  return std::any_of(replies.begin(), replies.end(),
                     [](const smtp::Reply& r) { return r.positive(); });
}

boost::asio::awaitable<ReleaseOutcome> release_message(const Config& config,
                                                       quarantine::Store& store,
                                                       std::string mail_id,
                                                       std::vector<std::string> to,
                                                       std::string requested_by) {
  ReleaseOutcome out;
  auto entry = store.get(mail_id);
  if (!entry) {
    out.error = entry.error();
    co_return out;
  }
  if (!*entry) co_return out;
  out.found = true;
  if ((*entry)->released_at != 0) {
    out.already = true;
    co_return out;
  }
  auto message = store.read_message(**entry);
  if (!message) {
    out.error = message.error();
    co_return out;
  }
  out.recipients = to.empty() ? (*entry)->recipients : to;

  smtp::Envelope env;
  env.sender = (*entry)->sender;
  for (const auto& r : out.recipients) env.recipients.push_back({r, "", ""});
  const std::string eol(decoders::line_ending_of(*message));
  const std::string who = policy::one_line_utf8(requested_by.empty() ? "-" : requested_by, 200);
  const std::string head = "X-Quarantine-ID: <" + mail_id + ">" + eol + "X-Filterd-Released: by " +
                           who + " on " + config.myhostname + ", " +
                           policy::rfc5322_date(std::time(nullptr)) + eol;
  smtp::ClientOptions options = config.forward_options;
  options.all_or_nothing = false;
  smtp::DeliveryResult r = co_await smtp::deliver(config.forward, env, head, *message, options);
  out.replies = std::move(r.recipients);
  if (out.any_accepted()) {
    std::vector<std::string> accepted;
    for (size_t i = 0; i < out.replies.size(); ++i) {
      if (out.replies[i].positive()) accepted.push_back(out.recipients[i]);
    }
    auto marked = store.mark_released(mail_id, who, accepted, std::time(nullptr));
    if (!marked) out.error = "released, but not marked: " + marked.error();
  }
  co_return out;
}

}  // namespace filterd
