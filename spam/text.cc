// text.cc — build_message_text: walks the MIME leaves as SpamAssassin's
// Message::find_parts does, decodes and renders each text part, and joins
// them into the body and rawbody arrays (Message.pm
// get_body_text_array_common / get_decoded_body_text_array).
#include "spam/text.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>

#include "decoders/header_block.h"
#include "decoders/mime_parser.h"
#include "decoders/transfer_encoding.h"
#include "spam/text_internal.h"

namespace filterd::spam {
namespace {

constexpr size_t kMaxBodyLineLength = 2048;  // Constants.pm MAX_BODY_LINE_LENGTH

std::string crlf_to_lf(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out += s[i];
  return out;
}

// Util::qp_decode: trailing blanks on a line are dropped (RFC 2045 §6.7
// rule 3) before soft line breaks and =XX are decoded.
std::string qp_decode(std::string_view in) {
  std::string s;
  s.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == ' ' || in[i] == '\t') {
      size_t k = i;
      while (k < in.size() && (in[k] == ' ' || in[k] == '\t')) ++k;
      const bool eol = k < in.size() &&
                       (in[k] == '\n' || (in[k] == '\r' && k + 1 < in.size() && in[k + 1] == '\n'));
      if (!eol) s.append(in.substr(i, k - i));
      i = k - 1;
      continue;
    }
    s += in[i];
  }
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out += s[i];
    } else if (i + 1 < s.size() && s[i + 1] == '\n') {
      i += 1;
    } else if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
      i += 2;
    } else if (i + 2 < s.size() && hex(s[i + 1]) && hex(s[i + 2])) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Message::Node::decode: the transfer decoding, CRLF made LF for text.
std::string decode_part(std::string_view body, const std::string& cte) {
  std::string out;
  if (cte == "quoted-printable") return crlf_to_lf(qp_decode(body));
  if (cte == "base64") {
    decoders::decode_base64(body, out);
    return crlf_to_lf(out);
  }
  return crlf_to_lf(body);
}

// Cuts a part's text near `scansize`, preferring a line end, then (raw
// only) a '>', then a space within 1 KiB after it.
void truncate_part(std::string& t, size_t scansize, bool raw) {
  if (!scansize || t.size() <= scansize) return;
  for (char c : raw ? std::string("\n> ") : std::string("\n ")) {
    size_t idx = t.find(c, scansize);
    if (idx != std::string::npos && idx - scansize <= 1024) {
      t.resize(idx + 1);
      return;
    }
  }
  t.resize(scansize);
}

// split_into_array_of_short_paragraphs: rawbody chunks of 2048..4096 bytes.
void split_paragraphs(const std::string& t, std::vector<std::string>& out) {
  const size_t max = kMaxBodyLineLength;
  if (t.size() <= max) {
    out.push_back(t);
    return;
  }
  size_t ofs = 0;
  for (; t.size() - ofs > 2 * max;) {
    size_t j = std::string::npos;
    for (char c : {'\n', '>', ' '}) {
      j = t.find(c, ofs + max);
      if (j != std::string::npos && j - ofs + 1 <= 2 * max) break;
      j = std::string::npos;
    }
    if (j == std::string::npos) j = ofs + max;
    out.push_back(t.substr(ofs, j - ofs + 1));
    ofs = j + 1;
  }
  if (ofs < t.size()) out.push_back(t.substr(ofs));
}

// split_into_array_of_short_lines: each line, cut at the last space before
// 2048 bytes (or at 2048).
void split_lines(const std::string& t, std::vector<std::string>& out) {
  for (size_t b = 0; b < t.size();) {
    size_t e = t.find('\n', b);
    e = e == std::string::npos ? t.size() : e + 1;
    std::string line = t.substr(b, e - b);
    while (line.size() > kMaxBodyLineLength) {
      size_t sp = line.rfind(' ', kMaxBodyLineLength);
      size_t len = sp == std::string::npos ? kMaxBodyLineLength : sp + 1;
      if (sp == 0) len = 1;
      out.push_back(line.substr(0, len));
      line.erase(0, len);
    }
    out.push_back(std::move(line));
    b = e;
  }
}

