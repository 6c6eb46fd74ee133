// archive_decoder.cc — see archive_decoder.h.
#include "decoders/archive_decoder.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <set>
#include <vector>

namespace filterd::decoders {
namespace {

using SupportFn = int (*)(struct archive*);

// Read size for an archive on disk (a large part spilled to a temp file).
constexpr size_t kFileBlockBytes = 64 * 1024;

// Container formats. Not mtree (its entries name files on the local disk,
// which libarchive would read), warc (web captures) or empty; not xar
// either: libarchive 3.6.2 loops forever inside archive_read_next_header on
// a xar whose files carry more than one link attribute (fixed in 3.7.4,
// upstream PRs 2123 and 2150; libarchive's test_read_format_xar_doublelink),
// and nothing outside that call can stop it.
constexpr std::array kContainerFormats = {
    archive_read_support_format_zip,     archive_read_support_format_7zip,
    archive_read_support_format_rar,     archive_read_support_format_rar5,
    archive_read_support_format_tar,     archive_read_support_format_cpio,
    archive_read_support_format_iso9660, archive_read_support_format_cab,
    archive_read_support_format_lha,     archive_read_support_format_ar,
};

constexpr std::array<std::string_view, 11> kContainerTypes = {
    ".zip", ".7z", ".rar", ".tar", ".cpio", ".iso", ".cab", ".lha", ".ar", ".deb", ".rpm"};

// Single-stream compressors. Filter chains are always given explicitly
// (archive_read_append_filter), never bid for: bidding stacks filters for
// as long as each output looks compressed again, which a crafted gzip
// (libarchive's test_read_filter_gzip_recursive.gz) turns into seconds of
// CPU inside one libarchive call, where no sink limit can reach. One layer
// per decode is all the walker needs; it recurses into the child.
// grzip, lrzip and lzop are absent: libarchive (Debian's lacks liblzo2)
// would run an external program for them.
struct Compressor {
  std::string_view type;  // filterd's short type
  int code;               // ARCHIVE_FILTER_*
  SupportFn support;
  std::string_view name;  // for ChildInfo::decoder, "libarchive/gz"
};
constexpr std::array kCompressors = {
    Compressor{".gz", ARCHIVE_FILTER_GZIP, archive_read_support_filter_gzip, "gz"},
    Compressor{".bz2", ARCHIVE_FILTER_BZIP2, archive_read_support_filter_bzip2, "bz2"},
    Compressor{".xz", ARCHIVE_FILTER_XZ, archive_read_support_filter_xz, "xz"},
    Compressor{".lzma", ARCHIVE_FILTER_LZMA, archive_read_support_filter_lzma, "lzma"},
    Compressor{".lz", ARCHIVE_FILTER_LZIP, archive_read_support_filter_lzip, "lz"},
    Compressor{".lz4", ARCHIVE_FILTER_LZ4, archive_read_support_filter_lz4, "lz4"},
    Compressor{".zst", ARCHIVE_FILTER_ZSTD, archive_read_support_filter_zstd, "zst"},
    Compressor{".Z", ARCHIVE_FILTER_COMPRESS, archive_read_support_filter_compress, "Z"},
};

// Whether this build of libarchive decompresses `c` in-process: a support
// function answers ARCHIVE_WARN when it would run an external program
// (lz4, zstd, lzip, ... in builds without the library).
bool in_process(const Compressor& c) {
  static const auto native = [] {
    std::array<bool, kCompressors.size()> out{};
    for (size_t i = 0; i < kCompressors.size(); ++i) {
      struct archive* probe = archive_read_new();
      out[i] = probe != nullptr && kCompressors[i].support(probe) == ARCHIVE_OK;
      archive_read_free(probe);
    }
    return out;
  }();
  return native[static_cast<size_t>(&c - kCompressors.data())];
}

const Compressor* compressor_for_type(std::string_view detected_type) {
  for (const Compressor& c : kCompressors) {
    if (c.type == detected_type) return &c;
  }
  return nullptr;
}

const Compressor* compressor_for_code(int code) {
  for (const Compressor& c : kCompressors) {
    if (c.code == code) return &c;
  }
  return nullptr;
}

// The compressor of a stream, from its magic bytes (ARCHIVE_FILTER_NONE if
// none of ours).
int sniff_compressor(std::string_view head) {
  auto starts = [&](std::string_view magic) { return head.starts_with(magic); };
  if (starts("\x1f\x8b")) return ARCHIVE_FILTER_GZIP;
  if (starts("BZh")) return ARCHIVE_FILTER_BZIP2;
  if (starts(std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6))) return ARCHIVE_FILTER_XZ;
  if (starts("\x28\xb5\x2f\xfd")) return ARCHIVE_FILTER_ZSTD;
  if (starts("\x04\x22\x4d\x18")) return ARCHIVE_FILTER_LZ4;
  if (starts("LZIP")) return ARCHIVE_FILTER_LZIP;
  if (starts(std::string_view("\x5d\0\0", 3))) return ARCHIVE_FILTER_LZMA;
  return ARCHIVE_FILTER_NONE;
}

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

// An rpm is a header and a compressed cpio payload; which compressor is
// named in the header, so read the payload's first bytes through the rpm
// filter alone and look.
int rpm_payload_compressor(std::string_view data) {
  ArchivePtr a(archive_read_new());
  struct archive_entry* e = nullptr;
  char head[8];
  if (!a || archive_read_append_filter(a.get(), ARCHIVE_FILTER_RPM) != ARCHIVE_OK ||
      archive_read_support_format_raw(a.get()) != ARCHIVE_OK ||
      archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &e) != ARCHIVE_OK) {
    return ARCHIVE_FILTER_NONE;
  }
  la_ssize_t n = archive_read_data(a.get(), head, sizeof head);
  return n > 0 ? sniff_compressor(std::string_view(head, static_cast<size_t>(n)))
               : ARCHIVE_FILTER_NONE;
}

