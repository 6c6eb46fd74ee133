// spam_match_test — Perl regexp semantics through PatternSet (Hyperscan and
// PCRE2), the engine split on the stock SpamAssassin rules, the cache, and
// meta rule expressions.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "spam/matcher.h"
#include "spam/matcher_prefilter.h"
#include "spam/meta.h"
#include "tests/unit/sa_stock_patterns.h"

namespace filterd::spam {
namespace {

std::shared_ptr<const PatternSet> one(std::string source, std::string flags = "",
                                      bool multiple = false, uint32_t max_hits = 0) {
  PatternSpec s{7, std::move(source), std::move(flags), multiple, max_hits};
  return PatternSet::compile(std::span(&s, 1));
}

uint32_t count_of(const MatchResult& r, uint32_t id = 7) {
  for (const auto& h : r.hits) {
    if (h.id == id) return h.count;
  }
  return 0;
}

struct SemanticsCase {
  const char* source;
  const char* flags;
  std::string_view text;
  bool matches;
};

const SemanticsCase kSemantics[] = {
    {"hello", "", "say hello", true},
    {"HELLO", "", "hello", false},
    {"HELLO", "i", "hello", true},
    {"(?i)free money", "", "FREE MONEY", true},
    {"^b", "", "a\nb", false},
    {"^b", "m", "a\nb", true},
    {"a$", "", "xa\n", true},  // Perl: $ also before a final newline
    {"a$", "", "a\nb", false},
    {"a$", "m", "a\nb", true},
    {"a.b", "", "a\nb", false},
    {"a.b", "s", "a\nb", true},
    {"a b  c # a comment", "x", "abc", true},
    {"a b c", "", "abc", false},
    {"[[:digit:]]{3}-\\d{4}", "", "call 555-1234", true},
    {"[^a-z]{4}", "", "abcd", false},
    {"\\bcat\\b", "", "concatenate", false},
    {"\\bcat\\b", "", "a cat.", true},
    {"\\Afoo", "", "foo bar", true},
    {"\\Abar", "m", "foo\nbar", false},
    {"bar\\z", "", "foo bar\n", false},
    {"bar\\Z", "", "foo bar\n", true},
    {"<.+?>", "", "<a>", true},
    {"(\\w)\\1{3}", "", "baaaad", true},  // backreference: PCRE2
    {"(\\w)\\1{3}", "", "abcdef", false},
    {"foo(?!bar)", "", "foobar", false},  // lookahead: PCRE2
    {"foo(?!bar)", "", "foobaz", true},
    {"(?<=\\$)\\d+", "", "only $100", true},  // lookbehind
    {"a++b", "", "aaab", true},               // possessive
    {"(\\w)x(?1)", "", "axb", true},          // subroutine call: PCRE2 alone
    {"caf.$", "", "caf\xff", true},           // invalid UTF-8 is just bytes
    {"\\xff", "", "a\xff", true},
    {"\\w\\w\\w", "", "\xc3\xa9\xc3", false},       // \w is ASCII, as Perl on octets
    {"\\x{263a}", "", "smile \xe2\x98\xba", true},  // only compiles in UTF-8 mode
    {"\\x{263a}", "", "smile \xe2\x98", false},
    {"^$", "", "", true},
    {"x*", "", "", true},
};

TEST(PatternSetTest, FollowsPerlSemanticsOnBothEngines) {
  for (const auto& c : kSemantics) {
    auto set = one(c.source, c.flags);
    ASSERT_EQ(set->count(Engine::kFailed), 0u) << c.source << ": " << set->reports()[0].reason;
    EXPECT_EQ(count_of(set->match(c.text)) > 0, c.matches)
        << "/" << c.source << "/" << c.flags << " on '" << c.text << "' ("
        << engine_name(set->reports()[0].engine) << ")";
  }
}

TEST(PatternSetTest, ReportsWhichEngineEachPatternEndedOnAndWhy) {
  std::vector<PatternSpec> specs = {
      {1, "plain text", "i"}, {2, "(\\w)\\1", ""}, {3, "(\\w)x(?1)", ""}, {4, "(unclosed", ""},
      {5, "fine", "e"},       {6, "dup", ""},      {6, "dup again", ""}};
  auto set = PatternSet::compile(specs);
  const auto& r = set->reports();
  ASSERT_EQ(r.size(), specs.size());
  EXPECT_EQ(r[0].engine, Engine::kHyperscan);
  EXPECT_EQ(r[0].reason, "");
  EXPECT_EQ(r[1].engine, Engine::kPcre2Prefiltered);
  EXPECT_NE(r[1].reason.find("Back-references"), std::string::npos) << r[1].reason;
  EXPECT_EQ(r[2].engine, Engine::kPcre2);
  EXPECT_EQ(r[3].engine, Engine::kFailed);
  EXPECT_NE(r[3].reason.find("PCRE2"), std::string::npos) << r[3].reason;
  EXPECT_EQ(r[4].engine, Engine::kFailed);
  EXPECT_EQ(r[4].reason, "unknown modifier 'e'");
  EXPECT_EQ(r[6].engine, Engine::kFailed);
  EXPECT_EQ(r[6].reason, "duplicate id");
  // The failures spoil nothing for the others.
  auto m = set->match(std::string_view("PLAIN TEXT with xx and axb"));
  EXPECT_EQ(count_of(m, 1), 1u);
  EXPECT_EQ(count_of(m, 2), 1u);
  EXPECT_EQ(count_of(m, 3), 1u);
  EXPECT_EQ(count_of(m, 4), 0u);
}

TEST(PatternSetTest, MultipleRulesCountLikePerlGlobalMatchAndStopAtMaxhits) {
  std::vector<std::string_view> lines = {"free free", "nothing", "free free free"};
  EXPECT_EQ(count_of(one("\\bfree\\b", "", false)->match(lines)), 1u);
  EXPECT_EQ(count_of(one("\\bfree\\b", "", true)->match(lines)), 5u);
  EXPECT_EQ(count_of(one("\\bfree\\b", "", true, 3)->match(lines)), 3u);
  // Non-greedy versus greedy: only the count tells them apart.
  EXPECT_EQ(count_of(one("<.+?>", "", true)->match(std::string_view("<a><b>"))), 2u);
  EXPECT_EQ(count_of(one("<.+>", "", true)->match(std::string_view("<a><b>"))), 1u);
  // Empty matches: Perl's () = "ab" =~ /x*/g gives 3.
  EXPECT_EQ(count_of(one("x*", "", true)->match(std::string_view("ab"))), 3u);
  // Counted by PCRE2 although the prefilter is Hyperscan's.
  EXPECT_EQ(count_of(one("(a)\\1", "", true)->match(std::string_view("aaaaa"))), 2u);
}

struct RewriteCase {
  const char* source;
  std::vector<std::string> rewrites;
};

const RewriteCase kRewrites[] = {
    // Large bounds open up; small ones keep the filter tight.
    {"(?:name|city)[-: ]{1,100}", {"(?:name|city)[-: ]{1,}"}},
    {"a{1,3}b{0,10}", {}},
    // A repeated whole is filtered by one repetition.
    {"(?:ab[,]{1,30}){3}", {"(?:ab[,]{1,}){3}", "ab[,]{1,}"}},
    {"(?:ab|cd){2,5}", {"ab|cd"}},
    {"(?:ab)+", {"ab"}},
    {"(?:x{1,50}){0,3}", {"(?:x{1,}){0,3}"}},  // may repeat 0 times: no unwrapping
    {"(?:a)(?:b){3}", {}},
    // Braces that are no quantifier stay.
    {R"([{1,50}]\{1,50}x{2,20})", {R"([{1,50}]\{1,50}x{2,})"}},
    {"[]{1,50}]", {}},
    {"[[:alpha:]{1,50}]", {}},
    {"({1,50})", {}},
    // Lookarounds go first: without them the pattern matches wherever it did.
    {"(?!no)a{1,50}", {"a{1,50}", "a{1,}"}},
    {"(?<=x)a{1,50}", {"a{1,50}", "a{1,}"}},
    {"x(?=y|z)*?", {"x"}},
    {"(?<n>a){1,50}", {"(?<n>a){1,}"}},  // a named group is no lookbehind
    // UTF-8 look-alikes of a letter collapse into one generic character.
    {R"((?:[aA]|[\xc3][\xa0-\xa5]|[\xe1](?:[\xba][\xa1]|[\xbb][\xa3])|\xf0\x9d\x90\x9a)b)",
     {R"((?:[aA]|[\xc2-\xf4][\x80-\xbf]{1,3})b)"}},
    {R"((?<!\w)(?:[oO0]|[\xce][\xbf])(?:[pP]|[\xd1][\x80]))",
     {R"((?:[oO0]|[\xce][\xbf])(?:[pP]|[\xd1][\x80]))",
      R"((?:[oO0]|[\xc2-\xf4][\x80-\xbf]{1,3})(?:[pP]|[\xc2-\xf4][\x80-\xbf]{1,3}))"}},
    // ... but only alternatives that are one such character, unquantified.
    {R"((?:[\xc3]+[\x80]|[\xc3][\x41]|\xc3|[\xc3][\x80][\x80][\x80][\x80]|[\xc3][\x80]?))", {}},
    // A brace after a lookaround that is no quantifier stays (review).
    {R"(x(?=\{){+y)", {R"(x{+y)"}},
    {R"(x(?=\{){{2}y{1,50})", {R"(x{{2}y{1,50})", R"(x{{2}y{1,})"}},
    // Where widening a part can narrow the whole, or the tokens here could
    // misread the pattern: no rewrite at all.
    {"(?>a{1,50})b", {}},
    {"(?(?=-)-i)Z{1,50}", {}},          // a conditional on an assertion
    {R"((?=(.)b)(a)(b)\2{1,50})", {}},  // a backreference (renumbered)
    {R"((?P<n>a)(?P=n){1,50})", {}},
    {R"([\c](?=x)]{1,50})", {}},  // \cX
    {"a(?#{1,50})b{1,50}", {}},
    {"a{1,50}+b", {}},
    {"a++b{1,50}", {}},
    {"(?x) a{1,50}", {}},
    {R"(\Qa{1,50}\E)", {}},
};

TEST(PrefilterRewriteTest, WidensOnlyWhereThatCannotLoseAMatch) {
  for (const auto& c : kRewrites) {
    EXPECT_EQ(prefilter_rewrites(c.source), c.rewrites) << c.source;
  }
}

// A FUZZY_*-style word: each letter its ASCII class or one of `extra`
// UTF-8 look-alikes (two bytes, 0xd0 0x80.., then three, 0xe1 0xb0 0x80..),
// so long that Hyperscan refuses the pattern itself.
std::string lookalike_word(std::string_view word, int extra) {
  std::string out = "(?<!\\w)";
  for (char c : word) {
    out += "(?:[";
    out += c;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out += "]";
    for (int k = 0; k < extra; ++k) {
      char buf[48];
      if (k < 48) {
        std::snprintf(buf, sizeof buf, "|[\\xd0][\\x%02x]", 0x80 + k);
      } else {
        std::snprintf(buf, sizeof buf, "|[\\xe1](?:[\\xb0][\\x%02x])", 0x80 + (k - 48) % 64);
      }
      out += buf;
    }
    out += ")";
  }
  return out;
}

TEST(PatternSetTest, LookalikeRulesOverHyperscansLimitsGetACollapsedPrefilterAndStayExact) {
  const std::string source = lookalike_word("password", 120);
  ASSERT_GT(source.size(), 16'000u);
  auto set = one(source);
  const PatternReport& r = set->reports().front();
  EXPECT_EQ(r.engine, Engine::kPcre2Prefiltered) << r.reason;
  EXPECT_NE(r.reason.find("prefilter rewritten"), std::string::npos) << r.reason;
  // What the pattern takes, plain and with look-alikes from its lists ...
  EXPECT_EQ(count_of(set->match(std::string_view("your password"))), 1u);
  EXPECT_EQ(count_of(set->match(std::string_view("your p\xd0\x85ssw\xe1\xb0\x81rd"))), 1u);
  // ... and what only the collapsed prefilter would: PCRE2 still says no.
  EXPECT_EQ(count_of(set->match(std::string_view("your p\xd0\xbfssword"))), 0u);
  EXPECT_EQ(count_of(set->match(std::string_view("your p\xc3\xa5ssword"))), 0u);
  EXPECT_EQ(count_of(set->match(std::string_view("xpassword"))), 0u);  // the lookbehind
}

TEST(PatternSetTest, AnchorsApplyToEachTextOnItsOwn) {
  std::vector<std::string_view> lines = {"first line", "second line"};
  EXPECT_EQ(count_of(one("^second")->match(lines)), 1u);
  EXPECT_EQ(count_of(one("line\\s+second")->match(lines)), 0u);
  EXPECT_EQ(count_of(one("(?<!first )line$")->match(lines)), 1u);
}

TEST(PatternSetTest, ManyThreadsShareOneSet) {
  std::vector<PatternSpec> specs = {{1, "alpha", ""}, {2, "(b)\\1", ""}, {3, "gam+a", "", true}};
  auto set = PatternSet::compile(specs);
  std::vector<std::thread> threads;
  std::atomic<int> wrong = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto r = set->match(std::string_view("alpha bb gamma gamma"));
        if (r.hits.size() != 3 || r.hits[2].count != 2) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
}

TEST(PatternSetTest, SerializedSetMatchesLikeTheOriginal) {
  std::vector<PatternSpec> specs = {{1, "alpha", "i"},
                                    {2, "(b)\\1", ""},
                                    {3, "(\\w)x(?1)", ""},
                                    {4, "gam+a", "", true, 5},
                                    {5, "(bad", ""}};
  auto set = PatternSet::compile(specs);
  std::string bytes = set->serialize();
  auto back = PatternSet::deserialize(specs, bytes);
  ASSERT_TRUE(back) << back.error();
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ((*back)->reports()[i].engine, set->reports()[i].engine);
    EXPECT_EQ((*back)->reports()[i].reason, set->reports()[i].reason);
  }
  std::string_view text = "ALPHA bb axb gamma gamma";
  auto a = set->match(text), b = (*back)->match(text);
  ASSERT_EQ(a.hits.size(), 4u);
  ASSERT_EQ(b.hits.size(), a.hits.size());
  for (size_t i = 0; i < a.hits.size(); ++i) {
    EXPECT_EQ(b.hits[i].id, a.hits[i].id);
    EXPECT_EQ(b.hits[i].count, a.hits[i].count);
  }
}

// `bytes` in memory that starts `offset` bytes past a multiple of 64, owned
// by the returned pointer.
std::shared_ptr<char> aligned_copy(const std::string& bytes, size_t offset) {
  std::shared_ptr<char> p(
      static_cast<char*>(std::aligned_alloc(64, (bytes.size() + offset + 63) / 64 * 64)),
      std::free);
  std::memcpy(p.get() + offset, bytes.data(), bytes.size());
  return p;
}

TEST(PatternSetTest, SetRunsItsDatabasesInTheStorageItIsGivenAndHoldsIt) {
  std::vector<PatternSpec> specs = {{1, "alpha", "i"}, {2, "gam+a", "", true, 5}};
  const std::string bytes = PatternSet::compile(specs)->serialize();
  std::shared_ptr<char> storage = aligned_copy(bytes, 0);
  auto back = PatternSet::deserialize(specs, {storage.get(), bytes.size()}, {}, storage);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(storage.use_count(), 2);  // the set holds the mapping it runs in
  EXPECT_TRUE((*back)->databases_in_place());
  auto m = (*back)->match(std::string_view("ALPHA gamma gamma"));
  ASSERT_EQ(m.hits.size(), 2u);
  EXPECT_EQ(m.hits[1].count, 2u);
  back->reset();
  EXPECT_EQ(storage.use_count(), 1);
}

TEST(PatternSetTest, SetCopiesBytesThatAreNotAlignedForItsDatabases) {
  std::vector<PatternSpec> specs = {{1, "alpha", "i"}, {2, "gam+a", "", true, 5}};
  const std::string bytes = PatternSet::compile(specs)->serialize();
  std::shared_ptr<char> storage = aligned_copy(bytes, 8);
  auto back = PatternSet::deserialize(specs, {storage.get() + 8, bytes.size()}, {}, storage);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(storage.use_count(), 1);  // a copy: the caller's bytes are free to go
  EXPECT_FALSE((*back)->databases_in_place());
  std::memset(storage.get(), 0, bytes.size() + 8);
  auto m = (*back)->match(std::string_view("ALPHA gamma gamma"));
  ASSERT_EQ(m.hits.size(), 2u);
  EXPECT_EQ(m.hits[1].count, 2u);
}

TEST(PatternSetTest, CacheFromOtherRulesOrDamagedIsRefused) {
  std::vector<PatternSpec> specs = {{1, "alpha", ""}, {2, "(b)\\1", ""}};
  std::string bytes = PatternSet::compile(specs)->serialize();
  auto other = specs;
  other[0].flags = "i";
  EXPECT_FALSE(PatternSet::deserialize(other, bytes));
  EXPECT_FALSE(PatternSet::deserialize(specs, bytes.substr(0, bytes.size() - 10)));
  EXPECT_FALSE(PatternSet::deserialize(specs, "garbage"));
  std::string flipped = bytes;
  flipped[flipped.size() - 100] ^= 0x55;  // inside Hyperscan's database
  auto r = PatternSet::deserialize(specs, flipped);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("checksum"), std::string::npos) << r.error();
}

TEST(PatternSetTest, DamagedDatabaseWithAGoodChecksumIsRefusedByHyperscan) {
  // Damage the checksum cannot see (it was recomputed): Hyperscan's own CRC
  // of the database image refuses it before any scan runs on it.
  std::vector<PatternSpec> specs = {{1, "alpha", ""}, {2, "be+ta", ""}};
  std::string bytes = PatternSet::compile(specs)->serialize();
  bytes.resize(bytes.size() - sizeof(uint64_t));
  bytes[bytes.size() - 100] ^= 0x55;
  const uint64_t sum = serialized_checksum(bytes);
  bytes.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  auto r = PatternSet::deserialize(specs, bytes);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("Hyperscan refuses"), std::string::npos) << r.error();
}

