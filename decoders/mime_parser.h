// mime_parser.h — the MIME structure of a message (RFC 2045–2049) as a tree
// of entities whose bodies are offsets into the original bytes, so later
// edits can leave every untouched byte identical and nothing is copied.
//
// Tolerant like the mail clients users read with: LF or CRLF, obsolete
// header syntax, missing closing boundaries, a multipart without a
// boundary parameter (the boundary is taken from the first "--" line, as
// clients do), garbage around delimiters. Bounded like rspamd's parser:
// more than max_parts entities or deeper than max_nesting stops parsing
// and marks the tree truncated (a verdict input, never a crash).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace filterd::decoders {

struct MimeLimits {
  size_t max_parts = 1000;  // rspamd's default max MIME parts per message
  int max_nesting = 30;     // multipart inside multipart
};

// A structured header such as Content-Type or Content-Disposition.
struct ContentField {
  std::string value;  // lower-cased: "multipart/mixed", "attachment"
  // Lower-cased names; values unquoted, RFC 2231 continuations joined and
  // decoded, RFC 2047 encoded words decoded (clients do that for names).
  std::map<std::string, std::string> params;
};

// Parses "text/plain; charset=\"utf-8\" (comment); name*0=..." leniently.
ContentField parse_content_field(std::string_view raw_value);

struct MimeEntity {
  int parent = -1;                            // index in MimeTree::entities; -1 for the root
  int depth = 0;                              // 0 for the root
  size_t begin = 0, body_begin = 0, end = 0;  // offsets in the parsed text
  std::string content_type;                   // "text/plain" when absent (RFC 2045 §5.2)
  ContentField type_field, disposition;
  std::string transfer_encoding;       // lower-cased, trimmed; "" = 7bit
  std::vector<std::string> filenames;  // declared names, decoded to UTF-8
  bool multipart = false;
  std::vector<std::string> extra_boundaries;  // every boundary declared (evasion)
  std::vector<int> children;
  std::string problem;  // what was wrong, for --parts and bad-header checks

  bool is_message() const {
    return content_type == "message/rfc822" || content_type == "message/global";
  }
};

struct MimeTree {
  std::vector<MimeEntity> entities;  // entities[0] is the whole message
  std::string truncated;             // why parsing stopped early, "" if it did not
};

MimeTree parse_mime(std::string_view text, const MimeLimits& limits = {});

}  // namespace filterd::decoders
