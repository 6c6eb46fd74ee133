// matcher_match.cc — PatternSet::match: one Hyperscan scan per text, then
// PCRE2 where it confirms (prefilter), counts (`multiple`) or runs alone.
#include <algorithm>

#include "spam/matcher_internal.h"

namespace filterd::spam {
namespace {

struct MatchDataFree {
  void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
};
using MatchData = std::unique_ptr<pcre2_match_data, MatchDataFree>;

// A scratch space from the set's pool for the length of one match() call:
// Hyperscan's scratch must not be used by two scans at once.
class ScratchLease {
 public:
  explicit ScratchLease(const PatternSet::Impl& impl) : impl_(impl) {
    if (!impl.prototype) return;
    {
      std::lock_guard lock(impl.pool_mutex);
      if (!impl.pool.empty()) {
        scratch_ = std::move(impl.pool.back());
        impl.pool.pop_back();
      }
    }
    if (!scratch_) {
      hs_scratch_t* s = nullptr;
      if (hs_clone_scratch(impl.prototype.get(), &s) == HS_SUCCESS) scratch_.reset(s);
    }
  }
  ~ScratchLease() {
    if (!scratch_) return;
    std::lock_guard lock(impl_.pool_mutex);
    impl_.pool.push_back(std::move(scratch_));
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  hs_scratch_t* get() const { return scratch_.get(); }

 private:
  const PatternSet::Impl& impl_;
  HsScratch scratch_;
};

// One pcre2_match, retried in the interpreter when the JIT's small stack
// (32 KiB) runs out: the interpreter is bounded by the heap limit instead.
int run(const PatternEntry& e, std::string_view text, size_t start, uint32_t options,
        pcre2_match_data* data, pcre2_match_context* context) {
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  int rc = pcre2_match(e.code.get(), subject, text.size(), start, options, data, context);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    rc = pcre2_match(e.code.get(), subject, text.size(), start, options | PCRE2_NO_JIT, data,
                     context);
  }
  return rc;
}

// Matches of `e` in `text` like Perl's `while (/re/g)`: each search starts
// where the last match ended; after an empty match, the next may not be
// empty at the same place. At most `cap`. -1 if PCRE2 failed (a limit).
int64_t count_matches(const PatternEntry& e, std::string_view text, uint32_t cap,
                      pcre2_match_data* data, pcre2_match_context* context) {
  int64_t n = 0;
  size_t start = 0;
  uint32_t options = 0;
  while (static_cast<uint64_t>(n) < cap && start <= text.size()) {
    int rc = run(e, text, start, options, data, context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) return -1;
    ++n;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
    if (ov[1] < start) break;  // \K tricks: never loop
    options = ov[0] == ov[1] ? PCRE2_NOTEMPTY_ATSTART : 0;
    start = ov[1];
  }
  return n;
}

int on_hs_match(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  static_cast<std::vector<uint32_t>*>(ctx)->push_back(id);
  return 0;  // HS_FLAG_SINGLEMATCH already stops each pattern at its first match
}

}  // namespace

MatchResult PatternSet::match(std::span<const std::string_view> texts) const {
  const Impl& impl = *impl_;
  MatchResult result;
  // 0 data means out of memory: every PCRE2 pattern then counts as aborted.
  thread_local MatchData data(pcre2_match_data_create(1, nullptr));
  std::vector<uint32_t> counts(impl.entries.size(), 0);
  std::vector<uint8_t> aborted(impl.entries.size(), 0);
  std::vector<uint32_t> reported;
  ScratchLease scratch(impl);

  // Runs PCRE2 for entry `i` on `text`: existence, or counting up to its cap.
  auto run_pcre2 = [&](uint32_t i, std::string_view text) {
    const PatternEntry& e = impl.entries[i];
    if (!e.code || !data) {
      aborted[i] = 1;
      return;
    }
    if (!e.spec.multiple) {
      if (counts[i] > 0) return;  // existence already known
      int rc = run(e, text, 0, 0, data.get(), impl.context.get());
      if (rc >= 0) {
        counts[i] = 1;
      } else if (rc != PCRE2_ERROR_NOMATCH) {
        aborted[i] = 1;
      }
      return;
    }
    uint32_t cap = e.spec.max_hits > 0 ? e.spec.max_hits : impl.limits.max_count;
    if (counts[i] >= cap) return;
    int64_t n = count_matches(e, text, cap - counts[i], data.get(), impl.context.get());
    if (n < 0) {
      aborted[i] = 1;
    } else {
      counts[i] += static_cast<uint32_t>(n);
    }
  };

  for (std::string_view text : texts) {
    reported.clear();
    if (!impl.databases.empty()) {
      // Hyperscan wants a non-null pointer even for an empty text.
      const char* p = text.data() ? text.data() : "";
      hs_error_t rc = scratch.get() && text.size() <= UINT32_MAX ? HS_SUCCESS : HS_NOMEM;
      for (size_t k = 0; k < impl.databases.size() && rc == HS_SUCCESS; ++k) {
        rc = hs_scan(impl.databases[k].get(), p, static_cast<unsigned>(text.size()), 0,
                     scratch.get(), on_hs_match, &reported);
      }
      if (rc != HS_SUCCESS) {
        // No answer from Hyperscan (out of memory, text over 4 GiB): PCRE2
        // decides what it can; the rest could not be judged.
        for (uint32_t i = 0; i < impl.entries.size(); ++i) {
          Engine e = impl.reports[i].engine;
          if (e != Engine::kHyperscan && e != Engine::kPcre2Prefiltered) continue;
          if (impl.entries[i].code) {
            run_pcre2(i, text);
          } else {
            aborted[i] = 1;
          }
        }
        reported.clear();
      }
    }
    for (uint32_t i : reported) {
      // Exact on Hyperscan unless it must be counted (and can be).
      const PatternEntry& e = impl.entries[i];
      if (impl.reports[i].engine == Engine::kHyperscan && (!e.spec.multiple || !e.code)) {
        counts[i] = std::max<uint32_t>(counts[i], 1);
      } else {
        run_pcre2(i, text);
      }
    }
    for (uint32_t i : impl.pcre2_only) run_pcre2(i, text);
  }

  for (uint32_t i = 0; i < impl.entries.size(); ++i) {
    if (counts[i] > 0) result.hits.push_back({impl.entries[i].spec.id, counts[i]});
    if (aborted[i]) result.aborted.push_back(impl.entries[i].spec.id);
  }
  std::ranges::sort(result.hits, {}, &Hit::id);
  std::ranges::sort(result.aborted);
  return result;
}

}  // namespace filterd::spam