TEST(PatternSetTest, StockSpamAssassinRegexpsCompile) {
  auto stock = testing::stock_patterns();
  if (stock.empty()) GTEST_SKIP() << "no /usr/share/spamassassin";
  std::vector<PatternSpec> all;
  for (const auto& p : stock) all.push_back(p.spec);
  auto t0 = std::chrono::steady_clock::now();
  auto set = PatternSet::compile(all);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << all.size() << " stock regexps in one set, compiled in " << s
            << " s: " << set->count(Engine::kHyperscan) << " hyperscan, "
            << set->count(Engine::kPcre2Prefiltered) << " pcre2+prefilter, "
            << set->count(Engine::kPcre2) << " pcre2 only, " << set->count(Engine::kFailed)
            << " failed\n";
  for (const auto& r : set->reports()) {
    if (r.engine != Engine::kHyperscan) {
      std::cout << "  " << stock[r.id].kind << " " << stock[r.id].name << ": "
                << engine_name(r.engine) << " (" << r.reason << ")\n";
    }
  }
  EXPECT_GE(all.size(), 1500u);
  EXPECT_LE(set->count(Engine::kFailed), 5u);
  EXPECT_GE(set->count(Engine::kHyperscan), all.size() * 8 / 10);
  std::map<std::string, std::map<Engine, int>> by_kind;
  for (const auto& r : set->reports()) ++by_kind[stock[r.id].kind][r.engine];
  for (auto& [kind, engines] : by_kind) {
    std::cout << "  class " << kind << ":";
    for (auto e :
         {Engine::kHyperscan, Engine::kPcre2Prefiltered, Engine::kPcre2, Engine::kFailed}) {
      std::cout << " " << engines[e] << " " << engine_name(e);
    }
    std::cout << "\n";
  }
  auto t1 = std::chrono::steady_clock::now();
  auto cached = PatternSet::deserialize(all, set->serialize());
  double c = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  ASSERT_TRUE(cached) << cached.error();
  std::cout << "  from the serialized cache in " << c << " s\n";
  auto hits = set->match(std::string_view("Subject: FREE VIAGRA!!! click here to unsubscribe"));
  EXPECT_EQ(hits.hits.size(),
            (*cached)
                ->match(std::string_view("Subject: FREE VIAGRA!!! click here to unsubscribe"))
                .hits.size());
}

