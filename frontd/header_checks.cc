// header_checks.cc — see header_checks.h.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "frontd/header_checks.h"

#include <pcre2.h>

#include <fstream>
#include <sstream>

#include "frontd/address.h"
#include "frontd/mail_header.h"

namespace filterd::frontd {
namespace {

struct CodeFree {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct MatchDataFree {
  void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
};

// Match limits: a pathological pattern on a hostile header ends as "no
// match", never as a hang (PCRE2's defaults are 10 million steps).
constexpr uint32_t kMatchLimit = 1'000'000;
// Header fields longer than this are matched on their first part only.
constexpr size_t kMaxMatchLength = 64 * 1024;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Text that becomes a header line: one line (CR, LF and other controls but
// TAB become spaces), at most 998 bytes (RFC 5322 §2.1.1).
std::string field_line(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 998)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 32 && c != '\t') || u == 127 ? ' ' : c;
  }
  return out + "\r\n";
}

}  // namespace

struct HeaderChecks::Rule {
  std::unique_ptr<pcre2_code, CodeFree> code;
  bool negated = false;
  Action action = Action::kDunno;
  std::string text;
};

HeaderChecks::HeaderChecks() = default;
HeaderChecks::~HeaderChecks() = default;
HeaderChecks::HeaderChecks(HeaderChecks&&) noexcept = default;
HeaderChecks& HeaderChecks::operator=(HeaderChecks&&) noexcept = default;
size_t HeaderChecks::size() const {
  return rules_.size();
}

std::expected<HeaderChecks, std::string> HeaderChecks::load(const std::string& spec) {
  std::string path;
  for (std::string_view type : {"regexp:", "pcre:"}) {
    if (spec.starts_with(type)) path = spec.substr(type.size());
  }
  if (path.empty() || path.front() != '/') {
    return std::unexpected("expected regexp:/PATH or pcre:/PATH, got '" + spec + "'");
  }
  std::ifstream in(path);
  if (!in) return std::unexpected(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return parse(s.str(), path);
}

std::expected<HeaderChecks, std::string> HeaderChecks::parse(std::string_view text,
                                                             std::string_view name) {
  HeaderChecks out;
  // Logical lines first (continuations), remembering where each began.
  std::vector<std::pair<int, std::string>> lines;
  int n = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++n;
    if (trim(line).empty() || trim(line).front() == '#') continue;
    if ((line.front() == ' ' || line.front() == '\t') && !lines.empty()) {
      lines.back().second += " " + std::string(trim(line));
      continue;
    }
    lines.emplace_back(n, std::string(trim(line)));
  }
  for (const auto& [line_no, line] : lines) {
    const std::string where = std::string(name) + ":" + std::to_string(line_no) + ": ";
    std::string_view rest = line;
    auto rule = std::make_unique<Rule>();
    if (rest.starts_with("if ") || rest == "endif") {
      return std::unexpected(where + "if/endif blocks are not supported");
    }
    if (rest.starts_with("!")) {
      rule->negated = true;
      rest.remove_prefix(1);
    }
    if (rest.empty()) return std::unexpected(where + "expected /pattern/ ACTION");
    const char delim = rest.front();
    std::string pattern;
    size_t i = 1;
    for (; i < rest.size() && rest[i] != delim; ++i) {
      if (rest[i] == '\\' && i + 1 < rest.size() && rest[i + 1] == delim) {
        pattern += delim;  // an escaped delimiter is the character itself
        ++i;
      } else {
        pattern += rest[i];
      }
    }
    if (i >= rest.size())
      return std::unexpected(where + "missing closing " + std::string(1, delim));
    rest.remove_prefix(i + 1);
    uint32_t options = PCRE2_CASELESS;  // Postfix: case-insensitive unless "i"
    while (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') {
      switch (rest.front()) {
        case 'i':
          options ^= PCRE2_CASELESS;
          break;
        case 'm':
          options |= PCRE2_MULTILINE;
          break;
        case 's':
          options |= PCRE2_DOTALL;
          break;
        case 'x':
          options |= PCRE2_EXTENDED;
          break;
        default:
          return std::unexpected(where + "unknown flag '" + std::string(1, rest.front()) + "'");
      }
      rest.remove_prefix(1);
    }
    rest = trim(rest);
    const size_t sp = rest.find_first_of(" \t");
    const std::string action = ascii_lower(rest.substr(0, sp));
    rule->text = sp == std::string_view::npos ? "" : std::string(trim(rest.substr(sp)));
    if (action == "ignore") {
      rule->action = Action::kIgnore;
    } else if (action == "reject") {
      rule->action = Action::kReject;
    } else if (action == "warn") {
      rule->action = Action::kWarn;
    } else if (action == "discard") {
      rule->action = Action::kDiscard;
    } else if (action == "replace" || action == "prepend") {
      rule->action = action == "replace" ? Action::kReplace : Action::kPrepend;
      const size_t colon = rule->text.find(':');
      if (colon == std::string::npos || colon == 0 || rule->text.find_first_of(" \t") < colon) {
        return std::unexpected(where + action + " needs a header field 'Name: value'");
      }
    } else if (action == "dunno" || action == "ok") {
      rule->action = Action::kDunno;
    } else if (action.empty()) {
      return std::unexpected(where + "missing action");
    } else {
      return std::unexpected(where + "unsupported action '" + action + "'");
    }
    int err = 0;
    PCRE2_SIZE offset = 0;
    rule->code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &offset,
                                   nullptr));
    if (!rule->code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      return std::unexpected(where + "bad pattern: " + reinterpret_cast<char*>(msg));
    }
    if (rule->negated && rule->text.find('$') != std::string::npos) {
      return std::unexpected(where + "a negated pattern has no $N captures");
    }
    out.rules_.push_back(std::move(rule));
  }
  return out;
}

