// Tests of the RFC 3464 DSN composer.
#include "policy/dsn.h"

#include <gtest/gtest.h>

namespace filterd::policy {
namespace {

DsnInput sample() {
  DsnInput in;
  in.reporting_mta = "filter.test";
  in.mail_id = "ABCDEF";
  in.date = "Sat, 28 Nov 2026 12:00:00 +0000";
  in.arrival_date = in.date;
  in.envid = "QQ+2B1";
  in.sender = "alice@a.test";
  in.reason = "INFECTED: Eicar-Test-Signature";
  in.recipients.push_back({"bob@b.test", "rfc822;bob+2Bx@b.test",
                           smtp::Reply{554, "5.7.0", "Reject - INFECTED: Eicar-Test-Signature"}});
  in.original_headers = "Subject: hi\nFrom: alice@a.test";
  return in;
}

TEST(Dsn, IsMultipartReportWithDeliveryStatusAndHeaders) {
  std::string m = compose_dsn(sample());
  EXPECT_NE(m.find("Content-Type: multipart/report; report-type=delivery-status;"),
            std::string::npos);
  EXPECT_NE(m.find("Content-Type: message/delivery-status"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/rfc822-headers"), std::string::npos);
  EXPECT_NE(m.find("Reporting-MTA: dns; filter.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("Original-Envelope-Id: QQ+1\r\n"), std::string::npos);
  EXPECT_NE(m.find("Final-Recipient: rfc822; bob@b.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("Original-Recipient: rfc822; bob+x@b.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("Action: failed\r\nStatus: 5.7.0\r\n"), std::string::npos);
  EXPECT_NE(m.find("Diagnostic-Code: smtp; 554 5.7.0 Reject"), std::string::npos);
  EXPECT_NE(m.find("Subject: hi\r\nFrom: alice@a.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("Auto-Submitted: auto-replied"), std::string::npos);
}

TEST(Dsn, EveryLineEndsInCrlf) {
  std::string m = compose_dsn(sample());
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

TEST(Dsn, ControlCharactersCannotInjectHeaders) {
  DsnInput in = sample();
  in.reason = "x\r\nBcc: victim@c.test";
  std::string m = compose_dsn(in);
  EXPECT_EQ(m.find("\r\nBcc:"), std::string::npos);
}

TEST(Dsn, NotifyDecidesWhetherAFailureDsnIsWanted) {
  smtp::Envelope env;
  env.sender = "a@b";
  EXPECT_TRUE(failure_dsn_wanted(env, {"c@d", "", ""}));
  EXPECT_TRUE(failure_dsn_wanted(env, {"c@d", "SUCCESS,FAILURE", ""}));
  EXPECT_FALSE(failure_dsn_wanted(env, {"c@d", "NEVER", ""}));
  EXPECT_FALSE(failure_dsn_wanted(env, {"c@d", "DELAY", ""}));
  env.sender.clear();
  EXPECT_FALSE(failure_dsn_wanted(env, {"c@d", "", ""}));
}

}  // namespace
}  // namespace filterd::policy
