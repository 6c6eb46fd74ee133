// Tests of frontd's AUTH backends without a network: crypt(3) hashes, the
// password file, the per-client throttle, and the Dovecot client against a
// scripted Dovecot auth server on a unix socket.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "frontd/auth.h"
#include "frontd/auth_throttle.h"

namespace filterd::frontd {
namespace {
namespace asio = boost::asio;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/frontd-auth-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

AuthResult run_auth(Authenticator& a, smtp::PlainCredentials c, AuthContext ctx = {}) {
  asio::io_context io;
  AuthResult out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await a.authenticate(c, ctx); },
      asio::detached);
  io.run();
  return out;
}

TEST(Crypt, YescryptAndSha512HashesVerifyAndWrongPasswordsDoNot) {
  const std::string y = hash_password("correct horse");
  ASSERT_TRUE(y.starts_with("$y$")) << y;
  EXPECT_TRUE(verify_crypt("correct horse", y));
  EXPECT_FALSE(verify_crypt("correct horse ", y));
  // openssl passwd -6 -salt saltsalt secret
  const std::string sha512 =
      "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq."
      "H91p5hVO1";
  EXPECT_TRUE(verify_crypt("secret", sha512));
  EXPECT_TRUE(verify_crypt("secret", "{SHA512-CRYPT}" + sha512));
  EXPECT_FALSE(verify_crypt("Secret", sha512));
  EXPECT_FALSE(verify_crypt("secret", "plaintext"));
  EXPECT_FALSE(verify_crypt("", ""));
}

TEST(PasswdFile, KnownUserWithRightPasswordOnlyAndChangesAreNoticed) {
  TempDir dir;
  const std::string path = dir.path() + "/sasl_passwd";
  std::ofstream(path) << "# users\nalice@example.test:" << hash_password("alice-pw")
                      << "::::\nbob@example.test:{CRYPT}" << hash_password("bob-pw") << "\n";
  asio::thread_pool pool(1);
  auto a = make_authenticator("passwd_file", path, pool);
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ((*a)->describe(), "passwd_file:" + path);
  AuthResult ok = run_auth(**a, {"", "alice@example.test", "alice-pw"});
  EXPECT_EQ(ok.kind, AuthResult::Kind::kOk);
  EXPECT_EQ(ok.user, "alice@example.test");
  EXPECT_EQ(run_auth(**a, {"", "bob@example.test", "bob-pw"}).kind, AuthResult::Kind::kOk);
  AuthResult wrong = run_auth(**a, {"", "alice@example.test", "bob-pw"});
  EXPECT_EQ(wrong.kind, AuthResult::Kind::kFail);
  EXPECT_EQ(wrong.reason.find("pw"), std::string::npos) << "no credential in the reason";
  EXPECT_EQ(run_auth(**a, {"", "mallory@example.test", "x"}).kind, AuthResult::Kind::kFail);
  EXPECT_EQ(run_auth(**a, {"bob@example.test", "alice@example.test", "alice-pw"}).kind,
            AuthResult::Kind::kFail)
      << "no acting as someone else";
  std::ofstream(path) << "carol@example.test:" << hash_password("carol-pw") << "\n";
  EXPECT_EQ(run_auth(**a, {"", "carol@example.test", "carol-pw"}).kind, AuthResult::Kind::kOk);
  EXPECT_EQ(run_auth(**a, {"", "alice@example.test", "alice-pw"}).kind, AuthResult::Kind::kFail);
  pool.join();
}

TEST(PasswdFile, PlainTextPasswordsAndMissingFilesAreStartUpErrors) {
  TempDir dir;
  asio::thread_pool pool(1);
  std::ofstream(dir.path() + "/plain") << "alice:secret\n";
  auto a = make_authenticator("passwd_file", dir.path() + "/plain", pool);
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().find(":1: not a crypt(3) hash"), std::string::npos) << a.error();
  EXPECT_FALSE(make_authenticator("passwd_file", dir.path() + "/missing", pool));
  EXPECT_FALSE(make_authenticator("passwd_file", "relative", pool));
  EXPECT_FALSE(make_authenticator("cyrus", "/x", pool));
  EXPECT_FALSE(make_authenticator("dovecot", "private/auth", pool));
  pool.join();
}

