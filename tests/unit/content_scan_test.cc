// content_scan_test.cc — how scan_content() shares the work with the virus
// scanner: which buffers it hands over (a recording scanner), and that what
// only libclamav's own parsers see is still found (the real engine: cases
// from a review of a change that let libclamav skip its mail parser).
#include "filterd/content_scan.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "decoders/decoder.h"
#include "scanners/clamav_engine.h"
#include "tests/unit/test_data.h"

namespace filterd {
namespace {

namespace fs = std::filesystem;
using testing::base64;
using testing::eicar;

// Records the name of every buffer; "EICAR" in a buffer is a virus.
class RecordingScanner final : public scanners::VirusScanner {
 public:
  std::vector<std::string> calls;

  std::expected<void, scanners::ScanError> reload() override { return {}; }
  std::string describe() const override { return "recording"; }

 private:
  std::expected<scanners::VirusScanResult, scanners::ScanError> do_scan(
      std::string_view data, std::string_view name, const scanners::ScanOptions&) override {
    calls.emplace_back(name);
    scanners::VirusScanResult r;
    if (data.find("EICAR") != std::string_view::npos) r.viruses.push_back("Eicar-Test-Signature");
    return r;
  }
};

ContentScan scan(std::string_view message, scanners::VirusScanner& scanner) {
  static const decoders::DecoderRegistry registry = decoders::builtin_decoders();
  return scan_content(message, scanner, registry, decoders::DecodeLimits{}, {});
}

const std::string kHead =
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: test\r\nMIME-Version: 1.0\r\n";

std::string with_attachment(std::string_view type, std::string_view encoding,
                            std::string_view body) {
  return kHead +
         "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/html\r\n\r\n<p>see attachment</p>\r\n"
         "--b1\r\nContent-Type: " +
         std::string(type) +
         "; name=\"a.bin\"\r\nContent-Transfer-Encoding: " + std::string(encoding) + "\r\n\r\n" +
         std::string(body) + "\r\n--b1--\r\n";
}

// A zip holding one member, written with libarchive.
std::string zip_of(const std::string& name, const std::string& bytes) {
  std::string out(64 * 1024 + bytes.size() * 2, '\0');
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open_memory(a, out.data(), out.size(), &used);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_write_header(a, e);
  archive_write_data(a, bytes.data(), bytes.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

TEST(ContentScan, RawMessageThenEveryPartButCleanContainers) {
  RecordingScanner scanner;
  const std::string zip = zip_of("inner.txt", "harmless");
  ContentScan out = scan(with_attachment("application/zip", "base64", base64(zip, 76)), scanner);
  // The raw message first (libclamav also parses it as mail: it scans the
  // HTML body and the zip whole), then the zip's member; not the zip again.
  EXPECT_EQ(scanner.calls, (std::vector<std::string>{"message", "p002/p001 inner.txt"}));
  EXPECT_TRUE(out.findings.viruses.empty());
}

TEST(ContentScan, UnencodedAttachmentsAndBodiesThatAreNotTextAreScannedOnTheirOwn) {
  RecordingScanner scanner;
  const std::string exe =
      "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + std::string(200, '\0') + "PE\0\0";
  scan(kHead +
           "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: text/plain\r\n\r\nthe letter\r\n"
           "--b1\r\nContent-Type: text/plain; name=\"notes.txt\"\r\n\r\nattached text\r\n"
           "--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
           exe + "\r\n--b1--\r\n",
       scanner);
  // Not p001 (the letter itself); p002 has a file name; p003 claims to be
  // text and is not.
  EXPECT_EQ(scanner.calls, (std::vector<std::string>{"message", "p002 notes.txt", "p003"}));
}

TEST(ContentScan, VirusInTheMailsOwnTextIsLocatedInItsPart) {
  RecordingScanner scanner;
  ContentScan out = scan(kHead + "Content-Type: text/plain\r\n\r\n" + eicar() + "\r\n", scanner);
  EXPECT_EQ(out.findings.viruses, std::vector<std::string>{"Eicar-Test-Signature"});
  EXPECT_EQ(out.findings.virus_location, "p001");
  EXPECT_EQ(out.findings.virus_parts, std::vector<int>{0});
}

TEST(ContentScan, GuessedBoundaryIsAMimeProblem) {
  RecordingScanner scanner;
  ContentScan out =
      scan(kHead + "Content-Type: multipart/mixed\r\n\r\n--b1\r\n\r\nhi\r\n--b1--\r\n", scanner);
  EXPECT_EQ(out.decoded.structure_problems,
            std::vector<std::string>{"message: multipart without boundary parameter"});
  EXPECT_FALSE(out.findings.bad_headers.empty());
}

// --- the real engine --------------------------------------------------------

// libclamav with EICAR and, optionally, one more signature file.
class RealEngine {
 public:
  explicit RealEngine(const std::string& file = "", const std::string& text = "") {
    std::string dir = (fs::temp_directory_path() / "filterd-cst-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) return;
    dir_ = dir;
    std::ofstream(dir_ / "eicar.ndb") << testing::eicar_ndb_line();
    if (!file.empty()) std::ofstream(dir_ / file) << text;
    auto s = scanners::make_clamav_engine(dir_.string(), scanners::ClamavLimits{});
    if (s) scanner_ = std::move(*s);
  }
  ~RealEngine() {
    scanner_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  scanners::VirusScanner* get() { return scanner_.get(); }

 private:
  fs::path dir_;
  std::unique_ptr<scanners::VirusScanner> scanner_;
};

TEST(ContentScanClamav, BytesAppendedToAZipAreScanned) {
  RealEngine engine;
  ASSERT_TRUE(engine.get());
  const std::string zip = zip_of("h.txt", "harmless") + eicar();
  ContentScan out =
      scan(with_attachment("application/zip", "base64", base64(zip, 76)), *engine.get());
  EXPECT_FALSE(out.findings.viruses.empty());
}

TEST(ContentScanClamav, TextAroundAnEmbeddedUuencodeBlockIsScanned) {
  RealEngine engine;
  ASSERT_TRUE(engine.get());
  const std::string text =
      "Dear customer,\r\n" + eicar() + "\r\n\r\nbegin 644 a.txt\r\n#86)C\r\n`\r\nend\r\n";
  ContentScan out = scan(with_attachment("text/plain", "base64", base64(text, 76)), *engine.get());
  EXPECT_FALSE(out.findings.viruses.empty());
}

TEST(ContentScanClamav, AttachmentUnderAnUnknownTransferEncodingIsFound) {
  RealEngine engine;
  ASSERT_TRUE(engine.get());
  for (const char* cte : {"x-base64", "base-64", "Base64x"}) {
    ContentScan out =
        scan(with_attachment("application/octet-stream", cte, base64(eicar(), 76)), *engine.get());
    EXPECT_FALSE(out.findings.viruses.empty()) << cte;
  }
}

TEST(ContentScanClamav, PhishingSignaturesRunOnTheMessage) {
  RealEngine engine("p.pdb", "H:www.paypal.com\n");
  ASSERT_TRUE(engine.get());
  const std::string html =
      "<html><body><a href=\"http://evil.example.net/login\">https://www.paypal.com/</a>"
      "</body></html>";
  ContentScan out = scan(kHead + "Content-Type: text/html\r\n\r\n" + html + "\r\n", *engine.get());
  ASSERT_FALSE(out.findings.viruses.empty());
  EXPECT_TRUE(out.findings.viruses.front().starts_with("Heuristics.Phishing"))
      << out.findings.viruses.front();
}

TEST(ContentScanClamav, BinaryBodyUnderAGuessedBoundaryIsHashedAsAFile) {
  const fs::path exe_path = "/usr/share/clamav-testfiles/clam.exe";
  if (!fs::exists(exe_path)) GTEST_SKIP() << "clamav-testfiles not installed";
  std::ifstream in(exe_path, std::ios::binary);
  const std::string exe((std::istreambuf_iterator<char>(in)), {});
  // An .hdb line: MD5, size, name (the MD5 from libclamav's own tool would
  // do as well; the .hdb form is documented in ClamAV's signatures.md).
  FILE* p = ::popen(("md5sum " + exe_path.string()).c_str(), "r");
  ASSERT_NE(p, nullptr);
  char md5[33] = {};
  ASSERT_EQ(std::fread(md5, 1, 32, p), 32u);
  ::pclose(p);
  RealEngine engine(
      "c.hdb", std::string(md5) + ":" + std::to_string(exe.size()) + ":Filterd.Test.ClamExe\n");
  ASSERT_TRUE(engine.get());
  const std::string message = kHead + "Content-Type: multipart/mixed\r\n\r\n--b1\r\n" +
                              "Content-Type: application/octet-stream\r\n"
                              "Content-Transfer-Encoding: binary\r\n\r\n" +
                              exe + "\r\n--b1--\r\n";
  ContentScan out = scan(message, *engine.get());
  EXPECT_NE(std::find(out.findings.viruses.begin(), out.findings.viruses.end(),
                      "Filterd.Test.ClamExe.UNOFFICIAL"),
            out.findings.viruses.end());
}

}  // namespace
}  // namespace filterd
