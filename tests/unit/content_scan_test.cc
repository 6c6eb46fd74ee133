// content_scan_test.cc — how scan_content() shares the work with the virus
// scanner: which buffers it hands over, and whether the scanner's own mail
// parser runs on the whole message (only when filterd's parser had doubts).
#include "filterd/content_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decoders/decoder.h"
#include "tests/unit/test_data.h"

namespace filterd {
namespace {

using scanners::Unpack;

struct Call {
  std::string name;
  Unpack unpack;
};

// Records every call; "EICAR" in a buffer is a virus.
class RecordingScanner final : public scanners::VirusScanner {
 public:
  std::vector<Call> calls;

  std::expected<void, scanners::ScanError> reload() override { return {}; }
  std::string describe() const override { return "recording"; }

 private:
  std::expected<scanners::VirusScanResult, scanners::ScanError> do_scan(
      std::string_view data, std::string_view name, const scanners::ScanOptions& options) override {
    calls.push_back({std::string(name), options.unpack});
    scanners::VirusScanResult r;
    if (data.find("EICAR") != std::string_view::npos) r.viruses.push_back("Eicar-Test-Signature");
    return r;
  }
};

ContentScan scan(std::string_view message, RecordingScanner& scanner) {
  static const decoders::DecoderRegistry registry = decoders::builtin_decoders();
  return scan_content(message, scanner, registry, decoders::DecodeLimits{}, {});
}

const std::string kHead =
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: test\r\nMIME-Version: 1.0\r\n";

std::string two_part_mail(std::string_view attachment_base64) {
  return kHead +
         "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/html\r\n\r\n<p>see attachment</p>\r\n"
         "--b1\r\nContent-Type: application/octet-stream; name=\"x.com\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" +
         std::string(attachment_base64) + "\r\n--b1--\r\n";
}

TEST(ContentScan, CleanMimeMessageIsMatchedRawAndEveryPartScannedOnItsOwn) {
  RecordingScanner scanner;
  ContentScan out = scan(two_part_mail(testing::base64(testing::eicar(), 76)), scanner);
  ASSERT_EQ(scanner.calls.size(), 3u);
  EXPECT_EQ(scanner.calls[0].name, "message");
  EXPECT_EQ(scanner.calls[0].unpack, Unpack::kNotAsMail);
  // The HTML body is a stretch of the raw message, yet scanned as a file:
  // a raw match does not parse it as HTML.
  EXPECT_EQ(scanner.calls[1].name, "p001");
  EXPECT_EQ(scanner.calls[1].unpack, Unpack::kEverything);
  EXPECT_EQ(scanner.calls[2].name, "p002 x.com");
  EXPECT_EQ(scanner.calls[2].unpack, Unpack::kEverything);
  EXPECT_EQ(out.findings.viruses, std::vector<std::string>{"Eicar-Test-Signature"});
  EXPECT_EQ(out.findings.virus_location, "p002 x.com");
}

TEST(ContentScan, JunkInBase64AsksTheScannersMailParserToo) {
  RecordingScanner scanner;
  scan(two_part_mail(testing::base64(testing::eicar(), 76) + "\r\n!!junk!!"), scanner);
  ASSERT_FALSE(scanner.calls.empty());
  EXPECT_EQ(scanner.calls[0].unpack, Unpack::kEverything);
}

TEST(ContentScan, MultipartWithoutDelimiterAsksTheScannersMailParserToo) {
  RecordingScanner scanner;
  scan(kHead + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\nno delimiter here\r\n",
       scanner);
  ASSERT_FALSE(scanner.calls.empty());
  EXPECT_EQ(scanner.calls[0].unpack, Unpack::kEverything);
}

TEST(ContentScan, GuessedBoundaryAsksTheScannersMailParserAndIsAMimeProblem) {
  RecordingScanner scanner;
  ContentScan out =
      scan(kHead + "Content-Type: multipart/mixed\r\n\r\n--b1\r\n\r\nhi\r\n--b1--\r\n", scanner);
  ASSERT_FALSE(scanner.calls.empty());
  EXPECT_EQ(scanner.calls[0].unpack, Unpack::kEverything);
  EXPECT_EQ(out.decoded.structure_problems,
            std::vector<std::string>{"message: multipart without boundary parameter"});
  EXPECT_FALSE(out.findings.bad_headers.empty());
}

TEST(ContentScan, WithTheMailParserPlainStretchesAreNotScannedTwice) {
  RecordingScanner scanner;
  // A damaged structure: the scanner parses the message as mail, so the
  // unencoded body it found there is not handed over again.
  scan(kHead + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\nno delimiter here\r\n",
       scanner);
  ASSERT_EQ(scanner.calls.size(), 1u);
  EXPECT_EQ(scanner.calls[0].unpack, Unpack::kEverything);
}

}  // namespace
}  // namespace filterd
