// message_decoder.cc — see message_decoder.h.
#include "decoders/message_decoder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "decoders/file_type.h"
#include "decoders/transfer_encoding.h"

namespace filterd::decoders {
namespace {

using Clock = std::chrono::steady_clock;

std::string numbered(const std::string& prefix, int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "p%03d", n);
  return prefix + buf;
}

class Walker;

// Collects one child's bytes in memory, spilling to a temp file past the
// threshold; hands the finished part to the walker.
class PartWriter final : public ChildWriter {
 public:
  PartWriter(Walker& walker, Part part) : walker_(walker), part_(std::move(part)) {}
  ~PartWriter() override { finish(); }
  bool write(std::string_view bytes) override;
  void finish() override;

 private:
  bool spill();

  Walker& walker_;
  Part part_;
  std::string buf_;
  std::string temp_path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  bool ok_ = true;
  bool finished_ = false;
};

class Walker final : public ChildSink {
 public:
  Walker(std::string_view message, const DecodeLimits& limits, const DecoderRegistry& registry)
      : message_(message),
        limits_(limits),
        registry_(registry),
        quota_(limits.expansion_quota(message.size())),
        deadline_(Clock::now() + limits.time_budget) {}

  DecodeResult run() {
    add_mime(PartContent::view(message_), -1, 1, "");
    return std::move(result_);
  }

  // --- ChildSink
  std::unique_ptr<ChildWriter> begin_child(const ChildInfo& info) override {
    if (stopped()) return nullptr;
    const Part& parent = result_.parts[current_parent_];
    if (result_.parts.size() + 1 > limits_.max_files) {
      set_limit("max files (" + std::to_string(limits_.max_files) + ") exceeded", parent.label());
      return nullptr;
    }
    Part p;
    p.parent = current_parent_;
    p.depth = parent.depth + 1;
    p.path = numbered(parent.path + "/", ++child_count_[current_parent_]);
    if (!info.name.empty()) p.declared_names.push_back(info.name);
    p.declared_type = info.declared_type;
    p.decoder = info.decoder;
    p.encrypted = info.encrypted;
    return std::make_unique<PartWriter>(*this, std::move(p));
  }

  bool stopped() const override {
    if (!stopped_ && Clock::now() > deadline_) {
      stopped_ = true;
      if (result_.limit.empty()) {
        result_.limit =
            "time budget (" + std::to_string(limits_.time_budget.count()) + " ms) exceeded";
      }
    }
    return stopped_;
  }

  // --- for PartWriter
  bool take_bytes(uint64_t n, const Part& part, uint64_t part_size) {
    if (stopped()) return false;
    if (part_size > limits_.max_member_size) {
      set_limit("max member size (" + std::to_string(limits_.max_member_size) + ") exceeded",
                part.label());
      return false;
    }
    result_.decoded_bytes += n;
    if (result_.decoded_bytes > quota_) {
      set_limit("max expansion (" + std::to_string(quota_) + " bytes) exceeded", part.label());
      return false;
    }
    return true;
  }
  void add_child(Part part) {
    int index = add_part(std::move(part));
    pending_.push_back(index);
  }
  const DecodeLimits& limits() const { return limits_; }
  void temp_error(const std::string& what) {
    if (result_.temp_error.empty()) result_.temp_error = what;
  }

 private:
  int add_part(Part part) {
    result_.parts.push_back(std::move(part));
    child_count_.push_back(0);
    return static_cast<int>(result_.parts.size()) - 1;
  }

  void set_limit(const std::string& what, const std::string& where) {
    if (result_.limit.empty()) result_.limit = what + " in " + where;
    stopped_ = true;
  }

  void add_mime(const PartContent& content, int parent, int depth, const std::string& prefix) {
    const MimeTree tree = parse_mime(content.bytes(), limits_.mime);
    const std::string where = parent < 0 ? "message" : result_.parts[parent].label();
    if (!tree.truncated.empty()) set_limit(tree.truncated, where);
    int leaves = 0;
    for (const MimeEntity& e : tree.entities) {
      if (e.multipart && !e.problem.empty()) {
        result_.structure_problems.push_back(where + ": " + e.problem);
      }
      if (e.multipart || stopped_) continue;
      if (result_.parts.size() + 1 > limits_.max_files) {
        set_limit("max files (" + std::to_string(limits_.max_files) + ") exceeded", where);
        return;
      }
      Part part;
      part.path = numbered(prefix, ++leaves);
      part.parent = parent;
      part.depth = depth;
      part.declared_type = e.content_type;
      part.declared_names = e.filenames;
      part.problem = e.problem;
      if (parent < 0 && e.parent >= 0) {
        part.entity_begin = e.begin;
        part.entity_end = e.end;
      }
      const size_t body_len = e.end - e.body_begin;
      std::string_view body = content.bytes().substr(e.body_begin, body_len);
      if (e.transfer_encoding == "base64") {
        std::string out;
        if (decode_base64(body, out) > 0 && part.problem.empty()) part.problem = "junk in base64";
        part.decoder = "base64";
        part.content = PartContent::owned(std::move(out));
      } else if (e.transfer_encoding == "quoted-printable") {
        std::string out;
        decode_quoted_printable(body, out);
        part.decoder = "quoted-printable";
        part.content = PartContent::owned(std::move(out));
      } else {
        part.decoder = "mime";
        part.content = content.slice(e.body_begin, body_len);
      }
      if (parent >= 0) result_.parts[parent].has_children = true;
      int index = add_part(std::move(part));
      expand(index);
    }
  }

