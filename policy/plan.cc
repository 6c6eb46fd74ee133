// plan.cc — see plan.h.
#include "policy/plan.h"

#include <algorithm>

namespace filterd::policy {

Plan plan_delivery(const std::vector<RecipientFate>& fates, smtp::Protocol input) {
  Plan plan;
  const bool smtp = input == smtp::Protocol::kSmtp;
  auto all = [&](Destiny d) {
    return !fates.empty() && std::all_of(fates.begin(), fates.end(), [d](const RecipientFate& f) {
      return f.decision.destiny == d;
    });
  };
  if (smtp && std::any_of(fates.begin(), fates.end(), [](const RecipientFate& f) {
        return f.decision.destiny == Destiny::kTempfail;
      })) {
    plan.tempfail_all = true;
    return plan;
  }
  if (smtp && all(Destiny::kReject)) {
    plan.reject_all = true;
    return plan;
  }
  for (size_t i = 0; i < fates.size(); ++i) {
    const RecipientFate& f = fates[i];
    switch (f.decision.destiny) {
      case Destiny::kPass: {
        auto group = std::find_if(
            plan.deliveries.begin(), plan.deliveries.end(),
            [&](const std::vector<size_t>& g) { return fates[g.front()].edits == f.edits; });
        if (group == plan.deliveries.end()) {
          plan.deliveries.push_back({i});
        } else {
          group->push_back(i);
        }
        break;
      }
      case Destiny::kReject:
      case Destiny::kTempfail:
        if (!smtp) {
          plan.refuse.push_back(i);
          break;
        }
        [[fallthrough]];  // SMTP, mixed: the rejected learn it by DSN
      case Destiny::kBounce:
        (f.dsn_suppressed.empty() ? plan.bounce : plan.silent).push_back(i);
        break;
      case Destiny::kDiscard:
        plan.silent.push_back(i);
        break;
    }
  }
  return plan;
}

}  // namespace filterd::policy
