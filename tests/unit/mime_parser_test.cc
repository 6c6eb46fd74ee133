// Tests of the MIME parser and the transfer decodings.
#include "decoders/mime_parser.h"

#include <gtest/gtest.h>

#include <optional>

#include "decoders/transfer_encoding.h"

namespace filterd::decoders {
namespace {

std::string body_of(std::string_view text, const MimeEntity& e) {
  return std::string(text.substr(e.body_begin, e.end - e.body_begin));
}

// Copies, so that the result may outlive the tree.
std::vector<std::optional<MimeEntity>> leaves(const MimeTree& t) {
  std::vector<std::optional<MimeEntity>> out;
  for (const auto& e : t.entities) {
    if (!e.multipart) out.emplace_back(e);
  }
  return out;
}

TEST(MimeParser, MessageWithoutContentTypeIsOneTextPlainPart) {
  std::string m = "Subject: hi\r\n\r\nhello\r\n";
  MimeTree t = parse_mime(m);
  ASSERT_EQ(t.entities.size(), 1u);
  EXPECT_EQ(t.entities[0].content_type, "text/plain");
  EXPECT_EQ(body_of(m, t.entities[0]), "hello\r\n");
}

TEST(MimeParser, MultipartSplitsAtDelimitersAndDropsPreambleAndEpilogue) {
  std::string m =
      "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n"
      "preamble\r\n--XYZ\r\nContent-Type: text/plain\r\n\r\none\r\n"
      "--XYZ\r\nContent-Type: application/octet-stream; name=a.bin\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--XYZ--\r\nepilogue\r\n";
  MimeTree t = parse_mime(m);
  auto l = leaves(t);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(body_of(m, *l[0]), "one");
  EXPECT_EQ(l[1]->transfer_encoding, "base64");
  EXPECT_EQ(l[1]->filenames, std::vector<std::string>{"a.bin"});
  EXPECT_EQ(body_of(m, *l[1]), "QUJD");
  EXPECT_TRUE(t.truncated.empty());
}

TEST(MimeParser, LfOnlyInputWorksLikeCrlf) {
  std::string m =
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\n\nsecond\n--b--\n";
  auto l = leaves(parse_mime(m));
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(body_of(m, *l[0]), "first");
  EXPECT_EQ(body_of(m, *l[1]), "second");
}

TEST(MimeParser, MissingClosingBoundaryKeepsTheLastPartToTheEnd) {
  std::string m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nlast part\r\n";
  MimeTree t = parse_mime(m);
  auto l = leaves(t);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(body_of(m, *l[0]), "last part\r\n");
  EXPECT_EQ(t.entities[0].problem, "missing closing boundary");
}

TEST(MimeParser, BoundaryTextInsideABodyLineDoesNotSplit) {
  std::string m =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nsee --b here\r\n"
      "--bb is another boundary\r\n--b--\r\n";
  auto l = leaves(parse_mime(m));
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(body_of(m, *l[0]), "see --b here\r\n--bb is another boundary");
}

TEST(MimeParser, NestedMultipartAndDigestDefaults) {
  std::string m =
      "Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n"
      "Content-Type: multipart/digest; boundary=inner\r\n\r\n--inner\r\n\r\n"
      "Subject: digest item\r\n\r\nbody\r\n--inner--\r\n--outer--\r\n";
  MimeTree t = parse_mime(m);
  auto l = leaves(t);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]->content_type, "message/rfc822");
  EXPECT_EQ(l[0]->depth, 2);
}

TEST(MimeParser, MultipartWithoutBoundaryParameterGuessesItAsClientsDo) {
  std::string m =
      "Content-Type: multipart/mixed\r\n\r\n--guess\r\nContent-Type: application/x-msdownload;"
      " name=evil.exe\r\n\r\nMZ...\r\n--guess--\r\n";
  MimeTree t = parse_mime(m);
  auto l = leaves(t);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]->filenames, std::vector<std::string>{"evil.exe"});
  EXPECT_EQ(t.entities[0].problem, "multipart without boundary parameter");
}

TEST(MimeParser, TooManyPartsMarksTheTreeTruncated) {
  std::string m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 50; ++i) m += "--b\r\n\r\nx\r\n";
  m += "--b--\r\n";
  MimeTree t = parse_mime(m, MimeLimits{.max_parts = 10, .max_nesting = 30});
  EXPECT_EQ(t.entities.size(), 10u);
  EXPECT_EQ(t.truncated, "more than 10 MIME parts");
}

TEST(MimeParser, DeepNestingStopsAtTheLimit) {
  std::string m;
  for (int i = 0; i < 50; ++i) {
    m += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
         std::to_string(i) + "\r\n";
  }
  m += "\r\nleaf\r\n";
  MimeTree t = parse_mime(m, MimeLimits{.max_parts = 1000, .max_nesting = 5});
  EXPECT_FALSE(t.truncated.empty());
}

