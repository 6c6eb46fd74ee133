// Tests of attachment removal: the bad attachment becomes a notice, every
// other byte stays, and what cannot be removed safely is not.
#include "filterd/attachment_removal.h"

#include <gtest/gtest.h>

#include "decoders/decoder.h"
#include "decoders/message_decoder.h"

namespace filterd {
namespace {

const decoders::DecoderRegistry& registry() {
  static const decoders::DecoderRegistry r = decoders::builtin_decoders();
  return r;
}

const std::string kHead =
    "From: a@b.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=B\r\n\r\npreamble\r\n";
const std::string kText = "Content-Type: text/plain\r\n\r\nhello";
const std::string kBad =
    "Content-Type: application/octet-stream; name=\"evil.exe\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nTVogbm90IHJlYWxseQ==";
const std::string kLast = "Content-Type: text/plain; name=notes.txt\r\n\r\nnotes";

std::string mail(const std::string& middle) {
  return kHead + "--B\r\n" + kText + "\r\n--B\r\n" + middle + "\r\n--B\r\n" + kLast +
         "\r\n--B--\r\nepilogue\r\n";
}

int index_of(const decoders::DecodeResult& d, const std::string& path) {
  for (size_t i = 0; i < d.parts.size(); ++i) {
    if (d.parts[i].path == path) return static_cast<int>(i);
  }
  return -1;
}

TEST(AttachmentRemoval, ReplacesTheAttachmentAndKeepsEveryOtherByte) {
  const std::string m = mail(kBad);
  decoders::DecodeResult d = decoders::decode_message(m, {}, registry());
  auto r = remove_attachments(m, d, {{index_of(d, "p002"), "BANNED: evil.exe"}}, "ID1");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->removed, std::vector<std::string>{"p002 evil.exe"});
  const size_t at = m.find(kBad);
  EXPECT_EQ(r->message.substr(0, at), m.substr(0, at));
  const std::string after = m.substr(at + kBad.size());
  EXPECT_TRUE(r->message.ends_with(after));
  const std::string notice = r->message.substr(at, r->message.size() - after.size() - at);
  EXPECT_TRUE(notice.starts_with("Content-Type: text/plain; charset=UTF-8\r\n")) << notice;
  EXPECT_NE(notice.find("Attachment: p002 evil.exe\r\n"), std::string::npos) << notice;
  EXPECT_NE(notice.find("Found: BANNED: evil.exe\r\n"), std::string::npos) << notice;
  EXPECT_TRUE(notice.ends_with("Mail id: ID1")) << notice;
  decoders::DecodeResult again = decoders::decode_message(r->message, {}, registry());
  ASSERT_EQ(again.parts.size(), 3u);
  EXPECT_EQ(again.parts[1].declared_type, "text/plain");
}

TEST(AttachmentRemoval, APartInsideAnAttachedMessageTakesTheWholeAttachment) {
  const std::string inner =
      "Content-Type: message/rfc822\r\n\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=C\r\n\r\n--C\r\nContent-Type: text/plain\r\n\r\n"
      "inner\r\n--C\r\n" +
      kBad + "\r\n--C--\r\n";
  const std::string m = mail(inner);
  decoders::DecodeResult d = decoders::decode_message(m, {}, registry());
  const int deep = index_of(d, "p002/p002");
  ASSERT_GE(deep, 0);
  auto r = remove_attachments(m, d, {{deep, "INFECTED: Test"}}, "ID");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->removed, std::vector<std::string>{"p002"});
  EXPECT_EQ(r->message.find("inner"), std::string::npos);
  EXPECT_NE(r->message.find("Found: p002/p002 evil.exe: INFECTED: Test"), std::string::npos);
}

TEST(AttachmentRemoval, TheMessageBodyItselfCannotBeRemoved) {
  const std::string m = "From: a@b.test\r\nSubject: x\r\n\r\nEICAR in the body\r\n";
  decoders::DecodeResult d = decoders::decode_message(m, {}, registry());
  ASSERT_EQ(d.parts.size(), 1u);
  EXPECT_FALSE(remove_attachments(m, d, {{0, "INFECTED: X"}}, "ID"));
}

TEST(AttachmentRemoval, NoOffencesOrABadIndexRemoveNothing) {
  const std::string m = mail(kBad);
  decoders::DecodeResult d = decoders::decode_message(m, {}, registry());
  EXPECT_FALSE(remove_attachments(m, d, {}, "ID"));
  EXPECT_FALSE(remove_attachments(m, d, {{99, "X"}}, "ID"));
  EXPECT_FALSE(remove_attachments(m, d, {{-1, "X"}}, "ID"));
}

TEST(AttachmentRemoval, TwoOffencesInOneAttachmentGiveOneNotice) {
  const std::string m = mail(kBad);
  decoders::DecodeResult d = decoders::decode_message(m, {}, registry());
  const int p = index_of(d, "p002");
  auto r = remove_attachments(m, d, {{p, "INFECTED: A"}, {p, "BANNED: evil.exe"}}, "ID");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->removed.size(), 1u);
  EXPECT_NE(r->message.find("Found: INFECTED: A\r\nFound: BANNED: evil.exe\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace filterd
