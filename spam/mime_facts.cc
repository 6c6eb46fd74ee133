// mime_facts.cc — compute_mime_facts: Message.pm's MIME parse (header
// section, _parse_multipart, _parse_normal, message/rfc822 subparsing) over
// the message's lines, then MIMEEval::_check_attachments, check_ma_non_text
// and _check_base64_length over the parts. See mime_facts.h.
#include "spam/mime_facts.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <optional>

#include "decoders/transfer_encoding.h"

namespace filterd::spam {
namespace {

constexpr size_t kMaxLine = 2048;        // Constants.pm MAX_BODY_LINE_LENGTH
constexpr size_t kMaxKey = 256;          // MAX_HEADER_KEY_LENGTH
constexpr size_t kMaxValue = 8192;       // MAX_HEADER_VALUE_LENGTH
constexpr int kMaxPartsPerLevel = 1000;  // _parse_multipart's mimepart limit
constexpr size_t kMaxNodes = 5000;       // overall bound on parts kept

using Lines = std::vector<std::string_view>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_ws);
}

// /^[\041-\071\073-\176]+[ \t]*:/ (with_ws) or /^[\041-\071\073-\176]+:/.
bool header_line(std::string_view s, bool with_ws) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '\041' && s[i] <= '\176' && s[i] != ':') ++i;
  if (i == 0) return false;
  if (with_ws)
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i < s.size() && s[i] == ':';
}

// Perl's \s*$ after position i (the rest is whitespace).
bool rest_blank(std::string_view s, size_t i) {
  return i >= s.size() || blank(s.substr(i));
}

// /^--\Q$boundary\E(--)?\s*$/: 0 no, 1 separator, 2 closing.
int boundary_line(std::string_view line, const std::string& b, bool allow_close) {
  if (line.size() < 2 + b.size() || line[0] != '-' || line[1] != '-' ||
      line.compare(2, b.size(), b) != 0)
    return 0;
  const size_t after = 2 + b.size();
  if (rest_blank(line, after)) return 1;
  if (allow_close && line.compare(after, 2, "--") == 0 && rest_blank(line, after + 2)) return 2;
  return 0;
}

struct ContentType {
  std::string type;
  std::optional<std::string> boundary, charset;
  bool missing = false;
};

// The value of `param` as Util::parse_content_type's regexps find it.
std::optional<size_t> find_param(std::string_view lct, std::string_view name) {
  for (size_t p = lct.find(name); p != std::string_view::npos; p = lct.find(name, p + 1)) {
    if (p > 0 && (std::isalnum(static_cast<unsigned char>(lct[p - 1])) || lct[p - 1] == '_'))
      continue;
    size_t q = p + name.size();
    while (q < lct.size() && is_ws(lct[q])) ++q;
    if (q >= lct.size() || lct[q] != '=') continue;
    ++q;
    while (q < lct.size() && is_ws(lct[q])) ++q;
    return q;
  }
  return std::nullopt;
}

ContentType parse_content_type(std::string_view value) {
  ContentType ct;
  std::string v(value);
  if (v.empty()) {
    ct.missing = true;
    v = "text/plain; charset=us-ascii";
  }
  const std::string lv = lower(v);
  if (auto q = find_param(lv, "boundary")) {
    size_t i = *q;
    if (i < v.size() && v[i] == '"') {
      size_t e = v.find('"', i + 1);
      if (e == std::string::npos) e = v.size();
      if (e > i + 1) ct.boundary = v.substr(i + 1, e - i - 1);
    } else {
      size_t e = i;
      while (e < v.size() && !is_ws(v[e]) && v[e] != '"' && v[e] != ';') ++e;
      if (e > i && (e == v.size() || is_ws(v[e]) || v[e] == ';')) ct.boundary = v.substr(i, e - i);
    }
  }
  if (auto q = find_param(lv, "charset")) {
    size_t i = *q;
    if (i < v.size() && (v[i] == '"' || v[i] == '\'')) ++i;
    size_t e = v.find_first_of(";\n", i);
    if (e == std::string::npos) e = v.size();
    std::string c = v.substr(i, e - i);
    if (!c.empty() && (c.back() == '"' || c.back() == '\'')) c.pop_back();
    ct.charset = c;
  }
  ct.type = sa_content_type(v);
  if (lower(v).find_first_not_of(" \t\r\n\f\v") == std::string::npos || ct.type.empty())
    ct.missing = true;
  if (ct.type.empty()) ct.type = "text/plain";
  return ct;
}

