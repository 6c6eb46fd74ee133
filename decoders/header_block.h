// header_block.h — the RFC 5322 header section of a raw message, as views
// into the original bytes (so nothing is copied and nothing is changed).
//
// Tolerant by design: LF or CRLF line ends, obsolete whitespace before the
// colon, a missing blank line (then the whole message is header). Decoding
// of encoded words and MIME structure is the MIME parser's job.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace filterd::decoders {

struct HeaderField {
  std::string_view name;  // as written, without trailing whitespace
  std::string_view raw;   // the whole field incl. continuation lines and line end
};

// Offset of the first body byte: just past the empty line that ends the
// header section, or msg.size() if there is none.
size_t header_section_end(std::string_view msg);

// The fields of the header section (up to header_section_end). A line that
// is neither a field nor a continuation ends the section early, as a mail
// reader would treat it (the rest is body).
std::vector<HeaderField> parse_header_fields(std::string_view msg);

// The unfolded, trimmed value of the first field named `name` (ASCII
// case-insensitive), or nullopt.
std::optional<std::string> header_value(std::string_view msg, std::string_view name);

// "\r\n" if the message's first line ends in CRLF, "\n" otherwise: header
// lines filterd adds use the message's own line ending.
std::string_view line_ending_of(std::string_view msg);

}  // namespace filterd::decoders
