// matcher.cc — PatternSet's compile, serialisation and reports; matching is
// in matcher_match.cc. Compilation never fails as a whole: each pattern is
// placed on the best engine that accepts it (see matcher.h), and one that
// spoils Hyperscan's multi-pattern compile is moved to PCRE2 and the
// database compiled again.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <unordered_set>

#include "spam/matcher_internal.h"

namespace filterd::spam {
namespace {

// -3: prefilters may be rewrites (matcher_prefilter.cc), compiled as they
// are; sets cached by earlier versions still match right, with looser
// prefilters (or, from -2, without the database of a demoted pattern).
// -4: UTF-8 look-alike alternatives collapsed in rewrites, also for
// patterns over Hyperscan's length limit; -5: no rewrite for patterns with
// backreferences, conditionals, comments or \cX, nor for UTF-8-only ones.
// -6: databases as images in memory (run in place from a mapped file), and
// a closing checksum.
constexpr std::string_view kMagic = "filterd-spam-patterns-6\n";

struct HsCompileErrorFree {
  void operator()(hs_compile_error_t* e) const { hs_free_compile_error(e); }
};
using HsCompileError = std::unique_ptr<hs_compile_error_t, HsCompileErrorFree>;

struct Modifiers {
  bool ok = true;
  unsigned hs = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
  uint32_t pcre2 = 0;
  bool extended = false;
  char bad = 0;
};

Modifiers modifiers(std::string_view flags) {
  Modifiers m;
  for (char c : flags) {
    switch (c) {
      case 'i':
        m.hs |= HS_FLAG_CASELESS, m.pcre2 |= PCRE2_CASELESS;
        break;
      case 'm':
        m.hs |= HS_FLAG_MULTILINE, m.pcre2 |= PCRE2_MULTILINE;
        break;
      case 's':
        m.hs |= HS_FLAG_DOTALL, m.pcre2 |= PCRE2_DOTALL;
        break;
      case 'x':
        m.extended = true, m.pcre2 |= PCRE2_EXTENDED;
        break;
      case 'g':
      case 'o':
        break;  // global / compile once: no meaning for a test
      default:
        m.ok = false, m.bad = c;
        break;
    }
  }
  return m;
}

// Hyperscan has no flag for /x, but takes an inline (?x).
std::string hs_expression(const PatternSpec& spec, const Modifiers& m) {
  return (m.extended ? "(?x)" : "") + spec.source;
}

// What Hyperscan compiles for entry `e`: the pattern, or its prefilter's
// rewrite (never made for /x patterns).
std::string hs_expression(const PatternEntry& e, const Modifiers& m) {
  return e.prefilter.empty() ? hs_expression(e.spec, m) : e.prefilter;
}

// hs_expression_info's message for a pattern whose graph exceeds
// Hyperscan's limits (bounded repeats unrolled, large alternations).
constexpr std::string_view kHsTooLarge = "Pattern is too large.";
// ... and for one whose text is over its length limit (the FUZZY_* rules'
// look-alike alternations).
constexpr std::string_view kHsTooLong = "Pattern length exceeds limit.";

// Empty if Hyperscan can parse `expr` with `flags`, else why not.
std::string hs_rejects(const std::string& expr, unsigned flags) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* raw = nullptr;
  if (hs_expression_info(expr.c_str(), flags, &info, &raw) == HS_SUCCESS) {
    std::free(info);
    return {};
  }
  HsCompileError error(raw);
  return error ? error->message : "rejected";
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof buf) < 0) return "error " + std::to_string(code);
  return reinterpret_cast<const char*>(buf);
}

// Byte mode first (Perl on octets); UTF-8 mode for what only compiles there.
std::expected<void, std::string> compile_pcre2(PatternEntry& e, const Modifiers& m) {
  auto try_compile = [&](uint32_t extra, int& error, PCRE2_SIZE& offset) {
    return Pcre2Code(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(e.spec.source.data()),
                                   e.spec.source.size(), m.pcre2 | extra, &error, &offset,
                                   nullptr));
  };
  int error = 0;
  PCRE2_SIZE offset = 0;
  e.code = try_compile(0, error, offset);
  e.utf = false;
  if (!e.code) {
    int error_utf = 0;
    PCRE2_SIZE offset_utf = 0;
    e.code = try_compile(PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, error_utf, offset_utf);
    e.utf = e.code != nullptr;
  }
  if (!e.code) {
    return std::unexpected("PCRE2: " + pcre2_message(error) + " at offset " +
                           std::to_string(offset));
  }
  // No JIT on this CPU or build: the interpreter matches, a little slower.
  (void)pcre2_jit_compile(e.code.get(), PCRE2_JIT_COMPLETE);
  return {};
}

uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
bool get(std::string_view& in, T& v) {
  if (in.size() < sizeof v) return false;
  std::memcpy(&v, in.data(), sizeof v);
  in.remove_prefix(sizeof v);
  return true;
}

// Identifies the specs and the Hyperscan build a serialized set belongs to.
uint64_t hash_specs(std::span<const PatternSpec> specs) {
  uint64_t h = fnv1a(0xcbf29ce484222325ULL, kMagic);
  h = fnv1a(h, hs_version());
  for (const auto& s : specs) {
    std::string fixed;
    put(fixed, s.id);
    put(fixed, static_cast<uint64_t>(s.source.size()));
    put(fixed, s.multiple);
    put(fixed, s.max_hits);
    h = fnv1a(fnv1a(fnv1a(h, fixed), s.source), s.flags + "\n");
  }
  return h;
}

std::unique_ptr<PatternSet::Impl> new_impl(std::span<const PatternSpec> specs,
                                           const PatternLimits& limits) {
  auto impl = std::make_unique<PatternSet::Impl>();
  impl->limits = limits;
  impl->specs_hash = hash_specs(specs);
  impl->context.reset(pcre2_match_context_create(nullptr));
  if (impl->context) {
    pcre2_set_match_limit(impl->context.get(), limits.match_limit);
    pcre2_set_depth_limit(impl->context.get(), limits.depth_limit);
    pcre2_set_heap_limit(impl->context.get(), limits.heap_limit_kib);
  }
  for (const auto& s : specs) {
    impl->entries.push_back({s, nullptr, false});
    impl->reports.push_back({s.id, Engine::kFailed, {}});
  }
  return impl;
}

// Runs body(i) for i in [0, n) on every core; each i touches only its own
// entry, so the calls need no lock.
template <typename Body>
void parallel_for(size_t n, Body body) {
  if (n == 0) return;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < n;) body(i);
  };
  std::vector<std::jthread> threads;
  const size_t extra = std::min<size_t>(n, std::max(1u, std::thread::hardware_concurrency())) - 1;
  for (size_t t = 0; t < extra; ++t) threads.emplace_back(work);
  work();
}

bool on_hyperscan(const PatternReport& r) {
  return r.engine == Engine::kHyperscan || r.engine == Engine::kPcre2Prefiltered;
}

// Whether Hyperscan compiles `expr` as it is. hs_expression_info is not
// enough here: it passes patterns that the compile then finds too large.
bool hs_compiles(const std::string& expr, unsigned flags) {
  hs_database_t* db = nullptr;
  hs_compile_error_t* raw = nullptr;
  if (hs_compile(expr.c_str(), flags, HS_MODE_BLOCK, nullptr, &db, &raw) != HS_SUCCESS) {
    hs_free_compile_error(raw);
    return false;
  }
  hs_free_database(db);
  return true;
}

// Whether Hyperscan takes a prefilter for entry `e`, which it rejected for
// `why`: when the pattern is too large, the first rewrite that compiles as
// it is (e.prefilter, noted in r.reason; in HS_FLAG_PREFILTER mode Hyperscan
// would reduce it as loosely as the pattern), else the pattern in
// HS_FLAG_PREFILTER mode.
bool find_prefilter(PatternEntry& e, PatternReport& r, const Modifiers& m, std::string_view why) {
  // Rewrites read \xNN as a byte; a pattern PCRE2 only takes in UTF-8 mode
  // means a code point by it.
  if ((why == kHsTooLarge || why == kHsTooLong) && !m.extended && !e.utf) {
    const std::vector<std::string> rewrites = prefilter_rewrites(e.spec.source);
    for (const std::string& rewrite : rewrites) {
      if (!hs_compiles(rewrite, m.hs)) continue;
      e.prefilter = rewrite;
      r.reason += "; prefilter rewritten";
      return true;
    }
    // Over the length limit Hyperscan cannot reduce the pattern itself; a
    // reduced rewrite is still a filter, where PCRE2 alone runs on every text.
    if (why == kHsTooLong) {
      for (const std::string& rewrite : rewrites) {
        if (!hs_compiles(rewrite, m.hs | HS_FLAG_PREFILTER)) continue;
        e.prefilter = rewrite;
        e.reduce_prefilter = true;
        r.reason += "; prefilter rewritten and reduced";
        return true;
      }
    }
  }
  return hs_rejects(hs_expression(e.spec, m), m.hs | HS_FLAG_PREFILTER).empty();
}

