// uuencode.cc — uuencode blocks found in text, as in POSIX uuencode(1):
// "begin MODE name" ... "end", and GNU sharutils' "begin-base64 MODE name"
// ... "====". Called by the scan in embedded_decoder.cc.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "decoders/embedded_formats.h"

namespace filterd::decoders::embedded {
namespace {

// A uuencoded block survives this many consecutive non-data lines (a quoted
// line, a pasted signature) before it is taken to have ended without "end".
constexpr int kMaxUuGarbageRun = 3;

int uu_value(unsigned char c) {
  return c >= 0x20 && c <= 0x60 ? (c - 0x20) & 0x3F : -1;
}

enum class UuLine { kData, kShortData, kTerminator, kNotData };

// What one line inside a uuencoded block is. A short line is data: old
// encoders write zero bits as spaces, which transit may strip at line ends.
UuLine classify_uu_line(std::string_view line) {
  if (line.empty()) return UuLine::kTerminator;  // " " whose space was stripped
  int len = uu_value(static_cast<unsigned char>(line[0]));
  if (len < 0) return UuLine::kNotData;
  if (len == 0) return UuLine::kTerminator;
  std::string_view body = line.substr(1);
  size_t full = static_cast<size_t>(len + 2) / 3 * 4;
  size_t checked = std::min(body.size(), full);
  for (size_t i = 0; i < checked; ++i) {
    if (uu_value(static_cast<unsigned char>(body[i])) < 0) return UuLine::kNotData;
  }
  // Past the data some encoders add a checksum character, some MTAs blanks.
  size_t extra = 0;
  for (size_t i = checked; i < body.size(); ++i) extra += !is_blank(body[i]);
  if (extra > 2) return UuLine::kNotData;
  return body.size() >= full ? UuLine::kData : UuLine::kShortData;
}

// REQUIRES: classify_uu_line(line) is kData or kShortData.
void decode_uu_line(std::string_view line, ChildOutput& out) {
  int len = uu_value(static_cast<unsigned char>(line[0]));
  std::string_view body = line.substr(1);
  auto at = [&](size_t i) -> uint32_t {
    return i < body.size() ? static_cast<uint32_t>(uu_value(static_cast<unsigned char>(body[i])))
                           : 0;
  };
  for (size_t i = 0; len > 0; i += 4) {
    uint32_t v = at(i) << 18 | at(i + 1) << 12 | at(i + 2) << 6 | at(i + 3);
    for (int k = 0; k < 3 && len > 0; ++k, --len) out.put(static_cast<uint8_t>(v >> (16 - 8 * k)));
  }
}

int base64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_base64_line(std::string_view line) {
  if (line.empty()) return false;
  for (char c : line) {
    if (c != '=' && base64_value(static_cast<unsigned char>(c)) < 0) return false;
  }
  return true;
}

struct Base64State {
  uint32_t bits = 0;
  int nbits = 0;
};

void decode_base64_line(std::string_view line, Base64State& s, ChildOutput& out) {
  for (char c : line) {
    if (c == '=') {  // padding ends a quantum; its leftover bits are zero fill
      s = {};
      continue;
    }
    s.bits = (s.bits << 6) | static_cast<uint32_t>(base64_value(static_cast<unsigned char>(c)));
    s.nbits += 6;
    if (s.nbits >= 8) {
      s.nbits -= 8;
      out.put(static_cast<uint8_t>(s.bits >> s.nbits));
      s.bits &= (1u << s.nbits) - 1;
    }
  }
}

}  // namespace

// "begin 644 name" or "begin-base64 644 name".
std::optional<UuHeader> parse_uu_header(std::string_view line) {
  UuHeader h;
  if (line.starts_with("begin-base64 ")) {
    h.base64 = true;
    line.remove_prefix(13);
  } else if (line.starts_with("begin ")) {
    line.remove_prefix(6);
  } else {
    return std::nullopt;
  }
  size_t digits = 0;
  while (digits < line.size() && line[digits] >= '0' && line[digits] <= '7') ++digits;
  if (digits == 0 || digits > 6 || digits >= line.size() || line[digits] != ' ') {
    return std::nullopt;
  }
  h.name = bounded_name(line.substr(digits + 1));
  return h;
}

size_t uu_block(Scan& scan, size_t pos, const UuHeader& h) {
  const std::string_view data = scan.data();
  ChildOutput& out = scan.out();
  Notes& notes = scan.notes();
  const std::string what = (h.base64 ? "begin-base64 " : "uuencode ") + h.name;
  const std::string_view end_line = h.base64 ? "====" : "end";
  bool opened = false, ended = false, terminated = false, skipped = false, short_lines = false;
  int garbage = 0;
  size_t garbage_start = 0;
  Base64State b64;
  while (pos < data.size() && !out.stopped()) {
    Line l = line_at(data, pos);
    std::string_view t = trim(l.text);
    if (t == end_line) {
      ended = true;
      pos = l.next;
      break;
    }
    if (terminated || scan.starts_block(l)) break;
    UuLine kind = h.base64 ? (is_base64_line(t) ? UuLine::kData : UuLine::kNotData)
                           : classify_uu_line(l.text);
    if (kind == UuLine::kNotData) {
      if (garbage++ == 0) garbage_start = pos;
      if (garbage > kMaxUuGarbageRun) break;
      pos = l.next;
      continue;
    }
    skipped |= garbage > 0 && opened;
    garbage = 0;
    pos = l.next;
    if (kind == UuLine::kTerminator) {
      terminated = true;
      continue;
    }
    if (!opened && !(opened = scan.open_child(h.name, "uuencode", -1))) return data.size();
    short_lines |= kind == UuLine::kShortData;
    if (h.base64) {
      decode_base64_line(t, b64, out);
    } else {
      decode_uu_line(l.text, out);
    }
  }
  if (garbage > 0 && !ended) pos = garbage_start;  // let the scan see those lines
  if (!opened && ended && !scan.open_child(h.name, "uuencode", -1)) return data.size();
  if (!opened && !ended) return pos;  // prose after a chance "begin" line
  out.close();
  if (out.stopped()) return data.size();
  if (!ended) notes.add(what + ": no \"" + std::string(end_line) + "\" line");
  if (skipped) notes.add(what + ": invalid lines skipped");
  // Blanks stripped in transit encode zero bits: padding restores them.
  if (short_lines) notes.add(what + ": short lines padded", false);
  return pos;
}

}  // namespace filterd::decoders::embedded
