// bad_header.h — amavis's BAD-HEADER checks on a message's header section:
// what is wrong with it, as minor categories an admin can switch one by one.
//
//   8bit      a byte above 127 in a header field (RFC 5322 §2.2; allowed
//             only with SMTPUTF8, RFC 6532)
//   control   a control character other than TAB (RFC 5322 §3.2.5)
//   empty     a continuation line with nothing but white space (RFC 5322
//             §3.2.2 obsolete folding, often used to hide fields)
//   long      a line longer than 998 characters (RFC 5322 §2.1.1)
//   syntax    a line in the header section that is no field (no colon,
//             bad field name)
//   missing   no From: or no Date: (RFC 5322 §3.6)
//   multiple  a singleton field more than once (RFC 5322 §3.6 table)
//   mime      a MIME syntax error found by the parser (bad Content-Type,
//             multipart without boundary, ...), from the decoder
//
// Pure: bytes in, findings out. The policy layer turns the first finding
// into the BAD-HEADER category (the lowest blocking category but OVERSIZED).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace filterd::policy {

struct BadHeaderChecks {
  bool eight_bit = true, control = true, empty = true, long_line = true, syntax = true,
       missing = true, multiple = true, mime = true;
  bool smtputf8 = false;  // the envelope said SMTPUTF8: 8-bit headers are allowed
};

struct BadHeader {
  std::string minor;   // "8bit", "control", ...
  std::string detail;  // "Subject", "line 12 is 1043 characters", ...
};

// Checks the header section of `message`. `mime_problems` are the MIME
// parser's complaints (decoders' Part::problem), reported as "mime".
std::vector<BadHeader> check_headers(std::string_view message, const BadHeaderChecks& checks,
                                     const std::vector<std::string>& mime_problems = {});

}  // namespace filterd::policy
