// mx.cc — see mx.h.
#include "frontd/mx.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "frontd/address.h"

namespace filterd::frontd {
namespace {

// Big enough for any MX answer over TCP fallback (RFC 1035 §4.2.2 allows
// 65535; resolvers retry over TCP when the UDP answer is truncated).
constexpr int kAnswerBuffer = 65536;

}  // namespace

MxResult parse_mx_response(const unsigned char* msg, int len, const std::string& domain) {
  ns_msg handle;
  if (ns_initparse(msg, len, &handle) != 0) {
    return MxResult{MxResult::Kind::kTempFail, {}, "malformed DNS answer for " + domain};
  }
  if (ns_msg_getflag(handle, ns_f_rcode) == ns_r_nxdomain) {
    return MxResult{MxResult::Kind::kNoSuchDomain, {}, "Host or domain name not found: " + domain};
  }
  struct Mx {
    unsigned preference;
    std::string host;
  };
  std::vector<Mx> mxs;
  const int count = ns_msg_count(handle, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&handle, ns_s_an, i, &rr) != 0) {
      return MxResult{MxResult::Kind::kTempFail, {}, "malformed DNS answer for " + domain};
    }
    if (ns_rr_type(rr) != ns_t_mx) continue;  // CNAMEs on the way
    if (ns_rr_rdlen(rr) < 3) {
      return MxResult{MxResult::Kind::kTempFail, {}, "malformed MX record for " + domain};
    }
    const unsigned char* rdata = ns_rr_rdata(rr);
    const unsigned preference = ns_get16(rdata);
    char name[NS_MAXDNAME];
    if (ns_name_uncompress(ns_msg_base(handle), ns_msg_end(handle), rdata + 2, name, sizeof name) <
        0) {
      return MxResult{MxResult::Kind::kTempFail, {}, "malformed MX record for " + domain};
    }
    mxs.push_back(Mx{preference, ascii_lower(name)});
  }
  if (mxs.size() == 1 && (mxs[0].host.empty() || mxs[0].host == ".")) {
    return MxResult{MxResult::Kind::kNullMx, {}, domain + " accepts no mail (null MX)"};
  }
  std::stable_sort(mxs.begin(), mxs.end(),
                   [](const Mx& a, const Mx& b) { return a.preference < b.preference; });
  MxResult out{MxResult::Kind::kOk, {}, ""};
  for (const Mx& m : mxs) {
    if (!m.host.empty() && m.host != ".") out.hosts.push_back(m.host);
  }
  if (out.hosts.empty()) out.hosts.push_back(domain);  // RFC 5321 §5.1 implicit MX
  return out;
}

MxResult lookup_mx(const std::string& domain) {
  if (domain.empty() || domain.size() > NS_MAXDNAME || domain.front() == '[') {
    return MxResult{MxResult::Kind::kNoSuchDomain, {}, "bad domain '" + domain + "'"};
  }
  // Own resolver state per lookup (thread-safe); `struct` because glibc also
  // has a function called __res_state.
  auto state = std::make_unique<struct __res_state>();
  std::memset(state.get(), 0, sizeof(struct __res_state));
  if (res_ninit(state.get()) != 0) {
    return MxResult{MxResult::Kind::kTempFail, {}, "resolver initialisation failed"};
  }
  std::vector<unsigned char> answer(kAnswerBuffer);
  const int n = res_nquery(state.get(), domain.c_str(), ns_c_in, ns_t_mx, answer.data(),
                           static_cast<int>(answer.size()));
  const int herr = state->res_h_errno;
  res_nclose(state.get());
  if (n < 0) {
    if (herr == HOST_NOT_FOUND) {
      return MxResult{
          MxResult::Kind::kNoSuchDomain, {}, "Host or domain name not found: " + domain};
    }
    if (herr == NO_DATA) return MxResult{MxResult::Kind::kOk, {domain}, ""};  // implicit MX
    return MxResult{MxResult::Kind::kTempFail, {}, "DNS lookup of " + domain + " failed"};
  }
  return parse_mx_response(answer.data(), n, domain);
}

}  // namespace filterd::frontd