// Moves entry `at`, which Hyperscan's database compile rejected for `why`,
// to PCRE2 (with a prefilter when Hyperscan still takes the approximation).
void demote(PatternSet::Impl& impl, uint32_t at, const std::string& why, bool prefilter_ok) {
  PatternEntry& e = impl.entries[at];
  PatternReport& r = impl.reports[at];
  if (r.engine == Engine::kPcre2Prefiltered && !e.prefilter.empty()) {
    e.prefilter.clear();  // back to Hyperscan's own reduction of the pattern
    e.reduce_prefilter = false;
    r.reason += "; rewritten prefilter refused: " + why;
    return;
  }
  Modifiers m = modifiers(e.spec.flags);
  auto ok = e.code ? std::expected<void, std::string>{} : compile_pcre2(e, m);
  const bool was_exact = r.engine == Engine::kHyperscan;
  r.reason = "Hyperscan: " + why + (ok ? "" : "; " + ok.error());
  if (!ok) {
    r.engine = Engine::kFailed;
  } else if (prefilter_ok && was_exact && find_prefilter(e, r, m, why)) {
    r.engine = Engine::kPcre2Prefiltered;
  } else {
    r.engine = Engine::kPcre2;
  }
}

// One database of `members` (entries on Hyperscan or prefilter). Parsing
// is not all of Hyperscan's checks (size and resource limits come at
// compile time): the pattern it blames moves down a step (exact, rewritten
// prefilter, its own prefilter, PCRE2 alone) and the database is compiled
// again; a failure of the set as a whole moves every member. Each failure
// moves some member, and a member has at most three steps to go, so the
// tries are bounded; a member never stays on Hyperscan without a database.
HsDatabase build_database(PatternSet::Impl& impl, const std::vector<uint32_t>& members) {
  for (size_t tries = 0; tries <= 3 * members.size(); ++tries) {
    std::vector<std::string> exprs;
    std::vector<const char*> cexprs;
    std::vector<unsigned> flags, ids;
    for (uint32_t i : members) {
      if (!on_hyperscan(impl.reports[i])) continue;
      Modifiers m = modifiers(impl.entries[i].spec.flags);
      exprs.push_back(hs_expression(impl.entries[i], m));
      // A rewritten prefilter compiles as it is, unless marked (find_prefilter).
      const PatternEntry& e = impl.entries[i];
      const bool reduce = impl.reports[i].engine == Engine::kPcre2Prefiltered &&
                          (e.prefilter.empty() || e.reduce_prefilter);
      flags.push_back(m.hs | (reduce ? HS_FLAG_PREFILTER : 0));
      ids.push_back(i);
    }
    if (exprs.empty()) return nullptr;
    for (const auto& x : exprs) cexprs.push_back(x.c_str());
    hs_database_t* db = nullptr;
    hs_compile_error_t* raw = nullptr;
    if (hs_compile_multi(cexprs.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, &db,
                         &raw) == HS_SUCCESS) {
      return HsDatabase(db);
    }
    HsCompileError error(raw);
    const std::string why = error ? error->message : "compile failed";
    if (error && error->expression >= 0) {
      demote(impl, ids[error->expression], why, true);
    } else {
      for (uint32_t i : ids) demote(impl, i, "database: " + why, false);
    }
  }
  return nullptr;
}

