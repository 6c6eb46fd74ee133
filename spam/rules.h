// rules.h — SpamAssassin rule files (.cf, .pre) read into a RuleSet: what
// each rule tests, its scores, flags and description, as
// Mail::SpamAssassin::Conf would hold them after parsing.
//
// Parsing only: regexps are not compiled here (the matcher does that), but
// every pattern is checked against Perl's regexp envelope (delimiters,
// modifiers, balanced groups and classes; rules_regexp.h), so what reaches
// the matcher is well formed.
//
// Semantics follow SpamAssassin 4.0 (Conf.pm, Conf/Parser.pm,
// Plugin/ReplaceTags.pm):
//   - comments start at an unescaped '#'; "\#" is a literal '#';
//   - directive names are case-insensitive, '-' reads as '_';
//   - "lang xx directive" lines count only if LoadOptions::lang starts
//     with xx;
//   - ifplugin / if / else / endif nest; `if` takes SpamAssassin's
//     expression language (version, perl_version, plugin(), can(), has(),
//     ! && || comparisons); plugins and capabilities come from LoadOptions,
//     so the result is deterministic;
//   - a rule defined again replaces the earlier definition; score, describe,
//     tflags and priority are kept per name, whichever file set them last,
//     even before or without the rule;
//   - a rule without a score gets 1.0 in all four score sets, 0.01 if its
//     name starts with "T_", negated if it has tflags nice (Parser.pm
//     fix_tests). Rules named "__X" are sub-rules: they keep a score (a
//     score of 0 disables them, as for any rule) but never count toward a
//     message's score;
//   - replace_tag / replace_pre / replace_post / replace_inter are applied,
//     after all files are read, to the patterns of rules listed in
//     replace_rules (ReplaceTags.pm's algorithm, up to 6 passes);
//   - `include` reads a file relative to the including file's directory,
//     at most kMaxIncludeDepth deep; a file already read is not read again.
//
// Diagnostics: a line or rule that cannot be taken (bad regexp, bad meta
// expression, unknown header modifier, malformed score, unbalanced
// endif, unreadable file ...) becomes a Diagnostic "file:line" with the rule
// name and reason, and loading goes on: nothing is fatal, nothing silent.
// Settings that are not rules (SpamAssassin's own options, plugin settings
// such as askdns or freemail_domains) are counted by name in
// ignored_directives.
//
// Divergences from SpamAssassin, by design: an `include` inside a skipped
// conditional block is skipped (SpamAssassin reads it anyway); an included
// file has its own conditional stack; priorities are not raised for meta
// dependencies (Parser.pm fix_priorities: the matcher orders); tflags net
// is inherited by meta rules through any chain of dependencies, where
// SpamAssassin's single pass in hash order may stop early.
//
// Thread safety: the functions are pure apart from reading files; a RuleSet
// is a plain value.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "spam/rules_regexp.h"

namespace filterd::spam {

// Deeper includes are diagnosed and not read (SpamAssassin has no bound).
inline constexpr int kMaxIncludeDepth = 8;
// A rule file larger than this is diagnosed and not read: the stock
// 72_active.cf is about 0.5 MiB.
inline constexpr size_t kMaxRuleFileBytes = 16 << 20;

enum class RuleType {
  kHeader,       // header NAME Hdr =~ /re/  (or exists:Hdr)
  kMimeHeader,   // mimeheader NAME Hdr =~ /re/  (each MIME part's headers)
  kBody,         // body NAME /re/
  kRawBody,      // rawbody NAME /re/
  kFull,         // full NAME /re/
  kUri,          // uri NAME /re/
  kMeta,         // meta NAME expression
  kHeaderEval,   // header NAME eval:fn(args)
  kRblEval,      // header NAME eval:check_rbl*(...) / check_dns*(...): network
  kBodyEval,     // body NAME eval:fn(args)
  kRawBodyEval,  // rawbody NAME eval:fn(args)
  kFullEval,     // full NAME eval:fn(args)
  kEmpty,        // `reuse NAME`: defined so that scores apply, never tested
};

// "header", "body_eval", ... for logs and summaries.
std::string_view rule_type_name(RuleType type);

struct HeaderTest {
  // As written: "Subject", "From", or a pseudo-header the text layer
  // resolves: "ALL", "ToCc", "EnvelopeFrom", "MESSAGEID", "ALL-TRUSTED",
  // "ALL-UNTRUSTED", "ALL-INTERNAL", "ALL-EXTERNAL", "X-Spam-Relays-...".
  std::string name;
  // In order, lower case: raw addr name host domain ip revip first last
  // (mimeheader: raw only).
  std::vector<std::string> modifiers;
  bool negate = false;                  // !~ : hits when the pattern does not match
  bool exists = false;                  // exists:Name : hits when the header is present
  std::optional<std::string> if_unset;  // [if-unset: text] for a missing header
};

struct EvalCall {
  std::string function;           // "check_for_missing_to_header"
  std::string raw_args;           // between the parentheses, as written
  std::vector<std::string> args;  // parsed as Parser.pm pack_eval_args: quotes removed
};

struct MetaToken {
  enum class Kind {
    kRule,           // a rule name (also local_tests_only)
    kNumber,         // "2", "0.5"
    kOperator,       // && || ! ^ + - * / > < >= <= == != ( ) ? :
    kRulesMatching,  // rules_matching(GLOB): text is the glob, * and ? wildcards
  };
  Kind kind;
  std::string text;
  friend bool operator==(const MetaToken&, const MetaToken&) = default;
};

struct TFlags {
  bool net = false;
  bool nice = false;
  bool learn = false;
  bool userconf = false;
  bool noautolearn = false;
  bool multiple = false;
  bool nosubject = false;
  uint32_t maxhits = 0;            // maxhits=N with multiple; 0 = no limit
  std::vector<std::string> words;  // every flag as written ("publish", "a69", "maxhits=6")
  bool has(std::string_view flag) const;
};

struct Rule {
  std::string name;
  RuleType type = RuleType::kEmpty;
  HeaderTest header;                   // kHeader, kMimeHeader
  PerlRegexp pattern;                  // kHeader (unless exists), kMimeHeader, kBody ... kUri
  EvalCall eval;                       // the *Eval types
  std::string meta;                    // kMeta: the expression as written
  std::vector<MetaToken> meta_tokens;  // kMeta
  std::array<double, 4> scores{};      // score sets 0..3 (0: no net, no Bayes)
  bool score_given = false;            // a `score` line set them (else the default)
  TFlags tflags;
  // Explicit `priority`, else -10000 for patterns with named captures; a
  // priority of 0 is -100 for net rules (Parser.pm finish_parsing).
  int priority = 0;
  std::string description;
  bool tags_replaced = false;  // replace_rules changed the pattern
  std::string file;            // where the rule was (last) defined
  int line = 0;

