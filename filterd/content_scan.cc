// content_scan.cc — see content_scan.h.
#include "filterd/content_scan.h"

#include <algorithm>
#include <chrono>

#include "policy/banned.h"

namespace filterd {
namespace {

using Clock = std::chrono::steady_clock;

// ClamAV reports a limit it hit as a "virus" named Heuristics.Limits.*: that
// is an unchecked part, not an infection.
bool is_limit_finding(std::string_view name) {
  return name.starts_with("Heuristics.Limits.");
}

// An unencoded stretch of the raw message that is the mail's own text: a
// text/plain or text/html body with no file name, whose bytes look like
// text. libclamav's mail parser scanned it as text (and HTML) in the raw
// scan. Every other part is scanned on its own, also an unencoded stretch:
// that parser does not hash a binary (or 7bit) attachment as the file it is
// (.hdb signatures), and a body that is not text is not what it claims.
bool inline_text_body(const decoders::Part& p) {
  const bool raw_stretch = p.decoder == "mime" && p.parent < 0;
  const bool declared_text =
      p.declared_type.empty() || p.declared_type == "text/plain" || p.declared_type == "text/html";
  const bool looks_text =
      p.detected_type == ".txt" || p.detected_type == ".asc" || p.detected_type == ".html";
  return raw_stretch && declared_text && p.declared_names.empty() && looks_text;
}

void add_result(policy::Findings& f, const scanners::VirusScanResult& r, const std::string& where,
                int part) {
  for (const auto& v : r.viruses) {
    if (is_limit_finding(v)) {
      if (f.unchecked_reason.empty())
        f.unchecked_reason = v + (where.empty() ? "" : " in " + where);
      continue;
    }
    if (std::find(f.viruses.begin(), f.viruses.end(), v) == f.viruses.end()) f.viruses.push_back(v);
    // The raw scan names the virus first; the part scan says where it is.
    if (f.virus_location.empty() && !where.empty()) f.virus_location = where;
    if (part >= 0 && (f.virus_parts.empty() || f.virus_parts.back() != part)) {
      f.virus_parts.push_back(part);
    }
  }
}

// The MIME parser's complaints about the message, for the "mime" bad-header check.
std::vector<std::string> mime_problems(const decoders::DecodeResult& d) {
  std::vector<std::string> out = d.structure_problems;
  for (const decoders::Part& p : d.parts) {
    if (p.decoder != "mime" && p.decoder != "base64" && p.decoder != "quoted-printable") continue;
    if (!p.problem.empty() && p.problem != "junk in base64")
      out.push_back(p.path + ": " + p.problem);
  }
  return out;
}

}  // namespace

ContentScan scan_content(std::string_view message, scanners::VirusScanner& scanner,
                         const decoders::DecoderRegistry& registry,
                         const decoders::DecodeLimits& limits, const policy::Settings& policy,
                         bool smtputf8) {
  ContentScan out;
  auto t0 = Clock::now();
  out.decoded = decoders::decode_message(message, limits, registry);
  out.decode = Clock::now() - t0;
  policy::Findings& f = out.findings;
  if (out.decoded.over_limits()) f.unchecked_reason = out.decoded.limit;
  if (!out.decoded.encrypted.empty()) f.encrypted = out.decoded.encrypted.front();
  if (f.unchecked_reason.empty() && !out.decoded.undecodable.empty()) {
    f.unchecked_reason = "no decoder for " + out.decoded.undecodable.front();
  }
  if (!out.decoded.temp_error.empty()) {
    f.scan_failed = true;  // a part we could not keep is a part we did not check
    f.scan_error = out.decoded.temp_error;
  }

  auto t1 = Clock::now();
  auto record = [&](std::string_view bytes, const std::string& where, int part,
                    scanners::ScanOptions options) {
    auto r = scanner.scan(bytes, where.empty() ? "message" : where, options);
    if (!r) {
      f.scan_failed = true;
      if (f.scan_error.empty()) f.scan_error = r.error().message;
      return;
    }
    add_result(f, *r, where, part);
  };
  // The raw message goes through libclamav's own mail parser as well as
  // ours: parsers that disagree are how attachments get past filters, and
  // only that parser runs ClamAV's phishing signatures and scans each
  // container whole (bytes after an archive, signatures on its metadata).
  record(message, "", -1, {});
  for (size_t i = 0; i < out.decoded.parts.size(); ++i) {
    const decoders::Part& p = out.decoded.parts[i];
    if (f.scan_failed) break;
    // A container we unpacked cleanly is covered by its children (and was
    // scanned whole in the raw scan); a damaged one, members we could not
    // read, is scanned whole here too.
    const bool covered_by_children = p.has_children && p.problem.empty();
    if (p.encrypted || covered_by_children || p.content.size() == 0 || inline_text_body(p)) {
      continue;
    }
    record(p.content.bytes(), p.label(), static_cast<int>(i), {.fd = p.content.fd()});
  }
  // The raw scan found something no part scan did: the mail's own text
  // bodies were skipped above; scan them now (infected mail is rare) to say
  // which part held it.
  if (!f.viruses.empty() && f.virus_location.empty()) {
    for (size_t i = 0; i < out.decoded.parts.size(); ++i) {
      const decoders::Part& p = out.decoded.parts[i];
      if (!inline_text_body(p)) continue;
      auto r = scanner.scan(p.content.bytes(), p.label());
      if (r && r->infected()) {
        if (f.virus_location.empty()) f.virus_location = p.label();
        f.virus_parts.push_back(static_cast<int>(i));
      }
    }
  }
  out.scan = Clock::now() - t1;

  f.size = message.size();
  if (policy.banned_rules) {
    for (const policy::BannedPart& b :
         policy::match_banned(*policy.banned_rules, out.decoded.parts)) {
      f.banned.push_back({policy::banned_reason(b), static_cast<int>(b.index)});
    }
  }
  policy::BadHeaderChecks checks = policy.bad_header_checks;
  checks.smtputf8 = smtputf8;
  f.bad_headers = policy::check_headers(message, checks, mime_problems(out.decoded));
  return out;
}

}  // namespace filterd
