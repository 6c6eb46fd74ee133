// clamav_engine_test.cc — behaviour of the in-process libclamav scanner.
//
// Every test builds its own signature directory in a temp dir (an EICAR
// .ndb written here), so nothing depends on freshclam or on scripts/.
// Archive tests use /usr/share/clamav-testfiles and skip without it.
#include "scanners/clamav_engine.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/scanner_contract.h"
#include "tests/unit/test_data.h"

namespace filterd::scanners {
namespace {

namespace fs = std::filesystem;
using Kind = ScanError::Kind;

using filterd::testing::base64;
using filterd::testing::eicar;
using filterd::testing::hex;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string ndb_line(std::string_view name, std::string_view body) {
  return std::string(name) + ":0:*:" + hex(body) + "\n";
}

const std::string kEicarName = "Eicar-Test-Signature.UNOFFICIAL";
const std::string kDummySig = "Filterd-Dummy:0:*:00ff00ff00ff00ff00ff00ff00ff00ff\n";
const fs::path kTestFiles = "/usr/share/clamav-testfiles";

class ClamavEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "filterd-clamav-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_db(const std::string& file, std::string_view text) { write_file(dir_ / file, text); }

  std::unique_ptr<VirusScanner> make(ClamavLimits limits = {}) {
    auto scanner = make_clamav_engine(dir_.string(), limits);
    EXPECT_TRUE(scanner.has_value()) << scanner.error().message;
    return scanner ? std::move(*scanner) : nullptr;
  }

  fs::path dir_;
};

TEST_F(ClamavEngineTest, EicarBufferIsReportedWithItsSignatureName) {
  write_db("test.ndb", ndb_line("Eicar-Test-Signature", eicar()));
  auto scanner = make();
  ASSERT_TRUE(scanner);
  auto result = scanner->scan(eicar(), "p001 eicar.com");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->viruses, std::vector<std::string>{kEicarName});
}

TEST_F(ClamavEngineTest, CleanBufferIsClean) {
  write_db("test.ndb", ndb_line("Eicar-Test-Signature", eicar()));
  auto scanner = make();
  ASSERT_TRUE(scanner);
  auto result = scanner->scan("Hello,\r\n\r\njust a plain letter.\r\n", "p001");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_FALSE(result->infected());
}

TEST_F(ClamavEngineTest, EmptyBufferIsClean) {
  write_db("test.ndb", ndb_line("Eicar-Test-Signature", eicar()));
  auto scanner = make();
  ASSERT_TRUE(scanner);
  auto result = scanner->scan("", "p001");
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->infected());
}

TEST_F(ClamavEngineTest, EveryMatchingSignatureIsReported) {
  write_db("test.ndb", ndb_line("Eicar-Test-Signature", eicar()) +
                           ndb_line("Eicar-Middle", "EICAR-STANDARD-ANTIVIRUS"));
  auto scanner = make();
  ASSERT_TRUE(scanner);
  auto result = scanner->scan(eicar(), "p001");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->viruses, (std::vector<std::string>{kEicarName, "Eicar-Middle.UNOFFICIAL"}));
}

TEST_F(ClamavEngineTest, EicarInBase64AttachmentOfAMailIsFound) {
  write_db("test.ndb", ndb_line("Eicar-Test-Signature", eicar()));
  auto scanner = make();
  ASSERT_TRUE(scanner);
  const std::string mail =
      "From: a@example.org\r\nTo: b@example.org\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
      "--b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
      "--b1\r\nContent-Type: application/octet-stream; name=\"x.com\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      base64(eicar()) + "\r\n--b1--\r\n";
  ASSERT_EQ(mail.find("EICAR"), std::string::npos);  // only the decoded part can match
  auto result = scanner->scan(mail, "message");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->viruses, std::vector<std::string>{kEicarName});
}

TEST_F(ClamavEngineTest, PartOnDiskIsReadFromItsFile) {
  write_db("test.ndb", ndb_line("Eicar-Test-Signature", eicar()));
  auto scanner = make();
  ASSERT_TRUE(scanner);
  filterd::testing::expect_part_on_disk_read_from_its_fd(*scanner, dir_ / "part", 3 << 20,
                                                         kEicarName);
  // A descriptor that is not a regular file is not the part either.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  auto not_a_file = scanner->scan(eicar(), "p001", {.fd = pipe_fds[0]});
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_TRUE(not_a_file.has_value()) << not_a_file.error().message;
  EXPECT_EQ(not_a_file->viruses, std::vector<std::string>{kEicarName});
}

TEST_F(ClamavEngineTest, VirusInsideArchivesPackedExecutablesAndDocumentsIsFound) {
  if (!fs::exists(kTestFiles / "clam.exe")) GTEST_SKIP() << "clamav-testfiles not installed";
  // A body signature on clam.exe's code, which in each of these files is
  // only visible once libclamav has unpacked the container.
  const std::string code = read_file(kTestFiles / "clam.exe").substr(0x40, 50);
  write_db("test.ndb", ndb_line("ClamAV-Test-File", code));
  auto scanner = make();
  ASSERT_TRUE(scanner);
  for (const char* archive : {"clam.zip", "clam.tar.gz", "clam.7z", "clam.arj", "clam.exe.bz2",
                              "clam-upx.exe", "clam.ppt", "clam.mail"}) {
    const std::string data = read_file(kTestFiles / archive);
    ASSERT_EQ(data.find(code), std::string::npos) << archive << " holds clam.exe as is";
    auto result = scanner->scan(data, archive);
    ASSERT_TRUE(result.has_value()) << archive << ": " << result.error().message;
    EXPECT_EQ(result->viruses, std::vector<std::string>{"ClamAV-Test-File.UNOFFICIAL"}) << archive;
  }
}

