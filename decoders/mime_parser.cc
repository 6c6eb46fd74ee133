// mime_parser.cc — see mime_parser.h.
#include "decoders/mime_parser.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "decoders/ascii.h"
#include "decoders/header_block.h"
#include "decoders/transfer_encoding.h"

namespace filterd::decoders {
namespace {

std::string lower(std::string_view s) {
  return ascii_lower(s);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Offset of the body in `entity`: after the header fields and the blank
// line that ends them; a line that is not a header field starts the body.
size_t body_offset(std::string_view entity) {
  size_t pos = 0;
  // An mbox "From " separator line before the header (as in saved mail).
  if (entity.starts_with("From ")) {
    size_t nl = entity.find('\n');
    pos = nl == std::string_view::npos ? entity.size() : nl + 1;
  }
  bool any = false;
  while (pos < entity.size()) {
    size_t nl = entity.find('\n', pos);
    size_t len = nl == std::string_view::npos ? entity.size() - pos : nl - pos + 1;
    std::string_view line = entity.substr(pos, len);
    if (line == "\n" || line == "\r\n") return pos + len;
    bool continuation = any && (line[0] == ' ' || line[0] == '\t');
    size_t colon = line.find(':');
    bool field = colon != std::string_view::npos && colon > 0 &&
                 std::none_of(line.begin(), line.begin() + colon, [](char c) {
                   return static_cast<unsigned char>(c) <= 32 && c != ' ' && c != '\t';
                 });
    if (!continuation && !field) return pos;
    any = true;
    pos += len;
  }
  return entity.size();
}

// Removes RFC 822 comments "(...)" outside quoted strings.
std::string strip_comments(std::string_view s) {
  std::string out;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      out += c;
      if (c == '\\' && i + 1 < s.size())
        out += s[++i];
      else if (c == '"')
        quoted = false;
    } else if (c == '"' && depth == 0) {
      quoted = true;
      out += c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

std::string unquote(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && v.front() == '"') {
    std::string out;
    for (size_t i = 1; i < v.size(); ++i) {
      if (v[i] == '\\' && i + 1 < v.size()) {
        out += v[++i];
      } else if (v[i] == '"') {
        break;
      } else {
        out += v[i];
      }
    }
    return out;
  }
  return std::string(v);
}

// Splits on ';' outside quotes.
std::vector<std::string_view> split_params(std::string_view s) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && quoted) {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == ';' && !quoted) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// Every value of parameter `name` in a structured field (duplicates kept).
std::vector<std::string> param_values(std::string_view raw, std::string_view name) {
  std::vector<std::string> out;
  std::string clean = strip_comments(raw);
  std::vector<std::string_view> items = split_params(clean);
  for (size_t i = 1; i < items.size(); ++i) {
    std::string_view item = trim(items[i]);
    size_t eq = item.find('=');
    if (eq != std::string_view::npos && lower(trim(item.substr(0, eq))) == name) {
      std::string v = unquote(item.substr(eq + 1));
      if (!v.empty()) out.push_back(std::move(v));
    }
  }
  return out;
}

// Where a delimiter line for `boundary` starts at or after `from` (at a
// line start), or npos. Sets `close` for "--boundary--" and `line_end` to
// the first byte after the delimiter line.
size_t find_delimiter(std::string_view text, size_t from, std::string_view boundary, bool& close,
                      size_t& line_end) {
  const std::string marker = "--" + std::string(boundary);
  size_t pos = from;
  while (pos < text.size()) {
    size_t at = text.find(marker, pos);
    if (at == std::string_view::npos) return at;
    pos = at + 1;
    if (at != 0 && text[at - 1] != '\n') continue;  // must start a line
    size_t after = at + marker.size();
    close = text.substr(after, 2) == "--";
    size_t rest = after + (close ? 2 : 0);
    // RFC 2046 §5.1.1: only transport padding may follow; a longer
    // boundary that merely starts with ours does not count.
    size_t eol = text.find('\n', rest);
    std::string_view tail = text.substr(rest, eol == std::string_view::npos ? eol : eol - rest);
    if (!close && !trim(tail).empty()) continue;
    line_end = eol == std::string_view::npos ? text.size() : eol + 1;
    return at;
  }
  return std::string_view::npos;
}

// The end of a part's body: the CRLF before the delimiter belongs to the
// delimiter (RFC 2046 §5.1.1).
size_t body_end_before(std::string_view text, size_t delimiter_start, size_t part_start) {
  size_t end = delimiter_start;
  if (end > part_start && text[end - 1] == '\n') --end;
  if (end > part_start && text[end - 1] == '\r') --end;
  return end;
}

class Parser {
 public:
  Parser(std::string_view text, const MimeLimits& limits) : text_(text), limits_(limits) {}

  MimeTree run() {
    parse_entity(0, text_.size(), -1, 0, "text/plain");
    return std::move(tree_);
  }

