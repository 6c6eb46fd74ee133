// reply.cc — wire formatting of SMTP replies.
#include "smtp/reply.h"

#include <cctype>

namespace filterd::smtp {

std::string Reply::wire() const {
  std::string out;
  std::string_view rest = text;
  const std::string code_str = std::to_string(code);
  do {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    out += code_str;
    out += rest.empty() ? ' ' : '-';
    if (!status.empty()) {
      out += status;
      if (!line.empty()) out += ' ';
    }
    // Texts may quote client input: no control character reaches the wire.
    for (char c : line) out += static_cast<unsigned char>(c) < 32 || c == 127 ? '?' : c;
    out += "\r\n";
  } while (!rest.empty());
  return out;
}

std::string Reply::one_line() const {
  std::string out = std::to_string(code);
  if (!status.empty()) out += ' ' + status;
  if (!text.empty()) out += ' ';
  for (char c : text) out += c == '\n' ? ' ' : c;
  return out;
}

std::string checked_status(int code, std::string_view status) {
  // RFC 3463 §2: class "." subject "." detail, subject and detail 1–3 digits.
  auto valid = [&] {
    if (status.size() < 5 || status[0] - '0' != code / 100 || status[1] != '.') return false;
    size_t i = 2, digits = 0, dots = 0;
    for (; i < status.size(); ++i) {
      if (std::isdigit(static_cast<unsigned char>(status[i]))) {
        if (++digits > 3) return false;
      } else if (status[i] == '.' && digits > 0 && dots == 0) {
        ++dots;
        digits = 0;
      } else {
        return false;
      }
    }
    return dots == 1 && digits > 0;
  };
  if (valid()) return std::string(status);
  return std::to_string(code / 100) + ".0.0";
}

}  // namespace filterd::smtp
