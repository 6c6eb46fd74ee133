// verdict.cc — see verdict.h.
#include "policy/verdict.h"

namespace filterd::policy {

Decision decide(const Findings& findings, const Settings& settings) {
  Decision d;
  if (!findings.viruses.empty()) {
    d.category = Category::kVirus;
    d.destiny = settings.final_virus_destiny;
    for (const auto& v : findings.viruses) {
      if (!d.reason.empty()) d.reason += ", ";
      d.reason += v;
    }
    if (!findings.virus_location.empty()) d.reason += " in " + findings.virus_location;
    return d;  // a virus found is a verdict even if another scan failed
  }
  if (findings.scan_failed) {
    d.category = Category::kUnchecked;
    d.destiny = settings.scanner_failure_destiny;
    d.reason = "virus scan failed: " + findings.scan_error;
    return d;
  }
  // Not fully checked: amavis's UNCHECKED with its minor categories.
  if (!findings.encrypted.empty() || !findings.unchecked_reason.empty()) {
    d.category = Category::kUnchecked;
    d.destiny = settings.final_unchecked_destiny;
    d.minor = findings.encrypted.empty() ? "OVERLIMIT" : "ENCRYPTED";
    d.reason =
        findings.encrypted.empty() ? findings.unchecked_reason : "encrypted " + findings.encrypted;
  }
  return d;
}

smtp::Reply blocked_reply(const Decision& d, const std::string& mail_id) {
  const std::string what = std::string(category_log_name(d.category)) +
                           (d.minor.empty() ? "" : "-" + d.minor) + ": " + d.reason;
  switch (d.destiny) {
    case Destiny::kPass:
      return smtp::Reply{250, "2.0.0", "Ok, id=" + mail_id};
    case Destiny::kDiscard:
      return smtp::Reply{250, "2.7.0", "Ok, discarded, id=" + mail_id + " - " + what};
    case Destiny::kBounce:
      return smtp::Reply{250, "2.5.0", "Ok, id=" + mail_id + ", BOUNCE - " + what};
    case Destiny::kReject:
      return smtp::Reply{554, "5.7.0", "Reject, id=" + mail_id + " - " + what};
    case Destiny::kTempfail:
      if (d.category == Category::kUnchecked) {
        return smtp::Reply{451, "4.5.0", "Error in processing, id=" + mail_id + ", " + d.reason};
      }
      return smtp::Reply{451, "4.7.1", "Try again later, id=" + mail_id + " - " + what};
  }
  return smtp::Reply{451, "4.5.0", "Error in processing, id=" + mail_id};
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
  if (!d.reason.empty() && (d.category == Category::kVirus || !d.minor.empty())) {
    out += " (" + d.reason + ")";
  }
  return out;
}

}  // namespace filterd::policy
