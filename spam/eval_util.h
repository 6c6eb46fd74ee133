// eval_util.h — helpers the eval_*.cc files share: header access as
// PerMsgStatus::get gives it in scalar context, Util::parse_rfc822_date,
// the pristine body, Perl's quotemeta.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spam/eval.h"

namespace filterd::spam::eval {

// PerMsgStatus::get(request) with undef as "".
std::string get(const EvalContext& c, std::string_view request);

// Every value of header `name` (Node::get_header in list context:
// decoded, unfolded, no final newline).
std::vector<std::string> header_values(const EvalContext& c, std::string_view name);

// Util::parse_rfc822_date: seconds since the epoch, nullopt if no date.
std::optional<long long> parse_rfc822_date(std::string_view date);

// The message's body as SpamAssassin keeps it (pristine_body): all after
// the blank line that ends the header ("" when there is none).
std::string_view pristine_body(std::string_view message);

// Perl's quotemeta: every character but [A-Za-z0-9_] backslashed.
std::string quotemeta(std::string_view s);

// Whether `s` is well-formed UTF-8 (Util::is_valid_utf_8).
bool valid_utf8(std::string_view s);

// Perl's lc (ASCII).
std::string lower(std::string_view s);

}  // namespace filterd::spam::eval
