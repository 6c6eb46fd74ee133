// matcher_internal.h — PatternSet's representation, shared by matcher.cc
// (compile, serialize) and matcher_match.cc (match). Not a public header.
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs.h>
#include <pcre2.h>

#include <memory>
#include <mutex>
#include <string>

#include "spam/matcher.h"
#include "spam/matcher_prefilter.h"

namespace filterd::spam {

// A database Hyperscan compiled is freed with it; one deserialize() runs
// where it lies (in the set's storage) is not.
struct HsDatabaseFree {
  bool owned = true;
  void operator()(hs_database_t* d) const {
    if (owned) hs_free_database(d);
  }
};
struct HsScratchFree {
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};
struct Pcre2CodeFree {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct Pcre2MatchContextFree {
  void operator()(pcre2_match_context* c) const { pcre2_match_context_free(c); }
};
using HsDatabase = std::unique_ptr<hs_database_t, HsDatabaseFree>;
using HsScratch = std::unique_ptr<hs_scratch_t, HsScratchFree>;
using Pcre2Code = std::unique_ptr<pcre2_code, Pcre2CodeFree>;
using Pcre2MatchContext = std::unique_ptr<pcre2_match_context, Pcre2MatchContextFree>;

// One pattern. Its index in Impl::entries is its Hyperscan id.
struct PatternEntry {
  PatternSpec spec;  // source and flags emptied once the set is built
  Pcre2Code code;    // set when PCRE2 confirms, counts or runs it alone
  bool utf = false;  // `code` compiled in UTF-8 mode
  // kPcre2Prefiltered: the Hyperscan expression of the prefilter when it is
  // a rewrite (prefilter_rewrites) rather than the pattern; compile only.
  // Compiled without HS_FLAG_PREFILTER, which would let Hyperscan reduce
  // it back to a filter as loose as the pattern's own reduction...
  std::string prefilter;
  // ... unless no rewrite compiles as it is and the pattern itself is over
  // Hyperscan's length limit (so it has no reduction of its own): then the
  // rewrite is reduced (HS_FLAG_PREFILTER), still a superset of the pattern.
  bool reduce_prefilter = false;
};

struct PatternSet::Impl {
  std::vector<PatternEntry> entries;
  std::vector<PatternReport> reports;   // reports[i] is entries[i]'s
  std::vector<uint32_t> pcre2_only;     // indexes of kPcre2 entries: tried on every text
  std::shared_ptr<const void> storage;  // holds the databases that are not owned
  std::vector<HsDatabase> databases;    // none when no pattern is on Hyperscan
  // Their sizes, noted while loading: asking Hyperscan later would fault a
  // page of each back in after the loader dropped them.
  size_t database_bytes = 0;
  bool in_place = false;      // the databases lie in the caller's storage
  HsScratch prototype;        // fits every database; cloned for the pool
  Pcre2MatchContext context;  // the limits
  PatternLimits limits;
  uint64_t specs_hash = 0;

  mutable std::mutex pool_mutex;
  mutable std::vector<HsScratch> pool;  // idle scratch spaces
};

}  // namespace filterd::spam
