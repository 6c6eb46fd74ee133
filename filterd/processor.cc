// processor.cc — see processor.h.
#include "filterd/processor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>

#include "decoders/ascii.h"
#include "decoders/header_block.h"
#include "filterd/attachment_removal.h"
#include "filterd/awaited.h"
#include "filterd/content_scan.h"
#include "filterd/mail_id.h"
#include "policy/dsn.h"
#include "policy/edits.h"
#include "policy/mail_text.h"
#include "policy/plan.h"
#include "policy/verdict.h"
#include "smtp/client.h"

namespace filterd {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using policy::Category;
using policy::Destiny;
using smtp::Reply;

namespace {

std::string join_recipients(const smtp::Envelope& env) {
  std::string out;
  for (const auto& r : env.recipients) {
    if (!out.empty()) out += ',';
    out += '<' + r.address + '>';
  }
  return out;
}

// The header section without its terminating blank line, for DSNs.
std::string_view header_section(std::string_view msg) {
  std::string_view h = msg.substr(0, decoders::header_section_end(msg));
  if (h.ends_with("\r\n\r\n"))
    h.remove_suffix(2);
  else if (h.ends_with("\n\n"))
    h.remove_suffix(1);
  return h;
}

// Bulk and list mail gets no DSN: the sender is a list or a robot
// (amavis: Precedence bulk/list/junk, List-Id).
bool is_bulk(std::string_view headers) {
  if (decoders::header_value(headers, "List-Id")) return true;
  auto precedence = decoders::header_value(headers, "Precedence");
  if (!precedence) return false;
  const std::string p = decoders::ascii_lower(*precedence);
  return p == "bulk" || p == "list" || p == "junk";
}

// The recipient decision the summary line reports: the highest blocking
// one, else the first recipient's.
size_t headline(const std::vector<policy::Decision>& d) {
  size_t best = 0;
  bool blocked = false;
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i].blocked() && (!blocked || d[i].category > d[best].category)) {
      best = i;
      blocked = true;
    }
  }
  return best;
}

// Offences whose removal would leave nothing blocking-worthy behind, or
// none when removal cannot help (a virus found only in the raw message).
std::vector<Offence> removable(const policy::Findings& f, const policy::Settings& bank) {
  std::vector<Offence> out;
  if (!f.viruses.empty()) {
    if (!bank.remove_infected_parts || f.virus_parts.empty()) return {};
    std::string names;
    for (const auto& v : f.viruses) names += (names.empty() ? "" : ", ") + v;
    for (int part : f.virus_parts) out.push_back({part, "INFECTED: " + names});
  }
  if (!f.banned.empty()) {
    if (!bank.remove_banned_parts) return {};
    for (const auto& b : f.banned) {
      if (b.part < 0) return {};
      out.push_back({b.part, "BANNED: " + b.reason});
    }
  }
  return out;
}

// The index row for a quarantined message.
quarantine::Entry quarantine_entry(const std::string& mail_id, long long arrival,
                                   const smtp::Envelope& env, std::string_view message,
                                   const policy::Decision& d, const policy::Findings& f,
                                   const std::string& client_addr, const std::string& bank) {
  const std::string_view headers = header_section(message);
  quarantine::Entry e;
  e.mail_id = mail_id;
  e.secret_id = quarantine::new_secret_id();
  e.time = arrival;
  e.category = policy::category_log_name(d.category);
  e.minor = d.minor;
  e.reason = policy::one_line_utf8(d.reason, 500);
  if (f.spam) {
    e.spam_score = f.spam->score;
    for (const auto& t : f.spam->tests) e.spam_tests += (e.spam_tests.empty() ? "" : ", ") + t;
  }
  e.sender = env.sender;
  for (const auto& r : env.recipients) e.recipients.push_back(r.address);
  e.from = policy::one_line_utf8(decoders::header_value(headers, "From").value_or(""), 500);
  e.subject = policy::one_line_utf8(policy::original_subject(message), 500);
  e.message_id =
      policy::one_line_utf8(decoders::header_value(headers, "Message-ID").value_or(""), 500);
  e.size = message.size();
  e.client_addr = client_addr;
  e.policy_bank = bank;
  return e;
}

