// perl_re.cc — PerlRe over PCRE2. See perl_re.h.
#include "spam/perl_re.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cassert>
#include <memory>

namespace filterd::spam {
namespace {

// Matches cost at most this many backtracking steps: input is untrusted.
constexpr uint32_t kMatchLimit = 1'000'000;

// The limits, shared read-only by every match on every thread.
const pcre2_match_context* limits() {
  static pcre2_match_context* const context = [] {
    pcre2_match_context* c = pcre2_match_context_create(nullptr);
    pcre2_set_match_limit(c, kMatchLimit);
    pcre2_set_depth_limit(c, 10000);
    return c;
  }();
  return context;
}

// Per-thread match data, reused by every match on the thread; a pattern
// with more groups than it holds gets its own for the call.
constexpr uint32_t kSharedPairs = 64;

struct MatchData {
  pcre2_match_data* data;
  bool owned;
  explicit MatchData(const pcre2_code* code) {
    struct Free {
      void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
    };
    thread_local const std::unique_ptr<pcre2_match_data, Free> holder(
        pcre2_match_data_create(kSharedPairs, nullptr));
    pcre2_match_data* const shared = holder.get();
    uint32_t groups = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
    owned = shared == nullptr || groups + 1 > kSharedPairs;
    data = owned ? pcre2_match_data_create_from_pattern(code, nullptr) : shared;
  }
  ~MatchData() {
    if (owned) pcre2_match_data_free(data);
  }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
};

}  // namespace

PerlRe::PerlRe(std::string_view pattern, std::string_view flags) {
  uint32_t options = 0;
  for (char f : flags) {
    if (f == 'i') options |= PCRE2_CASELESS;
    if (f == 'x') options |= PCRE2_EXTENDED;
    if (f == 's') options |= PCRE2_DOTALL;
    if (f == 'm') options |= PCRE2_MULTILINE;
  }
  int error = 0;
  PCRE2_SIZE offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                        &error, &offset, nullptr);
  assert(code_ && "PerlRe: pattern does not compile");
  if (code_) pcre2_jit_compile(static_cast<pcre2_code*>(code_), PCRE2_JIT_COMPLETE);
}

PerlRe::~PerlRe() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

bool PerlRe::search(std::string_view subject, size_t start) const {
  if (!code_ || start > subject.size()) return false;
  auto* code = static_cast<pcre2_code*>(code_);
  MatchData md(code);
  return md.data != nullptr &&
         pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), start, 0,
                     md.data, const_cast<pcre2_match_context*>(limits())) > 0;
}

bool PerlRe::search(std::string_view subject, std::vector<std::string>& groups, size_t start,
                    size_t* end) const {
  groups.clear();
  if (!code_ || start > subject.size()) return false;
  auto* code = static_cast<pcre2_code*>(code_);
  MatchData md(code);
  const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(),
                             start, 0, md.data, const_cast<pcre2_match_context*>(limits()));
  if (rc <= 0) return false;
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.data);
  uint32_t count = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &count);
  for (uint32_t i = 0; i <= count; ++i) {
    if (static_cast<int>(i) < rc && ov[2 * i] != PCRE2_UNSET)
      groups.emplace_back(subject.substr(ov[2 * i], ov[2 * i + 1] - ov[2 * i]));
    else
      groups.emplace_back();
  }
  if (end) *end = ov[1];
  return true;
}

size_t PerlRe::replace(std::string& subject, std::string_view replacement, bool all) const {
  std::string out;
  size_t pos = 0, made = 0;
  std::vector<std::string> g;
  size_t end = 0;
  while (pos <= subject.size()) {
    if (!search(subject, g, pos, &end)) break;
    const size_t begin = end - g[0].size();
    out.append(subject, pos, begin - pos);
    for (size_t i = 0; i < replacement.size(); ++i) {
      if (replacement[i] == '$' && i + 1 < replacement.size() && replacement[i + 1] >= '1' &&
          replacement[i + 1] <= '9') {
        const size_t n = replacement[++i] - '0';
        if (n < g.size()) out += g[n];
      } else {
        out += replacement[i];
      }
    }
    ++made;
    if (end == begin) {  // empty match: keep one character and move on
      if (end < subject.size()) out += subject[end];
      pos = end + 1;
    } else {
      pos = end;
    }
    if (!all) break;
  }
  if (!made) return 0;
  if (pos < subject.size()) out.append(subject, pos);
  subject = std::move(out);
  return made;
}

}  // namespace filterd::spam
