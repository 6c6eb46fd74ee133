// notify.cc — see notify.h.
#include "policy/notify.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "decoders/ascii.h"

namespace filterd::policy {
namespace {

constexpr std::array<std::string_view, 13> kPlaceholders = {
    "mail_id",    "category", "category_text", "reason",   "sender",        "recipients", "client",
    "message_id", "subject",  "date",          "hostname", "quarantine_id", "destiny"};

constexpr std::array<std::string_view, 8> kCategories = {
    "INFECTED", "BANNED", "UNCHECKED", "SPAM", "SPAMMY", "BAD-HEADER", "OVERSIZED", "MTA-BLOCKED"};

// Fields compose_notice() writes itself; a template setting them would
// make them appear twice (RFC 5322 §3.6 allows one of each).
constexpr std::array<std::string_view, 8> kReservedHeaders = {
    "From",           "To",           "Date",         "Message-ID",
    "Auto-Submitted", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"};

bool known(std::string_view name) {
  return std::ranges::find(kPlaceholders, name) != kPlaceholders.end();
}

// Template text: well-formed UTF-8, no control characters but TAB.
std::string check_text(std::string_view line) {
  for (size_t i = 0; i < line.size();) {
    char32_t cp = 0;
    size_t n = utf8_sequence(line, i, cp);
    if (n == 0) return "invalid UTF-8";
    if (cp != '\t' && hidden_control(cp)) return "control character";
    i += n;
  }
  return {};
}

// Placeholders of one template line; `body_line` allows a leading ${?name}.
std::string check_placeholders(std::string_view line, bool body_line) {
  for (size_t i = 0; (i = line.find('$', i)) != std::string_view::npos;) {
    if (i + 1 < line.size() && line[i + 1] == '$') {
      i += 2;
      continue;
    }
    if (i + 1 >= line.size() || line[i + 1] != '{') {
      ++i;  // a lone "$" is literal
      continue;
    }
    size_t close = line.find('}', i + 2);
    if (close == std::string_view::npos) return "unterminated placeholder";
    std::string_view name = line.substr(i + 2, close - i - 2);
    if (name.starts_with('?')) {
      if (!body_line || i != 0) return "${?...} only at the start of a body line";
      name.remove_prefix(1);
    }
    if (!known(name)) {
      return "unknown placeholder ${" + std::string(name.substr(0, 40)) + "}";
    }
    i = close + 1;
  }
  return {};
}

using Sanitized = std::map<std::string_view, std::string>;

Sanitized sanitize_all(const Values& values, const NoticeLimits& limits) {
  Sanitized out;
  for (std::string_view name : kPlaceholders) {
    auto it = values.find(name);
    if (it == values.end()) continue;
    size_t limit = name == "recipients" ? limits.max_recipients_bytes : limits.max_value_bytes;
    out[name] = one_line_utf8(it->second, limit);
  }
  return out;
}

std::string expand(std::string_view text, const Sanitized& values) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t dollar = text.find('$', i);
    out.append(text.substr(i, dollar - i));
    if (dollar == std::string_view::npos) break;
    i = dollar + 1;
    if (i < text.size() && text[i] == '$') {
      out += '$';
      ++i;
      continue;
    }
    size_t close = i < text.size() && text[i] == '{' ? text.find('}', i) : std::string_view::npos;
    std::string_view name =
        close == std::string_view::npos ? "" : text.substr(i + 1, close - i - 1);
    if (!known(name)) {  // only in hand-made Templates: left as written
      out += '$';
      continue;
    }
    if (auto it = values.find(name); it != values.end()) out += it->second;
    i = close + 1;
  }
  return out;
}

// One header value: expanded, white space collapsed and trimmed.
std::string header_value(std::string_view raw, const Sanitized& values) {
  std::string v = expand(raw, values), out;
  for (char c : v) {
    bool space = c == ' ' || c == '\t';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The whole line of a header field with a single-line, control-free value.
std::string plain_field(std::string_view name, std::string_view value, size_t limit) {
  std::string v = one_line_utf8(value, limit);
  return std::string(name) + ": " + v + "\r\n";
}

std::expected<std::string, std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(path + ": cannot read: " + std::strerror(errno));
  std::string text(kMaxTemplateBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxTemplateBytes) {
    return std::unexpected(path + ": larger than " + std::to_string(kMaxTemplateBytes) + " bytes");
  }
  return text;
}

// Splits at LF, dropping one CR before it; a final LF ends the last line.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.push_back(line);
    if (lf == std::string_view::npos) break;
    text.remove_prefix(lf + 1);
  }
  return lines;
}

}  // namespace

