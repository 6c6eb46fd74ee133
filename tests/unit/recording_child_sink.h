// recording_child_sink.h — a ChildSink for decoder tests: keeps every
// child's info and bytes, and plays the limits a real sink enforces (child
// count, total bytes) so tests can prove that decoders stop when told.
#pragma once

#include <cstddef>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "decoders/decoder.h"

namespace filterd::decoders::testing {

class RecordingChildSink : public ChildSink {
 public:
  struct Child {
    ChildInfo info;
    std::string bytes;
    bool finished = false;
  };

  size_t max_children = std::numeric_limits<size_t>::max();
  size_t max_total_bytes = std::numeric_limits<size_t>::max();

  std::vector<Child> children;
  size_t write_calls_after_stop = 0;  // a decoder that ignores "stop" shows here
  bool overlapping_children = false;  // begin_child while another was open

  std::unique_ptr<ChildWriter> begin_child(const ChildInfo& info) override {
    if (open_) overlapping_children = true;
    if (stopped_ || children.size() >= max_children) {
      stopped_ = true;
      return nullptr;
    }
    children.push_back({info, "", false});
    open_ = true;
    return std::make_unique<Writer>(*this, children.size() - 1);
  }
  bool stopped() const override { return stopped_; }

  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& c : children) n.push_back(c.info.name);
    return n;
  }

 private:
  class Writer : public ChildWriter {
   public:
    Writer(RecordingChildSink& sink, size_t index) : sink_(sink), index_(index) {}
    bool write(std::string_view bytes) override {
      if (sink_.stopped_) {
        ++sink_.write_calls_after_stop;
        return false;
      }
      size_t room = sink_.max_total_bytes - sink_.total_bytes_;
      if (bytes.size() > room) {
        sink_.children[index_].bytes.append(bytes.substr(0, room));
        sink_.total_bytes_ += room;
        sink_.stopped_ = true;
        return false;
      }
      sink_.children[index_].bytes.append(bytes);
      sink_.total_bytes_ += bytes.size();
      return true;
    }
    void finish() override {
      sink_.children[index_].finished = true;
      sink_.open_ = false;
    }

   private:
    RecordingChildSink& sink_;
    size_t index_;
  };

  bool stopped_ = false;
  bool open_ = false;
  size_t total_bytes_ = 0;
};

// The whole file, or "" if it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A file of the shared test corpus, by its path under ../shared/corpus.
inline std::string corpus(const std::string& relative) {
  return read_file(std::string(FILTERD_CORPUS_DIR) + "/" + relative);
}

}  // namespace filterd::decoders::testing
