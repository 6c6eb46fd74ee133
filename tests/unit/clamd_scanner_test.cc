// clamd_scanner_test.cc — behaviour of the clamd client.
//
// Three layers: the pure parsers (no sockets), a fake clamd in a thread
// for misbehaviour (silence, endless replies), and a real clamd started
// by the fixture on a private socket, port and signature directory.
#include "scanners/clamd_scanner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
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
using namespace std::chrono_literals;
using Kind = ScanError::Kind;
using Clock = std::chrono::steady_clock;

using filterd::testing::eicar;
using filterd::testing::hex;

const std::string kEicarName = "Eicar-Test-Signature.UNOFFICIAL";

// A private temp directory with a short path (unix socket paths are short).
class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/filterd-clamd-XXXXXX";
    if (::mkdtemp(templ) != nullptr) path_ = templ;
  }
  ~TempDir() {
    if (!path_.empty()) fs::remove_all(path_);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

int free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// --- pure parsers -------------------------------------------------------

TEST(ClamdReplyTest, OkIsClean) {
  auto result = parse_clamd_instream_reply(std::string("stream: OK\0", 11));
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->infected());
}

TEST(ClamdReplyTest, FoundLineGivesTheVirusName) {
  auto result = parse_clamd_instream_reply(std::string("stream: Eicar-Test-Signature FOUND\0", 35));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->viruses, std::vector<std::string>{"Eicar-Test-Signature"});
}

TEST(ClamdReplyTest, EveryFoundLineOfAnAllMatchReplyIsReportedOnce) {
  const std::string reply = std::string("stream: A FOUND\0stream: B FOUND\0", 32) +
                            std::string("stream: A FOUND\0", 16) + "stream: C FOUND\n";
  auto result = parse_clamd_instream_reply(reply);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->viruses, (std::vector<std::string>{"A", "B", "C"}));
}

TEST(ClamdReplyTest, ExtendedDetectionInfoIsDroppedFromTheName) {
  auto result =
      parse_clamd_instream_reply("stream: Eicar(44d88612fea8a8f36de82e1278abb02f:68) FOUND\n");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->viruses, std::vector<std::string>{"Eicar"});
}

TEST(ClamdReplyTest, SizeLimitErrorIsALimit) {
  auto result =
      parse_clamd_instream_reply(std::string("INSTREAM size limit exceeded. ERROR\0", 36));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kLimit);
}

TEST(ClamdReplyTest, OtherErrorIsInternal) {
  auto result = parse_clamd_instream_reply("stream: Can't allocate memory ERROR\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kInternal);
}

TEST(ClamdReplyTest, FindingOutranksAnError) {
  auto result = parse_clamd_instream_reply("stream: X FOUND\nstream: Something ERROR\n");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->viruses, std::vector<std::string>{"X"});
}

TEST(ClamdReplyTest, EmptyReplyIsAProtocolError) {
  auto result = parse_clamd_instream_reply("");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kProtocol);
}

TEST(ClamdReplyTest, UnknownLineIsAProtocolError) {
  auto result = parse_clamd_instream_reply("UNKNOWN COMMAND\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kProtocol);
}

TEST(ClamdReplyTest, NameWithControlCharactersIsAProtocolError) {
  auto result = parse_clamd_instream_reply("stream: Bad\x01Name FOUND\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kProtocol);
}

TEST(ClamdSocketSpecTest, UnixPathIsParsed) {
  auto address = parse_clamd_socket_spec("unix:/run/clamav/clamd.ctl");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->family, ClamdAddress::Family::kUnix);
  EXPECT_EQ(address->path_or_host, "/run/clamav/clamd.ctl");
}

TEST(ClamdSocketSpecTest, InetHostAndPortAreParsed) {
  auto address = parse_clamd_socket_spec("inet:127.0.0.1:3310");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->family, ClamdAddress::Family::kInet);
  EXPECT_EQ(address->path_or_host, "127.0.0.1");
  EXPECT_EQ(address->port, 3310);
}

TEST(ClamdSocketSpecTest, BracketedIpv6HostIsParsed) {
  auto address = parse_clamd_socket_spec("inet:[::1]:3310");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->path_or_host, "::1");
  EXPECT_EQ(address->port, 3310);
}

