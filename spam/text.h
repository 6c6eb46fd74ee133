// text.h — the texts SpamAssassin's rules look at, built from a raw message
// with SpamAssassin 4's semantics, so rules written for SpamAssassin match
// here exactly as they do there:
//   body     Message::get_rendered_body_text_array: the Subject as the first
//            line, then text/plain and text/html parts (HTML rendered to
//            text), each paragraph one line, lines cut at 2048 bytes;
//   rawbody  Message::get_decoded_body_text_array: decoded text parts,
//            markup kept, cut into chunks of 2048..4096 bytes;
//   full     the pristine message;
//   uris     PerMsgStatus::get_uri_list: links from the body text and HTML,
//            with Util::uri_list_canonicalize's variants;
//   headers  PerMsgStatus::get with its modifiers.
// Everything is UTF-8 where SpamAssassin decodes (normalize_charset 1, its
// default). Input is untrusted: every size is bounded (TextLimits) and no
// input makes the build fail; what was cut is recorded in `truncated`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace filterd::spam {

struct TextLimits {
  // SpamAssassin's body_part_scan_size and rawbody_part_scan_size defaults
  // (Conf.pm): each part's rendered/decoded text is cut near this size.
  size_t body_part_scan_size = 50000;
  size_t rawbody_part_scan_size = 500000;
  // MIME structure bounds (rspamd-like): more parts are not rendered.
  size_t max_parts = 1000;
  // At most this many URIs are kept (SpamAssassin has no bound; a hostile
  // message with millions of links must not cost millions of strings).
  size_t max_uris = 10000;
};

struct TextOptions {
  TextLimits limits;
  // Top-level domains that make a schemeless "example.com" a link
  // (util_rb_tld / util_rb_2tld from the rule files, lower case). Empty,
  // as in SpamAssassin without registry boundaries: only links with a
  // scheme or a www./ftp. prefix, and mail addresses, are found in text.
  const std::unordered_set<std::string>* tlds = nullptr;
  // SpamAssassin's parse_dkim_uris (default 1): "http://<d=>" per
  // DKIM-Signature/DomainKey-Signature is added to the URIs.
  bool parse_dkim_uris = true;
};

// A header field of the message or of a MIME part, as SpamAssassin keeps it.
struct TextHeader {
  std::string name;     // as written
  std::string raw;      // value as written (after "Name:"), folds kept
  std::string decoded;  // unfolded, trimmed, RFC 2047 words decoded to UTF-8
};

// What Mail::SpamAssassin::HTML records about one text/html part besides
// its text (HTMLEval's html_test, html_range, html_tag_exists ... read it).
struct HtmlFacts {
  std::map<std::string, int> inside;  // tag -> open count (present once seen)
  double length = 0;                  // characters of the HTML given to the parser
  double html_length = 0;             // characters of the rendered text
  double non_space_len = 0;           // ... that are not whitespace
  double image_area = 0;              // sum of <img width height> areas
  double max_size = 3, min_size = 3;  // font sizes seen
  // Ratios over all tags, when HTML.pm defines them.
  std::optional<double> closed_extra_ratio, bad_tag_ratio, non_element_ratio, obfuscation_ratio;
  std::vector<std::string> comment, title, anchor, script;
  bool font_low_contrast = false, font_invalid_color = false, font_face_bad = false,
       form_action_mailto = false, embeds = false;
  std::optional<std::string> charsets;  // <meta http-equiv=Content-Type> charsets

  // $html->{name} as a number (html_range, html_eval), nullopt if undefined.
  std::optional<double> number(std::string_view name) const;
  // $html->{name} is true (html_test).
  bool test(std::string_view name) const;
  // $html->{name} as a list of strings (html_text_match), nullptr if none.
  const std::vector<std::string>* strings(std::string_view name) const;
};

// Facts from the rendered parts that BodyEval reads.
struct RenderFacts {
  // _multipart_alternative_difference
  double madiff = 0;
  double madiff_html = 0, madiff_text = 0;
  // _check_stock_info: the "Label:" keys of the first text/plain part
  // (letters only, lower case), matched by the eval.
  std::vector<std::string> stock_labels;
};

class MessageText {
 public:
  std::string subject;               // decoded Subject, "" if none
  std::vector<std::string> body;     // each line ends in "\n" (but the last
                                     // one when the text did not)
  std::vector<std::string> rawbody;  // chunks as SpamAssassin gives them
  std::string_view full;             // the raw message; views the input
  std::vector<std::string> uris;     // unique, sorted
  std::vector<TextHeader> headers;   // the message's header, in order
  // Headers of every MIME leaf and multipart below the top (mimeheader
  // rules look at these; the top-level header is in `headers`).
  std::vector<std::vector<TextHeader>> part_headers;
  std::string truncated;  // what a limit cut, "" if nothing
  // Message metadata html_all: each rendered text/html part, in order.
  std::vector<HtmlFacts> html;
  RenderFacts render;

  // PerMsgStatus::get as a header rule sees it: the values joined by "\n"
  // (each ends in "\n" for plain header names, as SpamAssassin's do), or
  // nullopt when there is none (for `exists:` and `[if-unset: ...]`).
  // `request` is "Name", "Name:raw", "Name:addr", "Name:name",
  // "Name:first:addr" ..., or "ALL", "ALL:raw", "ToCc", "MESSAGEID",
  // "EnvelopeFrom" (from the Return-Path / X-Envelope-From headers here:
  // filterd passes the SMTP envelope sender through set_envelope_from).
  // Answers are remembered per request (the rules and evals of one message
  // ask for the same few fields again and again: From, To, ALL ...), so
  // the fields above must not change after the first get(); the setters
  // below forget them (a copy carries them along). Answers over 16 KiB are
  // not kept. Not for two threads at once.
  std::optional<std::string> get(std::string_view request) const;

  // mimeheader semantics: every value of header `name` in any MIME part
  // (decoded unless `raw`), in order.
  std::vector<std::string> get_mime_header(std::string_view name, bool raw) const;

  void set_envelope_from(std::string addr) {
    envelope_from_ = std::move(addr);
    answers_.clear();
  }

  // The relay path (received.h) as the pseudo-headers X-Spam-Relays-Trusted,
  // -Untrusted, -Internal, -External and ALL-TRUSTED, ALL-UNTRUSTED,
  // ALL-INTERNAL, ALL-EXTERNAL answer it; without it get() treats those
  // names as ordinary headers.
  struct RelayHeaders {
    std::string trusted, untrusted, internal, external;  // relay lists as strings
    int last_trusted_index = -1;                         // of the Received headers, from the top
    int last_internal_index = -1;
    // envfrom= of the last untrusted relay (else the first trusted one),
    // which EnvelopeFrom prefers to the header fields.
    std::optional<std::string> lasthop_envfrom;
  };
  void set_relays(RelayHeaders relays) {
    relays_ = std::move(relays);
    answers_.clear();
  }

 private:
  std::optional<std::string> lookup(std::string_view request) const;
  std::optional<std::string> envelope_from_;
  std::optional<RelayHeaders> relays_;
  std::optional<std::string> received_range(int start, int end, bool raw) const;
  mutable std::map<std::string, std::optional<std::string>, std::less<>> answers_;  // get()'s
};

// Builds the texts of `raw_message` (CRLF or LF line ends). `full` views
// `raw_message`, which must outlive the result.
MessageText build_message_text(std::string_view raw_message, const TextOptions& options = {});

}  // namespace filterd::spam