// get_body_text_array_common's whitespace rules: a blank line (newlines
// with only whitespace between) separates paragraphs; any other run of
// whitespace (Unicode's for a character string) becomes one space.
std::string squeeze_paragraphs(const std::string& t, bool unicode) {
  auto space_at = [&](size_t i) -> size_t {
    if (unicode) return detail::unicode_space_at(t, i);
    return t[i] == ' ' || (t[i] >= '\t' && t[i] <= '\r') ? 1 : 0;
  };
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size();) {
    size_t n = space_at(i);
    if (!n) {
      out += t[i++];
      continue;
    }
    size_t j = i, newlines = 0, last_nl = 0;
    while (j < t.size() && (n = space_at(j))) {
      if (t[j] == '\n') ++newlines, last_nl = j;
      j += n;
    }
    // "\n+\s*\n+": two newlines in the run; whitespace before the first
    // newline and after the last stays a separate space.
    if (newlines >= 2) {
      const size_t first_nl = t.find('\n', i);
      if (first_nl > i) out += ' ';
      out += '\n';
      if (j > last_nl + 1) out += ' ';
    } else {
      out += ' ';
    }
    i = j;
  }
  return out;
}

// Message->new: a run of more than 20 whitespace-only body lines is cut to
// 20 before the MIME parse (a padding trick against scanners).
std::string cut_blank_runs(std::string_view msg) {
  constexpr size_t kMaxBlankLines = 20;
  const size_t body = decoders::header_section_end(msg);
  std::string out(msg.substr(0, body));
  size_t blank_run = 0;
  for (size_t b = body; b < msg.size();) {
    size_t e = msg.find('\n', b);
    e = e == std::string_view::npos ? msg.size() : e + 1;
    const std::string_view line = msg.substr(b, e - b);
    const bool blank = line.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
    blank_run = blank ? blank_run + 1 : 0;
    if (blank_run <= kMaxBlankLines) out.append(line);
    b = e;
  }
  return out;
}

// A rendered text part (Node::rendered), for BodyEval.
struct Rendered {
  size_t entity;
  bool html;
  bool html_img;  // the HTML had an <img>
  std::string text;
};

// Words of a rendered text as split(/\s+/) and grep(/\w/) find them.
std::map<std::string, int> words(const std::string& t) {
  std::map<std::string, int> out;
  size_t i = 0;
  while (i < t.size()) {
    size_t n;
    while (i < t.size() && (n = detail::unicode_space_at(t, i))) i += n;
    size_t b = i;
    while (i < t.size() && !detail::unicode_space_at(t, i)) ++i;
    if (i > b &&
        std::any_of(t.begin() + static_cast<long>(b), t.begin() + static_cast<long>(i), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                 (static_cast<unsigned char>(c) & 0x80);
        }))
      ++out[t.substr(b, i - b)];
  }
  return out;
}

bool descends(const decoders::MimeTree& tree, size_t idx, size_t ancestor) {
  if (idx >= tree.entities.size()) return false;  // a part of an enclosed message
  for (int p = tree.entities[idx].parent, hops = 0; p >= 0 && hops < 1000;
       p = tree.entities[static_cast<size_t>(p)].parent, ++hops)
    if (static_cast<size_t>(p) == ancestor) return true;
  return false;
}

// BodyEval _check_stock_info's labels in a text: each line
// /^\s*([^:\s][^:\n]{2,29})\s*:\s*\S/, the label lower-cased, letters only.
std::vector<std::string> stock_labels(const std::string& t) {
  std::vector<std::string> out;
  for (size_t b = 0; b < t.size() && out.size() < 10000;) {
    size_t e = t.find('\n', b);
    if (e == std::string::npos) e = t.size();
    std::string_view line(t.data() + b, e - b);
    b = e + 1;
    size_t i = 0;
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const size_t colon = line.find(':', i);
    if (colon == std::string_view::npos || colon == i) continue;
    std::string_view label = line.substr(i, colon - i);
    while (!label.empty() && std::isspace(static_cast<unsigned char>(label.back())))
      label.remove_suffix(1);
    if (label.size() < 3 || label.size() > 30) continue;
    size_t v = colon + 1;
    while (v < line.size() && std::isspace(static_cast<unsigned char>(line[v]))) ++v;
    if (v >= line.size()) continue;
    std::string key;
    for (char c : label)
      if (std::isalpha(static_cast<unsigned char>(c)))
        key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.push_back(std::move(key));
  }
  return out;
}