  bool is_subrule() const { return name.starts_with("__"); }  // never scored
  bool counts_toward_score() const { return !is_subrule(); }
  bool enabled(int score_set) const { return scores[score_set] != 0; }
};

struct Diagnostic {
  std::string file;
  int line = 0;                   // from 1; 0 for a whole file
  std::string rule;               // the rule concerned, "" if none
  std::string category;           // short and fixed, for counting: "bad regexp", "bad meta" ...
  std::string reason;             // the detail
  std::string to_string() const;  // "FILE:LINE: RULE: category: reason"
};

struct RegressionTest {  // `test NAME ok|fail text`
  std::string rule;
  bool should_match = true;
  std::string text;
};

struct RuleSet {
  std::vector<Rule> rules;  // in order of first definition
  double required_score = 5.0;
  std::vector<Diagnostic> skipped;
  std::vector<std::string> files;        // files read, in order
  std::set<std::string> plugins_loaded;  // loadplugin / tryplugin lines seen
  std::vector<PerlRegexp> redirector_patterns;
  std::vector<std::string> util_rb_tld, util_rb_2tld, util_rb_3tld;
  std::vector<RegressionTest> regression_tests;
  std::map<std::string, int> ignored_directives;  // other settings, by name: count
  // The values of those other settings, by directive name, in file order
  // ("freemail_domains" -> {"gmail.com yahoo.com", ...}), for the eval:
  // tests that read them.
  std::map<std::string, std::vector<std::string>> settings;

  const Rule* find(std::string_view name) const;  // nullptr if absent
  // "1234 rules loaded, 5 skipped: 3 bad meta, 2 bad regexp; 12 other settings ignored"
  std::string summary() const;
};

struct LoadOptions {
  // Plugins that ifplugin / plugin() consider loaded. Unset: those named by
  // the loadplugin / tryplugin lines read so far (SpamAssassin's rule).
  std::optional<std::vector<std::string>> plugins;
  // Methods that `if can(...)` / `has(...)` find, "Module::method".
  // Unset: SpamAssassin 4.0.1's (kSpamAssassin4Capabilities); methods of
  // a Mail::SpamAssassin::Plugin:: module count only when it is loaded.
  std::optional<std::vector<std::string>> capabilities;
  double version = 4.000001;       // `version` in if, require_version
  double perl_version = 5.036000;  // `perl_version` in if
  bool local_tests_only = true;    // `local_tests_only` in if: no network tests
  std::string lang;                // "de": lang de lines count; "": none do
};

// The `can()` methods SpamAssassin 4.0.1 has.
extern const std::vector<std::string> kSpamAssassin4Capabilities;

// Parses one file's text into a fresh RuleSet and finishes it (default
// scores, replace tags). `origin` names it in diagnostics and anchors
// relative includes.
RuleSet parse_rules(std::string_view text, std::string_view origin,
                    const LoadOptions& options = {});

// Reads the files in order, as one configuration.
RuleSet load_rule_files(const std::vector<std::string>& paths, const LoadOptions& options = {});

// SpamAssassin's order: every dir's *.pre, then every dir's *.cf, each dir
// in the order given and its files sorted by name. A dir that does not
// exist is skipped without a diagnostic (as SpamAssassin does);
// e.g. {"/usr/share/spamassassin", "/etc/spamassassin"}.
RuleSet load_rule_dirs(const std::vector<std::string>& dirs, const LoadOptions& options = {});

// The files load_rule_dirs reads, in its order.
std::vector<std::string> rule_dir_files(const std::vector<std::string>& dirs);

}  // namespace filterd::spam
