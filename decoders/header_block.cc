// header_block.cc — see header_block.h.
#include "decoders/header_block.h"

#include <cctype>

#include "decoders/ascii.h"

namespace filterd::decoders {
namespace {

// Length of the line starting at `pos`, including its LF (or to the end).
size_t line_length(std::string_view msg, size_t pos) {
  size_t nl = msg.find('\n', pos);
  return nl == std::string_view::npos ? msg.size() - pos : nl - pos + 1;
}

bool is_blank_line(std::string_view line) {
  return line == "\n" || line == "\r\n";
}

// RFC 5322 §3.6.8 field name: printable ASCII except colon; §4.5.3 allows
// whitespace before the colon (obsolete syntax).
std::optional<std::string_view> field_name(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view name = line.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  if (name.empty()) return std::nullopt;
  for (char c : name) {
    if (c <= 32 || c >= 127) return std::nullopt;
  }
  return name;
}

}  // namespace

size_t header_section_end(std::string_view msg) {
  size_t pos = 0;
  while (pos < msg.size()) {
    size_t len = line_length(msg, pos);
    if (is_blank_line(msg.substr(pos, len))) return pos + len;
    pos += len;
  }
  return msg.size();
}

std::vector<HeaderField> parse_header_fields(std::string_view msg) {
  std::vector<HeaderField> fields;
  size_t pos = 0;
  if (msg.starts_with("From ")) pos = line_length(msg, 0);  // mbox separator line
  while (pos < msg.size()) {
    size_t len = line_length(msg, pos);
    std::string_view line = msg.substr(pos, len);
    if (is_blank_line(line)) break;
    if ((line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      HeaderField& last = fields.back();
      last.raw = std::string_view(last.raw.data(), last.raw.size() + len);
    } else if (auto name = field_name(line)) {
      fields.push_back(HeaderField{*name, line});
    } else {
      break;  // not a header line: the body starts here
    }
    pos += len;
  }
  return fields;
}

std::optional<std::string> header_value(std::string_view msg, std::string_view name) {
  for (const HeaderField& f : parse_header_fields(msg)) {
    if (!iequals(f.name, name)) continue;
    std::string_view v = f.raw.substr(f.raw.find(':') + 1);
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
      if (c == '\r' || c == '\n') continue;  // unfold (RFC 5322 §2.2.3)
      out += c;
    }
    size_t b = out.find_first_not_of(" \t");
    size_t e = out.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : out.substr(b, e - b + 1);
  }
  return std::nullopt;
}

std::string_view line_ending_of(std::string_view msg) {
  size_t nl = msg.find('\n');
  return (nl != std::string_view::npos && nl > 0 && msg[nl - 1] == '\r') ||
                 nl == std::string_view::npos
             ? "\r\n"
             : "\n";
}

}  // namespace filterd::decoders
