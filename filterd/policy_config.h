// policy_config.h — the options a policy bank may set: destinies, levels,
// lovers and bypasses, tags, banned rules, header checks, notices. The top
// level of the config file sets them for the base bank; a
// "[policy_bank NAME]" section sets some of them again for bank NAME.
//
// Start-up only; exceptions stay inside config.cc and this module.
#pragma once

#include <boost/program_options.hpp>
#include <expected>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "policy/settings.h"

namespace filterd {

using Origins = std::map<std::string, std::string>;  // option -> "file:line"

boost::program_options::options_description policy_option_table();

// "a b, c" -> {"a", "b", "c"}: list values split at white space and commas.
std::vector<std::string> config_words(const std::string& s);

// Shared, immutable resources loaded once per file however many banks name
// them (banned rules, recipient tables, templates).
class PolicyResources {
 public:
  std::expected<std::shared_ptr<const policy::BannedRules>, std::string> banned(
      const std::string& spec);
  std::expected<std::shared_ptr<const policy::TemplateSet>, std::string> templates(
      const std::string& spec);

 private:
  std::map<std::string, std::shared_ptr<const policy::BannedRules>> banned_;
  std::map<std::string, std::shared_ptr<const policy::TemplateSet>> templates_;
};

// Applies the policy options in `vm` to `s`: all of them (the base bank),
// or only those set explicitly (a named bank on top of another).
// Errors read "ORIGIN: option: reason".
std::expected<void, std::string> apply_policy_options(
    const boost::program_options::variables_map& vm, bool explicit_only, const Origins& origins,
    const std::string& myhostname, PolicyResources& resources, policy::Settings& s);

}  // namespace filterd
