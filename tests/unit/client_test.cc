// Tests of the reinjection client against a scripted next hop.
#include "smtp/client.h"

#include <gtest/gtest.h>

#include "smtp/connection_cache.h"
#include "tests/unit/fake_next_hop.h"

namespace filterd::smtp {
namespace {
namespace asio = boost::asio;
using filterd::testing::FakeNextHop;

DeliveryResult run_delivery(const std::string& hop, const Envelope& env, std::string prefix,
                            std::string message, ClientOptions opt = {}) {
  asio::io_context io;
  DeliveryResult result;
  Endpoint ep = *parse_endpoint(hop);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> { result = co_await deliver(ep, env, prefix, message, opt); },
      asio::detached);
  io.run();
  return result;
}

Envelope envelope(std::vector<std::string> rcpts) {
  Envelope e;
  e.sender = "alice@a.test";
  for (auto& r : rcpts) e.recipients.push_back({r, "", ""});
  return e;
}

TEST(Client, DeliversPrefixPlusMessageByteIdenticalAndReadsQueueId) {
  FakeNextHop hop;
  std::string msg = "Subject: t\r\n\r\n.dot line\r\nlast\r\n";
  auto r = run_delivery(hop.endpoint(), envelope({"bob@b.test"}), "X-Virus-Scanned: yes\r\n", msg);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].code, 250);
  EXPECT_TRUE(r.delivered_any);
  EXPECT_EQ(r.queued_as, "FAKE123");
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, "X-Virus-Scanned: yes\r\n" + msg);
}

TEST(Client, DeferredRecipientAbortsBeforeDataWhenAllOrNothing) {
  FakeNextHop hop;
  auto r = run_delivery(hop.endpoint(), envelope({"bob@b.test", "temp@b.test"}), "", "x\r\n");
  EXPECT_EQ(r.recipients[0].code, 451);
  EXPECT_EQ(r.recipients[1].code, 451);
  EXPECT_FALSE(r.delivered_any);
  EXPECT_TRUE(hop.messages().empty()) << "nothing may be delivered, or a retry duplicates";
}

TEST(Client, RefusedRecipientKeepsItsReplyAndTheOthersAreDelivered) {
  FakeNextHop hop;
  auto r = run_delivery(hop.endpoint(), envelope({"perm@b.test", "bob@b.test"}), "", "x\r\n");
  EXPECT_EQ(r.recipients[0].code, 550);
  EXPECT_EQ(r.recipients[0].status, "5.1.1");
  EXPECT_EQ(r.recipients[1].code, 250);
  ASSERT_EQ(hop.messages().size(), 1u);
  EXPECT_EQ(hop.messages()[0].rcpts.size(), 1u);
}

TEST(Client, LmtpGivesOneReplyPerAcceptedRecipient) {
  FakeNextHop hop(/*lmtp=*/true);
  ClientOptions opt;
  opt.all_or_nothing = false;
  auto r = run_delivery(hop.endpoint(), envelope({"bob@b.test", "lmtpfail@b.test", "temp@b.test"}),
                        "", "x\r\n", opt);
  EXPECT_EQ(r.recipients[0].code, 250);
  EXPECT_EQ(r.recipients[1].code, 452);
  EXPECT_EQ(r.recipients[2].code, 451);
}

TEST(Client, NextHopPermanentRefusalAtDataIsPassedOn) {
  FakeNextHop hop;
  hop.data_reply = "554 5.7.1 content refused";
  auto r = run_delivery(hop.endpoint(), envelope({"bob@b.test"}), "", "x\r\n");
  EXPECT_EQ(r.recipients[0].code, 554);
  EXPECT_FALSE(r.delivered_any);
}

TEST(Client, UnreachableNextHopIsATemporaryFailure) {
  uint16_t port;
  {
    FakeNextHop gone;
    port = gone.port();
  }
  auto r =
      run_delivery("smtp:127.0.0.1:" + std::to_string(port), envelope({"bob@b.test"}), "", "x\r\n");
  EXPECT_EQ(r.recipients[0].code, 451);
  EXPECT_EQ(r.recipients[0].status, "4.4.1");
}

TEST(Client, SilentNextHopTimesOutAsTemporaryFailure) {
  FakeNextHop hop;
  hop.silent_after_greeting = true;
  ClientOptions opt;
  opt.command_timeout = std::chrono::seconds(1);
  auto r = run_delivery(hop.endpoint(), envelope({"bob@b.test"}), "", "x\r\n", opt);
  EXPECT_EQ(r.recipients[0].code, 451);
  EXPECT_NE(r.recipients[0].text.find("timeout"), std::string::npos) << r.recipients[0].text;
}

