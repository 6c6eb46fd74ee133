// ip_patterns.h — SpamAssassin's address regexps (Constants.pm IP_ADDRESS,
// IPV4_ADDRESS, IP_PRIVATE, LOCALHOST) as PCRE2 pattern text, for
// interpolation into larger patterns as SpamAssassin does with ${IP_ADDRESS}.
#pragma once

#include <string>

namespace filterd::spam::ip_patterns {

#define FILTERD_OCTET "(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d)"
#define FILTERD_V4 FILTERD_OCTET "\\." FILTERD_OCTET "\\." FILTERD_OCTET "\\." FILTERD_OCTET
#define FILTERD_H "[a-f0-9]{1,4}"
#define FILTERD_PRIV4                                                                             \
  "(?:10|127|169\\.254|172\\.(?:1[6-9]|2[0-9]|3[01])|192\\.168|100\\.(?:6[4-9]|[7-9][0-9]|1[01][" \
  "0-9]|12[0-7]))"
#define FILTERD_MAPPED                                                                           \
  "(?:(?:0{1,4}:){5}ffff:|::(?:0{1,4}:){0,4}ffff:|(?:0{1,4}:){1,4}:ffff:|0{1,4}::(?:0{1,4}:){1," \
  "3}ffff:|(?:0{1,4}:){2}:0{1,2}:ffff:|(?:0{1,4}:){3}:0:ffff:|(?:0{1,4}:){4}:ffff:)"
#define FILTERD_LOOP6                                                                           \
  "(?:0{1,4}:){7}0{0,3}1|:(?::0{1,4}){0,6}:0{0,3}1|0{1,4}:(?::0{1,4}){0,5}:0{0,3}1|(?:0{1,4}:)" \
  "{2}(?::0{1,4}){0,4}:0{0,3}1|(?:0{1,4}:){3}(?::0{1,4}){0,3}:0{0,3}1|(?:0{1,4}:){4}(?::0{1,"   \
  "4}){0,2}:0{0,3}1|(?:0{1,4}:){5}(?::0{1,4}){0,1}:0{0,3}1|(?:0{1,4}:){6}:0{0,3}1"

// An IPv4 address (word-bounded).
inline constexpr const char* kIpv4 = "(?:\\b" FILTERD_V4 "\\b)";

// An IPv4 or IPv6 address (IPv6 optionally "IPv6:"-prefixed), unanchored.
inline constexpr const char* kIpAddress =
    "(?i:\\b(?<!:)" FILTERD_V4 "\\b|(?:IPv6:|(?<![a-f0-9:]))(?:(?:(?:" FILTERD_H
    ":){6}|::(?:" FILTERD_H ":){0,5}|(?:" FILTERD_H ":){1,5}:|" FILTERD_H "::(?:" FILTERD_H
    ":){1,4}|(?:" FILTERD_H ":){2}:(?:" FILTERD_H ":){1,3}|(?:" FILTERD_H ":){3}:(?:" FILTERD_H
    ":){1,2}|(?:" FILTERD_H ":){4}:" FILTERD_H ":)" FILTERD_V4 "|(?:" FILTERD_H ":){7}" FILTERD_H
    "|:(?::" FILTERD_H "){1,7}|(?:" FILTERD_H ":){1,7}:|" FILTERD_H ":(?::" FILTERD_H
    "){1,6}|(?:" FILTERD_H ":){2}(?::" FILTERD_H "){1,5}|(?:" FILTERD_H ":){3}(?::" FILTERD_H
    "){1,4}|(?:" FILTERD_H ":){4}(?::" FILTERD_H "){1,3}|(?:" FILTERD_H ":){5}(?::" FILTERD_H
    "){1,2}|(?:" FILTERD_H ":){6}:" FILTERD_H "|::)(?![a-f0-9:]))";

// A private, link-local or loopback address, anchored at the start only
// (as IP_PRIVATE is).
inline constexpr const char* kIpPrivate =
    "(?i:^(?:" FILTERD_PRIV4 "\\..*|(?:IPv6:|(?<![a-f0-9:]))(?:" FILTERD_MAPPED FILTERD_PRIV4
    "\\..*|fe[89ab][0-9a-f]:.*|" FILTERD_LOOP6 ")(?![a-f0-9:])))";

// The ways of writing "localhost".
inline constexpr const char* kLocalhost =
    "(?i:localhost(?:\\.localdomain)?|\\b(?<!:)127\\.0\\.0\\.1\\b|(?:IPv6:|(?<![a-f0-9:]))(?"
    ":" FILTERD_MAPPED "127\\.0\\.0\\.1|" FILTERD_LOOP6 ")(?![a-f0-9:]))";

#undef FILTERD_OCTET
#undef FILTERD_V4
#undef FILTERD_H
#undef FILTERD_PRIV4
#undef FILTERD_MAPPED
#undef FILTERD_LOOP6

// "{IP}" -> kIpAddress, "{LOCALHOST}" -> kLocalhost, "{IPV4}" -> kIpv4 in `pattern`.
inline std::string expand(std::string pattern) {
  const std::pair<const char*, const char*> keys[] = {
      {"{IP}", kIpAddress}, {"{LOCALHOST}", kLocalhost}, {"{IPV4}", kIpv4}};
  for (const auto& [key, value] : keys) {
    for (size_t p; (p = pattern.find(key)) != std::string::npos;)
      pattern.replace(p, std::string(key).size(), value);
  }
  return pattern;
}

}  // namespace filterd::spam::ip_patterns

// One compiled PerlRe per call site, built on first use from `pattern` with
// {IP}, {LOCALHOST} ... expanded (RXI: case-insensitive). Needs
// spam/perl_re.h.
#define RX(pattern)                                                                         \
  ([]() -> const ::filterd::spam::PerlRe& {                                                 \
    static const ::filterd::spam::PerlRe re(::filterd::spam::ip_patterns::expand(pattern)); \
    return re;                                                                              \
  }())
#define RXI(pattern)                                                                             \
  ([]() -> const ::filterd::spam::PerlRe& {                                                      \
    static const ::filterd::spam::PerlRe re(::filterd::spam::ip_patterns::expand(pattern), "i"); \
    return re;                                                                                   \
  }())