TEST_F(ClamavEngineTest, DataOverTheFileSizeLimitIsANamedFindingNotClean) {
  write_db("test.ndb", kDummySig);
  auto scanner = make(ClamavLimits{.max_file_size = 1024});
  ASSERT_TRUE(scanner);
  auto result = scanner->scan(std::string(4096, 'a'), "p001");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  ASSERT_EQ(result->viruses.size(), 1U);
  EXPECT_TRUE(result->viruses[0].starts_with("Heuristics.Limits.Exceeded")) << result->viruses[0];
}

TEST_F(ClamavEngineTest, ReloadSwapsInNewSignatures) {
  write_db("dummy.ndb", kDummySig);
  auto scanner = make();
  ASSERT_TRUE(scanner);
  auto before = scanner->scan(eicar(), "p001");
  ASSERT_TRUE(before.has_value());
  EXPECT_FALSE(before->infected());

  write_db("eicar.ndb", ndb_line("Eicar-Test-Signature", eicar()));
  ASSERT_TRUE(scanner->reload().has_value());
  auto after = scanner->scan(eicar(), "p001");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->viruses, std::vector<std::string>{kEicarName});
}

TEST_F(ClamavEngineTest, FailedReloadKeepsThePreviousEngineInService) {
  write_db("eicar.ndb", ndb_line("Eicar-Test-Signature", eicar()));
  auto scanner = make();
  ASSERT_TRUE(scanner);
  write_db("broken.ndb", "this is not a signature\n");
  auto reloaded = scanner->reload();
  ASSERT_FALSE(reloaded.has_value());
  EXPECT_EQ(reloaded.error().kind, Kind::kUnavailable);
  auto result = scanner->scan(eicar(), "p001");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->viruses, std::vector<std::string>{kEicarName});
  EXPECT_TRUE(scanner->database_changed()) << "a poller must retry the failed reload";
}

TEST_F(ClamavEngineTest, DatabaseChangedTurnsTrueAfterAFileIsAddedAndFalseAfterReload) {
  write_db("dummy.ndb", kDummySig);
  auto scanner = make();
  ASSERT_TRUE(scanner);
  EXPECT_FALSE(scanner->database_changed());
  write_db("eicar.ndb", ndb_line("Eicar-Test-Signature", eicar()));
  EXPECT_TRUE(scanner->database_changed());
  ASSERT_TRUE(scanner->reload().has_value());
  EXPECT_FALSE(scanner->database_changed());
}

TEST_F(ClamavEngineTest, ScansFromFourThreadsWhileReloadingAllSucceed) {
  write_db("eicar.ndb", ndb_line("Eicar-Test-Signature", eicar()));
  auto scanner = make();
  ASSERT_TRUE(scanner);
  constexpr int kScansPerThread = 200;
  std::atomic<int> infected{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < kScansPerThread; ++i) {
        auto result = scanner->scan(eicar(), "p001");
        if (!result) {
          ++failed;
        } else if (result->viruses == std::vector<std::string>{kEicarName}) {
          ++infected;
        }
      }
    });
  }
  for (int r = 0; r < 5; ++r) EXPECT_TRUE(scanner->reload().has_value());
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(infected.load(), 4 * kScansPerThread);
}

TEST_F(ClamavEngineTest, MissingDatabaseDirectoryIsUnavailable) {
  auto scanner = make_clamav_engine((dir_ / "does-not-exist").string(), {});
  ASSERT_FALSE(scanner.has_value());
  EXPECT_EQ(scanner.error().kind, Kind::kUnavailable);
  EXPECT_NE(scanner.error().message.find("does-not-exist"), std::string::npos);
}

TEST_F(ClamavEngineTest, DirectoryWithoutDatabasesIsUnavailable) {
  write_file(dir_ / "README", "no signatures here\n");
  auto scanner = make_clamav_engine(dir_.string(), {});
  ASSERT_FALSE(scanner.has_value());
  EXPECT_EQ(scanner.error().kind, Kind::kUnavailable);
}

TEST_F(ClamavEngineTest, DescribeNamesVersionAndSignatureCount) {
  write_db("test.ndb", ndb_line("Eicar-Test-Signature", eicar()) + kDummySig);
  auto scanner = make();
  ASSERT_TRUE(scanner);
  const std::string description = scanner->describe();
  EXPECT_TRUE(description.starts_with("ClamAV 1.")) << description;
  EXPECT_TRUE(description.ends_with("(libclamav, 2 signatures)")) << description;
}

}  // namespace
}  // namespace filterd::scanners
