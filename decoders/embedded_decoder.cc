// embedded_decoder.cc — see embedded_decoder.h. One pass over the lines of
// the part: a block header hands the following lines to that format's
// decoder, which returns where the scan resumes (never before the header,
// so the scan always moves forward).
//
// Formats: uuencode and base64 as in POSIX uuencode(1); yEnc as in the
// yEnc 1.3 draft (J. Helbing, 2002); BinHex 4.0 as in RFC 1741 and
// P. Lewis's "BinHex 4.0 definition" (1991).
#include "decoders/embedded_decoder.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace filterd::decoders {
namespace {

// Output goes to the sink in pieces of this size: memory stays bounded
// whatever a block claims, and a byte limit in the sink stops us soon.
constexpr size_t kChunkBytes = 64 * 1024;
// Longer names are cut: NAME_MAX is 255 on Linux, no encoder writes more,
// and log lines stay readable.
constexpr size_t kMaxNameBytes = 255;
// Part::problem keeps the first few notes: thousands of broken blocks must
// not make a megabyte-long log line.
constexpr size_t kMaxNotes = 6;
// A uuencoded block survives this many consecutive non-data lines (a quoted
// line, a pasted signature) before it is taken to have ended without "end".
constexpr int kMaxUuGarbageRun = 3;

constexpr std::string_view kBinHexMarker = "(This file must be converted with BinHex";
// RFC 1741: the 64 characters of BinHex 4.0, in value order.
constexpr std::string_view kBinHexAlphabet =
    "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

constexpr auto kBinHexValue = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (size_t i = 0; i < kBinHexAlphabet.size(); ++i) {
    t[static_cast<unsigned char>(kBinHexAlphabet[i])] = static_cast<int8_t>(i);
  }
  return t;
}();

// CRC-32 (IEEE 802.3), as yEnc's crc32= and pcrc32= use it.
constexpr auto kCrc32Table = [] {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}();