// The spam check of one message, run beside its virus scan.
struct SpamOutcome {
  std::expected<policy::SpamResult, std::string> result;
  Clock::duration time{};
};

}  // namespace

policy::Values Processor::notice_values(const MessageRef& m, const std::string& category,
                                        const std::string& reason, Destiny destiny,
                                        const std::vector<std::string>& recipients) const {
  const std::string_view headers = header_section(m.message);
  std::string rcpts;
  for (const auto& r : recipients) rcpts += (rcpts.empty() ? "" : ", ") + r;
  const std::string& xaddr = m.envelope.xforward.addr;
  policy::Values v{
      {"mail_id", m.mail_id},
      {"category", category},
      {"reason", reason},
      {"destiny", std::string(policy::destiny_name(destiny))},
      {"sender", m.envelope.sender.empty() ? "<>" : m.envelope.sender},
      {"recipients", rcpts},
      {"client", xaddr.empty() ? m.client.peer : "[" + xaddr + "]"},
      {"message_id", decoders::header_value(headers, "Message-ID").value_or("")},
      {"subject", policy::original_subject(m.message)},
      {"date", policy::rfc5322_date(m.arrival)},
      {"hostname", config_.myhostname},
      {"quarantine_id", m.quarantine_id},
  };
  if (m.bank.templates) v["category_text"] = policy::category_text(*m.bank.templates, category);
  return v;
}

asio::awaitable<Reply> Processor::send_dsn(const MessageRef& m, std::string category,
                                           std::string reason,
                                           std::vector<policy::DsnRecipient> recipients) {
  std::vector<std::string> addresses;
  for (const auto& r : recipients) addresses.push_back(r.address);
  policy::DsnInput in{config_.myhostname,
                      m.mail_id,
                      policy::rfc5322_date(std::time(nullptr)),
                      policy::rfc5322_date(m.arrival),
                      m.envelope.envid,
                      m.envelope.sender,
                      category + ": " + reason,
                      std::move(recipients),
                      header_section(m.message)};
  if (m.bank.templates) {
    const policy::Values v = notice_values(m, category, reason, Destiny::kBounce, addresses);
    in.human_text = policy::render_text(m.bank.templates->sender_dsn, v);
    in.subject = policy::render_subject(m.bank.templates->sender_dsn, v);
  }
  smtp::Envelope to_sender;  // null sender: a DSN is never bounced (RFC 3461 §6.2)
  to_sender.recipients.push_back({m.envelope.sender, "", ""});
  smtp::DeliveryResult r =
      co_await smtp::deliver(m.hop, to_sender, "", policy::compose_dsn(in), m.forward);
  co_return r.recipients.front();
}

asio::awaitable<void> Processor::send_notice(const MessageRef& m, const policy::Template& tmpl,
                                             const policy::Decision& d, std::string to,
                                             std::string tag) {
  std::string category(policy::category_log_name(d.category));
  if (!d.minor.empty()) category += "-" + d.minor;
  std::vector<std::string> rcpts;
  for (const auto& r : m.envelope.recipients) rcpts.push_back(r.address);
  const policy::Values v = notice_values(m, category, d.reason, d.destiny, rcpts);
  policy::NoticeHeaders h;
  h.from = m.bank.notify_from;
  h.to = to;
  h.date = policy::rfc5322_date(std::time(nullptr));
  h.hostname = config_.myhostname;
  h.mail_id = m.mail_id;
  h.message_id_tag = tag;
  smtp::Envelope env;
  env.sender = m.bank.notify_sender;
  env.recipients.push_back({to, "", ""});
  smtp::DeliveryResult r =
      co_await smtp::deliver(m.hop, env, "", policy::compose_notice(tmpl, v, h), m.forward);
  if (!r.recipients.front().positive()) {
    spdlog::warn("({}) notice to <{}> not accepted: {}", m.mail_id, to,
                 r.recipients.front().one_line());
  }
}

