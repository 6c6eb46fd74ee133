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
    {"check_abundant_unicode_ratio", eval::check_abundant_unicode_ratio},
    {"check_all_trusted", eval::check_all_trusted},
    {"check_base64_length", eval::check_base64_length},
    {"check_blank_line_ratio", eval::check_blank_line_ratio},
    {"check_body_length", eval::check_body_length},
    {"check_equal_from_domains", eval::check_equal_from_domains},
    {"check_for_ascii_text_illegal", eval::check_for_ascii_text_illegal},
    {"check_for_faraway_charset", eval::check_for_faraway_charset},
    {"check_for_forged_eudoramail_received_headers",
     eval::check_for_forged_eudoramail_received_headers},
    {"check_for_forged_gmail_received_headers", eval::check_for_forged_gmail_received_headers},
    {"check_for_forged_hotmail_received_headers", eval::check_for_forged_hotmail_received_headers},
    {"check_for_forged_juno_received_headers", eval::check_for_forged_juno_received_headers},
    {"check_for_forged_received_ip_helo", eval::check_for_forged_received_ip_helo},
    {"check_for_forged_received_trail", eval::check_for_forged_received_trail},
    {"check_for_forged_yahoo_received_headers", eval::check_for_forged_yahoo_received_headers},
    {"check_for_matching_env_and_hdr_from", eval::check_for_matching_env_and_hdr_from},
    {"check_for_mime", eval::check_for_mime},
    {"check_for_mime_html", eval::check_for_mime_html},
    {"check_for_mime_html_only", eval::check_for_mime_html_only},
    {"check_for_missing_to_header", eval::check_for_missing_to_header},
    {"check_for_no_hotmail_received_headers", eval::check_for_no_hotmail_received_headers},
    {"check_for_no_rdns_dotcom_helo", eval::check_for_no_rdns_dotcom_helo},
    {"check_for_numeric_helo", eval::check_for_numeric_helo},
    {"check_for_sender_no_reverse", eval::check_for_sender_no_reverse},
    {"check_for_shifted_date", eval::check_for_shifted_date},
    {"check_for_uppercase", eval::check_for_uppercase},
    {"check_freemail_from", eval::check_freemail_from},
    {"check_freemail_header", eval::check_freemail_header},
    {"check_header_count_range", eval::check_header_count_range},
    {"check_illegal_chars", eval::check_illegal_chars},
    {"check_ma_non_text", eval::check_ma_non_text},
    {"check_messageid_not_usable", eval::check_messageid_not_usable},
    {"check_mime_multipart_ratio", eval::check_mime_multipart_ratio},
    {"check_msg_parse_flags", eval::check_msg_parse_flags},
    {"check_no_relays", eval::check_no_relays},
    {"check_outlook_message_id", eval::check_outlook_message_id},
    {"check_qp_ratio", eval::check_qp_ratio},
    {"check_ratware_name_id", eval::check_ratware_name_id},
    {"check_relays_unparseable", eval::check_relays_unparseable},
    {"check_stock_info", eval::check_stock_info},
    {"check_unresolved_template", eval::check_unresolved_template},
    {"gated_through_received_hdr_remover", eval::gated_through_received_hdr_remover},
    {"helo_ip_mismatch", eval::helo_ip_mismatch},
    {"html_eval", eval::html_eval},
    {"html_image_only", eval::html_image_only},
    {"html_image_ratio", eval::html_image_ratio},
    {"html_range", eval::html_range},
    {"html_tag_balance", eval::html_tag_balance},
    {"html_tag_exists", eval::html_tag_exists},
    {"html_test", eval::html_test},
    {"html_text_match", eval::html_text_match},
    {"html_title_subject_ratio", eval::html_title_subject_ratio},
    {"multipart_alternative_difference", eval::multipart_alternative_difference},
    {"multipart_alternative_difference_count", eval::multipart_alternative_difference_count},
    {"similar_recipients", eval::similar_recipients},
    {"sorted_recipients", eval::sorted_recipients},
    {"subject_is_all_caps", eval::subject_is_all_caps},
    {"tvd_vertical_words", eval::tvd_vertical_words},
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
