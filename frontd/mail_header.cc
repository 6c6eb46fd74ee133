// mail_header.cc — see mail_header.h.
#include "frontd/mail_header.h"

#include "frontd/address.h"

namespace filterd::frontd {

std::string_view header_section(std::string_view m) {
  for (size_t pos = 0; pos < m.size();) {
    size_t nl = m.find('\n', pos);
    if (nl == std::string_view::npos) return m;
    std::string_view line = m.substr(pos, nl - pos);
    if (line.empty() || line == "\r") return m.substr(0, pos);
    pos = nl + 1;
  }
  return m;
}

std::string header_value(std::string_view message, std::string_view name) {
  std::string_view head = header_section(message);
  const std::string want = ascii_lower(name);
  std::string value;
  bool in_field = false;
  while (!head.empty()) {
    size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      if (in_field) value += std::string(line);
      continue;
    }
    if (in_field) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view field = line.substr(0, colon);
    while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
    if (ascii_lower(field) == want) {
      in_field = true;
      value = std::string(line.substr(colon + 1));
    }
  }
  size_t b = value.find_first_not_of(" \t");
  size_t e = value.find_last_not_of(" \t");
  return b == std::string::npos ? "" : value.substr(b, e - b + 1);
}

size_t count_fields(std::string_view message, std::string_view name) {
  std::string_view head = header_section(message);
  const std::string want = ascii_lower(name);
  size_t n = 0;
  while (!head.empty()) {
    const size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.empty() || line.front() == ' ' ||
        line.front() == '\t') {
      continue;
    }
    std::string_view field = line.substr(0, colon);
    while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
    if (ascii_lower(field) == want) ++n;
  }
  return n;
}

std::string printable(std::string_view text, size_t limit) {
  std::string out;
  for (char c : text.substr(0, limit)) {
    out += static_cast<unsigned char>(c) < 32 || c == 127 ? '?' : c;
  }
  return out;
}

}  // namespace filterd::frontd