RenderFacts render_facts(const decoders::MimeTree& tree, const std::vector<Rendered>& parts) {
  RenderFacts f;
  for (const auto& r : parts)
    if (!r.html) {
      f.stock_labels = stock_labels(r.text);
      break;
    }
  // Node::content_summary is (multipart/alternative, text/html, text/calendar)
  const auto& top = tree.entities.front();
  if (top.content_type == "multipart/alternative" && top.children.size() == 2 &&
      tree.entities[static_cast<size_t>(top.children[0])].content_type == "text/html" &&
      tree.entities[static_cast<size_t>(top.children[1])].content_type == "text/calendar")
    return f;
  for (size_t a = 0; a < tree.entities.size(); ++a) {
    if (tree.entities[a].content_type != "multipart/alternative") continue;
    std::map<std::string, int> html, text;
    for (const auto& r : parts) {
      if (!descends(tree, r.entity, a)) continue;
      auto w = words(r.text);
      auto& into = r.html ? html : text;
      for (auto& [k, v] : w) into[k] += v;
      if (r.html && html.empty() && r.html_img) html["\n"] = 1;
    }
    const double orig = static_cast<double>(html.size());
    if (orig == 0) continue;
    f.madiff_html = orig;
    f.madiff_text = static_cast<double>(text.size());
    for (const auto& [k, v] : text) {
      auto it = html.find(k);
      if (it != html.end() && it->second - v < 1) html.erase(it);
    }
    f.madiff = std::max(f.madiff, static_cast<double>(html.size()) / orig * 100);
  }
  return f;
}

}  // namespace