TEST(AuthThrottle, RefusesAfterTheLimitUntilTheWindowPasses) {
  AuthThrottle t(3, std::chrono::seconds(60));
  const auto t0 = AuthThrottle::Clock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(t.allowed("192.0.2.1", t0));
    t.record_failure("192.0.2.1", t0);
  }
  EXPECT_FALSE(t.allowed("192.0.2.1", t0 + std::chrono::seconds(59)));
  EXPECT_TRUE(t.allowed("192.0.2.2", t0)) << "per client";
  EXPECT_TRUE(t.allowed("192.0.2.1", t0 + std::chrono::seconds(61)));
  AuthThrottle off(0, std::chrono::seconds(60));
  off.record_failure("x", t0);
  EXPECT_TRUE(off.allowed("x", t0));
}

// A scripted Dovecot auth server: answers the handshake, records the AUTH
// line, and replies `answer` (with the request id substituted for {id}).
class FakeDovecot {
 public:
  FakeDovecot(std::string path, std::string answer) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    thread_ = std::thread([this, answer = std::move(answer)] { serve(answer); });
  }
  ~FakeDovecot() {
    thread_.join();
    ::close(fd_);
  }
  std::string received() const { return received_; }

 private:
  void serve(const std::string& answer) {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    const std::string hello =
        "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nSPID\t1\nCUID\t1\n"
        "COOKIE\t0123\nDONE\n";
    (void)!::write(c, hello.data(), hello.size());
    char buf[4096];
    while (received_.find("AUTH\t") == std::string::npos || !received_.ends_with("\n")) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      received_.append(buf, static_cast<size_t>(n));
    }
    (void)!::write(c, answer.data(), answer.size());
    ::close(c);
  }
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::string received_;
};

TEST(DovecotAuth, SendsPlainWithClientInfoAndAcceptsOk) {
  TempDir dir;
  asio::thread_pool pool(1);
  const std::string sock = dir.path() + "/auth";
  std::string received;
  {
    FakeDovecot server(sock, "OK\t1\tuser=alice@example.test\n");
    auto a = make_authenticator("dovecot", sock, pool);
    ASSERT_TRUE(a) << a.error();
    AuthResult r = run_auth(**a, {"", "alice", "pw"}, {"192.0.2.7", "127.0.0.1", true});
    EXPECT_EQ(r.kind, AuthResult::Kind::kOk);
    EXPECT_EQ(r.user, "alice@example.test");
    received = server.received();
  }
  EXPECT_TRUE(received.starts_with("VERSION\t1\t2\nCPID\t")) << received;
  EXPECT_NE(received.find("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.7\t"
                          "secured\tresp=AGFsaWNlAHB3\n"),
            std::string::npos)
      << received;
  pool.join();
}

TEST(DovecotAuth, FailIsAFailureTempIsTemporaryAndDownIsTemporary) {
  TempDir dir;
  asio::thread_pool pool(1);
  const std::string sock = dir.path() + "/auth";
  {
    FakeDovecot server(sock, "FAIL\t1\tuser=alice\treason=wrong\n");
    auto a = make_authenticator("dovecot", sock, pool);
    EXPECT_EQ(run_auth(**a, {"", "alice", "pw"}).kind, AuthResult::Kind::kFail);
  }
  fs::remove(sock);
  {
    FakeDovecot server(sock, "FAIL\t1\ttemp\n");
    auto a = make_authenticator("dovecot", sock, pool);
    EXPECT_EQ(run_auth(**a, {"", "alice", "pw"}).kind, AuthResult::Kind::kTempFail);
  }
  fs::remove(sock);
  auto a = make_authenticator("dovecot", sock, pool);
  EXPECT_EQ(run_auth(**a, {"", "alice", "pw"}).kind, AuthResult::Kind::kTempFail);
  pool.join();
}

}  // namespace
}  // namespace filterd::frontd