struct Node {
  std::string type;
  std::optional<std::string> charset;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case key, value
  Lines raw;
  std::vector<int> children;
  bool has_body_parts = false;

  // Node::header in scalar context: the last value, "" if none.
  std::string header(std::string_view key) const {
    for (auto it = headers.rbegin(); it != headers.rend(); ++it)
      if (it->first == key) return it->second;
    return "";
  }
  void add_header(std::string_view key, std::string_view raw_value) {
    // Node::header: unfold, trim.
    std::string v;
    for (size_t i = 0; i < raw_value.size(); ++i) {
      if (raw_value[i] == '\n' && i + 1 < raw_value.size() &&
          (raw_value[i + 1] == ' ' || raw_value[i + 1] == '\t')) {
        while (i + 1 < raw_value.size() && (raw_value[i + 1] == ' ' || raw_value[i + 1] == '\t'))
          ++i;
        v += ' ';
      } else if (raw_value[i] != '\r' || i + 1 >= raw_value.size() || raw_value[i + 1] != '\n') {
        v += raw_value[i];
      }
    }
    size_t b = 0, e = v.size();
    while (b < e && is_ws(v[b])) ++b;
    while (e > b && is_ws(v[e - 1])) --e;
    headers.emplace_back(lower(key), v.substr(b, e - b));
  }
};

class Parser {
 public:
  explicit Parser(MimeFacts& f) : f_(f) {}

  void run(std::string_view message) {
    parse_message(message, 20);
    while (!queue_.empty()) {
      Job job = std::move(queue_.front());
      queue_.pop_front();
      if (nodes_[job.node].type.starts_with("multipart/"))
        parse_multipart(job);
      else
        parse_normal(job);
    }
    for (const auto& [b, state] : boundary_state_)
      if (state != 0) f_.missing_boundary = true;
  }

  std::vector<Node> nodes_;

 private:
  struct Job {
    int node;
    std::optional<std::string> boundary;
    Lines body;
    int subparse;
  };
  MimeFacts& f_;
  std::deque<Job> queue_;
  std::deque<std::string> storage_;  // texts the lines view that the input does not hold
  std::map<std::string, int> boundary_state_;

  int new_node() {
    nodes_.emplace_back();
    return static_cast<int>(nodes_.size() - 1);
  }

  // Message->new: header section, then the body lines queued.
  int parse_message(std::string_view text, int subparse) {
    Lines lines;
    for (size_t b = 0; b < text.size();) {
      size_t e = text.find('\n', b);
      e = e == std::string_view::npos ? text.size() : e + 1;
      lines.push_back(text.substr(b, e - b));
      b = e;
    }
    if (lines.empty()) lines.push_back("\n");
    size_t at = 0;
    if (lines[0].starts_with("From ") || (lines[0].starts_with("From") && lines[0].size() > 4 &&
                                          is_ws(lines[0][4]) && lines[0].find(':') == 4 + 1 - 1))
      ++at;
    const bool crlf = lines[at < lines.size() ? at : 0].find("\r\n") != std::string_view::npos ||
                      lines.back().find("\r\n") != std::string_view::npos;
    const std::string_view ending = crlf ? "\r\n" : "\n";

    const int id = new_node();
    int errors = 0;
    std::optional<std::string> field;
    auto flush = [&] {
      if (!field) return;
      const size_t colon = field->find(':');
      if (colon == std::string::npos) return;
      std::string key = field->substr(0, colon);
      while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
      std::string value = field->substr(colon + 1);
      if (key.size() > kMaxKey) key.resize(kMaxKey), f_.truncated_header = true;
      if (value.size() > kMaxValue) value.resize(kMaxValue), f_.truncated_header = true;
      nodes_[id].add_header(key, value);
    };
    for (;;) {
      const bool eof = at >= lines.size();
      std::string_view current = eof ? ending : lines[at++];
      if (!current.empty() && (current[0] == ' ' || current[0] == '\t')) {
        if (!field) field.emplace();
        if (field->size() < 2 * kMaxValue) field->append(current);
        continue;
      }
      flush();
      field.reset();
      const bool end =
          current == ending || (crlf && current == "\n");  // Bug 7785: a lone LF is CRLF
      if (end) {
        if (eof) f_.missing_head_body_separator = true;
        break;
      }
      if (current.starts_with("--")) {
        f_.missing_head_body_separator = true;
        --at;
        break;
      }
      if (!header_line(current, true) && ++errors > 3) {
        f_.missing_head_body_separator = true;
        --at;
        break;
      }
      field.emplace(current);
    }
    Lines body(lines.begin() + static_cast<long>(std::min(at, lines.size())), lines.end());
    for (auto& l : body)
      if (crlf && l.ends_with("\r\n")) {
        storage_.emplace_back(l.substr(0, l.size() - 2));
        storage_.back() += '\n';
        l = storage_.back();
      }
    // Runs of more than 20 blank lines keep 20.
    Lines cut;
    size_t run = 0;
    for (auto l : body) {
      run = blank(l) ? run + 1 : 0;
      if (run <= 20) cut.push_back(l);
    }
    const ContentType ct = parse_content_type(nodes_[id].header("content-type"));
    nodes_[id].type = ct.type;
    if (ct.type.starts_with("multipart/") && cut.size() > 1 && !blank(cut[0])) {
      if (!ct.boundary || !cut[0].starts_with("--" + *ct.boundary)) cut.insert(cut.begin(), "\n");
    }
    queue_.push_back({id, ct.boundary, std::move(cut), subparse});
    return id;
  }

