// End-to-end tests of filterd's pipeline in one process: an SMTP/LMTP
// client talks to the real Server + Processor, which scans with a scripted
// scanner and reinjects into a scripted next hop. Checks the one rule:
// 250 only after the next hop accepted (or a deliberate drop), 4xx on doubt.
#include <gtest/gtest.h>

#include "tests/unit/fake_next_hop.h"
#include "tests/unit/filterd_in_process.h"

namespace filterd {
namespace {
using filterd::testing::Client;
using filterd::testing::FakeNextHop;
using filterd::testing::Filterd;
using filterd::testing::free_port;

const std::string kClean =
    "From: alice@a.test\r\nTo: bob@b.test\r\nSubject: hello\r\nMessage-ID: <m1@a.test>\r\n\r\n"
    "Body line\r\n..starts with a dot\r\n";
const std::string kVirus = "From: alice@a.test\r\nSubject: v\r\n\r\nEICAR attached\r\n";

TEST(Pipeline, CleanMailIsForwardedWithHeaderAndOtherwiseByteIdentical) {
  FakeNextHop hop;
  Filterd f(hop.endpoint());
  Client c(f.port());
  auto r = c.transaction("alice@a.test", {"bob@b.test"}, kClean);
  EXPECT_EQ(r[0].code, 250);
  EXPECT_NE(r[0].text.find("FAKE123"), std::string::npos) << "the next hop's reply is passed on";
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 1u);
  std::string unstuffed = kClean;
  unstuffed.replace(unstuffed.find("..starts"), 2, ".");  // the client sent it dot-stuffed
  EXPECT_EQ(got[0].data, "X-Virus-Scanned: filterd at filter.test\r\n" + unstuffed);
}

TEST(Pipeline, NextHopTemporaryFailureBecomes4xx) {
  FakeNextHop hop;
  hop.data_reply = "452 4.3.1 insufficient storage";
  Filterd f(hop.endpoint());
  Client c(f.port());
  EXPECT_EQ(c.transaction("alice@a.test", {"bob@b.test"}, kClean)[0].code, 452);
}

TEST(Pipeline, NextHopPermanentFailureBecomes5xx) {
  FakeNextHop hop;
  hop.data_reply = "554 5.7.1 no thanks";
  Filterd f(hop.endpoint());
  Client c(f.port());
  EXPECT_EQ(c.transaction("alice@a.test", {"bob@b.test"}, kClean)[0].code, 554);
}

TEST(Pipeline, UnreachableNextHopBecomes451) {
  uint16_t dead = free_port();
  Filterd f("smtp:127.0.0.1:" + std::to_string(dead));
  Client c(f.port());
  auto r = c.transaction("alice@a.test", {"bob@b.test"}, kClean);
  EXPECT_EQ(r[0].code, 451);
  EXPECT_EQ(r[0].status, "4.4.1");
}

TEST(Pipeline, DeferredRecipientTempfailsTheWholeSmtpMessageAndDeliversNothing) {
  FakeNextHop hop;
  Filterd f(hop.endpoint());
  Client c(f.port());
  EXPECT_EQ(c.transaction("alice@a.test", {"bob@b.test", "temp@b.test"}, kClean)[0].code, 451);
  EXPECT_TRUE(hop.messages().empty());
}

TEST(Pipeline, RefusedRecipientIsReportedByDsnAndTheRestDelivered) {
  FakeNextHop hop;
  Filterd f(hop.endpoint());
  Client c(f.port());
  EXPECT_EQ(c.transaction("alice@a.test", {"bob@b.test", "perm@b.test"}, kClean)[0].code, 250);
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 2u);  // the message, then the DSN to alice
  EXPECT_TRUE(got[1].mail_from.starts_with("MAIL FROM:<>")) << got[1].mail_from;
  EXPECT_NE(got[1].rcpts[0].find("<alice@a.test>"), std::string::npos);
  EXPECT_NE(got[1].data.find("Final-Recipient: rfc822; perm@b.test"), std::string::npos);
}

TEST(Pipeline, VirusIsDiscardedByDefault) {
  FakeNextHop hop;
  Filterd f(hop.endpoint());
  Client c(f.port());
  auto r = c.transaction("alice@a.test", {"bob@b.test"}, kVirus);
  EXPECT_EQ(r[0].code, 250);
  EXPECT_NE(r[0].text.find("discarded"), std::string::npos);
  EXPECT_TRUE(hop.messages().empty());
}

