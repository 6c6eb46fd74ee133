// spamd's SPAMC/1.5 protocol: the request filterd sends and every kind of
// reply spamd (or something pretending to be it) can send back.
#include "scanners/spamd_client.h"

#include <gtest/gtest.h>

namespace filterd::scanners {
namespace {

TEST(SpamdProtocol, RequestCarriesTheLengthTheUserAndTheMessage) {
  EXPECT_EQ(spamd_request("Subject: x\r\n\r\nhi\r\n", "filterd"),
            "SYMBOLS SPAMC/1.5\r\nContent-length: 18\r\nUser: filterd\r\n\r\n"
            "Subject: x\r\n\r\nhi\r\n");
  EXPECT_EQ(spamd_request("", ""), "SYMBOLS SPAMC/1.5\r\nContent-length: 0\r\n\r\n");
}

TEST(SpamdProtocol, SymbolsReplyGivesScoreThresholdAndRules) {
  auto r = parse_spamd_reply(
      "SPAMD/1.1 0 EX_OK\r\nContent-length: 27\r\nSpam: True ; 1004.6 / 5.0\r\n\r\n"
      "GTUBE,MISSING_DATE,NO_RELAYS");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->is_spam);
  EXPECT_DOUBLE_EQ(r->score, 1004.6);
  EXPECT_DOUBLE_EQ(r->threshold, 5.0);
  EXPECT_EQ(r->symbols, (std::vector<std::string>{"GTUBE", "MISSING_DATE", "NO_RELAYS"}));
}

TEST(SpamdProtocol, HamWithNoHitsAndNegativeScores) {
  auto r = parse_spamd_reply("SPAMD/1.1 0 EX_OK\r\nSpam: False ; -1.0 / 5.0\r\n\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->is_spam);
  EXPECT_DOUBLE_EQ(r->score, -1.0);
  EXPECT_TRUE(r->symbols.empty());
}

TEST(SpamdProtocol, ErrorsAndGarbageAreErrorsNeverAScore) {
  for (const char* reply : {
           "SPAMD/1.0 76 Bad header line: Content-length: x\r\n\r\n",           // spamd's error
           "HTTP/1.1 200 OK\r\n\r\n",                                           // not spamd
           "SPAMD/1.1 0 EX_OK\r\n\r\nGTUBE",                                    // no Spam: header
           "SPAMD/1.1 0 EX_OK\r\nSpam: True ; lots / 5.0\r\n\r\n",              // bad number
           "SPAMD/1.1 0 EX_OK\r\nSpam: True 12 5\r\n\r\n",                      // no separators
           "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\n\r\nGOOD,BAD NAME\r\n",  // bad rule name
           "",
       }) {
    auto r = parse_spamd_reply(reply);
    EXPECT_FALSE(r) << reply;
    if (!r) {
      EXPECT_EQ(r.error().kind, ScanError::Kind::kProtocol) << reply;
    }
  }
}

TEST(SpamdProtocol, ConnectingToNothingIsUnavailable) {
  auto c = SpamdClient::make("inet:127.0.0.1:1", std::chrono::milliseconds(2000));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ScanError::Kind::kUnavailable) << c.error().message;
  EXPECT_FALSE(SpamdClient::make("tcp:whatever", std::chrono::milliseconds(2000)));
}

}  // namespace
}  // namespace filterd::scanners
