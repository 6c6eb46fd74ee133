// dot_stuff.cc — see dot_stuff.h.
#include "smtp/dot_stuff.h"

#include <cstring>

namespace filterd::smtp {

void DotStuffer::add(std::string_view chunk, std::string& out) {
  out.reserve(out.size() + chunk.size() + chunk.size() / 64 + 8);
  size_t i = 0;
  while (i < chunk.size()) {
    if (pending_cr_) {
      pending_cr_ = false;
      out += "\r\n";
      line_start_ = true;
      if (chunk[i] == '\n') {
        ++i;
        continue;
      }
    }
    if (line_start_ && chunk[i] == '.') out += '.';
    line_start_ = false;
    // Copy the run up to the next CR or LF in one go.
    size_t j = i;
    while (j < chunk.size() && chunk[j] != '\r' && chunk[j] != '\n') ++j;
    out.append(chunk.data() + i, j - i);
    if (j == chunk.size()) return;
    if (chunk[j] == '\n') {  // bare LF
      out += "\r\n";
      line_start_ = true;
    } else {
      pending_cr_ = true;
    }
    i = j + 1;
  }
}

void DotStuffer::finish(std::string& out) {
  if (pending_cr_ || !line_start_) out += "\r\n";
  pending_cr_ = false;
  line_start_ = true;
  out += ".\r\n";
}

std::string dot_stuff(std::string_view message) {
  std::string out;
  DotStuffer s;
  s.add(message, out);
  s.finish(out);
  return out;
}

}  // namespace filterd::smtp
