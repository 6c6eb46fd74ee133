// test_data.h — test data every scanner test needs: the EICAR string and
// the hex form ClamAV's .ndb signatures are written in.
#pragma once

#include <string>
#include <string_view>

namespace filterd::testing {

// Split in two so that no source file itself matches a signature.
inline std::string eicar() {
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

inline std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

// Base64 (RFC 2045 §6.8) written out here rather than taken from filterd,
// so a decoder bug cannot cancel out an encoder bug. With `line_chars`,
// lines of that length end in CRLF, and so does the last one.
inline std::string base64(std::string_view bytes, size_t line_chars = 0) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t line = 0;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
    if (line_chars != 0 && (line += 4) >= line_chars) {
      out += "\r\n";
      line = 0;
    }
  }
  if (line != 0) out += "\r\n";
  return out;
}

// The line of a .ndb database that detects EICAR anywhere.
inline std::string eicar_ndb_line() {
  return "Eicar-Test-Signature:0:*:" + hex(eicar()) + "\n";
}

}  // namespace filterd::testing
