// Tests of frontd's MX answer parsing on hand-built DNS responses (RFC 1035
// §4.1): preference order, null MX (RFC 7505), NXDOMAIN, the implicit MX,
// and garbage.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "frontd/mx.h"

namespace filterd::frontd {
namespace {

using Bytes = std::vector<unsigned char>;

void put16(Bytes& b, unsigned v) {
  b.push_back(static_cast<unsigned char>(v >> 8));
  b.push_back(static_cast<unsigned char>(v & 255));
}

void put_name(Bytes& b, const std::string& name) {
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b.push_back(static_cast<unsigned char>(dot - start));
    b.insert(b.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  b.push_back(0);
}

struct Answer {
  unsigned type;  // 15 MX, 5 CNAME
  unsigned preference;
  std::string target;  // "" for the root (null MX)
};

// A response to "DOMAIN IN MX" with the given answers and rcode.
Bytes response(const std::string& domain, const std::vector<Answer>& answers, unsigned rcode = 0) {
  Bytes b;
  put16(b, 0x1234);
  put16(b, 0x8180 | rcode);  // QR, RD, RA
  put16(b, 1);
  put16(b, static_cast<unsigned>(answers.size()));
  put16(b, 0);
  put16(b, 0);
  put_name(b, domain);
  put16(b, 15);
  put16(b, 1);
  for (const Answer& a : answers) {
    put16(b, 0xC00C);  // the question's name
    put16(b, a.type);
    put16(b, 1);
    put16(b, 0);
    put16(b, 300);
    Bytes rdata;
    if (a.type == 15) put16(rdata, a.preference);
    put_name(rdata, a.target);
    put16(b, static_cast<unsigned>(rdata.size()));
    b.insert(b.end(), rdata.begin(), rdata.end());
  }
  return b;
}

MxResult parse(const Bytes& b, const std::string& domain = "example.net") {
  return parse_mx_response(b.data(), static_cast<int>(b.size()), domain);
}

TEST(Mx, HostsComeInPreferenceOrder) {
  auto r = parse(response(
      "example.net",
      {{15, 20, "mx2.example.net"}, {15, 10, "MX1.example.net"}, {15, 20, "mx3.example.net"}}));
  ASSERT_EQ(r.kind, MxResult::Kind::kOk) << r.error;
  EXPECT_EQ(r.hosts,
            (std::vector<std::string>{"mx1.example.net", "mx2.example.net", "mx3.example.net"}));
}

TEST(Mx, NullMxMeansNoMailAndNxdomainIsPermanent) {
  EXPECT_EQ(parse(response("example.net", {{15, 0, ""}})).kind, MxResult::Kind::kNullMx);
  auto r = parse(response("nowhere.example", {}, 3), "nowhere.example");
  EXPECT_EQ(r.kind, MxResult::Kind::kNoSuchDomain);
  EXPECT_NE(r.error.find("nowhere.example"), std::string::npos);
}

TEST(Mx, NoMxRecordMeansTheDomainItself) {
  auto r = parse(response("example.net", {{5, 0, "alias.example.net"}}));
  ASSERT_EQ(r.kind, MxResult::Kind::kOk);
  EXPECT_EQ(r.hosts, std::vector<std::string>{"example.net"});
}

TEST(Mx, GarbageAndTruncatedAnswersAreTemporaryFailures) {
  const Bytes good = response("example.net", {{15, 10, "mx1.example.net"}});
  for (size_t n = 0; n + 1 < good.size(); ++n) {
    auto r = parse(Bytes(good.begin(), good.begin() + static_cast<long>(n)));
    EXPECT_EQ(r.kind, MxResult::Kind::kTempFail) << "length " << n;
  }
  Bytes bad = good;
  const size_t target = bad.size() - (std::string("mx1.example.net").size() + 2);
  bad[target] = 0xC0;  // the MX target becomes a compression pointer past the end
  bad[target + 1] = 0xFF;
  EXPECT_EQ(parse(bad).kind, MxResult::Kind::kTempFail);
}

}  // namespace
}  // namespace filterd::frontd
