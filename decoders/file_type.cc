// file_type.cc — see file_type.h. The mapping follows amavis's
// @map_full_type_to_short_type_maps: patterns on file(1)'s description,
// first match wins; the MIME type is the fallback.
#include "decoders/file_type.h"

#include <fcntl.h>
#include <magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

namespace filterd::decoders {
namespace {

// libmagic reads at most this much of a part (its own default is 1 MiB).
constexpr size_t kMagicBytes = 1 << 20;

struct Rule {
  const char* pattern;  // "|"-separated substrings of the description; "^x$" = exactly x
  const char* type;
};

// Order matters: specific before general (OOXML before zip, PE before text).
constexpr Rule kRules[] = {
    {"^empty$", ".empty"},
    {"Microsoft Word 2007", ".docx"},
    {"Microsoft Excel 2007", ".xlsx"},
    {"Microsoft PowerPoint 2007", ".pptx"},
    {"Microsoft OOXML", ".docx"},
    {"OpenDocument", ".odt"},
    {"Java archive", ".zip"},
    {"Zip archive|ZIP archive|Zip data", ".zip"},
    {"7-zip archive", ".7z"},
    {"RAR archive|RAR5 archive", ".rar"},
    {"POSIX tar|GNU tar|tar archive", ".tar"},
    {"cpio archive", ".cpio"},
    {"ISO 9660", ".iso"},
    {"Microsoft Cabinet", ".cab"},
    {"LHa|LHarc|LHA", ".lha"},
    {"Debian binary package", ".deb"},
    {"current ar archive", ".ar"},
    {"RPM", ".rpm"},
    {"xar archive", ".xar"},
    {"gzip compressed", ".gz"},
    {"bzip2 compressed", ".bz2"},
    {"XZ compressed", ".xz"},
    {"LZMA compressed", ".lzma"},
    {"lzip compressed", ".lz"},
    {"LZ4 compressed", ".lz4"},
    {"Zstandard compressed", ".zst"},
    {"compress'd data", ".Z"},
    {"ARJ archive", ".arj"},
    {"Zoo archive", ".zoo"},
    {"ACE archive", ".ace"},
    {"ARC archive data", ".arc"},
    {"ZPAQ", ".zpaq"},
    {"lzop compressed", ".lzo"},
    {"LRZIP compressed", ".lrz"},
    {"rzip compressed", ".rz"},
    {"Transport Neutral Encapsulation Format", ".tnef"},
    {"BinHex", ".hqx"},
    {"uuencoded", ".uue"},
    {"MS Windows HtmlHelp", ".chm"},
    {"PE32 executable|PE32+ executable|MS-DOS executable|MS Windows|PE32", ".exe-ms"},
    {"ELF ", ".elf"},
    {"Mach-O", ".macho"},
    {"compiled Java class", ".class"},
    {"PDF document", ".pdf"},
    {"Composite Document File|CDF V2|Microsoft Office Document|OLE 2", ".doc"},
    {"Rich Text Format", ".rtf"},
    {"RFC 822 mail|SMTP mail|news or mail|MIME entity|mail text", ".mail"},
    {"HTML document", ".html"},
    {"XML", ".xml"},
    {"JPEG image", ".jpg"},
    {"PNG image", ".png"},
    {"GIF image", ".gif"},
    {"PC bitmap", ".bmp"},
    {"TIFF image", ".tif"},
    {"MS Windows icon", ".ico"},
    {"MPEG ADTS, layer III|Audio file with ID3", ".mp3"},
    {"WAVE audio", ".wav"},
    {"AVI", ".avi"},
    {"MPEG sequence|MPEG transport", ".mpg"},
    {"ASCII text|UTF-8 Unicode|ISO-8859 text|Unicode text|^text$| text", ".txt"},
};

bool matches(std::string_view description, std::string_view pattern) {
  while (!pattern.empty()) {
    size_t bar = pattern.find('|');
    std::string_view alt = pattern.substr(0, bar);
    pattern = bar == std::string_view::npos ? std::string_view() : pattern.substr(bar + 1);
    if (alt.size() >= 2 && alt.front() == '^' && alt.back() == '$') {
      if (description == alt.substr(1, alt.size() - 2)) return true;
    } else if (description.find(alt) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// libmagic's compiled database, mapped once for the process. magic_load()
// maps the file again for every handle, one per worker thread, and touches
// all of it: 8 MB more RSS per thread. The pages are the same page cache
// pages, so PSS and real memory did not grow, but RSS (what admins and the
// benchmarks watch) counted them once per thread. magic_load_buffers()
// reads the buffer it is given, so every handle shares this one mapping.
// Empty when the database is not one compiled file in this machine's byte
// order (a text magic file with entries of its own, e.g. a local
// /etc/magic): handles then load the default way.
class MagicDatabase {
 public:
  static const MagicDatabase& get() {
    // Never unmapped: a thread's handle may still read it while the process
    // exits, after function-local statics are destroyed.
    static const MagicDatabase* const db = new MagicDatabase;
    return *db;
  }
  void* data() const { return data_; }
  size_t size() const { return size_; }

  MagicDatabase(const MagicDatabase&) = delete;
  MagicDatabase& operator=(const MagicDatabase&) = delete;

 private:
  MagicDatabase() {
    std::string compiled;
    std::string_view paths = magic_getpath(nullptr, 0);  // "/etc/magic:/usr/share/misc/magic"
    while (!paths.empty()) {
      const size_t colon = paths.find(':');
      const std::string path(paths.substr(0, colon));
      paths = colon == std::string_view::npos ? std::string_view() : paths.substr(colon + 1);
      if (has_entries(path)) return;
      if (compiled.empty() && ::access((path + ".mgc").c_str(), R_OK) == 0)
        compiled = path + ".mgc";
    }
    if (!compiled.empty()) map(compiled);
  }

  // A text magic file with a line that is not a comment.
  static bool has_entries(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      const size_t c = line.find_first_not_of(" \t\r");
      if (c != std::string::npos && line[c] != '#') return true;
    }
    return false;
  }

  void map(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 8) {
      // Read-only: libmagic only reads a database in this machine's byte
      // order; one in the other order it would byte-swap in place, once per
      // handle, so such a database is left to magic_load().
      void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        uint32_t magic = 0;
        std::memcpy(&magic, p, sizeof magic);
        if (magic == kNativeMagic) {
          data_ = p;
          size_ = static_cast<size_t>(st.st_size);
        } else {
          munmap(p, static_cast<size_t>(st.st_size));
        }
      }
    }
    ::close(fd);
  }

  // The first word of a compiled magic file in this machine's byte order
  // (libmagic's MAGICNO).
  static constexpr uint32_t kNativeMagic = 0xF11E041C;

  void* data_ = nullptr;
  size_t size_ = 0;
};

// One libmagic handle per thread and flag set: libmagic handles are not
// thread-safe.
class MagicHandle {
 public:
  explicit MagicHandle(int flags) : cookie_(magic_open(flags | MAGIC_ERROR)) {
    if (cookie_ != nullptr && load() != 0) {
      magic_close(cookie_);
      cookie_ = nullptr;
    }
  }
  ~MagicHandle() {
    if (cookie_ != nullptr) magic_close(cookie_);
  }
  MagicHandle(const MagicHandle&) = delete;
  MagicHandle& operator=(const MagicHandle&) = delete;
  std::string run(std::string_view data) {
    if (cookie_ == nullptr) return {};
    const char* r = magic_buffer(cookie_, data.data(), std::min(data.size(), kMagicBytes));
    return r != nullptr ? r : "";
  }