// The databases of all entries on Hyperscan or prefilter, in chunks of
// limits.patterns_per_database, compiled in parallel.
void build_databases(PatternSet::Impl& impl) {
  std::vector<uint32_t> eligible;
  for (uint32_t i = 0; i < impl.entries.size(); ++i) {
    if (on_hyperscan(impl.reports[i])) eligible.push_back(i);
  }
  const size_t chunk =
      impl.limits.patterns_per_database ? impl.limits.patterns_per_database : SIZE_MAX;
  std::vector<std::vector<uint32_t>> chunks;
  for (size_t from = 0; from < eligible.size(); from += chunk) {
    const size_t to = from + std::min(chunk, eligible.size() - from);
    chunks.emplace_back(eligible.begin() + from, eligible.begin() + to);
  }
  std::vector<HsDatabase> dbs(chunks.size());
  parallel_for(chunks.size(), [&](size_t c) { dbs[c] = build_database(impl, chunks[c]); });
  impl.databases.clear();
  for (auto& db : dbs) {
    if (db) impl.databases.push_back(std::move(db));
  }
}

// One scratch space grown to fit every database (hs_alloc_scratch's contract).
// Also notes the databases' sizes, now that Hyperscan has read them whole.
bool alloc_prototype(PatternSet::Impl& impl) {
  hs_scratch_t* s = nullptr;
  impl.database_bytes = 0;
  for (const auto& db : impl.databases) {
    size_t n = 0;
    if (hs_alloc_scratch(db.get(), &s) != HS_SUCCESS ||
        hs_database_size(db.get(), &n) != HS_SUCCESS) {
      hs_free_scratch(s);
      return false;
    }
    impl.database_bytes += n;
  }
  impl.prototype.reset(s);
  return true;
}

// Once compiled, matching needs a spec's id, multiple and max_hits only:
// the sources (1.2 MB for the stock rules, which the rule set keeps too)
// are dropped.
void drop_sources(PatternSet::Impl& impl) {
  for (auto& e : impl.entries) {
    std::string().swap(e.spec.source);
    std::string().swap(e.spec.flags);
    std::string().swap(e.prefilter);
  }
}

// serialize() puts database images at a multiple of kSerializedAlignment
// from the start of its bytes. hs_deserialize_database_at places the
// bytecode after the header at the next 64-byte boundary of the address it
// is given (db_copy_bytecode), so an image made at a 64-byte aligned
// address is valid at any other such address. That an image may move is
// not Hyperscan's documented API but its design (hs_alloc_scratch validates
// databases because "some users mmap in old deserialised databases"); the
// specs hash pins the Hyperscan version.
static_assert(kSerializedAlignment % 64 == 0);

// Bytes an image has at least: Hyperscan's header (104 in 5.4) before its
// bytecode, read to check the image before its size is known to fit.
constexpr size_t kImageHeader = 128;

// Appends `db`'s size, padding, and the database as hs_deserialize_database_at
// lays it out at an aligned address (what hs_serialize_database writes is a
// stream, not an image).
bool append_image(std::string& out, const hs_database_t* db) {
  char* stream = nullptr;
  size_t length = 0;
  if (hs_serialize_database(db, &stream, &length) != HS_SUCCESS) return false;
  std::unique_ptr<char, decltype(&std::free)> owned(stream, std::free);
  size_t size = 0;
  if (hs_serialized_database_size(stream, length, &size) != HS_SUCCESS) return false;
  std::unique_ptr<char, decltype(&std::free)> image(
      static_cast<char*>(
          std::aligned_alloc(kSerializedAlignment, size + padding_to_alignment(size))),
      std::free);
  if (!image || hs_deserialize_database_at(
                    stream, length, reinterpret_cast<hs_database_t*>(image.get())) != HS_SUCCESS) {
    return false;
  }
  put(out, static_cast<uint64_t>(size));
  out.append(padding_to_alignment(out.size()), '\0');
  out.append(image.get(), size);
  return true;
}

void index_pcre2_only(PatternSet::Impl& impl) {
  impl.pcre2_only.clear();
  for (uint32_t i = 0; i < impl.reports.size(); ++i) {
    if (impl.reports[i].engine == Engine::kPcre2) impl.pcre2_only.push_back(i);
  }
}

}  // namespace

const char* engine_name(Engine e) {
  switch (e) {
    case Engine::kHyperscan:
      return "hyperscan";
    case Engine::kPcre2Prefiltered:
      return "pcre2+prefilter";
    case Engine::kPcre2:
      return "pcre2";
    case Engine::kFailed:
      return "failed";
  }
  return "?";
}