asio::awaitable<void> Processor::send_notices(
    const MessageRef& m, const std::vector<policy::Decision>& decisions,
    const std::vector<policy::RecipientPolicy>& policies) {
  if (!m.bank.templates || decisions.empty()) co_return;
  const policy::Decision& top = decisions[headline(decisions)];
  const Category main = top.blocked() ? top.category : top.main;
  const std::string& admin = m.bank.admin[static_cast<size_t>(main)];
  if (main != Category::kClean && !admin.empty()) {
    co_await send_notice(m, m.bank.templates->admin_notice, top, admin, "ADMIN");
  }
  for (size_t i = 0; i < decisions.size(); ++i) {
    const policy::Decision& d = decisions[i];
    const policy::RecipientPolicy& p = policies[i];
    const bool warn = d.blocked() && p.local &&
                      ((d.category == Category::kVirus && p.warn_recipient_virus) ||
                       (d.category == Category::kBanned && p.warn_recipient_banned));
    if (warn) {
      co_await send_notice(m, m.bank.templates->recipient_warning, d,
                           m.envelope.recipients[i].address, "RCPT" + std::to_string(i + 1));
    }
  }
}

Processor::Processor(const Config& config, scanners::VirusScanner& scanner,
                     const decoders::DecoderRegistry& decoders, asio::thread_pool& workers)
    : config_(config), scanner_(scanner), decoders_(decoders), workers_(workers) {}

asio::awaitable<std::vector<Reply>> Processor::process(smtp::Transaction txn, smtp::Protocol input,
                                                       const ClientInfo& client) {
  Judgement j = co_await judge(std::move(txn), input, client);
  std::vector<Reply> per_rcpt = co_await deliver(j);
  std::vector<Reply> replies;
  if (input == smtp::Protocol::kLmtp) {
    replies = std::move(per_rcpt);
  } else {
    replies.push_back(policy::collapse_for_smtp(per_rcpt));
  }
  log_summary(j, replies.front());
  co_return replies;
}