 private:
  void parse_entity(size_t begin, size_t end, int parent, int depth,
                    std::string_view default_type) {
    if (tree_.entities.size() >= limits_.max_parts) {
      if (tree_.truncated.empty()) {
        tree_.truncated = "more than " + std::to_string(limits_.max_parts) + " MIME parts";
      }
      return;
    }
    const int index = static_cast<int>(tree_.entities.size());
    tree_.entities.emplace_back();
    if (parent >= 0) tree_.entities[parent].children.push_back(index);
    MimeEntity e;
    e.parent = parent;
    e.depth = depth;
    e.begin = begin;
    e.end = end;
    std::string_view entity = text_.substr(begin, end - begin);
    e.body_begin = begin + body_offset(entity);
    std::string_view headers = text_.substr(begin, e.body_begin - begin);
    read_headers(headers, default_type, e);
    if (e.multipart) {
      if (depth >= limits_.max_nesting) {
        e.problem = "multipart nested deeper than " + std::to_string(limits_.max_nesting);
        if (tree_.truncated.empty()) tree_.truncated = e.problem;
        e.multipart = false;
      }
    }
    tree_.entities[index] = e;
    if (tree_.entities[index].multipart) split_multipart(index);
  }

  void read_headers(std::string_view headers, std::string_view default_type, MimeEntity& e) {
    std::optional<std::string> ct, cd, cte;
    std::vector<std::string> all_types;
    for (const HeaderField& f : parse_header_fields(headers)) {
      // "Content-Type(comment):" is read as Content-Type, as ClamAV does: a
      // scanner that skips the field is the evasion.
      std::string name = lower(trim(strip_comments(f.name)));
      std::string_view raw = f.raw.substr(f.raw.find(':') + 1);
      std::string value;
      for (char c : raw) {
        if (c != '\r' && c != '\n') value += c;
      }
      if (name == "content-type") all_types.push_back(value);
      if (name == "content-type" && !ct)
        ct = value;
      else if (name == "content-disposition" && !cd)
        cd = value;
      else if (name == "content-transfer-encoding" && !cte)
        cte = value;
    }
    if (ct) {
      e.type_field = parse_content_field(*ct);
      if (e.type_field.value.find('/') == std::string::npos) {
        e.problem = "bad Content-Type '" + e.type_field.value.substr(0, 60) + "'";
        e.content_type = "text/plain";
      } else {
        e.content_type = e.type_field.value;
      }
    } else {
      e.content_type = std::string(default_type);
    }
    if (cd) e.disposition = parse_content_field(*cd);
    if (cte) e.transfer_encoding = lower(trim(strip_comments(*cte)));
    if (e.transfer_encoding == "7bit" || e.transfer_encoding == "8bit" ||
        e.transfer_encoding == "binary") {
      e.transfer_encoding.clear();
    }
    for (const char* key : {"filename", "name"}) {
      const auto& params =
          std::string_view(key) == "filename" ? e.disposition.params : e.type_field.params;
      auto it = params.find(key);
      if (it != params.end() && !it->second.empty() &&
          std::find(e.filenames.begin(), e.filenames.end(), it->second) == e.filenames.end()) {
        e.filenames.push_back(it->second);
      }
    }
    e.multipart = e.content_type.starts_with("multipart/");
    if (e.multipart) {
      for (const std::string& t : all_types) {
        for (std::string& b : param_values(t, "boundary")) {
          if (std::find(e.extra_boundaries.begin(), e.extra_boundaries.end(), b) ==
              e.extra_boundaries.end()) {
            e.extra_boundaries.push_back(std::move(b));
          }
        }
      }
    }
  }

  void split_multipart(int index) {
    MimeEntity& e = tree_.entities[index];
    const size_t body = e.body_begin, end = e.end;
    const std::string child_default =
        e.content_type == "multipart/digest" ? "message/rfc822" : "text/plain";
    std::string boundary;
    if (auto it = e.type_field.params.find("boundary"); it != e.type_field.params.end()) {
      boundary = it->second;
    }
    std::string_view region = text_.substr(0, end);
    if (boundary.empty()) {
      // Clients guess from the first "--" line; so do we, or a part they
      // show would go unscanned.
      size_t at = region.substr(body).starts_with("--") ? body : region.find("\n--", body);
      if (at != std::string_view::npos) {
        at += region[at] == '\n' ? 3 : 2;
        size_t eol = region.find('\n', at);
        boundary =
            std::string(trim(region.substr(at, eol == std::string_view::npos ? eol : eol - at)));
      }
      tree_.entities[index].problem = "multipart without boundary parameter";
      if (boundary.empty()) {
        tree_.entities[index].multipart = false;
        return;
      }
    }
    const size_t before = tree_.entities[index].children.size();
    split_with(index, boundary, child_default);
    // Attackers declare two boundaries (two parameters or two Content-Type
    // fields) and hide the payload under the one a scanner ignores; clients
    // differ on which wins. Parts under every declared boundary are kept.
    const std::vector<std::string> extra = tree_.entities[index].extra_boundaries;
    for (const std::string& b : extra) {
      if (b != boundary && tree_.truncated.empty()) split_with(index, b, child_default);
    }
    if (tree_.entities[index].children.size() == before && tree_.entities[index].problem.empty()) {
      tree_.entities[index].problem = "no MIME delimiter found";
    }
    if (tree_.entities[index].children.size() == before) {
      tree_.entities[index].multipart = false;  // scan it as one body
    }
  }

