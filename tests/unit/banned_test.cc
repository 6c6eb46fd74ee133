// Table tests of the banned-file rules: the shipped etc/banned.rules on
// typical and hostile attachments, the rules file parser, rule order, and
// the fail-closed match limits.
#include "policy/banned.h"

#include <gtest/gtest.h>

#include <thread>

namespace filterd::policy {
namespace {

using decoders::Part;

Part part(std::string path, int parent, std::string detected, std::string declared,
          std::vector<std::string> names = {}) {
  Part p;
  p.path = std::move(path);
  p.parent = parent;
  p.detected_type = std::move(detected);
  p.declared_type = std::move(declared);
  p.declared_names = std::move(names);
  return p;
}

// The text body every test message starts with: never banned.
const Part kBody = part("p001", -1, ".txt", "text/plain");

const BannedRules& shipped_rules() {
  static const BannedRules rules = [] {
    auto r = load_banned_rules(FILTERD_SOURCE_DIR "/etc/banned.rules");
    if (!r) throw std::runtime_error(r.error());
    return std::move(*r);
  }();
  return rules;
}

BannedRules rules_from(std::string_view text, const BannedLimits& limits = {}) {
  auto r = parse_banned_rules(text, "test.rules", limits);
  if (!r) throw std::runtime_error(r.error());
  return std::move(*r);
}

std::vector<std::string> reasons(const std::vector<BannedPart>& banned) {
  std::vector<std::string> out;
  for (const auto& b : banned) out.push_back(banned_reason(b));
  return out;
}

struct Row {
  const char* name;
  std::vector<Part> parts;           // after kBody
  std::vector<std::string> reasons;  // banned_reason() of each banned part
  std::string key = "";              // the first banned part's matched key
  std::string rule_contains = "";    // ... and a piece of its rule
};

class ShippedRulesTable : public ::testing::TestWithParam<Row> {};

TEST_P(ShippedRulesTable, BansExactlyTheseParts) {
  std::vector<Part> parts{kBody};
  parts.insert(parts.end(), GetParam().parts.begin(), GetParam().parts.end());
  auto banned = match_banned(shipped_rules(), parts);
  EXPECT_EQ(reasons(banned), GetParam().reasons);
  if (!banned.empty()) {
    EXPECT_EQ(banned[0].key, GetParam().key);
    EXPECT_NE(banned[0].rule.find(GetParam().rule_contains), std::string::npos) << banned[0].rule;
    EXPECT_EQ(banned[0].error, "");
  }
}

const std::string kClsid = "{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}";

INSTANTIATE_TEST_SUITE_P(
    Defaults, ShippedRulesTable,
    ::testing::Values(
        Row{"plain_pdf_passes", {part("p002", -1, ".pdf", "application/pdf", {"invoice.pdf"})}, {}},
        Row{"double_extension_is_banned",
            {part("p002", -1, "", "application/octet-stream", {"invoice.pdf.exe"})},
            {"p002 invoice.pdf.exe"},
            "invoice.pdf.exe",
            "[A-Za-z]"},
        Row{"executable_is_banned_by_content",
            {part("p002", -1, ".exe-ms", "application/octet-stream", {"invoice.pdf.exe"})},
            {"p002 invoice.pdf.exe .exe-ms"},
            ".exe-ms",
            "exe-ms|dll"},
        Row{"executable_inside_zip_is_banned_anywhere",
            {part("p002", -1, ".zip", "application/zip", {"docs.zip"}),
             part("p002/p001", 1, ".exe-ms", "", {"setup.bin"})},
            {"p002/p001 setup.bin .exe-ms"},
            ".exe-ms",
            "exe-ms|dll"},
        Row{"executable_inside_tar_is_banned_anywhere",
            {part("p002", -1, ".tar", "application/x-tar", {"bundle.tar"}),
             part("p002/p001", 1, ".exe-ms", "", {"tool"})},
            {"p002/p001 tool .exe-ms"},
            ".exe-ms",
            "exe-ms|dll"},
        Row{"members_of_a_banned_executable_are_banned_too",
            {part("p002", -1, ".exe-ms", "application/octet-stream", {"sfx.exe"}),
             part("p002/p001", 1, ".txt", "", {"readme.txt"})},
            {"p002 sfx.exe .exe-ms", "p002/p001 readme.txt .txt"},
            ".exe-ms",
            "exe-ms|dll"},
        Row{"screensaver_inside_tar_passes",
            {part("p002", -1, ".tar", "application/x-tar", {"bundle.tar"}),
             part("p002/p001", 1, ".txt", "", {"evil.scr"})},
            {}},
        Row{"screensaver_inside_gzip_tar_passes",
            {part("p002", -1, ".gz", "application/gzip", {"b.tar.gz"}),
             part("p002/p001", 1, ".tar", "", {"b.tar"}),
             part("p002/p001/p001", 2, ".txt", "", {"evil.scr"})},
            {}},
        Row{"screensaver_top_level_is_banned",
            {part("p002", -1, "", "application/octet-stream", {"evil.scr"})},
            {"p002 evil.scr"},
            "evil.scr",
            "(pif|scr)"},
        // The .scr rule comes before the zip exception (amavis's order).
        Row{"screensaver_inside_zip_is_banned",
            {part("p002", -1, ".zip", "application/zip", {"a.zip"}),
             part("p002/p001", 1, ".txt", "", {"evil.scr"})},
            {"p002/p001 evil.scr .txt"},
            "evil.scr",
            "(pif|scr)"},
        // No zip exception in the shipped rules: zipped scripts are banned.
        Row{"batch_file_inside_zip_is_banned",
            {part("p002", -1, ".zip", "application/zip", {"a.zip"}),
             part("p002/p001", 1, ".txt", "", {"run.bat"})},
            {"p002/p001 run.bat .txt"},
            "run.bat",
            "bat"},
        Row{"batch_file_top_level_is_banned",
            {part("p002", -1, ".txt", "text/plain", {"run.bat"})},
            {"p002 run.bat .txt"},
            "run.bat",
            "bat|cmd|com)[.\\s]*$"},
        Row{"trailing_dots_and_spaces_do_not_hide_an_extension",
            {part("p002", -1, "", "", {"evil.exe. . "})},
            {"p002 evil.exe. . "},
            "evil.exe. . ",
            "(exe|vbs|pif|scr|cpl|bat|cmd|com)"},
        Row{"class_id_name_is_banned",
            {part("p002", -1, ".txt", "text/plain", {"readme.txt." + kClsid})},
            {"p002 readme.txt." + kClsid + " .txt"},
            "readme.txt." + kClsid,
            "{[0-9a-f]{8}"},
        Row{"msdownload_type_is_banned",
            {part("p002", -1, "", "application/x-msdownload", {"update.bin"})},
            {"p002 update.bin"},
            "application/x-msdownload",
            "x-msdownload"},
        Row{"executable_named_as_pdf_is_banned_as_disguised",
            {part("p002", -1, ".exe-ms", "application/pdf", {"invoice.pdf"})},
            {"p002 invoice.pdf .exe-ms"},
            "T=.exe-ms?M=application/pdf?N=invoice.pdf",
            "^T="},
        Row{"message_partial_is_banned",
            {part("p002", -1, ".txt", "message/partial")},
            {"p002 .txt"},
            "message/partial",
            "partial"},
        Row{"windows_metafile_is_banned_by_content",
            {part("p002", -1, ".wmf", "image/png", {"logo.png"})},
            {"p002 logo.png .wmf"},
            ".wmf",
            "wmf$"},
        Row{"dll_named_text_file_is_not_a_double_extension",
            {part("p002", -1, ".txt", "", {"notes.dll"})},
            {}},
        Row{"invalid_utf8_name_still_matches_ascii_rules",
            {part("p002", -1, "", "application/octet-stream", {"\xff\xfe.exe"})},
            {"p002 ??.exe"},
            "\xEF\xBF\xBD\xEF\xBF\xBD.exe",
            "(exe|vbs|pif|scr|cpl|bat|cmd|com)"},
        Row{"long_ordinary_names_pass_within_the_limits",
            {part("p002", -1, ".pdf", "application/pdf",
                  {"r." + std::string(1900, 'a') + ".pdf", std::string(1900, '.') + "pdf",
                   "x" + std::string(1900, ' ') + ".pdf"})},
            {}}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(BannedRules, ShippedFileLoads) {
  auto rules = load_banned_rules(FILTERD_SOURCE_DIR "/etc/banned.rules");
  ASSERT_TRUE(rules.has_value()) << rules.error();
  EXPECT_GE(rules->rules().size(), 15u);
  EXPECT_EQ(rules->origin(), FILTERD_SOURCE_DIR "/etc/banned.rules");
}

TEST(BannedRules, MissingFileErrorNamesThePath) {
  auto rules = load_banned_rules("/nonexistent/banned.rules");
  ASSERT_FALSE(rules.has_value());
  EXPECT_EQ(rules.error(), "/nonexistent/banned.rules: No such file or directory");
}

struct ErrorRow {
  const char* name;
  std::string text;
  std::string error_starts_with;
};

class RulesParseErrors : public ::testing::TestWithParam<ErrorRow> {};

TEST_P(RulesParseErrors, NameFileAndLine) {
  auto rules = parse_banned_rules(GetParam().text, "banned.rules");
  ASSERT_FALSE(rules.has_value());
  EXPECT_TRUE(rules.error().starts_with(GetParam().error_starts_with)) << rules.error();
}

INSTANTIATE_TEST_SUITE_P(
    Parser, RulesParseErrors,
    ::testing::Values(
        ErrorRow{"unknown_keyword", "ban \\.exe$\nblock \\.scr$\n",
                 "banned.rules:2: unknown keyword 'block' (ban or allow)"},
        ErrorRow{"keyword_is_case_sensitive", "BAN x\n", "banned.rules:1: unknown keyword 'BAN'"},
        ErrorRow{"bad_regex", "# comment\n\nban (unclosed\n",
                 "banned.rules:3: bad pattern: missing closing parenthesis at offset 9"},
        ErrorRow{"missing_pattern", "allow\n", "banned.rules:1: missing pattern after 'allow'"},
        ErrorRow{"missing_pattern_after_blanks", "ban \t  \r\n",
                 "banned.rules:1: missing pattern after 'ban'"},
        ErrorRow{"invalid_utf8_pattern", "ban \xff\n", "banned.rules:1: bad pattern: UTF-8 error"},
        ErrorRow{"backslash_c_is_refused", "ban a\\Cb\n", "banned.rules:1: bad pattern:"}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(BannedRules, CommentsBlankLinesAndTrailingSpaceAreIgnored) {
  auto rules = rules_from("  # comment\n\n\t\nban  \\.exe$   \r\nallow\t^x$\n");
  ASSERT_EQ(rules.rules().size(), 2u);
  EXPECT_EQ(rules.rules()[0].text, "ban \\.exe$");
  EXPECT_EQ(rules.rules()[0].line, 4);
  EXPECT_EQ(rules.rules()[0].action, BannedAction::kBan);
  EXPECT_EQ(rules.rules()[1].text, "allow ^x$");
  EXPECT_EQ(rules.rules()[1].action, BannedAction::kAllow);
}

TEST(BannedRules, EmptyRulesBanNothing) {
  auto rules = rules_from("# nothing\n");
  EXPECT_TRUE(match_banned(rules, {part("p001", -1, ".exe-ms", "", {"a.exe"})}).empty());
}

TEST(BannedRules, FirstMatchingRuleDecides) {
  std::vector<Part> parts{part("p001", -1, ".zip", "application/zip", {"a.zip"}),
                          part("p001/p001", 0, "", "", {"a.exe"})};
  EXPECT_TRUE(match_banned(rules_from("allow ^\\.zip$\nban \\.exe$\n"), parts).empty());
  auto banned = match_banned(rules_from("ban \\.exe$\nallow ^\\.zip$\n"), parts);
  ASSERT_EQ(banned.size(), 1u);
  EXPECT_EQ(banned[0].index, 1u);
  EXPECT_EQ(banned[0].rule_line, 1);
  EXPECT_EQ(banned[0].rule, "ban \\.exe$");
  EXPECT_EQ(banned[0].key, "a.exe");
}

TEST(BannedRules, AllowOnAnAncestorStopsLaterRulesOnly) {
  auto rules = rules_from("ban ^\\.exe-ms$\nallow ^\\.tar$\nban \\.sh$\n");
  std::vector<Part> parts{part("p001", -1, ".tar", "", {"t.tar"}),
                          part("p001/p001", 0, ".exe-ms", "", {"a"}),
                          part("p001/p002", 0, ".txt", "", {"b.sh"})};
  EXPECT_EQ(reasons(match_banned(rules, parts)), std::vector<std::string>{"p001/p001 a .exe-ms"});
}

TEST(BannedRules, CombinedKeyIsMadePerDeclaredName) {
  auto rules = rules_from("ban ^T=\\.exe-ms\\tN=.*\\.pdf$\n");
  auto banned = match_banned(rules, {part("p001", -1, ".exe-ms", "", {"setup.exe", "doc.pdf"})});
  ASSERT_EQ(banned.size(), 1u);
  EXPECT_EQ(banned[0].key, "T=.exe-ms?N=doc.pdf");
}

TEST(BannedRules, CombinedKeyWithoutNameHasTypesOnly) {
  auto rules = rules_from("ban ^T=\\.exe-ms\\tM=text/plain$\n");
  EXPECT_EQ(match_banned(rules, {part("p001", -1, ".exe-ms", "text/plain")}).size(), 1u);
}

// A pattern with catastrophic backtracking is stopped by the match limit;
// for a ban rule that fails closed: banned, with the error for the log.
TEST(BannedRules, RunawayBanRuleStopsAndBans) {
  auto rules = rules_from("ban ^(a+)+$\n");
  auto banned = match_banned(rules, {part("p001", -1, "", "", {std::string(1000, 'a') + "b"})});
  ASSERT_EQ(banned.size(), 1u);
  EXPECT_EQ(banned[0].error, "match limit exceeded");
  EXPECT_EQ(banned[0].key.size(), kBannedMaxKeyBytes);
}

// ... and for an allow rule it counts as no match: later rules still judge.
TEST(BannedRules, RunawayAllowRuleDoesNotPass) {
  auto rules = rules_from("allow ^(a+)+$\nban b$\n");
  auto banned = match_banned(rules, {part("p001", -1, "", "", {std::string(1000, 'a') + "b"})});
  ASSERT_EQ(banned.size(), 1u);
  EXPECT_EQ(banned[0].rule_line, 2);
  EXPECT_EQ(banned[0].error, "");
}

// Names too long to match in bounded time fail closed, whatever the rules.
TEST(BannedRules, OverlongNameIsBannedUnmatched) {
  auto banned = match_banned(shipped_rules(),
                             {kBody, part("p002", -1, ".tar", "", {"t.tar"}),
                              part("p002/p001", 1, ".pdf", "", {std::string(3000, 'a') + ".pdf"})});
  ASSERT_EQ(banned.size(), 1u);
  EXPECT_EQ(banned[0].index, 2u);
  EXPECT_EQ(banned[0].error, "key longer than 2048 bytes");
  EXPECT_EQ(banned[0].rule_line, shipped_rules().rules()[0].line);
}

TEST(BannedRules, LowerLimitsStopEarlier) {
  BannedLimits tight;
  tight.match_limit = 10;
  auto rules = rules_from("ban ^(a|b)*$\n", tight);
  auto banned = match_banned(rules, {part("p001", -1, "", "", {std::string(50, 'a') + "!"})});
  ASSERT_EQ(banned.size(), 1u);
  EXPECT_NE(banned[0].error, "");
}

TEST(BannedRules, ParentsThatAreNotEarlierPartsEndTheChain) {
  auto rules = rules_from("ban ^\\.zip$\n");
  std::vector<Part> parts{part("p001", 1, ".txt", ""), part("p002", 1, ".txt", ""),
                          part("p003", 99, ".txt", ""), part("p004", -7, ".zip", "")};
  EXPECT_EQ(reasons(match_banned(rules, parts)), std::vector<std::string>{"p004 .zip"});
}

TEST(BannedRules, ReasonIsPathNameAndType) {
  BannedPart b;
  b.label = "p002 invoice.pdf.exe";
  b.detected_type = ".exe-ms";
  EXPECT_EQ(banned_reason(b), "p002 invoice.pdf.exe .exe-ms");
  b.detected_type = "";
  EXPECT_EQ(banned_reason(b), "p002 invoice.pdf.exe");
}

TEST(BannedRules, LabelsAndKeysAreLogSafe) {
  auto rules = rules_from("ban exe$\n");
  auto banned = match_banned(
      rules,
      {part("p001", -1, "", "", {"a\r\nBcc: x\x1b[31m" + std::string(300, 'z') + "\xC3\xA9.exe"})});
  ASSERT_EQ(banned.size(), 1u);
  EXPECT_EQ(banned[0].key.substr(0, 16), "a??Bcc: x?[31mzz");
  EXPECT_LE(banned[0].key.size(), kBannedMaxKeyBytes);
  EXPECT_LE(banned[0].label.size(), kBannedMaxLabelBytes);
  EXPECT_TRUE(banned[0].label.ends_with("..."));
}

struct LogSafeRow {
  const char* name;
  std::string in;
  size_t max;
  std::string out;
};

class LogSafeTable : public ::testing::TestWithParam<LogSafeRow> {};

TEST_P(LogSafeTable, Sanitizes) {
  EXPECT_EQ(log_safe(GetParam().in, GetParam().max), GetParam().out);
}

INSTANTIATE_TEST_SUITE_P(
    LogSafe, LogSafeTable,
    ::testing::Values(LogSafeRow{"plain", "invoice.pdf", 100, "invoice.pdf"},
                      LogSafeRow{"controls", "a\tb\nc\x7f", 100, "a?b?c?"},
                      LogSafeRow{"c1_controls", "a\xC2\x85z", 100, "a?z"},
                      LogSafeRow{"invalid_utf8", "\xff\xC3z", 100, "??z"},
                      LogSafeRow{"overlong_and_surrogate", "\xC0\xAF\xED\xA0\x80", 100, "?????"},
                      LogSafeRow{"utf8_kept", "J\xC3\xB6rg", 100, "J\xC3\xB6rg"},
                      LogSafeRow{"fits_exactly", "abcde", 5, "abcde"},
                      LogSafeRow{"truncated", "abcdefgh", 6, "abc..."},
                      LogSafeRow{"truncated_at_character_boundary", "ab\xC3\xB6\xC3\xB6xyz", 6,
                                 "ab..."}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(BannedRules, MovedRulesStillMatch) {
  BannedRules a = rules_from("ban x\n");
  BannedRules b = std::move(a);
  EXPECT_EQ(match_banned(b, {part("p001", -1, "", "", {"x"})}).size(), 1u);
}

TEST(BannedRules, OneRuleSetServesManyThreads) {
  std::vector<Part> parts{kBody, part("p002", -1, ".zip", "application/zip", {"a.zip"}),
                          part("p002/p001", 1, ".exe-ms", "", {"invoice.pdf.exe"}),
                          part("p003", -1, "", "", {"evil.scr"})};
  const auto expected = reasons(match_banned(shipped_rules(), parts));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (reasons(match_banned(shipped_rules(), parts)) != expected) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
  EXPECT_EQ(expected.size(), 2u);
}

}  // namespace
}  // namespace filterd::policy
