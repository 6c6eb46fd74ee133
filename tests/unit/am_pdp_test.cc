// AM.PDP release requests: the bytes are what Debian 12's amavisd-release
// 2.002 (amavisd-new 2.13.0) sent to a recording unix-socket server
// (tests/integration/amavisd_release.py explains how it is pointed there).
#include "quarantine/am_pdp.h"

#include <gtest/gtest.h>

#include "quarantine/store.h"

namespace filterd::quarantine {
namespace {

PdpRequest parse_one(std::string_view bytes) {
  PdpParser p;
  auto fed = p.feed(bytes);
  EXPECT_TRUE(fed) << fed.error();
  EXPECT_TRUE(p.has_request());
  PdpRequest r = p.pop();
  EXPECT_FALSE(p.has_request());
  return r;
}

// --- what amavisd-release sends --------------------------------------------

struct Captured {
  const char* name;
  const char* command;  // how amavisd-release was run
  std::string bytes;
  ReleaseRequest want;
};

class AmavisdReleaseRequests : public ::testing::TestWithParam<Captured> {};

TEST_P(AmavisdReleaseRequests, ParseToTheseFields) {
  auto got = parse_release(parse_one(GetParam().bytes));
  ASSERT_TRUE(got) << GetParam().command << ": " << got.error();
  const ReleaseRequest& w = GetParam().want;
  EXPECT_EQ(got->request, w.request);
  EXPECT_EQ(got->mail_id, w.mail_id);
  EXPECT_EQ(got->secret_id, w.secret_id);
  EXPECT_EQ(got->quar_type, w.quar_type);
  EXPECT_EQ(got->mail_file, w.mail_file);
  EXPECT_EQ(got->partition_tag, w.partition_tag);
  EXPECT_EQ(got->requested_by, w.requested_by);
  EXPECT_EQ(got->sender, w.sender);
  EXPECT_EQ(got->recipients, w.recipients);
}

TEST_P(AmavisdReleaseRequests, ReadByteByByteGiveTheSameAttributes) {
  PdpParser p;
  for (char c : GetParam().bytes) ASSERT_TRUE(p.feed(std::string_view(&c, 1)));
  ASSERT_TRUE(p.has_request());
  EXPECT_EQ(p.pop().attributes, parse_one(GetParam().bytes).attributes);
}

INSTANTIATE_TEST_SUITE_P(
    Captured, AmavisdReleaseRequests,
    ::testing::Values(
        Captured{"secret_and_alternative_recipients",
                 "amavisd-release W-7uJyXUjw32 AP8QYWJjZGVm a@example.test '<b c@example.test>'",
                 "request=release\r\nmail_id=W-7uJyXUjw32\r\nsecret_id=AP8QYWJjZGVm\r\n"
                 "mail_file=W-7uJyXUjw32\r\nrecipient=a@example.test\r\n"
                 "recipient=<b%20c@example.test>\r\n\r\n",
                 {.request = "release",
                  .mail_id = "W-7uJyXUjw32",
                  .secret_id = "AP8QYWJjZGVm",
                  .mail_file = "W-7uJyXUjw32",
                  .recipients = {"a@example.test", "b c@example.test"}}},
        Captured{"requeue_gzipped_file_with_partition_tag",
                 "amavisd-requeue 'spam-W-7uJyXUjw32.gz[7]' (+ requested_by, as a front end adds)",
                 "request=requeue\r\nmail_id=W-7uJyXUjw32\r\nquar_type=Z\r\n"
                 "mail_file=spam-W-7uJyXUjw32.gz\r\npartition_tag=7\r\n"
                 "requested_by=<admin@example.test>\r\n\r\n",
                 {.request = "requeue",
                  .mail_id = "W-7uJyXUjw32",
                  .quar_type = "Z",
                  .mail_file = "spam-W-7uJyXUjw32.gz",
                  .partition_tag = "7",
                  .requested_by = "admin@example.test"}},
        Captured{"old_style_id_in_a_subdirectory_without_secret",
                 "amavisd-release virus/W+7uJyXUjw32",
                 "request=release\r\nmail_id=W+7uJyXUjw32\r\nquar_type=F\r\n"
                 "mail_file=virus/W+7uJyXUjw32\r\n\r\n",
                 {.request = "release",
                  .mail_id = "W+7uJyXUjw32",
                  .quar_type = "F",
                  .mail_file = "virus/W+7uJyXUjw32"}},
        Captured{"utf8_and_percent_in_a_recipient",
                 "amavisd-release bnx3_8BtXvA4 '<jörg%x@example.test>'",
                 "request=release\r\nmail_id=bnx3_8BtXvA4\r\nmail_file=bnx3_8BtXvA4\r\n"
                 "recipient=<j%c3%b6rg%25x@example.test>\r\n\r\n",
                 {.request = "release",
                  .mail_id = "bnx3_8BtXvA4",
                  .mail_file = "bnx3_8BtXvA4",
                  .recipients = {"j\xc3\xb6rg%x@example.test"}}},
        Captured{"padded_secret_keeps_its_equals_signs",
                 "echo 'banned-SkTRyWC9OUes ZmlsdGVyZC10MQ== x@example.test' | amavisd-release -",
                 "request=release\r\nmail_id=SkTRyWC9OUes\r\nsecret_id=ZmlsdGVyZC10MQ==\r\n"
                 "mail_file=banned-SkTRyWC9OUes\r\nrecipient=x@example.test\r\n\r\n",
                 {.request = "release",
                  .mail_id = "SkTRyWC9OUes",
                  .secret_id = "ZmlsdGVyZC10MQ==",
                  .mail_file = "banned-SkTRyWC9OUes",
                  .recipients = {"x@example.test"}}}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(PdpParser, EverySecretTheQuarantineMakesIsAccepted) {
  // A secret starting with '-' or '_' (1 in 32, before the fix) was refused
  // as "Invalid secret_id" and its message could not be released.
  for (int i = 0; i < 3000; ++i) {
    const std::string secret = new_secret_id();
    auto r = parse_release(
        parse_one("request=release\r\nmail_id=AbC123\r\nsecret_id=" + secret + "\r\n\r\n"));
    ASSERT_TRUE(r) << secret << ": " << r.error();
    EXPECT_EQ(r->secret_id, secret);
  }
}

TEST(PdpParser, StdinModeSendsSeveralRequestsOnOneConnection) {
  // `amavisd-release -` with two lines on stdin, both in one read.
  PdpParser p;
  ASSERT_TRUE(
      p.feed("request=release\r\nmail_id=bnx3_8BtXvA4\r\nsecret_id=AP8QYWJjZGVm\r\n"
             "mail_file=bnx3_8BtXvA4\r\n\r\n"
             "request=release\r\nmail_id=SkTRyWC9OUes\r\nsecret_id=ZmlsdGVyZC10MQ==\r\n"
             "mail_file=banned-SkTRyWC9OUes\r\nrecipient=x@example.test\r\n\r\n"));
  ASSERT_TRUE(p.has_request());
  EXPECT_EQ(p.pop().get("mail_id"), "bnx3_8BtXvA4");
  ASSERT_TRUE(p.has_request());
  EXPECT_EQ(p.pop().get("mail_id"), "SkTRyWC9OUes");
  EXPECT_FALSE(p.has_request());
  EXPECT_FALSE(p.mid_request());
}

// --- framing as amavis's server reads it -----------------------------------

TEST(PdpParser, BareLfLinesAreAcceptedAsAmavisDoes) {
  PdpRequest r = parse_one("request=release\nmail_id=abcdefghijkl\n\n");
  EXPECT_EQ(r.get("request"), "release");
  EXPECT_EQ(r.get("mail_id"), "abcdefghijkl");
}

TEST(PdpParser, ColonAndBlanksSeparateLikeAnEqualsSign) {
  PdpRequest r = parse_one("request: \trelease\r\nmail_id=a:b\r\n\r\n");
  EXPECT_EQ(r.get("request"), "release");
  EXPECT_EQ(r.get("mail_id"), "a:b");  // the first separator counts
}

TEST(PdpParser, OnlyTheFirstEqualsSignSeparates) {
  EXPECT_EQ(parse_one("secret_id=ab==\r\n\r\n").get("secret_id"), "ab==");
}

TEST(PdpParser, PercentWithoutTwoHexDigitsStaysLiteral) {
  PdpRequest r = parse_one("a=100%\r\nb=%zz%4\r\nc=%4A%4a\r\nn%61me=x\r\n\r\n");
  EXPECT_EQ(r.get("a"), "100%");
  EXPECT_EQ(r.get("b"), "%zz%4");
  EXPECT_EQ(r.get("c"), "JJ");
  EXPECT_EQ(r.get("name"), "x");
}

TEST(PdpParser, EncodedLineBreaksAndNulStayInsideTheValue) {
  PdpRequest r = parse_one("recipient=a%0d%0ab%00c\r\n\r\n");
  EXPECT_EQ(r.get("recipient"), std::string("a\r\nb\0c", 6));
}

TEST(PdpParser, LinesThatAreNoAttributeAreCounted) {
  PdpRequest r = parse_one(std::string("no separator\r\nna\0me=x\r\n\r\r\n\r\n", 28));
  EXPECT_EQ(r.malformed_lines, 3u);
  EXPECT_TRUE(r.attributes.empty());
}

TEST(PdpParser, AnEmptyLineAloneIsAnEmptyRequest) {
  PdpRequest r = parse_one("\r\n");
  EXPECT_TRUE(r.attributes.empty());
  EXPECT_EQ(parse_release(r).error(), "Missing 'request' field");
}

TEST(PdpParser, RepeatedAttributesKeepTheirOrder) {
  PdpRequest r = parse_one("recipient=a\r\nx=1\r\nrecipient=b\r\n\r\n");
  EXPECT_EQ(r.all("recipient"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.get("recipient"), "a");
  EXPECT_EQ(r.get("absent"), "");
}

TEST(PdpParser, PartOfARequestIsNoRequest) {
  PdpParser p;
  ASSERT_TRUE(p.feed("request=release\r\nmail_id=abc"));
  EXPECT_FALSE(p.has_request());
  EXPECT_TRUE(p.mid_request());
}

TEST(PdpParser, ALineOverTheLimitIsAFinalError) {
  PdpParser p(PdpLimits{.max_line = 16});
  EXPECT_TRUE(p.feed("request=release\r\n"));  // 16 bytes before CRLF's LF: CR counts
  auto e = p.feed("mail_id=" + std::string(9, 'a'));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), "line longer than 16 bytes");
  EXPECT_FALSE(p.feed("\r\n\r\n"));  // sticky: the stream is out of step
  EXPECT_FALSE(p.has_request());
}

TEST(PdpParser, TooManyAttributesIsAnError) {
  PdpParser p(PdpLimits{.max_attributes = 2});
  auto e = p.feed("a=1\r\nb=2\r\nc=3\r\n\r\n");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), "more than 2 attributes");
}

TEST(PdpParser, ARequestOverTheByteLimitIsAnError) {
  PdpParser p(PdpLimits{.max_request_bytes = 20});
  EXPECT_TRUE(p.feed("a=1\r\n\r\n"));  // the limit is per request
  EXPECT_TRUE(p.feed("recipient=abcdefg\r\n"));
  auto e = p.feed("bc");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), "request longer than 20 bytes");
  EXPECT_TRUE(p.has_request());  // the complete one before is still there
}

