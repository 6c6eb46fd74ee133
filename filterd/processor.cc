// processor.cc — see processor.h.
#include "filterd/processor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>

#include "decoders/header_block.h"
#include "filterd/content_scan.h"
#include "filterd/mail_id.h"
#include "policy/dsn.h"
#include "policy/verdict.h"
#include "smtp/client.h"

namespace filterd {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using policy::Destiny;
using smtp::Reply;

namespace {

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// Everything the summary line needs, filled in as the message moves on.
struct Trace {
  std::string mail_id;
  Clock::time_point start = Clock::now();
  long long decode_ms = 0, scan_ms = 0, forward_ms = 0;
  std::string queued_as;
  std::string note;  // extra words, e.g. "DSN sent" or a failure reason
};

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

// Header values come from the network: printable, bounded, one line.
std::string log_safe(std::string_view s) {
  constexpr size_t kMaxLogField = 200;
  std::string out;
  for (char c : s.substr(0, kMaxLogField)) {
    out += static_cast<unsigned char>(c) < 32 || c == 127 ? '?' : c;
  }
  if (s.size() > kMaxLogField) out += "...";
  return out;
}

}  // namespace

asio::awaitable<Reply> Processor::send_dsn(const Dsn& d, std::string reason,
                                           std::vector<policy::DsnRecipient> recipients) {
  const policy::DsnInput in{config_.myhostname,
                            d.mail_id,
                            policy::rfc5322_date(std::time(nullptr)),
                            policy::rfc5322_date(d.arrival),
                            d.envelope.envid,
                            d.envelope.sender,
                            std::move(reason),
                            std::move(recipients),
                            header_section(d.message)};
  smtp::Envelope to_sender;  // null sender: a DSN is never bounced (RFC 3461 §6.2)
  to_sender.recipients.push_back({d.envelope.sender, "", ""});
  smtp::DeliveryResult r =
      co_await smtp::deliver(config_.forward, to_sender, "", policy::compose_dsn(in), d.forward);
  co_return r.recipients.front();
}

Processor::Processor(const Config& config, scanners::VirusScanner& scanner,
                     const decoders::DecoderRegistry& decoders, asio::thread_pool& workers)
    : config_(config), scanner_(scanner), decoders_(decoders), workers_(workers) {}

asio::awaitable<std::vector<Reply>> Processor::process(smtp::Transaction txn, smtp::Protocol input,
                                                       const ClientInfo& client) {
  Trace trace;
  trace.mail_id = new_mail_id();
  const long long arrival = std::time(nullptr);
  const smtp::Envelope& env = txn.envelope;
  const size_t n_rcpt = env.recipients.size();
  const std::string_view data = txn.data;

  // CPU work leaves the I/O thread; the coroutine resumes here afterwards.
  ContentScan content = co_await asio::co_spawn(
      workers_,
      [&]() -> asio::awaitable<ContentScan> {
        co_return scan_content(data, scanner_, decoders_, config_.decode_limits);
      },
      asio::use_awaitable);
  trace.decode_ms = content.decode_ms;
  trace.scan_ms = content.scan_ms;
  const policy::Findings& findings = content.findings;
  if (findings.scan_failed) {
    spdlog::warn("({}) virus scan failed: {}", trace.mail_id, findings.scan_error);
  }
  const policy::Decision decision = policy::decide(findings, config_.policy);

  std::vector<Reply> per_rcpt(n_rcpt);
  auto forward_start = Clock::now();
  smtp::ClientOptions fwd = config_.forward_options;
  fwd.all_or_nothing = input == smtp::Protocol::kSmtp;
  const Dsn dsn{trace.mail_id, arrival, env, data, fwd};

  if (decision.destiny == Destiny::kPass) {
    const std::string_view eol = decoders::line_ending_of(data);
    std::string prefix = "X-Virus-Scanned: " + config_.x_virus_scanned + std::string(eol);
    smtp::DeliveryResult r = co_await smtp::deliver(config_.forward, env, prefix, data, fwd);
    per_rcpt = std::move(r.recipients);
    trace.queued_as = r.queued_as;
    // SMTP upstream, some accepted and some refused for good: the upstream
    // gets one 250, so the refused ones are told by DSN here.
    const bool any_ok = std::any_of(per_rcpt.begin(), per_rcpt.end(),
                                    [](const Reply& rep) { return rep.positive(); });
    std::vector<policy::DsnRecipient> refused;
    for (size_t i = 0; i < n_rcpt; ++i) {
      if (per_rcpt[i].permanent() && policy::failure_dsn_wanted(env, env.recipients[i])) {
        refused.push_back({env.recipients[i].address, env.recipients[i].orcpt, per_rcpt[i]});
      }
    }
    if (input == smtp::Protocol::kSmtp && any_ok && !refused.empty()) {
      Reply sent = co_await send_dsn(dsn, "the next hop refused some recipients", refused);
      if (!sent.positive()) {
        // Delivered to some but cannot report the rest: a retry duplicates
        // for the accepted ones, which beats losing the others silently.
        spdlog::error("({}) DSN for refused recipients not accepted: {}", trace.mail_id,
                      sent.one_line());
        std::fill(per_rcpt.begin(), per_rcpt.end(),
                  Reply{451, "4.4.0", "Error: could not send DSN, id=" + trace.mail_id});
      } else {
        trace.note = "DSN sent for refused recipients";
      }
    }
  } else if (decision.destiny == Destiny::kBounce) {
    const std::string what =
        std::string(policy::category_log_name(decision.category)) + ": " + decision.reason;
    const Reply rejected{554, "5.7.0", "Reject, id=" + trace.mail_id + " - " + what};
    std::vector<policy::DsnRecipient> bounced;
    for (const auto& r : env.recipients) {
      if (policy::failure_dsn_wanted(env, r)) bounced.push_back({r.address, r.orcpt, rejected});
    }
    Reply outcome = policy::blocked_reply(decision, trace.mail_id);
    if (bounced.empty()) {
      trace.note = "no DSN (null sender or NOTIFY)";
    } else {
      Reply sent = co_await send_dsn(dsn, what, bounced);
      if (sent.positive()) {
        trace.note = "DSN sent";
        trace.queued_as = smtp::parse_queued_as(sent.text);
      } else {
        // The bounce is part of the destiny: without it, the MTA must retry.
        outcome = Reply{451, "4.4.0", "Error: could not send DSN, id=" + trace.mail_id};
        trace.note = "DSN failed: " + sent.one_line();
      }
    }
    std::fill(per_rcpt.begin(), per_rcpt.end(), outcome);
  } else {
    std::fill(per_rcpt.begin(), per_rcpt.end(), policy::blocked_reply(decision, trace.mail_id));
  }
  trace.forward_ms = ms_since(forward_start);

  std::vector<Reply> replies;
  if (input == smtp::Protocol::kLmtp) {
    replies = per_rcpt;
  } else {
    replies.push_back(policy::collapse_for_smtp(per_rcpt));
  }

  // One summary line per message, in the spirit of amavis's.
  std::string client_part = client.peer;
  if (!env.xforward.addr.empty()) client_part += " [" + env.xforward.addr + "]";
  auto message_id = decoders::header_value(header_section(data), "Message-ID");
  std::string extra;
  if (!replies.front().positive()) extra += ", reply: " + replies.front().one_line();
  if (!trace.note.empty()) extra += ", " + trace.note;
  spdlog::info(
      "({}) {}, {} <{}> -> {}, Message-ID: {}, mail_id: {}, size: {}, queued_as: {}{}, {} ms "
      "(decode {} ms, scan {} ms, forward {} ms)",
      trace.mail_id, policy::summary_words(decision), client_part, env.sender, join_recipients(env),
      log_safe(message_id.value_or("-")), trace.mail_id, data.size(),
      trace.queued_as.empty() ? "-" : trace.queued_as, extra, ms_since(trace.start),
      trace.decode_ms, trace.scan_ms, trace.forward_ms);
  co_return replies;
}

}  // namespace filterd
