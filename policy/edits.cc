// edits.cc — see edits.h.
#include "policy/edits.h"

#include <algorithm>
#include <cstdio>

#include "decoders/ascii.h"
#include "decoders/header_block.h"
#include "policy/mail_text.h"

namespace filterd::policy {
namespace {

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// Folds "Name: a b c ..." at spaces so that no line exceeds 78 characters
// (RFC 5322 §2.1.1 recommendation); continuation lines start with a TAB.
std::string fold(const std::string& field) {
  constexpr size_t kWidth = 78;
  std::string out;
  size_t line_len = 0;
  for (size_t pos = 0; pos < field.size();) {
    size_t next = field.find(' ', pos + 1);
    if (next == std::string::npos) next = field.size();
    std::string_view word = std::string_view(field).substr(pos, next - pos);
    if (line_len > 0 && word.front() == ' ' && line_len + word.size() > kWidth) {
      out += "\r\n\t";
      word.remove_prefix(1);  // the space becomes the fold
      line_len = 1;
    }
    out += word;
    line_len += word.size();
    pos = next;
  }
  return out;
}

bool is_spam_field(std::string_view name) {
  return decoders::iequals(name, "X-Spam-Flag") || decoders::iequals(name, "X-Spam-Score") ||
         decoders::iequals(name, "X-Spam-Level") || decoders::iequals(name, "X-Spam-Status");
}

// Converts the CRLF folds of a new field to the message's own line ends.
std::string with_eol(std::string_view field, std::string_view eol) {
  std::string out;
  size_t pos = 0;
  for (size_t at; (at = field.find("\r\n", pos)) != std::string_view::npos; pos = at + 2) {
    out.append(field.substr(pos, at - pos)).append(eol);
  }
  out.append(field.substr(pos)).append(eol);
  return out;
}

}  // namespace

MessageEdits edits_for(const Findings& f, const Decision& d, const RecipientPolicy& p,
                       const std::string& x_virus_scanned) {
  MessageEdits e;
  if (!x_virus_scanned.empty()) e.add_fields.push_back("X-Virus-Scanned: " + x_virus_scanned);
  if (!p.local) return e;

  if (f.spam && !p.bypass_spam_checks && f.spam->score >= p.spam_tag_level) {
    const double s = f.spam->score;
    const bool spammy = s >= p.spam_tag2_level;
    e.replace_spam_fields = true;
    e.add_fields.push_back(std::string("X-Spam-Flag: ") + (spammy ? "YES" : "NO"));
    e.add_fields.push_back("X-Spam-Score: " + fixed3(s));
    const int stars = std::clamp(static_cast<int>(s), 0, 64);
    if (stars > 0) e.add_fields.push_back("X-Spam-Level: " + std::string(stars, '*'));
    std::string tests;
    for (const auto& t : f.spam->tests) tests += (tests.empty() ? "" : ", ") + one_line_utf8(t, 80);
    e.add_fields.push_back(
        fold(std::string("X-Spam-Status: ") + (spammy ? "Yes" : "No") + ", score=" + fixed3(s) +
             " tag=" + score_text(p.spam_tag_level) + " tag2=" + score_text(p.spam_tag2_level) +
             " kill=" + score_text(p.spam_kill_level) + " tests=[" + tests + "]"));
  }
  // What a passed message still carries, so the reader is warned.
  for (Category c : categories(f, p)) {
    std::string alert;
    switch (c) {
      case Category::kVirus:
        alert = "INFECTED, message contains virus: ";
        break;
      case Category::kBanned:
        alert = "BANNED, message contains ";
        break;
      case Category::kUnchecked:
        alert = "UNCHECKED, ";
        break;
      case Category::kBadHeader:
        alert = "BAD HEADER SECTION, ";
        break;
      default:
        continue;
    }
    e.add_fields.push_back(
        fold("X-Filterd-Alert: " + alert + one_line_utf8(category_reason(f, c, p), 200)));
  }
  e.subject_tag = p.subject_tag[idx(d.main)];
  return e;
}

EditedMessage apply_edits(std::string_view message, const MessageEdits& e) {
  const std::string_view eol = decoders::line_ending_of(message);
  EditedMessage out;
  for (const auto& field : e.add_fields) out.head += with_eol(field, eol);
  if (e.subject_tag.empty() && !e.replace_spam_fields) return out;

  // Rewrite the header section field by field; the rest is kept as is.
  const std::vector<decoders::HeaderField> fields = decoders::parse_header_fields(message);
  size_t end = 0;
  if (!fields.empty()) {
    const auto& last = fields.back().raw;
    end = static_cast<size_t>(last.data() + last.size() - message.data());
  }
  out.head.append(
      message.substr(0, fields.empty() ? 0 : fields.front().raw.data() - message.data()));
  bool tagged = e.subject_tag.empty();
  for (const auto& field : fields) {
    if (e.replace_spam_fields && is_spam_field(field.name)) continue;
    if (!tagged && decoders::iequals(field.name, "Subject")) {
      // "Subject:" + optional space + tag + the original value, folds kept.
      std::string_view raw = field.raw;
      size_t colon = raw.find(':') + 1;
      size_t value = colon;
      if (value < raw.size() && raw[value] == ' ') ++value;
      out.head.append(raw.substr(0, colon)).append(" ").append(e.subject_tag);
      out.head.append(raw.substr(value));
      tagged = true;
      continue;
    }
    out.head.append(field.raw);
  }
  if (!tagged) {
    std::string tag = e.subject_tag;
    while (!tag.empty() && tag.back() == ' ') tag.pop_back();
    out.head += with_eol("Subject: " + tag, eol);
  }
  out.keep_from = end;
  return out;
}

std::string extended_address(std::string_view address, char delimiter, std::string_view extension) {
  const size_t at = address.rfind('@');
  if (delimiter == 0 || extension.empty() || at == std::string_view::npos) {
    return std::string(address);
  }
  const std::string_view local = address.substr(0, at);
  if (local.find(delimiter) != std::string_view::npos) return std::string(address);
  return std::string(local) + delimiter + std::string(extension) + std::string(address.substr(at));
}

std::string address_extension_for(const Decision& d, const RecipientPolicy& p) {
  if (!p.local || d.destiny != Destiny::kPass) return "";
  return p.addr_extension[idx(d.main)];
}

}  // namespace filterd::policy
