// decoder.h — the decoder plugin interface and registry. A Decoder unpacks
// one kind of container (an archive format, TNEF, ...) into child parts.
// Adding a format is one file with one Decoder and one registration in
// builtin_decoders.cc.
//
// Decoders never enforce limits themselves: every child goes through the
// ChildSink, which counts files, bytes, depth and time and says when to
// stop. A decoder must stop as soon as the sink says so and must treat its
// input as hostile (bounded loops, no trust in declared sizes).
//
// Thread safety: decoders are stateless and shared by all workers; decode()
// is called concurrently.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decoders/part.h"

namespace filterd::decoders {

// What a decoder knows about a child before writing its bytes.
struct ChildInfo {
  std::string name;              // member name inside the container, "" if none
  std::string declared_type;     // MIME type if the container says one
  std::string decoder;           // e.g. "libarchive/zip"
  bool encrypted = false;        // content cannot be read (password)
  long long declared_size = -1;  // as claimed by the container; not trusted
};

// Receives a child's bytes piece by piece (large members go to a temp file).
class ChildWriter {
 public:
  virtual ~ChildWriter() = default;
  // False once a limit is hit: stop writing, call finish() anyway.
  virtual bool write(std::string_view bytes) = 0;
  virtual void finish() = 0;
};

class ChildSink {
 public:
  virtual ~ChildSink() = default;
  // Starts a child of the part being decoded. nullptr means a limit was hit
  // (too many files, depth, time): the decoder must return at once.
  virtual std::unique_ptr<ChildWriter> begin_child(const ChildInfo& info) = 0;
  // True when the decoder should give up (a limit was hit meanwhile).
  virtual bool stopped() const = 0;
};

enum class DecodeStatus {
  kOk,         // all members extracted
  kDamaged,    // corrupt or truncated container; what could be read was emitted
  kEncrypted,  // (some) members are encrypted
  kStopped,    // the sink stopped us
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Short name for --print-decoders and logs: "libarchive", "tnef".
  virtual std::string_view name() const = 0;
  // Detected types (amavis short names, e.g. ".zip") this decoder unpacks.
  virtual std::vector<std::string> types() const = 0;
  // Unpacks `data` (the bytes of `part`) into children through `sink`.
  // `problem` may be set to a short human description of trouble.
  virtual DecodeStatus decode(std::string_view data, const Part& part, ChildSink& sink,
                              std::string& problem) const = 0;
};

class DecoderRegistry {
 public:
  // Registers a decoder for every type it lists. A later registration for
  // the same type replaces an earlier one.
  void add(std::shared_ptr<const Decoder> decoder);
  // Declares that parts of this type are unpacked by someone else (ClamAV's
  // own parsers on the raw part), so they are not "undecodable".
  void add_external(std::string type, std::string who);
  // The decoder for a detected type, or nullptr.
  const Decoder* find(std::string_view detected_type) const;
  bool is_external(std::string_view detected_type) const;
  // type -> decoder name (or "clamav (external)"), for --print-decoders.
  std::map<std::string, std::string> table() const;

 private:
  std::vector<std::shared_ptr<const Decoder>> owned_;
  std::map<std::string, const Decoder*, std::less<>> by_type_;
  std::map<std::string, std::string, std::less<>> external_;
};

// All decoders filterd ships (libarchive, TNEF, ...), and the container
// types left to ClamAV.

DecoderRegistry builtin_decoders();

}  // namespace filterd::decoders
