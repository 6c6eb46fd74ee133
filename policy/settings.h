// settings.h — a policy bank: everything an admin decides about content,
// as one value. The config file's top level is the base bank; named banks
// ([policy_bank NAME] sections) override parts of it and are chosen per
// message by listening port, client network (MYNETS) and the originating
// flag (ORIGINATING). Recipient entries refine it per address.
//
// Immutable once loaded; shared by all workers.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/bad_header.h"
#include "policy/verdict.h"
#include "smtp/endpoint.h"

namespace filterd::policy {

class BannedRules;
class LookupSet;
class RecipientTable;
struct SettingSpec;
struct TemplateSet;

struct Settings {
  std::string name = "base";                                // the bank's name, for logs
  RecipientPolicy recipient = RecipientPolicy::defaults();  // before per-recipient entries
  Destiny scanner_failure_destiny = Destiny::kTempfail;
  BadHeaderChecks bad_header_checks;
  std::shared_ptr<const BannedRules> banned_rules;   // null: no banned-file checks
  std::shared_ptr<const RecipientTable> recipients;  // per-recipient entries, may be null
  std::shared_ptr<const LookupSet> local_domains;    // "example.com", ".example.org"; may be null
  char recipient_delimiter = 0;                      // '+' for user+ext@; 0 = none
  // Name prefixes (case-insensitive) of viruses that do not forge their
  // sender; a DSN goes out only for these (amavis @viruses_that_fake_sender_maps).
  std::vector<std::string> virus_dsn_names{"Eicar", "Joke.", "Junk."};
  // Quarantine blocked mail of these categories (virus, banned, spam on by
  // default; spam only below spam_quarantine_cutoff_level).
  std::array<bool, kCategoryCount> quarantine{};
  double spam_quarantine_cutoff_level = 20;
  bool remove_infected_parts = false;             // replace an infected attachment by a notice
  bool remove_banned_parts = false;               // replace a banned attachment by a notice
  std::array<std::string, kCategoryCount> admin;  // notice recipient per category; "" = none
  std::string notify_sender;                      // envelope sender of notices; "" = <>
  std::string notify_from;                        // From: of notices
  std::shared_ptr<const TemplateSet> templates;   // null: no notices
  bool originating = false;                       // mail from our own users
  std::optional<smtp::Endpoint> forward;          // another next hop for this bank
};

// The policy for one recipient: the bank's, refined by the entries for the
// recipient's lookup keys, and `local` from local_domains.
RecipientPolicy resolve_recipient(const Settings& s, std::string_view address);

// The settings a recipient entry may carry ("spam_lover", "spam_kill_level",
// "subject_tag_spam", "local", ...), with their types.
const std::vector<SettingSpec>& recipient_schema();

// Whether a message blocked for a recipient with decision `d` goes to the
// quarantine.
bool quarantined(const Settings& s, const Findings& f, const Decision& d);

// Whether a DSN may name this virus (it does not forge senders).
bool virus_keeps_sender(const Settings& s, const std::vector<std::string>& viruses);

}  // namespace filterd::policy
