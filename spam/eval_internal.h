// eval_internal.h — the eval: functions, one group per file (eval_*.cc),
// listed in eval.cc's registry. Semantics: SpamAssassin 4.0.1's Perl of the
// same name (Mail::SpamAssassin::Plugin::*), re-stated in each file.
#pragma once

#include <span>
#include <string>

#include "spam/eval.h"

namespace filterd::spam::eval {

using Args = std::span<const std::string>;

// eval_header.cc (Plugin::HeaderEval)
double check_for_missing_to_header(const EvalContext& c, Args args);
double subject_is_all_caps(const EvalContext& c, Args args);

// eval_header.cc (Plugin::HeaderEval)
double check_equal_from_domains(const EvalContext& c, Args args);
double check_for_matching_env_and_hdr_from(const EvalContext& c, Args args);
double check_header_count_range(const EvalContext& c, Args args);
double check_illegal_chars(const EvalContext& c, Args args);
double check_outlook_message_id(const EvalContext& c, Args args);
double check_ratware_name_id(const EvalContext& c, Args args);
double check_unresolved_template(const EvalContext& c, Args args);
double similar_recipients(const EvalContext& c, Args args);
double sorted_recipients(const EvalContext& c, Args args);

// eval_header_rcvd.cc (Plugin::HeaderEval: Received and dates)
double check_for_forged_eudoramail_received_headers(const EvalContext& c, Args args);
double check_for_forged_gmail_received_headers(const EvalContext& c, Args args);
double check_for_forged_hotmail_received_headers(const EvalContext& c, Args args);
double check_for_forged_juno_received_headers(const EvalContext& c, Args args);
double check_for_forged_yahoo_received_headers(const EvalContext& c, Args args);
double check_for_no_hotmail_received_headers(const EvalContext& c, Args args);
double check_for_shifted_date(const EvalContext& c, Args args);
double check_messageid_not_usable(const EvalContext& c, Args args);
double gated_through_received_hdr_remover(const EvalContext& c, Args args);

// eval_body.cc (Plugin::BodyEval)
double check_body_length(const EvalContext& c, Args args);

// eval_mime.cc (Plugin::MIMEEval)
double check_abundant_unicode_ratio(const EvalContext& c, Args args);
double check_base64_length(const EvalContext& c, Args args);
double check_for_ascii_text_illegal(const EvalContext& c, Args args);
double check_for_faraway_charset(const EvalContext& c, Args args);
double check_for_mime(const EvalContext& c, Args args);
double check_for_mime_html(const EvalContext& c, Args args);
double check_for_mime_html_only(const EvalContext& c, Args args);
double check_for_uppercase(const EvalContext& c, Args args);
double check_ma_non_text(const EvalContext& c, Args args);
double check_mime_multipart_ratio(const EvalContext& c, Args args);
double check_msg_parse_flags(const EvalContext& c, Args args);
double check_qp_ratio(const EvalContext& c, Args args);

// eval_html.cc (Plugin::HTMLEval, and BodyEval's tests of rendered parts)
double html_eval(const EvalContext& c, Args args);
double html_image_only(const EvalContext& c, Args args);
double html_image_ratio(const EvalContext& c, Args args);
double html_range(const EvalContext& c, Args args);
double html_tag_balance(const EvalContext& c, Args args);
double html_tag_exists(const EvalContext& c, Args args);
double html_test(const EvalContext& c, Args args);
double html_text_match(const EvalContext& c, Args args);
double html_title_subject_ratio(const EvalContext& c, Args args);
double multipart_alternative_difference(const EvalContext& c, Args args);
double multipart_alternative_difference_count(const EvalContext& c, Args args);
double check_stock_info(const EvalContext& c, Args args);
double check_blank_line_ratio(const EvalContext& c, Args args);
double tvd_vertical_words(const EvalContext& c, Args args);

// eval_freemail.cc (Plugin::FreeMail)
double check_freemail_from(const EvalContext& c, Args args);
double check_freemail_header(const EvalContext& c, Args args);

// eval_relay.cc (Plugin::RelayEval)
double check_all_trusted(const EvalContext& c, Args args);
double check_for_forged_received_ip_helo(const EvalContext& c, Args args);
double check_for_forged_received_trail(const EvalContext& c, Args args);
double check_for_no_rdns_dotcom_helo(const EvalContext& c, Args args);
double check_for_numeric_helo(const EvalContext& c, Args args);
double check_for_sender_no_reverse(const EvalContext& c, Args args);
double check_no_relays(const EvalContext& c, Args args);
double check_relays_unparseable(const EvalContext& c, Args args);
double helo_ip_mismatch(const EvalContext& c, Args args);

}  // namespace filterd::spam::eval
