// verdict.cc — see verdict.h.
#include "policy/verdict.h"

#include <cctype>
#include <cstdio>

namespace filterd::policy {
namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool loves(const RecipientPolicy& p, Category c) {
  if (p.lover[idx(c)]) return true;
  // Bypassing a check that still ran for other recipients means getting
  // the mail as if the check had not run (amavis: bypass implies lover).
  switch (c) {
    case Category::kVirus:
      return p.bypass_virus_checks;
    case Category::kBanned:
      return p.bypass_banned_checks;
    case Category::kSpam:
    case Category::kSpammy:
      return p.bypass_spam_checks;
    case Category::kBadHeader:
      return p.bypass_header_checks;
    default:
      return false;
  }
}

}  // namespace

std::string score_text(double v) {
  // amavis's style: three decimals at most, no trailing zeros ("6.31",
  // "1000", "-0.1").
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

RecipientPolicy RecipientPolicy::defaults() {
  RecipientPolicy p;
  p.destiny.fill(Destiny::kPass);
  p.destiny[idx(Category::kVirus)] = Destiny::kDiscard;
  p.destiny[idx(Category::kBanned)] = Destiny::kBounce;
  p.destiny[idx(Category::kUnchecked)] = Destiny::kPass;
  p.destiny[idx(Category::kSpam)] = Destiny::kBounce;
  p.destiny[idx(Category::kBadHeader)] = Destiny::kPass;
  p.destiny[idx(Category::kOversized)] = Destiny::kBounce;
  p.subject_tag[idx(Category::kVirus)] = "***INFECTED*** ";
  p.subject_tag[idx(Category::kSpam)] = "***SPAM*** ";
  p.subject_tag[idx(Category::kSpammy)] = "***SPAM*** ";
  p.subject_tag[idx(Category::kUnchecked)] = "***UNCHECKED*** ";
  p.addr_extension[idx(Category::kVirus)] = "virus";
  p.addr_extension[idx(Category::kBanned)] = "banned";
  p.addr_extension[idx(Category::kSpam)] = "spam";
  p.addr_extension[idx(Category::kSpammy)] = "spam";
  p.addr_extension[idx(Category::kBadHeader)] = "badh";
  return p;
}

std::vector<Category> categories(const Findings& f, const RecipientPolicy& p) {
  std::vector<Category> out;
  if (!f.viruses.empty()) out.push_back(Category::kVirus);
  if (!f.banned.empty()) out.push_back(Category::kBanned);
  if (f.scan_failed || !f.encrypted.empty() || !f.unchecked_reason.empty()) {
    out.push_back(Category::kUnchecked);
  }
  if (f.spam && f.spam->score >= p.spam_kill_level) out.push_back(Category::kSpam);
  if (f.spam && f.spam->score >= p.spam_tag2_level) out.push_back(Category::kSpammy);
  if (!f.bad_headers.empty()) out.push_back(Category::kBadHeader);
  if (p.message_size_limit > 0 && f.size > p.message_size_limit) {
    out.push_back(Category::kOversized);
  }
  return out;
}

std::string category_reason(const Findings& f, Category c, const RecipientPolicy& p) {
  switch (c) {
    case Category::kVirus: {
      std::string r;
      for (const auto& v : f.viruses) r += (r.empty() ? "" : ", ") + v;
      if (!f.virus_location.empty()) r += " in " + f.virus_location;
      return r;
    }
    case Category::kBanned:
      return f.banned.empty() ? "" : f.banned.front().reason;
    case Category::kUnchecked:
      if (f.scan_failed) return "virus scan failed: " + f.scan_error;
      return f.encrypted.empty() ? f.unchecked_reason : "encrypted " + f.encrypted;
    case Category::kSpam:
    case Category::kSpammy:
      if (!f.spam) return "";
      return "score=" + score_text(f.spam->score) + " tag2=" + score_text(p.spam_tag2_level) +
             " kill=" + score_text(p.spam_kill_level);
    case Category::kBadHeader:
      if (f.bad_headers.empty()) return "";
      return f.bad_headers.front().minor + ": " + f.bad_headers.front().detail;
    case Category::kOversized:
      return "size " + std::to_string(f.size) + " > " + std::to_string(p.message_size_limit);
    case Category::kClean:
      return "";
  }
  return "";
}

Decision decide(const Findings& f, const RecipientPolicy& p, Destiny scanner_failure) {
  Decision d;
  const std::vector<Category> present = categories(f, p);
  if (present.empty()) return d;
  d.main = present.front();
  d.category = d.main;
  // A failed scan that found no virus is no verdict: with D_TEMPFAIL the MTA
  // retries, whatever else was found (4xx on any doubt). With D_PASS the
  // failure is an UNCHECKED nobody can love or block, and the rest of the
  // policy still applies.
  const bool failed = f.scan_failed && f.viruses.empty();
  if (failed && scanner_failure == Destiny::kTempfail) {
    d.category = Category::kUnchecked;
    d.destiny = Destiny::kTempfail;
    d.reason = category_reason(f, Category::kUnchecked, p);
    return d;
  }
  for (Category c : present) {
    if (c == Category::kUnchecked && failed) continue;  // scanner_failure is D_PASS
    if (loves(p, c) || p.destiny[idx(c)] == Destiny::kPass) continue;
    d.category = c;
    d.destiny = p.destiny[idx(c)];
    break;
  }
  d.reason = category_reason(f, d.category, p);
  if (d.category == Category::kUnchecked && !failed) {
    d.minor = f.encrypted.empty() ? "OVERLIMIT" : "ENCRYPTED";
  } else if (d.category == Category::kBadHeader && !f.bad_headers.empty()) {
    d.minor = upper(f.bad_headers.front().minor);
  }
  return d;
}

smtp::Reply rejection_reply(const Decision& d, const std::string& mail_id) {
  std::string what =
      std::string(category_log_name(d.category)) + (d.minor.empty() ? "" : "-" + d.minor);
  if (!d.reason.empty()) what += ": " + d.reason;
  const std::string text = "Reject, id=" + mail_id + " - " + what;
  switch (d.category) {
    case Category::kBadHeader:
      return smtp::Reply{554, "5.6.0", text};
    case Category::kOversized:
      return smtp::Reply{552, "5.3.4", text};
    default:
      return smtp::Reply{554, "5.7.0", text};
  }
}

smtp::Reply blocked_reply(const Decision& d, const std::string& mail_id) {
  std::string what =
      std::string(category_log_name(d.category)) + (d.minor.empty() ? "" : "-" + d.minor);
  if (!d.reason.empty()) what += ": " + d.reason;
  switch (d.destiny) {
    case Destiny::kPass:
      return smtp::Reply{250, "2.0.0", "Ok, id=" + mail_id};
    case Destiny::kDiscard:
      return smtp::Reply{250, "2.7.0", "Ok, discarded, id=" + mail_id + " - " + what};
    case Destiny::kBounce:
      return smtp::Reply{250, "2.5.0", "Ok, id=" + mail_id + ", BOUNCE - " + what};
    case Destiny::kReject:
      return rejection_reply(d, mail_id);
    case Destiny::kTempfail:
      if (d.category == Category::kUnchecked && d.reason.starts_with("virus scan failed")) {
        return smtp::Reply{451, "4.5.0", "Error in processing, id=" + mail_id + ", " + d.reason};
      }
      return smtp::Reply{451, "4.7.1", "Try again later, id=" + mail_id + " - " + what};
  }
  return smtp::Reply{451, "4.5.0", "Error in processing, id=" + mail_id};
}

std::string dsn_suppression(const Findings& f, const Decision& d, const RecipientPolicy& p,
                            bool null_sender, bool bulk, bool fakes_sender) {
  if (null_sender) return "null sender";
  if (d.category == Category::kVirus && fakes_sender) return "virus fakes sender";
  if ((d.category == Category::kSpam || d.category == Category::kSpammy) && f.spam &&
      f.spam->score >= p.spam_dsn_cutoff_level) {
    return "spam above cutoff";
  }
  if (bulk) return "bulk mail";
  return "";
}

smtp::Reply collapse_for_smtp(const std::vector<smtp::Reply>& per_recipient) {
  const smtp::Reply* first_ok = nullptr;
  const smtp::Reply* first_temp = nullptr;
  const smtp::Reply* first_perm = nullptr;
  for (const auto& r : per_recipient) {
    if (r.positive() && !first_ok) first_ok = &r;
    if (r.transient() && !first_temp) first_temp = &r;
    if (r.permanent() && !first_perm) first_perm = &r;
  }
  if (first_temp) return *first_temp;
  if (first_ok) return *first_ok;
  if (first_perm) return *first_perm;
  return smtp::Reply{451, "4.3.0", "Error: no recipients"};
}

std::string summary_words(const Decision& d) {
  std::string out;
  switch (d.destiny) {
    case Destiny::kPass:
      out = "Passed ";
      break;
    case Destiny::kTempfail:
      out = "Tempfailed ";
      break;
    default:
      out = "Blocked ";
      break;
  }
  out += category_log_name(d.category);
  if (!d.minor.empty()) out += "-" + d.minor;
  if (!d.reason.empty() && d.category != Category::kClean) out += " (" + d.reason + ")";
  return out;
}

}  // namespace filterd::policy
