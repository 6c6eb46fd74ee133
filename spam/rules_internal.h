// rules_internal.h — state shared by the pieces of the rule-file parser
// (not a public interface): rules_parse.cc reads lines, conditionals and
// includes; rules_directives.cc applies one directive; rules_condition.cc
// evaluates `if`; rules_replace.cc applies replace tags; rules_finish.cc
// turns the state into a RuleSet.
#pragma once

#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "spam/rules.h"

namespace filterd::spam::detail {

struct Where {
  std::string_view file;
  int line = 0;
};

// What SpamAssassin keeps in separate hashes while parsing: a rule's
// definition apart from its score, description, flags and priority, so that
// each may come before or after the rule, or from another file.
struct ConfigState {
  explicit ConfigState(const LoadOptions& o) : options(o) {}

  const LoadOptions& options;
  RuleSet out;                                       // everything but rules
  std::vector<Rule> defs;                            // definitions, first-seen order
  std::map<std::string, size_t, std::less<>> index;  // name -> defs
  std::map<std::string, std::array<double, 4>, std::less<>> scores;
  std::map<std::string, std::string, std::less<>> descriptions;
  std::map<std::string, std::string, std::less<>> tflags;  // as written
  std::map<std::string, int, std::less<>> priorities;
  std::set<std::string, std::less<>> capture_rules;  // named captures: priority -10000
  std::map<std::string, std::string, std::less<>> replace_tag, replace_pre, replace_post,
      replace_inter;
  std::string replace_start = "<", replace_end = ">";
  std::set<std::string, std::less<>> replace_rules;
  std::set<std::string, std::less<>> files_read;
  std::set<std::string, std::less<>> compat;  // enable_compat: Conf::compat_<name> exists

  void diagnose(const Where& w, std::string_view rule, std::string_view category,
                std::string reason);
  void define(Rule rule, const Where& w);  // adds or replaces
  bool plugin_available(std::string_view name) const;
  bool capability(std::string_view method) const;
};

// Applies one directive (key lower-cased, '-' as '_'). Returns false if the
// key is not one this parser knows (the caller counts it as ignored).
bool apply_directive(ConfigState& st, std::string_view key, std::string_view value,
                     const Where& where);

// `if` / `ifplugin` condition text; errors are reasons for a diagnostic.
std::expected<bool, std::string> evaluate_condition(std::string_view expr, const ConfigState& st);

// ReplaceTags.pm finish_parsing_end on one pattern source.
std::string replace_tags(std::string_view source, const ConfigState& st);

// Parser.pm pack_eval_args; nullopt if the arguments do not parse.
std::optional<std::vector<std::string>> parse_eval_args(std::string_view args);

// Reads `text` as a configuration file named `file`, at include depth
// `depth`.
void parse_text(ConfigState& st, std::string_view text, const std::string& file, int depth);
// Reads the file at `path`; if it is unreadable or too large, the
// diagnostic is at `from` (the include line) or else at the file.
void parse_file(ConfigState& st, const std::string& path, int depth, const Where* from);

// Default scores, priorities, replace tags: the finished RuleSet.
RuleSet finish(ConfigState& st);

}  // namespace filterd::spam::detail