TEST(Pipeline, VirusWithRejectDestinyAnswers554NamingTheVirus) {
  FakeNextHop hop;
  Filterd f(hop.endpoint(), {"--final_virus_destiny=D_REJECT"});
  Client c(f.port());
  auto r = c.transaction("alice@a.test", {"bob@b.test"}, kVirus);
  EXPECT_EQ(r[0].code, 554);
  EXPECT_EQ(r[0].status, "5.7.0");
  EXPECT_NE(r[0].text.find("Eicar-Test-Signature"), std::string::npos);
  EXPECT_TRUE(hop.messages().empty());
}

TEST(Pipeline, VirusWithBounceDestinySendsDsnToSenderWithHeadersOnly) {
  FakeNextHop hop;
  Filterd f(hop.endpoint(), {"--final_virus_destiny=D_BOUNCE"});
  Client c(f.port());
  EXPECT_EQ(c.transaction("alice@a.test", {"bob@b.test"}, kVirus)[0].code, 250);
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].rcpts[0].find("<alice@a.test>"), std::string::npos);
  EXPECT_NE(got[0].data.find("report-type=delivery-status"), std::string::npos);
  EXPECT_NE(got[0].data.find("Subject: v"), std::string::npos);
  EXPECT_EQ(got[0].data.find("EICAR attached"), std::string::npos) << "no body in the DSN";
}

TEST(Pipeline, BounceForNullSenderSendsNothing) {
  FakeNextHop hop;
  Filterd f(hop.endpoint(), {"--final_virus_destiny=D_BOUNCE"});
  Client c(f.port());
  EXPECT_EQ(c.transaction("", {"bob@b.test"}, kVirus)[0].code, 250);
  EXPECT_TRUE(hop.messages().empty());
}

TEST(Pipeline, BounceThatCannotBeSentIsATempfail) {
  FakeNextHop hop;
  hop.data_reply = "451 4.3.0 busy";
  Filterd f(hop.endpoint(), {"--final_virus_destiny=D_BOUNCE"});
  Client c(f.port());
  EXPECT_EQ(c.transaction("alice@a.test", {"bob@b.test"}, kVirus)[0].code, 451);
}

TEST(Pipeline, ScannerFailureIsATempfailNeverASilentPass) {
  FakeNextHop hop;
  Filterd f(hop.endpoint());
  Client c(f.port());
  auto r = c.transaction("alice@a.test", {"bob@b.test"}, kClean + "SCANFAIL\r\n");
  EXPECT_EQ(r[0].code, 451);
  EXPECT_TRUE(hop.messages().empty());
}

TEST(Pipeline, ScannerFailureWithPassDestinyDelivers) {
  FakeNextHop hop;
  Filterd f(hop.endpoint(), {"--scanner_failure_destiny=D_PASS"});
  Client c(f.port());
  EXPECT_EQ(c.transaction("alice@a.test", {"bob@b.test"}, kClean + "SCANFAIL\r\n")[0].code, 250);
  EXPECT_EQ(hop.messages().size(), 1u);
}

TEST(Pipeline, LmtpInputGetsOneReplyPerRecipient) {
  FakeNextHop hop(/*lmtp=*/true);
  Filterd f(hop.endpoint(), {}, /*lmtp=*/true);
  Client c(f.port());
  auto r = c.transaction("alice@a.test", {"bob@b.test", "lmtpfail@b.test", "perm@b.test"}, kClean,
                         3, /*lmtp=*/true);
  EXPECT_EQ(r[0].code, 250);
  EXPECT_EQ(r[1].code, 452);
  EXPECT_EQ(r[2].code, 550);
}

TEST(Pipeline, ConnectionLimitAnswers421) {
  FakeNextHop hop;
  Filterd f(hop.endpoint(), {"--max_connections=1"});
  Client first(f.port());
  EXPECT_EQ(first.read().code, 220);
  Client second(f.port());
  smtp::Reply r = second.read();
  EXPECT_EQ(r.code, 421);
  EXPECT_EQ(r.status, "4.3.2");
}

// --- per-recipient policy ---------------------------------------------