bool iends_with(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - suffix.size(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
}

// "x.tar.gz" -> "x.tar", "x.tgz" -> "x.tar"; a name without a known suffix
// is kept as it is (banned-name rules still see what the sender called it).
std::string stream_child_name(std::string_view declared) {
  struct Suffix {
    std::string_view from, to;
  };
  static constexpr Suffix kSuffixes[] = {
      {".tgz", ".tar"}, {".taz", ".tar"},  {".tbz2", ".tar"}, {".tbz", ".tar"}, {".txz", ".tar"},
      {".tlz", ".tar"}, {".tzst", ".tar"}, {".gz", ""},       {".bz2", ""},     {".xz", ""},
      {".lzma", ""},    {".lz4", ""},      {".lz", ""},       {".zst", ""},     {".z", ""},
  };
  for (const Suffix& s : kSuffixes) {
    if (declared.size() > s.from.size() && iends_with(declared, s.from)) {
      return std::string(declared.substr(0, declared.size() - s.from.size())) + std::string(s.to);
    }
  }
  return std::string(declared);
}

// Structure only (no overlong or surrogate checks): enough to tell UTF-8
// names from legacy code pages.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;
    if (len == 0 || len > s.size() - i) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// Member names as UTF-8, best effort: libarchive's conversion when it has
// one, else the raw bytes, read as Latin-1 when they are not UTF-8.
std::string entry_name(struct archive_entry* entry) {
  if (const char* utf8 = archive_entry_pathname_utf8(entry)) return utf8;
  const char* raw = archive_entry_pathname(entry);
  if (raw == nullptr) return {};
  std::string_view bytes(raw);
  if (valid_utf8(bytes)) return std::string(bytes);
  std::string out;
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xc0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3f));
    }
  }
  return out;
}