  void parse_multipart(Job& job) {
    Node* msg = &nodes_[job.node];
    msg->has_body_parts = true;
    const int subparse = job.subparse - 1;
    const std::optional<std::string>& boundary = job.boundary;
    Lines& body = job.body;
    size_t start = 0;
    if (boundary) {
      size_t line = 0;
      for (; line < body.size(); ++line) {
        if (boundary_line(body[line], *boundary, false) == 1) {
          boundary_state_[*boundary] = 1;
          if (line + 1 < body.size() && !header_line(body[line + 1], false))
            f_.missing_mime_headers = true;
          break;
        }
      }
      if (line < body.size()) start = line + 1;
    }
    const std::string msg_type = msg->type;
    int part = new_node();
    bool in_body = false, nested = false;
    std::optional<std::string> header;
    std::optional<Lines> part_array;
    int partcnt = 0;
    size_t line_count = body.size() - start;
    auto push_line = [&](std::string_view l) {
      if (!part_array) part_array.emplace();
      while (l.size() > kMaxLine) {
        storage_.emplace_back(l.substr(0, kMaxLine));
        storage_.back() += '\n';
        part_array->push_back(storage_.back());
        l.remove_prefix(kMaxLine);
      }
      part_array->push_back(l);
    };
    auto add_part_header = [&](const std::string& h) {
      // split(/:\s*/, $header, 2)
      const size_t colon = h.find(':');
      if (colon == std::string::npos) return;
      size_t v = colon + 1;
      while (v < h.size() && is_ws(h[v])) ++v;
      nodes_[part].add_header(h.substr(0, colon), h.substr(v));
    };
    for (size_t i = start; i < body.size(); ++i) {
      std::string_view l = body[i];
      const int b = boundary ? boundary_line(l, *boundary, true) : 0;
      bool end_boundary = b != 0;
      const bool last_end = b == 2;
      if (end_boundary && nested) {
        end_boundary = false;
        if (last_end) nested = false;
      }
      if (--line_count == 0 || end_boundary) {
        if (!end_boundary) {
          push_line(l);
        } else if (part_array) {
          std::string_view& back = part_array->back();
          if (back.ends_with('\n')) back.remove_suffix(1);
          if (back.empty()) part_array->pop_back();
        } else {
          part_array.emplace();
        }
        ContentType ct = parse_content_type(nodes_[part].header("content-type"));
        nodes_[part].type = ct.type;
        if (ct.missing && msg_type == "multipart/digest") nodes_[part].type = "message/rfc822";
        std::optional<std::string> pb = ct.boundary ? ct.boundary : boundary;
        queue_.push_back({part, pb, std::move(*part_array), subparse});
        nodes_[job.node].children.push_back(part);
        if (boundary) {
          if (end_boundary && last_end) {
            boundary_state_[*boundary]--;
            break;
          }
          if (line_count && !header_line(body[body.size() - line_count], false))
            f_.missing_mime_headers = true;
        }
        if (++partcnt == kMaxPartsPerLevel || nodes_.size() >= kMaxNodes) {
          f_.mimepart_limit_exceeded = true;
          return;
        }
        in_body = false;
        part = new_node();
        part_array.reset();
        header.reset();
        continue;
      }
      if (!in_body) {
        if (header_line(l, true)) {
          if (header) add_part_header(*header);
          header.emplace(l);
          continue;
        }
        if ((l.starts_with(' ') || l.starts_with('\t')) && header) {
          if (header->size() < 2 * kMaxValue) header->append(l);
          continue;
        }
        if (header) {
          add_part_header(*header);
          const size_t colon = header->find(':');
          if (boundary && lower(header->substr(0, colon)) == "content-type") {
            const ContentType inner = parse_content_type(nodes_[part].header("content-type"));
            if (inner.boundary && *inner.boundary == *boundary) nested = true;
          }
        }
        in_body = true;
        if (l == "\n" || l == "\r\n" || l.empty()) continue;
        f_.missing_mime_head_body_separator = true;
      }
      push_line(l);
    }
    // A node made for a part that never came is dropped (Perl discards it).
    if (!nodes_.empty() && static_cast<int>(nodes_.size()) - 1 == part &&
        std::find(nodes_[job.node].children.begin(), nodes_[job.node].children.end(), part) ==
            nodes_[job.node].children.end())
      nodes_.pop_back();
    for (; line_count > 0; --line_count) {
      std::string_view l = body[body.size() - line_count];
      if (std::any_of(l.begin(), l.end(), [](char c) { return !is_ws(c) && c != '.'; })) {
        f_.mime_epilogue_exists = true;
        break;
      }
    }
  }