// --- meta rules -----------------------------------------------------------

double eval(std::string expr, std::unordered_map<std::string, double> hits) {
  std::vector<MetaDef> defs = {{"M", std::move(expr)}};
  auto p = compile_metas(defs, [](std::string_view) { return true; });
  EXPECT_TRUE(p.diagnostics().empty()) << p.diagnostics()[0].message;
  p.evaluate(hits);
  return hits.contains("M") ? hits["M"] : 0;
}

TEST(MetaTest, OperatorsFollowPerlPrecedence) {
  EXPECT_EQ(eval("A || B && C", {{"A", 1}}), 1);
  EXPECT_EQ(eval("(A || B) && C", {{"A", 1}}), 0);
  EXPECT_EQ(eval("!A + 1", {{"A", 1}}), 1);
  EXPECT_EQ(eval("A + B > 1", {{"A", 1}, {"B", 1}}), 1);
  EXPECT_EQ(eval("A + B > 1", {{"A", 1}}), 0);
  EXPECT_EQ(eval("2 * 3 + 1 == 7", {}), 1);
  EXPECT_EQ(eval("1 + 2 * 3", {}), 7);
  EXPECT_EQ(eval("10 - 4 - 3", {}), 3);  // left-associative
  EXPECT_EQ(eval("8 / 2 / 2", {}), 2);
  EXPECT_EQ(eval("-A + 3", {{"A", 1}}), 2);
  EXPECT_EQ(eval("!!A", {{"A", 5}}), 1);
  EXPECT_EQ(eval("A >= 2 && A <= 3 && A != 4", {{"A", 3}}), 1);
  EXPECT_EQ(eval("0.5 + 0.25", {}), 0.75);
  EXPECT_EQ(eval("A / 0 + 1", {{"A", 1}}), 1);
}

