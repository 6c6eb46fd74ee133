// gzip.h — private to quarantine/: whole-buffer gzip (RFC 1952) through
// zlib, so quarantine files read with zcat. Pure.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

namespace filterd::quarantine {

std::expected<std::string, std::string> gzip_compress(std::string_view data);

// One gzip member, exactly; an error if it is corrupt, truncated, followed
// by other bytes, or inflates to more than `max_bytes` (a gzip bomb in a
// tampered file).
std::expected<std::string, std::string> gzip_decompress(std::string_view data, size_t max_bytes);

}  // namespace filterd::quarantine
