// cli_text.cc — see cli_text.h.
#include "tools/cli_text.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace filterd::tools {

std::optional<std::string> read_all(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(ss).str();
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string utc_time(int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::optional<TimeArg> parse_time_arg(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || n < 0) return std::nullopt;
  const std::string_view rest(end, static_cast<size_t>(s.data() + s.size() - end));
  if (rest.empty()) return TimeArg{n, false};
  if (rest.size() == 1) {
    switch (rest[0]) {
      case 's':
        return TimeArg{n, true};
      case 'm':
        return TimeArg{n * 60, true};
      case 'h':
        return TimeArg{n * 3600, true};
      case 'd':
        return TimeArg{n * 86400, true};
      default:
        return std::nullopt;
    }
  }
  std::tm tm{};
  const std::string text(s);
  if (strptime(text.c_str(), "%Y-%m-%d", &tm) == text.c_str() + text.size()) {
    return TimeArg{static_cast<int64_t>(timegm(&tm)), false};
  }
  return std::nullopt;
}

}  // namespace filterd::tools
