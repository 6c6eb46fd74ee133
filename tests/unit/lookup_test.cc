// Table tests of amavis-style lookup keys, recipient tables and key sets.
#include "policy/lookup.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace filterd::policy {
namespace {

using Keys = std::vector<std::string>;

struct KeysRow {
  const char* name;
  std::string address;
  char delimiter;
  Keys keys;
};

class LookupKeysTable : public ::testing::TestWithParam<KeysRow> {};

TEST_P(LookupKeysTable, TriesTheseKeysMostSpecificFirst) {
  EXPECT_EQ(lookup_keys(GetParam().address, GetParam().delimiter), GetParam().keys);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, LookupKeysTable,
    ::testing::Values(
        KeysRow{"readme_example_upper_case_with_extension",
                "User+Foo@Sub.Example.COM",
                '+',
                {"user+foo@sub.example.com", "user@sub.example.com", "user+foo@", "user@",
                 "sub.example.com", ".sub.example.com", ".example.com", ".com", "."}},
        KeysRow{"no_extension",
                "bob@example.com",
                '+',
                {"bob@example.com", "bob@", "example.com", ".example.com", ".com", "."}},
        KeysRow{"delimiter_off_keeps_the_extension",
                "user+foo@example.com",
                0,
                {"user+foo@example.com", "user+foo@", "example.com", ".example.com", ".com", "."}},
        KeysRow{"other_delimiter_only",
                "user+foo@example.com",
                '-',
                {"user+foo@example.com", "user+foo@", "example.com", ".example.com", ".com", "."}},
        KeysRow{"split_at_the_first_delimiter",
                "a+b+c@x.org",
                '+',
                {"a+b+c@x.org", "a@x.org", "a+b+c@", "a@", "x.org", ".x.org", ".org", "."}},
        KeysRow{"leading_delimiter_is_not_an_extension",
                "+foo@x.org",
                '+',
                {"+foo@x.org", "+foo@", "x.org", ".x.org", ".org", "."}},
        KeysRow{"empty_extension",
                "user+@x.org",
                '+',
                {"user+@x.org", "user@x.org", "user+@", "user@", "x.org", ".x.org", ".org", "."}},
        KeysRow{"postmaster_is_never_split",
                "mailer-daemon@x.org",
                '-',
                {"mailer-daemon@x.org", "mailer-daemon@", "x.org", ".x.org", ".org", "."}},
        KeysRow{"owner_and_request_lists_are_not_split_at_dash",
                "owner-list@x.org",
                '-',
                {"owner-list@x.org", "owner-list@", "x.org", ".x.org", ".org", "."}},
        KeysRow{"list_request",
                "list-request@x.org",
                '-',
                {"list-request@x.org", "list-request@", "x.org", ".x.org", ".org", "."}},
        KeysRow{
            "dash_extension",
            "user-foo@x.org",
            '-',
            {"user-foo@x.org", "user@x.org", "user-foo@", "user@", "x.org", ".x.org", ".org", "."}},
        KeysRow{"null_sender_empty", "", '+', {"<>", "."}},
        KeysRow{"null_sender_brackets", "<>", '+', {"<>", "."}},
        KeysRow{"angle_brackets_are_removed",
                "<Bob@Example.com>",
                '+',
                {"bob@example.com", "bob@", "example.com", ".example.com", ".com", "."}},
        KeysRow{"no_at_is_a_local_part", "Postmaster", '+', {"postmaster@", "."}},
        KeysRow{"no_at_with_extension", "user+foo", '+', {"user+foo@", "user@", "."}},
        KeysRow{"empty_domain", "user@", '+', {"user@", "."}},
        KeysRow{"empty_local_part",
                "@example.com",
                '+',
                {"@example.com", "@", "example.com", ".example.com", ".com", "."}},
        KeysRow{"trailing_dot_domain",
                "user@Example.COM.",
                '+',
                {"user@example.com", "user@", "example.com", ".example.com", ".com", "."}},
        KeysRow{"single_label_domain",
                "root@localhost",
                '+',
                {"root@localhost", "root@", "localhost", ".localhost", "."}},
        KeysRow{"quoted_local_part_kept_and_not_split",
                "\"John+Doe\"@x.org",
                '+',
                {"\"john+doe\"@x.org", "\"john+doe\"@", "x.org", ".x.org", ".org", "."}},
        KeysRow{"quoted_local_part_with_at",
                "\"a@b\"@x.org",
                '+',
                {"\"a@b\"@x.org", "\"a@b\"@", "x.org", ".x.org", ".org", "."}},
        KeysRow{"quoted_local_part_without_domain", "\"a@b\"", '+', {"\"a@b\"@", "."}},
        KeysRow{"address_literal_is_not_split",
                "u@[192.0.2.1]",
                '+',
                {"u@[192.0.2.1]", "u@", "[192.0.2.1]", "."}},
        KeysRow{"last_at_separates_the_domain",
                "a@b@x.org",
                '+',
                {"a@b@x.org", "a@b@", "x.org", ".x.org", ".org", "."}},
        KeysRow{"leading_dot_domain_has_no_repeated_key",
                "u@.x.org",
                '+',
                {"u@.x.org", "u@", ".x.org", "..x.org", ".org", "."}},
        KeysRow{"only_ascii_is_lower_cased",
                "J\xC3\x96rg@X.org",
                '+',
                {"j\xC3\x96rg@x.org", "j\xC3\x96rg@", "x.org", ".x.org", ".org", "."}}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(LookupKeys, ManyLabelsGiveOnlyTheLeastSpecificDomainKeys) {
  std::string domain;
  for (int i = 0; i < 1000; ++i) domain += "l" + std::to_string(i) + ".";
  domain += "com";
  Keys keys = lookup_keys("u@" + domain, '+');
  ASSERT_EQ(keys.size(), 3 + kMaxDomainKeys);  // u@domain, u@, domain, then dotted
  EXPECT_EQ(keys[3], ".l992.l993.l994.l995.l996.l997.l998.l999.com");
  EXPECT_EQ(keys.back(), ".");
  EXPECT_EQ(keys[keys.size() - 2], ".com");
}

TEST(LookupKeys, DelimiterIsCaseInsensitiveLikeTheAddress) {
  EXPECT_EQ(lookup_keys("userXfoo@x.org", 'X')[1], "user@x.org");
}

// --- RecipientTable ------------------------------------------------------

SettingSchema schema() {
  return {{"spam_lover", SettingType::kBool},
          {"spam_kill_level", SettingType::kNumber},
          {"spam_subject_tag2", SettingType::kString}};
}

RecipientTable table(std::string_view text) {
  RecipientTable t(schema());
  auto ok = t.add_entries(text, "map");
  EXPECT_TRUE(ok) << ok.error();
  return t;
}

TEST(RecipientTable, ParsesTypedValuesCommentsAndBlankLines) {
  RecipientTable t = table(
      "# per-recipient settings\n"
      "\n"
      "  User@Example.COM  spam_lover=YES spam_kill_level=-3.5  # trailing comment\r\n"
      ".example.org spam_subject_tag2=\"[SPAM] \"\n"
      "\t\n");
  EXPECT_EQ(t.size(), 2u);
  Resolved r = t.resolve("user@example.com", '+');
  EXPECT_EQ(r.get_bool("spam_lover"), true);
  EXPECT_EQ(r.get_number("spam_kill_level"), -3.5);
  EXPECT_EQ(r.get_string("spam_subject_tag2"), std::nullopt);
  EXPECT_EQ(t.resolve("a@mail.example.org", 0).get_string("spam_subject_tag2"), "[SPAM] ");
}

struct ValueRow {
  const char* name;
  std::string entry;
  SettingValue value;
};

class ValueTable : public ::testing::TestWithParam<ValueRow> {};

TEST_P(ValueTable, ParsesTo) {
  RecipientTable t(schema());
  ASSERT_TRUE(t.add_entry(GetParam().entry, "test"));
  Resolved r = t.resolve("x@y.test", '+');
  ASSERT_EQ(r.settings.size(), 1u);
  EXPECT_EQ(r.settings[0].value, GetParam().value);
}

INSTANTIATE_TEST_SUITE_P(
    Values, ValueTable,
    ::testing::Values(
        ValueRow{"yes", ". spam_lover=yes", true}, ValueRow{"no", ". spam_lover=No", false},
        ValueRow{"true", ". spam_lover=TRUE", true}, ValueRow{"false", ". spam_lover=false", false},
        ValueRow{"on", ". spam_lover=on", true}, ValueRow{"off", ". spam_lover=off", false},
        ValueRow{"one", ". spam_lover=1", true}, ValueRow{"zero", ". spam_lover=0", false},
        ValueRow{"quoted_bool", ". spam_lover=\"yes\"", true},
        ValueRow{"integer", ". spam_kill_level=6", 6.0},
        ValueRow{"decimal", ". spam_kill_level=6.31", 6.31},
        ValueRow{"negative", ". spam_kill_level=-999", -999.0},
        ValueRow{"bare_string", ". spam_subject_tag2=***SPAM***", std::string("***SPAM***")},
        ValueRow{"empty_string", ". spam_subject_tag2=", std::string()},
        ValueRow{"quoted_empty", ". spam_subject_tag2=\"\"", std::string()},
        ValueRow{"quoted_with_spaces", ". spam_subject_tag2=\"[SPAM] x \"",
                 std::string("[SPAM] x ")},
        ValueRow{"escapes", R"(. spam_subject_tag2="a \"b\" \\ c")", std::string(R"(a "b" \ c)")},
        ValueRow{"hash_inside_value", ". spam_subject_tag2=#1", std::string("#1")},
        ValueRow{"hash_inside_quotes", ". spam_subject_tag2=\"a # b\"", std::string("a # b")}),
    [](const auto& row) { return std::string(row.param.name); });

struct ErrorRow {
  const char* name;
  std::string text;
  std::string error;
};

class TableErrors : public ::testing::TestWithParam<ErrorRow> {};

TEST_P(TableErrors, NameTheOriginAndLine) {
  RecipientTable t(schema());
  auto ok = t.add_entries(GetParam().text, "/etc/filterd/recipients");
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error(), GetParam().error);
  EXPECT_EQ(t.size(), 0u) << "a failed load leaves the table unchanged";
}

INSTANTIATE_TEST_SUITE_P(
    Errors, TableErrors,
    ::testing::Values(
        ErrorRow{"unknown_setting", "# c\na@b spam_lovr=yes\n",
                 "/etc/filterd/recipients:2: unknown setting \"spam_lovr\""},
        ErrorRow{"bad_bool", "a@b spam_lover=maybe\n",
                 "/etc/filterd/recipients:1: spam_lover: \"maybe\" is not a boolean "
                 "(yes/no, true/false, on/off, 1/0)"},
        ErrorRow{"bad_number", "\n\n\na@b spam_kill_level=high",
                 "/etc/filterd/recipients:4: spam_kill_level: \"high\" is not a number"},
        ErrorRow{"number_with_junk", "a@b spam_kill_level=5x",
                 "/etc/filterd/recipients:1: spam_kill_level: \"5x\" is not a number"},
        ErrorRow{"infinite_number", "a@b spam_kill_level=inf",
                 "/etc/filterd/recipients:1: spam_kill_level: \"inf\" is not a number"},
        ErrorRow{"empty_number", "a@b spam_kill_level=",
                 "/etc/filterd/recipients:1: spam_kill_level: \"\" is not a number"},
        ErrorRow{"no_equals", "a@b spam_lover",
                 "/etc/filterd/recipients:1: expected setting=value, got \"spam_lover\""},
        ErrorRow{"no_settings", "example.com   # nothing\n",
                 "/etc/filterd/recipients:1: key \"example.com\" has no settings"},
        ErrorRow{"missing_key", "spam_lover=yes spam_kill_level=3",
                 "/etc/filterd/recipients:1: bad key \"spam_lover=yes\" "
                 "(a key comes first: KEY setting=value)"},
        ErrorRow{"unterminated_quote", "a@b spam_subject_tag2=\"[SPAM] ",
                 "/etc/filterd/recipients:1: spam_subject_tag2: unterminated quoted value"},
        ErrorRow{"backslash_at_the_end", "a@b spam_subject_tag2=\"abc\\",
                 "/etc/filterd/recipients:1: spam_subject_tag2: unterminated quoted value"},
        ErrorRow{"unknown_escape", R"(a@b spam_subject_tag2="a\nb")",
                 "/etc/filterd/recipients:1: spam_subject_tag2: unknown escape \\n in quoted "
                 "value (only \\\" and \\\\)"},
        ErrorRow{"text_after_quote", "a@b spam_subject_tag2=\"a\"b",
                 "/etc/filterd/recipients:1: spam_subject_tag2: text after closing quote: "
                 "\"b\""},
        ErrorRow{"quote_inside_bare_value", "a@b spam_subject_tag2=a\"b\"",
                 "/etc/filterd/recipients:1: spam_subject_tag2: quote inside a value: quote the "
                 "whole value, \"a\"b\"\""},
        ErrorRow{"twice_in_one_entry", "a@b spam_lover=yes spam_lover=no",
                 "/etc/filterd/recipients:1: spam_lover given twice"},
        ErrorRow{"dots_only_key", ".. spam_lover=yes", "/etc/filterd/recipients:1: bad key \"..\""},
        ErrorRow{"error_after_good_lines", "a@b spam_lover=yes\nc@d spam_lover=perhaps\n",
                 "/etc/filterd/recipients:2: spam_lover: \"perhaps\" is not a boolean "
                 "(yes/no, true/false, on/off, 1/0)"}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(RecipientTable, ConfigValueErrorsNameTheOrigin) {
  RecipientTable t(schema());
  auto ok = t.add_entry("user@ spam_lover=sometimes", "filterd.conf:12");
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error(),
            "filterd.conf:12: spam_lover: \"sometimes\" is not a boolean (yes/no, true/false, "
            "on/off, 1/0)");
  EXPECT_FALSE(t.add_entry("   # only a comment", "filterd.conf:13"));
}

TEST(RecipientTable, LongTextInErrorsIsCut) {
  RecipientTable t(schema());
  auto ok = t.add_entry("a@b spam_lover=" + std::string(10000, 'y'), "x");
  ASSERT_FALSE(ok);
  EXPECT_LT(ok.error().size(), 200u);
}

struct ResolveRow {
  const char* name;
  std::string address;
  // setting=value@key, in schema order
  std::vector<std::string> expected;
};

// Numbers print as integers in these rows.
std::string describe(const ResolvedSetting& s) {
  std::string v;
  if (auto* b = std::get_if<bool>(&s.value)) v = *b ? "yes" : "no";
  if (auto* d = std::get_if<double>(&s.value)) v = std::to_string(static_cast<int>(*d));
  if (auto* str = std::get_if<std::string>(&s.value)) v = *str;
  return s.name + "=" + v + "@" + s.key;
}

const char* const kMap =
    ". spam_kill_level=10 spam_lover=no\n"
    ".com spam_kill_level=9\n"
    ".example.com spam_subject_tag2=sub\n"
    "example.com spam_kill_level=8 spam_subject_tag2=exact\n"
    "user@ spam_lover=yes\n"
    "user+foo@ spam_kill_level=7\n"
    "user@example.com spam_kill_level=5\n"
    "user+foo@example.com spam_subject_tag2=foo\n"
    "<> spam_lover=yes\n";

class ResolveTable : public ::testing::TestWithParam<ResolveRow> {};

TEST_P(ResolveTable, EachSettingFromItsMostSpecificKey) {
  RecipientTable t = table(kMap);
  std::vector<std::string> got;
  for (const auto& s : t.resolve(GetParam().address, '+').settings) got.push_back(describe(s));
  EXPECT_EQ(got, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Resolution, ResolveTable,
    ::testing::Values(ResolveRow{"full_address_with_extension",
                                 "User+Foo@Example.com",
                                 {"spam_lover=yes@user@", "spam_kill_level=5@user@example.com",
                                  "spam_subject_tag2=foo@user+foo@example.com"}},
                      ResolveRow{"address_without_extension",
                                 "user@example.com",
                                 {"spam_lover=yes@user@", "spam_kill_level=5@user@example.com",
                                  "spam_subject_tag2=exact@example.com"}},
                      ResolveRow{"local_part_at_other_domain",
                                 "user+foo@other.net",
                                 {"spam_lover=yes@user@", "spam_kill_level=7@user+foo@"}},
                      ResolveRow{"exact_domain_beats_dotted",
                                 "bob@example.com",
                                 {"spam_lover=no@.", "spam_kill_level=8@example.com",
                                  "spam_subject_tag2=exact@example.com"}},
                      ResolveRow{"subdomain_takes_dotted_not_exact",
                                 "bob@mail.example.com",
                                 {"spam_lover=no@.", "spam_kill_level=9@.com",
                                  "spam_subject_tag2=sub@.example.com"}},
                      ResolveRow{"catch_all_only",
                                 "bob@example.org",
                                 {"spam_lover=no@.", "spam_kill_level=10@."}},
                      ResolveRow{"null_sender", "", {"spam_lover=yes@<>", "spam_kill_level=10@."}}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(RecipientTable, LaterEntryForTheSameKeyMergesAndOverrides) {
  RecipientTable t = table(
      "example.com spam_lover=yes spam_kill_level=5\n"
      "EXAMPLE.COM. spam_kill_level=6\n");
  ASSERT_TRUE(t.add_entry("example.com spam_subject_tag2=x", "filterd.conf:3"));
  EXPECT_EQ(t.size(), 1u);
  Resolved r = t.resolve("a@example.com", 0);
  EXPECT_EQ(r.get_bool("spam_lover"), true);
  EXPECT_EQ(r.get_number("spam_kill_level"), 6.0);
  EXPECT_EQ(r.get_string("spam_subject_tag2"), "x");
}

TEST(RecipientTable, QuotedLocalPartKeyMayHoldSpaces) {
  RecipientTable t = table("\"John Doe\"@x.org spam_lover=yes\n");
  EXPECT_EQ(t.resolve("\"john doe\"@X.ORG", '+').get_bool("spam_lover"), true);
}

TEST(RecipientTable, WrongTypeGetterAndUnknownNameGiveNothing) {
  Resolved r = table(". spam_lover=yes").resolve("a@b", 0);
  EXPECT_EQ(r.get_number("spam_lover"), std::nullopt);
  EXPECT_EQ(r.get_bool("no_such_setting"), std::nullopt);
  EXPECT_EQ(r.find("no_such_setting"), nullptr);
}

TEST(RecipientTable, EmptyTableResolvesToNothing) {
  EXPECT_TRUE(RecipientTable(schema()).resolve("a@b", '+').settings.empty());
}

TEST(RecipientTable, SchemaWithARepeatedNameIsACallerBug) {
  EXPECT_THROW(RecipientTable({{"a", SettingType::kBool}, {"a", SettingType::kNumber}}),
               std::invalid_argument);
}

TEST(RecipientTable, ResultOutlivesTheTable) {
  Resolved r;
  {
    RecipientTable t = table(". spam_subject_tag2=\"kept after the table is gone\"");
    r = t.resolve("a@b", 0);
  }
  EXPECT_EQ(r.get_string("spam_subject_tag2"), "kept after the table is gone");
  EXPECT_EQ(r.settings[0].key, ".");
}

TEST(LoadRecipientTable, ReadsAFileAndNamesItInErrors) {
  char path[] = "/tmp/lookup_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "# map\nuser@example.com spam_lover=yes\n.example.com spam_lover=maybe\n";
  auto t = load_recipient_table(path, schema());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), std::string(path) +
                           ":3: spam_lover: \"maybe\" is not a boolean (yes/no, true/false, "
                           "on/off, 1/0)");
  std::ofstream(path) << "user@example.com spam_lover=yes\n";
  t = load_recipient_table(path, schema());
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->resolve("user@example.com", '+').get_bool("spam_lover"), true);
  std::remove(path);
  t = load_recipient_table(path, schema());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), std::string(path) + ": cannot read: No such file or directory");
}

// --- LookupSet (local_domains) -------------------------------------------

struct SetRow {
  const char* name;
  std::string address;
  std::optional<std::string> key;  // the set's key that matched
};

class LocalDomains : public ::testing::TestWithParam<SetRow> {};

TEST_P(LocalDomains, MatchAsAmavisLocalDomainsMaps) {
  auto set = LookupSet::parse("example.com .example.org, postmaster@ Mixed.Case.NET.");
  ASSERT_TRUE(set) << set.error();
  EXPECT_EQ(set->size(), 4u);
  EXPECT_EQ(set->find(GetParam().address, '+'), GetParam().key);
  EXPECT_EQ(set->contains(GetParam().address, '+'), GetParam().key.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Keys, LocalDomains,
    ::testing::Values(
        SetRow{"exact_domain", "a@example.com", "example.com"},
        SetRow{"exact_domain_case", "a@EXAMPLE.Com", "example.com"},
        SetRow{"exact_domain_excludes_subdomains", "a@mail.example.com", std::nullopt},
        SetRow{"dotted_domain_includes_itself", "a@example.org", ".example.org"},
        SetRow{"dotted_domain_includes_subdomains", "a@x.y.example.org", ".example.org"},
        SetRow{"not_a_suffix_match", "a@badexample.org", std::nullopt},
        SetRow{"other_domain", "a@example.net", std::nullopt},
        SetRow{"local_part_key_any_domain", "Postmaster@anywhere.test", "postmaster@"},
        SetRow{"key_is_normalized", "a@mixed.case.net", "mixed.case.net"},
        SetRow{"null_sender", "", std::nullopt}, SetRow{"garbage", "\x01\xff@@", std::nullopt}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(LookupSet, EmptyTextIsAnEmptySet) {
  auto set = LookupSet::parse(" ,, \t");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->size(), 0u);
  EXPECT_FALSE(set->contains("a@example.com", '+'));
}

TEST(LookupSet, CatchAllMatchesEverything) {
  auto set = LookupSet::parse(".");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->find("", 0), ".");
  EXPECT_EQ(set->find("a@b.c", 0), ".");
}

TEST(LookupSet, ErrorsNameTheBadKey) {
  auto set = LookupSet::parse("example.com ... .example.org");
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error(), "bad key \"...\"");
  set = LookupSet::parse("\"unterminated@x");
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error(), "unterminated quote in key \"\"unterminated@x\"");
}

}  // namespace
}  // namespace filterd::policy
