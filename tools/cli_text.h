// cli_text.h — small helpers of filterctl's commands: reading input files
// and writing JSON strings and times for people and scripts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace filterd::tools {

// The whole file, or stdin for "-"; nullopt if it cannot be read.
std::optional<std::string> read_all(const std::string& path);

// `s` as a JSON string literal (quotes included).
std::string json_string(std::string_view s);

// "2026-11-28 20:31:13" (UTC) for unix seconds.
std::string utc_time(int64_t t);

// "30d", "12h", "45m", "90s" as seconds; "2026-11-28" or unix seconds as an
// absolute time (returned as is). nullopt if unreadable.
struct TimeArg {
  int64_t value = 0;
  bool relative = false;  // a duration ("30d"), not a point in time
};
std::optional<TimeArg> parse_time_arg(std::string_view s);

}  // namespace filterd::tools