  void expand(int index) {
    if (stopped()) return;
    Part& p = result_.parts[index];
    p.detected_type = detect_type(p.content.bytes()).short_type;
    if (p.encrypted) return;
    const bool message = p.declared_type == "message/rfc822" ||
                         p.declared_type == "message/global" || p.detected_type == ".mail";
    const Decoder* decoder = message ? nullptr : registry_.find(p.detected_type);
    if (!message && decoder == nullptr) {
      if (is_container_type(p.detected_type) && !registry_.is_external(p.detected_type)) {
        result_.undecodable.push_back(p.label() + " (" + p.detected_type + ")");
      }
      return;
    }
    if (p.depth + 1 > limits_.max_depth) {
      set_limit("max depth (" + std::to_string(limits_.max_depth) + ") exceeded", p.label());
      return;
    }
    if (message) {
      // A message inside a message: its parts are this part's children.
      // Copies: add_mime appends parts, which may move `p`.
      const PartContent content = p.content;
      add_mime(content, index, p.depth + 1, p.path + "/");
      return;
    }
    // Decoders may append parts (reallocating the vector): work on a copy.
    const Part snapshot = p;
    const int saved_parent = current_parent_;
    std::vector<int> saved_pending = std::move(pending_);
    current_parent_ = index;
    pending_.clear();
    std::string problem;
    DecodeStatus status = decoder->decode(snapshot.content.bytes(), snapshot, *this, problem);
    std::vector<int> children = std::move(pending_);
    current_parent_ = saved_parent;
    pending_ = std::move(saved_pending);
    Part& after = result_.parts[index];
    if (!problem.empty()) after.problem = problem;
    after.has_children = !children.empty();
    if (status == DecodeStatus::kEncrypted) result_.encrypted.push_back(after.label());
    for (int child : children) {
      if (result_.parts[child].encrypted) result_.encrypted.push_back(result_.parts[child].label());
      expand(child);
    }
  }

  std::string_view message_;
  const DecodeLimits& limits_;
  const DecoderRegistry& registry_;
  const uint64_t quota_;
  const Clock::time_point deadline_;
  mutable DecodeResult result_;
  mutable bool stopped_ = false;
  std::vector<int> child_count_;
  int current_parent_ = -1;
  std::vector<int> pending_;
};

bool PartWriter::spill() {
  std::string tmpl = walker_.limits().temp_dir + "/filterd-part-XXXXXX";
  fd_ = ::mkstemp(tmpl.data());
  if (fd_ < 0) {
    walker_.temp_error("temp file in " + walker_.limits().temp_dir + ": " + std::strerror(errno));
    return false;
  }
  temp_path_ = tmpl;
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n <= 0) {
      walker_.temp_error("write " + temp_path_ + ": " + std::strerror(errno));
      return false;
    }
    off += static_cast<size_t>(n);
  }
  std::string().swap(buf_);
  return true;
}

bool PartWriter::write(std::string_view bytes) {
  if (!ok_ || finished_) return false;
  if (!walker_.take_bytes(bytes.size(), part_, size_ + bytes.size())) {
    ok_ = false;
    part_.problem = "truncated: limit reached";
    return false;
  }
  size_ += bytes.size();
  if (fd_ < 0 && buf_.size() + bytes.size() > walker_.limits().spill_threshold && !spill()) {
    ok_ = false;
    part_.problem = "truncated: temp file failed";
    return false;
  }
  if (fd_ < 0) {
    buf_.append(bytes);
    return true;
  }
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n <= 0) {
      walker_.temp_error("write " + temp_path_ + ": " + std::strerror(errno));
      ok_ = false;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void PartWriter::finish() {
  if (finished_) return;
  finished_ = true;
  if (fd_ >= 0) {
    ::close(fd_);
    part_.content = PartContent::mapped_file(temp_path_);
    if (!part_.content.ok() && part_.problem.empty())
      part_.problem = "temp file could not be mapped";
  } else {
    part_.content = PartContent::owned(std::move(buf_));
  }
  walker_.add_child(std::move(part_));
}

}  // namespace

uint64_t DecodeLimits::expansion_quota(uint64_t message_size) const {
  uint64_t hard = std::min(max_expansion_quota, message_size * max_expansion_factor);
  uint64_t floor = std::max(min_expansion_quota, message_size * min_expansion_factor);
  return std::max(hard, floor);
}

DecodeResult decode_message(std::string_view message, const DecodeLimits& limits,
                            const DecoderRegistry& registry) {
  return Walker(message, limits, registry).run();
}

}  // namespace filterd::decoders