TEST(Client, XforwardAndDsnParametersAreSent) {
  FakeNextHop hop;
  Envelope e = envelope({"bob@b.test"});
  e.xforward.name = "client.test";
  e.xforward.addr = "192.0.2.7";
  e.xforward.port = "4711";  // not advertised by the fake: must be left out
  e.ret = "HDRS";
  e.envid = "ID+2B1";
  e.recipients[0].notify = "FAILURE";
  e.recipients[0].orcpt = "rfc822;bob@b.test";
  run_delivery(hop.endpoint(), e, "", "x\r\n");
  auto got = hop.messages();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].xforward.size(), 1u);
  EXPECT_EQ(got[0].xforward[0], "XFORWARD NAME=client.test ADDR=192.0.2.7");
  EXPECT_NE(got[0].mail_from.find("RET=HDRS ENVID=ID+2B1"), std::string::npos);
  EXPECT_NE(got[0].rcpts[0].find("NOTIFY=FAILURE ORCPT=rfc822;bob@b.test"), std::string::npos);
}

TEST(Client, WorksWithoutPipelining) {
  FakeNextHop hop;
  hop.pipelining = false;
  auto r = run_delivery(hop.endpoint(), envelope({"bob@b.test", "perm@b.test"}), "", "x\r\n");
  EXPECT_EQ(r.recipients[0].code, 250);
  EXPECT_EQ(r.recipients[1].code, 550);
}

// --- the session cache -------------------------------------------------

// `n` deliveries one after the other on one io_context (a cached session
// belongs to its executor).
std::vector<DeliveryResult> run_deliveries(const std::string& hop, int n, ClientOptions opt) {
  asio::io_context io;
  std::vector<DeliveryResult> results;
  Endpoint ep = *parse_endpoint(hop);
  const Envelope env = envelope({"bob@b.test"});
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < n; ++i) {
          const std::string msg = "Subject: " + std::to_string(i) + "\r\n\r\nbody\r\n";
          results.push_back(co_await deliver(ep, env, "", msg, opt));
        }
        if (opt.cache) opt.cache->clear();  // QUIT: io.run() returns when they are done
      },
      asio::detached);
  io.run();
  return results;
}

TEST(ClientCache, DeliveriesShareOneSession) {
  FakeNextHop hop;
  ConnectionCache cache;
  ClientOptions opt;
  opt.cache = &cache;
  auto r = run_deliveries(hop.endpoint(), 3, opt);
  for (const auto& d : r) EXPECT_EQ(d.recipients[0].code, 250);
  EXPECT_EQ(hop.messages().size(), 3u);
  EXPECT_EQ(hop.connections.load(), 1) << "one connect, one EHLO for three messages";
}

TEST(ClientCache, SessionClosedByThePeerIsReplacedWithoutLosingTheMessage) {
  FakeNextHop hop;
  hop.close_after_data = true;
  ConnectionCache cache;
  ClientOptions opt;
  opt.cache = &cache;
  auto r = run_deliveries(hop.endpoint(), 3, opt);
  for (const auto& d : r) EXPECT_EQ(d.recipients[0].code, 250) << d.recipients[0].one_line();
  EXPECT_EQ(hop.messages().size(), 3u);
  EXPECT_EQ(hop.connections.load(), 3);
}

TEST(ClientCache, UsedUpOrExpiredSessionsAreNotReused) {
  FakeNextHop hop;
  ConnectionCache cache({.max_idle = 4, .idle_time = std::chrono::seconds(5), .max_uses = 2});
  ClientOptions opt;
  opt.cache = &cache;
  run_deliveries(hop.endpoint(), 4, opt);
  EXPECT_EQ(hop.connections.load(), 2) << "two messages per session";

  FakeNextHop hop2;
  ConnectionCache expired({.max_idle = 4, .idle_time = std::chrono::seconds(0), .max_uses = 100});
  opt.cache = &expired;
  run_deliveries(hop2.endpoint(), 2, opt);
  EXPECT_EQ(hop2.connections.load(), 2);
}

TEST(ClientCache, NoCacheMeansAConnectionPerDelivery) {
  FakeNextHop hop;
  run_deliveries(hop.endpoint(), 2, ClientOptions{});
  EXPECT_EQ(hop.connections.load(), 2);
}

}  // namespace
}  // namespace filterd::smtp
