// part.h — one piece of a message after decoding: a MIME leaf, an archive
// member, a uuencoded block... with where it came from, what it claims to
// be, what it really is, and its decoded bytes.
//
// Paths follow amavis: the message's top-level parts are p001, p002, ...;
// the children of p002 are p002/p001, p002/p002, ... .
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace filterd::decoders {

// Decoded bytes: a view into the original message (no transfer encoding),
// bytes in memory, or a temp file mapped into memory (large members).
// Copyable; shares ownership. The view form must not outlive the message.
class PartContent {
 public:
  PartContent() = default;
  static PartContent view(std::string_view bytes);
  static PartContent owned(std::string bytes);
  // Maps `path` (which the PartContent then owns and deletes). Returns an
  // empty content with ok() == false if the file cannot be mapped.
  static PartContent mapped_file(std::string path);

  // A sub-range sharing this content's ownership (a MIME body inside a
  // decoded message/rfc822 part stays valid as long as the slice lives).
  PartContent slice(size_t offset, size_t length) const {
    PartContent c = *this;
    c.bytes_ = bytes_.substr(offset, length);
    return c;
  }

  std::string_view bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }
  // An open descriptor of the temp file that holds exactly bytes() (a
  // mapped_file, not a slice of one), or -1: a reader of the whole part can
  // read the file a window at a time (pread; the offset is not to be relied
  // on) instead of faulting every page of the mapping into memory. Valid as
  // long as this content or a copy lives.
  int fd() const;
  bool ok() const { return ok_; }

 private:
  struct Holder;
  std::shared_ptr<Holder> holder_;
  std::string_view bytes_;
  bool ok_ = true;
};

struct Part {
  std::string path;                         // "p003/p001"
  int parent = -1;                          // index in DecodeResult::parts, -1 for top level
  int depth = 0;                            // 1 for top-level MIME parts
  std::string declared_type;                // lower-case MIME type, "" if none
  std::vector<std::string> declared_names;  // decoded (UTF-8) file names, as declared
  std::string detected_type;                // amavis-style short type: ".zip", ".exe-ms"
  std::string decoder;                      // what produced it: "mime", "base64", "libarchive/zip"
  PartContent content;
  bool encrypted = false;     // an encrypted archive member (content unknown)
  bool has_children = false;  // a container we unpacked
  std::string problem;        // decoding trouble, for --parts and logs
  // For a MIME part of the message itself (parent -1) other than the whole
  // message: the entity, header and body, as offsets in the message (the
  // line end before the next delimiter excluded). Both 0 otherwise.
  size_t entity_begin = 0, entity_end = 0;

  // "p002/p001 clam.exe" — for logs and verdicts.
  std::string label() const;
};

}  // namespace filterd::decoders
