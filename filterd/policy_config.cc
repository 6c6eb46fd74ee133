// policy_config.cc — see policy_config.h.
#include "filterd/policy_config.h"

#include <cstdlib>
#include <sstream>

#include "filterd/embedded_files.h"
#include "policy/banned.h"
#include "policy/notify.h"

namespace filterd {
namespace po = boost::program_options;
using policy::Category;
using policy::idx;

namespace {

struct CategoryOption {
  const char* key;  // the part of the option name: final_KEY_destiny
  Category category;
};
constexpr CategoryOption kCategoryOptions[] = {
    {"virus", Category::kVirus},          {"banned", Category::kBanned},
    {"unchecked", Category::kUnchecked},  {"spam", Category::kSpam},
    {"bad_header", Category::kBadHeader}, {"oversized", Category::kOversized},
};

std::optional<bool> parse_bool(const std::string& v) {
  if (v == "yes" || v == "true" || v == "1" || v == "on") return true;
  if (v == "no" || v == "false" || v == "0" || v == "off") return false;
  return std::nullopt;
}

}  // namespace

std::vector<std::string> config_words(const std::string& s) {
  std::vector<std::string> out;
  std::string w;
  std::istringstream in(s);
  while (in >> w) {
    while (!w.empty() && w.back() == ',') w.pop_back();
    if (!w.empty()) out.push_back(w);
  }
  return out;
}

po::options_description policy_option_table() {
  po::options_description d("policy options (also in [policy_bank NAME] sections)");
  auto str = [](const char* def) { return po::value<std::string>()->default_value(def); };
  // clang-format off
  d.add_options()
    ("final_virus_destiny", str("D_DISCARD"),
     "destiny of infected mail: D_PASS, D_DISCARD (accept, deliver nothing), D_BOUNCE "
     "(accept, DSN to the sender), D_REJECT (5xx, the MTA bounces) or D_TEMPFAIL (4xx)")
    ("final_banned_destiny", str("D_BOUNCE"),
     "destiny of mail with a banned attachment (see banned_rules)")
    ("final_unchecked_destiny", str("D_PASS"),
     "destiny of mail that could not be fully checked (encrypted or over limits), as amavis")
    ("final_spam_destiny", str("D_BOUNCE"),
     "destiny of mail scoring at or above spam_kill_level")
    ("final_bad_header_destiny", str("D_PASS"),
     "destiny of mail with a malformed header section (see bad_header_checks)")
    ("final_oversized_destiny", str("D_BOUNCE"),
     "destiny of mail larger than message_size_limit")
    ("scanner_failure_destiny", str("D_TEMPFAIL"),
     "destiny when the virus scanner fails: D_TEMPFAIL (451, the MTA retries) or "
     "D_PASS (delivered, logged as Passed UNCHECKED)")
    ("virus_lover", str("no"), "every recipient gets infected mail anyway (tagged)")
    ("banned_files_lover", str("no"), "every recipient gets mail with banned parts anyway")
    ("unchecked_lover", str("no"), "every recipient gets unchecked mail anyway")
    ("spam_lover", str("no"), "every recipient gets spam anyway (tagged)")
    ("bad_header_lover", str("no"), "every recipient gets mail with bad headers anyway")
    ("bypass_virus_checks", str("no"),
     "recipients bypass the virus check: if it runs for others, they get the mail anyway")
    ("bypass_banned_checks", str("no"), "recipients bypass the banned-file check")
    ("bypass_spam_checks", str("no"), "recipients bypass the spam check")
    ("bypass_header_checks", str("no"), "recipients bypass the bad-header check")
    ("spam_tag_level", str("2.0"),
     "spam score from which local recipients get X-Spam-* header fields")
    ("spam_tag2_level", str("6.31"),
     "spam score from which mail is SPAMMY: X-Spam-Flag: YES and the subject tag")
    ("spam_kill_level", str("6.31"),
     "spam score from which mail is SPAM and final_spam_destiny applies")
    ("spam_dsn_cutoff_level", str("10"),
     "spam score from which a bounced spam gets no DSN (it would be backscatter)")
    ("message_size_limit", po::value<unsigned long long>()->default_value(0),
     "mail larger than this many bytes is OVERSIZED (0 = no limit)")
    ("subject_tag_virus", str("\"***INFECTED*** \""),
     "put in front of the Subject of infected mail passed to local recipients")
    ("subject_tag_banned", str(""), "put in front of the Subject of passed banned mail")
    ("subject_tag_unchecked", str("\"***UNCHECKED*** \""),
     "put in front of the Subject of passed unchecked mail")
    ("subject_tag_spam", str("\"***SPAM*** \""),
     "put in front of the Subject of passed spam (score at or above spam_tag2_level)")
    ("addr_extension_virus", str("virus"),
     "with recipient_delimiter: infected mail passed to user@ goes to user+virus@")
    ("addr_extension_banned", str("banned"), "address extension for passed banned mail")
    ("addr_extension_spam", str("spam"), "address extension for passed spam")
    ("addr_extension_bad_header", str("badh"), "address extension for mail with bad headers")
    ("banned_rules", str("builtin"),
     "banned-file rules: builtin (etc/banned.rules as shipped), none, or a rules file")
    ("bad_header_checks", str("8bit control empty long syntax missing multiple mime"),
     "which bad-header checks count (remove a word to switch a check off)")
    ("virus_dsn_names", str("Eicar Joke. Junk."),
     "name prefixes of viruses that do not forge senders: only these may get a DSN "
     "(amavis @viruses_that_fake_sender_maps, inverted)")
    ("quarantine_virus", str("yes"), "keep blocked infected mail in the quarantine")
    ("quarantine_banned", str("yes"), "keep blocked mail with banned parts in the quarantine")
    ("quarantine_unchecked", str("no"), "keep blocked unchecked mail in the quarantine")
    ("quarantine_spam", str("yes"),
     "keep blocked spam in the quarantine (below spam_quarantine_cutoff_level)")
    ("quarantine_bad_header", str("no"), "keep blocked mail with bad headers in the quarantine")
    ("quarantine_oversized", str("no"), "keep blocked oversized mail in the quarantine")
    ("spam_quarantine_cutoff_level", str("20"),
     "spam scoring at or above this is not kept (amavis $sa_quarantine_cutoff_level)")
    ("remove_infected_parts", str("no"),
     "replace an infected attachment by a text notice and pass the rest, instead of "
     "blocking the mail (the message body itself cannot be removed)")
    ("remove_banned_parts", str("no"),
     "replace a banned attachment by a text notice and pass the rest")
    ("virus_admin", str(""), "address that gets a notice about infected mail")
    ("banned_admin", str(""), "address that gets a notice about banned mail")
    ("unchecked_admin", str(""), "address that gets a notice about unchecked mail")
    ("spam_admin", str(""), "address that gets a notice about spam")
    ("bad_header_admin", str(""), "address that gets a notice about mail with bad headers")
    ("warn_virus_recipient", str("no"),
     "local recipients of blocked infected mail get a warning")
    ("warn_banned_recipient", str("no"), "local recipients of blocked banned mail get a warning")
    ("notify_sender", str(""), "envelope sender of notices (empty: the null sender <>)")
    ("notify_from", str("Content filter <postmaster@$myhostname>"), "From: of notices")
    ("notify_templates", str("builtin:en"),
     "templates of notices and DSN texts: builtin:en, builtin:ja or a directory")
    ("originating", str("no"),
     "mail in this bank comes from our own users; loads the ORIGINATING bank if defined")
    ("bank_forward", str(""),
     "next hop for mail in this bank (empty: forward)");
  // clang-format on
  return d;
}

std::expected<std::shared_ptr<const policy::BannedRules>, std::string> PolicyResources::banned(
    const std::string& spec) {
  if (spec == "none") return nullptr;
  if (auto it = banned_.find(spec); it != banned_.end()) return it->second;
  auto rules = spec == "builtin" ? policy::parse_banned_rules(embedded::banned_rules(), "builtin")
                                 : policy::load_banned_rules(spec);
  if (!rules) return std::unexpected(rules.error());
  auto shared = std::make_shared<const policy::BannedRules>(std::move(*rules));
  banned_[spec] = shared;
  return shared;
}

std::expected<std::shared_ptr<const policy::TemplateSet>, std::string> PolicyResources::templates(
    const std::string& spec) {
  if (auto it = templates_.find(spec); it != templates_.end()) return it->second;
  std::expected<policy::TemplateSet, std::string> set;
  if (spec == "builtin:en") {
    set = embedded::templates("en");
  } else if (spec == "builtin:ja") {
    set = embedded::templates("ja");
  } else {
    set = policy::load_templates(spec);
  }
  if (!set) return std::unexpected(set.error());
  auto shared = std::make_shared<const policy::TemplateSet>(std::move(*set));
  templates_[spec] = shared;
  return shared;
}

std::expected<void, std::string> apply_policy_options(const po::variables_map& vm,
                                                      bool explicit_only, const Origins& origins,
                                                      const std::string& myhostname,
                                                      PolicyResources& resources,
                                                      policy::Settings& s) {
  auto set = [&](const char* k) { return vm.count(k) && !(explicit_only && vm[k].defaulted()); };
  auto str = [&](const char* k) { return vm[k].as<std::string>(); };
  auto bad = [&](const std::string& key, const std::string& why) {
    auto it = origins.find(key);
    return std::unexpected((it == origins.end() ? "default" : it->second) + ": " + key + ": " +
                           why);
  };
  policy::RecipientPolicy& r = s.recipient;

  for (const auto& [key, category] : kCategoryOptions) {
    const std::string name = "final_" + std::string(key) + "_destiny";
    if (!set(name.c_str())) continue;
    auto d = policy::parse_destiny(str(name.c_str()));
    if (!d) return bad(name, "unknown destiny '" + str(name.c_str()) + "'");
    r.destiny[idx(category)] = *d;
  }
  if (set("scanner_failure_destiny")) {
    auto d = policy::parse_destiny(str("scanner_failure_destiny"));
    if (!d || (*d != policy::Destiny::kTempfail && *d != policy::Destiny::kPass)) {
      return bad("scanner_failure_destiny", "expected D_TEMPFAIL or D_PASS");
    }
    s.scanner_failure_destiny = *d;
  }

  struct BoolOption {
    const char* key;
    bool* target;
  };
  const BoolOption bools[] = {
      {"virus_lover", &r.lover[idx(Category::kVirus)]},
      {"banned_files_lover", &r.lover[idx(Category::kBanned)]},
      {"unchecked_lover", &r.lover[idx(Category::kUnchecked)]},
      {"spam_lover", &r.lover[idx(Category::kSpam)]},
      {"bad_header_lover", &r.lover[idx(Category::kBadHeader)]},
      {"bypass_virus_checks", &r.bypass_virus_checks},
      {"bypass_banned_checks", &r.bypass_banned_checks},
      {"bypass_spam_checks", &r.bypass_spam_checks},
      {"bypass_header_checks", &r.bypass_header_checks},
      {"remove_infected_parts", &s.remove_infected_parts},
      {"remove_banned_parts", &s.remove_banned_parts},
      {"warn_virus_recipient", &r.warn_recipient_virus},
      {"warn_banned_recipient", &r.warn_recipient_banned},
      {"originating", &s.originating},
      {"quarantine_virus", &s.quarantine[idx(Category::kVirus)]},
      {"quarantine_banned", &s.quarantine[idx(Category::kBanned)]},
      {"quarantine_unchecked", &s.quarantine[idx(Category::kUnchecked)]},
      {"quarantine_spam", &s.quarantine[idx(Category::kSpam)]},
      {"quarantine_bad_header", &s.quarantine[idx(Category::kBadHeader)]},
      {"quarantine_oversized", &s.quarantine[idx(Category::kOversized)]},
  };
  for (const auto& [key, target] : bools) {
    if (!set(key)) continue;
    auto b = parse_bool(str(key));
    if (!b) return bad(key, "expected yes or no, got '" + str(key) + "'");
    *target = *b;
  }
  r.lover[idx(Category::kSpammy)] = r.lover[idx(Category::kSpam)];
  s.quarantine[idx(Category::kSpammy)] = s.quarantine[idx(Category::kSpam)];

  struct LevelOption {
    const char* key;
    double* target;
  };
  const LevelOption levels[] = {{"spam_tag_level", &r.spam_tag_level},
                                {"spam_tag2_level", &r.spam_tag2_level},
                                {"spam_kill_level", &r.spam_kill_level},
                                {"spam_dsn_cutoff_level", &r.spam_dsn_cutoff_level},
                                {"spam_quarantine_cutoff_level", &s.spam_quarantine_cutoff_level}};
  for (const auto& [key, target] : levels) {
    if (!set(key)) continue;
    const std::string v = str(key);
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0') return bad(key, "expected a number, got '" + v + "'");
    *target = d;
  }
  if (set("message_size_limit"))
    r.message_size_limit = vm["message_size_limit"].as<unsigned long long>();

  struct TextOption {
    const char* key;
    std::vector<std::string*> targets;
  };
  const TextOption texts[] = {
      {"subject_tag_virus", {&r.subject_tag[idx(Category::kVirus)]}},
      {"subject_tag_banned", {&r.subject_tag[idx(Category::kBanned)]}},
      {"subject_tag_unchecked", {&r.subject_tag[idx(Category::kUnchecked)]}},
      {"subject_tag_spam",
       {&r.subject_tag[idx(Category::kSpam)], &r.subject_tag[idx(Category::kSpammy)]}},
      {"addr_extension_virus", {&r.addr_extension[idx(Category::kVirus)]}},
      {"addr_extension_banned", {&r.addr_extension[idx(Category::kBanned)]}},
      {"addr_extension_spam",
       {&r.addr_extension[idx(Category::kSpam)], &r.addr_extension[idx(Category::kSpammy)]}},
      {"addr_extension_bad_header", {&r.addr_extension[idx(Category::kBadHeader)]}},
      {"virus_admin", {&s.admin[idx(Category::kVirus)]}},
      {"banned_admin", {&s.admin[idx(Category::kBanned)]}},
      {"unchecked_admin", {&s.admin[idx(Category::kUnchecked)]}},
      {"spam_admin", {&s.admin[idx(Category::kSpam)], &s.admin[idx(Category::kSpammy)]}},
      {"bad_header_admin", {&s.admin[idx(Category::kBadHeader)]}},
      {"notify_sender", {&s.notify_sender}},
      {"notify_from", {&s.notify_from}},
  };
  for (const auto& [key, targets] : texts) {
    if (!set(key)) continue;
    std::string v = str(key);
    // A config value is one line; tags may keep a trailing space when quoted.
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    for (char c : v) {
      if (static_cast<unsigned char>(c) < 32) return bad(key, "control characters are not allowed");
    }
    for (size_t at; (at = v.find("$myhostname")) != std::string::npos;) {
      v.replace(at, 11, myhostname);
    }
    for (std::string* t : targets) *t = v;
  }
  if (set("bank_forward")) {
    s.forward.reset();
    if (!str("bank_forward").empty()) {
      auto ep = smtp::parse_endpoint(str("bank_forward"));
      if (!ep) return bad("bank_forward", ep.error());
      s.forward = *ep;
    }
  }

  if (set("bad_header_checks")) {
    policy::BadHeaderChecks c{};
    c.eight_bit = c.control = c.empty = c.long_line = c.syntax = c.missing = c.multiple = c.mime =
        false;
    for (const auto& w : config_words(str("bad_header_checks"))) {
      if (w == "8bit")
        c.eight_bit = true;
      else if (w == "control")
        c.control = true;
      else if (w == "empty")
        c.empty = true;
      else if (w == "long")
        c.long_line = true;
      else if (w == "syntax")
        c.syntax = true;
      else if (w == "missing")
        c.missing = true;
      else if (w == "multiple")
        c.multiple = true;
      else if (w == "mime")
        c.mime = true;
      else if (w != "none")
        return bad("bad_header_checks", "unknown check '" + w + "'");
    }
    s.bad_header_checks = c;
  }
  if (set("virus_dsn_names")) s.virus_dsn_names = config_words(str("virus_dsn_names"));
  if (set("banned_rules")) {
    auto rules = resources.banned(str("banned_rules"));
    if (!rules) return bad("banned_rules", rules.error());
    s.banned_rules = *rules;
  }
  if (set("notify_templates")) {
    auto t = resources.templates(str("notify_templates"));
    if (!t) return bad("notify_templates", t.error());
    s.templates = *t;
  }
  return {};
}

}  // namespace filterd