std::string format_short_name(struct archive* a) {
  for (int i = 0; i < archive_filter_count(a); ++i) {
    if (archive_filter_code(a, i) == ARCHIVE_FILTER_RPM) return "rpm";
  }
  switch (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) {
    case ARCHIVE_FORMAT_ZIP:
      return "zip";
    case ARCHIVE_FORMAT_7ZIP:
      return "7z";
    case ARCHIVE_FORMAT_RAR:
      return "rar";
    case ARCHIVE_FORMAT_RAR_V5:
      return "rar5";
    case ARCHIVE_FORMAT_TAR:
      return "tar";
    case ARCHIVE_FORMAT_CPIO:
      return "cpio";
    case ARCHIVE_FORMAT_ISO9660:
      return "iso";
    case ARCHIVE_FORMAT_CAB:
      return "cab";
    case ARCHIVE_FORMAT_LHA:
      return "lha";
    case ARCHIVE_FORMAT_AR:
      return "ar";
    default:
      return "unknown";
  }
}

// Error text for `problem`: printable ASCII, bounded (it reaches logs).
std::string printable(const char* text, size_t max = 200) {
  std::string out;
  for (const char* p = text ? text : "unknown error"; *p != '\0' && out.size() < max; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

// libarchive 3.6.2 reads RAR5 headers but does not flag encrypted RAR5
// members (its reader skips the encryption record; upstream PR 2096 fixes
// that), so they would look damaged. This walks the RAR5 block headers
// (www.rarlab.com/technote.htm), no decompression, to find them.
struct Rar5Encryption {
  bool headers = false;         // an archive encryption header: nothing is listable
  std::set<std::string> files;  // names of members with a file encryption record
};

// Bounds-checked reads; any overrun clears ok() and yields zeros.
class ByteReader {
 public:
  explicit ByteReader(std::string_view d) : d_(d) {}
  bool ok() const { return ok_; }
  size_t left() const { return d_.size() - pos_; }
  uint64_t vint() {  // 7 bits a byte, low first, at most 10 bytes
    uint64_t v = 0;
    for (int shift = 0; shift < 70 && ok_; shift += 7) {
      if (pos_ >= d_.size()) break;
      unsigned char c = static_cast<unsigned char>(d_[pos_++]);
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) return v;
    }
    ok_ = false;
    return 0;
  }
  std::string_view bytes(uint64_t n) {
    if (!ok_ || n > left()) {
      ok_ = false;
      return {};
    }
    std::string_view out = d_.substr(pos_, n);
    pos_ += n;
    return out;
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
  bool ok_ = true;
};

Rar5Encryption rar5_encryption(std::string_view data, int max_blocks) {
  constexpr std::string_view kSignature("Rar!\x1a\x07\x01\x00", 8);
  Rar5Encryption out;
  size_t sig = data.find(kSignature);  // after an SFX stub, too
  if (sig == std::string_view::npos) return out;
  ByteReader r(data.substr(sig + kSignature.size()));
  for (int block = 0; block < max_blocks && r.ok() && r.left() > 0; ++block) {
    r.bytes(4);  // header CRC32
    ByteReader h(r.bytes(r.vint()));
    uint64_t type = h.vint(), flags = h.vint();
    uint64_t extra_size = (flags & 0x1) ? h.vint() : 0;
    uint64_t data_size = (flags & 0x2) ? h.vint() : 0;
    if (!r.ok() || !h.ok()) break;
    if (type == 4) {  // archive encryption header
      out.headers = true;
      break;
    }
    if (type == 5) break;  // end of archive
    if (type == 2 && extra_size > 0 && extra_size <= h.left()) {
      uint64_t file_flags = h.vint();
      h.vint();                          // unpacked size
      h.vint();                          // attributes
      if (file_flags & 0x2) h.bytes(4);  // mtime
      if (file_flags & 0x4) h.bytes(4);  // data CRC32
      h.vint();                          // compression
      h.vint();                          // host OS
      std::string_view name = h.bytes(h.vint());
      if (!h.ok() || extra_size > h.left()) break;
      h.bytes(h.left() - extra_size);
      while (h.ok() && h.left() > 0) {
        ByteReader record(h.bytes(h.vint()));
        if (record.vint() == 0x1 && record.ok()) {  // file encryption record
          out.files.emplace(name);
          break;
        }
      }
    }
    r.bytes(data_size);
  }
  return out;
}

// One decode() call: the libarchive handle and what happened so far.
class Extraction {
 public:
  Extraction(const ArchiveDecoderLimits& limits, std::string_view data, const Part& part,
             ChildSink& sink, std::string& problem)
      : limits_(limits), data_(data), part_(part), sink_(sink), problem_(problem) {}

  DecodeStatus run();

 private:
  enum class Copy { kDone, kStopped, kFailed, kFatal };

  bool open();
  // Handles one entry; false when the extraction must end, with
  // `stop_status` set when it ends for a limit rather than damage.
  bool entry(struct archive_entry* entry, DecodeStatus& stop_status);
  Copy copy_data(ChildWriter& writer);
  bool encrypted(struct archive_entry* entry, const std::string& name);
  bool headers_encrypted();
  const Rar5Encryption* rar5();
  // Records trouble; `problem` keeps the first.
  void note(std::string_view what, std::string_view detail);
  std::string kind() const;

  const ArchiveDecoderLimits& limits_;
  std::string_view data_;
  const Part& part_;
  ChildSink& sink_;
  std::string& problem_;
  const Compressor* stream_ = nullptr;  // a single compressed stream
  ArchivePtr a_;
  std::vector<char> buffer_;
  std::optional<Rar5Encryption> rar5_;
  bool damaged_ = false;
  bool encrypted_ = false;
};

// What the container is, for `problem` and ChildInfo::decoder: what
// libarchive found once it found something, else what the part was detected as.
std::string Extraction::kind() const {
  if (a_) {
    if (stream_) return std::string(stream_->name);
    if (archive_format(a_.get()) != 0) return format_short_name(a_.get());
  }
  std::string_view t = part_.detected_type;
  if (!t.empty() && t.front() == '.') t.remove_prefix(1);
  return t.empty() ? "archive" : std::string(t);
}

void Extraction::note(std::string_view what, std::string_view detail) {
  if (problem_.empty()) problem_ = std::string(what) + " " + kind() + ": " + std::string(detail);
}

const Rar5Encryption* Extraction::rar5() {
  if (stream_ || archive_format(a_.get()) != ARCHIVE_FORMAT_RAR_V5 ||
      archive_read_has_encrypted_entries(a_.get()) != ARCHIVE_READ_FORMAT_ENCRYPTION_UNSUPPORTED) {
    return nullptr;
  }
  if (!rar5_) rar5_ = rar5_encryption(data_, limits_.max_headers);
  return &*rar5_;
}

bool Extraction::encrypted(struct archive_entry* e, const std::string& name) {
  if (archive_entry_is_encrypted(e)) return true;
  const Rar5Encryption* r = rar5();
  return r != nullptr && r->files.contains(name);
}

bool Extraction::headers_encrypted() {
  if (archive_read_has_encrypted_entries(a_.get()) > 0) return true;
  const Rar5Encryption* r = rar5();
  return r != nullptr && (r->headers || !r->files.empty());
}

bool Extraction::open() {
  // The filter chain, innermost last: see kCompressors for why it is
  // never left to bidding.
  std::vector<const Compressor*> chain;
  bool rpm = false;
  if (stream_) {
    chain.push_back(stream_);
  } else if (part_.detected_type == ".rpm") {
    rpm = true;
    int payload = rpm_payload_compressor(data_);
    if (payload != ARCHIVE_FILTER_NONE) chain.push_back(compressor_for_code(payload));
  }
  for (const Compressor* c : chain) {
    if (!in_process(*c)) {
      note("damaged", "libarchive cannot read " + std::string(c->type) + " in-process");
      return false;
    }
  }

  a_.reset(archive_read_new());
  if (!a_) {
    note("damaged", "cannot allocate a libarchive reader");
    return false;
  }
  struct archive* a = a_.get();
  bool ok = !rpm || archive_read_append_filter(a, ARCHIVE_FILTER_RPM) == ARCHIVE_OK;
  for (const Compressor* c : chain) {
    if (c->code == ARCHIVE_FILTER_COMPRESS) {
      // Appending compress crashes libarchive 3.6.2 (its init reads the
      // header before the chain has a source), so .Z alone is bid for,
      // with nothing else to bid and its magic checked first; the chain is
      // then bounded by libarchive's cap of 25 filters.
      if (data_.size() < 3 || !data_.starts_with("\x1f\x9d")) {  // magic, flags
        note("damaged", "not a .Z stream");
        return false;
      }
      ok = ok && c->support(a) == ARCHIVE_OK;
    } else {
      ok = ok && archive_read_append_filter(a, c->code) == ARCHIVE_OK;
    }
  }
  if (stream_) {
    ok = ok && archive_read_support_format_raw(a) == ARCHIVE_OK;
  } else {
    for (SupportFn fn : kContainerFormats) ok = ok && fn(a) == ARCHIVE_OK;
    // Rock Ridge off: libarchive 3.6.2 follows a Rock Ridge continuation
    // (CE) loop until memory runs out and aborts the process (fixed
    // upstream in PR 3021; libarchive's test_read_format_iso_rockridge_ce_loop).
    // Names then come from Joliet or plain ISO 9660.
    ok = ok && archive_read_set_options(a, "iso9660:!rockridge") == ARCHIVE_OK;
  }
  // A large part on disk is read from its file: reading the mapping would
  // fault all of it into memory. The descriptor is the part's own (its
  // offset is ours to move; other readers use pread).
  const int fd = part_.content.fd();
  if (ok && fd >= 0 && ::lseek(fd, 0, SEEK_SET) != 0) {
    note("damaged", std::string("cannot read the part's file: ") + std::strerror(errno));
    return false;
  }
  ok = ok && (fd < 0 ? archive_read_open_memory(a, data_.data(), data_.size())
                     : archive_read_open_fd(a, fd, kFileBlockBytes)) == ARCHIVE_OK;
  if (!ok) {
    note("damaged", printable(archive_error_string(a)));
    return false;
  }
  return true;
}

DecodeStatus Extraction::run() {
  stream_ = compressor_for_type(part_.detected_type);
  if (data_.empty()) {
    note("damaged", "empty input");
    return DecodeStatus::kDamaged;
  }
  if (!open()) return DecodeStatus::kDamaged;
  buffer_.resize(std::max<size_t>(limits_.block_size, 512));

  int retries = 0;
  for (int headers = 0;; ++headers) {
    if (sink_.stopped()) return DecodeStatus::kStopped;
    if (headers >= limits_.max_headers) {
      problem_ = "more than " + std::to_string(limits_.max_headers) + " entries in " + kind();
      return DecodeStatus::kStopped;
    }
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(a_.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_RETRY || r == ARCHIVE_FAILED) {
      if (++retries < limits_.max_retries_in_a_row) continue;
      damaged_ = true;
      note("damaged", printable(archive_error_string(a_.get())));
      break;
    }
    retries = 0;
    if (r == ARCHIVE_FATAL || e == nullptr) {
      // 7z, rar and zip with encrypted headers end here: nothing to list.
      bool locked = headers_encrypted();
      (locked ? encrypted_ : damaged_) = true;
      note(locked ? "encrypted" : "damaged", printable(archive_error_string(a_.get())));
      break;
    }
    // ARCHIVE_OK, or ARCHIVE_WARN (e.g. a name not convertible to the
    // locale): the entry is usable.
    DecodeStatus stop_status = DecodeStatus::kOk;
    if (!entry(e, stop_status)) {
      if (stop_status != DecodeStatus::kOk) return stop_status;
      break;
    }
  }
  // Encrypted wins over damaged: content we cannot see matters more to
  // policy than content we saw partly.
  if (encrypted_) return DecodeStatus::kEncrypted;
  return damaged_ ? DecodeStatus::kDamaged : DecodeStatus::kOk;
}

bool Extraction::entry(struct archive_entry* e, DecodeStatus& stop_status) {
  struct archive* a = a_.get();
  // Directories, symlinks, devices carry no content; 0 is a format that
  // does not say (then it is content).
  auto type = archive_entry_filetype(e);
  if (type != AE_IFREG && type != 0) return true;
  bool has_size = archive_entry_size_is_set(e) != 0;
  if (archive_entry_hardlink(e) != nullptr && (!has_size || archive_entry_size(e) <= 0)) {
    return true;  // a hard link to a member emitted before
  }

  ChildInfo info;
  info.decoder = "libarchive/" + kind();
  if (stream_) {
    if (!part_.declared_names.empty()) info.name = stream_child_name(part_.declared_names.front());
  } else {
    info.name = entry_name(e);
  }
  info.encrypted = !stream_ && encrypted(e, info.name);
  if (has_size) info.declared_size = archive_entry_size(e);

  std::unique_ptr<ChildWriter> writer = sink_.begin_child(info);
  if (!writer) {
    stop_status = DecodeStatus::kStopped;
    return false;
  }
  if (info.encrypted) {
    // Content unknown: the child stands for it; libarchive skips the data.
    writer->finish();
    encrypted_ = true;
    return true;
  }
  Copy c = copy_data(*writer);
  writer->finish();
  switch (c) {
    case Copy::kDone:
      return true;
    case Copy::kStopped:
      stop_status = DecodeStatus::kStopped;
      return false;
    case Copy::kFailed:
    case Copy::kFatal:
      damaged_ = true;
      note("damaged", info.name + ": " + printable(archive_error_string(a)));
      return c == Copy::kFailed;  // ARCHIVE_FAILED: the next member may still be readable
  }
  return false;
}

Extraction::Copy Extraction::copy_data(ChildWriter& writer) {
  // Each round either writes at least one byte (bounded by the sink's byte
  // quota) or ends; archive_read_data answers 0 only at the member's end.
  for (;;) {
    if (sink_.stopped()) return Copy::kStopped;
    la_ssize_t n = archive_read_data(a_.get(), buffer_.data(), buffer_.size());
    if (n == 0) return Copy::kDone;
    if (n < 0) return n == ARCHIVE_FATAL ? Copy::kFatal : Copy::kFailed;
    if (!writer.write(std::string_view(buffer_.data(), static_cast<size_t>(n)))) {
      return Copy::kStopped;
    }
  }
}

class ArchiveDecoder final : public Decoder {
 public:
  explicit ArchiveDecoder(ArchiveDecoderLimits limits) : limits_(limits) {}

  std::string_view name() const override { return "libarchive"; }

  std::vector<std::string> types() const override {
    std::vector<std::string> out(kContainerTypes.begin(), kContainerTypes.end());
    for (const Compressor& c : kCompressors) {
      if (in_process(c)) out.emplace_back(c.type);
    }
    return out;
  }

  DecodeStatus decode(std::string_view data, const Part& part, ChildSink& sink,
                      std::string& problem) const override {
    try {
      return Extraction(limits_, data, part, sink, problem).run();
    } catch (const std::exception& e) {
      problem = std::string("libarchive decoder: ") + e.what();
    } catch (...) {
      problem = "libarchive decoder: unknown exception";
    }
    return DecodeStatus::kDamaged;
  }

 private:
  ArchiveDecoderLimits limits_;
};

}  // namespace

std::shared_ptr<const Decoder> make_archive_decoder(ArchiveDecoderLimits limits) {
  return std::make_shared<ArchiveDecoder>(limits);
}

}  // namespace filterd::decoders
