// command.h — parsing of SMTP command lines (RFC 5321 §4.1): the verb, the
// path of MAIL FROM / RCPT TO with its ESMTP parameters, xtext (RFC 3461 §4).
//
// Everything here is pure and bounded by its input; nothing is trusted.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace filterd::smtp {

// RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the brackets.
inline constexpr size_t kMaxPathLength = 256;

struct CommandLine {
  std::string verb;       // upper-cased: "MAIL", "RCPT", "EHLO", ...
  std::string_view args;  // the rest, leading spaces removed; view into the line
};

// Splits "verb SP args". The line has no line terminator.
CommandLine split_command(std::string_view line);

struct PathArgs {
  std::string address;  // the path without angle brackets; empty for "<>"
  std::vector<std::pair<std::string, std::string>> params;  // keyword upper-cased, raw value
};

struct SyntaxError {
  std::string status;  // enhanced status code, e.g. "5.5.4"
  std::string text;
};

// Parses "FROM:<a@b> SIZE=10" (prefix is "FROM:" or "TO:", case-insensitive).
// Accepts one optional space after the colon (sent by some clients) and a
// source route "@a,@b:user@c" (RFC 5321 §4.1.2, which is dropped).
std::expected<PathArgs, SyntaxError> parse_path_args(std::string_view args,
                                                     std::string_view prefix);

// RFC 3461 §4 xtext. decode returns nullopt-like error on malformed input.
std::expected<std::string, SyntaxError> xtext_decode(std::string_view in);
std::string xtext_encode(std::string_view in);
bool is_valid_xtext(std::string_view in);

// True if the address has bytes outside US-ASCII (needs SMTPUTF8).
bool has_8bit(std::string_view s);

}  // namespace filterd::smtp
