// milter_answer: an in-dialog outcome as the milter requests Postfix
// carries out, checked against what apply_edits does to the bytes in the
// after-queue mode. Tables over hand-made judgements; no sockets.
#include "filterd/milter_answer.h"

#include <gtest/gtest.h>

namespace filterd {
namespace {
namespace m = milter;
using Action = InDialogOutcome::Action;

constexpr uint32_t kAll = m::kWantedActions;
constexpr uint32_t kHeadersOnly = m::action::kAddHeaders | m::action::kChangeHeaders;

Judgement judged(std::string message, std::vector<std::string> rcpts = {"bob@b.test"}) {
  Judgement j;
  j.mail_id = "MID";
  j.txn.data = std::move(message);
  for (auto& r : rcpts) j.txn.envelope.recipients.push_back({r, "", ""});
  return j;
}

InDialogOutcome pass(const Judgement& j, policy::MessageEdits edits = {}) {
  InDialogOutcome o;
  o.action = Action::kPass;
  o.edits = std::move(edits);
  for (const auto& r : j.txn.envelope.recipients) o.deliver_to.push_back(r.address);
  return o;
}

const std::string kMessage =
    "From: a@a.test\r\n"
    "X-Spam-Status: No, forged\r\n"
    "Subject: hello\r\n"
    "  world\r\n"
    "x-spam-status: another\r\n"
    "X-Spam-Flag: NO\r\n"
    "\r\n"
    "body\r\n";

TEST(MilterAnswer, RejectAndTempfailAreReplyCodesDiscardIsDiscard) {
  const Judgement j = judged(kMessage);
  InDialogOutcome o;
  o.action = Action::kReject;
  o.reply = {554, "5.7.0", "Rejected: virus"};
  auto a = milter_answer(j, o, kAll, true, "QID");
  ASSERT_EQ(a.replies.size(), 1u);
  EXPECT_EQ(a.replies[0], m::Reply(m::ReplyCode{"554 5.7.0 Rejected: virus"}));
  EXPECT_EQ(a.reply.code, 554);

  o.action = Action::kTempfail;
  o.reply = {451, "4.4.5", "later\nplease"};
  a = milter_answer(j, o, kAll, true, "QID");
  EXPECT_EQ(a.replies, std::vector<m::Reply>{m::ReplyCode{"451 4.4.5 later please"}});

  o.action = Action::kDiscard;
  o.reply = {250, "2.7.0", "Ok, discarded"};
  a = milter_answer(j, o, kAll, true, "QID");
  EXPECT_EQ(a.replies, std::vector<m::Reply>{m::Discard{}});
  EXPECT_EQ(a.reply.code, 250);
}

TEST(MilterAnswer, PassAddsFieldsWithLeadingSpaceAndLfFolds) {
  const Judgement j = judged(kMessage);
  policy::MessageEdits e;
  e.add_fields = {"X-Virus-Scanned: filterd", "X-Spam-Status: Yes, score=9\r\n\ttests=[A, B]"};
  auto a = milter_answer(j, pass(j, e), kAll, true, "QID");
  const std::vector<m::Reply> want = {
      m::AddHeader{"X-Virus-Scanned", " filterd"},
      m::AddHeader{"X-Spam-Status", " Yes, score=9\n\ttests=[A, B]"},
      m::Accept{},
  };
  EXPECT_EQ(a.replies, want);
  EXPECT_EQ(a.reply.code, 250);
  EXPECT_EQ(a.reply.text, "Ok: queued as QID");

  // Without SMFIP_HDR_LEADSPC the MTA puts the space back itself.
  a = milter_answer(j, pass(j, e), kAll, false, "");
  EXPECT_EQ(a.replies[0], m::Reply(m::AddHeader{"X-Virus-Scanned", "filterd"}));
  EXPECT_EQ(a.reply.text, "Ok");
}

TEST(MilterAnswer, SpamFieldsAreDeletedHighestIndexFirstBeforeNewOnesAreAdded) {
  const Judgement j = judged(kMessage);
  policy::MessageEdits e;
  e.replace_spam_fields = true;
  e.add_fields = {"X-Spam-Flag: YES"};
  auto a = milter_answer(j, pass(j, e), kAll, true, "");
  const std::vector<m::Reply> want = {
      m::ChangeHeader{1, "X-Spam-Flag", ""},
      m::ChangeHeader{2, "X-Spam-Status", ""},
      m::ChangeHeader{1, "X-Spam-Status", ""},
      m::AddHeader{"X-Spam-Flag", " YES"},
      m::Accept{},
  };
  EXPECT_EQ(a.replies, want);
}

TEST(MilterAnswer, SubjectTagGoesInFrontOfTheFirstSubjectWithItsFoldsKept) {
  const Judgement j = judged(kMessage);
  policy::MessageEdits e;
  e.subject_tag = "***SPAM*** ";
  auto a = milter_answer(j, pass(j, e), kAll, true, "");
  ASSERT_EQ(a.replies.size(), 2u);
  EXPECT_EQ(a.replies[0], m::Reply(m::ChangeHeader{1, "Subject", " ***SPAM*** hello\n  world"}));
  a = milter_answer(j, pass(j, e), kAll, false, "");
  EXPECT_EQ(a.replies[0], m::Reply(m::ChangeHeader{1, "Subject", "***SPAM*** hello\n  world"}));
}

TEST(MilterAnswer, SubjectTagWithoutSubjectAddsOneAsApplyEditsDoes) {
  const Judgement j = judged("From: a@a.test\r\n\r\nbody\r\n");
  policy::MessageEdits e;
  e.subject_tag = "[SPAM] ";
  auto a = milter_answer(j, pass(j, e), kAll, true, "");
  EXPECT_EQ(a.replies[0], m::Reply(m::AddHeader{"Subject", " [SPAM]"}));
}

TEST(MilterAnswer, EditedBodyIsReplacedInChunksWhenTheHeaderSectionIsUnchanged) {
  Judgement j = judged("Subject: x\r\n\r\nold body\r\n");
  j.edited = "Subject: x\r\n\r\n" + std::string(m::kBodyChunk + 5, 'n');
  auto a = milter_answer(j, pass(j), kAll, true, "");
  ASSERT_EQ(a.replies.size(), 3u);
  EXPECT_EQ(std::get<m::ReplaceBody>(a.replies[0]).chunk.size(), m::kBodyChunk);
  EXPECT_EQ(std::get<m::ReplaceBody>(a.replies[1]).chunk, "nnnnn");
  EXPECT_EQ(a.replies[2], m::Reply(m::Accept{}));
}

TEST(MilterAnswer, EditedBodyThatCannotBeAppliedIsATempfailNeverTheOriginal) {
  Judgement j = judged("Subject: x\r\n\r\nold body\r\n");
  j.edited = "Subject: y\r\n\r\nnew body\r\n";
  auto a = milter_answer(j, pass(j), kAll, true, "");
  ASSERT_EQ(a.replies.size(), 1u);
  EXPECT_EQ(a.reply.code, 451);
  EXPECT_TRUE(std::holds_alternative<m::ReplyCode>(a.replies[0]));

  j.edited = "Subject: x\r\n\r\nnew body\r\n";
  a = milter_answer(j, pass(j), kHeadersOnly, true, "");
  EXPECT_EQ(a.reply.code, 451);
  EXPECT_EQ(a.replies.size(), 1u);
}

TEST(MilterAnswer, DroppedRecipientsAreDeletedAndExtensionsReplaceTheAddress) {
  const Judgement j = judged(kMessage, {"bob@b.test", "carol@b.test", "dave@b.test"});
  InDialogOutcome o = pass(j);
  o.deliver_to[1] = std::nullopt;
  o.deliver_to[2] = "dave+spam@b.test";
  auto a = milter_answer(j, o, kAll, true, "");
  const std::vector<m::Reply> want = {
      m::DeleteRcpt{"<carol@b.test>"},
      m::DeleteRcpt{"<dave@b.test>"},
      m::AddRcpt{"<dave+spam@b.test>"},
      m::Accept{},
  };
  EXPECT_EQ(a.replies, want);
  EXPECT_TRUE(a.notes.empty());
}

TEST(MilterAnswer, RecipientChangesTheMtaDoesNotAllow) {
  const Judgement j = judged(kMessage, {"bob@b.test", "dave@b.test"});
  InDialogOutcome o = pass(j);
  o.deliver_to[1] = "dave+spam@b.test";
  auto a = milter_answer(j, o, kHeadersOnly, true, "");
  EXPECT_EQ(a.replies, std::vector<m::Reply>{m::Accept{}});  // delivered unextended
  ASSERT_EQ(a.notes.size(), 1u);

  o.deliver_to[1] = std::nullopt;  // but never to someone it must not reach
  a = milter_answer(j, o, kHeadersOnly, true, "");
  EXPECT_EQ(a.reply.code, 451);
  EXPECT_TRUE(std::holds_alternative<m::ReplyCode>(a.replies.back()));
}

}  // namespace
}  // namespace filterd
