// Table tests of the BAD-HEADER checks.
#include "policy/bad_header.h"

#include <gtest/gtest.h>

namespace filterd::policy {
namespace {

const std::string kGood =
    "From: a@b.test\r\nTo: c@d.test\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\n"
    "Subject: fine\r\n folded fine\r\nMessage-ID: <x@b.test>\r\n\r\nbody\r\n";

struct Row {
  const char* name;
  std::string message;
  std::vector<std::string> minors;  // expected, in order
};

class BadHeaderTable : public ::testing::TestWithParam<Row> {};

TEST_P(BadHeaderTable, FindsExactlyTheseProblems) {
  std::vector<std::string> got;
  for (const auto& b : check_headers(GetParam().message, BadHeaderChecks{})) {
    got.push_back(b.minor);
  }
  EXPECT_EQ(got, GetParam().minors);
}

std::string with(const std::string& extra) {
  return extra + kGood;
}

INSTANTIATE_TEST_SUITE_P(
    Checks, BadHeaderTable,
    ::testing::Values(
        Row{"clean", kGood, {}}, Row{"eight_bit", with("X-Name: J\xC3\xB6rg\r\n"), {"8bit"}},
        Row{"control", with("X-Bell: ring\a\r\n"), {"control"}},
        Row{"empty_continuation", with("X-Hide: a\r\n \r\nBcc: x@y.test\r\n"), {"empty"}},
        Row{"long_line", with("X-Long: " + std::string(1000, 'a') + "\r\n"), {"long"}},
        Row{"syntax", with("this is not a field\r\n"), {"syntax"}},
        Row{"missing_from_and_date",
            "To: c@d.test\r\nSubject: s\r\n\r\nbody",
            {"missing", "missing"}},
        Row{"multiple_subject", with("Subject: again\r\n"), {"multiple"}},
        Row{"mbox_from_line_is_not_a_syntax_error", "From x@y  Sat Nov 28\r\n" + kGood, {}},
        Row{"lf_only", "From: a@b\nDate: x\n\nbody\n", {}}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(BadHeader, EachCheckCanBeSwitchedOff) {
  BadHeaderChecks off;
  off.eight_bit = off.control = off.empty = off.long_line = off.syntax = off.missing =
      off.multiple = off.mime = false;
  EXPECT_TRUE(
      check_headers("X: \xff\a\r\n \r\nbad line\r\n\r\n", off, {"bad Content-Type"}).empty());
}

TEST(BadHeader, Smtputf8AllowsEightBitHeaders) {
  BadHeaderChecks c;
  c.smtputf8 = true;
  EXPECT_TRUE(check_headers(with("Subject-X: \xC3\xB6\r\n"), c).empty());
}

TEST(BadHeader, MimeProblemsAreReportedAsMime) {
  auto found = check_headers(kGood, {}, {"multipart without boundary parameter"});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].minor, "mime");
  EXPECT_EQ(found[0].detail, "multipart without boundary parameter");
}

TEST(BadHeader, DetailNamesTheField) {
  auto found = check_headers(with("X-Name: J\xC3\xB6rg\r\n"), {});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].detail, "X-Name");
}

}  // namespace
}  // namespace filterd::policy
