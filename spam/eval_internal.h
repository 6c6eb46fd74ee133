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
