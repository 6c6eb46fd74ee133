// text_internal.h — the pieces build_message_text is made of, shared by
// spam/text*.cc and their tests; not part of the spam library's contract.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "spam/text.h"

namespace filterd::spam::detail {

// Message::Node::_normalize: text in `charset` to UTF-8 — valid UTF-8 is
// kept whatever the label, ISO-8859-1 is read as Windows-1252, and text that
// fits no charset is kept as bytes (as SpamAssassin keeps it). `chars` says
// which: Perl then has a character string (UTF-8 here) or a byte string.
struct PerlText {
  std::string text;
  bool chars = false;
};
PerlText normalize_charset(std::string_view bytes, std::string_view charset);

// Perl's upgrade of a byte string (each byte is U+0000..U+00FF) to UTF-8,
// and back when every character fits in a byte (nullopt if one does not).
std::string latin1_to_utf8(std::string_view bytes);
std::optional<std::string> utf8_to_latin1(std::string_view utf8);

// Mail::SpamAssassin::HTML rendered text (UTF-8 in, UTF-8 out) and the
// links of href/src/action/background/meta refresh, resolved against
// <base href>, before canonicalisation.
struct HtmlRendering {
  std::string text;
  std::vector<std::string> uris;
  HtmlFacts facts;
};
HtmlRendering render_html(std::string_view html);

// HTML::Entities::decode (UTF-8 out): "&#NNN;", "&#xHH;", "&name;".
std::string decode_entities(std::string_view in);

// PerMsgStatus::_process_text_uri_list over the rendered body lines: each
// link found, made absolute ("http://www.x", "mailto:a@b").
std::vector<std::string> find_text_uris(const std::vector<std::string>& body_lines,
                                        const std::unordered_set<std::string>* tlds);

// Util::uri_list_canonicalize for one URI (hard-coded redirector only):
// adds the URI and its variants to `out`.
void canonicalize_uri(std::string_view uri, const std::unordered_set<std::string>* tlds,
                      std::set<std::string>& out);

// RegistryBoundaries::uri_to_domain found a registrable domain (or an IP
// address) in `uri`: links parsed from text count only if one variant has.
bool uri_has_valid_domain(std::string_view uri, const std::unordered_set<std::string>* tlds);

// The header fields of a header section, with raw and decoded values.
std::vector<TextHeader> parse_text_headers(std::string_view section);

// Message::Node::_decode_header for field `name`.
std::string decode_header_value(std::string_view value, std::string_view name);

// Util::parse_header_addresses: (display name, address) pairs of a header.
struct HeaderAddress {
  std::optional<std::string> phrase;
  std::optional<std::string> address;
};
std::vector<HeaderAddress> parse_header_addresses(std::string_view value);

// Perl's \s on a Unicode string, at `s[i]`: the length of the whitespace
// character there (1..3 bytes), 0 if none.
size_t unicode_space_at(std::string_view s, size_t i);

}  // namespace filterd::spam::detail
