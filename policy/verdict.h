// verdict.h — from scan findings and settings to a decision, and from the
// decision plus the next hop's answers to the replies the upstream MTA gets.
//
// Pure functions: no I/O, no clocks, no globals. Tested with tables.
#pragma once

#include <string>
#include <vector>

#include "policy/destiny.h"
#include "smtp/reply.h"

namespace filterd::policy {

struct Findings {
  std::vector<std::string> viruses;  // signature names; empty = none found
  std::string virus_location;        // the part that held the first one: "p002/p001 clam.exe"
  bool scan_failed = false;          // the scanner could not give an answer
  std::string scan_error;            // why, for the log and the 4xx text
  std::string unchecked_reason;      // a decoding or scanning limit was hit, and where
  std::string encrypted;             // an encrypted part, whose content is unknown
};

struct Settings {
  Destiny final_virus_destiny = Destiny::kDiscard;       // amavis (Debian) default
  Destiny final_unchecked_destiny = Destiny::kPass;      // amavis default
  Destiny scanner_failure_destiny = Destiny::kTempfail;  // never a silent pass
};

struct Decision {
  Category category = Category::kClean;
  std::string minor;  // "ENCRYPTED", "OVERLIMIT" for UNCHECKED
  Destiny destiny = Destiny::kPass;
  std::string reason;  // "Eicar-Test-Signature", or the scanner error
};

Decision decide(const Findings& findings, const Settings& settings);

// The reply for a message that is not delivered (every destiny but D_PASS;
// for D_BOUNCE this is the reply once the DSN was handed on).
// Texts follow amavis: "554 5.7.0 Reject, id=... - INFECTED: Eicar-Test-Signature".
smtp::Reply blocked_reply(const Decision& d, const std::string& mail_id);

// Collapses per-recipient replies into the single reply an SMTP upstream
// gets: all accepted → the first acceptance; any deferral → that deferral
// (the client made sure nothing was delivered then); all refused → the
// first refusal. REQUIRES: the mixed accepted/refused case was handled by
// the caller (a DSN for the refused ones), then it yields the acceptance.
smtp::Reply collapse_for_smtp(const std::vector<smtp::Reply>& per_recipient);

// The "Passed CLEAN" / "Blocked INFECTED (Eicar-Test-Signature)" words of
// the summary log line.
std::string summary_words(const Decision& d);

}  // namespace filterd::policy
