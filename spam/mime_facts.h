// mime_facts.h — the per-message MIME facts SpamAssassin's MIMEEval plugin
// and Message.pm's parse flags describe, from a line-based re-statement of
// Message.pm's own MIME parser (so boundary, epilogue and header quirks
// count exactly as SpamAssassin counts them; filterd's decoders/ parser is
// more tolerant and would hide them).
//
// Input is untrusted: at most 1000 parts per multipart (Message.pm's own
// limit), 20 levels of message/rfc822 nesting, lines cut at 2048 bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace filterd::spam {

struct MimeFacts {
  // Message.pm parse flags (check_msg_parse_flags).
  bool missing_head_body_separator = false;
  bool missing_mime_head_body_separator = false;
  bool missing_mime_headers = false;
  bool mime_epilogue_exists = false;
  bool truncated_header = false;
  bool mimepart_limit_exceeded = false;

  // MIMEEval::_check_attachments (check_for_mime and friends).
  int base64_count = 0;
  bool base64_encoded_text = false;
  int body_html_count = 0;
  int body_text_count = 0;
  bool missing_boundary = false;
  bool multipart_alternative = false;
  double multipart_ratio = 1.0;
  double qp_count = 0;  // header count, replaced by QP sequence count
  bool qp_long_line = false;
  double qp_ratio = 0;
  int ascii_text_illegal = 0;
  double text_unicode_ratio = 0;
  int attachment = 0;                 // exists only when > 0
  bool bad_iso_charset = false;       // exists only when true
  std::vector<std::string> charsets;  // mime_html_charsets, lower case

  // check_ma_non_text: a direct leaf of a multipart/alternative is not text.
  bool ma_non_text = false;
  // _check_base64_length: longest raw line (with its "\n") of a base64 leaf.
  size_t base64_length = 0;
  // Node::content_summary is (multipart/alternative, text/html,
  // text/calendar): multipart_alternative_difference skips such messages.
  bool alternative_html_calendar = false;
  // The MIME types of every part in Node::find_parts order.
  std::vector<std::string> types;
};

// `raw_message`: the message as received (LF or CRLF).
MimeFacts compute_mime_facts(std::string_view raw_message);

// Util::parse_content_type's type: "text/plain" for a missing or unknown
// text/ type, lower case.
std::string sa_content_type(std::string_view value);

}  // namespace filterd::spam