MessageText build_message_text(std::string_view raw, const TextOptions& options) {
  MessageText mt;
  mt.full = raw;
  const TextLimits& lim = options.limits;
  mt.headers = detail::parse_text_headers(raw);
  for (const auto& h : mt.headers)
    if (h.name.size() == 7 &&
        std::equal(h.name.begin(), h.name.end(), "subject",
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
      mt.subject = h.decoded;  // Message::get_header: the last one

  decoders::MimeLimits ml;
  ml.max_parts = lim.max_parts;
  const std::string cut = cut_blank_runs(raw);
  raw = cut;  // offsets below are into the cut text; `full` stays pristine
  const decoders::MimeTree tree = decoders::parse_mime(raw, ml);
  if (!tree.truncated.empty()) mt.truncated = "mime: " + tree.truncated;

  // Each part's rendering as Perl holds it: a character string (UTF-8
  // here) or a byte string; Perl's concatenation upgrades the byte strings
  // (as Latin-1) when one part is characters.
  std::vector<detail::PerlText> pieces;
  bool any_chars = false, nonempty = false;
  auto separate = [&] {
    if (nonempty) pieces.push_back({"\n", false});
  };
  std::vector<std::string> html_uris;
  std::vector<Rendered> rendered;  // each text/plain and text/html leaf
  // Message.pm's leaves in find_parts order; a message/rfc822 part is
  // parsed as a message of its own (Message::parse_body subparse, 20 deep).
  std::function<void(const decoders::MimeTree&, std::string_view, int)> walk;
  walk = [&](const decoders::MimeTree& tr, std::string_view src, int depth) {
    for (size_t idx = 0; idx < tr.entities.size(); ++idx) {
      const auto& e = tr.entities[idx];
      if (idx > 0 || depth > 0)
        mt.part_headers.push_back(detail::parse_text_headers(src.substr(e.begin, e.end - e.begin)));
      if (!e.children.empty() || e.multipart) continue;  // leaves only
      std::string type = e.content_type;
      // A multipart whose boundary never occurs is one text/plain part.
      if (type.starts_with("multipart/")) type = "text/plain";
      if ((type == "message/rfc822" || type == "message/global") && depth < 20) {
        const std::string inner = cut_blank_runs(
            decode_part(src.substr(e.body_begin, e.end - e.body_begin), e.transfer_encoding));
        if (!inner.empty()) {
          const decoders::MimeTree sub = decoders::parse_mime(inner, ml);
          if (!sub.entities.empty()) {
            walk(sub, inner, depth + 1);
            continue;
          }
        }
      }
      const size_t key = depth == 0 ? idx : static_cast<size_t>(-1);
      const auto name_it = e.type_field.params.find("name");
      std::string fname = name_it != e.type_field.params.end() ? name_it->second : "";
      if (fname.empty() && !e.filenames.empty()) fname = e.filenames.front();
      std::string lname = fname;
      for (char& c : lname) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lname.ends_with(".html") || lname.ends_with(".htm") || lname.ends_with(".shtml") ||
          lname.ends_with(".shtm"))
        type = "text/html";  // effective_type
      const bool textish = type.starts_with("text") || type.starts_with("message");
      if (!textish || e.content_type == "text/calendar") {
        separate();
        continue;
      }
      const std::string decoded =
          decode_part(src.substr(e.body_begin, e.end - e.body_begin), e.transfer_encoding);
      std::string rawpart = decoded;
      truncate_part(rawpart, lim.rawbody_part_scan_size, true);
      split_paragraphs(rawpart, mt.rawbody);

      separate();  // a blank line between parts
      if (type != "text/plain" && type != "text/html") continue;
      const auto cs = e.type_field.params.find("charset");
      detail::PerlText part = detail::normalize_charset(
          decoded, cs != e.type_field.params.end() ? cs->second : "us-ascii");
      if (type == "text/html" && !part.text.empty()) {
        // HTML::Parser reads a byte string as Latin-1; entities above U+00FF
        // make the result a character string.
        auto r = detail::render_html(part.chars ? part.text : detail::latin1_to_utf8(part.text));
        for (auto& u : r.uris) html_uris.push_back(std::move(u));
        const bool img = r.facts.inside.count("img") > 0;
        mt.html.push_back(std::move(r.facts));
        rendered.push_back({key, true, img, r.text});
        std::optional<std::string> bytes;
        if (!part.chars) bytes = detail::utf8_to_latin1(r.text);
        part = bytes ? detail::PerlText{std::move(*bytes), false}
                     : detail::PerlText{std::move(r.text), true};
      }
      if (type == "text/plain") rendered.push_back({key, false, false, part.text});
      truncate_part(part.text, lim.body_part_scan_size, false);
      any_chars |= part.chars;
      nonempty |= !part.text.empty();
      pieces.push_back(std::move(part));
    }
  };
  walk(tree, raw, 0);
  mt.render = render_facts(tree, rendered);
  std::string text;
  for (const auto& p : pieces)
    text += any_chars && !p.chars ? detail::latin1_to_utf8(p.text) : p.text;
  // Message.pm: "... || "\n"": a missing or empty Subject is an empty line.
  split_lines(mt.subject + "\n" + squeeze_paragraphs(text, any_chars), mt.body);

  std::set<std::string> uris;
  auto add = [&](const std::string& u) {
    if (uris.size() < lim.max_uris) detail::canonicalize_uri(u, options.tlds, uris);
  };
  for (const auto& u : detail::find_text_uris(mt.body, options.tlds)) {
    std::set<std::string> variants;  // add_uri_detail_list(..., valid_domain = 1)
    detail::canonicalize_uri(u, options.tlds, variants);
    if (std::any_of(variants.begin(), variants.end(), [&](const std::string& v) {
          return detail::uri_has_valid_domain(v, options.tlds);
        }))
      add(u);
  }
  for (const auto& u : html_uris) add(u);
  if (options.parse_dkim_uris) {
    for (const auto& h : mt.headers) {
      std::string n = h.name;
      for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (n != "dkim-signature" && n != "domainkey-signature") continue;
      for (size_t p = 0; (p = h.decoded.find("d", p)) != std::string::npos; ++p) {
        if (p > 0 &&
            (std::isalnum(static_cast<unsigned char>(h.decoded[p - 1])) || h.decoded[p - 1] == '_'))
          continue;
        size_t q = h.decoded.find_first_not_of(" \t", p + 1);
        if (q == std::string::npos || h.decoded[q] != '=') continue;
        std::string d;
        for (size_t k = q + 1; k < h.decoded.size() && h.decoded[k] != ';'; ++k)
          if (!std::isspace(static_cast<unsigned char>(h.decoded[k]))) d += h.decoded[k];
        if (!d.empty()) add("http://" + d);
      }
    }
  }
  if (uris.size() >= lim.max_uris && mt.truncated.empty()) mt.truncated = "uris: max_uris";
  mt.uris.assign(uris.begin(), uris.end());
  return mt;
}

}  // namespace filterd::spam