  void parse_normal(Job& job) {
    Node& msg = nodes_[job.node];
    const ContentType ct = parse_content_type(msg.header("content-type"));
    if (!ct.missing)
      msg.type = !ct.type.starts_with("multipart/") || job.boundary ? ct.type : "text/plain";
    msg.charset = ct.charset;
    msg.raw = std::move(job.body);
    if (msg.type.starts_with("message/") && msg.type != "message/partial" && job.subparse > 0 &&
        (msg.type == "message/rfc822" || msg.type == "message/global") &&
        nodes_.size() < kMaxNodes) {
      std::string joined;
      for (auto l : msg.raw) joined.append(l);
      const std::string cte = lower(msg.header("content-transfer-encoding"));
      std::string decoded;
      if (cte.find("base64") != std::string::npos) {
        decoders::decode_base64(joined, decoded);
      } else if (cte.find("quoted-printable") != std::string::npos) {
        decoded = qp_decode(joined);
      } else {
        decoded = std::move(joined);
      }
      if (!decoded.empty()) {
        storage_.push_back(std::move(decoded));
        const int child = parse_message(storage_.back(), job.subparse - 1);
        nodes_[job.node].has_body_parts = true;
        nodes_[job.node].children.push_back(child);
      }
    }
  }

  static std::string qp_decode(std::string_view in) {
    std::string out;
    auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '=' && i + 1 < in.size() && in[i + 1] == '\n') {
        ++i;
      } else if (in[i] == '=' && i + 2 < in.size() && hex(in[i + 1]) && hex(in[i + 2])) {
        out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += in[i];
      }
    }
    return out;
  }
};

// Node::find_parts(qr/./) order: the node, then its parts depth first.
void preorder(const std::vector<Node>& nodes, int id, std::vector<int>& out, int depth = 0) {
  if (depth > 64) return;
  out.push_back(id);
  for (int c : nodes[id].children) preorder(nodes, c, out, depth + 1);
}

bool ascii_charset(const std::string& cs) {
  static const char* const kNames[] = {
      "us-ascii",         "ansi_x3.4-1968", "iso-ir-6",  "ansi_x3.4-1986",
      "iso_646.irv:1991", "ascii",          "iso646-us", "us",
      "ibm367",           "cp367",          "csascii"};
  return std::any_of(std::begin(kNames), std::end(kNames),
                     [&](const char* n) { return cs.find(n) != std::string::npos; });
}

// /iso-\S+-\S+\b/i and not /iso-(?:8859-\d{1,2}|2022-(?:jp|kr))\b/.
bool bad_iso(const std::string& cs) {
  bool bad = false;
  for (size_t p = cs.find("iso-"); p != std::string::npos && !bad; p = cs.find("iso-", p + 1)) {
    size_t i = p + 4, a = i;
    while (i < cs.size() && !is_ws(cs[i])) ++i;
    // \S+-\S+ inside [a, i): a '-' with something on both sides.
    const size_t dash = cs.find('-', a + 1);
    if (dash != std::string::npos && dash + 1 < i) bad = true;
  }
  if (!bad) return false;
  for (size_t p = cs.find("iso-"); p != std::string::npos; p = cs.find("iso-", p + 1)) {
    std::string_view r = std::string_view(cs).substr(p + 4);
    auto word_end = [&](size_t n) {
      return n >= r.size() || !(std::isalnum(static_cast<unsigned char>(r[n])) || r[n] == '_');
    };
    if (r.starts_with("8859-")) {
      size_t n = 5;
      while (n < r.size() && n < 7 && std::isdigit(static_cast<unsigned char>(r[n]))) ++n;
      if (n > 5 && word_end(n)) return false;
      if (n == 7 && word_end(6)) return false;
    }
    if ((r.starts_with("2022-jp") || r.starts_with("2022-kr")) && word_end(7)) return false;
  }
  return true;
}

