// verdict.h — from what the scanners found and one recipient's settings to
// that recipient's decision, and from decisions plus the next hop's answers
// to the replies the upstream MTA gets.
//
// amavis's model: a message has every content category its findings put it
// in (INFECTED and SPAMMY at once, say); the highest is its main category.
// For each recipient, the *blocking* category is the highest one that the
// recipient does not love (`virus_lover`, `spam_lover`, ... or bypassing
// that check) and whose final destiny is not D_PASS. No blocking category:
// the recipient gets the mail (tagged). Otherwise the blocking category's
// destiny applies to that recipient.
//
// Pure functions: no I/O, no clocks, no globals. Tested with tables.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/bad_header.h"
#include "policy/destiny.h"
#include "smtp/reply.h"

namespace filterd::policy {

struct BannedFinding {
  std::string reason;  // "p002 invoice.pdf.exe .exe-ms"
  int part = -1;       // index in the decoded parts, -1 if not one part
};

struct SpamResult {
  double score = 0;
  std::vector<std::string> tests;  // "NAME=1.5", in rule order
};

struct Findings {
  std::vector<std::string> viruses;  // signature names; empty = none found
  std::string virus_location;        // the part that held the first one: "p002/p001 clam.exe"
  std::vector<int> virus_parts;      // indices of decoded parts found infected
  bool scan_failed = false;          // the scanner could not give an answer
  std::string scan_error;            // why, for the log and the 4xx text
  std::string unchecked_reason;      // a decoding or scanning limit was hit, and where
  std::string encrypted;             // an encrypted part, whose content is unknown
  std::vector<BannedFinding> banned;
  std::vector<BadHeader> bad_headers;
  std::optional<SpamResult> spam;  // absent: no spam check ran
  uint64_t size = 0;               // message size, bytes
};

// What one recipient gets per category, after policy bank and per-recipient
// lookups. Indexed by Category.
struct RecipientPolicy {
  std::array<Destiny, kCategoryCount> destiny{};  // final_*_destiny; kPass for CLEAN
  std::array<bool, kCategoryCount> lover{};       // *_lover: gets the mail anyway
  bool bypass_virus_checks = false, bypass_banned_checks = false, bypass_spam_checks = false,
       bypass_header_checks = false;
  double spam_tag_level = 2.0;        // X-Spam-* header fields from here on
  double spam_tag2_level = 6.31;      // SPAMMY: X-Spam-Flag: YES, subject tag
  double spam_kill_level = 6.31;      // SPAM: the spam destiny applies
  double spam_dsn_cutoff_level = 10;  // no DSN at or above this score
  uint64_t message_size_limit = 0;    // OVERSIZED above it; 0 = no limit
  bool local = false;                 // a local-domain recipient: gets header fields and tags
  std::array<std::string, kCategoryCount> subject_tag;     // "***SPAM*** ", by main category
  std::array<std::string, kCategoryCount> addr_extension;  // "spam" for user+spam@
  bool warn_recipient_virus = false, warn_recipient_banned = false;

  // Debian's amavis defaults: virus D_DISCARD, banned D_BOUNCE, unchecked
  // D_PASS, spam D_BOUNCE, bad header D_PASS, oversized D_BOUNCE.
  static RecipientPolicy defaults();
};

struct Decision {
  Category category = Category::kClean;  // blocking category, else the main one
  std::string minor;                     // "ENCRYPTED", "OVERLIMIT", "8BIT", ...
  Destiny destiny = Destiny::kPass;
  std::string reason;                // "Eicar-Test-Signature in p002 eicar.com", ...
  Category main = Category::kClean;  // highest category of the message for this recipient
  bool blocked() const { return destiny != Destiny::kPass; }
};

// The categories present for a recipient with these settings, highest first.
std::vector<Category> categories(const Findings& f, const RecipientPolicy& p);

// One recipient's decision. A virus scan that failed without finding a
// virus makes the message UNCHECKED: with `scanner_failure` D_TEMPFAIL that
// is everyone's destiny, whatever else was found; with D_PASS the failure
// blocks nobody and the other categories decide.
Decision decide(const Findings& f, const RecipientPolicy& p, Destiny scanner_failure);

// The reason words for a category present in `f` ("Eicar-Test-Signature in
// p002 eicar.com", "score=12.5", ...).
std::string category_reason(const Findings& f, Category c, const RecipientPolicy& p);

// The reply for a recipient that is not delivered (every destiny but
// D_PASS; for D_BOUNCE this is the reply once the DSN was handed on).
// Codes and texts follow amavis: "554 5.7.0 Reject, id=... - INFECTED: ...",
// 554 5.6.0 for BAD-HEADER, 552 5.3.4 for OVERSIZED.
smtp::Reply blocked_reply(const Decision& d, const std::string& mail_id);

// The reply the DSN names as the reason a recipient did not get the mail
// (the D_REJECT reply, whatever the destiny was).
smtp::Reply rejection_reply(const Decision& d, const std::string& mail_id);

// Why no DSN goes out for a bounced recipient, or "" when one should:
// "null sender", "bulk mail", "virus fakes sender", "spam above cutoff".
// `fakes_sender` says whether a found virus is known to forge senders.
std::string dsn_suppression(const Findings& f, const Decision& d, const RecipientPolicy& p,
                            bool null_sender, bool bulk, bool fakes_sender);

// Collapses per-recipient replies into the single reply an SMTP upstream
// gets: any deferral → that deferral (the caller made sure no recipient
// would be lost); else the first acceptance; all refused → the first
// refusal.
smtp::Reply collapse_for_smtp(const std::vector<smtp::Reply>& per_recipient);

// A score or level for logs and header fields: "6.31", "12", "1e+03".
std::string score_text(double v);

// "Passed CLEAN", "Blocked INFECTED (Eicar-Test-Signature)", "Passed SPAMMY".
std::string summary_words(const Decision& d);

}  // namespace filterd::policy
