// Table tests of the virus policy: findings x settings -> destiny -> reply.
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

TEST_P(VerdictTable, DecidesCategoryDestinyAndReply) {
  const Row& r = GetParam();
  Decision d = decide(r.findings, Settings{.final_virus_destiny = r.virus_destiny,
                                           .scanner_failure_destiny = r.failure_destiny});
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
  Decision d = decide(kEicar, Settings{.final_virus_destiny = Destiny::kReject});
  smtp::Reply r = blocked_reply(d, "abc");
  EXPECT_EQ(r.status, "5.7.0");
  EXPECT_EQ(r.text, "Reject, id=abc - INFECTED: Eicar-Test-Signature");
}

TEST(Verdict, SummaryWords) {
  EXPECT_EQ(summary_words(decide(kClean, {})), "Passed CLEAN");
  EXPECT_EQ(summary_words(decide(kEicar, {})), "Blocked INFECTED (Eicar-Test-Signature)");
  EXPECT_EQ(summary_words(decide(kFailed, {})), "Tempfailed UNCHECKED");
  EXPECT_EQ(summary_words(decide(kOverLimit, {})),
            "Passed UNCHECKED-OVERLIMIT (max files (3000) exceeded in p002 x.zip)");
  EXPECT_EQ(summary_words(decide(kEncrypted, {})),
            "Passed UNCHECKED-ENCRYPTED (encrypted p002/p001 secret.doc)");
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