TEST(ClamdSocketSpecTest, MalformedSpecsAreConfigurationErrors) {
  const std::vector<std::string> specs = {"",
                                          "clamd.ctl",
                                          "unix:",
                                          "unix:relative/path",
                                          "tcp:1.2.3.4:3310",
                                          "inet:",
                                          "inet:host",
                                          "inet::3310",
                                          "inet:host:",
                                          "inet:host:0",
                                          "inet:host:65536",
                                          "inet:host:33x",
                                          "inet:::1:3310",
                                          "unix:/" + std::string(200, 'x')};
  for (const std::string& spec : specs) {
    auto address = parse_clamd_socket_spec(spec);
    ASSERT_FALSE(address.has_value()) << spec;
    EXPECT_EQ(address.error().kind, Kind::kInternal) << spec;
  }
}

TEST(ClamdScannerTest, InvalidSpecIsAnErrorWithAClearMessage) {
  auto scanner = make_clamd_scanner("clamd.sock", 1s);
  ASSERT_FALSE(scanner.has_value());
  EXPECT_EQ(scanner.error().kind, Kind::kInternal);
  EXPECT_NE(scanner.error().message.find("unix:/path or inet:HOST:PORT"), std::string::npos)
      << scanner.error().message;
}

TEST(ClamdScannerTest, MissingUnixSocketIsUnavailable) {
  TempDir dir;
  auto scanner = make_clamd_scanner("unix:" + (dir.path() / "none.ctl").string(), 1s);
  ASSERT_FALSE(scanner.has_value());
  EXPECT_EQ(scanner.error().kind, Kind::kUnavailable) << scanner.error().message;
}

TEST(ClamdScannerTest, ClosedTcpPortIsUnavailable) {
  auto scanner = make_clamd_scanner("inet:127.0.0.1:" + std::to_string(free_tcp_port()), 1s);
  ASSERT_FALSE(scanner.has_value());
  EXPECT_EQ(scanner.error().kind, Kind::kUnavailable) << scanner.error().message;
}

// --- a fake clamd that misbehaves on purpose ------------------------------

// Serves one connection at a time on a unix socket: answers zPING and
// zVERSION (unless told to stay silent) and treats zINSTREAM as told.
class FakeClamd {
 public:
  enum class Behaviour { kSilent, kSilentOnInstream, kEndlessReplyOnInstream };

  FakeClamd(const fs::path& socket_path, Behaviour behaviour) : behaviour_(behaviour) {
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 8);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeClamd() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }

 private:
  bool readable(int fd) {
    pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
    return ::poll(&pfd, 1, 20) > 0;
  }

  void serve() {
    while (!stop_) {
      if (!readable(listener_)) continue;
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      handle(client);
      ::close(client);
    }
  }

  void handle(int client) {
    std::string command;
    char buffer[4096];
    while (!stop_ && command.find('\0') == std::string::npos) {
      if (!readable(client)) continue;
      ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      command.append(buffer, static_cast<std::size_t>(n));
    }
    command.resize(command.find('\0') == std::string::npos ? 0 : command.find('\0'));
    const bool instream = command == "zINSTREAM";
    if (behaviour_ == Behaviour::kSilent ||
        (instream && behaviour_ != Behaviour::kEndlessReplyOnInstream)) {
      drain_until_closed(client);
    } else if (instream) {
      const std::string junk(4096, 'A');  // no terminator, ever
      while (!stop_ && ::send(client, junk.data(), junk.size(), MSG_NOSIGNAL) > 0) {
      }
    } else if (command == "zPING") {
      ::send(client, "PONG", 5, MSG_NOSIGNAL);
    } else if (command == "zVERSION") {
      const char kVersion[] = "ClamAV 0.0.0-fake/1/Thu Jan  1 00:00:00 1970";
      ::send(client, kVersion, sizeof kVersion, MSG_NOSIGNAL);
    }
  }

  void drain_until_closed(int client) {
    char buffer[4096];
    while (!stop_) {
      if (readable(client) && ::recv(client, buffer, sizeof buffer, 0) <= 0) return;
    }
  }

  const Behaviour behaviour_;
  int listener_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(FakeClamdTest, ClamdThatNeverAnswersPingTimesOutAtCreation) {
  TempDir dir;
  const fs::path socket = dir.path() / "fake.ctl";
  FakeClamd fake(socket, FakeClamd::Behaviour::kSilent);
  auto scanner = make_clamd_scanner("unix:" + socket.string(), 300ms);
  ASSERT_FALSE(scanner.has_value());
  EXPECT_EQ(scanner.error().kind, Kind::kTimeout) << scanner.error().message;
}

