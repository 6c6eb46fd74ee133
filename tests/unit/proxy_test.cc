// The before-queue proxy in one process: a client (standing in for
// Postfix's smtpd) talks to filterd's proxy listener, which relays to a
// scripted downstream. The client must see the downstream's replies to the
// envelope, and at the end of DATA one verdict for the message: 250 only
// once the downstream has it, 5xx for what is blocked (never a DSN), 4xx on
// any doubt.
#include <gtest/gtest.h>

#include "tests/unit/fake_next_hop.h"
#include "tests/unit/filterd_in_process.h"

namespace filterd {
namespace {
using filterd::testing::Client;
using filterd::testing::FakeNextHop;
using filterd::testing::Filterd;
using filterd::testing::free_port;
using filterd::testing::Mode;

const std::string kClean =
    "From: alice@a.test\r\nTo: bob@b.test\r\nSubject: hello\r\nMessage-ID: <m1@a.test>\r\n\r\n"
    "Body line\r\n";
const std::string kVirus = "From: alice@a.test\r\nSubject: v\r\n\r\nEICAR attached\r\n";

// EHLO, MAIL and the RCPTs; returns the RCPT replies.
std::vector<smtp::Reply> envelope(Client& c, const std::string& from,
                                  const std::vector<std::string>& rcpts) {
  EXPECT_EQ(c.command("EHLO mx.postfix.test").code, 250);
  EXPECT_EQ(c.command("MAIL FROM:<" + from + ">").code, 250);
  std::vector<smtp::Reply> out;
  for (const auto& r : rcpts) out.push_back(c.command("RCPT TO:<" + r + ">"));
  return out;
}

smtp::Reply data(Client& c, const std::string& message) {
  EXPECT_EQ(c.command("DATA").code, 354);
  c.send(message + ".\r\n");
  return c.read();
}

TEST(Proxy, RecipientRepliesComeFromTheDownstream) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint());
  Client c(f.port());
  EXPECT_EQ(c.read().code, 220);
  auto rcpt = envelope(c, "alice@a.test", {"bob@b.test", "perm@b.test", "temp@b.test"});
  EXPECT_EQ(rcpt[0].code, 250);
  EXPECT_EQ(rcpt[1].code, 550);
  EXPECT_EQ(rcpt[1].text, "no such user") << "the downstream's own words";
  EXPECT_EQ(rcpt[2].code, 451);
  const smtp::Reply r = data(c, kClean);
  EXPECT_EQ(r.code, 250);
  EXPECT_NE(r.text.find("FAKE123"), std::string::npos) << "the downstream's end-of-data reply";
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].rcpts.size(), 1u);
  EXPECT_NE(got[0].rcpts[0].find("<bob@b.test>"), std::string::npos);
  EXPECT_EQ(got[0].data, "X-Virus-Scanned: filterd at filter.test\r\n" + kClean);
}

TEST(Proxy, XforwardIsRelayedWithTheMail) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint());
  Client c(f.port());
  c.read();
  EXPECT_EQ(c.command("EHLO mx.postfix.test").code, 250);
  EXPECT_EQ(c.command("XFORWARD NAME=client.example ADDR=192.0.2.7 HELO=client.example").code, 250);
  EXPECT_EQ(c.command("MAIL FROM:<alice@a.test>").code, 250);
  EXPECT_EQ(c.command("RCPT TO:<bob@b.test>").code, 250);
  EXPECT_EQ(data(c, kClean).code, 250);
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_FALSE(got[0].xforward.empty());
  EXPECT_NE(got[0].xforward[0].find("ADDR=192.0.2.7"), std::string::npos) << got[0].xforward[0];
}

TEST(Proxy, VirusWithRejectDestinyIs554AndNothingIsForwarded) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint(), {"--final_virus_destiny=D_REJECT"});
  Client c(f.port());
  c.read();
  envelope(c, "alice@a.test", {"bob@b.test"});
  const smtp::Reply r = data(c, kVirus);
  EXPECT_EQ(r.code, 554);
  EXPECT_EQ(r.status, "5.7.0");
  EXPECT_NE(r.text.find("Eicar-Test-Signature"), std::string::npos) << r.text;
  EXPECT_TRUE(hop.messages().empty());
}

TEST(Proxy, BounceDestinyIsARejectionInTheDialogAndSendsNoDsn) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint(), {"--final_virus_destiny=D_BOUNCE"});
  Client c(f.port());
  c.read();
  envelope(c, "alice@a.test", {"bob@b.test"});
  EXPECT_EQ(data(c, kVirus).code, 554);
  EXPECT_TRUE(hop.messages().empty()) << "no backscatter: the client was told";
}

TEST(Proxy, DiscardedVirusIs250AndNothingIsForwarded) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint());
  Client c(f.port());
  c.read();
  envelope(c, "alice@a.test", {"bob@b.test"});
  const smtp::Reply r = data(c, kVirus);
  EXPECT_EQ(r.code, 250);
  EXPECT_NE(r.text.find("discarded"), std::string::npos);
  EXPECT_TRUE(hop.messages().empty());
}

