// content_scan.cc — see content_scan.h.
#include "filterd/content_scan.h"

#include <algorithm>
#include <chrono>

#include "policy/banned.h"

namespace filterd {
namespace {

using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// ClamAV reports a limit it hit as a "virus" named Heuristics.Limits.*: that
// is an unchecked part, not an infection.
bool is_limit_finding(std::string_view name) {
  return name.starts_with("Heuristics.Limits.");
}

// A part whose bytes are literally a stretch of the raw message (no
// transfer encoding, not produced by a decoder) was scanned with it when
// libclamav parsed the message as mail: its mail parser scanned the part as
// a file of its own type. A raw match alone does not parse the part as what
// it is (HTML, PDF, an executable), so then the part is scanned on its own.
bool seen_in_raw_scan(const decoders::Part& p, scanners::Unpack raw_scan) {
  return raw_scan == scanners::Unpack::kEverything && p.decoder == "mime" && p.parent < 0;
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

// libclamav's own mail parser is a second opinion, asked only when ours had
// doubts: a damaged MIME structure or encoding, a part it could not keep, a
// limit that left parts undecoded. Parsers that disagree are how attachments
// get past filters. Otherwise every part that parser would find is scanned
// on its own below, and it would decode and scan them all a second time.
bool decoded_cleanly(const decoders::DecodeResult& d) {
  if (d.over_limits() || !d.temp_error.empty() || !d.structure_problems.empty()) return false;
  // A damaged archive is scanned whole as a part; mail parsing adds nothing.
  return std::none_of(d.parts.begin(), d.parts.end(), [](const decoders::Part& p) {
    return !p.problem.empty() && !p.decoder.starts_with("libarchive/");
  });
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
  out.decode_ms = ms_since(t0);
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
                    const scanners::ScanOptions& options) {
    auto r = scanner.scan(bytes, where.empty() ? "message" : where, options);
    if (!r) {
      f.scan_failed = true;
      if (f.scan_error.empty()) f.scan_error = r.error().message;
      return;
    }
    add_result(f, *r, where, part);
  };
  const scanners::Unpack raw_scan =
      decoded_cleanly(out.decoded) ? scanners::Unpack::kNotAsMail : scanners::Unpack::kEverything;
  record(message, "", -1, {.unpack = raw_scan});
  for (size_t i = 0; i < out.decoded.parts.size(); ++i) {
    const decoders::Part& p = out.decoded.parts[i];
    if (f.scan_failed) break;
    // A container we unpacked cleanly is covered by its children; a damaged
    // one (members we could not read) is scanned whole as well.
    const bool covered_by_children = p.has_children && p.problem.empty();
    if (p.encrypted || covered_by_children || seen_in_raw_scan(p, raw_scan) ||
        p.content.size() == 0) {
      continue;
    }
    record(p.content.bytes(), p.label(), static_cast<int>(i), {.file = p.content.file()});
  }
  // The raw scan found something in bytes we skipped: scan those parts too,
  // only now (infected mail is rare), to say which part held it.
  if (!f.viruses.empty()) {
    for (size_t i = 0; i < out.decoded.parts.size(); ++i) {
      const decoders::Part& p = out.decoded.parts[i];
      if (!seen_in_raw_scan(p, raw_scan) || p.content.size() == 0) continue;
      auto r = scanner.scan(p.content.bytes(), p.label(), {.file = p.content.file()});
      if (r && r->infected()) {
        if (f.virus_location.empty()) f.virus_location = p.label();
        f.virus_parts.push_back(static_cast<int>(i));
      }
    }
  }
  out.scan_ms = ms_since(t1);

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
