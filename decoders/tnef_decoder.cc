// tnef_decoder.cc — see tnef_decoder.h. Layout ([MS-OXTNEF] 2.1.3):
//   signature UINT32 0x223E9F78, legacy key UINT16, then attributes:
//   level UINT8 (1 message, 2 attachment), id UINT32 (type << 16 | id),
//   length UINT32, data[length], checksum UINT16 (sum of data mod 65536).
// An attachment's attributes begin with attAttachRendData; attAttachment
// and attMsgProps carry lists of MAPI properties (2.1.3.4).
#include "decoders/tnef_decoder.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decoders/crc32.h"

namespace filterd::decoders {
namespace {

// Bytes go to the sink in pieces of this size, so a byte limit stops us soon.
constexpr size_t kChunkBytes = 64 * 1024;
// Longer names are cut: NAME_MAX is 255 on Linux, and logs stay readable.
constexpr size_t kMaxNameBytes = 255;
// Part::problem keeps the first few notes, not one per broken attribute.
constexpr size_t kMaxNotes = 6;

constexpr uint32_t kTnefSignature = 0x223E9F78;
constexpr uint8_t kLevelMessage = 1;
constexpr uint8_t kLevelAttachment = 2;
constexpr size_t kAttributeHeaderBytes = 9;  // level, id, length

// Attribute ids, low 16 bits ([MS-OXTNEF] 2.1.3.3).
constexpr uint16_t kAttBody = 0x800C;
constexpr uint16_t kAttAttachData = 0x800F;
constexpr uint16_t kAttAttachTitle = 0x8010;
constexpr uint16_t kAttAttachRendData = 0x9002;
constexpr uint16_t kAttMsgProps = 0x9003;
constexpr uint16_t kAttAttachment = 0x9005;

// MAPI property ids ([MS-OXPROPS]) and types ([MS-OXCDATA] 2.11.1).
constexpr uint16_t kPrBody = 0x1000;
constexpr uint16_t kPrRtfCompressed = 0x1009;
constexpr uint16_t kPrBodyHtml = 0x1013;
constexpr uint16_t kPrDisplayName = 0x3001;
constexpr uint16_t kPrAttachDataObj = 0x3701;
constexpr uint16_t kPrAttachFilename = 0x3704;
constexpr uint16_t kPrAttachLongFilename = 0x3707;
constexpr uint16_t kPrAttachMimeTag = 0x370E;
constexpr uint16_t kPtString8 = 0x001E;
constexpr uint16_t kPtUnicode = 0x001F;
constexpr uint16_t kPtObject = 0x000D;
constexpr uint16_t kMvFlag = 0x1000;

// IID_IMessage {00020307-0000-0000-C000-000000000046} as stored.
constexpr std::string_view kIidMessage{
    "\x07\x03\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46", 16};

// Little-endian reads that fail instead of reading past the end.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  size_t remaining() const { return data_.size() - pos_; }
  size_t pos() const { return pos_; }
  bool bytes(size_t n, std::string_view& out) {
    if (n > remaining()) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  std::string_view rest() {
    std::string_view r = data_.substr(pos_);
    pos_ = data_.size();
    return r;
  }
  bool skip(size_t n) {
    std::string_view ignored;
    return bytes(n, ignored);
  }
  // Values are padded to 4 bytes; a missing pad at the very end is tolerated.
  void skip_padding(size_t size) { pos_ += std::min((4 - size % 4) % 4, remaining()); }
  template <typename T>
  bool le(T& v) {
    std::string_view b;
    if (!bytes(sizeof(T), b)) return false;
    v = 0;
    for (size_t i = sizeof(T); i-- > 0;) v = static_cast<T>(v << 8 | static_cast<uint8_t>(b[i]));
    return true;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

uint32_t le32(std::string_view b, size_t at) {
  uint32_t v = 0;
  for (size_t i = 4; i-- > 0;) v = v << 8 | static_cast<uint8_t>(b[at + i]);
  return v;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// PtypString: UTF-16LE, to its NUL. Lone surrogates become U+FFFD.
std::string utf16_to_utf8(std::string_view s, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i + 1 < s.size() && out.size() < max_bytes; i += 2) {
    uint32_t u = static_cast<uint8_t>(s[i]) | static_cast<uint8_t>(s[i + 1]) << 8;
    if (u == 0) break;
    if (u >= 0xD800 && u < 0xDC00 && i + 3 < s.size()) {
      uint32_t lo = static_cast<uint8_t>(s[i + 2]) | static_cast<uint8_t>(s[i + 3]) << 8;
      if (lo >= 0xDC00 && lo < 0xE000) {
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        i += 2;
      }
    }
    append_utf8(out, u >= 0xD800 && u < 0xE000 ? 0xFFFD : u);
  }
  return out;
}

bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80             ? 0
               : (c & 0xE0) == 0xC0 ? 1
               : (c & 0xF0) == 0xE0 ? 2
               : (c & 0xF8) == 0xF0 ? 3
                                    : 4;
    if (n == 4 || n >= s.size() - i) return false;  // a bad lead byte, or cut short
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<uint8_t>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

// A string property or attribute as UTF-8: PtypString is UTF-16LE;
// PtypString8 is in the sender's code page, kept if it is UTF-8 already
// and read as Latin-1 otherwise (a name must be valid UTF-8 for the rules).
std::string text_of(std::string_view value, uint16_t type, size_t max_bytes) {
  if (type == kPtUnicode) return utf16_to_utf8(value, max_bytes);
  value = value.substr(0, std::min(value.find('\0'), max_bytes));
  if (is_utf8(value)) return std::string(value);
  std::string out;
  for (char c : value) append_utf8(out, static_cast<uint8_t>(c));
  return out;
}

// A body for the scanners: UTF-16 becomes UTF-8, 8-bit text stays as it is.
std::string body_text(std::string_view value, uint16_t type) {
  if (type == kPtUnicode) return utf16_to_utf8(value, std::string::npos);
  if (type == kPtString8) value = value.substr(0, value.find('\0'));
  return std::string(value);
}

// Bytes of one value of a fixed-size type in TNEF (16-bit values are padded
// to 4), 0 for counted variable-size types, -1 for types TNEF cannot carry.
int fixed_size(uint16_t type) {
  switch (type) {
    case 0x0002:
    case 0x0003:
    case 0x0004:
    case 0x000A:
    case 0x000B:
      return 4;
    case 0x0005:
    case 0x0006:
    case 0x0007:
    case 0x0014:
    case 0x0040:
      return 8;
    case 0x0048:
      return 16;
    case kPtString8:
    case kPtUnicode:
    case kPtObject:
    case 0x0102:
    case 0x00FB:
      return 0;
    default:
      return -1;
  }
}

struct Property {
  uint16_t id;
  uint16_t type;           // without the multi-value flag
  std::string_view value;  // the first value
};

// Walks a MsgPropertyList ([MS-OXTNEF] 2.1.3.4), calling on_property for
// each property. Returns "" or what was wrong; properties before the fault
// have been delivered. Every value consumes at least 4 bytes, so hostile
// counts cannot make the loops outrun the data.
template <typename OnProperty>
std::string parse_properties(std::string_view data, OnProperty&& on_property) {
  Reader r(data);
  uint32_t count = 0;
  if (!r.le(count)) return "truncated property list";
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t tag = 0;
    if (!r.le(tag)) return "truncated property list";
    Property p{
        static_cast<uint16_t>(tag >> 16), static_cast<uint16_t>(tag & ~kMvFlag & 0xFFFF), {}};
    if (p.id >= 0x8000) {  // named property: GUID, kind, then a number or a name
      uint32_t kind = 0, n = 0;
      if (!r.skip(16) || !r.le(kind) || kind > 1 || !r.le(n)) return "bad named property";
      if (kind == 1) {
        if (!r.skip(n)) return "truncated property list";
        r.skip_padding(n);
      }
    }
    int fixed = fixed_size(p.type);
    if (fixed < 0) return "unknown MAPI property type";
    uint32_t values = 1;
    if (((tag & kMvFlag) || fixed == 0) && !r.le(values)) return "truncated property list";
    for (uint32_t v = 0; v < values; ++v) {
      std::string_view value;
      uint32_t size = static_cast<uint32_t>(fixed);
      if (fixed == 0 && !r.le(size)) return "truncated property list";
      if (!r.bytes(size, value)) return "truncated property value";
      if (fixed == 0) r.skip_padding(size);
      if (v == 0) p.value = value;
    }
    on_property(p);
  }
  return "";
}

// [MS-OXRTFCP] 2.1.2.1: the dictionary starts with this text (207 bytes).
constexpr std::string_view kRtfPrebuf =
    "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss "
    "\\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier"
    "{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
static_assert(kRtfPrebuf.size() == 207);

// Writes one child in kChunkBytes pieces.
class ChildOutput {
 public:
  ChildOutput(ChildSink& sink, bool& stopped) : sink_(sink), stopped_(stopped) {}
  // False if the sink refused: the decoder must stop.
  bool open(const ChildInfo& info) {
    if (!stopped_ && !sink_.stopped()) writer_ = sink_.begin_child(info);
    if (!writer_) stopped_ = true;
    return writer_ != nullptr;
  }
  void put(char c) {
    buffer_ += c;
    if (buffer_.size() >= kChunkBytes) flush();
  }
  void append(std::string_view bytes) {
    for (size_t at = 0; at < bytes.size() && !stopped_; at += kChunkBytes) {
      buffer_ = bytes.substr(at, kChunkBytes);
      flush();
    }
  }
  void close() {
    if (!writer_) return;
    flush();
    writer_->finish();
    writer_.reset();
    if (sink_.stopped()) stopped_ = true;
  }

 private:
  void flush() {
    if (!buffer_.empty() && writer_ && !stopped_ && !writer_->write(buffer_)) stopped_ = true;
    buffer_.clear();
  }

  ChildSink& sink_;
  bool& stopped_;
  std::unique_ptr<ChildWriter> writer_;
  std::string buffer_;
};

// [MS-OXRTFCP]: PR_RTF_COMPRESSED to RTF. Returns "" or what was wrong;
// what decompressed has been written either way.
std::string decompress_rtf(std::string_view in, ChildOutput& out) {
  if (in.size() < 16) return "compressed RTF: truncated header";
  uint32_t comp_size = le32(in, 0), type = le32(in, 8), crc = le32(in, 12);
  std::string_view body = in.substr(16);
  std::string problem;
  if (comp_size < 12 || comp_size - 12 > body.size()) {
    problem = "compressed RTF: size field wrong";
  } else {
    body = body.substr(0, comp_size - 12);
  }
  if (type == 0x414C454D) {  // "MELA": stored uncompressed
    out.append(body);
    return problem;
  }
  if (type != 0x75465A4C) {  // not "LZFu" either: pass it on as it is
    out.append(in);
    return "compressed RTF: unknown compression type";
  }
  uint32_t computed = 0;
  for (char c : body)
    computed = kCrc32Table[(computed ^ static_cast<uint8_t>(c)) & 0xFF] ^ (computed >> 8);
  if (computed != crc && problem.empty()) problem = "compressed RTF: CRC mismatch";
  std::array<char, 4096> dict{};
  std::copy(kRtfPrebuf.begin(), kRtfPrebuf.end(), dict.begin());
  size_t write = kRtfPrebuf.size(), pos = 0;
  auto emit = [&](char c) {
    out.put(c);
    dict[write] = c;
    write = (write + 1) % dict.size();
  };
  while (pos < body.size()) {
    uint8_t control = static_cast<uint8_t>(body[pos++]);
    for (int bit = 0; bit < 8; ++bit) {
      if (pos >= body.size()) return problem.empty() ? "compressed RTF: no end marker" : problem;
      if (!(control >> bit & 1)) {
        emit(body[pos++]);
        continue;
      }
      if (pos + 1 >= body.size()) return "compressed RTF: truncated";
      size_t ref = static_cast<uint8_t>(body[pos]) << 8 | static_cast<uint8_t>(body[pos + 1]);
      pos += 2;
      size_t offset = ref >> 4, length = (ref & 0xF) + 2;
      if (offset == write) return problem;  // the end marker
      for (size_t k = 0; k < length; ++k) emit(dict[(offset + k) % dict.size()]);
    }
  }
  return problem.empty() ? "compressed RTF: no end marker" : problem;
}

struct Attachment {
  bool any = false;
  std::string title, long_name, short_name, display_name, mime_type;
  std::optional<std::string_view> data;    // attAttachData
  long long data_length = -1;              // as its attribute claims (cut short if truncated)
  std::optional<std::string_view> object;  // PR_ATTACH_DATA_OBJ
  bool embedded_message = false;
};

struct Body {
  std::optional<std::string> text;
  std::optional<std::string> html;
  std::optional<std::string_view> rtf_compressed;
};

class TnefParse {
 public:
  TnefParse(std::string_view data, ChildSink& sink) : data_(data), sink_(sink) {}

  DecodeStatus run(std::string& problem) {
    Reader r(data_);
    uint32_t signature = 0;
    uint16_t key = 0;
    if (!r.le(signature) || signature != kTnefSignature) {
      problem = "not a TNEF stream";
      return DecodeStatus::kDamaged;
    }
    if (!r.le(key)) note("truncated");
    while (r.remaining() > 0 && !stopped_) {
      size_t at = r.pos();
      uint8_t level = 0;
      uint32_t id = 0, length = 0;
      if (r.remaining() < kAttributeHeaderBytes) {  // a stray newline, too short to hide anything
        note(std::to_string(r.remaining()) + " trailing byte(s) ignored", false);
        break;
      }
      if (!r.le(level) || !r.le(id) || !r.le(length)) {
        note("truncated attribute at offset " + std::to_string(at));
        break;
      }
      if (level != kLevelMessage && level != kLevelAttachment) {
        note("not an attribute at offset " + std::to_string(at));
        break;
      }
      std::string_view value;
      uint16_t checksum = 0;
      bool truncated = !r.bytes(length, value) || !r.le(checksum);
      if (truncated) {
        if (value.empty()) value = r.rest();
        note("truncated attribute at offset " + std::to_string(at));
      } else if (checksum_of(value) != checksum) {
        ++bad_checksums_;
      }
      attribute(level, static_cast<uint16_t>(id & 0xFFFF), value, length);
      if (truncated) break;
    }
    end_attachment();
    emit_body();
    // Noted, not damage: the data is all there, and a scanner should see it.
    if (bad_checksums_ > 0) {
      note(std::to_string(bad_checksums_) + " attribute checksums wrong", false);
    }
    if (!notes_.empty()) {
      problem.clear();
      for (size_t i = 0; i < notes_.size(); ++i) problem += (i ? "; " : "") + notes_[i];
    }
    if (stopped_) return DecodeStatus::kStopped;
    return damaged_ ? DecodeStatus::kDamaged : DecodeStatus::kOk;
  }

 private:
  static uint16_t checksum_of(std::string_view v) {
    uint32_t sum = 0;
    for (char c : v) sum += static_cast<uint8_t>(c);
    return static_cast<uint16_t>(sum);
  }

  void note(std::string what, bool damage = true) {
    damaged_ |= damage;
    if (notes_.size() < kMaxNotes &&
        std::find(notes_.begin(), notes_.end(), what) == notes_.end()) {
      notes_.push_back(std::move(what));
    }
  }

  void attribute(uint8_t level, uint16_t id, std::string_view value, uint32_t length) {
    if (level == kLevelMessage) {
      if (id == kAttBody) body_.text = body_text(value, kPtString8);
      if (id == kAttMsgProps) properties(value, [this](const Property& p) { message_property(p); });
      return;
    }
    if (id == kAttAttachRendData) end_attachment();
    attachment_.any = true;
    if (id == kAttAttachTitle) attachment_.title = text_of(value, kPtString8, kMaxNameBytes);
    if (id == kAttAttachData) {
      attachment_.data = value;
      attachment_.data_length = length;
    }
    if (id == kAttAttachment) {
      properties(value, [this](const Property& p) { attachment_property(p); });
    }
  }

  template <typename OnProperty>
  void properties(std::string_view value, OnProperty&& on_property) {
    std::string problem = parse_properties(value, on_property);
    if (!problem.empty()) note(problem);
  }

  void message_property(const Property& p) {
    bool is_text = p.type == kPtString8 || p.type == kPtUnicode;
    if (p.id == kPrBody && is_text) body_.text = body_text(p.value, p.type);
    if (p.id == kPrBodyHtml) {
      body_.html = body_text(p.value, p.type);
    }
    if (p.id == kPrRtfCompressed) body_.rtf_compressed = p.value;
  }

  void attachment_property(const Property& p) {
    bool is_text = p.type == kPtString8 || p.type == kPtUnicode;
    Attachment& a = attachment_;
    if (p.id == kPrAttachLongFilename && is_text)
      a.long_name = text_of(p.value, p.type, kMaxNameBytes);
    if (p.id == kPrAttachFilename && is_text)
      a.short_name = text_of(p.value, p.type, kMaxNameBytes);
    if (p.id == kPrDisplayName && is_text) a.display_name = text_of(p.value, p.type, kMaxNameBytes);
    if (p.id == kPrAttachMimeTag && is_text) a.mime_type = text_of(p.value, p.type, kMaxNameBytes);
    if (p.id == kPrAttachDataObj && p.type == kPtObject) {
      // The value starts with the interface id of the object that follows.
      a.embedded_message = p.value.starts_with(kIidMessage);
      a.object = p.value.substr(std::min<size_t>(16, p.value.size()));
    } else if (p.id == kPrAttachDataObj) {
      a.object = p.value;
    }
  }

  // Emits the attachment gathered so far. Its name may come after its data
  // (attAttachTitle, attAttachment), so nothing is emitted before its end.
  void end_attachment() {
    Attachment a = std::move(attachment_);
    attachment_ = {};
    if (!a.any) return;
    std::string name = !a.long_name.empty()    ? a.long_name
                       : !a.short_name.empty() ? a.short_name
                       : !a.title.empty()      ? a.title
                                               : a.display_name;
    // Encapsulated properties win over attributes ([MS-OXTNEF] 2.1.3), but a
    // differing attAttachData is emitted too: a reader might use either.
    if (a.object) {
      emit(name, a.embedded_message ? "application/ms-tnef" : a.mime_type, *a.object);
    }
    if (a.data && (!a.object || *a.data != *a.object)) {
      emit(name, a.mime_type, *a.data, a.data_length);
    }
  }

  void emit(const std::string& name, const std::string& type, std::string_view bytes,
            long long declared_size = -1) {
    if (declared_size < 0) declared_size = static_cast<long long>(bytes.size());
    ChildOutput out(sink_, stopped_);
    if (!out.open({name, type, "tnef", false, declared_size})) return;
    out.append(bytes);
    out.close();
  }

  void emit_body() {
    if (body_.text && !body_.text->empty()) emit("body.txt", "text/plain", *body_.text);
    if (body_.html && !body_.html->empty()) emit("body.html", "text/html", *body_.html);
    if (!body_.rtf_compressed || stopped_) return;
    ChildOutput out(sink_, stopped_);
    if (!out.open({"body.rtf", "text/rtf", "tnef", false, -1})) return;
    std::string problem = decompress_rtf(*body_.rtf_compressed, out);
    out.close();
    if (!problem.empty() && !stopped_) note(problem);
  }

  std::string_view data_;
  ChildSink& sink_;
  bool stopped_ = false, damaged_ = false;
  size_t bad_checksums_ = 0;
  std::vector<std::string> notes_;
  Attachment attachment_;
  Body body_;
};

class TnefDecoder final : public Decoder {
 public:
  std::string_view name() const override { return "tnef"; }
  std::vector<std::string> types() const override { return {".tnef"}; }
  DecodeStatus decode(std::string_view data, const Part& /*part*/, ChildSink& sink,
                      std::string& problem) const override {
    return TnefParse(data, sink).run(problem);
  }
};

}  // namespace

std::shared_ptr<const Decoder> make_tnef_decoder() {
  return std::make_shared<TnefDecoder>();
}

}  // namespace filterd::decoders