PatternSet::PatternSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PatternSet::~PatternSet() = default;

const std::vector<PatternReport>& PatternSet::reports() const {
  return impl_->reports;
}

size_t PatternSet::database_bytes() const {
  return impl_->database_bytes;
}

bool PatternSet::databases_in_place() const {
  return impl_->in_place;
}

size_t PatternSet::count(Engine e) const {
  return std::ranges::count(impl_->reports, e, &PatternReport::engine);
}

std::shared_ptr<const PatternSet> PatternSet::compile(std::span<const PatternSpec> specs,
                                                      const PatternLimits& limits) {
  auto impl = new_impl(specs, limits);
  std::unordered_set<uint32_t> seen;
  std::vector<bool> duplicate(impl->entries.size());
  for (size_t i = 0; i < impl->entries.size(); ++i) {
    duplicate[i] = !seen.insert(impl->entries[i].spec.id).second;
  }
  parallel_for(impl->entries.size(), [&](size_t i) {
    PatternEntry& e = impl->entries[i];
    PatternReport& r = impl->reports[i];
    Modifiers m = modifiers(e.spec.flags);
    if (duplicate[i]) {
      r.reason = "duplicate id";
      return;
    }
    if (!m.ok) {
      r.reason = std::string("unknown modifier '") + m.bad + "'";
      return;
    }
    // Hyperscan takes NUL-terminated expressions only.
    bool has_nul = e.spec.source.find('\0') != std::string::npos;
    std::string expr = hs_expression(e.spec, m);
    std::string why = has_nul ? "NUL in pattern" : hs_rejects(expr, m.hs);
    if (why.empty()) {
      r.engine = Engine::kHyperscan;
      if (e.spec.multiple && !compile_pcre2(e, m)) r.reason = "no PCRE2 to count matches";
      return;
    }
    if (auto ok = compile_pcre2(e, m); !ok) {
      r.reason = "Hyperscan: " + why + "; " + ok.error();
      return;
    }
    r.reason = "Hyperscan: " + why;
    r.engine =
        !has_nul && find_prefilter(e, r, m, why) ? Engine::kPcre2Prefiltered : Engine::kPcre2;
  });
  build_databases(*impl);
  if (!alloc_prototype(*impl)) {
    for (auto& r : impl->reports) {
      if (r.engine == Engine::kHyperscan || r.engine == Engine::kPcre2Prefiltered) {
        r.engine = Engine::kFailed;
        r.reason = "Hyperscan: cannot allocate scratch";
      }
    }
    impl->databases.clear();
    impl->database_bytes = 0;
  }
  drop_sources(*impl);
  index_pcre2_only(*impl);
  return std::shared_ptr<const PatternSet>(new PatternSet(std::move(impl)));
}

std::string PatternSet::serialize() const {
  std::string out(kMagic);
  put(out, impl_->specs_hash);
  put(out, static_cast<uint32_t>(impl_->reports.size()));
  for (const auto& r : impl_->reports) {
    put(out, static_cast<uint8_t>(r.engine));
    put(out, static_cast<uint32_t>(r.reason.size()));
    out += r.reason;
  }
  put(out, static_cast<uint32_t>(impl_->databases.size()));
  for (const auto& db : impl_->databases) {
    if (!append_image(out, db.get())) return {};
  }
  put(out, serialized_checksum(out));
  return out;
}

