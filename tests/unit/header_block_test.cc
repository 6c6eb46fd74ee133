// Tests of the header section reader.
#include "decoders/header_block.h"

#include <gtest/gtest.h>

namespace filterd::decoders {
namespace {

TEST(HeaderBlock, FindsTheBlankLineWithCrlfOrLf) {
  EXPECT_EQ(header_section_end("A: b\r\n\r\nbody"), 8u);
  EXPECT_EQ(header_section_end("A: b\n\nbody"), 6u);
  EXPECT_EQ(header_section_end("A: b\r\n"), 6u);  // no body: all header
}

TEST(HeaderBlock, FoldedFieldsAreOneFieldAndUnfoldedOnRead) {
  std::string m = "Subject: one\r\n two\r\nFrom: a@b\r\n\r\nx";
  auto f = parse_header_fields(m);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].name, "Subject");
  EXPECT_EQ(f[0].raw, "Subject: one\r\n two\r\n");
  EXPECT_EQ(header_value(m, "subject"), "one two");
}

TEST(HeaderBlock, ObsoleteSpaceBeforeColonIsAccepted) {
  EXPECT_EQ(header_value("Message-ID  : <x@y>\r\n\r\n", "Message-Id"), "<x@y>");
}

TEST(HeaderBlock, NonHeaderLineEndsTheSection) {
  auto f = parse_header_fields("A: 1\r\nthis is body\r\nB: 2\r\n");
  ASSERT_EQ(f.size(), 1u);
}

TEST(HeaderBlock, MissingFieldIsNullopt) {
  EXPECT_FALSE(header_value("A: 1\r\n\r\n", "B"));
}

TEST(HeaderBlock, LineEndingFollowsTheMessage) {
  EXPECT_EQ(line_ending_of("A: 1\r\n"), "\r\n");
  EXPECT_EQ(line_ending_of("A: 1\n"), "\n");
}

}  // namespace
}  // namespace filterd::decoders
