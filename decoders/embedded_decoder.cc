// embedded_decoder.cc — see embedded_decoder.h. One pass over the lines of
// the part: a block header hands the following lines to that format's
// decoder, which returns where the scan resumes (never before the header,
// so the scan always moves forward).
//
// The formats live in uuencode.cc, yenc.cc and binhex.cc; what they share
// with this scan is in embedded_formats.h.
#include "decoders/embedded_decoder.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "decoders/embedded_formats.h"

namespace filterd::decoders {
namespace embedded {

DecodeStatus Scan::run(std::string& problem) {
  size_t pos = 0;
  next_binhex_ = data_.find(kBinHexMarker);
  while (pos < data_.size() && !out_.stopped()) {
    Line l = line_at(data_, pos);
    if (binhex_marker_on(l)) {
      pos = binhex_block(*this, next_binhex_);
      continue;
    }
    if (auto uu = l.text.starts_with("begin") ? parse_uu_header(l.text) : std::nullopt) {
      pos = uu_block(*this, l.next, *uu);
      continue;
    }
    if (l.text.starts_with("=ybegin ")) {
      pos = yenc_block(*this, l.next, parse_yenc_header(l.text));
      continue;
    }
    pos = l.next;
  }
  end_yenc_chain(*this);
  out_.close();
  if (!notes_.empty()) problem = notes_.str();
  if (out_.stopped()) return DecodeStatus::kStopped;
  return notes_.damaged() ? DecodeStatus::kDamaged : DecodeStatus::kOk;
}

// True if a BinHex marker starts on line `l`. The scan only moves forward,
// so each byte is searched for the marker once.
bool Scan::binhex_marker_on(const Line& l) {
  if (next_binhex_ != std::string_view::npos && next_binhex_ < l.start) {
    next_binhex_ = data_.find(kBinHexMarker, l.start);
  }
  return next_binhex_ != std::string_view::npos && next_binhex_ < l.next;
}

bool Scan::open_child(std::string name, std::string_view decoder, long long declared_size) {
  end_yenc_chain(*this);
  ChildInfo info;
  info.name = std::move(name);
  info.decoder = std::string(decoder);
  info.declared_size = declared_size;
  return out_.open(info);
}

bool Scan::starts_block(const Line& l) {
  return binhex_marker_on(l) || l.text.starts_with("=ybegin ") ||
         (l.text.starts_with("begin") && parse_uu_header(l.text));
}

}  // namespace embedded

namespace {

class EmbeddedDecoder final : public Decoder {
 public:
  std::string_view name() const override { return "embedded"; }
  std::vector<std::string> types() const override {
    return {".txt", ".asc", ".html", ".uue", ".hqx"};
  }
  DecodeStatus decode(std::string_view data, const Part& /*part*/, ChildSink& sink,
                      std::string& problem) const override {
    return embedded::Scan(data, sink).run(problem);
  }
};

}  // namespace

std::shared_ptr<const Decoder> make_embedded_decoder() {
  return std::make_shared<EmbeddedDecoder>();
}

}  // namespace filterd::decoders