asio::awaitable<Judgement> Processor::judge(smtp::Transaction txn, smtp::Protocol input,
                                            const ClientInfo& client) {
  Judgement j;
  j.txn = std::move(txn);
  j.input = input;
  j.client = client;
  j.mail_id = new_mail_id();
  j.arrival = std::time(nullptr);
  const smtp::Envelope& env = j.txn.envelope;
  const size_t n_rcpt = env.recipients.size();
  const std::string_view data = j.txn.data;
  j.client_addr = env.xforward.addr.empty() ? client.addr : env.xforward.addr;
  const policy::Settings& bank = config_.bank_for(client.local_port, j.client_addr);
  j.bank = &bank;

  // Each recipient's policy; the spam rules run unless all bypass them.
  j.policies.resize(n_rcpt);
  bool wants_spam_check = false;
  for (size_t i = 0; i < n_rcpt; ++i) {
    j.policies[i] = policy::resolve_recipient(bank, env.recipients[i].address);
    wants_spam_check |= !j.policies[i].bypass_spam_checks;
  }
  const bool spam_check = spam_ && spam_->enabled() && wants_spam_check;

  // The spam rules and the virus scan run side by side on two workers:
  // a message costs the longer of the two, not their sum, while workers
  // are free. The spam job reports back on this (the I/O) thread.
  auto spam_job = std::make_shared<Awaited<SpamOutcome>>(co_await asio::this_coro::executor);
  if (spam_check) {
    asio::post(workers_, [this, spam_job, bytes = data, sender = env.sender] {
      const auto t = Clock::now();
      SpamOutcome o{spam_->check(bytes, sender), {}};
      o.time = Clock::now() - t;
      asio::post(spam_job->executor(),
                 [spam_job, o = std::move(o)]() mutable { spam_job->set(std::move(o)); });
    });
  }

  // CPU work leaves the I/O thread; the coroutine resumes here afterwards.
  // `queued`: how long the job waited for a free worker.
  auto scan = [&](std::string_view bytes, Clock::duration& queued) {
    return asio::co_spawn(
        workers_,
        [&, bytes, posted = Clock::now()]() -> asio::awaitable<ContentScan> {
          queued += Clock::now() - posted;
          co_return scan_content(bytes, scanner_, decoders_, config_.decode_limits, bank,
                                 env.smtputf8);
        },
        asio::use_awaitable);
  };
  StageTimes& times = j.times;
  times.receive = j.txn.receive_time;
  ContentScan content = co_await scan(data, times.queue);
  if (spam_check) co_await spam_job->wait();
  const auto policy_start = Clock::now();
  times.decode = content.decode;
  times.scan = content.scan;
  std::optional<SpamOutcome>& checked = spam_job->value();
  if (checked) times.spam = checked->time;
  if (checked && !checked->result) {
    spdlog::warn("({}) spam check failed, going on without a score: {}", j.mail_id,
                 checked->result.error());
    j.notes.push_back("spam check failed");
  }
  policy::Findings& findings = j.findings;
  findings = std::move(content.findings);
  if (checked && checked->result) findings.spam = std::move(*checked->result);
  if (findings.scan_failed) {
    spdlog::warn("({}) virus scan failed: {}", j.mail_id, findings.scan_error);
  }

  // An infected or banned attachment may go instead of the whole mail; the
  // edited message is scanned again before anyone gets it.
  std::string removed_category, removed_reason;  // what attachment removal took out
  if (std::vector<Offence> offences = removable(findings, bank); !offences.empty()) {
    std::optional<Removal> removal = remove_attachments(data, content.decoded, offences, j.mail_id);
    if (removal) {
      ContentScan again = co_await scan(removal->message, times.queue);
      const policy::Findings& f2 = again.findings;
      if (f2.viruses.empty() && f2.banned.empty() && !f2.scan_failed) {
        std::string what;
        for (const auto& r : removal->removed) what += (what.empty() ? "" : ", ") + r;
        const Category gone = findings.viruses.empty() ? Category::kBanned : Category::kVirus;
        const std::string why = policy::category_reason(findings, gone, bank.recipient);
        j.notes.push_back("removed " + what + " (" + why + ")");
        if (bank.quarantine[policy::idx(gone)]) {
          removed_category = policy::category_log_name(gone);
          removed_reason = why;
        }
        j.edited = std::move(removal->message);
        std::optional<policy::SpamResult> spam = std::move(findings.spam);
        findings = f2;
        findings.spam = std::move(spam);  // the rules ran on the message as sent
      } else {
        spdlog::warn("({}) attachment removal did not clean the message; blocking it", j.mail_id);
      }
    }
  }

  // Each recipient's decision, then who gets what.
  const bool null_sender = env.sender.empty();
  const bool bulk = is_bulk(header_section(j.message()));
  const bool fakes_sender =
      !findings.viruses.empty() && !policy::virus_keeps_sender(bank, findings.viruses);
  j.decisions.resize(n_rcpt);
  j.fates.resize(n_rcpt);
  for (size_t i = 0; i < n_rcpt; ++i) {
    const std::string& address = env.recipients[i].address;
    const policy::RecipientPolicy& p = j.policies[i];
    const policy::Decision d = policy::decide(findings, p, bank.scanner_failure_destiny);
    j.decisions[i] = d;
    j.fates[i].decision = d;
    if (d.destiny == Destiny::kPass) {
      j.fates[i].edits = policy::edits_for(findings, d, p, config_.x_virus_scanned);
      j.fates[i].deliver_to = policy::extended_address(address, bank.recipient_delimiter,
                                                       policy::address_extension_for(d, p));
    } else if (d.destiny == Destiny::kBounce || d.destiny == Destiny::kReject) {
      j.fates[i].dsn_suppressed =
          policy::dsn_suppression(findings, d, p, null_sender, bulk, fakes_sender);
    }
  }
  j.plan = policy::plan_delivery(j.fates, input);

  // Mail some recipient does not get is kept before anything is delivered:
  // if that fails the MTA keeps it (451) and nobody got a copy yet.
  const size_t head = headline(j.decisions);
  const bool keep = quarantine_ && !j.plan.tempfail_all &&
                    (std::any_of(j.decisions.begin(), j.decisions.end(),
                                 [&](const policy::Decision& d) {
                                   return policy::quarantined(bank, findings, d);
                                 }) ||
                     !removed_category.empty());
  times.policy = Clock::now() - policy_start;
  if (keep) {
    const auto quarantine_start = Clock::now();
    quarantine::Entry entry = quarantine_entry(j.mail_id, j.arrival, env, data, j.decisions[head],
                                               findings, j.client_addr, bank.name);
    if (!removed_category.empty() && !j.decisions[head].blocked()) {
      entry.category = removed_category;  // the attachment went, the original is kept
      entry.reason = removed_reason;
    }
    auto stored = co_await asio::co_spawn(
        disk_,
        [&]() -> asio::awaitable<std::expected<void, std::string>> {
          co_return quarantine_->put(entry, data);
        },
        asio::use_awaitable);
    if (stored) {
      j.quarantine_id = j.mail_id;
      // Who still gets a copy can see that the message was also kept (the
      // same field for everyone: the delivery groups stay as planned).
      for (policy::RecipientFate& f : j.fates) {
        if (f.decision.destiny == Destiny::kPass) {
          f.edits.add_fields.insert(f.edits.add_fields.begin(),
                                    "X-Quarantine-ID: <" + j.quarantine_id + ">");
        }
      }
      j.notes.push_back("quarantine: " + entry.path);
    } else {
      spdlog::error("({}) quarantine failed: {}", j.mail_id, stored.error());
      j.quarantine_failed = true;
      j.notes.push_back("quarantine failed");
    }
    times.quarantine = Clock::now() - quarantine_start;
  }
  co_return j;
}

