// text_charset.cc — SpamAssassin's charset normalisation and its idea of
// Unicode whitespace (Perl's \s on a character string).
#include <algorithm>
#include <cctype>

#include "decoders/ascii.h"
#include "decoders/transfer_encoding.h"
#include "spam/text_internal.h"

namespace filterd::spam::detail {
namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80             ? 0
               : (c & 0xE0) == 0xC0 ? 1
               : (c & 0xF0) == 0xE0 ? 2
               : (c & 0xF8) == 0xF0 ? 3
                                    : 9;
    if (n == 9 || (n == 1 && c < 0xC2) || (n == 3 && c > 0xF4)) return false;
    if (n > 0 && i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    if (n == 2) {
      const auto d = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d >= 0xA0)) return false;
    }
    if (n == 3) {
      const auto d = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xF0 && d < 0x90) || (c == 0xF4 && d >= 0x90)) return false;
    }
    i += n + 1;
  }
  return true;
}

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return (c & 0x80) != 0; });
}

// Bytes SpamAssassin accepts as Windows-1252 when every decoding failed:
// ASCII, NBSP, (c), SHY, some punctuation and the Latin-1 letters (bug 7656).
bool w1252_guessable(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80 || c == 0xA0 || c == 0xA9 || c == 0xAD || c == 0x82 || c == 0x84 || c == 0x85 ||
        (c >= 0x91 && c <= 0x97) || c == 0x99 || (c >= 0xC0 && c <= 0xD6) ||
        (c >= 0xD8 && c <= 0xDE) || (c >= 0xE0 && c <= 0xF6) || (c >= 0xF8 && c <= 0xFE))
      continue;
    return false;
  }
  return true;
}

// iconv through the decoders' helper; it hands the input back unchanged on
// failure, which for 8-bit input means "not decodable".
std::optional<std::string> strict_decode(std::string_view s, std::string_view charset) {
  std::string out = decoders::to_utf8(s, charset);
  if (out == s && !valid_utf8(s)) return std::nullopt;
  return out;
}

}  // namespace

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::optional<std::string> utf8_to_latin1(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += s[i];
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size()) {
      out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F));
    } else {
      return std::nullopt;
    }
  }
  return out;
}

PerlText normalize_charset(std::string_view bytes, std::string_view charset_declared) {
  if (!has_8bit(bytes)) return {std::string(bytes), false};  // all-ASCII: never decoded
  if (valid_utf8(bytes)) return {std::string(bytes), true};  // UTF-8 is tried first
  const std::string cs = decoders::ascii_lower(charset_declared);
  std::optional<std::string> rv;
  if (cs == "us-ascii" || cs == "ascii") {
    // 8-bit text declared ASCII: straight to the guesses below
  } else if (cs == "iso-8859-1" || cs == "iso8859-1" || cs == "windows-1252" || cs == "cp1252") {
    rv = strict_decode(bytes, "windows-1252");
  } else if (cs != "utf-8" && cs != "utf8" && !cs.empty()) {
    rv = strict_decode(bytes, cs);
  }
  if (!rv && w1252_guessable(bytes)) rv = strict_decode(bytes, "windows-1252");
  // SpamAssassin's next step, Encode::Detect::Detector, is not installed
  // with Debian's package; without it the bytes are kept.
  if (rv) return {std::move(*rv), true};
  return {std::string(bytes), false};
}

size_t unicode_space_at(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return 1;
  if (c == 0xC2 && i + 1 < s.size()) {
    const auto d = static_cast<unsigned char>(s[i + 1]);
    return d == 0x85 || d == 0xA0 ? 2 : 0;
  }
  if (i + 2 >= s.size()) return 0;
  const auto d = static_cast<unsigned char>(s[i + 1]), e = static_cast<unsigned char>(s[i + 2]);
  if (c == 0xE1 && d == 0x9A && e == 0x80) return 3;  // U+1680
  if (c == 0xE2 && d == 0x80 && (e <= 0x8A || e == 0xA8 || e == 0xA9 || e == 0xAF)) return 3;
  if (c == 0xE2 && d == 0x81 && e == 0x9F) return 3;  // U+205F
  if (c == 0xE3 && d == 0x80 && e == 0x80) return 3;  // U+3000
  return 0;
}

}  // namespace filterd::spam::detail
