// Table tests of who gets what: destinies x SMTP/LMTP x mixed recipients,
// and of the edits a passed recipient's copy gets.
#include "policy/plan.h"

#include <gtest/gtest.h>

#include "policy/edits.h"

namespace filterd::policy {
namespace {

using smtp::Protocol;

RecipientFate fate(Destiny d, std::string suppressed = "") {
  RecipientFate f;
  f.decision.destiny = d;
  f.decision.category = d == Destiny::kPass ? Category::kClean : Category::kVirus;
  f.dsn_suppressed = std::move(suppressed);
  return f;
}

struct PlanRow {
  const char* name;
  std::vector<Destiny> destinies;
  Protocol input;
  bool tempfail_all, reject_all;
  std::vector<size_t> delivered, bounce, silent, refuse;
};

class PlanTable : public ::testing::TestWithParam<PlanRow> {};

TEST_P(PlanTable, SplitsRecipientsByDestinyAndProtocol) {
  const PlanRow& r = GetParam();
  std::vector<RecipientFate> fates;
  for (Destiny d : r.destinies) fates.push_back(fate(d));
  Plan p = plan_delivery(fates, r.input);
  EXPECT_EQ(p.tempfail_all, r.tempfail_all);
  EXPECT_EQ(p.reject_all, r.reject_all);
  std::vector<size_t> delivered;
  for (const auto& g : p.deliveries) delivered.insert(delivered.end(), g.begin(), g.end());
  EXPECT_EQ(delivered, r.delivered);
  EXPECT_EQ(p.bounce, r.bounce);
  EXPECT_EQ(p.silent, r.silent);
  EXPECT_EQ(p.refuse, r.refuse);
}

constexpr Destiny P = Destiny::kPass, D = Destiny::kDiscard, B = Destiny::kBounce,
                  R = Destiny::kReject, T = Destiny::kTempfail;

INSTANTIATE_TEST_SUITE_P(
    Destinies, PlanTable,
    ::testing::Values(
        PlanRow{"smtp_all_pass", {P, P}, Protocol::kSmtp, false, false, {0, 1}, {}, {}, {}},
        PlanRow{"smtp_all_reject", {R, R}, Protocol::kSmtp, false, true, {}, {}, {}, {}},
        PlanRow{"smtp_any_tempfail", {P, T}, Protocol::kSmtp, true, false, {}, {}, {}, {}},
        PlanRow{"smtp_pass_and_reject_bounces_the_rejected",
                {P, R},
                Protocol::kSmtp,
                false,
                false,
                {0},
                {1},
                {},
                {}},
        PlanRow{"smtp_pass_bounce_discard",
                {P, B, D},
                Protocol::kSmtp,
                false,
                false,
                {0},
                {1},
                {2},
                {}},
        PlanRow{"smtp_reject_and_discard", {R, D}, Protocol::kSmtp, false, false, {}, {0}, {1}, {}},
        PlanRow{"smtp_all_discard", {D, D}, Protocol::kSmtp, false, false, {}, {}, {0, 1}, {}},
        PlanRow{"lmtp_reject_is_per_recipient",
                {P, R},
                Protocol::kLmtp,
                false,
                false,
                {0},
                {},
                {},
                {1}},
        PlanRow{"lmtp_tempfail_is_per_recipient",
                {T, P},
                Protocol::kLmtp,
                false,
                false,
                {1},
                {},
                {},
                {0}},
        PlanRow{"lmtp_all_reject", {R, R}, Protocol::kLmtp, false, false, {}, {}, {}, {0, 1}},
        PlanRow{
            "lmtp_bounce_and_discard", {B, D}, Protocol::kLmtp, false, false, {}, {0}, {1}, {}}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(Plan, SuppressedBouncesAreSilent) {
  std::vector<RecipientFate> fates{fate(B, "null sender"), fate(R, "bulk mail"), fate(P)};
  Plan p = plan_delivery(fates, Protocol::kSmtp);
  EXPECT_TRUE(p.bounce.empty());
  EXPECT_EQ(p.silent, (std::vector<size_t>{0, 1}));
}

TEST(Plan, RecipientsWithEqualEditsShareOneDelivery) {
  std::vector<RecipientFate> fates{fate(P), fate(P), fate(P)};
  fates[1].edits.subject_tag = "***SPAM*** ";
  Plan p = plan_delivery(fates, Protocol::kSmtp);
  ASSERT_EQ(p.deliveries.size(), 2u);
  EXPECT_EQ(p.deliveries[0], (std::vector<size_t>{0, 2}));
  EXPECT_EQ(p.deliveries[1], (std::vector<size_t>{1}));
}

// --- edits -----------------------------------------------------------------

const std::string kMail =
    "Received: from x\r\nSubject: hello\r\nX-Spam-Flag: NO\r\nFrom: a@b.test\r\n\r\nbody\r\n";

std::string edited(std::string_view msg, const MessageEdits& e) {
  EditedMessage m = apply_edits(msg, e);
  return m.head + std::string(msg.substr(m.keep_from));
}

TEST(Edits, OnlyAddedFieldsCopyNothingOfTheOriginal) {
  MessageEdits e;
  e.add_fields = {"X-Virus-Scanned: filterd"};
  EditedMessage m = apply_edits(kMail, e);
  EXPECT_EQ(m.head, "X-Virus-Scanned: filterd\r\n");
  EXPECT_EQ(m.keep_from, 0u);
}

TEST(Edits, SubjectTagAndSpamFieldsReplacedRestByteIdentical) {
  MessageEdits e;
  e.add_fields = {"X-Spam-Flag: YES"};
  e.subject_tag = "***SPAM*** ";
  e.replace_spam_fields = true;
  EXPECT_EQ(edited(kMail, e),
            "X-Spam-Flag: YES\r\nReceived: from x\r\nSubject: ***SPAM*** hello\r\n"
            "From: a@b.test\r\n\r\nbody\r\n");
}

TEST(Edits, FoldedSubjectKeepsItsFolds) {
  MessageEdits e;
  e.subject_tag = "[X] ";
  EXPECT_EQ(edited("Subject: a\r\n b\r\n\r\nbody", e), "Subject: [X] a\r\n b\r\n\r\nbody");
}

TEST(Edits, MissingSubjectGetsOne) {
  MessageEdits e;
  e.subject_tag = "***SPAM*** ";
  EXPECT_EQ(edited("From: a@b\n\nbody\n", e), "From: a@b\nSubject: ***SPAM***\n\nbody\n");
}

TEST(Edits, LfMessagesGetLfFields) {
  MessageEdits e;
  e.add_fields = {"X-A: 1\r\n\tcontinued"};
  EXPECT_EQ(apply_edits("From: a\n\nb\n", e).head, "X-A: 1\n\tcontinued\n");
}

TEST(Edits, SpamFieldsOnlyForLocalRecipientsAtTagLevel) {
  Findings f;
  f.spam = SpamResult{7.5, {"A=5", "B=2.5"}};
  RecipientPolicy p = RecipientPolicy::defaults();
  Decision d = decide(f, p, Destiny::kTempfail);
  EXPECT_EQ(edits_for(f, d, p, "filterd").add_fields,
            (std::vector<std::string>{"X-Virus-Scanned: filterd"}));
  p.local = true;
  p.spam_kill_level = 100;
  d = decide(f, p, Destiny::kTempfail);
  MessageEdits e = edits_for(f, d, p, "filterd");
  ASSERT_EQ(e.add_fields.size(), 5u);
  EXPECT_EQ(e.add_fields[1], "X-Spam-Flag: YES");
  EXPECT_EQ(e.add_fields[2], "X-Spam-Score: 7.500");
  EXPECT_EQ(e.add_fields[3], "X-Spam-Level: *******");
  EXPECT_EQ(e.add_fields[4],
            "X-Spam-Status: Yes, score=7.500 tag=2 tag2=6.31 kill=100 tests=[A=5, B=2.5]");
  EXPECT_EQ(e.subject_tag, "***SPAM*** ");
  EXPECT_TRUE(e.replace_spam_fields);
}

TEST(Edits, LongSpamStatusIsFolded) {
  Findings f;
  f.spam = SpamResult{3, {}};
  for (int i = 0; i < 20; ++i)
    f.spam->tests.push_back("SOME_LONG_RULE_NAME_" + std::to_string(i) + "=0.1");
  RecipientPolicy p = RecipientPolicy::defaults();
  p.local = true;
  MessageEdits e = edits_for(f, decide(f, p, Destiny::kTempfail), p, "");
  const std::string& status = e.add_fields.back();
  size_t start = 0;
  for (size_t at; (at = status.find("\r\n", start)) != std::string::npos; start = at + 2) {
    EXPECT_LE(at - start, 78u);
    EXPECT_EQ(status[at + 2], '\t');
  }
}

TEST(Edits, PassedVirusCarriesAnAlertAndTag) {
  Findings f;
  f.viruses = {"Eicar-Test-Signature"};
  f.virus_location = "p002 eicar\x01.com";
  RecipientPolicy p = RecipientPolicy::defaults();
  p.local = true;
  p.lover[static_cast<size_t>(Category::kVirus)] = true;
  MessageEdits e = edits_for(f, decide(f, p, Destiny::kTempfail), p, "filterd");
  ASSERT_EQ(e.add_fields.size(), 2u);
  EXPECT_EQ(e.add_fields[1],
            "X-Filterd-Alert: INFECTED, message contains virus: Eicar-Test-Signature in\r\n"
            "\tp002 eicar .com");  // folded at 78 columns; the control char is a space
  EXPECT_EQ(e.subject_tag, "***INFECTED*** ");
}

TEST(Edits, AddressExtensionAsAmavis) {
  EXPECT_EQ(extended_address("user@example.com", '+', "spam"), "user+spam@example.com");
  EXPECT_EQ(extended_address("user+x@example.com", '+', "spam"), "user+x@example.com");
  EXPECT_EQ(extended_address("user@example.com", 0, "spam"), "user@example.com");
  EXPECT_EQ(extended_address("postmaster", '+', "spam"), "postmaster");
  EXPECT_EQ(extended_address("user@example.com", '+', ""), "user@example.com");
}

}  // namespace
}  // namespace filterd::policy
