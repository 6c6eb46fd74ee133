// embedded_formats.h — internal to the "embedded" decoder: what its scan
// (embedded_decoder.cc) shares with the per-format block decoders
// (uuencode.cc, yenc.cc, binhex.cc). Not a public interface; include it
// only from those files.
//
// A block decoder is handed the Scan and the offset after its header line;
// it returns where the scan resumes, never before that offset, so the scan
// always moves forward.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decoders/decoder.h"

namespace filterd::decoders::embedded {

// Output goes to the sink in pieces of this size: memory stays bounded
// whatever a block claims, and a byte limit in the sink stops us soon.
constexpr size_t kChunkBytes = 64 * 1024;
// Longer names are cut: NAME_MAX is 255 on Linux, no encoder writes more,
// and log lines stay readable.
constexpr size_t kMaxNameBytes = 255;
// Part::problem keeps the first few notes: thousands of broken blocks must
// not make a megabyte-long log line.
constexpr size_t kMaxNotes = 6;

constexpr std::string_view kBinHexMarker = "(This file must be converted with BinHex";

struct Line {
  size_t start;
  std::string_view text;  // without CR/LF
  size_t next;            // where the next line starts
};

inline Line line_at(std::string_view data, size_t pos) {
  size_t nl = data.find('\n', pos);
  size_t end = nl == std::string_view::npos ? data.size() : nl;
  std::string_view text = data.substr(pos, end - pos);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return {pos, text, nl == std::string_view::npos ? data.size() : nl + 1};
}

inline bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

inline std::string bounded_name(std::string_view s) {
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

// Parts of a multipart yEnc file that follow each other are joined into
// one child, which stays open between them. Kept by the Scan because it
// outlives a block; only yenc.cc reads or changes it.
struct YencChain {
  bool active = false;
  uint64_t generation = 0;
  std::string name;
  long long next_part = 0, next_begin = -1, total = 0;
  bool from_first = false;  // joined from part 1: the file CRC can be checked
  uint32_t file_crc = 0;
};

// One pass over the lines of a text part (embedded_decoder.cc). The block
// decoders below work through its public members.
class Scan {
 public:
  Scan(std::string_view data, ChildSink& sink) : data_(data), out_(sink) {}

  DecodeStatus run(std::string& problem);

  std::string_view data() const { return data_; }
  ChildOutput& out() { return out_; }
  Notes& notes() { return notes_; }
  YencChain& yenc_chain() { return chain_; }

  // Ends any pending yEnc chain, then opens a child; false if the sink refused.
  bool open_child(std::string name, std::string_view decoder, long long declared_size);

  // A line that starts another block ends the current one unconsumed, so
  // that a dangling header cannot swallow a real block after it.
  bool starts_block(const Line& l);

 private:
  bool binhex_marker_on(const Line& l);

  std::string_view data_;
  ChildOutput out_;
  Notes notes_;
  size_t next_binhex_ = std::string_view::npos;
  YencChain chain_;
};

// ---- uuencode (uuencode.cc) ---------------------------------------------

struct UuHeader {
  bool base64 = false;  // GNU "begin-base64"
  std::string name;
};

// "begin 644 name" or "begin-base64 644 name"; nullopt for any other line.
std::optional<UuHeader> parse_uu_header(std::string_view line);

// Decodes the block whose header `h` ends at `pos`.
size_t uu_block(Scan& scan, size_t pos, const UuHeader& h);

// ---- yEnc (yenc.cc) -----------------------------------------------------

struct YencHeader {
  std::string name;
  long long size = -1;  // declared, not trusted
  long long part = 0;   // 0: not multipart
  long long total = 0;
};

// REQUIRES: line starts with "=ybegin ". The name runs to the end of line.
YencHeader parse_yenc_header(std::string_view line);

// Decodes the block whose "=ybegin" line `h` ends at `pos`.
size_t yenc_block(Scan& scan, size_t pos, const YencHeader& h);

// Notes a multipart file whose later parts never came, and forgets it.
void end_yenc_chain(Scan& scan);

// ---- BinHex 4.0 (binhex.cc) ---------------------------------------------

// Decodes the block whose kBinHexMarker is at offset `marker`.
size_t binhex_block(Scan& scan, size_t marker);

}  // namespace filterd::decoders::embedded