const std::string kBanned =
    "From: alice@a.test\r\nTo: bob@b.test\r\nSubject: invoice\r\nMessage-ID: <b1@a.test>\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
    "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
    "--XX\r\nContent-Type: application/octet-stream; name=\"invoice.pdf.exe\"\r\n\r\n"
    "not really\r\n--XX--\r\n";

TEST(Pipeline, SmtpMixedDestiniesDeliverToTheLoverAndBounceTheRest) {
  FakeNextHop hop;
  Filterd f(hop.endpoint(),
            {"--recipient=bob@b.test banned_files_lover=yes", "--local_domains=b.test"});
  Client c(f.port());
  auto r = c.transaction("alice@a.test", {"bob@b.test", "carol@b.test"}, kBanned);
  EXPECT_EQ(r[0].code, 250);
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 2u);  // bob's copy, then the DSN for carol
  ASSERT_EQ(got[0].rcpts.size(), 1u);
  EXPECT_NE(got[0].rcpts[0].find("<bob@b.test>"), std::string::npos);
  EXPECT_NE(got[0].data.find("X-Filterd-Alert: BANNED, message contains p002 invoice.pdf.exe"),
            std::string::npos)
      << got[0].data;
  EXPECT_TRUE(got[1].mail_from.starts_with("MAIL FROM:<>"));
  EXPECT_NE(got[1].data.find("Final-Recipient: rfc822; carol@b.test"), std::string::npos);
  EXPECT_EQ(got[1].data.find("rfc822; bob@b.test"), std::string::npos);
}

TEST(Pipeline, SmtpAllRejectedIsOne5xxAndNothingIsSent) {
  FakeNextHop hop;
  Filterd f(hop.endpoint(), {"--final_banned_destiny=D_REJECT"});
  Client c(f.port());
  auto r = c.transaction("alice@a.test", {"bob@b.test", "carol@b.test"}, kBanned);
  EXPECT_EQ(r[0].code, 554);
  EXPECT_EQ(r[0].status, "5.7.0");
  EXPECT_NE(r[0].text.find("BANNED: p002 invoice.pdf.exe"), std::string::npos) << r[0].text;
  EXPECT_TRUE(hop.messages().empty());
}

TEST(Pipeline, LmtpMixedDestiniesAnswerEachRecipient) {
  FakeNextHop hop(/*lmtp=*/true);
  Filterd f(hop.endpoint(),
            {"--recipient=bob@b.test banned_files_lover=yes", "--final_banned_destiny=D_REJECT"},
            /*lmtp=*/true);
  Client c(f.port());
  auto r = c.transaction("alice@a.test", {"bob@b.test", "carol@b.test"}, kBanned, 2, true);
  EXPECT_EQ(r[0].code, 250);
  EXPECT_EQ(r[1].code, 554);
  ASSERT_EQ(hop.messages().size(), 1u);  // no DSN: the upstream bounces carol itself
}

TEST(Pipeline, SpamFieldsAndSubjectTagOnlyForLocalRecipients) {
  // No spam engine yet: a bad header category stands in for "tagged for
  // local recipients only"; X-Virus-Scanned goes to everyone.
  FakeNextHop hop;
  Filterd f(hop.endpoint(), {"--local_domains=b.test"});
  Client c(f.port());
  const std::string bad = "From: alice@a.test\r\nSubject: caf\xc3\xa9\r\n\r\nbody\r\n";
  EXPECT_EQ(c.transaction("alice@a.test", {"bob@b.test", "ext@elsewhere.test"}, bad)[0].code, 250);
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 2u);  // two copies: the edits differ
  std::string local = got[0].rcpts[0].find("bob@") != std::string::npos ? got[0].data : got[1].data;
  std::string remote =
      got[0].rcpts[0].find("bob@") != std::string::npos ? got[1].data : got[0].data;
  EXPECT_NE(local.find("X-Filterd-Alert: BAD HEADER SECTION, 8bit"), std::string::npos) << local;
  EXPECT_EQ(remote, "X-Virus-Scanned: filterd at filter.test\r\n" + bad);
}

TEST(Pipeline, NullSenderGetsNoDsnForABounce) {
  FakeNextHop hop;
  Filterd f(hop.endpoint());
  Client c(f.port());
  auto r = c.transaction("", {"bob@b.test"}, kBanned);
  EXPECT_EQ(r[0].code, 250);
  EXPECT_TRUE(hop.messages().empty());
}

}  // namespace
}  // namespace filterd
