// settings.cc — see settings.h.
#include "policy/settings.h"

#include "decoders/ascii.h"
#include "policy/lookup.h"

namespace filterd::policy {
namespace {

// Where each recipient setting lands in a RecipientPolicy.
struct BoolSetting {
  const char* name;
  bool RecipientPolicy::*member;
};
struct LoverSetting {
  const char* name;
  std::vector<Category> categories;
};
struct NumberSetting {
  const char* name;
  double RecipientPolicy::*member;
};
struct TextSetting {
  const char* name;
  std::array<std::string, kCategoryCount> RecipientPolicy::*member;
  std::vector<Category> categories;
};

const BoolSetting kBools[] = {
    {"bypass_virus_checks", &RecipientPolicy::bypass_virus_checks},
    {"bypass_banned_checks", &RecipientPolicy::bypass_banned_checks},
    {"bypass_spam_checks", &RecipientPolicy::bypass_spam_checks},
    {"bypass_header_checks", &RecipientPolicy::bypass_header_checks},
    {"warn_virus_recipient", &RecipientPolicy::warn_recipient_virus},
    {"warn_banned_recipient", &RecipientPolicy::warn_recipient_banned},
    {"local", &RecipientPolicy::local},
};
const LoverSetting kLovers[] = {
    {"virus_lover", {Category::kVirus}},
    {"banned_files_lover", {Category::kBanned}},
    {"unchecked_lover", {Category::kUnchecked}},
    {"spam_lover", {Category::kSpam, Category::kSpammy}},
    {"bad_header_lover", {Category::kBadHeader}},
};
const NumberSetting kNumbers[] = {
    {"spam_tag_level", &RecipientPolicy::spam_tag_level},
    {"spam_tag2_level", &RecipientPolicy::spam_tag2_level},
    {"spam_kill_level", &RecipientPolicy::spam_kill_level},
    {"spam_dsn_cutoff_level", &RecipientPolicy::spam_dsn_cutoff_level},
};
const TextSetting kTexts[] = {
    {"subject_tag_virus", &RecipientPolicy::subject_tag, {Category::kVirus}},
    {"subject_tag_banned", &RecipientPolicy::subject_tag, {Category::kBanned}},
    {"subject_tag_unchecked", &RecipientPolicy::subject_tag, {Category::kUnchecked}},
    {"subject_tag_spam", &RecipientPolicy::subject_tag, {Category::kSpam, Category::kSpammy}},
    {"addr_extension_virus", &RecipientPolicy::addr_extension, {Category::kVirus}},
    {"addr_extension_banned", &RecipientPolicy::addr_extension, {Category::kBanned}},
    {"addr_extension_spam", &RecipientPolicy::addr_extension, {Category::kSpam, Category::kSpammy}},
    {"addr_extension_bad_header", &RecipientPolicy::addr_extension, {Category::kBadHeader}},
};

}  // namespace

const std::vector<SettingSpec>& recipient_schema() {
  static const std::vector<SettingSpec> schema = [] {
    std::vector<SettingSpec> s;
    for (const auto& b : kBools) s.push_back({b.name, SettingType::kBool});
    for (const auto& l : kLovers) s.push_back({l.name, SettingType::kBool});
    for (const auto& n : kNumbers) s.push_back({n.name, SettingType::kNumber});
    s.push_back({"message_size_limit", SettingType::kNumber});
    for (const auto& t : kTexts) s.push_back({t.name, SettingType::kString});
    return s;
  }();
  return schema;
}

RecipientPolicy resolve_recipient(const Settings& s, std::string_view address) {
  RecipientPolicy p = s.recipient;
  if (s.local_domains) p.local = s.local_domains->contains(address, s.recipient_delimiter);
  if (!s.recipients) return p;
  const Resolved r = s.recipients->resolve(address, s.recipient_delimiter);
  if (r.settings.empty()) return p;
  for (const auto& b : kBools) {
    if (auto v = r.get_bool(b.name)) p.*(b.member) = *v;
  }
  for (const auto& l : kLovers) {
    if (auto v = r.get_bool(l.name)) {
      for (Category c : l.categories) p.lover[idx(c)] = *v;
    }
  }
  for (const auto& n : kNumbers) {
    if (auto v = r.get_number(n.name)) p.*(n.member) = *v;
  }
  if (auto v = r.get_number("message_size_limit")) {
    p.message_size_limit = *v > 0 ? static_cast<uint64_t>(*v) : 0;
  }
  for (const auto& t : kTexts) {
    if (auto v = r.get_string(t.name)) {
      for (Category c : t.categories) (p.*(t.member))[idx(c)] = std::string(*v);
    }
  }
  return p;
}

bool quarantined(const Settings& s, const Findings& f, const Decision& d) {
  if (d.destiny == Destiny::kPass || d.destiny == Destiny::kTempfail) return false;
  if (!s.quarantine[idx(d.category)]) return false;
  const bool spam = d.category == Category::kSpam || d.category == Category::kSpammy;
  return !spam || !f.spam || f.spam->score < s.spam_quarantine_cutoff_level;
}

bool virus_keeps_sender(const Settings& s, const std::vector<std::string>& viruses) {
  // Every virus found must be one known not to forge its sender.
  for (const auto& v : viruses) {
    bool known = false;
    for (const auto& prefix : s.virus_dsn_names) {
      if (v.size() >= prefix.size() &&
          decoders::iequals(std::string_view(v).substr(0, prefix.size()), prefix)) {
        known = true;
        break;
      }
    }
    if (!known) return false;
  }
  return true;
}

}  // namespace filterd::policy