std::span<const std::string_view> placeholder_names() {
  return kPlaceholders;
}

std::span<const std::string_view> notice_categories() {
  return kCategories;
}

std::expected<Template, std::string> parse_template(std::string_view text,
                                                    std::string_view origin) {
  auto fail = [&](size_t line, const std::string& what) {
    return std::unexpected(std::string(origin) + ":" + std::to_string(line) + ": " + what);
  };
  if (text.size() > kMaxTemplateBytes) {
    return fail(1, "larger than " + std::to_string(kMaxTemplateBytes) + " bytes");
  }
  std::vector<std::string_view> lines = split_lines(text);
  Template t;
  size_t n = 0;
  bool blank = false, subject = false;
  for (; n < lines.size() && !blank; ++n) {
    std::string_view line = lines[n];
    if (std::string e = check_text(line); !e.empty()) return fail(n + 1, e);
    if (line.empty()) {
      blank = true;
      continue;
    }
    if (std::string e = check_placeholders(line, false); !e.empty()) return fail(n + 1, e);
    if (line.front() == ' ' || line.front() == '\t') {
      if (t.headers.empty()) return fail(n + 1, "continuation line without a header");
      if (line.find_first_not_of(" \t") == std::string_view::npos) {
        return fail(n + 1, "white space only: a blank line must be empty");
      }
      t.headers.back().second += " ";
      t.headers.back().second += line.substr(line.find_first_not_of(" \t"));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(n + 1, "no colon in header line");
    std::string_view name = line.substr(0, colon);
    bool ftext = !name.empty() && std::ranges::all_of(name, [](char c) {
      return c > 32 && c < 127;  // RFC 5322 §3.6.8; ':' ends the name
    });
    if (!ftext || name.size() > kMaxTemplateHeaderName) return fail(n + 1, "bad header name");
    for (std::string_view reserved : kReservedHeaders) {
      if (decoders::iequals(name, reserved)) {
        return fail(n + 1, "header " + std::string(name) + " is set by filterd");
      }
    }
    if (decoders::iequals(name, "Subject")) {
      if (subject) return fail(n + 1, "second Subject header");
      subject = true;
    }
    std::string_view value = line.substr(colon + 1);
    size_t start = value.find_first_not_of(" \t");
    value = start == std::string_view::npos ? std::string_view() : value.substr(start);
    t.headers.emplace_back(std::string(name), std::string(value));
  }
  if (!blank) return fail(std::max<size_t>(n, 1), "no blank line after the header section");
  if (!subject) return fail(n, "no Subject header");
  for (size_t i = n; i < lines.size(); ++i) {
    if (std::string e = check_text(lines[i]); !e.empty()) return fail(i + 1, e);
    if (std::string e = check_placeholders(lines[i], true); !e.empty()) return fail(i + 1, e);
    t.body.append(lines[i]);
    t.body += '\n';
  }
  return t;
}

std::expected<CategoryTexts, std::string> parse_category_texts(std::string_view text,
                                                               std::string_view origin) {
  auto fail = [&](size_t line, const std::string& what) {
    return std::unexpected(std::string(origin) + ":" + std::to_string(line) + ": " + what);
  };
  std::vector<std::string_view> lines = split_lines(text);
  CategoryTexts out;
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view line = lines[n];
    if (std::string e = check_text(line); !e.empty()) return fail(n + 1, e);
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos || line[start] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(n + 1, "expected CATEGORY: text");
    std::string_view name = line.substr(0, colon), phrase = line.substr(colon + 1);
    name.remove_prefix(start);
    while (name.ends_with(' ') || name.ends_with('\t')) name.remove_suffix(1);
    size_t p = phrase.find_first_not_of(" \t");
    phrase = p == std::string_view::npos ? std::string_view() : phrase.substr(p);
    if (std::ranges::find(kCategories, name) == kCategories.end()) {
      return fail(n + 1, "unknown category " + std::string(name.substr(0, 40)));
    }
    if (phrase.empty()) return fail(n + 1, "no text for " + std::string(name));
    if (!out.emplace(name, phrase).second) return fail(n + 1, "second " + std::string(name));
  }
  for (std::string_view c : kCategories) {
    if (!out.contains(c)) {
      return fail(lines.size(), "no text for " + std::string(c));
    }
  }
  return out;
}