asio::awaitable<std::vector<Reply>> Processor::deliver(Judgement& j) {
  const smtp::Envelope& env = j.txn.envelope;
  const size_t n_rcpt = env.recipients.size();
  const std::string_view message = j.message();
  const std::vector<policy::Decision>& decisions = j.decisions;
  const std::vector<policy::RecipientFate>& fates = j.fates;
  const policy::Plan& plan = j.plan;
  const smtp::Protocol input = j.input;
  const policy::Settings& bank = *j.bank;

  std::vector<Reply> per_rcpt(n_rcpt);
  auto forward_start = Clock::now();
  smtp::ClientOptions fwd = forward_options();
  fwd.all_or_nothing = input == smtp::Protocol::kSmtp;
  const smtp::Endpoint& hop = bank.forward ? *bank.forward : config_.forward;
  MessageRef ref{j.mail_id, j.arrival, env, message, fwd, bank, hop, j.client, j.quarantine_id};

  if (j.quarantine_failed) {
    std::fill(per_rcpt.begin(), per_rcpt.end(),
              Reply{451, "4.3.0", "Error: quarantine failed, id=" + j.mail_id});
  } else if (plan.tempfail_all || plan.reject_all) {
    size_t first = 0;
    const Destiny want = plan.tempfail_all ? Destiny::kTempfail : Destiny::kReject;
    while (first < n_rcpt && decisions[first].destiny != want) ++first;
    std::fill(per_rcpt.begin(), per_rcpt.end(), policy::blocked_reply(decisions[first], j.mail_id));
  } else {
    for (const std::vector<size_t>& group : plan.deliveries) {
      smtp::Envelope copy = env;
      copy.recipients.clear();
      for (size_t i : group) {
        copy.recipients.push_back(env.recipients[i]);
        copy.recipients.back().address = fates[i].deliver_to;
      }
      const policy::EditedMessage e = policy::apply_edits(message, fates[group.front()].edits);
      smtp::DeliveryResult r =
          co_await smtp::deliver(hop, copy, e.head, message.substr(e.keep_from), fwd);
      for (size_t k = 0; k < group.size(); ++k) per_rcpt[group[k]] = r.recipients[k];
      if (j.queued_as.empty()) j.queued_as = r.queued_as;
    }
    if (plan.deliveries.size() > 1 && input == smtp::Protocol::kSmtp &&
        std::any_of(per_rcpt.begin(), per_rcpt.end(),
                    [](const Reply& r) { return r.transient(); })) {
      j.notes.push_back("deferred after a partial delivery: a retry may duplicate");
    }
    for (size_t i : plan.silent) per_rcpt[i] = policy::blocked_reply(decisions[i], j.mail_id);
    for (size_t i : plan.refuse) per_rcpt[i] = policy::blocked_reply(decisions[i], j.mail_id);

    // SMTP upstream, some accepted and some refused for good by the next
    // hop: the upstream gets one 250, so the refused ones are told by DSN.
    const bool any_ok = std::any_of(per_rcpt.begin(), per_rcpt.end(),
                                    [](const Reply& rep) { return rep.positive(); });
    std::vector<policy::DsnRecipient> refused;
    for (const auto& group : plan.deliveries) {
      for (size_t i : group) {
        if (per_rcpt[i].permanent() && policy::failure_dsn_wanted(env, env.recipients[i])) {
          refused.push_back({env.recipients[i].address, env.recipients[i].orcpt, per_rcpt[i]});
        }
      }
    }
    if (input == smtp::Protocol::kSmtp && any_ok && !refused.empty()) {
      Reply sent =
          co_await send_dsn(ref, "MTA-BLOCKED", "the next hop refused some recipients", refused);
      if (!sent.positive()) {
        // Delivered to some but cannot report the rest: a retry duplicates
        // for the accepted ones, which beats losing the others silently.
        spdlog::error("({}) DSN for refused recipients not accepted: {}", j.mail_id,
                      sent.one_line());
        std::fill(per_rcpt.begin(), per_rcpt.end(),
                  Reply{451, "4.4.0", "Error: could not send DSN, id=" + j.mail_id});
      } else {
        j.notes.push_back("DSN sent for refused recipients");
      }
    }

    // The bounced (and, with SMTP, the rejected among others) get one DSN.
    std::vector<policy::DsnRecipient> bounced;
    for (size_t i : plan.bounce) {
      policy::Decision as_bounce = decisions[i];
      as_bounce.destiny = Destiny::kBounce;
      per_rcpt[i] = policy::blocked_reply(as_bounce, j.mail_id);
      if (policy::failure_dsn_wanted(env, env.recipients[i])) {
        bounced.push_back({env.recipients[i].address, env.recipients[i].orcpt,
                           policy::rejection_reply(decisions[i], j.mail_id)});
      }
    }
    for (size_t i : plan.silent) {
      if (!fates[i].dsn_suppressed.empty()) {
        j.notes.push_back("no DSN (" + fates[i].dsn_suppressed + ")");
        break;
      }
    }
    if (!plan.bounce.empty() && bounced.empty()) j.notes.push_back("no DSN (NOTIFY)");
    if (!bounced.empty()) {
      const policy::Decision& why = decisions[plan.bounce.front()];
      std::string category(policy::category_log_name(why.category));
      if (!why.minor.empty()) category += "-" + why.minor;
      Reply sent = co_await send_dsn(ref, category, why.reason, bounced);
      if (sent.positive()) {
        j.notes.push_back("DSN sent");
        if (j.queued_as.empty()) j.queued_as = smtp::parse_queued_as(sent.text);
      } else {
        // The bounce is part of the destiny: without it, the MTA must retry.
        const Reply retry{451, "4.4.0", "Error: could not send DSN, id=" + j.mail_id};
        if (input == smtp::Protocol::kSmtp) {
          std::fill(per_rcpt.begin(), per_rcpt.end(), retry);
        } else {
          for (size_t i : plan.bounce) per_rcpt[i] = retry;
        }
        j.notes.push_back("DSN failed: " + sent.one_line());
      }
    }
    co_await send_notices(ref, decisions, j.policies);
  }
  j.times.forward = Clock::now() - forward_start;
  co_return per_rcpt;
}

