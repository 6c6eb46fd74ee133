// transport.cc — see transport.h.
#include "frontd/transport.h"

#include "frontd/maildir.h"
#include "frontd/recipient_policy.h"
#include "smtp/client.h"

namespace filterd::frontd {

std::string relay_name(const smtp::Endpoint& hop) {
  if (hop.is_unix()) return hop.unix_path;
  return hop.host + "[" + hop.host + "]:" + std::to_string(hop.port);
}

boost::asio::awaitable<std::vector<Outcome>> deliver_smtp(smtp::Endpoint hop,
                                                          const QueuedMessage& m,
                                                          std::vector<size_t> indexes,
                                                          const smtp::ClientOptions& options) {
  smtp::Envelope env = m.envelope;
  env.recipients.clear();
  for (size_t i : indexes) env.recipients.push_back(m.envelope.recipients[i]);
  env.size = m.data.size();
  smtp::DeliveryResult r = co_await smtp::deliver(hop, env, "", m.data, options);
  std::vector<Outcome> out;
  const std::string relay = relay_name(hop);
  for (size_t k = 0; k < indexes.size(); ++k) {
    smtp::Reply reply = k < r.recipients.size()
                            ? r.recipients[k]
                            : smtp::Reply{451, "4.3.0", "no reply for this recipient"};
    out.push_back(Outcome{indexes[k], relay, std::move(reply), ""});
  }
  co_return out;
}

Outcome deliver_local(const QueuedMessage& m, size_t index, const DirectorySnapshot& dir,
                      const Config& config) {
  const std::string& rcpt = m.envelope.recipients[index].address;
  Outcome o{index, "virtual", {}, ""};
  auto path = mailbox_path(rcpt, dir.tables(), config.virtual_mailbox_base);
  if (!path) {
    o.reply = smtp::Reply{550, "5.1.1", "<" + rcpt + ">: unknown user in virtual mailbox table"};
    return o;
  }
  if (!path->ends_with('/')) {
    // virtual(8) would write mbox here; frontd only writes Maildir. A
    // configuration problem: defer so that fixing the map saves the mail.
    o.reply = smtp::Reply{451, "4.3.5", "mailbox " + *path + " is not a Maildir (no trailing /)"};
    return o;
  }
  MaildirDelivery d{*path, m.envelope.sender, rcpt, config.mailbox_owner, config.myhostname};
  auto r = deliver_to_maildir(d, m.data);
  if (!r) {
    o.reply = smtp::Reply{451, "4.2.0", "maildir delivery failed: " + r.error().what};
    return o;
  }
  o.reply = smtp::Reply{250, "2.0.0", "delivered to maildir"};
  o.text = "delivered to maildir";
  return o;
}

}  // namespace filterd::frontd
