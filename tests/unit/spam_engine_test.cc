// The rule engine on small rule sets written here: each rule class reaches
// its text, header rules' missing-value semantics, multiple, metas with
// rules_matching, disabled and skipped rules, scores, GTUBE, the cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#include "spam/engine.h"
#include "spam/eval.h"
#include "spam/perl_re.h"

namespace filterd::spam {
namespace {

namespace fs = std::filesystem;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("spam_engine_test." + std::to_string(getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "rules");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<const RuleEngine> load(const std::string& cf, std::string cache = "") {
    std::ofstream(dir_ / "rules" / "10_test.cf") << cf;
    EngineOptions o;
    o.rule_dirs = {(dir_ / "rules").string()};
    o.cache_dir = std::move(cache);
    return RuleEngine::load(o);
  }

  static CheckResult check(const RuleEngine& e, std::string_view message) {
    CheckInput in;
    in.message = message;
    return e.check(in);
  }

  fs::path dir_;
};

constexpr std::string_view kMail =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.org\r\n"
    "Subject: Cheap watches here\r\n"
    "Message-ID: <1@example.com>\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<html><body><p>Buy <b>cheap</b> watches at "
    "<a href=\"http://watches.example.net/buy\">our shop</a>. Cheap cheap cheap!</p>"
    "</body></html>\r\n";

TEST_F(EngineTest, EachRuleClassSeesItsText) {
  auto e = load(R"(
body     T_BODY     /Buy cheap watches/
body     T_BODY_TAG /<b>cheap/
rawbody  T_RAW      /<b>cheap<\/b>/
full     T_FULL     /^Message-ID: <1\@example\.com>/m
uri      T_URI      /watches\.example\.net/
header   T_SUBJ     Subject =~ /watches/
header   T_FROMADDR From:addr =~ /^alice\@example\.com$/
header   T_FROMNAME From:name =~ /^Alice$/
score T_BODY 1.5
score T_BODY_TAG 1
score T_RAW 0.5
score T_FULL 0.25
score T_URI 2
score T_SUBJ 0.1
score T_FROMADDR 0.01
score T_FROMNAME 0.001
)");
  ASSERT_TRUE(e->diagnostics().empty()) << e->diagnostics()[0];
  auto r = check(*e, kMail);
  EXPECT_EQ(r.test_names(), "T_BODY,T_FROMADDR,T_FROMNAME,T_FULL,T_RAW,T_SUBJ,T_URI");
  EXPECT_DOUBLE_EQ(r.score, 4.361);  // rounded to three decimals as SpamAssassin does
  EXPECT_FALSE(r.is_spam());
}

// Check.pm matches Perl's undef, which reads as "".
TEST_F(EngineTest, MissingHeaderIsMatchedAsEmptyUnlessIfUnsetGivesAValue) {
  auto e = load(R"(
header T_HAS     X-Mailer =~ /./
header T_EMPTY   X-Mailer =~ /^$/
header T_NOT     X-Mailer !~ /Outlook/
header T_UNSET   X-Mailer =~ /^none$/ [if-unset: none]
header T_EXISTS  exists:X-Mailer
header T_TO_EXISTS exists:To
)");
  auto r = check(*e, kMail);
  EXPECT_EQ(r.test_names(), "T_EMPTY,T_NOT,T_TO_EXISTS,T_UNSET");
}

// Plugin::MIMEHeader: every part, the message itself first, its last field.
TEST_F(EngineTest, MimeheaderRulesSeeEveryPartIncludingTheMessageItself) {
  auto e = load(R"(
mimeheader T_TOP_HTML  Content-Type =~ /^text\/html/
mimeheader T_PART_PDF  Content-Type =~ /application\/pdf/
mimeheader T_NO_CTE    Content-Transfer-Encoding =~ /^$/
)");
  EXPECT_EQ(check(*e, kMail).test_names(), "T_NO_CTE,T_TOP_HTML");
  constexpr std::string_view kMultipart =
      "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 7bit\r\n\r\nhi\r\n"
      "--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "JVBERi0=\r\n--b--\r\n";
  EXPECT_EQ(check(*e, kMultipart).test_names(), "T_NO_CTE,T_PART_PDF");
}

TEST_F(EngineTest, MultipleCountsMatchesAndMetasSeeTheCount) {
  auto e = load(R"(
body __CHEAP /cheap/i
tflags __CHEAP multiple maxhits=10
meta MANY_CHEAP __CHEAP > 3
meta FEW_CHEAP __CHEAP > 5
)");
  auto r = check(*e, kMail);
  EXPECT_EQ(r.test_names(), "MANY_CHEAP");
  EXPECT_EQ(r.subrules, std::vector<std::string>{"__CHEAP"});
  EXPECT_DOUBLE_EQ(r.score, 1.0);  // a rule without a score line scores 1 (T_ ones 0.01)
}

TEST_F(EngineTest, MetaRulesMatchingSumsTheMatchingRules) {
  auto e = load(R"(
body __W_1 /watches/
body __W_2 /cheap/
body __W_3 /nothing here/
meta T_TWO_W rules_matching(__W_*) == 2
)");
  EXPECT_EQ(check(*e, kMail).test_names(), "T_TWO_W");
}

TEST_F(EngineTest, NosubjectBodyRulesDoNotSeeTheSubjectLine) {
  auto e = load(R"(
body T_SUBJ_IN_BODY /Cheap watches here/
body T_NOSUBJ /Cheap watches here/
tflags T_NOSUBJ nosubject
)");
  EXPECT_EQ(check(*e, kMail).test_names(), "T_SUBJ_IN_BODY");
}

TEST_F(EngineTest, ZeroScoreAndNetRulesDoNotRunAndMetasSeeThemAsZero) {
  auto e = load(R"(
body T_ZERO /watches/
score T_ZERO 0
body T_NET /watches/
tflags T_NET net
meta T_META_ZERO T_ZERO || T_NET
)");
  auto r = check(*e, kMail);
  EXPECT_EQ(r.test_names(), "");
  // The meta inherits `net` from T_NET, so it is disabled too (Parser.pm).
  EXPECT_EQ(e->stats().disabled, 3u);
}

TEST_F(EngineTest, UnimplementedEvalsAndBadPatternsAreSkippedWithFileAndLine) {
  auto e = load("header T_EVAL eval:no_such_function()\nbody T_GOOD /watches/\n");
  auto r = check(*e, kMail);
  EXPECT_EQ(r.test_names(), "T_GOOD");
  ASSERT_EQ(e->diagnostics().size(), 1u);
  EXPECT_NE(e->diagnostics()[0].find("10_test.cf:1: T_EVAL: eval not implemented"),
            std::string::npos)
      << e->diagnostics()[0];
  EXPECT_NE(e->summary().find("1 eval not implemented"), std::string::npos) << e->summary();
}

TEST_F(EngineTest, ImplementedEvalsRun) {
  auto e = load(R"(
header T_MISSING_TO eval:check_for_missing_to_header()
header T_CAPS eval:subject_is_all_caps()
)");
  EXPECT_EQ(check(*e, "Subject: BUY CHEAP WATCHES NOW\r\n\r\nhi\r\n").test_names(),
            "T_CAPS,T_MISSING_TO");
  EXPECT_EQ(check(*e, kMail).test_names(), "");
}

TEST_F(EngineTest, GtubeIsDetectedWithoutAnyRules) {
  auto e = load("");
  auto r = check(*e,
                 "Subject: test\r\n\r\n"
                 "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n");
  EXPECT_EQ(r.test_names(), "GTUBE");
  EXPECT_TRUE(r.is_spam());
  EXPECT_DOUBLE_EQ(r.score, 1000);
}

TEST_F(EngineTest, CompiledPatternsComeFromTheCacheOnTheSecondLoad) {
  const std::string cf = "body T_A /watches/\nheader T_B Subject =~ /Cheap/\n";
  const std::string cache = (dir_ / "cache").string();
  auto first = load(cf, cache);
  EXPECT_FALSE(first->stats().from_cache);
  auto second = load(cf, cache);
  EXPECT_TRUE(second->stats().from_cache);
  EXPECT_EQ(check(*second, kMail).test_names(), "T_A,T_B");
  // Other rules: a new cache file replaces the old one.
  auto third = load(cf + "body T_C /shop/\n", cache);
  EXPECT_FALSE(third->stats().from_cache);
  EXPECT_EQ(check(*third, kMail).test_names(), "T_A,T_B,T_C");
  size_t files = 0;
  for ([[maybe_unused]] const auto& f : fs::directory_iterator(cache)) ++files;
  EXPECT_EQ(files, 1u);
}

// Writes `text` over the bytes of `file` at `offset`.
void overwrite(const fs::path& file, size_t offset, std::string_view text) {
  std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(static_cast<std::streamoff>(offset));
  out << text;
}

// Size and Rss (kB) of this process's mappings of `path`, from /proc/self/smaps.
std::pair<size_t, size_t> mapped_and_resident_kib(const fs::path& path) {
  std::ifstream in("/proc/self/smaps");
  size_t size = 0, rss = 0;
  bool ours = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        line.find('-') < line.find(' ')) {
      ours = line.find(path.string()) != std::string::npos;
    } else if (ours && line.starts_with("Size:")) {
      size += std::stoul(line.substr(5));
    } else if (ours && line.starts_with("Rss:")) {
      rss += std::stoul(line.substr(4));
    }
  }
  return {size, rss};
}

