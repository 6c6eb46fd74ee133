// lookup.cc — see lookup.h.
#include "policy/lookup.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "decoders/ascii.h"

namespace filterd::policy {
namespace {

using decoders::ascii_lower;

// Longest piece of user text quoted in an error message: enough to find
// the spot, and a runaway line does not become a runaway log line.
constexpr size_t kMaxQuotedInError = 64;

std::string quote(std::string_view s) {
  if (s.size() > kMaxQuotedInError) {
    return "\"" + std::string(s.substr(0, kMaxQuotedInError)) + "...\"";
  }
  return "\"" + std::string(s) + "\"";
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view strip_angle_brackets(std::string_view a) {
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
  return a;
}

struct AddressParts {
  std::string_view local;
  std::string_view domain;  // without '@'; empty if there was none
  bool quoted = false;      // the local part is a quoted string
};

// Splits at the last '@' that is not inside a leading quoted local part.
AddressParts split_address(std::string_view a) {
  AddressParts p;
  size_t search_from = 0;
  if (!a.empty() && a.front() == '"') {
    p.quoted = true;
    size_t i = 1;
    while (i < a.size() && a[i] != '"') i += a[i] == '\\' ? 2 : 1;
    search_from = std::min(i + 1, a.size());
  }
  size_t at = a.rfind('@');
  if (at == std::string_view::npos || at < search_from) {
    p.local = a;
  } else {
    p.local = a.substr(0, at);
    p.domain = a.substr(at + 1);
  }
  return p;
}

// Lower case, trailing dots dropped ("Example.COM." -> "example.com").
std::string normalize_domain(std::string_view d) {
  while (!d.empty() && d.back() == '.') d.remove_suffix(1);
  return ascii_lower(d);
}

// Where the extension of lower-cased `local` starts (at its delimiter), or
// npos. amavis split_localpart: first delimiter after a non-empty user.
size_t extension_start(std::string_view local, char delimiter, bool quoted) {
  if (delimiter == 0 || quoted) return std::string_view::npos;
  if (local == "postmaster" || local == "mailer-daemon" || local == "double-bounce") {
    return std::string_view::npos;
  }
  if (delimiter == '-' && ((local.starts_with("owner-") && local.size() > 6) ||
                           (local.ends_with("-request") && local.size() > 8))) {
    return std::string_view::npos;
  }
  return local.find(ascii_lower(delimiter), 1);
}

// ".sub.example.com", ".example.com", ".com": the least specific
// kMaxDomainKeys - 1 of them (the caller adds "."), found from the end so
// that a domain with many labels costs no more than one with ten.
void add_domain_keys(const std::string& domain, std::vector<std::string>& keys) {
  std::vector<size_t> starts;
  for (size_t i = domain.size(); i-- > 0 && starts.size() < kMaxDomainKeys - 1;) {
    if (domain[i] == '.') starts.push_back(i + 1);
  }
  if (starts.size() < kMaxDomainKeys - 1) starts.push_back(0);
  for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
    keys.push_back("." + domain.substr(*it));
  }
}

// The setting value syntax. Text after "name=" up to white space, or a
// double-quoted string with \" and \\.
struct Token {
  std::string text;
  size_t end = 0;  // position after the token
};

std::expected<Token, std::string> read_value(std::string_view line, size_t pos) {
  Token t;
  if (pos < line.size() && line[pos] == '"') {
    for (++pos; pos < line.size() && line[pos] != '"'; ++pos) {
      if (line[pos] == '\\') {
        if (pos + 1 >= line.size())
          return std::unexpected(std::string("unterminated quoted value"));
        char next = line[pos + 1];
        if (next != '"' && next != '\\') {
          return std::unexpected("unknown escape \\" + std::string(1, next) +
                                 " in quoted value (only \\\" and \\\\)");
        }
        ++pos;
      }
      t.text += line[pos];
    }
    if (pos >= line.size()) return std::unexpected(std::string("unterminated quoted value"));
    ++pos;  // the closing quote
    if (pos < line.size() && !is_space(line[pos])) {
      return std::unexpected("text after closing quote: " + quote(line.substr(pos)));
    }
    t.end = pos;
    return t;
  }
  size_t start = pos;
  while (pos < line.size() && !is_space(line[pos])) {
    if (line[pos] == '"') {
      return std::unexpected("quote inside a value: quote the whole value, " +
                             quote(line.substr(start)));
    }
    ++pos;
  }
  t.text = std::string(line.substr(start, pos - start));
  t.end = pos;
  return t;
}

// A key: up to white space (or `extra_separator`), a quoted local part kept
// whole with its quotes.
std::expected<Token, std::string> read_key(std::string_view line, size_t pos,
                                           char extra_separator) {
  Token t;
  size_t start = pos;
  bool in_quote = false;
  while (pos < line.size()) {
    char c = line[pos];
    if (in_quote) {
      if (c == '\\') {
        pos += 2;
        continue;
      }
      if (c == '"') in_quote = false;
    } else if (is_space(c) || c == extra_separator) {
      break;
    } else if (c == '"') {
      in_quote = true;
    }
    ++pos;
  }
  pos = std::min(pos, line.size());
  if (in_quote) return std::unexpected("unterminated quote in key " + quote(line.substr(start)));
  t.text = std::string(line.substr(start, pos - start));
  t.end = pos;
  return t;
}

// A key as written in a table or set, in the form lookup_keys() produces.
std::expected<std::string, std::string> normalize_key(std::string_view k) {
  if (k == "<>" || k == ".") return std::string(k);
  std::string_view raw = k;
  k = strip_angle_brackets(k);
  if (k.empty()) return std::unexpected("bad key " + quote(raw));
  AddressParts p = split_address(k);
  if (p.local.size() < k.size()) {  // it had an '@': an address or "user@"
    return ascii_lower(p.local) + "@" + normalize_domain(p.domain);
  }
  // A domain key: "example.com" or ".example.com".
  if (k.find_first_of("=\"") != std::string_view::npos) {
    return std::unexpected("bad key " + quote(raw) + " (a key comes first: KEY setting=value)");
  }
  std::string d = normalize_domain(k);  // keeps a leading dot
  if (d.empty()) return std::unexpected("bad key " + quote(raw));
  return d;
}

std::optional<bool> parse_bool(std::string_view v) {
  std::string s = ascii_lower(v);
  if (s == "yes" || s == "true" || s == "on" || s == "1") return true;
  if (s == "no" || s == "false" || s == "off" || s == "0") return false;
  return std::nullopt;
}

std::optional<double> parse_number(std::string_view v) {
  double d = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d)) {
    return std::nullopt;
  }
  return d;
}