// m/=(?:09|3[0-9ABCEF]|[2456][0-9A-F]|7[0-9A-E])/g
size_t qp_sequences(std::string_view l) {
  auto hexu = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  size_t n = 0;
  for (size_t i = 0; i + 2 < l.size() + 0 && i + 2 <= l.size() - 1; ++i) {
    if (l[i] != '=') continue;
    const char a = l[i + 1], b = l[i + 2];
    const bool ok = (a == '0' && b == '9') || (a == '3' && hexu(b) && b != 'D') ||
                    ((a == '2' || a == '4' || a == '5' || a == '6') && hexu(b)) ||
                    (a == '7' && hexu(b) && b != 'F');
    if (ok) {
      ++n;
      i += 2;
    }
  }
  return n;
}

// m/((?:=09|=20)+)\s*$/: the length of the first such run ending the line.
size_t trailing_qp_spaces(std::string_view l) {
  size_t e = l.size();
  while (e > 0 && is_ws(l[e - 1])) --e;
  // Leftmost run that reaches e: scan runs left to right.
  for (size_t i = 0; i + 3 <= e; ++i) {
    size_t j = i;
    while (j + 3 <= e && l[j] == '=' &&
           (l.compare(j + 1, 2, "09") == 0 || l.compare(j + 1, 2, "20") == 0))
      j += 3;
    if (j > i && j == e) return j - i;
  }
  return 0;
}

// s/&#x[0-9A-F]{4};//g: the number removed.
size_t unicode_entities(std::string_view l) {
  size_t n = 0;
  for (size_t p = l.find("&#x"); p != std::string_view::npos; p = l.find("&#x", p + 1)) {
    if (p + 8 > l.size() || l[p + 7] != ';') continue;
    bool ok = true;
    for (size_t k = p + 3; k < p + 7; ++k)
      ok = ok && ((l[k] >= '0' && l[k] <= '9') || (l[k] >= 'A' && l[k] <= 'F'));
    if (ok) ++n, p += 7;
  }
  return n;
}

}  // namespace

std::string sa_content_type(std::string_view value) {
  std::string ct(value);
  size_t b = 0;
  while (b < ct.size() && is_ws(ct[b])) ++b;
  ct.erase(0, b);
  if (size_t semi = ct.find(';'); semi != std::string::npos) ct.resize(semi);
  // ^([^/]+(?:/[^/\s]*)?)
  size_t slash = ct.find('/');
  if (slash != std::string::npos && slash > 0) {
    size_t e = slash + 1;
    while (e < ct.size() && ct[e] != '/' && !is_ws(ct[e])) ++e;
    ct.resize(e);
  }
  ct = lower(ct);
  if (ct.empty() ||
      (ct.starts_with("text") &&
       (ct.size() == 4 || !(std::isalnum(static_cast<unsigned char>(ct[4])) || ct[4] == '_')) &&
       ct != "text/x-vcard" && ct != "text/calendar" && ct != "text/html"))
    ct = "text/plain";
  std::string out;
  for (char c : ct) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 040 || u >= 0177 || c == '"' || c == '(' || c == ')' || c == ',' ||
        (c >= ':' && c <= '?') || c == '@' || (c >= '[' && c <= ']'))
      continue;
    out += c;
  }
  return out;
}