  // Adds the parts delimited by `boundary` as children of entity `index`.
  void split_with(int index, const std::string& boundary, const std::string& child_default) {
    const size_t body = tree_.entities[index].body_begin, end = tree_.entities[index].end;
    const int depth = tree_.entities[index].depth;
    std::string_view region = text_.substr(0, end);
    bool close = false;
    size_t line_end = 0;
    size_t delim = find_delimiter(region, body, boundary, close, line_end);
    if (delim == std::string_view::npos) return;
    if (close) {
      // Only a closing delimiter: what precedes it is the one part.
      parse_entity(body, body_end_before(region, delim, body), index, depth + 1, child_default);
      note(index, "no opening boundary");
      close = false;
      line_end = std::string_view::npos;  // parts may still follow (see below)
    }
    for (;;) {
      if (close || line_end == std::string_view::npos) {
        // After the closing delimiter only the epilogue should follow; a
        // delimiter there re-opens parts that some clients show.
        size_t from = line_end == std::string_view::npos ? delim + 1 : line_end;
        bool reopen_close = false;
        size_t reopen_end = 0;
        size_t again = find_delimiter(region, from, boundary, reopen_close, reopen_end);
        if (again == std::string_view::npos || reopen_close) return;
        note(index, "parts after the closing boundary");
        line_end = reopen_end;
      }
      size_t part_start = line_end;
      bool next_close = false;
      size_t next_end = 0;
      size_t next = find_delimiter(region, part_start, boundary, next_close, next_end);
      size_t part_end =
          next == std::string_view::npos ? end : body_end_before(region, next, part_start);
      parse_entity(part_start, std::max(part_start, part_end), index, depth + 1, child_default);
      if (next == std::string_view::npos) {
        note(index, "missing closing boundary");
        return;
      }
      if (!tree_.truncated.empty()) return;
      close = next_close;
      delim = next;
      line_end = next_end;
    }
  }

  void note(int index, const char* problem) {
    if (tree_.entities[index].problem.empty()) tree_.entities[index].problem = problem;
  }

  std::string_view text_;
  const MimeLimits& limits_;
  MimeTree tree_;
};

}  // namespace

ContentField parse_content_field(std::string_view raw_value) {
  ContentField f;
  std::string clean = strip_comments(raw_value);
  std::vector<std::string_view> items = split_params(clean);
  // The value is one token ("type/subtype", "attachment"); anything after
  // it (a folded second header, junk) is not part of it (RFC 2045 §5.1).
  std::string_view token = trim(items.front());
  f.value = lower(token.substr(0, token.find_first_of(" \t\r\n")));
  // RFC 2231 §3/§4: name*0, name*1*, ... joined in order; "*" = encoded.
  struct Segment {
    std::string value;
    bool encoded;
  };
  std::map<std::string, std::map<int, Segment>> continued;
  for (size_t i = 1; i < items.size(); ++i) {
    std::string_view item = trim(items[i]);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name = lower(trim(item.substr(0, eq)));
    std::string value = unquote(item.substr(eq + 1));
    bool encoded = !name.empty() && name.back() == '*';
    if (encoded) name.pop_back();
    int index = -1;
    if (size_t star = name.find('*'); star != std::string::npos) {
      std::string_view num = std::string_view(name).substr(star + 1);
      if (!num.empty() && num.size() < 4 && std::all_of(num.begin(), num.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
          })) {
        index = std::stoi(std::string(num));
        name.resize(star);
      }
    }
    if (index >= 0 || encoded) {
      continued[name][std::max(index, 0)] = Segment{value, encoded};
    } else if (!f.params.contains(name)) {
      f.params[name] = (name == "name" || name == "filename") ? decode_encoded_words(value) : value;
    }
  }
  for (auto& [name, segments] : continued) {
    // The charset is declared once, on the first segment (RFC 2231 §4.1).
    std::string charset;
    std::string raw;
    bool first = true;
    for (auto& [idx, seg] : segments) {
      std::string_view v = seg.value;
      if (seg.encoded && first) {
        size_t q1 = v.find('\''), q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
        if (q2 != std::string_view::npos) {
          charset = std::string(v.substr(0, q1));
          v = v.substr(q2 + 1);
        }
      }
      if (seg.encoded) {
        raw += decode_rfc2231_value("''" + std::string(v));  // percent-decoding only
      } else {
        raw += v;
      }
      first = false;
    }
    f.params[name] = to_utf8(raw, charset);  // RFC 2231 wins over a plain duplicate
  }
  return f;
}

MimeTree parse_mime(std::string_view text, const MimeLimits& limits) {
  return Parser(text, limits).run();
}

}  // namespace filterd::decoders