TEST_F(EngineTest, RulesFromTheCacheRunInTheMappedFileAndKeepIt) {
  const std::string cf = "body T_A /watches/\nheader T_B Subject =~ /Cheap/\n";
  const std::string cache = (dir_ / "cache").string();
  load(cf, cache);
  auto e = load(cf, cache);
  ASSERT_TRUE(e->stats().from_cache);
  EXPECT_GT(e->stats().database_bytes, 0u);
  EXPECT_EQ(e->stats().database_bytes_mapped, e->stats().database_bytes);
  EXPECT_NE(e->summary().find("run in the mapped cache file"), std::string::npos);
  const fs::path file = fs::directory_iterator(cache)->path();
  // Loading read every byte (checksum, Hyperscan's CRC) and gave the pages
  // back: none is resident until matching touches it.
  auto [size, rss] = mapped_and_resident_kib(fs::canonical(file));  // as smaps names it
  EXPECT_GT(size, 0u);
  EXPECT_EQ(rss, 0u);
  // A new cache file is renamed over the old one; the mapping keeps it.
  fs::remove(file);
  EXPECT_EQ(check(*e, kMail).test_names(), "T_A,T_B");
}

TEST_F(EngineTest, OneDamagedSetIsRecompiledAndTheOthersKeptAsTheyWere) {
  const std::string cf = "body T_A /watches/\nheader T_B Subject =~ /Cheap/\n";
  const std::string cache = (dir_ / "cache").string();
  load(cf, cache);
  const fs::path file = fs::directory_iterator(cache)->path();
  overwrite(file, fs::file_size(file) - 40, "garbage");  // the last set's
  auto second = load(cf, cache);  // the other set runs in the old file meanwhile
  EXPECT_FALSE(second->stats().from_cache);
  EXPECT_EQ(check(*second, kMail).test_names(), "T_A,T_B");
  auto third = load(cf, cache);
  EXPECT_TRUE(third->stats().from_cache);
  EXPECT_EQ(check(*third, kMail).test_names(), "T_A,T_B");
  EXPECT_EQ(check(*second, kMail).test_names(), "T_A,T_B");
}

