// bad_header.cc — see bad_header.h.
#include "policy/bad_header.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

namespace filterd::policy {
namespace {

// RFC 5322 §2.1.1: lines must not exceed 998 characters, CRLF excluded.
constexpr size_t kMaxLineLength = 998;

// RFC 5322 §3.6: fields that may appear at most once.
constexpr std::array<std::string_view, 11> kSingletons = {
    "date", "from",       "sender",      "reply-to",   "to",     "cc",
    "bcc",  "message-id", "in-reply-to", "references", "subject"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A field name: printable ASCII but colon and space (RFC 5322 §3.6.8);
// white space before the colon is obsolete syntax, tolerated (§4.5).
bool valid_field_name(std::string_view name) {
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c > 32 && c < 127 && c != ':'; });
}

}  // namespace

std::vector<BadHeader> check_headers(std::string_view message, const BadHeaderChecks& checks,
                                     const std::vector<std::string>& mime_problems) {
  std::vector<BadHeader> found;
  auto add = [&](bool enabled, const char* minor, std::string detail) {
    if (enabled) found.push_back({minor, std::move(detail)});
  };
  std::map<std::string, int> counts;
  std::string current;  // name of the field being read, for details
  size_t pos = 0;
  int line_no = 0;
  if (message.starts_with("From ")) {  // mbox separator, not part of the header
    size_t nl = message.find('\n');
    pos = nl == std::string_view::npos ? message.size() : nl + 1;
  }
  bool eight = false, control = false;
  while (pos < message.size()) {
    size_t nl = message.find('\n', pos);
    std::string_view line =
        message.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? message.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header section
    if (line.size() > kMaxLineLength) {
      add(checks.long_line, "long",
          "line " + std::to_string(line_no) + " is " + std::to_string(line.size()) + " characters");
    }
    // Details name the field the bad byte is in.
    const bool continuation = line[0] == ' ' || line[0] == '\t';
    std::string where = current;
    if (!continuation) {
      size_t c = line.find(':');
      where = c == std::string_view::npos ? "" : std::string(line.substr(0, c));
    }
    if (where.empty()) where = "line " + std::to_string(line_no);
    for (unsigned char c : line) {
      if (c > 127 && !checks.smtputf8 && !eight) {
        eight = true;
        add(checks.eight_bit, "8bit", where);
      } else if (c < 32 && c != '\t' && !control) {
        control = true;
        add(checks.control, "control", where);
      }
    }
    if (continuation) {
      if (current.empty()) {
        add(checks.syntax, "syntax",
            "continuation line " + std::to_string(line_no) + " before any field");
      } else if (line.find_first_not_of(" \t") == std::string_view::npos) {
        add(checks.empty, "empty", current);
      }
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !valid_field_name(line.substr(0, colon))) {
      add(checks.syntax, "syntax", "line " + std::to_string(line_no) + " is not a header field");
      current.clear();
      continue;
    }
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    current = std::string(name);
    ++counts[lower(name)];
  }
  if (!counts.contains("from")) add(checks.missing, "missing", "From");
  if (!counts.contains("date")) add(checks.missing, "missing", "Date");
  for (std::string_view s : kSingletons) {
    auto it = counts.find(std::string(s));
    if (it != counts.end() && it->second > 1) {
      add(checks.multiple, "multiple", std::string(s) + " x" + std::to_string(it->second));
    }
  }
  for (const auto& p : mime_problems) add(checks.mime, "mime", p);
  return found;
}

}  // namespace filterd::policy
