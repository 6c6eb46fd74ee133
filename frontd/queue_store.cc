// queue_store.cc — see queue_store.h.
#include "frontd/queue_store.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <set>

namespace filterd::frontd {
namespace fs = std::filesystem;
namespace {

constexpr int kMaxIdAttempts = 100;

bool is_temp_name(const std::string& name) {
  return name.find(".tmp.") != std::string::npos;
}

}  // namespace

bool valid_queue_id(std::string_view id) {
  return id.size() == 12 && id.find_first_not_of("0123456789ABCDEF") == std::string_view::npos;
}

std::expected<QueueStore, std::string> QueueStore::open(const std::string& dir, SafeIo& io) {
  for (const char* sub : {"", "/queue", "/status", "/corrupt"}) {
    std::error_code ec;
    fs::create_directories(dir + sub, ec);
    if (ec) return std::unexpected("queue_directory " + dir + sub + ": " + ec.message());
    ::chmod((dir + sub).c_str(), 0700);  // mail is private
  }
  return QueueStore(dir, io);
}

std::string QueueStore::new_id() {
  static std::atomic<unsigned> counter{0};
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05X%05X%02X", static_cast<unsigned>(tv.tv_usec) & 0xFFFFF,
                static_cast<unsigned>(tv.tv_sec) & 0xFFFFF, counter.fetch_add(1) & 0xFF);
  return buf;
}

std::expected<void, IoError> QueueStore::enqueue(QueuedMessage& m) {
  if (!m.id.empty()) return io_->write_atomic(message_path(m.id), encode_message(m), true);
  for (int i = 0; i < kMaxIdAttempts; ++i) {
    m.id = new_id();
    auto r = io_->write_atomic(message_path(m.id), encode_message(m), true);
    if (r || r.error().error != EEXIST) return r;
  }
  return std::unexpected(IoError{EEXIST, "no free queue id"});
}

std::vector<QueueEntry> QueueStore::scan(std::vector<std::string>& problems) {
  return read_all(problems, true);
}

std::vector<QueueEntry> QueueStore::list(std::vector<std::string>& problems) {
  return read_all(problems, false);
}

std::vector<QueueEntry> QueueStore::read_all(std::vector<std::string>& problems, bool repair) {
  std::vector<QueueEntry> out;
  std::set<std::string> ids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_ + "/queue", ec)) {
    const std::string name = e.path().filename().string();
    if (is_temp_name(name)) {
      if (repair) fs::remove(e.path(), ec);
      continue;
    }
    if (!valid_queue_id(name)) {
      problems.push_back(name + ": not a queue file name, ignored");
      continue;
    }
    auto file = io_->read(e.path().string());
    if (!file) {
      problems.push_back(name + ": " + file.error().what);
      continue;  // unreadable now; maybe not later: leave it
    }
    auto m = parse_message(*file, true);
    if (m && m->id != name) m = std::unexpected("id " + m->id + " in file " + name);
    if (!m && !repair) {
      problems.push_back(name + ": corrupt queue file (" + m.error() + ")");
      continue;
    }
    if (!m) {
      auto moved = move_aside(name);
      problems.push_back(
          name + ": corrupt queue file (" + m.error() + "), " +
          (moved ? "moved to corrupt/" : "could not move it: " + moved.error().what));
      continue;
    }
    QueueEntry entry{std::move(*m), {}};
    if (auto st = io_->read(status_path(name))) {
      auto parsed = parse_status(*st);
      if (parsed) {
        entry.status = std::move(*parsed);
      } else {
        problems.push_back(name + ": bad status file (" + parsed.error() +
                           "), retrying every recipient");
      }
    }
    ids.insert(name);
    out.push_back(std::move(entry));
  }
  if (!repair) return out;
  for (const auto& e : fs::directory_iterator(dir_ + "/status", ec)) {
    const std::string name = e.path().filename().string();
    if (is_temp_name(name) || !ids.contains(name)) fs::remove(e.path(), ec);
  }
  return out;
}

std::expected<QueuedMessage, std::string> QueueStore::load(const std::string& id) {
  auto file = io_->read(message_path(id));
  if (!file) return std::unexpected(file.error().what);
  auto m = parse_message(*file);
  if (m && m->id != id) return std::unexpected("id " + m->id + " in file " + id);
  return m;
}

std::expected<void, IoError> QueueStore::save_status(const std::string& id, const QueueStatus& s) {
  return io_->write_atomic(status_path(id), encode_status(s), false);
}

std::expected<void, IoError> QueueStore::remove(const std::string& id) {
  if (auto r = io_->remove(message_path(id)); !r) return r;
  return io_->remove(status_path(id));
}

std::expected<void, IoError> QueueStore::move_aside(const std::string& id) {
  auto r = io_->move(message_path(id), dir_ + "/corrupt/" + id);
  if (r) (void)io_->remove(status_path(id));
  return r;
}

}  // namespace filterd::frontd
