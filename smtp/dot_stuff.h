// dot_stuff.h — writing message content into the DATA phase (RFC 5321
// §4.5.2): every line end becomes CRLF (a bare LF or bare CR too, so that a
// next hop that would take "\n.\n" as end of data cannot be smuggled past),
// a line starting with "." gets another ".", and the ".\r\n" terminator is
// added by finish().
#pragma once

#include <string>
#include <string_view>

namespace filterd::smtp {

class DotStuffer {
 public:
  // Appends the stuffed form of `chunk` to `out`. Chunks may split lines
  // anywhere, including between CR and LF.
  void add(std::string_view chunk, std::string& out);

  // Appends a final CRLF if the content did not end with one, then ".\r\n".
  void finish(std::string& out);

 private:
  bool line_start_ = true;
  bool pending_cr_ = false;  // saw CR, waiting to see whether LF follows
};

// Convenience: the whole stuffed DATA body of `message` including ".\r\n".
std::string dot_stuff(std::string_view message);

}  // namespace filterd::smtp