std::expected<TemplateSet, std::string> load_templates(const std::string& dir) {
  TemplateSet set;
  std::pair<const char*, Template*> files[] = {{"admin_notice", &set.admin_notice},
                                               {"recipient_warning", &set.recipient_warning},
                                               {"sender_dsn", &set.sender_dsn}};
  for (auto [name, target] : files) {
    const std::string path = dir + "/" + name;
    auto text = read_file(path);
    if (!text) return std::unexpected(text.error());
    auto t = parse_template(*text, path);
    if (!t) return std::unexpected(t.error());
    *target = std::move(*t);
  }
  const std::string path = dir + "/categories";
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  auto texts = parse_category_texts(*text, path);
  if (!texts) return std::unexpected(texts.error());
  set.category_texts = std::move(*texts);
  return set;
}

std::string category_text(const TemplateSet& set, std::string_view category) {
  auto it = set.category_texts.find(category);
  return it == set.category_texts.end() ? std::string(category) : it->second;
}

std::string render_text(const Template& t, const Values& values, const NoticeLimits& limits) {
  const Sanitized v = sanitize_all(values, limits);
  std::string text;
  for (std::string_view line : split_lines(t.body)) {
    if (line.starts_with("${?")) {
      size_t close = line.find('}');
      if (close != std::string_view::npos) {
        auto it = v.find(line.substr(3, close - 3));
        if (it == v.end() || it->second.empty()) continue;
        line.remove_prefix(close + 1);
      }
    }
    text += expand(line, v);
    text += '\n';
  }
  return crlf_text(text);
}

std::string render_subject(const Template& t, const Values& values, const NoticeLimits& limits) {
  const Sanitized v = sanitize_all(values, limits);
  for (const auto& [name, raw] : t.headers) {
    if (decoders::iequals(name, "Subject")) return header_value(raw, v);
  }
  return {};
}

std::string compose_notice(const Template& t, const Values& values, const NoticeHeaders& h,
                           const NoticeLimits& limits) {
  // Message-ID left and right sides: dot-atom text only (RFC 5322 §3.6.4).
  auto atom = [](std::string_view s) {
    std::string out(s.substr(0, 100));
    for (char& c : out) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '-';
    }
    return out.empty() ? std::string("unknown") : out;
  };
  std::string local = "NOTICE-";
  if (!h.message_id_tag.empty()) local += atom(h.message_id_tag) + "-";
  local += atom(h.mail_id);

  // Address and date fields come from config and the envelope; bounded so
  // they stay one line under 998 bytes without folding.
  std::string m;
  m += plain_field("From", h.from, 900);
  m += plain_field("To", h.to, 900);
  m += plain_field("Date", h.date, 100);
  m += "Message-ID: <" + local + "@" + atom(h.hostname) + ">\r\n";
  const Sanitized v = sanitize_all(values, limits);
  for (const auto& [name, raw] : t.headers) {
    m += unstructured_field(name, header_value(raw, v));
  }
  std::string body = render_text(t, values, limits);
  m += "Auto-Submitted: auto-generated\r\n";  // RFC 3834 §5
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += is_ascii(body) ? "Content-Transfer-Encoding: 7bit\r\n"
                      : "Content-Transfer-Encoding: 8bit\r\n";
  m += "\r\n";
  m += body;
  return m;
}

}  // namespace filterd::policy
