// transfer_encoding.h — RFC 2045 content transfer decodings, written to be
// fast and tolerant like the mail clients users read with: whatever a
// client would decode, we decode too (evasion is the attacker's first move).
#pragma once

#include <string>
#include <string_view>

namespace filterd::decoders {

// RFC 2045 §6.8 base64. Characters outside the alphabet (line ends, junk)
// are skipped; "=" ends a quantum, so concatenated encodings decode as a
// client would; missing padding is fine. Appends to `out`. Returns the
// number of input bytes that were not base64 (for diagnostics).
size_t decode_base64(std::string_view in, std::string& out);

// RFC 2045 §6.7 quoted-printable: =XX, soft line breaks (=CRLF, =LF,
// "=" followed by trailing blanks), invalid "=" sequences kept literally.
void decode_quoted_printable(std::string_view in, std::string& out);

// RFC 2047 encoded words ("=?utf-8?B?...?=") in a header value, decoded
// and converted to UTF-8; whitespace between adjacent encoded words is
// dropped (§6.2). Unknown charsets are passed through undecoded bytes.
std::string decode_encoded_words(std::string_view in);

// Converts `in` from `charset` to UTF-8 (iconv); returns `in` unchanged if
// the charset is unknown or the text is not valid in it.
std::string to_utf8(std::string_view in, std::string_view charset);

// RFC 2231 §4 extended value "charset'lang'%XX..." to UTF-8.
std::string decode_rfc2231_value(std::string_view in);

}  // namespace filterd::decoders
