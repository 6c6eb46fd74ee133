// gzip.cc — see gzip.h.
#include "quarantine/gzip.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <limits>

namespace filterd::quarantine {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // zlib: 32 KiB window, gzip wrapper
constexpr int kMemLevel = 8;              // zlib's default
constexpr size_t kChunk = 64 * 1024;
// zlib counts in uInt; feed it at most this much at a time.
constexpr size_t kMaxFeed = std::numeric_limits<uInt>::max() / 2;

std::string zerror(const char* what, int rc, const z_stream& z) {
  return fmt::format("gzip {}: {}", what, z.msg != nullptr ? z.msg : zError(rc));
}

}  // namespace

std::expected<std::string, std::string> gzip_compress(std::string_view data) {
  z_stream z{};
  int rc = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, kMemLevel,
                        Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) return std::unexpected(zerror("init", rc, z));
  std::string out;
  out.reserve(data.size() / 2 + kChunk);
  size_t in = 0;
  do {
    size_t feed = std::min(data.size() - in, kMaxFeed);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in));
    z.avail_in = static_cast<uInt>(feed);
    in += feed;
    int flush = in == data.size() ? Z_FINISH : Z_NO_FLUSH;
    do {
      size_t old = out.size();
      out.resize(old + kChunk);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      z.avail_out = static_cast<uInt>(kChunk);
      rc = deflate(&z, flush);
      out.resize(old + kChunk - z.avail_out);
      if (rc == Z_STREAM_ERROR) {
        deflateEnd(&z);
        return std::unexpected(zerror("deflate", rc, z));
      }
    } while (z.avail_out == 0);
  } while (in < data.size());
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::unexpected("gzip deflate: stream not finished");
  return out;
}

std::expected<std::string, std::string> gzip_decompress(std::string_view data, size_t max_bytes) {
  z_stream z{};
  int rc = inflateInit2(&z, kGzipWindowBits);
  if (rc != Z_OK) return std::unexpected(zerror("init", rc, z));
  std::string out;
  size_t in = 0;
  rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (z.avail_in == 0 && in < data.size()) {
      size_t feed = std::min(data.size() - in, kMaxFeed);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in));
      z.avail_in = static_cast<uInt>(feed);
      in += feed;
    }
    size_t old = out.size();
    out.resize(old + kChunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z.avail_out = static_cast<uInt>(kChunk);
    rc = inflate(&z, Z_NO_FLUSH);
    bool starved = z.avail_in == 0 && in == data.size() && z.avail_out != 0;
    out.resize(old + kChunk - z.avail_out);
    if (rc == Z_BUF_ERROR || (rc == Z_OK && starved)) {
      inflateEnd(&z);
      return std::unexpected("gzip: truncated");
    }
    if (rc != Z_OK && rc != Z_STREAM_END) {
      std::string e = zerror("inflate", rc, z);
      inflateEnd(&z);
      return std::unexpected(e);
    }
    if (out.size() > max_bytes) {
      inflateEnd(&z);
      return std::unexpected(fmt::format("gzip: inflates to more than {} bytes", max_bytes));
    }
  }
  size_t trailing = z.avail_in + (data.size() - in);
  inflateEnd(&z);
  if (trailing != 0) return std::unexpected(fmt::format("gzip: {} bytes after the end", trailing));
  return out;
}

}  // namespace filterd::quarantine
