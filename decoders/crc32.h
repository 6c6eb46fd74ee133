// crc32.h — CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as
// yEnc's crc32= and TNEF's compressed RTF use it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace filterd::decoders {

inline constexpr std::array<uint32_t, 256> kCrc32Table = [] {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}();

}  // namespace filterd::decoders
