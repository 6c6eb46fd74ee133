// matcher.h — SpamAssassin rule regexps of one class (body, rawbody, full,
// header, uri), matched in one pass per text.
//
// A PatternSet is compiled once from the rules' Perl regexps. Each pattern
// ends on one engine (rspamd's scheme, see STYLE.md):
//   - Hyperscan: such patterns share a few multi-pattern databases (see
//     PatternLimits::patterns_per_database), and one hs_scan per database
//     and text reports every pattern that matches;
//   - PCRE2 with a Hyperscan prefilter: Hyperscan cannot run the pattern as
//     written (backreference, lookaround, possessive, atomic group) but
//     accepts an approximation that matches a superset (HS_FLAG_PREFILTER);
//     PCRE2 confirms only on texts the prefilter reports;
//   - PCRE2 alone (JIT): tried on every text;
//   - failed: neither engine takes it; it never matches and is reported in
//     the set's diagnostics, never fatal.
// Patterns flagged `multiple` are counted with PCRE2 like Perl's
// `while (/re/g)` (non-overlapping, leftmost; Hyperscan reports every end
// offset, which is not that count), after Hyperscan said the text matches.
//
// Perl semantics. SpamAssassin matches octet strings (its rules are not under
// `use utf8`), so both engines run in byte mode: `.` is one byte, \w \b and
// /i are ASCII, and text that is not valid UTF-8 needs no special care. A
// pattern that only compiles in UTF-8 mode (\x{100} and above) is compiled by
// PCRE2 with PCRE2_UTF | PCRE2_MATCH_INVALID_UTF. Modifiers i m s x map to
// the engines' flags ("x" as an inline (?x), which both take); g and o are
// ignored, as in SpamAssassin's existence tests. `^`, `$` (end or before a
// final newline), \A \z \Z \b follow PCRE, which is Perl's.
//
// Thread safety: a PatternSet is immutable once built; match() may be called
// on one set from any number of threads at once (Hyperscan scratch comes from
// a pool inside the set, PCRE2 match data is per thread). Share it as
// std::shared_ptr<const PatternSet>.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace filterd::spam {

// One rule's regexp as the .cf file writes it: `body FOO /src/flags`.
struct PatternSpec {
  uint32_t id = 0;        // the caller's, unique within a set; reported in Hit
  std::string source;     // between the delimiters of /.../ or m{...}
  std::string flags;      // Perl modifiers: any of "imsxgo"
  bool multiple = false;  // tflags multiple: count matches, not just existence
  uint32_t max_hits = 0;  // tflags maxhits=N, with multiple; 0 = no cap
};

enum class Engine { kHyperscan, kPcre2Prefiltered, kPcre2, kFailed };
const char* engine_name(Engine e);  // "hyperscan", "pcre2+prefilter", "pcre2", "failed"

// Where one pattern ended and why (for start-up logs). `reason` is empty for
// kHyperscan and otherwise the rejecting engine's message ("Back-references
// are unsupported.").
struct PatternReport {
  uint32_t id = 0;
  Engine engine = Engine::kFailed;
  std::string reason;
};

// Bounds on PCRE2 (Hyperscan runs in linear time and needs none), so that no
// rule can stall a message: a match that reaches one stops and counts as no
// match, and the pattern's id is listed in MatchResult::aborted.
struct PatternLimits {
  uint32_t match_limit = 100'000;    // backtracking steps per match attempt
  uint32_t depth_limit = 10'000;     // nested backtracking frames (interpreter)
  uint32_t heap_limit_kib = 16'384;  // backtracking memory per match
  // Cap on a `multiple` rule's count when it has no maxhits=: SpamAssassin has
  // none, but a count of thousands scores no differently from this.
  uint32_t max_count = 1000;
  // Hyperscan's multi-pattern compile grows faster than linearly with the
  // set: the stock rules (~1300 patterns on Hyperscan) take minutes as one
  // database and ~10 s in databases of 100, at the price of one hs_scan per
  // database per text. 0 = one database for the whole set.
  size_t patterns_per_database = 100;
};

// Where deserialize() can run a set's databases in place: bytes starting at
// a multiple of this (Hyperscan aligns a database's bytecode to 64 bytes).
inline constexpr size_t kSerializedAlignment = 64;

// Zero bytes that take `offset` to the next multiple of kSerializedAlignment.
inline size_t padding_to_alignment(size_t offset) {
  return (kSerializedAlignment - offset % kSerializedAlignment) % kSerializedAlignment;
}

struct Hit {
  uint32_t id = 0;
  uint32_t count = 0;  // 1 for existence rules; matches (capped) for `multiple`
};

struct MatchResult {
  std::vector<Hit> hits;          // ordered by id; only ids with count > 0
  std::vector<uint32_t> aborted;  // ids whose PCRE2 match hit a limit or failed
};

class PatternSet {
 public:
  // Compiles `specs` (ids must be unique; a duplicate id is reported as failed).
  // Never fails as a whole: bad patterns land in reports() as kFailed.
  static std::shared_ptr<const PatternSet> compile(std::span<const PatternSpec> specs,
                                                   const PatternLimits& limits = {});

  // Bytes that let deserialize() rebuild this set without Hyperscan's compile
  // (seconds for the stock rules): the engines chosen per pattern and each
  // Hyperscan database as its image in memory, at an offset that is a
  // multiple of 64, tagged with a hash of the specs and closed by a
  // checksum of the whole.
  std::string serialize() const;

  // Rebuilds a set from serialize()'s bytes. Fails (the caller then compiles)
  // when the bytes are damaged, come from other specs, or from a Hyperscan
  // build or CPU that cannot run them (Hyperscan checks each database's CRC,
  // version and platform). When `storage` is given and `bytes` starts at a
  // multiple of kSerializedAlignment, the set runs the databases where they
  // lie and holds `storage` as long as it lives: a mapped cache file then
  // stays on disk but for the pages the matching touches, and processes
  // share those. `bytes` must lie in `storage` and stay readable and
  // unchanged while it lives. Otherwise the set copies the bytes.
  static std::expected<std::shared_ptr<const PatternSet>, std::string> deserialize(
      std::span<const PatternSpec> specs, std::string_view bytes, const PatternLimits& limits = {},
      std::shared_ptr<const void> storage = {});

  // Matches every pattern against every text, each text on its own (anchors
  // apply per text: SpamAssassin's body and rawbody rules see one line or
  // paragraph at a time, header rules one header value, full the whole
  // message). An existence rule has count 1 if any text matches; a `multiple`
  // rule sums its matches over the texts, up to its cap.
  MatchResult match(std::span<const std::string_view> texts) const;
  MatchResult match(std::string_view text) const { return match(std::span(&text, 1)); }

  // One per spec, in the order given to compile().
  const std::vector<PatternReport>& reports() const;
  size_t count(Engine e) const;  // how many patterns ended on `e`
  // Bytes of the compiled Hyperscan databases (the bulk of a set's memory).
  size_t database_bytes() const;
  // Whether those run in place in the storage deserialize() was given
  // (false when compiled or copied).
  bool databases_in_place() const;

  PatternSet(const PatternSet&) = delete;
  PatternSet& operator=(const PatternSet&) = delete;
  ~PatternSet();

  struct Impl;  // matcher.cc

 private:
  explicit PatternSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The checksum that closes PatternSet::serialize()'s bytes, over every byte
// before it: it finds damage, not forgery.
uint64_t serialized_checksum(std::string_view bytes);

}  // namespace filterd::spam
