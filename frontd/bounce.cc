// bounce.cc — see bounce.h.
#include "frontd/bounce.h"

#include "frontd/mail_header.h"
#include "policy/dsn.h"

namespace filterd::frontd {

std::optional<QueuedMessage> make_bounce(const QueuedMessage& original,
                                         const std::vector<FailedRecipient>& failed,
                                         const std::string& myhostname, long long now) {
  const smtp::Envelope& env = original.envelope;
  if (env.sender.empty()) return std::nullopt;
  policy::DsnInput in;
  in.reporting_mta = myhostname;
  in.mail_id = original.id;
  in.date = policy::rfc5322_date(now);
  in.arrival_date = policy::rfc5322_date(original.arrival_ms / 1000);
  in.envid = env.envid;
  in.sender = env.sender;
  in.reason = failed.empty() ? "" : failed.front().reply.one_line();
  for (const FailedRecipient& f : failed) {
    if (f.index >= env.recipients.size()) continue;
    const smtp::Recipient& r = env.recipients[f.index];
    if (!policy::failure_dsn_wanted(env, r)) continue;
    in.recipients.push_back(policy::DsnRecipient{r.address, r.orcpt, f.reply});
  }
  if (in.recipients.empty()) return std::nullopt;
  in.original_headers = header_section(original.data);
  std::string dsn = policy::compose_dsn(in);
  // compose_dsn() speaks for a content filter; here the MTA reports.
  const std::string filter_from =
      "From: Content-filter at " + myhostname + " <MAILER-DAEMON@" + myhostname + ">\r\n";
  if (dsn.starts_with(filter_from)) {
    dsn.replace(0, filter_from.size(),
                "From: Mail Delivery System <MAILER-DAEMON@" + myhostname + ">\r\n");
  }
  QueuedMessage b;
  b.arrival_ms = now * 1000;
  b.stage = Stage::kDeliver;
  b.client = "local";
  b.helo = myhostname;
  b.envelope.recipients.push_back(smtp::Recipient{env.sender, "", ""});
  b.data = std::move(dsn);
  return b;
}

}  // namespace filterd::frontd
