// Table tests of the policy: findings x recipient settings -> category,
// destiny -> reply.
#include "policy/verdict.h"

#include <gtest/gtest.h>

namespace filterd::policy {
namespace {

struct Row {
  const char* name;
  Findings findings;
  Destiny virus_destiny;
  Destiny failure_destiny;
  Category category;
  Destiny destiny;
  int reply_code;  // blocked_reply's code, 0 = delivered
};

class VerdictTable : public ::testing::TestWithParam<Row> {};

RecipientPolicy with_virus(Destiny virus) {
  RecipientPolicy p = RecipientPolicy::defaults();
  p.destiny[static_cast<size_t>(Category::kVirus)] = virus;
  return p;
}

TEST_P(VerdictTable, DecidesCategoryDestinyAndReply) {
  const Row& r = GetParam();
  Decision d = decide(r.findings, with_virus(r.virus_destiny), r.failure_destiny);
  EXPECT_EQ(d.category, r.category);
  EXPECT_EQ(d.destiny, r.destiny);
  if (r.reply_code != 0) {
    EXPECT_EQ(blocked_reply(d, "ID").code, r.reply_code);
  }
}

const Findings kClean{};
Findings make(std::vector<std::string> viruses, bool failed = false, std::string unchecked = "",
              std::string encrypted = "") {
  Findings f;
  f.viruses = std::move(viruses);
  f.scan_failed = failed;
  if (failed) f.scan_error = "clamd down";
  f.unchecked_reason = std::move(unchecked);
  f.encrypted = std::move(encrypted);
  return f;
}
const Findings kEicar = make({"Eicar-Test-Signature"});
const Findings kFailed = make({}, true);
const Findings kEicarAndFailed = make({"Eicar-Test-Signature"}, true);
const Findings kOverLimit = make({}, false, "max files (3000) exceeded in p002 x.zip");
const Findings kEncrypted = make({}, false, "", "p002/p001 secret.doc");

INSTANTIATE_TEST_SUITE_P(
    Virus, VerdictTable,
    ::testing::Values(Row{"clean", kClean, Destiny::kDiscard, Destiny::kTempfail, Category::kClean,
                          Destiny::kPass, 0},
                      Row{"discard", kEicar, Destiny::kDiscard, Destiny::kTempfail,
                          Category::kVirus, Destiny::kDiscard, 250},
                      Row{"reject", kEicar, Destiny::kReject, Destiny::kTempfail, Category::kVirus,
                          Destiny::kReject, 554},
                      Row{"bounce", kEicar, Destiny::kBounce, Destiny::kTempfail, Category::kVirus,
                          Destiny::kBounce, 250},
                      Row{"tempfail", kEicar, Destiny::kTempfail, Destiny::kTempfail,
                          Category::kVirus, Destiny::kTempfail, 451},
                      Row{"pass", kEicar, Destiny::kPass, Destiny::kTempfail, Category::kVirus,
                          Destiny::kPass, 0},
                      Row{"scanner_down", kFailed, Destiny::kDiscard, Destiny::kTempfail,
                          Category::kUnchecked, Destiny::kTempfail, 451},
                      Row{"scanner_down_pass", kFailed, Destiny::kDiscard, Destiny::kPass,
                          Category::kUnchecked, Destiny::kPass, 0},
                      Row{"virus_wins_over_failure", kEicarAndFailed, Destiny::kReject,
                          Destiny::kTempfail, Category::kVirus, Destiny::kReject, 554}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(Verdict, RejectTextNamesTheVirusAsAmavisDoes) {
  Decision d = decide(kEicar, with_virus(Destiny::kReject), Destiny::kTempfail);
  smtp::Reply r = blocked_reply(d, "abc");
  EXPECT_EQ(r.status, "5.7.0");
  EXPECT_EQ(r.text, "Reject, id=abc - INFECTED: Eicar-Test-Signature");
}

Decision decide_default(const Findings& f) {
  return decide(f, RecipientPolicy::defaults(), Destiny::kTempfail);
}

TEST(Verdict, SummaryWords) {
  EXPECT_EQ(summary_words(decide_default(kClean)), "Passed CLEAN");
  EXPECT_EQ(summary_words(decide_default(kEicar)), "Blocked INFECTED (Eicar-Test-Signature)");
  EXPECT_EQ(summary_words(decide_default(kFailed)),
            "Tempfailed UNCHECKED (virus scan failed: clamd down)");
  EXPECT_EQ(summary_words(decide_default(kOverLimit)),
            "Passed UNCHECKED-OVERLIMIT (max files (3000) exceeded in p002 x.zip)");
  EXPECT_EQ(summary_words(decide_default(kEncrypted)),
            "Passed UNCHECKED-ENCRYPTED (encrypted p002/p001 secret.doc)");
}

// --- categories in amavis's order, with Debian's default destinies ------

Findings spam(double score) {
  Findings f;
  f.spam = SpamResult{score, {"TEST_RULE=" + std::to_string(score)}};
  return f;
}
Findings banned() {
  Findings f;
  f.banned.push_back({"p002 invoice.pdf.exe .exe-ms", 1});
  return f;
}
Findings bad_header() {
  Findings f;
  f.bad_headers.push_back({"8bit", "Subject"});
  return f;
}
Findings oversized() {
  Findings f;
  f.size = 2000;
  return f;
}
Findings everything() {
  Findings f = spam(20);
  f.viruses = {"Eicar-Test-Signature"};
  f.banned = banned().banned;
  f.bad_headers = bad_header().bad_headers;
  f.unchecked_reason = "max files";
  f.size = 2000;
  return f;
}

struct CategoryRow {
  const char* name;
  Findings findings;
  Category category;
  std::string minor;
  Destiny destiny;
  int code;  // blocked_reply code
  std::string status;
};

class CategoryTable : public ::testing::TestWithParam<CategoryRow> {};

TEST_P(CategoryTable, HighestCategoryDecidesWithDebianDefaults) {
  const CategoryRow& r = GetParam();
  RecipientPolicy p = RecipientPolicy::defaults();
  p.message_size_limit = 1000;
  Decision d = decide(r.findings, p, Destiny::kTempfail);
  EXPECT_EQ(d.category, r.category);
  EXPECT_EQ(d.minor, r.minor);
  EXPECT_EQ(d.destiny, r.destiny);
  smtp::Reply reply = blocked_reply(d, "ID");
  EXPECT_EQ(reply.code, r.code);
  EXPECT_EQ(reply.status, r.status);
}

INSTANTIATE_TEST_SUITE_P(
    Categories, CategoryTable,
    ::testing::Values(
        CategoryRow{"clean", kClean, Category::kClean, "", Destiny::kPass, 250, "2.0.0"},
        CategoryRow{"virus_discarded", kEicar, Category::kVirus, "", Destiny::kDiscard, 250,
                    "2.7.0"},
        CategoryRow{"banned_bounced", banned(), Category::kBanned, "", Destiny::kBounce, 250,
                    "2.5.0"},
        CategoryRow{"spam_bounced", spam(7), Category::kSpam, "", Destiny::kBounce, 250, "2.5.0"},
        CategoryRow{"spammy_below_kill_passes", spam(6.31 - 0.01), Category::kClean, "",
                    Destiny::kPass, 250, "2.0.0"},
        CategoryRow{"bad_header_passes", bad_header(), Category::kBadHeader, "8BIT", Destiny::kPass,
                    250, "2.0.0"},
        CategoryRow{"oversized_bounced", oversized(), Category::kOversized, "", Destiny::kBounce,
                    250, "2.5.0"},
        CategoryRow{"virus_beats_everything", everything(), Category::kVirus, "", Destiny::kDiscard,
                    250, "2.7.0"}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(Verdict, RejectCodesFollowAmavisPerCategory) {
  RecipientPolicy p = RecipientPolicy::defaults();
  p.destiny.fill(Destiny::kReject);
  p.message_size_limit = 1000;
  auto code = [&](const Findings& f) {
    smtp::Reply r = blocked_reply(decide(f, p, Destiny::kTempfail), "ID");
    return std::to_string(r.code) + " " + r.status;
  };
  EXPECT_EQ(code(kEicar), "554 5.7.0");
  EXPECT_EQ(code(banned()), "554 5.7.0");
  EXPECT_EQ(code(kOverLimit), "554 5.7.0");
  EXPECT_EQ(code(spam(30)), "554 5.7.0");
  EXPECT_EQ(code(bad_header()), "554 5.6.0");
  EXPECT_EQ(code(oversized()), "552 5.3.4");
  EXPECT_EQ(blocked_reply(decide(banned(), p, Destiny::kTempfail), "ID").text,
            "Reject, id=ID - BANNED: p002 invoice.pdf.exe .exe-ms");
}

TEST(Verdict, ALoverGetsTheMailButTheNextCategoryDownStillCounts) {
  Findings f = spam(20);
  f.viruses = {"Eicar-Test-Signature"};
  RecipientPolicy p = RecipientPolicy::defaults();
  p.lover[static_cast<size_t>(Category::kVirus)] = true;
  Decision d = decide(f, p, Destiny::kTempfail);
  EXPECT_EQ(d.category, Category::kSpam);  // the virus is loved, the spam is not
  EXPECT_EQ(d.destiny, Destiny::kBounce);
  EXPECT_EQ(d.main, Category::kVirus);
  p.lover[static_cast<size_t>(Category::kSpam)] = true;
  d = decide(f, p, Destiny::kTempfail);
  EXPECT_EQ(d.destiny, Destiny::kPass);
  EXPECT_EQ(summary_words(d).substr(0, 15), "Passed INFECTED");
}

TEST(Verdict, BypassingACheckActsAsLovingItsCategory) {
  RecipientPolicy p = RecipientPolicy::defaults();
  p.bypass_banned_checks = true;
  EXPECT_EQ(decide(banned(), p, Destiny::kTempfail).destiny, Destiny::kPass);
  p.bypass_spam_checks = true;
  EXPECT_EQ(decide(spam(50), p, Destiny::kTempfail).destiny, Destiny::kPass);
  EXPECT_EQ(decide(kEicar, p, Destiny::kTempfail).destiny, Destiny::kDiscard);
}

TEST(Verdict, SpamLevelsArePerRecipient) {
  RecipientPolicy strict = RecipientPolicy::defaults();
  strict.spam_kill_level = 3;
  strict.spam_tag2_level = 2;
  EXPECT_EQ(decide(spam(4), strict, Destiny::kTempfail).category, Category::kSpam);
  EXPECT_EQ(decide(spam(4), RecipientPolicy::defaults(), Destiny::kTempfail).category,
            Category::kClean);
  RecipientPolicy lax = RecipientPolicy::defaults();
  lax.spam_kill_level = 100;
  Decision d = decide(spam(7), lax, Destiny::kTempfail);
  EXPECT_EQ(d.category, Category::kSpammy);
  EXPECT_EQ(d.destiny, Destiny::kPass);
}

TEST(Verdict, ScannerFailureTempfailsEvenBannedMailAndCannotBeLoved) {
  Findings f = banned();
  f.scan_failed = true;
  f.scan_error = "clamd down";
  RecipientPolicy p = RecipientPolicy::defaults();
  p.lover[static_cast<size_t>(Category::kUnchecked)] = true;
  Decision d = decide(f, p, Destiny::kTempfail);
  EXPECT_EQ(d.destiny, Destiny::kTempfail);
  EXPECT_EQ(blocked_reply(d, "ID").status, "4.5.0");
  // With D_PASS for failures the banned part still counts.
  EXPECT_EQ(decide(f, p, Destiny::kPass).destiny, Destiny::kBounce);
  p.lover[static_cast<size_t>(Category::kBanned)] = true;
  EXPECT_EQ(decide(f, p, Destiny::kPass).destiny, Destiny::kPass);
}

TEST(Verdict, DsnSuppressionFollowsAmavis) {
  RecipientPolicy p = RecipientPolicy::defaults();
  Decision virus = decide(kEicar, p, Destiny::kTempfail);
  Decision spammed = decide(spam(12), p, Destiny::kTempfail);
  Decision spam_low = decide(spam(8), p, Destiny::kTempfail);
  EXPECT_EQ(dsn_suppression(kEicar, virus, p, true, false, false), "null sender");
  EXPECT_EQ(dsn_suppression(kEicar, virus, p, false, false, true), "virus fakes sender");
  EXPECT_EQ(dsn_suppression(kEicar, virus, p, false, false, false), "");
  EXPECT_EQ(dsn_suppression(spam(12), spammed, p, false, false, false), "spam above cutoff");
  EXPECT_EQ(dsn_suppression(spam(8), spam_low, p, false, false, false), "");
  EXPECT_EQ(dsn_suppression(spam(8), spam_low, p, false, true, false), "bulk mail");
}

using smtp::Reply;
TEST(CollapseForSmtp, AnyDeferralWinsThenAcceptanceThenRefusal) {
  Reply ok{250, "2.0.0", "Ok"}, temp{451, "4.3.0", "later"}, perm{550, "5.1.1", "no"};
  EXPECT_EQ(collapse_for_smtp({ok, ok}).code, 250);
  EXPECT_EQ(collapse_for_smtp({ok, temp, perm}).code, 451);
  EXPECT_EQ(collapse_for_smtp({perm, ok}).code, 250);
  EXPECT_EQ(collapse_for_smtp({perm, perm}).code, 550);
  EXPECT_EQ(collapse_for_smtp({}).code, 451);
}

TEST(Destiny, ParsesAmavisNamesCaseInsensitively) {
  EXPECT_EQ(parse_destiny("D_REJECT"), Destiny::kReject);
  EXPECT_EQ(parse_destiny("d_bounce"), Destiny::kBounce);
  EXPECT_EQ(parse_destiny("discard"), Destiny::kDiscard);
  EXPECT_FALSE(parse_destiny("D_MAYBE"));
  for (Destiny d : {Destiny::kPass, Destiny::kDiscard, Destiny::kBounce, Destiny::kReject,
                    Destiny::kTempfail}) {
    EXPECT_EQ(parse_destiny(destiny_name(d)), d);
  }
}

}  // namespace
}  // namespace filterd::policy