bool blank_or_comment(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  return i == line.size() || line[i] == '#';
}

}  // namespace

std::vector<std::string> lookup_keys(std::string_view address, char recipient_delimiter) {
  address = strip_angle_brackets(address);
  if (address.empty()) return {"<>", "."};  // the null sender
  AddressParts parts = split_address(address);
  std::string local = ascii_lower(parts.local);
  std::string domain = normalize_domain(parts.domain);
  size_t ext = extension_start(local, recipient_delimiter, parts.quoted);
  std::string user = local.substr(0, ext);

  std::vector<std::string> keys;
  keys.reserve(6 + kMaxDomainKeys);
  if (!domain.empty()) {
    if (ext != std::string::npos) keys.push_back(local + "@" + domain);
    keys.push_back(user + "@" + domain);
  }
  if (ext != std::string::npos) keys.push_back(local + "@");
  keys.push_back(user + "@");
  if (!domain.empty()) {
    keys.push_back(domain);
    if (domain.front() != '[') add_domain_keys(domain, keys);  // literals are not split
  }
  keys.push_back(".");
  // Odd domains ("@.example.com", "a..b") can repeat a key; keep the first.
  size_t kept = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (std::find(keys.begin(), keys.begin() + kept, keys[i]) != keys.begin() + kept) continue;
    if (i != kept) keys[kept] = std::move(keys[i]);
    ++kept;
  }
  keys.resize(kept);
  return keys;
}

std::expected<LookupSet, std::string> LookupSet::parse(std::string_view text) {
  LookupSet set;
  size_t pos = 0;
  while (true) {
    while (pos < text.size() && (is_space(text[pos]) || text[pos] == ',')) ++pos;
    if (pos >= text.size()) break;
    auto token = read_key(text, pos, ',');
    if (!token) return std::unexpected(token.error());
    pos = token->end;
    auto key = normalize_key(token->text);
    if (!key) return std::unexpected(key.error());
    set.keys_.insert(std::move(*key));
  }
  return set;
}

std::optional<std::string> LookupSet::find(std::string_view address,
                                           char recipient_delimiter) const {
  if (keys_.empty()) return std::nullopt;
  for (auto& k : lookup_keys(address, recipient_delimiter)) {
    if (keys_.contains(k)) return std::move(k);
  }
  return std::nullopt;
}

