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