HeaderChecks::Result HeaderChecks::apply(std::string_view message) const {
  Result r;
  const std::string_view head = header_section(message);
  std::unique_ptr<pcre2_match_context, void (*)(pcre2_match_context*)> mctx(
      pcre2_match_context_create(nullptr), pcre2_match_context_free);
  pcre2_set_match_limit(mctx.get(), kMatchLimit);
  std::unique_ptr<pcre2_match_data, MatchDataFree> md(pcre2_match_data_create(10, nullptr));

  // Split the header section into raw fields (with their line ends).
  std::vector<std::string_view> fields;
  for (size_t pos = 0; pos < head.size();) {
    size_t end = pos;
    do {
      size_t nl = head.find('\n', end);
      end = nl == std::string_view::npos ? head.size() : nl + 1;
    } while (end < head.size() && (head[end] == ' ' || head[end] == '\t'));
    fields.push_back(head.substr(pos, end - pos));
    pos = end;
  }
  std::string out;
  out.reserve(message.size());
  for (std::string_view field : fields) {
    std::string logical;
    for (char c : field) {
      if (c != '\r' && c != '\n') logical += c;
    }
    const std::string_view subject = std::string_view(logical).substr(0, kMaxMatchLength);
    const Rule* hit = nullptr;
    for (const auto& rule : rules_) {
      const int rc = pcre2_match(rule->code.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                                 subject.size(), 0, 0, md.get(), mctx.get());
      if ((rc >= 0) != rule->negated) {
        hit = rule.get();
        break;
      }
    }
    if (hit == nullptr || hit->action == Action::kDunno) {
      out += field;
      continue;
    }
    // $N expansion from this match's captures.
    std::string text;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    const uint32_t pairs = pcre2_get_ovector_count(md.get());
    for (size_t i = 0; i < hit->text.size(); ++i) {
      const char c = hit->text[i];
      size_t k = i + 1;
      const bool braced = k < hit->text.size() && hit->text[k] == '{';
      if (braced) ++k;
      if (c == '$' && k < hit->text.size() && hit->text[k] >= '1' && hit->text[k] <= '9' &&
          (!braced || (k + 1 < hit->text.size() && hit->text[k + 1] == '}'))) {
        const uint32_t g = static_cast<uint32_t>(hit->text[k] - '0');
        if (!hit->negated && g < pairs && ov[2 * g] != PCRE2_UNSET) {
          text += std::string(subject.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]));
        }
        i = braced ? k + 1 : k;
      } else {
        text += c;
      }
    }
    r.events.push_back(Event{hit->action, printable(logical, 200), text});
    switch (hit->action) {
      case Action::kIgnore:
        break;
      case Action::kReject:
        r.reject = smtp::Reply{550, "5.7.1", text.empty() ? "message content rejected" : text};
        return r;
      case Action::kDiscard:
        r.discard = true;
        return r;
      case Action::kWarn:
        out += field;
        break;
      case Action::kReplace:
        out += field_line(text);
        break;
      case Action::kPrepend:
        out += field_line(text);
        out += field;
        break;
      case Action::kDunno:
        break;
    }
  }
  out += message.substr(head.size());
  r.message = std::move(out);
  return r;
}

}  // namespace filterd::frontd