std::expected<std::shared_ptr<const PatternSet>, std::string> PatternSet::deserialize(
    std::span<const PatternSpec> specs, std::string_view bytes, const PatternLimits& limits,
    std::shared_ptr<const void> storage) {
  auto impl = new_impl(specs, limits);
  auto fail = [](std::string why) { return std::unexpected("pattern cache: " + why); };
  if (!bytes.starts_with(kMagic)) return fail("not a pattern cache");
  // Other rules or another Hyperscan first: cheaper than the checksum.
  std::string_view head = bytes.substr(kMagic.size());
  uint64_t hash = 0;
  uint32_t n = 0;
  if (!get(head, hash) || !get(head, n)) return fail("truncated");
  if (hash != impl->specs_hash || n != specs.size()) return fail("made from other rules");
  uint64_t checksum = 0;
  if (head.size() < sizeof checksum) return fail("truncated");
  std::memcpy(&checksum, bytes.data() + bytes.size() - sizeof checksum, sizeof checksum);
  bytes.remove_suffix(sizeof checksum);
  if (checksum != serialized_checksum(bytes)) return fail("damaged (checksum)");
  // The images must lie where serialize() aligned them: in the caller's
  // storage, or in a copy.
  const bool in_place =
      storage && reinterpret_cast<uintptr_t>(bytes.data()) % kSerializedAlignment == 0;
  if (!in_place) {
    std::shared_ptr<char> copy(
        static_cast<char*>(std::aligned_alloc(kSerializedAlignment,
                                              padding_to_alignment(bytes.size()) + bytes.size())),
        std::free);
    if (!copy) return fail("out of memory");
    std::memcpy(copy.get(), bytes.data(), bytes.size());
    bytes = {copy.get(), bytes.size()};
    storage = std::move(copy);
  }
  const char* const start = bytes.data();
  bytes.remove_prefix(kMagic.size() + sizeof hash + sizeof n);
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t engine = 0;
    uint32_t len = 0;
    if (!get(bytes, engine) || !get(bytes, len) || len > bytes.size()) return fail("truncated");
    if (engine > static_cast<uint8_t>(Engine::kFailed)) return fail("bad engine");
    PatternReport& r = impl->reports[i];
    r.engine = static_cast<Engine>(engine);
    r.reason.assign(bytes.substr(0, len));
    bytes.remove_prefix(len);
    PatternEntry& e = impl->entries[i];
    bool needs_pcre2 = r.engine == Engine::kPcre2 || r.engine == Engine::kPcre2Prefiltered ||
                       (r.engine == Engine::kHyperscan && e.spec.multiple);
    if (needs_pcre2 && !compile_pcre2(e, modifiers(e.spec.flags))) {
      return fail("PCRE2 no longer compiles " + std::to_string(e.spec.id));
    }
  }
  uint32_t databases = 0;
  if (!get(bytes, databases)) return fail("truncated");
  for (uint32_t k = 0; k < databases; ++k) {
    uint64_t size = 0;
    if (!get(bytes, size)) return fail("truncated");
    const size_t padding = padding_to_alignment(static_cast<size_t>(bytes.data() - start));
    if (padding > bytes.size() || size > bytes.size() - padding) return fail("truncated");
    bytes.remove_prefix(padding);
    // Hyperscan checks the image (CRC, version, platform) in
    // alloc_prototype, but not that its header's length fits the image.
    auto* db = reinterpret_cast<hs_database_t*>(const_cast<char*>(bytes.data()));
    size_t said = 0;
    if (size < kImageHeader || hs_database_size(db, &said) != HS_SUCCESS || said != size) {
      return fail("damaged database");
    }
    impl->databases.emplace_back(db, HsDatabaseFree{.owned = false});
    bytes.remove_prefix(size);
  }
  if (!bytes.empty()) return fail("trailing bytes");
  if (databases > 0) {
    impl->storage = std::move(storage);
    impl->in_place = in_place;
  }
  bool on_hyperscan = std::ranges::any_of(impl->reports, [](const PatternReport& r) {
    return r.engine == Engine::kHyperscan || r.engine == Engine::kPcre2Prefiltered;
  });
  if (on_hyperscan != (databases > 0)) return fail("databases do not fit the patterns");
  if (!alloc_prototype(*impl)) {
    return fail("Hyperscan refuses a database (damaged, or other version or CPU)");
  }
  drop_sources(*impl);
  index_pcre2_only(*impl);
  return std::shared_ptr<const PatternSet>(new PatternSet(std::move(impl)));
}

uint64_t serialized_checksum(std::string_view bytes) {
  // Word at a time (the stock rules are ~35 MB): FNV-1a's prime over
  // 64-bit words, with a shift so high bits reach low ones.
  uint64_t h = 0xcbf29ce484222325ULL ^ bytes.size();
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, bytes.data() + i, sizeof w);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 32;
  }
  for (; i < bytes.size(); ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * 0x100000001b3ULL;
  return h;
}

}  // namespace filterd::spam
