// mail_text.h — the text of mail filterd writes itself (notices, DSNs):
// values from a message made safe to embed, unstructured header fields
// with RFC 2047 encoding, and bodies in CRLF lines of at most 998 bytes.
//
// Security: everything here may be fed bytes from the network; no output
// line can end anywhere but in CRLF, and one_line_utf8() output contains
// no line break at all (nor anything a mail reader might show as one).
// Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace filterd::policy {

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4: no
// overlongs, no surrogates, at most U+10FFFF), its code point in `cp`;
// 0 if ill-formed. REQUIRES: i < s.size().
size_t utf8_sequence(std::string_view s, size_t i, char32_t& cp);

// C0 and C1 controls (CR, LF and TAB included), DEL, the Unicode line and
// paragraph separators, and the invisible direction marks and overrides
// used to disguise text.
bool hidden_control(char32_t cp);

// `value` as one line of well-formed UTF-8: each run of hidden_control()
// characters becomes one space, each ill-formed byte "?"; then cut to at
// most `limit` bytes between UTF-8 sequences, ending in "..." when cut.
std::string one_line_utf8(std::string_view value, size_t limit);

bool is_ascii(std::string_view s);

// "NAME: value\r\n" as an unstructured field (RFC 5322 §3.2.5): the value
// through one_line_utf8(), white space runs collapsed, folded at 78
// columns; as RFC 2047 B encoded words (UTF-8, at most 75 characters, lines
// of at most 76, never splitting a UTF-8 sequence) when it has non-ASCII
// text, "=?", or a word too long to fold.
std::string unstructured_field(std::string_view name, std::string_view value);

// `text` with every line ending in CRLF (LF, CR and CRLF all end a line)
// and no line over 998 bytes (RFC 5322 §2.1.1): longer lines are wrapped at
// the last space, else split between UTF-8 sequences. Non-empty output
// ends in CRLF.
std::string crlf_text(std::string_view text);

// The first Subject field of `message`, unfolded and decoded from RFC 2047
// to UTF-8 (still hostile: pass it through one_line_utf8()). "" if none.
std::string original_subject(std::string_view message);

}  // namespace filterd::policy