struct Processor::Race {
  explicit Race(const asio::any_io_executor& ex) : verdict(ex) {}
  Awaited<Judgement> verdict;
  bool gave_up = false;
};

asio::awaitable<std::optional<Judgement>> Processor::judge_in_time(smtp::Transaction txn,
                                                                   const ClientInfo& client) {
  auto race = std::make_shared<Race>(co_await asio::this_coro::executor);
  asio::co_spawn(race->verdict.executor(), judge_into(race, std::move(txn), client),
                 asio::detached);
  co_await race->verdict.wait(config_.in_dialog_timeout);
  if (!race->verdict.value()) race->gave_up = true;
  co_return std::move(race->verdict.value());
}

asio::awaitable<void> Processor::judge_into(std::shared_ptr<Race> race, smtp::Transaction txn,
                                            ClientInfo client) {
  Judgement j = co_await judge(std::move(txn), smtp::Protocol::kSmtp, client);
  if (race->gave_up) {
    j.notes.push_back("verdict came after in_dialog_timeout");
    log_summary(j, late_reply());
    co_return;
  }
  race->verdict.set(std::move(j));
}

InDialogOutcome Processor::in_dialog(const Judgement& j) const {
  using Action = InDialogOutcome::Action;
  InDialogOutcome out;
  const std::vector<policy::Decision>& d = j.decisions;
  auto first_with = [&](auto pred) { return std::find_if(d.begin(), d.end(), pred); };
  if (j.quarantine_failed) {
    out.action = Action::kTempfail;
    out.reply = Reply{451, "4.3.0", "Error: quarantine failed, id=" + j.mail_id};
    return out;
  }
  if (auto t =
          first_with([](const policy::Decision& x) { return x.destiny == Destiny::kTempfail; });
      t != d.end()) {
    out.action = Action::kTempfail;
    out.reply = policy::blocked_reply(*t, j.mail_id);
    return out;
  }
  if (auto r = first_with([](const policy::Decision& x) {
        return x.destiny == Destiny::kReject || x.destiny == Destiny::kBounce;
      });
      r != d.end()) {
    out.action = Action::kReject;
    out.reply = policy::rejection_reply(*r, j.mail_id);
    return out;
  }
  auto pass = first_with([](const policy::Decision& x) { return x.destiny == Destiny::kPass; });
  if (pass == d.end()) {
    out.action = Action::kDiscard;
    out.reply = d.empty() ? Reply{250, "2.0.0", "Ok, id=" + j.mail_id}
                          : policy::blocked_reply(d.front(), j.mail_id);
    return out;
  }
  out.action = Action::kPass;
  out.edits = j.fates[static_cast<size_t>(pass - d.begin())].edits;
  out.deliver_to.resize(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i].destiny == Destiny::kPass) out.deliver_to[i] = j.fates[i].deliver_to;
  }
  return out;
}