TEST(MetaTest, AndOrYieldAnOperandAsInPerl) {
  EXPECT_EQ(eval("A && B", {{"A", 1}, {"B", 3}}), 3);
  EXPECT_EQ(eval("(A || B) + C", {{"B", 2}, {"C", 1}}), 3);
  EXPECT_EQ(eval("A - 2", {{"A", 1}}), 1);  // a negative result hits with value 1
}

TEST(MetaTest, MetasMayUseMetasDefinedLater) {
  std::vector<MetaDef> defs = {{"TOP", "__SUB && X"}, {"__SUB", "Y || Z"}};
  auto p = compile_metas(defs, [](std::string_view n) { return n == "X" || n == "Y" || n == "Z"; });
  EXPECT_TRUE(p.diagnostics().empty());
  std::unordered_map<std::string, double> hits = {{"X", 1}, {"Z", 1}};
  p.evaluate(hits);
  EXPECT_EQ(hits["__SUB"], 1);
  EXPECT_EQ(hits["TOP"], 1);
}

TEST(MetaTest, UnknownNamesCountAsZeroAndAreReportedOnce) {
  std::vector<MetaDef> defs = {{"M", "NOPE || NOPE || X"}};
  auto p = compile_metas(defs, [](std::string_view n) { return n == "X"; });
  ASSERT_EQ(p.diagnostics().size(), 1u);
  EXPECT_EQ(p.diagnostics()[0].kind, MetaDiagnostic::Kind::kUnknownName);
  EXPECT_EQ(p.diagnostics()[0].message, "unknown name NOPE (counts as 0)");
  std::unordered_map<std::string, double> hits = {{"X", 1}};
  p.evaluate(hits);
  EXPECT_EQ(hits["M"], 1);
}