TEST(FakeClamdTest, ScanTimesOutWithinTheTimeoutWhenClamdNeverAnswers) {
  TempDir dir;
  const fs::path socket = dir.path() / "fake.ctl";
  FakeClamd fake(socket, FakeClamd::Behaviour::kSilentOnInstream);
  auto scanner = make_clamd_scanner("unix:" + socket.string(), 500ms);
  ASSERT_TRUE(scanner.has_value()) << scanner.error().message;
  EXPECT_EQ((*scanner)->describe(),
            "ClamAV 0.0.0-fake/1/Thu Jan  1 00:00:00 1970 (clamd at unix:" + socket.string() + ")");

  const auto start = Clock::now();
  auto result = (*scanner)->scan(eicar(), "p001");
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kTimeout) << result.error().message;
  EXPECT_GE(elapsed, 450ms);
  EXPECT_LT(elapsed, 1500ms);
}

TEST(FakeClamdTest, EndlessReplyWithoutTerminatorIsAProtocolError) {
  TempDir dir;
  const fs::path socket = dir.path() / "fake.ctl";
  FakeClamd fake(socket, FakeClamd::Behaviour::kEndlessReplyOnInstream);
  auto scanner = make_clamd_scanner("unix:" + socket.string(), 5s);
  ASSERT_TRUE(scanner.has_value()) << scanner.error().message;
  auto result = (*scanner)->scan(eicar(), "p001");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kProtocol) << result.error().message;
}

// --- a real clamd -------------------------------------------------------

const char kClamd[] = "/usr/sbin/clamd";
constexpr auto kClamdStartTimeout = 60s;
constexpr auto kScanTimeout = 10s;

class RealClamdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(kClamd)) {
      skip_reason_ = "clamd not installed";
      return;
    }
    dir_ = new TempDir;
    const fs::path dir = dir_->path();
    fs::create_directory(dir / "db");
    std::ofstream(dir / "db" / "test.ndb") << "Eicar-Test-Signature:0:*:" << hex(eicar()) << "\n";
    const int port = free_tcp_port();
    unix_spec_ = "unix:" + (dir / "clamd.ctl").string();
    inet_spec_ = "inet:127.0.0.1:" + std::to_string(port);
    std::ofstream(dir / "clamd.conf") << "LocalSocket " << (dir / "clamd.ctl").string() << "\n"
                                      << "TCPSocket " << port << "\nTCPAddr 127.0.0.1\n"
                                      << "DatabaseDirectory " << (dir / "db").string() << "\n"
                                      << "TemporaryDirectory " << dir.string() << "\n"
                                      << "LogFile " << (dir / "clamd.log").string() << "\n"
                                      << "StreamMaxLength 1M\nForeground yes\n";

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = (dir / "clamd.out").string();
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const std::string config = "--config-file=" + (dir / "clamd.conf").string();
    char* argv[] = {const_cast<char*>("clamd"), const_cast<char*>(config.c_str()), nullptr};
    const int rc = ::posix_spawn(&pid_, kClamd, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = 0;
      failure_ = "posix_spawn clamd failed";
      return;
    }
    const auto deadline = Clock::now() + kClamdStartTimeout;
    while (Clock::now() < deadline) {
      if (make_clamd_scanner(unix_spec_, 1s)) return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
    std::ifstream log(dir / "clamd.out");
    std::ostringstream text;
    text << log.rdbuf();
    failure_ = "clamd did not answer PING; its output:\n" + text.str();
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_TRUE(failure_.empty()) << failure_;
  }

  static std::unique_ptr<VirusScanner> connect(const std::string& spec) {
    auto scanner = make_clamd_scanner(spec, kScanTimeout);
    EXPECT_TRUE(scanner.has_value()) << scanner.error().message;
    return scanner ? std::move(*scanner) : nullptr;
  }

  static inline TempDir* dir_ = nullptr;
  static inline pid_t pid_ = 0;
  static inline std::string unix_spec_;
  static inline std::string inet_spec_;
  static inline std::string skip_reason_;
  static inline std::string failure_;
};

