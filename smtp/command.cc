// command.cc — SMTP command line parsing (see command.h).
#include "smtp/command.h"

#include <algorithm>
#include <cctype>

namespace filterd::smtp {
namespace {

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

SyntaxError syntax(std::string_view status, std::string_view text) {
  return SyntaxError{std::string(status), std::string(text)};
}

// Returns the end of the bracketed path starting at s[0] == '<', honouring
// quoted strings and backslash escapes, or npos.
size_t path_end(std::string_view s) {
  bool quoted = false;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && quoted) {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '>' && !quoted) {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

CommandLine split_command(std::string_view line) {
  size_t sp = line.find(' ');
  std::string_view verb = line.substr(0, sp);
  std::string_view args = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
  while (!args.empty() && (args.back() == ' ' || args.back() == '\t')) args.remove_suffix(1);
  CommandLine out;
  out.verb.reserve(verb.size());
  for (char c : verb) out.verb += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out.args = args;
  return out;
}

std::expected<PathArgs, SyntaxError> parse_path_args(std::string_view args,
                                                     std::string_view prefix) {
  if (!iequals_prefix(args, prefix)) return std::unexpected(syntax("5.5.4", "Syntax error"));
  args.remove_prefix(prefix.size());
  if (!args.empty() && args.front() == ' ') args.remove_prefix(1);
  if (args.empty() || args.front() != '<') {
    return std::unexpected(syntax("5.5.4", "Syntax error: address must be in <>"));
  }
  size_t end = path_end(args);
  if (end == std::string_view::npos) {
    return std::unexpected(syntax("5.5.4", "Syntax error: unterminated address"));
  }
  if (end + 1 > kMaxPathLength) {
    return std::unexpected(syntax("5.5.4", "Address too long"));  // RFC 5321 §4.5.3.1.3
  }
  std::string_view addr = args.substr(1, end - 1);
  for (char c : addr) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return std::unexpected(syntax("5.5.4", "Syntax error: control character in address"));
    }
  }
  // Source route "@a,@b:user@c" (RFC 5321 §4.1.2, obsolete): keep the mailbox.
  if (!addr.empty() && addr.front() == '@') {
    size_t colon = addr.find(':');
    if (colon == std::string_view::npos) {
      return std::unexpected(syntax("5.1.3", "Bad address syntax"));
    }
    addr.remove_prefix(colon + 1);
  }
  PathArgs out;
  out.address = std::string(addr);

  std::string_view rest = args.substr(end + 1);
  while (!rest.empty()) {
    if (rest.front() == ' ') {
      rest.remove_prefix(1);
      continue;
    }
    size_t sp = rest.find(' ');
    std::string_view param = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp);
    size_t eq = param.find('=');
    std::string key;
    for (char c : param.substr(0, eq)) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return std::unexpected(syntax("5.5.4", "Syntax error in parameters"));
      }
      key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (key.empty()) return std::unexpected(syntax("5.5.4", "Syntax error in parameters"));
    std::string value = eq == std::string_view::npos ? "" : std::string(param.substr(eq + 1));
    out.params.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

bool is_valid_xtext(std::string_view in) {
  for (size_t i = 0; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '+') {
      if (i + 2 >= in.size()) return false;
      if (!std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
        return false;
      }
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return false;
    }
  }
  return true;
}

std::expected<std::string, SyntaxError> xtext_decode(std::string_view in) {
  if (!is_valid_xtext(in)) return std::unexpected(syntax("5.5.4", "Invalid xtext"));
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string xtext_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (c < 33 || c > 126 || c == '+' || c == '=') {
      out += '+';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) > 127; });
}

}  // namespace filterd::smtp
