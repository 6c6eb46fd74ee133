// banned.cc — see banned.h. PCRE2 objects live in unique_ptr holders; the
// compiled patterns and the match context (the limits) are written once at
// parse time and only read afterwards, which PCRE2 documents as safe to share
// between threads (pcre2api, MULTITHREADING); match data is per thread.
#include "policy/banned.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fcntl.h>
#include <pcre2.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace filterd::policy {
namespace {

// A rules file is a few KiB; anything much larger is the wrong path (a log,
// /dev/zero) rather than rules.
constexpr size_t kMaxRulesFileBytes = 1 << 20;

struct CodeFree {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct MatchContextFree {
  void operator()(pcre2_match_context* c) const { pcre2_match_context_free(c); }
};
struct MatchDataFree {
  void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
};
using Code = std::unique_ptr<pcre2_code, CodeFree>;
using MatchContext = std::unique_ptr<pcre2_match_context, MatchContextFree>;
using MatchData = std::unique_ptr<pcre2_match_data, MatchDataFree>;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof buf) < 0) return "error " + std::to_string(code);
  return reinterpret_cast<const char*>(buf);
}

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4: no
// overlong forms, no surrogates, nothing above U+10FFFF), 0 if there is none.
size_t utf8_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  unsigned c = at(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

bool well_formed(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// `s` with each byte that is not part of well-formed UTF-8 replaced by
// U+FFFD, so that `.` and character classes can step over it: with
// PCRE2_MATCH_INVALID_UTF alone an invalid byte matches nothing, and
// "\xff.exe" would escape `.\.exe$`.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// The keys one part contributes to its own and its descendants' chains
// (banned.h, "Keys"), each valid UTF-8.
std::vector<std::string> level_keys(const decoders::Part& p) {
  std::vector<std::string> keys;
  if (!p.detected_type.empty()) keys.push_back(p.detected_type);
  if (!p.declared_type.empty()) keys.push_back(p.declared_type);
  std::string types;
  auto field = [&](std::string& out, const char* name, const std::string& value) {
    if (value.empty()) return;
    if (!out.empty()) out += '\t';
    out += name;
    out += value;
  };
  field(types, "T=", p.detected_type);
  field(types, "M=", p.declared_type);
  bool named = false;
  for (const auto& name : p.declared_names) {
    if (name.empty()) continue;
    named = true;
    keys.push_back(name);
    std::string combined = types;
    field(combined, "N=", name);
    keys.push_back(std::move(combined));
  }
  if (!named && !types.empty()) keys.push_back(std::move(types));
  for (auto& k : keys) {
    if (!well_formed(k)) k = valid_utf8(k);
  }
  return keys;
}

}  // namespace

struct BannedRules::Impl {
  std::string origin;
  std::vector<BannedRule> rules;
  std::vector<Code> codes;  // codes[i] is rules[i]'s pattern
  MatchContext context;     // PCRE2's limits
  size_t max_key_bytes = 0;
};

BannedRules::BannedRules(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BannedRules::BannedRules(BannedRules&&) noexcept = default;
BannedRules& BannedRules::operator=(BannedRules&&) noexcept = default;
BannedRules::~BannedRules() = default;

const std::vector<BannedRule>& BannedRules::rules() const {
  return impl_->rules;
}
const std::string& BannedRules::origin() const {
  return impl_->origin;
}

std::expected<BannedRules, std::string> parse_banned_rules(std::string_view text,
                                                           std::string_view origin,
                                                           const BannedLimits& limits) {
  auto impl = std::make_unique<BannedRules::Impl>();
  impl->origin = std::string(origin);
  impl->context.reset(pcre2_match_context_create(nullptr));
  if (!impl->context) return std::unexpected(std::string(origin) + ": out of memory");
  pcre2_set_match_limit(impl->context.get(), limits.match_limit);
  pcre2_set_depth_limit(impl->context.get(), limits.depth_limit);
  pcre2_set_heap_limit(impl->context.get(), limits.heap_limit_kib);
  impl->max_key_bytes = limits.max_key_bytes;

  constexpr std::string_view kSpace = " \t\r\f\v";
  int line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    auto fail = [&](const std::string& why) {
      return std::unexpected(std::string(origin) + ":" + std::to_string(line_no) + ": " + why);
    };
    size_t first = line.find_first_not_of(kSpace);
    if (first == std::string_view::npos || line[first] == '#') continue;
    line = line.substr(first, line.find_last_not_of(kSpace) + 1 - first);
    size_t gap = line.find_first_of(kSpace);
    std::string_view keyword = line.substr(0, gap);
    BannedAction action;
    if (keyword == "ban") {
      action = BannedAction::kBan;
    } else if (keyword == "allow") {
      action = BannedAction::kAllow;
    } else {
      return fail("unknown keyword '" + log_safe(keyword, 40) + "' (ban or allow)");
    }
    std::string_view pattern;
    if (gap != std::string_view::npos) pattern = line.substr(line.find_first_not_of(kSpace, gap));
    if (pattern.empty()) return fail("missing pattern after '" + std::string(keyword) + "'");

    int error = 0;
    PCRE2_SIZE offset = 0;
    Code code(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                            PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C, &error,
                            &offset, nullptr));
    if (!code) {
      return fail("bad pattern: " + pcre2_message(error) + " at offset " + std::to_string(offset));
    }
    // No JIT on this CPU or build: the interpreter matches, a little slower.
    (void)pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE);
    impl->rules.push_back({action, std::string(keyword) + " " + std::string(pattern), line_no});
    impl->codes.push_back(std::move(code));
  }
  return BannedRules(std::move(impl));
}