TEST_F(RealClamdTest, EicarIsFoundOverTheUnixSocket) {
  auto scanner = connect(unix_spec_);
  ASSERT_TRUE(scanner);
  auto result = scanner->scan(eicar(), "p001");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->viruses, std::vector<std::string>{kEicarName});
}

TEST_F(RealClamdTest, EicarIsFoundOverTcp) {
  auto scanner = connect(inet_spec_);
  ASSERT_TRUE(scanner);
  auto result = scanner->scan(eicar(), "p001");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->viruses, std::vector<std::string>{kEicarName});
}

TEST_F(RealClamdTest, CleanDataIsClean) {
  auto scanner = connect(unix_spec_);
  ASSERT_TRUE(scanner);
  auto result = scanner->scan("Hello,\r\n\r\njust a plain letter.\r\n", "p001");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_FALSE(result->infected());
}

TEST_F(RealClamdTest, VirusAfterSeveralChunksIsFound) {
  auto scanner = connect(inet_spec_);
  ASSERT_TRUE(scanner);
  const std::string data = std::string(3 * kClamdChunkBytes + 17, 'a') + eicar();
  auto result = scanner->scan(data, "p001");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->viruses, std::vector<std::string>{kEicarName});
}

TEST_F(RealClamdTest, PartOnDiskIsStreamedFromItsFile) {
  auto scanner = connect(inet_spec_);
  ASSERT_TRUE(scanner);
  filterd::testing::expect_part_on_disk_read_from_its_fd(*scanner, dir_->path() / "part",
                                                         3 * kClamdChunkBytes + 17, kEicarName);
}

// A part whose file cannot be read (here: opened write-only) fails at once;
// clamd, left waiting for the rest of the stream, is not waited for.
TEST_F(RealClamdTest, UnreadablePartFileFailsWithoutWaitingForClamd) {
  auto scanner = connect(inet_spec_);
  ASSERT_TRUE(scanner);
  const fs::path file = dir_->path() / "part-wo";
  const std::string data = std::string(2 * kClamdChunkBytes, 'a');
  std::ofstream(file, std::ios::binary) << data;
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto result = scanner->scan(data, "p001", {.fd = fd});
  ::close(fd);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::kInternal) << result.error().message;
}

TEST_F(RealClamdTest, DataOverStreamMaxLengthIsALimitOverBothSockets) {
  for (const std::string& spec : {unix_spec_, inet_spec_}) {
    auto scanner = connect(spec);
    ASSERT_TRUE(scanner);
    auto result = scanner->scan(std::string(3 << 20, 'a'), "p001");
    ASSERT_FALSE(result.has_value()) << spec;
    EXPECT_EQ(result.error().kind, Kind::kLimit) << spec << ": " << result.error().message;
  }
}

TEST_F(RealClamdTest, DescribeNamesTheSocketAndClamdsVersion) {
  auto scanner = connect(unix_spec_);
  ASSERT_TRUE(scanner);
  const std::string description = scanner->describe();
  EXPECT_TRUE(description.starts_with("ClamAV 1.")) << description;
  EXPECT_TRUE(description.ends_with("(clamd at " + unix_spec_ + ")")) << description;
}

TEST_F(RealClamdTest, ReloadIsANoOpThatSucceeds) {
  auto scanner = connect(unix_spec_);
  ASSERT_TRUE(scanner);
  EXPECT_TRUE(scanner->reload().has_value());
  EXPECT_FALSE(scanner->database_changed());
}

}  // namespace
}  // namespace filterd::scanners