TEST(MetaTest, CyclesDisableTheMetasOnThemOnly) {
  std::vector<MetaDef> defs = {
      {"A", "B && X"}, {"B", "A || X"}, {"SELF", "SELF + 1"}, {"C", "!A && X"}, {"D", "X"}};
  auto p = compile_metas(defs, [](std::string_view) { return true; });
  int cycles = 0;
  for (const auto& d : p.diagnostics()) {
    if (d.kind == MetaDiagnostic::Kind::kCycle) ++cycles;
  }
  EXPECT_EQ(cycles, 3);  // A, B, SELF
  std::unordered_map<std::string, double> hits = {{"X", 1}};
  p.evaluate(hits);
  EXPECT_FALSE(hits.contains("A"));
  EXPECT_FALSE(hits.contains("B"));
  EXPECT_FALSE(hits.contains("SELF"));
  EXPECT_EQ(hits["C"], 1);
  EXPECT_EQ(hits["D"], 1);
}

TEST(MetaTest, SyntaxErrorsAreReportedAndNeverHit) {
  for (const char* bad : {"A &&", "(A", "A)", "A B", "A $ B", "", "* A", "1.2.3", "()"}) {
    std::vector<MetaDef> defs = {{"M", bad}};
    auto p = compile_metas(defs, [](std::string_view) { return true; });
    ASSERT_EQ(p.diagnostics().size(), 1u) << bad;
    EXPECT_EQ(p.diagnostics()[0].kind, MetaDiagnostic::Kind::kSyntax) << bad;
    std::unordered_map<std::string, double> hits = {{"A", 1}, {"B", 1}};
    p.evaluate(hits);
    EXPECT_FALSE(hits.contains("M")) << bad;
  }
}

TEST(MetaTest, DeepNestingNeedsNoRecursion) {
  std::string expr(3000, '(');
  expr += "A";
  expr += std::string(3000, ')');
  EXPECT_EQ(eval(expr, {{"A", 1}}), 1);
  std::string nots(4000, '!');
  EXPECT_EQ(eval(nots + "A", {{"A", 1}}), 1);  // an even number of !
}

}  // namespace
}  // namespace filterd::spam
