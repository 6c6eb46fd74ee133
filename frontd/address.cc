// address.cc — see address.h.
#include "frontd/address.h"

namespace filterd::frontd {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string qualify_postmaster(std::string_view address, std::string_view domain) {
  if (ascii_lower(address) != "postmaster" || domain.empty()) return std::string(address);
  return "postmaster@" + std::string(domain);
}

Address split_address(std::string_view address) {
  size_t at = std::string_view::npos;
  bool quoted = false;
  for (size_t i = 0; i < address.size(); ++i) {
    const char c = address[i];
    if (c == '\\' && quoted) {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '@' && !quoted) {
      at = i;
    }
  }
  if (at == std::string_view::npos) return Address{std::string(address), ""};
  return Address{std::string(address.substr(0, at)), ascii_lower(address.substr(at + 1))};
}

bool has_routing(const Address& a) {
  return a.local.find_first_of("@%!") != std::string::npos;
}

}  // namespace filterd::frontd
