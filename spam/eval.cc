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
    {"check_body_length", eval::check_body_length},
    {"check_equal_from_domains", eval::check_equal_from_domains},
    {"check_for_forged_eudoramail_received_headers",
     eval::check_for_forged_eudoramail_received_headers},
    {"check_for_forged_gmail_received_headers", eval::check_for_forged_gmail_received_headers},
    {"check_for_forged_hotmail_received_headers", eval::check_for_forged_hotmail_received_headers},
    {"check_for_forged_juno_received_headers", eval::check_for_forged_juno_received_headers},
    {"check_for_forged_received_ip_helo", eval::check_for_forged_received_ip_helo},
    {"check_for_forged_received_trail", eval::check_for_forged_received_trail},
    {"check_for_forged_yahoo_received_headers", eval::check_for_forged_yahoo_received_headers},
    {"check_for_matching_env_and_hdr_from", eval::check_for_matching_env_and_hdr_from},
    {"check_for_missing_to_header", eval::check_for_missing_to_header},
    {"check_for_no_hotmail_received_headers", eval::check_for_no_hotmail_received_headers},
    {"check_for_no_rdns_dotcom_helo", eval::check_for_no_rdns_dotcom_helo},
    {"check_for_numeric_helo", eval::check_for_numeric_helo},
    {"check_for_sender_no_reverse", eval::check_for_sender_no_reverse},
    {"check_for_shifted_date", eval::check_for_shifted_date},
    {"check_freemail_from", eval::check_freemail_from},
    {"check_freemail_header", eval::check_freemail_header},
    {"check_header_count_range", eval::check_header_count_range},
    {"check_illegal_chars", eval::check_illegal_chars},
    {"check_messageid_not_usable", eval::check_messageid_not_usable},
    {"check_no_relays", eval::check_no_relays},
    {"check_outlook_message_id", eval::check_outlook_message_id},
    {"check_ratware_name_id", eval::check_ratware_name_id},
    {"check_relays_unparseable", eval::check_relays_unparseable},
    {"check_unresolved_template", eval::check_unresolved_template},
    {"gated_through_received_hdr_remover", eval::gated_through_received_hdr_remover},
    {"helo_ip_mismatch", eval::helo_ip_mismatch},
    {"similar_recipients", eval::similar_recipients},
    {"sorted_recipients", eval::sorted_recipients},
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
