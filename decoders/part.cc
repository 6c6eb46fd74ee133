// part.cc — see part.h. Mapped contents own their temp file: the last copy
// unmaps it and unlinks it, so a decoded member never outlives its message.
#include "decoders/part.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace filterd::decoders {

struct PartContent::Holder {
  Holder() = default;
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;
  ~Holder() {
    if (map != nullptr) munmap(map, map_size);
    if (fd >= 0) close(fd);
    if (!path.empty()) unlink(path.c_str());
  }

  std::string owned;  // owned() bytes
  void* map = nullptr;
  size_t map_size = 0;
  std::string path;  // mapped_file(): the file to delete
  int fd = -1;       // mapped_file(): the file, open, for readers of the whole part
};

PartContent PartContent::view(std::string_view bytes) {
  PartContent c;
  c.bytes_ = bytes;
  return c;
}

PartContent PartContent::owned(std::string bytes) {
  PartContent c;
  c.holder_ = std::make_shared<Holder>();
  c.holder_->owned = std::move(bytes);
  c.bytes_ = c.holder_->owned;
  return c;
}

PartContent PartContent::mapped_file(std::string path) {
  PartContent c;
  // The holder owns the path from here on, also on failure: the caller
  // handed the temp file over and must not leak it.
  c.holder_ = std::make_shared<Holder>();
  c.holder_->path = std::move(path);
  int fd = open(c.holder_->path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) close(fd);
    c.ok_ = false;
    return c;
  }
  if (st.st_size > 0) {
    size_t size = static_cast<size_t>(st.st_size);
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      close(fd);
      c.ok_ = false;
      return c;
    }
    c.holder_->map = map;
    c.holder_->map_size = size;
    c.bytes_ = std::string_view(static_cast<const char*>(map), size);
    c.holder_->fd = fd;  // kept: see fd()
    return c;
  }
  close(fd);
  return c;
}

int PartContent::fd() const {
  if (!holder_ || holder_->map == nullptr) return -1;
  const bool whole = bytes_.data() == holder_->map && bytes_.size() == holder_->map_size;
  return whole ? holder_->fd : -1;
}

std::string Part::label() const {
  std::string out = path;
  if (!declared_names.empty() && !declared_names.front().empty()) {
    if (!out.empty()) out += ' ';
    // Names come from the sender: no control characters into log lines.
    for (unsigned char c : declared_names.front()) {
      out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace filterd::decoders