MimeFacts compute_mime_facts(std::string_view raw_message) {
  MimeFacts f;
  Parser p(f);
  p.run(raw_message);
  const std::vector<Node>& nodes = p.nodes_;
  if (nodes.empty()) return f;
  std::vector<int> order;
  preorder(nodes, 0, order);

  double qp_bytes = 0, qp_count = 0, normal_chars = 0, unicode_chars = 0;
  std::vector<std::optional<double>> part_bytes;
  std::vector<std::string> part_type;
  for (int id : order) {
    const Node& n = nodes[id];
    f.types.push_back(n.type);
    const ContentType ct = parse_content_type(n.header("content-type"));
    const std::string& type = ct.type;
    if (type == "multipart/alternative") f.multipart_alternative = true;
    const std::string cte = lower(n.header("content-transfer-encoding"));
    const std::string cd = lower(n.header("content-disposition"));
    const std::string charset = ct.charset ? lower(*ct.charset) : "";
    // _check_mime_header
    if (type == "text/html")
      ++f.body_html_count;
    else if (type.starts_with("text"))
      ++f.body_text_count;
    if (cte.find("base64") != std::string::npos)
      ++f.base64_count;
    else if (cte.find("quoted-printable") != std::string::npos)
      ++f.qp_count;
    const bool attachment = cd.find("attachment") != std::string::npos;
    if (attachment) ++f.attachment;
    if (type.starts_with("text") && cte.find("base64") != std::string::npos &&
        (charset.empty() || ascii_charset(charset)) &&
        !(cd.starts_with("attachment") || cd.starts_with("inline")))
      f.base64_encoded_text = true;
    if (bad_iso(charset)) f.bad_iso_charset = true;
    if (std::any_of(charset.begin(), charset.end(),
                    [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
      f.charsets.push_back(charset);

    if (n.has_body_parts) continue;
    part_type.push_back(type);
    part_bytes.emplace_back();
    if (!attachment) part_bytes.back() = 0;
    const bool alt_text =
        f.multipart_alternative && !attachment && (type == "text/plain" || type == "text/html");
    const bool ascii_plain = type == "text/plain" && (!ct.charset || charset == "us-ascii");
    const bool plain_7bit = type == "text/plain" && (cte.empty() || cte == "7bit" || cte == "8bit");
    for (std::string_view l : n.raw) {
      if (alt_text) *part_bytes.back() += static_cast<double>(l.size());
      if (cte == "quoted-printable" && !l.starts_with("SPAM: ")) {
        if (l.size() > 79) f.qp_long_line = true;
        qp_bytes += static_cast<double>(l.size());
        if (l.find('=') != std::string_view::npos) {
          if (size_t q = qp_sequences(l)) {
            qp_count += static_cast<double>(q);
            qp_count -= static_cast<double>(trailing_qp_spaces(l)) / 3;
          }
        }
      }
      if (ascii_plain && std::any_of(l.begin(), l.end(), [](char c) {
            const unsigned char u = static_cast<unsigned char>(c);
            return u == 0 || u == 0x0d || u >= 0x80;
          }))
        ++f.ascii_text_illegal;
      if (plain_7bit) {
        const size_t subs = unicode_entities(l);
        normal_chars += static_cast<double>(l.size() - subs * 8);
        unicode_chars += static_cast<double>(subs);
      }
    }
    // _check_base64_length (leaves; application/ics skipped)
    if (type != "application/ics" && cte == "base64")
      for (std::string_view l : n.raw) f.base64_length = std::max(f.base64_length, l.size());
  }
  if (qp_bytes > 0) {
    f.qp_ratio = qp_count / qp_bytes;
    f.qp_count = qp_count;
  }
  if (normal_chars > 0) f.text_unicode_ratio = unicode_chars / normal_chars;
  if (f.multipart_alternative) {
    std::optional<double> text, html;
    for (size_t i = part_type.size(); i-- > 0;) {
      if (!part_bytes[i]) continue;
      if (!html && part_type[i] == "text/html")
        html = part_bytes[i];
      else if (!text && part_type[i] == "text/plain")
        text = part_bytes[i];
      if (html && text) break;
    }
    if (text && html && *html > 0) f.multipart_ratio = *text / *html;
  }

  // check_ma_non_text: direct leaves of each multipart/alternative.
  for (int id : order) {
    if (nodes[id].type != "multipart/alternative" || !nodes[id].has_body_parts) continue;
    for (int c : nodes[id].children) {
      const Node& k = nodes[c];
      if (k.has_body_parts) continue;
      if (k.type == "multipart/related" || k.type == "application/rtf" ||
          k.type.starts_with("text/"))
        continue;
      f.ma_non_text = true;
    }
  }
  // Node::content_summary == (multipart/alternative, text/html, text/calendar)
  const Node& top = nodes[0];
  if (top.type == "multipart/alternative" && top.children.size() == 2 &&
      nodes[top.children[0]].type == "text/html" && !nodes[top.children[0]].has_body_parts &&
      nodes[top.children[1]].type == "text/calendar" && !nodes[top.children[1]].has_body_parts)
    f.alternative_html_calendar = true;
  return f;
}

}  // namespace filterd::spam
