// milter_answer.cc — see milter_answer.h.
#include "filterd/milter_answer.h"

#include <spdlog/spdlog.h>

#include <array>
#include <string_view>

#include "decoders/ascii.h"
#include "decoders/header_block.h"

namespace filterd {
namespace {
namespace m = milter;
using Action = InDialogOutcome::Action;

constexpr std::array<std::string_view, 4> kSpamFields = {"X-Spam-Flag", "X-Spam-Score",
                                                         "X-Spam-Level", "X-Spam-Status"};

// Header values travel with LF alone between folded lines: the MTA adds
// the CR (libmilter's smfi_addheader contract).
std::string lf_folds(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\r' && i + 1 < v.size() && v[i + 1] == '\n') continue;
    out += v[i];
  }
  return out;
}

// What follows "Name:", as the milter protocol carries it: with its leading
// space when that was negotiated (else the MTA puts one back), no line end.
std::string wire_value(std::string_view value, bool leading_space) {
  while (value.ends_with('\n') || value.ends_with('\r')) value.remove_suffix(1);
  if (!leading_space && value.starts_with(' ')) value.remove_prefix(1);
  return lf_folds(value);
}

// "X-Virus-Scanned: filterd" → {"X-Virus-Scanned", " filterd"}.
std::optional<m::AddHeader> added_field(std::string_view field, bool leading_space) {
  const size_t colon = field.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return m::AddHeader{std::string(field.substr(0, colon)),
                      wire_value(field.substr(colon + 1), leading_space)};
}

// Steps 1 and 2 of the contract, on the fields as the MTA sent them.
void header_edits(std::string_view received, const policy::MessageEdits& e, bool leading_space,
                  std::vector<m::Reply>& out) {
  const std::vector<decoders::HeaderField> fields = decoders::parse_header_fields(received);
  if (e.replace_spam_fields) {
    for (std::string_view name : kSpamFields) {
      uint32_t n = 0;
      for (const auto& f : fields) n += decoders::iequals(f.name, name) ? 1 : 0;
      for (uint32_t k = n; k >= 1; --k) out.push_back(m::ChangeHeader{k, std::string(name), ""});
    }
  }
  if (e.subject_tag.empty()) return;
  for (const auto& f : fields) {
    if (!decoders::iequals(f.name, "Subject")) continue;
    std::string_view value = f.raw.substr(f.raw.find(':') + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);  // apply_edits puts exactly one back
    const std::string tagged = " " + e.subject_tag + std::string(value);
    out.push_back(m::ChangeHeader{1, "Subject", wire_value(tagged, leading_space)});
    return;
  }
  std::string tag = e.subject_tag;
  while (!tag.empty() && tag.back() == ' ') tag.pop_back();
  out.push_back(m::AddHeader{"Subject", wire_value(" " + tag, leading_space)});
}

smtp::Reply config_error(const std::string& mail_id, std::string_view what) {
  return {451, "4.3.5", "Error: " + std::string(what) + ", id=" + mail_id};
}

}  // namespace

m::Reply milter_refusal(const smtp::Reply& reply) {
  auto rc = m::reply_code(reply.code, smtp::checked_status(reply.code, reply.status), reply.text);
  if (rc) return *rc;
  spdlog::error("milter: cannot send reply \"{}\": {}", reply.one_line(), rc.error().message());
  return m::Tempfail{};
}

MilterAnswer milter_answer(const Judgement& j, const InDialogOutcome& outcome, uint32_t actions,
                           bool leading_space, const std::string& queue_id) {
  MilterAnswer a;
  a.reply = outcome.reply;
  switch (outcome.action) {
    case Action::kReject:
    case Action::kTempfail:
      a.replies.push_back(milter_refusal(a.reply));
      return a;
    case Action::kDiscard:
      a.replies.push_back(m::Discard{});
      return a;
    case Action::kPass:
      break;
  }
  auto refuse = [&](std::string_view why) {
    a.reply = config_error(j.mail_id, why);
    a.replies = {milter_refusal(a.reply)};
    a.notes.push_back(std::string(why));
    return a;
  };
  const std::string_view received = j.txn.data;
  const policy::MessageEdits& e = outcome.edits;
  header_edits(received, e, leading_space, a.replies);
  for (const std::string& field : e.add_fields) {
    if (auto h = added_field(field, leading_space)) a.replies.push_back(std::move(*h));
  }

  if (j.edited) {
    const std::string_view sent = j.message();
    const size_t head = decoders::header_section_end(sent);
    if ((actions & m::action::kChangeBody) == 0) {
      return refuse("MTA does not allow body replacement (attachment removal)");
    }
    if (received.substr(0, decoders::header_section_end(received)) != sent.substr(0, head)) {
      return refuse("attachment removal changed the header section");
    }
    std::string_view body = sent.substr(head);
    do {
      const std::string_view chunk = body.substr(0, m::kBodyChunk);
      a.replies.push_back(m::ReplaceBody{std::string(chunk)});
      body.remove_prefix(chunk.size());
    } while (!body.empty());
  }

  const auto& rcpts = j.txn.envelope.recipients;
  const bool can_delete = (actions & m::action::kDeleteRcpt) != 0;
  const bool can_add = (actions & m::action::kAddRcpt) != 0;
  bool extension_skipped = false;
  for (size_t i = 0; i < rcpts.size() && i < outcome.deliver_to.size(); ++i) {
    const std::optional<std::string>& to = outcome.deliver_to[i];
    if (to && *to == rcpts[i].address) continue;
    if (!to) {
      if (!can_delete) return refuse("MTA does not allow removing recipients");
      a.replies.push_back(m::DeleteRcpt{m::rcpt_address(rcpts[i].address)});
      continue;
    }
    if (!can_delete || !can_add) {
      extension_skipped = true;  // the recipient still gets the mail, unextended
      continue;
    }
    a.replies.push_back(m::DeleteRcpt{m::rcpt_address(rcpts[i].address)});
    a.replies.push_back(m::AddRcpt{m::rcpt_address(*to)});
  }
  if (extension_skipped) a.notes.push_back("address extension not applied (MTA does not allow it)");

  a.replies.push_back(m::Accept{});
  a.reply = {250, "2.0.0", queue_id.empty() ? "Ok" : "Ok: queued as " + queue_id};
  return a;
}

}  // namespace filterd