 private:
  int load() {
    const MagicDatabase& db = MagicDatabase::get();
    if (db.data() == nullptr) return magic_load(cookie_, nullptr);
    void* buffers[] = {db.data()};
    size_t sizes[] = {db.size()};
    return magic_load_buffers(cookie_, buffers, sizes, 1);
  }

  magic_t cookie_;
};

}  // namespace

std::span<const std::string_view> container_types() {
  static constexpr std::string_view kContainers[] = {
      ".zip", ".7z",  ".rar",  ".tar", ".cpio", ".iso", ".cab",  ".lha", ".ar", ".deb", ".rpm",
      ".xar", ".gz",  ".bz2",  ".xz",  ".lzma", ".lz",  ".lz4",  ".zst", ".Z",  ".arj", ".zoo",
      ".ace", ".arc", ".zpaq", ".lzo", ".lrz",  ".rz",  ".tnef", ".hqx", ".uue"};
  return kContainers;
}

bool is_container_type(std::string_view t) {
  auto all = container_types();
  return std::find(all.begin(), all.end(), t) != all.end();
}

std::string short_type_for(std::string_view description, std::string_view mime_type) {
  for (const Rule& r : kRules) {
    if (matches(description, r.pattern)) return r.type;
  }
  if (mime_type.starts_with("text/")) return ".asc";
  if (mime_type == "application/zip") return ".zip";
  return ".dat";
}

namespace {

// Most parts in mail are text. libmagic spends most of its time proving
// that (dozens of regex tests), so plain text is recognised here first:
// no NUL and almost only printable bytes in the head. Anything else, and
// text that could be a mail or an encoded file, goes to libmagic.
// `head` is lower-cased. Field lines (and continuations) up to a blank line;
// at least two fields, one of them a field every mail client knows.
bool looks_like_mail(std::string_view head) {
  static constexpr std::string_view kKnown[] = {
      "from:",     "to:",          "subject:",      "date:",         "message-id:",
      "received:", "return-path:", "mime-version:", "content-type:", "delivered-to:"};
  size_t pos = head.starts_with("from ") ? head.find('\n') + 1 : 0;
  int fields = 0;
  bool known = false;
  while (pos < head.size()) {
    size_t nl = head.find('\n', pos);
    if (nl == std::string_view::npos) return false;  // header section longer than the head
    std::string_view line = head.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (line.empty()) return fields >= 2 && known;
    if (line[0] == ' ' || line[0] == '\t') {
      if (fields == 0) return false;
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    for (char c : line.substr(0, colon)) {
      if (c <= ' ' || c > '~') return false;
    }
    ++fields;
    for (std::string_view k : kKnown) {
      if (line.starts_with(k)) known = true;
    }
  }
  return false;
}

std::optional<FileType> quick_text_type(std::string_view data) {
  constexpr size_t kHead = 8192;
  std::string_view raw = data.substr(0, kHead);
  std::string head(raw.size(), '\0');
  size_t odd = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c == 0) return std::nullopt;
    if (c < 32 && c != '\n' && c != '\r' && c != '\t' && c != '\f') ++odd;
    head[i] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  if (odd * 100 > head.size()) return std::nullopt;
  auto has = [&](std::string_view needle) { return head.find(needle) != std::string::npos; };
  // Leave the interesting text formats to libmagic.
  if (has("begin ") || has("=ybegin") || has("binhex") || has("{\\rtf") || has("%pdf") ||
      has("<?xml")) {
    return std::nullopt;
  }
  // A header section (field lines up to a blank line, with at least one
  // field a mail has) makes it a message, whatever libmagic would say about
  // a mail that does not start with From: or Received:.
  if (looks_like_mail(head)) {
    FileType t;
    t.short_type = ".mail";
    t.description = "RFC 822 mail text";
    t.mime_type = "message/rfc822";
    return t;
  }
  FileType t;
  if (has("<html") || has("<!doctype html") || has("<body")) {
    t.short_type = ".html";
    t.description = "HTML document text";
    t.mime_type = "text/html";
  } else {
    t.short_type = ".txt";
    t.description = "text";
    t.mime_type = "text/plain";
  }
  return t;
}

}  // namespace

FileType detect_type(std::string_view data) {
  FileType t;
  if (data.empty()) {
    t.short_type = ".empty";
    t.description = "empty";
    t.mime_type = "application/x-empty";
    return t;
  }
  if (auto quick = quick_text_type(data)) return *quick;
  // Don't look inside compressed data: a .gz is a .gz, its member is typed
  // after the decoder unpacks it.
  // One handle per thread, and no second one just for the MIME type: the
  // description is enough. (MAGIC_NO_CHECK_ENCODING would also switch off
  // libmagic's mail tests.)
  thread_local MagicHandle describe(MAGIC_NO_CHECK_COMPRESS);
  t.description = describe.run(data);
  t.mime_type =
      t.description.find("text") != std::string::npos ? "text/plain" : "application/octet-stream";
  t.short_type = short_type_for(t.description, t.mime_type);
  return t;
}

}  // namespace filterd::decoders
