// matcher_prefilter.h — rewrites of a Perl regexp for a Hyperscan
// prefilter (matcher_prefilter.cc). Internal to the matcher; a header of
// its own so that tests can check the rewrites without Hyperscan.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace filterd::spam {

// Rewrites of `source` (a Perl regexp, not /x) that match wherever it does
// — a superset, in the same text with the same flags — and that Hyperscan
// is likelier to take whole, tightest first. Empty when no rewrite applies
// or none is known to be sound for the pattern. Meant for patterns that
// Hyperscan rejects as too large, whose own prefilter reduction would fire
// on almost any text.
std::vector<std::string> prefilter_rewrites(std::string_view source);

}  // namespace filterd::spam
