// eval.cc — the registry of implemented eval: functions. See eval.h.
#include "spam/eval.h"

#include <algorithm>
#include <array>
#include <utility>

#include "spam/eval_internal.h"

namespace filterd::spam {
namespace {

struct Entry {
  std::string_view name;
  EvalFunction function;
};

// Sorted by name (checked by a unit test through implemented_evals()).
constexpr Entry kEvals[] = {
    {"check_all_trusted", eval::check_all_trusted},
    {"check_for_forged_received_ip_helo", eval::check_for_forged_received_ip_helo},
    {"check_for_forged_received_trail", eval::check_for_forged_received_trail},
    {"check_for_missing_to_header", eval::check_for_missing_to_header},
    {"check_for_no_rdns_dotcom_helo", eval::check_for_no_rdns_dotcom_helo},
    {"check_for_numeric_helo", eval::check_for_numeric_helo},
    {"check_for_sender_no_reverse", eval::check_for_sender_no_reverse},
    {"check_no_relays", eval::check_no_relays},
    {"check_relays_unparseable", eval::check_relays_unparseable},
    {"helo_ip_mismatch", eval::helo_ip_mismatch},
    {"subject_is_all_caps", eval::subject_is_all_caps},
};

}  // namespace

EvalFunction find_eval(std::string_view name) {
  auto it = std::ranges::lower_bound(kEvals, name, {}, &Entry::name);
  return it != std::end(kEvals) && it->name == name ? it->function : nullptr;
}

std::vector<std::string_view> implemented_evals() {
  std::vector<std::string_view> out;
  for (const auto& e : kEvals) out.push_back(e.name);
  return out;
}

}  // namespace filterd::spam
