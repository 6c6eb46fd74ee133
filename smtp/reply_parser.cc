// reply_parser.cc — see reply_parser.h.
#include "smtp/reply_parser.h"

#include <cctype>

namespace filterd::smtp {
namespace {

// Splits "2.1.0 Ok" into status and text when the line starts with a status
// code whose class matches the reply code (RFC 2034 §4).
void split_status(int code, std::string_view text, std::string& status, std::string& rest) {
  size_t sp = text.find(' ');
  std::string_view first = text.substr(0, sp);
  if (checked_status(code, first) == first) {
    status = std::string(first);
    rest = sp == std::string_view::npos ? "" : std::string(text.substr(sp + 1));
  } else {
    status.clear();
    rest = std::string(text);
  }
}

}  // namespace

std::expected<void, std::string> ReplyParser::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      if (partial_.size() + bytes.size() > kMaxLine) return std::unexpected("reply line too long");
      partial_.append(bytes);
      return {};
    }
    std::string_view piece = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    if (partial_.size() + piece.size() > kMaxLine) return std::unexpected("reply line too long");
    partial_.append(piece);
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    std::string l = std::move(partial_);
    partial_.clear();
    if (auto r = line(l); !r) return r;
  }
  return {};
}

std::expected<void, std::string> ReplyParser::line(std::string_view l) {
  if (l.size() < 3 || !std::isdigit(static_cast<unsigned char>(l[0])) ||
      !std::isdigit(static_cast<unsigned char>(l[1])) ||
      !std::isdigit(static_cast<unsigned char>(l[2])) || l[0] < '2' || l[0] > '5') {
    return std::unexpected("malformed reply line");
  }
  if (l.size() > 3 && l[3] != ' ' && l[3] != '-') return std::unexpected("malformed reply line");
  int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
  if (lines_ > 0 && code != current_.code) return std::unexpected("inconsistent multi-line reply");
  if (++lines_ > kMaxLines) return std::unexpected("too many reply lines");
  std::string status, text;
  split_status(code, l.size() > 4 ? l.substr(4) : std::string_view(), status, text);
  if (lines_ == 1) {
    current_.code = code;
    current_.status = status;
    current_.text = text;
  } else {
    current_.text += '\n';
    current_.text += text;
  }
  const bool last = l.size() == 3 || l[3] == ' ';
  if (last) {
    ready_.push_back(std::move(current_));
    current_ = Reply{};
    lines_ = 0;
  }
  return {};
}

Reply ReplyParser::pop() {
  Reply r = std::move(ready_.front());
  ready_.pop_front();
  last_text_ = r.text;
  return r;
}

}  // namespace filterd::smtp
