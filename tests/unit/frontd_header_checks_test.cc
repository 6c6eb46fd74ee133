// Tests of frontd's header_checks: Postfix syntax, every action, first
// match wins, captures, errors with line numbers, hostile input.
#include <gtest/gtest.h>

#include "frontd/header_checks.h"

namespace filterd::frontd {
namespace {

const std::string kMessage =
    "Received: from internal.example (internal [127.0.0.1])\r\n"
    "\tby mx.example.test (frontd) with ESMTP id 0123456789AB;\r\n"
    "\tSat, 28 Nov 2026 10:00:00 +0000\r\n"
    "Received: from outside.example (outside [192.0.2.1])\r\n\tby relay; date\r\n"
    "X-Mailer: BadMailer 1.0\r\n"
    "Subject: hello\r\n"
    "\r\n"
    "Received: from body (127.0.0.1) is not a header\r\n";

HeaderChecks parse(std::string_view rules) {
  auto hc = HeaderChecks::parse(rules, "header_checks");
  EXPECT_TRUE(hc) << hc.error();
  return hc ? std::move(*hc) : HeaderChecks();
}

TEST(HeaderChecks, IgnoreDropsTheWholeFoldedHeaderAndLeavesTheBodyAlone) {
  HeaderChecks hc = parse("/^Received: .*\\[127\\.0\\.0\\.1\\]/ IGNORE\n");
  auto r = hc.apply(kMessage);
  EXPECT_FALSE(r.reject);
  EXPECT_EQ(r.message.find("internal"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("Received: from outside.example"), std::string::npos);
  EXPECT_NE(r.message.find("\r\n\r\nReceived: from body (127.0.0.1)"), std::string::npos);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].action, HeaderChecks::Action::kIgnore);
}

TEST(HeaderChecks, RejectStopsWithTheTextAndCaptures) {
  HeaderChecks hc =
      parse("# comment\n\n/^X-Mailer: (BadMailer) ([0-9.]+)/ REJECT $1 ${2} is not welcome\n");
  auto r = hc.apply(kMessage);
  ASSERT_TRUE(r.reject);
  EXPECT_EQ(r.reject->code, 550);
  EXPECT_EQ(r.reject->status, "5.7.1");
  EXPECT_EQ(r.reject->text, "BadMailer 1.0 is not welcome");
}

TEST(HeaderChecks, MatchingIsCaseInsensitiveUnlessTheIFlagTogglesIt) {
  EXPECT_TRUE(parse("/^subject: HELLO/ REJECT no\n").apply(kMessage).reject);
  EXPECT_FALSE(parse("/^subject: HELLO/i REJECT no\n").apply(kMessage).reject);
}

TEST(HeaderChecks, ReplacePrependWarnDiscardAndFirstMatchWins) {
  HeaderChecks hc = parse(
      "/^Subject: (.*)/ REPLACE Subject: [ext] $1\n"
      "/^Subject:/ REJECT never reached: the first match wins\n"
      "/^X-Mailer:/ PREPEND X-Seen: mailer\n"
      "/^Received: from outside/ WARN outside relay\n");
  auto r = hc.apply(kMessage);
  ASSERT_FALSE(r.reject);
  EXPECT_NE(r.message.find("Subject: [ext] hello\r\n\r\n"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("X-Seen: mailer\r\nX-Mailer: BadMailer"), std::string::npos);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].action, HeaderChecks::Action::kWarn);
  EXPECT_EQ(r.events[0].text, "outside relay");
  EXPECT_TRUE(parse("/^Subject:/ DISCARD spam\n").apply(kMessage).discard);
}

TEST(HeaderChecks, NegationDelimitersContinuationAndDunno) {
  HeaderChecks hc = parse(
      "/^Subject:/ DUNNO\n"
      "!#^(Received|X-Mailer|Subject):#\n  IGNORE\n"
      "/^Subject:/ REJECT shadowed by DUNNO\n");
  const std::string m = "Subject: a\r\nX-Other: b\r\n\r\nbody\r\n";
  auto r = hc.apply(m);
  EXPECT_FALSE(r.reject);
  EXPECT_EQ(r.message, "Subject: a\r\n\r\nbody\r\n");
}

TEST(HeaderChecks, ErrorsNameTheLine) {
  auto expect_error = [](std::string_view rules, std::string_view what) {
    auto hc = HeaderChecks::parse(rules, "hc");
    ASSERT_FALSE(hc) << rules;
    EXPECT_NE(hc.error().find(what), std::string::npos) << hc.error();
  };
  expect_error("/a/ IGNORE\n/unterminated IGNORE\n", "hc:2: missing closing /");
  expect_error("/a/ HOLD\n", "hc:1: unsupported action 'hold'");
  expect_error("/a(/ IGNORE\n", "hc:1: bad pattern");
  expect_error("/a/q IGNORE\n", "unknown flag 'q'");
  expect_error("/a/\n", "missing action");
  expect_error("/a/ REPLACE no colon here\n", "needs a header field");
  expect_error("if /a/\n/b/ IGNORE\nendif\n", "if/endif blocks are not supported");
  EXPECT_FALSE(HeaderChecks::load("hash:/etc/x"));
  EXPECT_FALSE(HeaderChecks::load("regexp:/nonexistent/header_checks"));
}

TEST(HeaderChecks, HostileHeadersAreBoundedAndRepliesStayOneLine) {
  HeaderChecks hc = parse("/^(a+)+$/ REJECT $1\n/^X-Long: (.*)/ REPLACE X-Long: $1\n");
  std::string evil = "X-Evil: " + std::string(100000, 'a') + "!\r\n";
  std::string m =
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\r\n" + evil + "X-Long: a\r\n\tb\r\n\r\n";
  auto r = hc.apply(m);  // catastrophic backtracking ends at the match limit
  EXPECT_FALSE(r.reject);
  EXPECT_NE(r.message.find("X-Long: a\tb\r\n"), std::string::npos);
}

}  // namespace
}  // namespace filterd::frontd