std::expected<BannedRules, std::string> load_banned_rules(const std::string& path,
                                                          const BannedLimits& limits) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(path + ": " + std::strerror(errno));
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return std::unexpected(path + ": " + why);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxRulesFileBytes) {
      ::close(fd);
      return std::unexpected(path + ": larger than " + std::to_string(kMaxRulesFileBytes) +
                             " bytes, not a rules file");
    }
  }
  ::close(fd);
  return parse_banned_rules(text, path, limits);
}

namespace {

// match_key()'s own error, beside PCRE2's (which are above -100).
constexpr int kKeyTooLong = -1000;

// Matches `key` against `code`: > 0 match, PCRE2_ERROR_NOMATCH, or another
// negative value, an error (a limit was reached).
int match_key(const pcre2_code* code, const std::string& key, pcre2_match_context* context,
              size_t max_key_bytes) {
  if (key.size() > max_key_bytes) return kKeyTooLong;
  // One ovector pair is enough: only whether it matched counts (rc 0, "ovector
  // too small", is a match too).
  thread_local MatchData data(pcre2_match_data_create(1, nullptr));
  if (!data) return PCRE2_ERROR_NOMEMORY;
  auto subject = reinterpret_cast<PCRE2_SPTR>(key.data());
  int rc = pcre2_match(code, subject, key.size(), 0, 0, data.get(), context);
  // The JIT's stack is small (32 KiB); the interpreter's memory is bounded by
  // the heap limit instead, so let it try before failing closed.
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    rc = pcre2_match(code, subject, key.size(), 0, PCRE2_NO_JIT, data.get(), context);
  }
  return rc >= 0 ? 1 : rc;
}

std::string error_message(int error, size_t max_key_bytes) {
  if (error == 0) return "";
  if (error == kKeyTooLong) return "key longer than " + std::to_string(max_key_bytes) + " bytes";
  return pcre2_message(error);
}

}  // namespace

std::vector<BannedPart> match_banned(const BannedRules& rules,
                                     const std::vector<decoders::Part>& parts) {
  const BannedRules::Impl& impl = *rules.impl_;
  std::vector<std::vector<std::string>> keys;
  keys.reserve(parts.size());
  for (const auto& p : parts) keys.push_back(level_keys(p));

  std::vector<BannedPart> banned;
  std::vector<size_t> chain;
  for (size_t i = 0; i < parts.size(); ++i) {
    chain.clear();
    for (size_t j = i;;) {
      chain.push_back(j);
      int parent = parts[j].parent;
      if (parent < 0 || static_cast<size_t>(parent) >= j) break;  // pre-order: parents come first
      j = static_cast<size_t>(parent);
    }
    for (size_t r = 0; r < impl.rules.size(); ++r) {
      const BannedRule& rule = impl.rules[r];
      const std::string* matched = nullptr;
      int error = 0;
      for (size_t level : chain) {
        for (const auto& key : keys[level]) {
          int rc = match_key(impl.codes[r].get(), key, impl.context.get(), impl.max_key_bytes);
          if (rc > 0 || (rc != PCRE2_ERROR_NOMATCH && rule.action == BannedAction::kBan)) {
            matched = &key;
            error = rc > 0 ? 0 : rc;
            break;
          }
        }
        if (matched) break;
      }
      if (!matched) continue;
      if (rule.action == BannedAction::kBan) {
        banned.push_back({i, log_safe(parts[i].label(), kBannedMaxLabelBytes),
                          log_safe(parts[i].detected_type, kBannedMaxKeyBytes),
                          log_safe(*matched, kBannedMaxKeyBytes), rule.line, rule.text,
                          error_message(error, impl.max_key_bytes)});
      }
      break;
    }
  }
  return banned;
}

std::string banned_reason(const BannedPart& banned) {
  std::string out = banned.label;
  if (!banned.detected_type.empty()) {
    if (!out.empty()) out += ' ';
    out += banned.detected_type;
  }
  return out;
}

std::string log_safe(std::string_view s, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() <= max_bytes;) {
    size_t n = utf8_length(s, i);
    auto c = static_cast<unsigned char>(s[i]);
    bool c0 = n == 1 && (c < 0x20 || c == 0x7f);
    bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
    if (n == 0 || c0 || c1) {
      out += '?';
      i += n == 0 ? 1 : n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  if (out.size() <= max_bytes) return out;
  // `out` is well-formed UTF-8 here, so backing off continuation bytes finds
  // a character boundary.
  size_t cut = max_bytes >= 3 ? max_bytes - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  if (max_bytes >= 3) out += "...";
  return out;
}

}  // namespace filterd::policy
