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
    {"check_for_missing_to_header", eval::check_for_missing_to_header},
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
