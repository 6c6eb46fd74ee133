// mail_header.h — just enough of RFC 5322 for frontd's logs and Received
// lines: where the header section ends and the first value of a field.
// Pure; the input is hostile (any bytes, any line ends).
#pragma once

#include <string>
#include <string_view>

namespace filterd::frontd {

// The header section including the line end of its last field (without
// the empty line); the whole message when it has no body.
std::string_view header_section(std::string_view message);

// The first field called `name` (case-insensitive), unfolded, leading and
// trailing white space removed; "" when absent.
std::string header_value(std::string_view message, std::string_view name);

// How many fields called `name` the header section has (case-insensitive);
// "Received" for hop counting (RFC 5321 §6.3).
size_t count_fields(std::string_view message, std::string_view name);

// `text` made safe for one header or log line: controls become '?', at most
// `limit` bytes.
std::string printable(std::string_view text, size_t limit = 200);

}  // namespace filterd::frontd
