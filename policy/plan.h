// plan.h — who gets what. From each recipient's decision to the work the
// processor does: deliveries (recipients whose copies are edited alike go
// in one transaction), one DSN for the bounced, silence for the discarded,
// and whether the upstream gets one verdict for the whole message.
//
// The rules, for an SMTP upstream (one reply per message):
//   - any recipient D_TEMPFAIL: nobody gets the message now, 4xx;
//   - every recipient D_REJECT: 5xx, the upstream MTA bounces;
//   - otherwise the passed are delivered, the rejected and bounced are told
//     by our DSN, the discarded get nothing, and the reply is 2xx.
// For an LMTP upstream (one reply per recipient) D_REJECT and D_TEMPFAIL
// are answered per recipient and never turned into DSNs.
//
// Pure; tested with tables over category x destiny x protocol x mixed
// recipients.
#pragma once

#include <string>
#include <vector>

#include "policy/edits.h"
#include "policy/verdict.h"
#include "smtp/server_session.h"

namespace filterd::policy {

struct RecipientFate {
  Decision decision;
  MessageEdits edits;          // for D_PASS
  std::string deliver_to;      // envelope address for D_PASS (maybe with an extension)
  std::string dsn_suppressed;  // why a bounce sends no DSN; "" = it does
};

struct Plan {
  bool tempfail_all = false;                    // SMTP: one 4xx for the message, nothing delivered
  bool reject_all = false;                      // SMTP: one 5xx for the message, nothing delivered
  std::vector<std::vector<size_t>> deliveries;  // recipient indices, one group per edit set
  std::vector<size_t> bounce;                   // a DSN tells the sender about these
  std::vector<size_t> silent;                   // dropped: D_DISCARD or suppressed DSN
  std::vector<size_t> refuse;                   // LMTP: their own 5xx/4xx reply
};

Plan plan_delivery(const std::vector<RecipientFate>& fates, smtp::Protocol input);

}  // namespace filterd::policy
