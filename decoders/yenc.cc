// yenc.cc — yEnc blocks found in text, as in the yEnc 1.3 draft
// (J. Helbing, 2002): "=ybegin" ... "=yend", with the parts of a multipart
// file ("=ypart") joined into one child when they follow each other.
// Called by the scan in embedded_decoder.cc.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "decoders/crc32.h"
#include "decoders/embedded_formats.h"

namespace filterd::decoders::embedded {
namespace {

// Running CRC-32 (crc32.h) as yEnc's crc32= and pcrc32= use it; start
// from 0, the value is final at every step.
uint32_t crc32_update(uint32_t crc, uint8_t byte) {
  crc = ~crc;
  crc = kCrc32Table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// The value of `key=` among the blank-separated keywords of `params`.
std::optional<std::string_view> keyword(std::string_view params, std::string_view key) {
  size_t pos = 0;
  while (pos < params.size()) {
    size_t end = params.find(' ', pos);
    if (end == std::string_view::npos) end = params.size();
    std::string_view word = params.substr(pos, end - pos);
    if (word.size() > key.size() && word.starts_with(key) && word[key.size()] == '=') {
      return word.substr(key.size() + 1);
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<long long> keyword_number(std::string_view params, std::string_view key,
                                        int base = 10) {
  auto v = keyword(params, key);
  long long n = 0;
  if (!v || std::from_chars(v->data(), v->data() + v->size(), n, base).ec != std::errc()) {
    return std::nullopt;
  }
  return n;
}

bool is_keyword_line(std::string_view line, std::string_view keyword) {
  return line.starts_with(keyword) &&
         (line.size() == keyword.size() || line[keyword.size()] == ' ');
}

}  // namespace

// REQUIRES: line starts with "=ybegin ". The name runs to the end of line.
YencHeader parse_yenc_header(std::string_view line) {
  YencHeader h;
  size_t name_at = line.find(" name=");
  size_t params_end =
      name_at == std::string_view::npos ? line.size() : std::max<size_t>(name_at, 8);
  std::string_view params = line.substr(8, params_end - 8);
  if (name_at != std::string_view::npos) h.name = bounded_name(line.substr(name_at + 6));
  h.size = keyword_number(params, "size").value_or(-1);
  h.part = keyword_number(params, "part").value_or(0);
  h.total = keyword_number(params, "total").value_or(0);
  return h;
}

void end_yenc_chain(Scan& scan) {
  YencChain& chain = scan.yenc_chain();
  ChildOutput& out = scan.out();
  if (chain.active && chain.generation == out.generation() && out.is_open()) {
    scan.notes().add("yEnc " + chain.name + ": parts from " + std::to_string(chain.next_part) +
                     " on missing");
  }
  chain.active = false;
}

size_t yenc_block(Scan& scan, size_t pos, const YencHeader& h) {
  const std::string_view data = scan.data();
  ChildOutput& out = scan.out();
  Notes& notes = scan.notes();
  YencChain& chain = scan.yenc_chain();
  const std::string what = "yEnc " + h.name;
  long long begin = -1, end = -1;
  if (pos < data.size()) {
    Line l = line_at(data, pos);
    if (is_keyword_line(l.text, "=ypart")) {
      begin = keyword_number(l.text.substr(6), "begin").value_or(-1);
      end = keyword_number(l.text.substr(6), "end").value_or(-1);
      pos = l.next;
    }
  }
  bool continues = chain.active && chain.generation == out.generation() && out.is_open() &&
                   h.part > 0 && h.name == chain.name && h.part == chain.next_part &&
                   (begin < 0 || chain.next_begin < 0 || begin == chain.next_begin);
  if (continues) {
    chain.active = false;  // re-armed below if more parts are to come
  } else if (!scan.open_child(h.name, "yenc", h.size)) {
    return data.size();
  } else {
    chain = {.from_first = h.part <= 1};
  }
  uint32_t crc = 0, file_crc = chain.file_crc;
  long long bytes = 0;
  bool ended = false, bad_escape = false;
  std::string_view trailer;
  while (pos < data.size() && !out.stopped()) {
    Line l = line_at(data, pos);
    if (is_keyword_line(l.text, "=yend")) {
      trailer = l.text.substr(5);
      ended = true;
      pos = l.next;
      break;
    }
    if (scan.starts_block(l)) break;
    for (size_t i = 0; i < l.text.size(); ++i) {
      uint8_t c = static_cast<uint8_t>(l.text[i]);
      if (c == '\r') continue;  // yEnc escapes CR and LF: raw ones are line ends
      if (c == '=') {
        if (i + 1 == l.text.size()) {
          bad_escape = true;
          continue;
        }
        c = static_cast<uint8_t>(l.text[++i] - 64);
      }
      c = static_cast<uint8_t>(c - 42);
      out.put(c);
      crc = crc32_update(crc, c);
      file_crc = crc32_update(file_crc, c);
      ++bytes;
    }
    pos = l.next;
  }
  if (out.stopped()) return data.size();
  // yEnc 1.2 writers give no total=; then "=ypart end" short of the size says more follow.
  bool more = h.part > 0 && (h.total > 0 ? h.part < h.total : end >= 0 && end < h.size);
  bool last = h.part > 0 && !more;
  if (bad_escape) notes.add(what + ": '=' at end of line");
  if (!ended) {
    notes.add(what + ": no =yend line");
  } else {
    auto size = keyword_number(trailer, "size");
    if (size && *size != bytes) notes.add(what + ": size differs from =yend size");
    auto pcrc = keyword_number(trailer, "pcrc32", 16);
    auto fcrc = keyword_number(trailer, "crc32", 16);
    if (h.part == 0 && !pcrc) pcrc = fcrc;
    if (pcrc && static_cast<uint32_t>(*pcrc) != crc) notes.add(what + ": CRC mismatch");
    if (last && chain.from_first && fcrc && static_cast<uint32_t>(*fcrc) != file_crc) {
      notes.add(what + ": file CRC mismatch");
    }
  }
  if (ended && more) {
    chain.active = true;
    chain.generation = out.generation();
    chain.name = h.name;
    chain.next_part = h.part + 1;
    chain.next_begin = end < 0 ? -1 : end + 1;
    chain.total = h.total;
    chain.file_crc = file_crc;
  } else {
    out.close();
  }
  return pos;
}

}  // namespace filterd::decoders::embedded