TEST_F(EngineTest, CacheOfTheEarlierFormatIsRecompiledAndReplaced) {
  // Format 1 held Hyperscan's serialized streams, which this version would
  // take for images: its magic line turns it away.
  const std::string cf = "body T_A /watches/\n";
  const std::string cache = (dir_ / "cache").string();
  load(cf, cache);
  const fs::path file = fs::directory_iterator(cache)->path();
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string_view current = "filterd spam pattern cache 2\n";
  ASSERT_TRUE(bytes.starts_with(current));
  std::ofstream(file, std::ios::binary | std::ios::trunc) << "filterd spam pattern cache 1\n"
                                                          << bytes.substr(current.size());
  auto e = load(cf, cache);
  EXPECT_FALSE(e->stats().from_cache);
  EXPECT_EQ(check(*e, kMail).test_names(), "T_A");
  EXPECT_TRUE(load(cf, cache)->stats().from_cache);
}

TEST_F(EngineTest, DamagedCacheIsRecompiled) {
  const std::string cf = "body T_A /watches/\n";
  const std::string cache = (dir_ / "cache").string();
  load(cf, cache);
  for (const auto& f : fs::directory_iterator(cache)) {
    // In a set's bytes (the padding between sets is no one's data).
    overwrite(f.path(), fs::file_size(f.path()) / 2, "garbage garbage garbage");
  }
  auto e = load(cf, cache);
  EXPECT_FALSE(e->stats().from_cache);
  EXPECT_EQ(check(*e, kMail).test_names(), "T_A");
}

