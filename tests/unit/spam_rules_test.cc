// Table tests of the SpamAssassin rule-file reader: each directive, the
// regexp envelope, conditionals, include, replace tags, meta tokens, bad
// lines as diagnostics, and the stock rules of the spamassassin package.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "spam/rules.h"

namespace filterd::spam {
namespace {

const Rule& only_rule(const RuleSet& set) {
  static const Rule kNone;
  EXPECT_EQ(set.rules.size(), 1u) << set.summary();
  for (const auto& d : set.skipped) ADD_FAILURE() << d.to_string();
  return set.rules.empty() ? kNone : set.rules[0];
}

std::vector<std::string> names(const RuleSet& set) {
  std::vector<std::string> out;
  for (const auto& r : set.rules) out.push_back(r.name);
  return out;
}

// --- rule definitions --------------------------------------------------

struct DefRow {
  const char* name;
  std::string line;
  RuleType type;
  PerlRegexp pattern = {};
  std::string header = "";
  std::vector<std::string> modifiers = {};
  bool negate = false;
  bool exists = false;
  std::optional<std::string> if_unset = std::nullopt;
};

class Definitions : public ::testing::TestWithParam<DefRow> {};

TEST_P(Definitions, ParseIntoTypeHeaderAndPattern) {
  const auto& p = GetParam();
  RuleSet set = parse_rules(p.line + "\n", "t.cf");
  const Rule& r = only_rule(set);
  EXPECT_EQ(r.name, "R");
  EXPECT_EQ(r.type, p.type) << rule_type_name(r.type);
  EXPECT_EQ(r.pattern, p.pattern) << r.pattern.source << " / " << r.pattern.flags;
  EXPECT_EQ(r.header.name, p.header);
  EXPECT_EQ(r.header.modifiers, p.modifiers);
  EXPECT_EQ(r.header.negate, p.negate);
  EXPECT_EQ(r.header.exists, p.exists);
  EXPECT_EQ(r.header.if_unset, p.if_unset);
  EXPECT_EQ(r.file, "t.cf");
  EXPECT_EQ(r.line, 1);
}

INSTANTIATE_TEST_SUITE_P(
    Directives, Definitions,
    ::testing::Values(
        DefRow{"header_match",
               "header R Subject =~ /viagra/i",
               RuleType::kHeader,
               {"viagra", "i"},
               "Subject"},
        DefRow{"header_negated",
               "header R From !~ /\\@/",
               RuleType::kHeader,
               {"\\@", ""},
               "From",
               {},
               true},
        DefRow{"header_exists",
               "header R exists:X-Mailer",
               RuleType::kHeader,
               {},
               "X-Mailer",
               {},
               false,
               true},
        DefRow{"header_exists_colon",
               "header R exists:X-Mailer:",
               RuleType::kHeader,
               {},
               "X-Mailer",
               {},
               false,
               true},
        DefRow{"header_addr",
               "header R From:addr =~ /\\@example\\.com$/",
               RuleType::kHeader,
               {"\\@example\\.com$", ""},
               "From",
               {"addr"}},
        DefRow{"header_two_modifiers",
               "header R From:first:addr =~ /x/",
               RuleType::kHeader,
               {"x", ""},
               "From",
               {"first", "addr"}},
        DefRow{"header_raw_colon_no_space",
               "header R Subject:raw=~/=\\?/",
               RuleType::kHeader,
               {"=\\?", ""},
               "Subject",
               {"raw"}},
        DefRow{"header_trailing_colon",
               "header R Subject: =~ /x/",
               RuleType::kHeader,
               {"x", ""},
               "Subject"},
        DefRow{"header_if_unset",
               "header R Message-Id =~ /^<.*>$/ [if-unset: <none>]",
               RuleType::kHeader,
               {"^<.*>$", ""},
               "Message-Id",
               {},
               false,
               false,
               "<none>"},
        DefRow{
            "pseudo_all", "header R ALL =~ /^X-Foo:/m", RuleType::kHeader, {"^X-Foo:", "m"}, "ALL"},
        DefRow{"pseudo_tocc", "header R ToCc =~ /a/", RuleType::kHeader, {"a", ""}, "ToCc"},
        DefRow{"pseudo_envelope_from",
               "header R EnvelopeFrom =~ /a/",
               RuleType::kHeader,
               {"a", ""},
               "EnvelopeFrom"},
        DefRow{"pseudo_messageid",
               "header R MESSAGEID =~ /a/",
               RuleType::kHeader,
               {"a", ""},
               "MESSAGEID"},
        DefRow{"pseudo_all_trusted",
               "header R ALL-TRUSTED =~ /a/",
               RuleType::kHeader,
               {"a", ""},
               "ALL-TRUSTED"},
        DefRow{"pseudo_all_external",
               "header R ALL-EXTERNAL =~ /a/",
               RuleType::kHeader,
               {"a", ""},
               "ALL-EXTERNAL"},
        DefRow{"mimeheader",
               "mimeheader R Content-Type =~ /text\\/html/",
               RuleType::kMimeHeader,
               {"text\\/html", ""},
               "Content-Type"},
        DefRow{"mimeheader_raw",
               "mimeheader R Content-Type:raw =~ /x/",
               RuleType::kMimeHeader,
               {"x", ""},
               "Content-Type",
               {"raw"}},
        DefRow{
            "body_slash", "body R /\\bfree money\\b/i", RuleType::kBody, {"\\bfree money\\b", "i"}},
        DefRow{"body_m_braces", "body R m{https?://x}i", RuleType::kBody, {"https?://x", "i"}},
        DefRow{"body_m_bang", "body R m!a/b!", RuleType::kBody, {"a/b", ""}},
        DefRow{"body_m_parens", "body R m(a(b)c)s", RuleType::kBody, {"a(b)c", "s"}},
        DefRow{"body_qr", "body R qr/x/", RuleType::kBody, {"x", ""}},
        DefRow{"body_escaped_hash",
               "body R /\\#1 deal/ # a comment",
               RuleType::kBody,
               {"#1 deal", ""}},
        DefRow{"rawbody", "rawbody R /<font/i", RuleType::kRawBody, {"<font", "i"}},
        DefRow{"full", "full R /^Received: /m", RuleType::kFull, {"^Received: ", "m"}},
        DefRow{"uri", "uri R /\\.cn\\b/i", RuleType::kUri, {"\\.cn\\b", "i"}},
        DefRow{"header_eval", "header R eval:check_for_missing_to_header()", RuleType::kHeaderEval},
        DefRow{"header_rbl_eval", "header R eval:check_rbl('zen', 'zen.spamhaus.org.')",
               RuleType::kRblEval},
        DefRow{"header_rbleval", "header R rbleval:check_dns_sender()", RuleType::kRblEval},
        DefRow{"body_eval", "body R eval:check_stock_info('4')", RuleType::kBodyEval},
        DefRow{"rawbody_eval", "rawbody R eval:check_iframe_src()", RuleType::kRawBodyEval},
        DefRow{"full_eval", "full R eval:check_razor2()", RuleType::kFullEval},
        DefRow{"meta", "meta R A && !B", RuleType::kMeta},
        DefRow{"reuse_defines_empty", "reuse R OLD_R", RuleType::kEmpty},
        DefRow{"tabs_and_crlf", "body\tR\t/x/\r", RuleType::kBody, {"x", ""}},
        DefRow{"directive_case_and_dash", "BODY R /x/", RuleType::kBody, {"x", ""}}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(SpamRules, EvalArgumentsAreParsedAsSpamAssassinDoes) {
  RuleSet set =
      parse_rules("header R eval:check_rbl_sub('zen', \"127.0.0.2\", 3 , a-b.c:d)\n", "t.cf");
  const Rule& r = only_rule(set);
  EXPECT_EQ(r.eval.function, "check_rbl_sub");
  EXPECT_EQ(r.eval.raw_args, "'zen', \"127.0.0.2\", 3 , a-b.c:d");
  EXPECT_EQ(r.eval.args, (std::vector<std::string>{"zen", "127.0.0.2", "3", "a-b.c:d"}));
  RuleSet empty = parse_rules("body R eval:check_x()\n", "t.cf");
  EXPECT_TRUE(only_rule(empty).eval.args.empty());
}

// --- bad lines ------------------------------------------------------------

struct BadRow {
  const char* name;
  std::string line;
  std::string category;
  std::string reason_contains;
};

class BadLines : public ::testing::TestWithParam<BadRow> {};

TEST_P(BadLines, BecomeDiagnosticsWithFileAndLine) {
  const auto& p = GetParam();
  RuleSet set = parse_rules("body GOOD /ok/\n" + p.line + "\n", "bad.cf");
  EXPECT_EQ(names(set), std::vector<std::string>{"GOOD"});
  ASSERT_EQ(set.skipped.size(), 1u) << set.summary();
  const Diagnostic& d = set.skipped[0];
  EXPECT_EQ(d.file, "bad.cf");
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.category, p.category) << d.to_string();
  EXPECT_NE(d.reason.find(p.reason_contains), std::string::npos) << d.to_string();
  EXPECT_NE(set.summary().find("1 skipped: 1 " + p.category), std::string::npos) << set.summary();
}

INSTANTIATE_TEST_SUITE_P(
    Diagnostics, BadLines,
    ::testing::Values(
        BadRow{"no_delimiters", "body R foo", "bad regexp", "missing regexp delimiters"},
        BadRow{"unquoted_delimiter", "body R /a/b/", "bad regexp", "unquoted delimiter"},
        BadRow{"bad_modifier", "body R /a/g", "bad regexp", "unknown modifier 'g'"},
        BadRow{"no_end_delimiter", "body R /abc", "bad regexp", "invalid end delimiter"},
        BadRow{"unmatched_paren", "body R /a(b/", "bad regexp", "unmatched ("},
        BadRow{"unmatched_close", "body R /ab)/", "bad regexp", "unmatched )"},
        BadRow{"unmatched_bracket", "body R /a[b/", "bad regexp", "unmatched ["},
        BadRow{"quantifier_first", "body R /*a/", "bad regexp", "quantifier follows nothing"},
        BadRow{"nested_quantifier", "body R /a**/", "bad regexp", "nested quantifiers"},
        BadRow{"code_block", "body R /(?{ system('x') })/", "bad regexp", "code block"},
        BadRow{"backslash_delimiter", "body R m\\a\\", "bad regexp", "backslash delimiter"},
        BadRow{"bad_rule_name", "body 9R /x/", "bad rule name", "9R"},
        BadRow{"missing_test", "body R", "bad directive", "missing test"},
        BadRow{"header_no_operator", "header R Subject /x/", "bad header", "expected =~ or !~"},
        BadRow{"header_bad_modifier", "header R From:bogus =~ /x/", "bad header",
               "unknown header modifier"},
        BadRow{"header_bad_exists", "header R exists:A B", "bad header", "invalid header name"},
        BadRow{"mimeheader_addr", "mimeheader R From:addr =~ /x/", "bad header",
               "unknown header modifier"},
        BadRow{"eval_not_call", "body R eval:check_x", "bad eval", "not fn(args)"},
        BadRow{"eval_bad_args", "body R eval:check_x(a b)", "bad eval", "cannot parse arguments"},
        BadRow{"meta_unknown_token", "meta R A & B", "bad meta", "unknown token '&"},
        BadRow{"meta_perl_code", "meta R A && $x", "bad meta", "'$' not allowed"},
        BadRow{"meta_syntax", "meta R A && || B", "bad meta", "expected operand"},
        BadRow{"meta_unbalanced", "meta R (A && B", "bad meta", "missing ')'"},
        BadRow{"meta_power", "meta R A * * B", "bad meta", "'**'"},
        BadRow{"meta_division_by_zero", "meta R 1 / A", "bad meta", "division by zero"},
        BadRow{"score_not_number", "score R high", "bad score", "not a number"},
        BadRow{"score_three_values", "score R 1 2 3", "bad score", "1 or 4 scores"},
        BadRow{"score_relative_first", "score R (1)", "bad score", "relative score without"},
        BadRow{"priority_not_integer", "priority R 1.5", "bad directive", "priority NAME integer"},
        BadRow{"describe_empty", "describe R", "bad directive", "missing value"},
        BadRow{"required_score_text", "required_score five", "bad directive", "not a number"},
        BadRow{"endif_alone", "endif", "conditional", "without 'if'"},
        BadRow{"else_alone", "else", "conditional", "without 'if'"},
        BadRow{"unclosed_if", "ifplugin Mail::SpamAssassin::Plugin::X", "conditional",
               "unclosed 'ifplugin'"},
        BadRow{"bad_condition", "if version >= = 3\nendif", "conditional", "cannot evaluate"},
        BadRow{"require_other_version", "require_version 3.004006", "require_version",
               "rest of file skipped"},
        BadRow{"include_missing", "include missing.cf", "file", "No such file"},
        BadRow{"redirector_bad", "redirector_pattern /a(/", "bad regexp", "unmatched ("}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(SpamRules, BadRedefinitionKeepsTheEarlierRule) {
  RuleSet set = parse_rules("body R /old/\nbody R /new(/\n", "t.cf");
  ASSERT_EQ(set.rules.size(), 1u);
  EXPECT_EQ(set.rules[0].pattern.source, "old");
  EXPECT_EQ(set.skipped.size(), 1u);
}

TEST(SpamRules, LaterDefinitionReplacesEarlierInPlace) {
  RuleSet set = parse_rules("body A /a/\nbody B /b/\nuri A /c/\n", "t.cf");
  EXPECT_EQ(names(set), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(set.rules[0].type, RuleType::kUri);
  EXPECT_EQ(set.rules[0].line, 3);
}

TEST(SpamRules, UnknownDirectivesAreCountedNotDiagnosed) {
  RuleSet set = parse_rules(
      "askdns A x.example A 1\nfreemail_domains a.example b.example\n"
      "freemail_domains c.example\nbody R /x/\n",
      "t.cf");
  EXPECT_TRUE(set.skipped.empty());
  EXPECT_EQ(set.ignored_directives,
            (std::map<std::string, int>{{"askdns", 1}, {"freemail_domains", 2}}));
  EXPECT_NE(set.summary().find("1 rules loaded, 0 skipped; 3 other settings ignored"),
            std::string::npos)
      << set.summary();
}

// --- scores, flags, descriptions -------------------------------------------

struct ScoreRow {
  const char* name;
  std::string text;  // defines R
  std::array<double, 4> scores;
  bool given;
};

class Scores : public ::testing::TestWithParam<ScoreRow> {};

TEST_P(Scores, FollowConfAndDefaults) {
  RuleSet set = parse_rules(GetParam().text, "t.cf");
  const Rule* r = set.find(set.rules.empty() ? "" : set.rules[0].name);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->scores, GetParam().scores);
  EXPECT_EQ(r->score_given, GetParam().given);
  EXPECT_TRUE(set.skipped.empty()) << set.skipped[0].to_string();
}

INSTANTIATE_TEST_SUITE_P(
    ScoreSets, Scores,
    ::testing::Values(
        ScoreRow{
            "one_value_fills_all_sets", "body R /x/\nscore R 2.5\n", {2.5, 2.5, 2.5, 2.5}, true},
        ScoreRow{"four_values", "body R /x/\nscore R 0 1.1 -0.5 2\n", {0, 1.1, -0.5, 2}, true},
        ScoreRow{"score_before_rule", "score R 3\nbody R /x/\n", {3, 3, 3, 3}, true},
        ScoreRow{"later_score_wins", "body R /x/\nscore R 3\nscore R 4\n", {4, 4, 4, 4}, true},
        ScoreRow{"relative_adds",
                 "body R /x/\nscore R 1 1 1 1\nscore R (1) (0) (2) (0)\n",
                 {2, 1, 3, 1},
                 true},
        ScoreRow{"default_is_one", "body R /x/\n", {1, 1, 1, 1}, false},
        ScoreRow{"testing_rule_default", "body T_R /x/\n", {0.01, 0.01, 0.01, 0.01}, false},
        ScoreRow{
            "nice_default_is_negative", "body R /x/\ntflags R nice\n", {-1, -1, -1, -1}, false},
        ScoreRow{"subrule_default_is_one", "body __R /x/\n", {1, 1, 1, 1}, false},
        ScoreRow{"negative_zero_is_zero", "body R /x/\nscore R -0\n", {0, 0, 0, 0}, true}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(SpamRules, ZeroScoreDisablesAndSubrulesNeverCount) {
  RuleSet set = parse_rules("body R /x/\nscore R 0 0 1 1\nbody __S /y/\n", "t.cf");
  const Rule* r = set.find("R");
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->enabled(0));
  EXPECT_TRUE(r->enabled(3));
  EXPECT_TRUE(r->counts_toward_score());
  const Rule* s = set.find("__S");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->is_subrule());
  EXPECT_FALSE(s->counts_toward_score());
}

TEST(SpamRules, TflagsDescribePriorityAndRequiredScore) {
  RuleSet set = parse_rules(
      "uri __COUNT /^./\ntflags __COUNT multiple maxhits=16 publish a69\n"
      "body N /x/\ntflags N net nosubject\ndescribe N Some text  here\n"
      "body P /y/\npriority P -500\nbody C /(?<NAME>\\w+)/\nrequired_score 6.5\n",
      "t.cf");
  const Rule* c = set.find("__COUNT");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->tflags.multiple);
  EXPECT_EQ(c->tflags.maxhits, 16u);
  EXPECT_TRUE(c->tflags.has("publish"));
  EXPECT_TRUE(c->tflags.has("a69"));
  EXPECT_EQ(c->priority, 0);
  const Rule* n = set.find("N");
  ASSERT_NE(n, nullptr);
  EXPECT_TRUE(n->tflags.net);
  EXPECT_TRUE(n->tflags.nosubject);
  EXPECT_EQ(n->priority, -100);  // net rules run first
  EXPECT_EQ(n->description, "Some text  here");
  EXPECT_EQ(set.find("P")->priority, -500);
  EXPECT_EQ(set.find("C")->priority, -10000);  // named captures before all
  EXPECT_EQ(set.required_score, 6.5);
}

TEST(SpamRules, MetaInheritsNetFromItsDependencies) {
  RuleSet set = parse_rules(
      "header N eval:check_rbl('x','y.')\ntflags N net\n"
      "meta __M N && B\nmeta TOP __M\nbody B /b/\n",
      "t.cf");
  EXPECT_TRUE(set.find("__M")->tflags.net);
  EXPECT_TRUE(set.find("TOP")->tflags.net);
  EXPECT_EQ(set.find("TOP")->priority, -100);
  EXPECT_FALSE(set.find("B")->tflags.net);
}

// --- meta tokens -----------------------------------------------------------

using K = MetaToken::Kind;

TEST(SpamRules, MetaExpressionIsKeptAndTokenised) {
  RuleSet set = parse_rules(
      "meta R (__A + 2*__B >= 3) && !(C || D) && rules_matching(__FOO_*) > 1\n", "t.cf");
  const Rule& r = only_rule(set);
  EXPECT_EQ(r.meta, "(__A + 2*__B >= 3) && !(C || D) && rules_matching(__FOO_*) > 1");
  std::vector<MetaToken> want = {
      {K::kOperator, "("},  {K::kRule, "__A"},    {K::kOperator, "+"},
      {K::kNumber, "2"},    {K::kOperator, "*"},  {K::kRule, "__B"},
      {K::kOperator, ">="}, {K::kNumber, "3"},    {K::kOperator, ")"},
      {K::kOperator, "&&"}, {K::kOperator, "!"},  {K::kOperator, "("},
      {K::kRule, "C"},      {K::kOperator, "||"}, {K::kRule, "D"},
      {K::kOperator, ")"},  {K::kOperator, "&&"}, {K::kRulesMatching, "__FOO_*"},
      {K::kOperator, ">"},  {K::kNumber, "1"}};
  EXPECT_EQ(r.meta_tokens, want);
}

TEST(SpamRules, MetaOperatorsOfTheLexerAllParse) {
  RuleSet set =
      parse_rules("meta R A ^ B != C == (D ? E : F) - G / 2 <= 0.5 < 1\nmeta EMPTY ()\n", "t.cf");
  EXPECT_EQ(set.rules.size(), 2u);
  EXPECT_TRUE(set.skipped.empty()) << set.skipped[0].to_string();
}

// --- conditionals ------------------------------------------------------------

struct CondRow {
  const char* name;
  std::string text;  // defines some of YES*, never NO*
  std::vector<std::string> rules;
};

class Conditionals : public ::testing::TestWithParam<CondRow> {};

TEST_P(Conditionals, SelectTheRulesSpamAssassinWould) {
  LoadOptions o;
  o.plugins = std::vector<std::string>{"Mail::SpamAssassin::Plugin::HeaderEval",
                                       "Mail::SpamAssassin::Plugin::BodyEval",
                                       "Mail::SpamAssassin::Plugin::Dmarc"};
  RuleSet set = parse_rules(GetParam().text, "t.cf", o);
  EXPECT_EQ(names(set), GetParam().rules);
  for (const auto& d : set.skipped) ADD_FAILURE() << d.to_string();
}

const std::string kP = "Mail::SpamAssassin::Plugin::";

INSTANTIATE_TEST_SUITE_P(
    IfPluginElseEndif, Conditionals,
    ::testing::Values(
        CondRow{"ifplugin_loaded", "ifplugin " + kP + "HeaderEval\nbody YES /x/\nendif\n", {"YES"}},
        CondRow{"ifplugin_absent",
                "ifplugin " + kP + "Razor2\nbody NO /x/\nendif\nbody YES /y/\n",
                {"YES"}},
        CondRow{"else_branch",
                "ifplugin " + kP + "Razor2\nbody NO /x/\nelse\nbody YES /y/\nendif\n",
                {"YES"}},
        CondRow{"renamed_plugin", "ifplugin " + kP + "DMARC\nbody YES /x/\nendif\n", {"YES"}},
        CondRow{"version_ge", "if (version >= 3.004000)\nbody YES /x/\nendif\n", {"YES"}},
        CondRow{"version_lt", "if (version < 4.000000)\nbody NO /x/\nendif\n", {}},
        CondRow{"not_plugin", "if !plugin(" + kP + "Razor2)\nbody YES /x/\nendif\n", {"YES"}},
        CondRow{"can_feature",
                "if can(Mail::SpamAssassin::Conf::feature_bug6558_free)\nbody YES /x/\nendif\n",
                {"YES"}},
        CondRow{"can_unknown",
                "if can(Mail::SpamAssassin::Conf::feature_time_travel)\nbody NO /x/\nendif\n",
                {}},
        CondRow{"can_plugin_method_loaded",
                "if can(" + kP + "BodyEval::has_check_body_length)\nbody YES /x/\nendif\n",
                {"YES"}},
        CondRow{"can_plugin_method_not_loaded",
                "if can(" + kP + "MIMEEval::has_check_qp_ratio)\nbody NO /x/\nendif\n",
                {}},
        CondRow{"and_or_not",
                "if (version >= 3.004000) && !(plugin(" + kP +
                    "Razor2) || perl_version < 5.010)\n"
                    "body YES /x/\nendif\n",
                {"YES"}},
        CondRow{"nested_inner_false",
                "ifplugin " + kP + "HeaderEval\nbody YES1 /x/\nifplugin " + kP +
                    "Razor2\nbody NO /x/\nendif\nbody YES2 /x/\nendif\n",
                {"YES1", "YES2"}},
        CondRow{"else_inside_skipped_block_stays_skipped",
                "ifplugin " + kP + "Razor2\nifplugin " + kP +
                    "Pyzor\nbody NO1 /x/\nelse\nbody NO2 /x/\n"
                    "endif\nendif\nbody YES /x/\n",
                {"YES"}},
        CondRow{"skipped_lines_may_be_garbage",
                "ifplugin " + kP + "Razor2\nbody NO /unclosed(/\nendif\n",
                {}},
        CondRow{
            "enable_compat",
            "enable_compat welcomelist_blocklist\n"
            "if !can(Mail::SpamAssassin::Conf::compat_welcomelist_blocklist)\nbody NO /x/\nendif\n",
            {}}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(SpamRules, PluginsDefaultToLoadpluginLinesSeenSoFar) {
  RuleSet set = parse_rules("ifplugin " + kP + "Bayes\nbody NO1 /x/\nendif\nloadplugin " + kP +
                                "Bayes\ntryplugin " + kP + "Dmarc /x/Dmarc.pm\nifplugin " + kP +
                                "Bayes\nbody YES /x/\nendif\nifplugin " + kP +
                                "DMARC\nbody YES2 /x/\nendif\n",
                            "t.cf");
  EXPECT_EQ(names(set), (std::vector<std::string>{"YES", "YES2"}));
  EXPECT_EQ(set.plugins_loaded, (std::set<std::string>{kP + "Bayes", kP + "DMARC"}));
}

TEST(SpamRules, LangLinesCountOnlyForTheirLanguage) {
  std::string text =
      "body R /x/\ndescribe R English\nlang de describe R Deutsch\nlang pt_br body PT /x/\n";
  EXPECT_EQ(parse_rules(text, "t.cf").find("R")->description, "English");
  LoadOptions de;
  de.lang = "de_DE.UTF-8";
  RuleSet set = parse_rules(text, "t.cf", de);
  EXPECT_EQ(set.find("R")->description, "Deutsch");
  EXPECT_EQ(set.find("PT"), nullptr);
}

// --- include -----------------------------------------------------------------

class SpamRuleFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("spam_rules_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / "sub");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  std::filesystem::path dir_;
};

TEST_F(SpamRuleFiles, IncludeIsRelativeToTheIncludingFile) {
  write("sub/inner.cf", "body INNER /i/\nscore OUTER 7\n");
  write("sub/mid.cf", "include inner.cf\nbody MID /m/\n");
  std::string top = write("top.cf", "body OUTER /o/\ninclude sub/mid.cf\ninclude sub/mid.cf\n");
  RuleSet set = load_rule_files({top});
  EXPECT_EQ(names(set), (std::vector<std::string>{"OUTER", "INNER", "MID"}));
  EXPECT_EQ(set.find("OUTER")->scores[0], 7);
  EXPECT_EQ(set.find("INNER")->file, (dir_ / "sub/inner.cf").string());
  EXPECT_EQ(set.files.size(), 3u);  // mid.cf read once
  EXPECT_TRUE(set.skipped.empty());
}

TEST_F(SpamRuleFiles, IncludeDepthIsBounded) {
  for (int i = 0; i < kMaxIncludeDepth + 3; ++i)
    write("f" + std::to_string(i) + ".cf",
          "body R" + std::to_string(i) + " /x/\ninclude f" + std::to_string(i + 1) + ".cf\n");
  RuleSet set = load_rule_files({(dir_ / "f0.cf").string()});
  EXPECT_EQ(set.rules.size(), static_cast<size_t>(kMaxIncludeDepth + 1));
  ASSERT_EQ(set.skipped.size(), 1u);
  EXPECT_EQ(set.skipped[0].category, "include");
}

TEST_F(SpamRuleFiles, DirsReadPreFilesFirstThenCfByName) {
  write("sub/b.cf", "score R 2\n");
  write("sub/a.cf", "ifplugin " + kP + "Foo\nbody R /x/\nendif\n");
  write("sub/z.pre", "loadplugin " + kP + "Foo\n");
  write("local.cf", "score R 3\n");
  write("ignored.txt", "body NO /x/\n");
  RuleSet set =
      load_rule_dirs({(dir_ / "sub").string(), dir_.string(), (dir_ / "missing").string()});
  EXPECT_EQ(names(set), std::vector<std::string>{"R"});
  EXPECT_EQ(set.find("R")->scores[0], 3);
  EXPECT_EQ(set.files,
            (std::vector<std::string>{(dir_ / "sub/z.pre").string(), (dir_ / "sub/a.cf").string(),
                                      (dir_ / "sub/b.cf").string(), (dir_ / "local.cf").string()}));
}

// --- replace tags ------------------------------------------------------------

TEST(SpamRules, ReplaceTagsAsInStock25Replace) {
  // From /usr/share/spamassassin/25_replace.cf, tags shortened.
  RuleSet set = parse_rules(
      "replace_tag V (?:[vV]|\\\\\\/)\nreplace_tag I (?:[iIl|!1])\nreplace_tag A (?:[aA\\@])\n"
      "replace_tag G (?:[gG])\nreplace_tag R (?:[rR])\n"
      "replace_inter W2 \\W{0,2}\nreplace_post P3 {1,3}\n"
      "header __SUBJECT_FUZZY_VPILL Subject =~ /<inter W2><post P3>(?!viagra)<V><I><A><G><R><A>/i\n"
      "replace_rules __SUBJECT_FUZZY_VPILL\n"
      "body NOT_LISTED /<V>/\n",
      "t.cf");
  const Rule* r = set.find("__SUBJECT_FUZZY_VPILL");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->tags_replaced);
  EXPECT_EQ(
      r->pattern.source,
      "(?!viagra)(?:[vV]|\\\\\\/){1,3}\\W{0,2}(?:[iIl|!1]){1,3}\\W{0,2}(?:[aA\\@]){1,3}\\W{0,2}"
      "(?:[gG]){1,3}\\W{0,2}(?:[rR]){1,3}\\W{0,2}(?:[aA\\@]){1,3}");
  EXPECT_EQ(r->pattern.flags, "i");
  EXPECT_EQ(set.find("NOT_LISTED")->pattern.source, "<V>");
  EXPECT_TRUE(set.skipped.empty());
}

TEST(SpamRules, ReplaceTagsPreAndCustomDelimiters) {
  RuleSet set = parse_rules(
      "replace_start {{\nreplace_end }}\nreplace_tag X [xX]\nreplace_pre B \\b\n"
      "body R /{{pre B}}a{{X}}/\nreplace_rules R\n",
      "t.cf");
  // The split into pieces is on <...> whatever the delimiters (as
  // ReplaceTags.pm), so {{X}} stays inside its text piece and gets the pre.
  EXPECT_EQ(set.find("R")->pattern.source, "a\\b[xX]");
}

TEST(SpamRules, ReplacementThatBreaksTheRegexpKeepsThePattern) {
  RuleSet set = parse_rules("replace_tag T (\nbody R /a<T>/\nreplace_rules R\n", "t.cf");
  EXPECT_EQ(set.find("R")->pattern.source, "a<T>");
  ASSERT_EQ(set.skipped.size(), 1u);
  EXPECT_NE(set.skipped[0].reason.find("after replace tags"), std::string::npos);
}

TEST(SpamRules, RecordsPluginsRedirectorsTldsAndRegressionTests) {
  RuleSet set = parse_rules(
      "redirector_pattern m'^https?:/*(?:\\w+\\.)?google\\.com/url\\?q=(.*)'i\n"
      "util_rb_tld com NET\nutil_rb_2tld co.uk\nutil_rb_3tld a.b.c\n"
      "test R ok some text\n",
      "t.cf");
  ASSERT_EQ(set.redirector_patterns.size(), 1u);
  EXPECT_EQ(set.redirector_patterns[0].flags, "i");
  EXPECT_EQ(set.util_rb_tld, (std::vector<std::string>{"com", "net"}));
  EXPECT_EQ(set.util_rb_2tld, std::vector<std::string>{"co.uk"});
  EXPECT_EQ(set.util_rb_3tld, std::vector<std::string>{"a.b.c"});
  ASSERT_EQ(set.regression_tests.size(), 1u);
  EXPECT_EQ(set.regression_tests[0].text, "some text");
  EXPECT_TRUE(set.skipped.empty());
}

// --- the stock rules ---------------------------------------------------------

TEST(SpamRules, StockSpamAssassinRulesLoad) {
  if (!std::filesystem::exists("/usr/share/spamassassin/72_active.cf"))
    GTEST_SKIP() << "Debian package spamassassin not installed (scripts/install-deps)";
  RuleSet set = load_rule_dirs({"/usr/share/spamassassin", "/etc/spamassassin"});
  std::cout << set.summary() << "\n";
  std::map<std::string, int> types;
  for (const auto& r : set.rules) ++types[std::string(rule_type_name(r.type))];
  for (const auto& [t, n] : types) std::cout << "  " << t << ": " << n << "\n";
  for (const auto& d : set.skipped) std::cout << "  skipped " << d.to_string() << "\n";
  EXPECT_GT(set.rules.size(), 2000u);
  EXPECT_GT(types["body"], 400);
  EXPECT_GT(types["header"], 400);
  EXPECT_GT(types["meta"], 500);
  EXPECT_LT(set.skipped.size(), 20u);
  EXPECT_EQ(set.required_score, 5.0);
  const Rule* gtube = set.find("GTUBE");
  ASSERT_NE(gtube, nullptr);
  EXPECT_EQ(gtube->type, RuleType::kBody);
  EXPECT_EQ(gtube->scores, (std::array<double, 4>{1000, 1000, 1000, 1000}));
  EXPECT_NE(gtube->pattern.source.find("GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL"), std::string::npos);
  const Rule* fuzzy = set.find("FUZZY_MONEY");
  ASSERT_NE(fuzzy, nullptr);
  EXPECT_TRUE(fuzzy->tags_replaced);
  EXPECT_TRUE(set.plugins_loaded.contains(kP + "ReplaceTags"));
  EXPECT_FALSE(set.redirector_patterns.empty());
  for (const auto& r : set.rules) {
    bool has_test = r.type == RuleType::kEmpty || r.type == RuleType::kMeta
                        ? true
                        : !r.eval.function.empty() || r.header.exists || !r.pattern.source.empty();
    EXPECT_TRUE(has_test) << r.name;
    if (r.type == RuleType::kMeta) {
      EXPECT_FALSE(r.meta_tokens.empty() && r.meta != "()") << r.name;
    }
  }
}

}  // namespace
}  // namespace filterd::spam
