// file_format.h — private to quarantine/: the quarantine file's name and
// layout, and its prepended fields (the format is described in store.h).
//
// Pure: no I/O, no clocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "quarantine/store.h"

namespace filterd::quarantine {

// Category names are short ("BAD-HEADER"); bounded so that the verdict
// field stays within RFC 5322's 998 bytes with a kMaxFieldValue reason.
inline constexpr size_t kMaxCategory = 64;

// [A-Za-z0-9_-]{12}: filterd's mail ids and secret ids.
bool valid_id(std::string_view id);

// "YYYY/MM/DD/HH" of the UTC hour holding `time`. REQUIRES: time >= 0.
std::string hour_dir(int64_t time);

// The start of the UTC hour that "YYYY/MM/DD/HH" names; -1 if it names none.
int64_t hour_start(std::string_view dir);

// "YYYY/MM/DD/HH/<mail_id>" with ".gz" when gzip. REQUIRES: time >= 0.
std::string relative_path(std::string_view mail_id, int64_t time, bool gzip);

// Whether `path` has relative_path()'s shape, so that a path from the index
// cannot point outside the store.
bool valid_relative_path(std::string_view path);

// The prepended fields for `e` (mail_id, sender, recipients, category,
// reason), with the line end that `message` uses (CRLF if its first line
// ends in CRLF, else LF).
std::string prepended_fields(const Entry& e, std::string_view message);

// An upper bound on prepended_fields(e, ...).size(), whatever the message.
size_t max_prepended_size(const Entry& e);

// The original message in a quarantine file's content: everything after the
// prepended fields. An error if they are not there, in order.
std::expected<std::string_view, std::string> strip_prepended(std::string_view content);

}  // namespace filterd::quarantine
