// binhex.cc — BinHex 4.0 blocks found in text, as in RFC 1741 and
// P. Lewis's "BinHex 4.0 definition" (1991): the data fork, and the
// resource fork as "<name>.rsrc". Called by the scan in embedded_decoder.cc.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "decoders/embedded_formats.h"

namespace filterd::decoders::embedded {
namespace {

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

// CRC-16/XMODEM (CCITT polynomial, initial 0), as BinHex uses it.
uint16_t crc16_update(uint16_t crc, uint8_t byte) {
  crc ^= static_cast<uint16_t>(byte << 8);
  for (int k = 0; k < 8; ++k) {
    crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                         : static_cast<uint16_t>(crc << 1);
  }
  return crc;
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
        scan_.out().put(b);
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
      scan_.notes().add("BinHex: truncated header");
    } else if (state_ == State::kFork) {
      scan_.notes().add(what + ": " + (resource_ ? "resource" : "data") + " fork truncated (" +
                        std::to_string(fork_bytes_) + " of " + std::to_string(fork_length_) +
                        " bytes)");
    } else {
      scan_.notes().add(what + ": CRC missing");
    }
    scan_.out().close();
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
    if (crc != stored) scan_.notes().add("BinHex " + name_ + ": header CRC mismatch");
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
    scan_.out().close();
    if (crc_ != stored_crc_) {
      scan_.notes().add("BinHex " + name_ + ": " + (resource_ ? "resource" : "data") +
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

}  // namespace

// From the marker: the data is between the first ':' after the marker's
// line (blank lines may come between) and the next ':'.
size_t binhex_block(Scan& scan, size_t marker) {
  const std::string_view data = scan.data();
  ChildOutput& out = scan.out();
  size_t pos = line_at(data, marker).next;
  while (pos < data.size() && is_blank(data[pos])) ++pos;
  if (pos >= data.size() || data[pos] != ':') return pos;
  ++pos;
  BinHexStream stream(scan);
  uint32_t bits = 0;
  int nbits = 0, last = -1;
  bool run = false, bad_run = false;
  for (; pos < data.size() && !out.stopped(); ++pos) {
    unsigned char c = static_cast<unsigned char>(data[pos]);
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
  if (out.stopped()) return data.size();
  stream.finish();
  if (bad_run) scan.notes().add("BinHex: run-length marker without a byte to repeat");
  return pos;
}

}  // namespace filterd::decoders::embedded