const ResolvedSetting* Resolved::find(std::string_view name) const {
  for (const auto& s : settings) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<bool> Resolved::get_bool(std::string_view name) const {
  const ResolvedSetting* s = find(name);
  if (s == nullptr || !std::holds_alternative<bool>(s->value)) return std::nullopt;
  return std::get<bool>(s->value);
}

std::optional<double> Resolved::get_number(std::string_view name) const {
  const ResolvedSetting* s = find(name);
  if (s == nullptr || !std::holds_alternative<double>(s->value)) return std::nullopt;
  return std::get<double>(s->value);
}

std::optional<std::string_view> Resolved::get_string(std::string_view name) const {
  const ResolvedSetting* s = find(name);
  if (s == nullptr || !std::holds_alternative<std::string>(s->value)) return std::nullopt;
  return std::string_view(std::get<std::string>(s->value));
}

RecipientTable::RecipientTable(SettingSchema schema) : schema_(std::move(schema)) {
  for (size_t i = 0; i < schema_.size(); ++i) {
    if (!index_.emplace(schema_[i].name, i).second) {
      throw std::invalid_argument("setting " + schema_[i].name + " twice in the schema");
    }
  }
}

std::expected<RecipientTable::ParsedEntry, std::string> RecipientTable::parse_entry(
    std::string_view line) const {
  size_t pos = 0;
  while (pos < line.size() && is_space(line[pos])) ++pos;
  if (pos >= line.size() || line[pos] == '#') {
    return std::unexpected(std::string("empty entry: expected KEY setting=value ..."));
  }
  auto key_token = read_key(line, pos, 0);
  if (!key_token) return std::unexpected(key_token.error());
  pos = key_token->end;
  auto key = normalize_key(key_token->text);
  if (!key) return std::unexpected(key.error());

  ParsedEntry parsed{std::move(*key), {}};
  auto& values = parsed.entry.values;
  while (true) {
    while (pos < line.size() && is_space(line[pos])) ++pos;
    if (pos >= line.size() || line[pos] == '#') break;
    size_t start = pos;
    while (pos < line.size() && line[pos] != '=' && !is_space(line[pos])) ++pos;
    std::string_view name = line.substr(start, pos - start);
    if (pos >= line.size() || line[pos] != '=') {
      return std::unexpected("expected setting=value, got " + quote(name));
    }
    auto it = index_.find(std::string(name));
    if (it == index_.end()) return std::unexpected("unknown setting " + quote(name));
    const size_t index = it->second;
    const SettingSpec& spec = schema_[index];
    auto value = read_value(line, pos + 1);
    if (!value) return std::unexpected(spec.name + ": " + value.error());
    pos = value->end;
    if (std::any_of(values.begin(), values.end(),
                    [&](const auto& v) { return v.first == index; })) {
      return std::unexpected(spec.name + " given twice");
    }
    switch (spec.type) {
      case SettingType::kBool:
        if (auto b = parse_bool(value->text)) {
          values.emplace_back(index, *b);
        } else {
          return std::unexpected(spec.name + ": " + quote(value->text) +
                                 " is not a boolean (yes/no, true/false, on/off, 1/0)");
        }
        break;
      case SettingType::kNumber:
        if (auto d = parse_number(value->text)) {
          values.emplace_back(index, *d);
        } else {
          return std::unexpected(spec.name + ": " + quote(value->text) + " is not a number");
        }
        break;
      case SettingType::kString:
        values.emplace_back(index, std::move(value->text));
        break;
    }
  }
  if (values.empty()) return std::unexpected("key " + quote(parsed.key) + " has no settings");
  std::sort(values.begin(), values.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return parsed;
}

void RecipientTable::merge(ParsedEntry parsed) {
  auto& values = entries_[std::move(parsed.key)].values;
  for (auto& [index, value] : parsed.entry.values) {
    auto it = std::lower_bound(values.begin(), values.end(), index,
                               [](const auto& v, size_t i) { return v.first < i; });
    if (it != values.end() && it->first == index) {
      it->second = std::move(value);
    } else {
      values.emplace(it, index, std::move(value));
    }
  }
}

std::expected<void, std::string> RecipientTable::add_entry(std::string_view entry,
                                                           std::string_view origin) {
  auto parsed = parse_entry(entry);
  if (!parsed) return std::unexpected(std::string(origin) + ": " + parsed.error());
  merge(std::move(*parsed));
  return {};
}

std::expected<void, std::string> RecipientTable::add_entries(std::string_view text,
                                                             std::string_view origin) {
  std::vector<ParsedEntry> parsed;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (blank_or_comment(line)) continue;
    auto entry = parse_entry(line);
    if (!entry) {
      return std::unexpected(std::string(origin) + ":" + std::to_string(line_no) + ": " +
                             entry.error());
    }
    parsed.push_back(std::move(*entry));
  }
  for (auto& p : parsed) merge(std::move(p));
  return {};
}

Resolved RecipientTable::resolve(std::string_view address, char recipient_delimiter) const {
  Resolved r;
  if (entries_.empty()) return r;
  struct Found {
    const SettingValue* value = nullptr;
    const std::string* key = nullptr;
  };
  std::vector<Found> found(schema_.size());
  size_t missing = schema_.size();
  for (const auto& key : lookup_keys(address, recipient_delimiter)) {
    auto it = entries_.find(key);
    if (it == entries_.end()) continue;
    for (const auto& [index, value] : it->second.values) {
      if (found[index].value == nullptr) {
        found[index] = {&value, &it->first};
        --missing;
      }
    }
    if (missing == 0) break;
  }
  for (size_t i = 0; i < found.size(); ++i) {
    if (found[i].value != nullptr) {
      r.settings.push_back({schema_[i].name, *found[i].value, *found[i].key});
    }
  }
  return r;
}

std::expected<RecipientTable, std::string> load_recipient_table(const std::string& path,
                                                                SettingSchema schema) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::unexpected(path + ": read error");
  RecipientTable table(std::move(schema));
  if (auto ok = table.add_entries(text.str(), path); !ok) return std::unexpected(ok.error());
  return table;
}

}  // namespace filterd::policy