// Running CRC-32; start from 0, the value is final at every step.
uint32_t crc32_update(uint32_t crc, uint8_t byte) {
  crc = ~crc;
  crc = kCrc32Table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// CRC-16/XMODEM (CCITT polynomial, initial 0), as BinHex uses it.
uint16_t crc16_update(uint16_t crc, uint8_t byte) {
  crc ^= static_cast<uint16_t>(byte << 8);
  for (int k = 0; k < 8; ++k) {
    crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                         : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

struct Line {
  size_t start;
  std::string_view text;  // without CR/LF
  size_t next;            // where the next line starts
};

Line line_at(std::string_view data, size_t pos) {
  size_t nl = data.find('\n', pos);
  size_t end = nl == std::string_view::npos ? data.size() : nl;
  std::string_view text = data.substr(pos, end - pos);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return {pos, text, nl == std::string_view::npos ? data.size() : nl + 1};
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

std::string bounded_name(std::string_view s) {
  return std::string(trim(s).substr(0, kMaxNameBytes));
}

// Problems met while decoding, for Part::problem.
class Notes {
 public:
  // `damage` false: worth telling, but nothing was lost.
  void add(std::string note, bool damage = true) {
    damaged_ |= damage;
    for (const auto& n : notes_) {
      if (n == note) return;
    }
    if (notes_.size() < kMaxNotes) {
      notes_.push_back(std::move(note));
    } else {
      ++dropped_;
    }
  }
  bool empty() const { return notes_.empty(); }
  bool damaged() const { return damaged_; }
  std::string str() const {
    std::string s;
    for (const auto& n : notes_) s += (s.empty() ? "" : "; ") + n;
    if (dropped_ > 0) s += "; and " + std::to_string(dropped_) + " more";
    return s;
  }

 private:
  std::vector<std::string> notes_;
  size_t dropped_ = 0;
  bool damaged_ = false;
};

// The one child being written, buffered into kChunkBytes pieces.
class ChildOutput {
 public:
  explicit ChildOutput(ChildSink& sink) : sink_(sink) {}
  ~ChildOutput() { close(); }

  // Closes any open child and starts another; false if the sink refused.
  bool open(const ChildInfo& info) {
    close();
    if (!stopped_ && sink_.stopped()) stopped_ = true;
    if (stopped_) return false;
    writer_ = sink_.begin_child(info);
    if (!writer_) stopped_ = true;
    ++generation_;
    return writer_ != nullptr;
  }
  void put(uint8_t byte) {
    buffer_.push_back(static_cast<char>(byte));
    if (buffer_.size() >= kChunkBytes) flush();
  }
  void close() {
    if (!writer_) return;
    flush();
    writer_->finish();
    writer_.reset();
  }
  bool is_open() const { return writer_ != nullptr; }
  bool stopped() const { return stopped_; }
  // Changes with every open(): lets a yEnc part know its file is still open.
  uint64_t generation() const { return generation_; }

 private:
  void flush() {
    if (writer_ && !stopped_ && !buffer_.empty() && !writer_->write(buffer_)) stopped_ = true;
    buffer_.clear();
    if (sink_.stopped()) stopped_ = true;
  }

  ChildSink& sink_;
  std::unique_ptr<ChildWriter> writer_;
  std::string buffer_;
  bool stopped_ = false;
  uint64_t generation_ = 0;
};

// ---- uuencode -----------------------------------------------------------

struct UuHeader {
  bool base64 = false;  // GNU "begin-base64"
  std::string name;
};

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

// ---- yEnc ---------------------------------------------------------------

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

struct YencHeader {
  std::string name;
  long long size = -1;  // declared, not trusted
  long long part = 0;   // 0: not multipart
  long long total = 0;
};

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

bool is_keyword_line(std::string_view line, std::string_view keyword) {
  return line.starts_with(keyword) &&
         (line.size() == keyword.size() || line[keyword.size()] == ' ');
}

// ---- the scan -----------------------------------------------------------

class Scan {
 public:
  Scan(std::string_view data, ChildSink& sink) : data_(data), out_(sink) {}

  DecodeStatus run(std::string& problem) {
    size_t pos = 0;
    next_binhex_ = data_.find(kBinHexMarker);
    while (pos < data_.size() && !out_.stopped()) {
      Line l = line_at(data_, pos);
      if (binhex_marker_on(l)) {
        pos = binhex_block(next_binhex_);
        continue;
      }
      if (auto uu = l.text.starts_with("begin") ? parse_uu_header(l.text) : std::nullopt) {
        pos = uu_block(l.next, *uu);
        continue;
      }
      if (l.text.starts_with("=ybegin ")) {
        pos = yenc_block(l.next, parse_yenc_header(l.text));
        continue;
      }
      pos = l.next;
    }
    end_yenc_chain();
    out_.close();
    if (!notes_.empty()) problem = notes_.str();
    if (out_.stopped()) return DecodeStatus::kStopped;
    return notes_.damaged() ? DecodeStatus::kDamaged : DecodeStatus::kOk;
  }

 private:
  // True if a BinHex marker starts on line `l`. The scan only moves forward,
  // so each byte is searched for the marker once.
  bool binhex_marker_on(const Line& l) {
    if (next_binhex_ != std::string_view::npos && next_binhex_ < l.start) {
      next_binhex_ = data_.find(kBinHexMarker, l.start);
    }
    return next_binhex_ != std::string_view::npos && next_binhex_ < l.next;
  }

  bool open_child(std::string name, std::string_view decoder, long long declared_size) {
    end_yenc_chain();
    ChildInfo info;
    info.name = std::move(name);
    info.decoder = std::string(decoder);
    info.declared_size = declared_size;
    return out_.open(info);
  }

  // A line that starts another block ends the current one unconsumed, so
  // that a dangling header cannot swallow a real block after it.
  bool starts_block(const Line& l) {
    return binhex_marker_on(l) || l.text.starts_with("=ybegin ") ||
           (l.text.starts_with("begin") && parse_uu_header(l.text));
  }

  size_t uu_block(size_t pos, const UuHeader& h) {
    const std::string what = (h.base64 ? "begin-base64 " : "uuencode ") + h.name;
    const std::string_view end_line = h.base64 ? "====" : "end";
    bool opened = false, ended = false, terminated = false, skipped = false, short_lines = false;
    int garbage = 0;
    size_t garbage_start = 0;
    Base64State b64;
    while (pos < data_.size() && !out_.stopped()) {
      Line l = line_at(data_, pos);
      std::string_view t = trim(l.text);
      if (t == end_line) {
        ended = true;
        pos = l.next;
        break;
      }
      if (terminated || starts_block(l)) break;
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
      if (!opened && !(opened = open_child(h.name, "uuencode", -1))) return data_.size();
      short_lines |= kind == UuLine::kShortData;
      if (h.base64) {
        decode_base64_line(t, b64, out_);
      } else {
        decode_uu_line(l.text, out_);
      }
    }
    if (garbage > 0 && !ended) pos = garbage_start;  // let the scan see those lines
    if (!opened && ended && !open_child(h.name, "uuencode", -1)) return data_.size();
    if (!opened && !ended) return pos;  // prose after a chance "begin" line
    out_.close();
    if (out_.stopped()) return data_.size();
    if (!ended) notes_.add(what + ": no \"" + std::string(end_line) + "\" line");
    if (skipped) notes_.add(what + ": invalid lines skipped");
    // Blanks stripped in transit encode zero bits: padding restores them.
    if (short_lines) notes_.add(what + ": short lines padded", false);
    return pos;
  }

  // Parts of a multipart yEnc file that follow each other are joined into
  // one child, which stays open between them.
  struct YencChain {
    bool active = false;
    uint64_t generation = 0;
    std::string name;
    long long next_part = 0, next_begin = -1, total = 0;
    bool from_first = false;  // joined from part 1: the file CRC can be checked
    uint32_t file_crc = 0;
  };

  void end_yenc_chain() {
    if (chain_.active && chain_.generation == out_.generation() && out_.is_open()) {
      notes_.add("yEnc " + chain_.name + ": parts from " + std::to_string(chain_.next_part) +
                 " on missing");
    }
    chain_.active = false;
  }

  size_t yenc_block(size_t pos, const YencHeader& h) {
    const std::string what = "yEnc " + h.name;
    long long begin = -1, end = -1;
    if (pos < data_.size()) {
      Line l = line_at(data_, pos);
      if (is_keyword_line(l.text, "=ypart")) {
        begin = keyword_number(l.text.substr(6), "begin").value_or(-1);
        end = keyword_number(l.text.substr(6), "end").value_or(-1);
        pos = l.next;
      }
    }
    bool continues = chain_.active && chain_.generation == out_.generation() && out_.is_open() &&
                     h.part > 0 && h.name == chain_.name && h.part == chain_.next_part &&
                     (begin < 0 || chain_.next_begin < 0 || begin == chain_.next_begin);
    if (continues) {
      chain_.active = false;  // re-armed below if more parts are to come
    } else if (!open_child(h.name, "yenc", h.size)) {
      return data_.size();
    } else {
      chain_ = {.from_first = h.part <= 1};
    }
    uint32_t crc = 0, file_crc = chain_.file_crc;
    long long bytes = 0;
    bool ended = false, bad_escape = false;
    std::string_view trailer;
    while (pos < data_.size() && !out_.stopped()) {
      Line l = line_at(data_, pos);
      if (is_keyword_line(l.text, "=yend")) {
        trailer = l.text.substr(5);
        ended = true;
        pos = l.next;
        break;
      }
      if (starts_block(l)) break;
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
        out_.put(c);
        crc = crc32_update(crc, c);
        file_crc = crc32_update(file_crc, c);
        ++bytes;
      }
      pos = l.next;
    }
    if (out_.stopped()) return data_.size();
    // yEnc 1.2 writers give no total=; then "=ypart end" short of the size says more follow.
    bool more = h.part > 0 && (h.total > 0 ? h.part < h.total : end >= 0 && end < h.size);
    bool last = h.part > 0 && !more;
    if (bad_escape) notes_.add(what + ": '=' at end of line");
    if (!ended) {
      notes_.add(what + ": no =yend line");
    } else {
      auto size = keyword_number(trailer, "size");
      if (size && *size != bytes) notes_.add(what + ": size differs from =yend size");
      auto pcrc = keyword_number(trailer, "pcrc32", 16);
      auto fcrc = keyword_number(trailer, "crc32", 16);
      if (h.part == 0 && !pcrc) pcrc = fcrc;
      if (pcrc && static_cast<uint32_t>(*pcrc) != crc) notes_.add(what + ": CRC mismatch");
      if (last && chain_.from_first && fcrc && static_cast<uint32_t>(*fcrc) != file_crc) {
        notes_.add(what + ": file CRC mismatch");
      }
    }
    if (ended && more) {
      chain_.active = true;
      chain_.generation = out_.generation();
      chain_.name = h.name;
      chain_.next_part = h.part + 1;
      chain_.next_begin = end < 0 ? -1 : end + 1;
      chain_.total = h.total;
      chain_.file_crc = file_crc;
    } else {
      out_.close();
    }
    return pos;
  }

  // The bytes after run-length decoding: a header, the data fork and the
  // resource fork, each followed by its CRC. Fed one byte at a time.
  class BinHexStream {
   public:
    explicit BinHexStream(Scan& scan) : scan_(scan) {}

    bool done() const { return state_ == State::kDone; }

    void feed(uint8_t b) {
      switch (state_) {
        case State::kHeader:
          header_.push_back(static_cast<char>(b));
          if (header_.size() == 1 + static_cast<uint8_t>(header_[0]) + 21u) start_data_fork();
          return;
        case State::kFork:
          scan_.out_.put(b);
          crc_ = crc16_update(crc_, b);
          if (++fork_bytes_ == fork_length_) state_ = State::kForkCrc;
          return;
        case State::kForkCrc:
          stored_crc_ = static_cast<uint16_t>(stored_crc_ << 8 | b);
          if (++crc_bytes_ == 2) end_fork();
          return;
        case State::kDone:
          return;
      }
    }

    // The block ended (closing ':', a bad character or the end of text).
    void finish() {
      if (state_ == State::kDone) return;
      std::string what = "BinHex " + name_;
      if (state_ == State::kHeader) {
        scan_.notes_.add("BinHex: truncated header");
      } else if (state_ == State::kFork) {
        scan_.notes_.add(what + ": " + (resource_ ? "resource" : "data") + " fork truncated (" +
                         std::to_string(fork_bytes_) + " of " + std::to_string(fork_length_) +
                         " bytes)");
      } else {
        scan_.notes_.add(what + ": CRC missing");
      }
      scan_.out_.close();
    }

   private:
    enum class State { kHeader, kFork, kForkCrc, kDone };

    uint32_t be32(size_t at) const {
      uint32_t v = 0;
      for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(header_[at + i]);
      return v;
    }

    // Header: name length, name, version, type, creator, flags, data fork
    // length, resource fork length (big-endian), CRC of all that.
    void start_data_fork() {
      size_t n = static_cast<uint8_t>(header_[0]);
      name_ = bounded_name(std::string_view(header_).substr(1, n));
      uint16_t crc = 0;
      for (size_t i = 0; i < header_.size() - 2; ++i) {
        crc = crc16_update(crc, static_cast<uint8_t>(header_[i]));
      }
      uint16_t stored = static_cast<uint16_t>(static_cast<uint8_t>(header_[n + 20]) << 8 |
                                              static_cast<uint8_t>(header_[n + 21]));
      if (crc != stored) scan_.notes_.add("BinHex " + name_ + ": header CRC mismatch");
      resource_length_ = be32(n + 16);
      start_fork(be32(n + 12), false);
    }

    void start_fork(uint32_t length, bool resource) {
      resource_ = resource;
      fork_length_ = length;
      fork_bytes_ = crc_bytes_ = 0;
      crc_ = stored_crc_ = 0;
      state_ = length == 0 ? State::kForkCrc : State::kFork;
      std::string name = resource ? name_ + ".rsrc" : name_;
      if (!scan_.open_child(std::move(name), "binhex", length)) state_ = State::kDone;
    }

    void end_fork() {
      scan_.out_.close();
      if (crc_ != stored_crc_) {
        scan_.notes_.add("BinHex " + name_ + ": " + (resource_ ? "resource" : "data") +
                         " fork CRC mismatch");
      }
      if (!resource_ && resource_length_ > 0) {
        start_fork(resource_length_, true);
      } else {
        state_ = State::kDone;
      }
    }

    Scan& scan_;
    State state_ = State::kHeader;
    std::string header_;  // at most 1 + 255 + 21 bytes
    std::string name_;
    bool resource_ = false;
    uint32_t resource_length_ = 0, fork_length_ = 0, fork_bytes_ = 0;
    uint16_t crc_ = 0, stored_crc_ = 0;
    int crc_bytes_ = 0;
  };

  // From the marker: the data is between the first ':' after the marker's
  // line (blank lines may come between) and the next ':'.
  size_t binhex_block(size_t marker) {
    size_t pos = line_at(data_, marker).next;
    while (pos < data_.size() && is_blank(data_[pos])) ++pos;
    if (pos >= data_.size() || data_[pos] != ':') return pos;
    ++pos;
    BinHexStream stream(*this);
    uint32_t bits = 0;
    int nbits = 0, last = -1;
    bool run = false, bad_run = false;
    for (; pos < data_.size() && !out_.stopped(); ++pos) {
      unsigned char c = static_cast<unsigned char>(data_[pos]);
      if (c == ':') {
        ++pos;
        break;
      }
      if (is_blank(static_cast<char>(c))) continue;
      int v = kBinHexValue[c];
      if (v < 0) break;  // not BinHex any more: the scan resumes here
      if (stream.done()) continue;
      bits = bits << 6 | static_cast<uint32_t>(v);
      nbits += 6;
      if (nbits < 8) continue;
      nbits -= 8;
      uint8_t b = static_cast<uint8_t>(bits >> nbits);
      bits &= (1u << nbits) - 1;
      // Run-length encoding: X 0x90 N is N times X; 0x90 0x00 is 0x90 itself.
      if (run) {
        run = false;
        if (b == 0) {
          stream.feed(0x90);
          last = 0x90;
        } else if (last < 0) {
          bad_run = true;
        } else {
          for (int k = 1; k < b && !stream.done(); ++k) stream.feed(static_cast<uint8_t>(last));
        }
      } else if (b == 0x90) {
        run = true;
      } else {
        stream.feed(b);
        last = b;
      }
    }
    if (out_.stopped()) return data_.size();
    stream.finish();
    if (bad_run) notes_.add("BinHex: run-length marker without a byte to repeat");
    return pos;
  }

  std::string_view data_;
  ChildOutput out_;
  Notes notes_;
  size_t next_binhex_ = std::string_view::npos;
  YencChain chain_;
};

class EmbeddedDecoder final : public Decoder {
 public:
  std::string_view name() const override { return "embedded"; }
  std::vector<std::string> types() const override {
    return {".txt", ".asc", ".html", ".uue", ".hqx"};
  }
  DecodeStatus decode(std::string_view data, const Part& /*part*/, ChildSink& sink,
                      std::string& problem) const override {
    return Scan(data, sink).run(problem);
  }
};

}  // namespace

std::shared_ptr<const Decoder> make_embedded_decoder() {
  return std::make_shared<EmbeddedDecoder>();
}

}  // namespace filterd::decoders