// --- what parse_release refuses ---------------------------------------------

struct Refused {
  const char* name;
  std::string bytes;
  std::string error;
};

class ParseReleaseRefuses : public ::testing::TestWithParam<Refused> {};

TEST_P(ParseReleaseRefuses, WithThisError) {
  auto got = parse_release(parse_one(GetParam().bytes));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), GetParam().error);
}

const std::string kRel = "request=release\r\n";

INSTANTIATE_TEST_SUITE_P(
    Table, ParseReleaseRefuses,
    ::testing::Values(
        Refused{"report", "request=report\r\nmail_id=abc\r\n\r\n", "Unsupported request 'report'"},
        Refused{"mail_check", "request=AM.PDP\r\nsender=<a@b>\r\n\r\n",
                "Unsupported request 'AM.PDP'"},
        Refused{"control_in_request_is_not_echoed", "request=x%0d%0ay\r\n\r\n",
                "Unsupported request 'x??y'"},
        Refused{"missing_request", "mail_id=abc\r\n\r\n", "Missing 'request' field"},
        Refused{"missing_mail_id", kRel + "\r\n", "Missing 'mail_id' field"},
        Refused{"mail_id_starting_with_underscore", kRel + "mail_id=_bcdefghijkl\r\n\r\n",
                "Invalid mail_id '_bcdefghijkl'"},
        Refused{"mail_id_with_slash", kRel + "mail_id=ab/cd\r\n\r\n", "Invalid mail_id 'ab/cd'"},
        Refused{"mail_id_with_three_pads", kRel + "mail_id=abc===\r\n\r\n",
                "Invalid mail_id 'abc==='"},
        Refused{"mail_id_too_long", kRel + "mail_id=" + std::string(65, 'a') + "\r\n\r\n",
                "Invalid mail_id '" + std::string(64, 'a') + "...'"},
        Refused{"two_mail_ids", kRel + "mail_id=abc\r\nmail_id=def\r\n\r\n",
                "Repeated 'mail_id' field"},
        Refused{"secret_is_never_quoted", kRel + "mail_id=abc\r\nsecret_id=se%20cret\r\n\r\n",
                "Invalid secret_id"},
        Refused{"unknown_quar_type", kRel + "mail_id=abc\r\nquar_type=X\r\n\r\n",
                "Invalid quar_type 'X'"},
        Refused{"absolute_mail_file", kRel + "mail_id=abc\r\nmail_file=/etc/passwd\r\n\r\n",
                "Unsafe filename '/etc/passwd'"},
        Refused{"dot_dot_in_mail_file", kRel + "mail_id=abc\r\nmail_file=a/../../b\r\n\r\n",
                "Unsafe filename 'a/../../b'"},
        Refused{"mail_file_ending_in_dot_dot", kRel + "mail_id=abc\r\nmail_file=a/..\r\n\r\n",
                "Unsafe filename 'a/..'"},
        Refused{"recipient_with_line_break",
                kRel + "mail_id=abc\r\nrecipient=<a@b%0d%0aRCPT%20TO:<c@d>>\r\n\r\n",
                "Invalid recipient 'a@b??RCPT TO:<c@d>'"},
        Refused{"null_recipient", kRel + "mail_id=abc\r\nrecipient=<>\r\n\r\n",
                "Invalid recipient '<>'"},
        Refused{"requested_by_injecting_a_header",
                kRel + "mail_id=abc\r\nrequested_by=a@b%0aBcc:%20x@y\r\n\r\n",
                "Invalid requested_by 'a@b?Bcc: x@y'"},
        Refused{"malformed_line", kRel + "mail_id=abc\r\nrubbish\r\n\r\n",
                "Malformed attribute line"}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(ParseRelease, RequestKindIsCaseInsensitive) {
  auto r = parse_release(parse_one("request=ReQueue\r\nmail_id=abc\r\n\r\n"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->request, kPdpRequeue);
}

TEST(ParseRelease, NullSenderIsKeptApartFromNoSender) {
  auto with = parse_release(parse_one(kRel + "mail_id=abc\r\nsender=<>\r\n\r\n"));
  ASSERT_TRUE(with);
  EXPECT_EQ(with->sender, std::optional<std::string>(""));
  auto without = parse_release(parse_one(kRel + "mail_id=abc\r\n\r\n"));
  ASSERT_TRUE(without);
  EXPECT_FALSE(without->sender.has_value());
}

TEST(ParseRelease, UnknownAttributesAreIgnored) {
  EXPECT_TRUE(parse_release(parse_one(kRel + "mail_id=abc\r\nversion_client=3\r\n\r\n")));
}

// --- responses ----------------------------------------------------------------

TEST(PdpResponse, SetreplyFieldsAreEncodedOneByOne) {
  EXPECT_EQ(pdp_response({pdp_setreply(250, "2.0.0", "Ok, id=rel-Q1, from MTA: 250 2.0.0 Ok")}),
            "setreply=250 2.0.0 Ok,%20id=rel-Q1,%20from%20MTA:%20250%202.0.0%20Ok\r\n\r\n");
}

TEST(PdpResponse, FailureIsAmavisTempfailTriple) {
  EXPECT_EQ(pdp_failure_response("Secret_id does not match mail_id"),
            "setreply=450 4.5.0 Failure:%20Secret_id%20does%20not%20match%20mail_id\r\n"
            "return_value=tempfail\r\nexit_code=75\r\n\r\n");
}

TEST(PdpResponse, PerRecipientRepliesAndAnEncodedName) {
  EXPECT_EQ(
      pdp_response(
          {pdp_setreply(250, "2.0.0", "Ok"), pdp_setreply(550, "5.1.1", "No"), {"a name=", {}}}),
      "setreply=250 2.0.0 Ok\r\nsetreply=550 5.1.1 No\r\na%20name%3d=\r\n\r\n");
}

struct Encoded {
  std::string raw, encoded;
};

class PdpEncode : public ::testing::TestWithParam<Encoded> {};

TEST_P(PdpEncode, AsAmavisProtoEncode) {
  EXPECT_EQ(pdp_encode(GetParam().raw), GetParam().encoded);
  EXPECT_EQ(pdp_decode(GetParam().encoded), GetParam().raw);
}

INSTANTIATE_TEST_SUITE_P(Table, PdpEncode,
                         ::testing::Values(Encoded{"plain!~", "plain!~"}, Encoded{"a b", "a%20b"},
                                           Encoded{"100%", "100%25"}, Encoded{"k=v", "k=v"},
                                           Encoded{"\r\n\t", "%0d%0a%09"},
                                           Encoded{std::string(1, '\0'), "%00"},
                                           Encoded{"\x7f", "%7f"},
                                           Encoded{"j\xc3\xb6rg", "j%c3%b6rg"}));

// --- secret_id ----------------------------------------------------------------

struct Secret {
  const char* name;
  std::string mail_id, secret_id;
  bool matches;
};

class SecretIdMatches : public ::testing::TestWithParam<Secret> {};

// Pairs made with amavis's own code: b64(md5(secret)), perl Digest::MD5.
TEST_P(SecretIdMatches, AsAmavisChecksIt) {
  EXPECT_EQ(secret_id_matches(GetParam().mail_id, GetParam().secret_id), GetParam().matches);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SecretIdMatches,
    ::testing::Values(Secret{"base64url_secret", "bnx3_8BtXvA4", "AP8QYWJjZGVm", true},
                      Secret{"padded_secret", "SkTRyWC9OUes", "ZmlsdGVyZC10MQ==", true},
                      Secret{"pre_2_7_secret", "dw-NUnW6Qw7W", "oldSecret+x", true},
                      Secret{"wrong_secret", "bnx3_8BtXvA4", "AP8QYWJjZGVn", false},
                      Secret{"another_message", "SkTRyWC9OUes", "AP8QYWJjZGVm", false},
                      Secret{"empty_secret", "bnx3_8BtXvA4", "", false},
                      Secret{"random_id_has_no_secret", "abcdefghijkl", "abcdefghijkl", false}),
    [](const auto& row) { return std::string(row.param.name); });

}  // namespace
}  // namespace filterd::quarantine
