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

// The line of a .ndb database that detects EICAR anywhere.
inline std::string eicar_ndb_line() {
  return "Eicar-Test-Signature:0:*:" + hex(eicar()) + "\n";
}

}  // namespace filterd::testing