asio::awaitable<void> Processor::finish_in_dialog(Judgement& j, const InDialogOutcome& outcome,
                                                  Reply reply) {
  using Action = InDialogOutcome::Action;
  if (outcome.action == Action::kPass) {
    if (j.plan.deliveries.size() > 1) j.notes.push_back("one set of edits for all recipients");
    if (reply.positive()) j.queued_as = smtp::parse_queued_as(reply.text);
  }
  if (outcome.action != Action::kTempfail) {
    smtp::ClientOptions fwd = forward_options();
    const policy::Settings& bank = *j.bank;
    const smtp::Endpoint& hop = bank.forward ? *bank.forward : config_.forward;
    MessageRef ref{j.mail_id, j.arrival, j.txn.envelope, j.message(),    fwd,
                   bank,      hop,       j.client,       j.quarantine_id};
    const auto start = Clock::now();
    co_await send_notices(ref, j.decisions, j.policies);
    j.times.forward += Clock::now() - start;
  }
  log_summary(j, reply);
}

void Processor::log_summary(const Judgement& j, const Reply& reply) const {
  const smtp::Envelope& env = j.txn.envelope;
  const size_t n_rcpt = env.recipients.size();
  std::string client_part = j.client.peer;
  if (!env.xforward.addr.empty()) client_part += " [" + env.xforward.addr + "]";
  auto message_id = decoders::header_value(header_section(j.txn.data), "Message-ID");
  std::string extra;
  if (j.bank->name != "base") extra += ", bank " + j.bank->name;
  const size_t passed =
      static_cast<size_t>(std::count_if(j.decisions.begin(), j.decisions.end(),
                                        [](const policy::Decision& d) { return !d.blocked(); }));
  if (passed > 0 && passed < n_rcpt) {
    extra += ", " + std::to_string(passed) + "/" + std::to_string(n_rcpt) + " recipients passed";
  }
  if (!reply.positive()) extra += ", reply: " + reply.one_line();
  for (const auto& note : j.notes) extra += ", " + note;
  const size_t head = headline(j.decisions);
  spdlog::info(
      "({}) {}, {} <{}> -> {}, Message-ID: {}, mail_id: {}, Hits: {}, size: {}, queued_as: {}{}, "
      "{}",
      j.mail_id, n_rcpt ? policy::summary_words(j.decisions[head]) : "Passed CLEAN", client_part,
      env.sender, join_recipients(env), policy::one_line_utf8(message_id.value_or("-"), 200),
      j.mail_id, j.findings.spam ? fmt::format("{:.3f}", j.findings.spam->score) : "-",
      j.txn.data.size(), j.queued_as.empty() ? "-" : j.queued_as, extra,
      format_stage_times(Clock::now() - j.start, j.times));
}

}  // namespace filterd