TEST(Proxy, ScannerFailureIs451) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint());
  Client c(f.port());
  c.read();
  envelope(c, "alice@a.test", {"bob@b.test"});
  EXPECT_EQ(data(c, kClean + "SCANFAIL\r\n").code, 451);
  EXPECT_TRUE(hop.messages().empty());
}

TEST(Proxy, VerdictPastTheTimeBudgetIs451AndTheSessionGoesOn) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint(), {"--in_dialog_timeout=1"});
  Client c(f.port());
  c.read();
  envelope(c, "alice@a.test", {"bob@b.test"});
  const smtp::Reply late = data(c, kClean + "SLOWSCAN\r\n");
  EXPECT_EQ(late.code, 451);
  EXPECT_EQ(late.status, "4.4.5");
  EXPECT_EQ(c.command("MAIL FROM:<alice@a.test>").code, 250);
  EXPECT_EQ(c.command("RCPT TO:<carol@b.test>").code, 250);
  EXPECT_EQ(data(c, kClean).code, 250);
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 1u) << "only the second message";
  EXPECT_NE(got[0].rcpts[0].find("<carol@b.test>"), std::string::npos);
}

TEST(Proxy, UnavailableDownstreamRefusesTheSession) {
  Filterd f(Mode::kProxy, "smtp:127.0.0.1:" + std::to_string(free_port()));
  Client c(f.port());
  const smtp::Reply r = c.read();
  EXPECT_EQ(r.code, 421);
}

TEST(Proxy, DownstreamRefusingTheDataIsPassedOn) {
  FakeNextHop hop;
  hop.data_reply = "452 4.3.1 insufficient storage";
  Filterd f(Mode::kProxy, hop.endpoint());
  Client c(f.port());
  c.read();
  envelope(c, "alice@a.test", {"bob@b.test"});
  EXPECT_EQ(data(c, kClean).code, 452);
}

TEST(Proxy, DiscardedRecipientsAreLeftOutOfANewDownstreamTransaction) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint(), {"--recipient=bob@b.test virus_lover=yes"});
  Client c(f.port());
  c.read();
  envelope(c, "alice@a.test", {"bob@b.test", "carol@b.test"});
  EXPECT_EQ(data(c, kVirus).code, 250);
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].rcpts.size(), 1u);
  EXPECT_NE(got[0].rcpts[0].find("<bob@b.test>"), std::string::npos) << "only the lover";
}

TEST(Proxy, ARejectedRecipientRejectsTheWholeTransaction) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint(),
            {"--recipient=bob@b.test virus_lover=yes", "--final_virus_destiny=D_REJECT"});
  Client c(f.port());
  c.read();
  envelope(c, "alice@a.test", {"bob@b.test", "carol@b.test"});
  EXPECT_EQ(data(c, kVirus).code, 554);
  EXPECT_TRUE(hop.messages().empty());
}

TEST(Proxy, SeveralTransactionsAndRsetShareOneSession) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint());
  Client c(f.port());
  c.read();
  envelope(c, "alice@a.test", {"bob@b.test"});
  EXPECT_EQ(c.command("RSET").code, 250);
  EXPECT_EQ(c.command("MAIL FROM:<alice@a.test>").code, 250);
  EXPECT_EQ(c.command("RCPT TO:<carol@b.test>").code, 250);
  EXPECT_EQ(data(c, kClean).code, 250);
  EXPECT_EQ(c.command("MAIL FROM:<dave@a.test>").code, 250);
  EXPECT_EQ(c.command("RCPT TO:<erin@b.test>").code, 250);
  EXPECT_EQ(data(c, kClean).code, 250);
  EXPECT_EQ(c.command("QUIT").code, 221);
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(got[0].rcpts.size(), 1u) << "bob went with the RSET";
  EXPECT_NE(got[0].rcpts[0].find("<carol@b.test>"), std::string::npos);
  EXPECT_NE(got[1].mail_from.find("<dave@a.test>"), std::string::npos);
}

TEST(Proxy, PipelinedEnvelopeIsRelayedInOrder) {
  FakeNextHop hop;
  Filterd f(Mode::kProxy, hop.endpoint());
  Client c(f.port());
  c.read();
  EXPECT_EQ(c.command("EHLO mx.postfix.test").code, 250);
  c.send("MAIL FROM:<alice@a.test>\r\nRCPT TO:<bob@b.test>\r\nRCPT TO:<perm@b.test>\r\nDATA\r\n");
  EXPECT_EQ(c.read().code, 250);
  EXPECT_EQ(c.read().code, 250);
  EXPECT_EQ(c.read().code, 550);
  EXPECT_EQ(c.read().code, 354);
  c.send(kClean + ".\r\n");
  EXPECT_EQ(c.read().code, 250);
  ASSERT_EQ(hop.messages().size(), 1u);
}

}  // namespace
}  // namespace filterd