// Evasions found by container_detection_test (ClamAV's own bypass samples):
// a scanner that picks a different boundary than the client misses the
// payload, so parts under every declared boundary are kept.
TEST(MimeParser, PartsUnderEveryDeclaredBoundaryAreKept) {
  for (std::string header : {"Content-Type: multipart/mixed; boundary=X; boundary=Y\r\n",
                             "Content-Type: multipart/mixed; boundary=X\r\n"
                             "Content-Type: multipart/mixed; boundary=Y\r\n"}) {
    std::string m = header +
                    "\r\n--X\r\n\r\ndecoy\r\n--X--\r\n--Y\r\nContent-Type: application/x-evil;"
                    " name=evil.exe\r\n\r\nMZ\r\n--Y--\r\n";
    auto l = leaves(parse_mime(m));
    ASSERT_EQ(l.size(), 2u) << header;
    EXPECT_EQ(l[1]->filenames, std::vector<std::string>{"evil.exe"});
  }
}

TEST(MimeParser, OnlyAClosingDelimiterStillYieldsThePartBeforeIt) {
  std::string m =
      "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\nContent-Type: application/x-evil;"
      " name=evil.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVo=\r\n--B--\r\n";
  MimeTree t = parse_mime(m);
  auto l = leaves(t);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]->filenames, std::vector<std::string>{"evil.exe"});
  EXPECT_EQ(t.entities[0].problem, "no opening boundary");
}

TEST(MimeParser, PartsReopenedAfterTheClosingDelimiterAreKept) {
  std::string m =
      "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\nfirst\r\n--B--\r\n"
      "--B\r\nContent-Type: application/x-evil; name=evil.exe\r\n\r\nMZ\r\n--B--\r\n";
  auto l = leaves(parse_mime(m));
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1]->filenames, std::vector<std::string>{"evil.exe"});
}

TEST(MimeParser, CommentInAFieldNameIsIgnored) {
  std::string m =
      "Content-Type(meow): multipart/mixed; boundary=Y\r\n\r\n--Y\r\nContent-Type: "
      "application/x-evil; name=evil.exe\r\n\r\nMZ\r\n--Y--\r\n";
  auto l = leaves(parse_mime(m));
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]->filenames, std::vector<std::string>{"evil.exe"});
}

TEST(ContentField, ValueIsOneTokenEvenWhenJunkIsFoldedIn) {
  ContentField f = parse_content_field("multipart/mixed\r\n   Content-Type: text/plain");
  EXPECT_EQ(f.value, "multipart/mixed");
}

TEST(ContentField, ParsesQuotedParamsCommentsAndCase) {
  ContentField f = parse_content_field(" Text/HTML (comment) ; CharSet=\"UTF-8\" ; x=\"a;b\"");
  EXPECT_EQ(f.value, "text/html");
  EXPECT_EQ(f.params["charset"], "UTF-8");
  EXPECT_EQ(f.params["x"], "a;b");
}

TEST(ContentField, Rfc2231ContinuationsAndCharsetAreJoinedAndDecoded) {
  ContentField f =
      parse_content_field("attachment; filename*0*=utf-8''%E2%82%AC%20rate; filename*1=\"s.pdf\"");
  EXPECT_EQ(f.params["filename"], "\xE2\x82\xAC rates.pdf");
}

TEST(ContentField, Rfc2047EncodedFilenameIsDecoded) {
  ContentField f = parse_content_field("attachment; filename=\"=?ISO-8859-1?Q?f=E4hre.exe?=\"");
  EXPECT_EQ(f.params["filename"], "f\xC3\xA4hre.exe");
}

TEST(TransferEncoding, Base64ToleratesJunkLineBreaksAndMissingPadding) {
  std::string out;
  decode_base64("SGVs\r\nbG8g*d29y\nbGQ", out);
  EXPECT_EQ(out, "Hello world");
}

TEST(TransferEncoding, Base64ConcatenatedQuantaResyncAtPadding) {
  std::string out;
  decode_base64("QQ==QkM=", out);
  EXPECT_EQ(out, "ABC");
}

TEST(TransferEncoding, QuotedPrintableSoftBreaksAndBadEscapes) {
  std::string out;
  decode_quoted_printable("caf=C3=A9 =\r\nau lait =ZZ end=\n", out);
  EXPECT_EQ(out, "caf\xC3\xA9 au lait =ZZ end");
}

TEST(TransferEncoding, EncodedWordsDropWhitespaceBetweenAdjacentWords) {
  EXPECT_EQ(decode_encoded_words("=?utf-8?B?SGVs?= =?utf-8?Q?lo_there?= !"), "Hello there !");
  EXPECT_EQ(decode_encoded_words("plain =?bad"), "plain =?bad");
}

}  // namespace
}  // namespace filterd::decoders