// Hyperscan rejects these stock rules as too large and its own reduction
// of them fires on almost any line; their prefilter is a rewrite
// (matcher_prefilter.cc) that must never hide a line PCRE2 would match.
TEST(StockRules, TooLargeForHyperscanKeepEveryMatchThroughARewrittenPrefilter) {
  RuleSet rules = load_rule_files(rule_dir_files({"/usr/share/spamassassin", "/etc/spamassassin"}));
  // One rewrite of each kind: SHORT2 is (?:X){3}, FRAUD_PHISH1 has {1,100}.
  // (Each takes Hyperscan seconds to refuse.)
  const std::vector<std::string> names = {"__FILL_THIS_FORM_SHORT2",
                                          "__FILL_THIS_FORM_FRAUD_PHISH1"};
  std::vector<PatternSpec> specs;
  for (const auto& name : names) {
    const Rule* r = rules.find(name);
    if (!r || r->pattern.source.empty()) GTEST_SKIP() << "no stock " << name;
    specs.push_back({static_cast<uint32_t>(specs.size()), r->pattern.source, r->pattern.flags,
                     r->tflags.multiple, r->tflags.maxhits});
  }
  auto set = PatternSet::compile(specs);
  for (const auto& r : set->reports()) {
    EXPECT_EQ(r.engine, Engine::kPcre2Prefiltered) << names[r.id];
    EXPECT_NE(r.reason.find("prefilter rewritten"), std::string::npos) << r.reason;
  }
  // The rewrites keep the rules' words (hundreds of KB of automata);
  // Hyperscan's own reductions of them are ~5 KB each and fire on ~90% of
  // body lines.
  EXPECT_GT(set->database_bytes(), 200'000u);
  const std::vector<std::string> lines = {
      "Full Name: ____ Address: ____ Phone number: ____\n",
      "1) Full Name:\n",
      "Name: Address: Phone: Country:\n",
      "Please send your full name, address, phone number and age.\n",
      "Name_______ Address_______ Telephone_______ Occupation_______\n",
      "Bank Name: ......\n",
      "Your bank account number:\n",
      "1. Full Name.............\n",
      "1) Name: 2) Address: 3) Phone number: \n",
      "(1) Full Name: (2) Home Address: (3) Mobile Number:\n",
      "nothing to see here\n",
      "Date: 2002-09-20T17:00:00 URL: http://example.com/archives/2002/09/20.html\n",
  };
  std::vector<int> matched(specs.size());
  for (const auto& line : lines) {
    const MatchResult m = set->match(line);
    for (const auto& spec : specs) {
      const bool pcre2 = PerlRe(spec.source, spec.flags).search(line);
      const bool hit = std::ranges::find(m.hits, spec.id, &Hit::id) != m.hits.end();
      EXPECT_EQ(hit, pcre2) << names[spec.id] << " on " << line;
      matched[spec.id] += hit;
    }
  }
  for (size_t i = 0; i < specs.size(); ++i) EXPECT_GT(matched[i], 0) << names[i];
}

TEST(EvalRegistry, IsSortedAndFindsEveryEntry) {
  auto names = implemented_evals();
  EXPECT_TRUE(std::ranges::is_sorted(names));
  for (auto n : names) EXPECT_NE(find_eval(n), nullptr) << n;
  EXPECT_EQ(find_eval("no_such_function"), nullptr);
}

}  // namespace
}  // namespace filterd::spam
