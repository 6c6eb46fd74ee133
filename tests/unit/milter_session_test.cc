// The milter listener end to end in one process: a fake MTA speaks the
// milter protocol (milter::encode_command) to the real Server + Processor,
// which scans with libclamav and a generated EICAR signature. Checks what
// Postfix would be told: ACCEPT with filterd's header, REPLYCODE for a
// reject, DISCARD, a replaced body, and a closed connection (never a
// crash) for malformed or oversized packets.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "filterd/config.h"
#include "filterd/scanner_factory.h"
#include "milter/codec.h"
#include "tests/unit/filterd_in_process.h"
#include "tests/unit/test_data.h"

namespace filterd {
namespace {
namespace fs = std::filesystem;
namespace m = milter;
using filterd::testing::eicar;

// A directory removed with its contents when the test ends.
struct TempDir {
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "filterd-milter-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path = templ;
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

// filterd with one milter listener, on its own threads, scanning with
// libclamav and a generated EICAR signature.
class MilterFilterd {
 public:
  explicit MilterFilterd(std::vector<std::string> extra = {})
      : filterd_(testing::Mode::kMilter, "smtp:127.0.0.1:10025", with_db(std::move(extra)),
                 [](const Config& c) {
                   auto s = make_scanner(c);
                   if (!s) throw std::runtime_error(s.error());
                   return std::move(*s);
                 }) {}
  uint16_t port() const { return filterd_.port(); }
  void hold_workers(std::chrono::milliseconds d) { filterd_.hold_workers(d); }

 private:
  std::vector<std::string> with_db(std::vector<std::string> extra) {
    std::ofstream(db_.path / "test.ndb") << testing::eicar_ndb_line();
    extra.push_back("--clamav_db=" + db_.path.string());
    extra.push_back("--spam_checks=no");
    return extra;
  }

  TempDir db_;  // first: outlives the daemon
  testing::Filterd filterd_;
};

// The MTA side: blocking socket, typed commands out, typed replies in.
class FakeMta {
 public:
  explicit FakeMta(uint16_t port) : fd_(testing::connect_loopback(port)) {}
  ~FakeMta() { ::close(fd_); }

  void send_bytes(const std::string& s) {
    ASSERT_EQ(::write(fd_, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  void send(const m::Command& c) { send_bytes(m::encode_command(c)); }

  // The next reply; nullopt when the filter closed the connection.
  std::optional<m::Reply> read() {
    while (pending_.empty()) {
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      auto got = decoder_.feed(std::string_view(buf, static_cast<size_t>(n)));
      if (!got) throw std::runtime_error(got.error().message());
      for (auto& p : *got) pending_.push_back(std::move(p));
    }
    m::Packet p = std::move(pending_.front());
    pending_.erase(pending_.begin());
    auto r = m::parse_reply(p);
    if (!r) throw std::runtime_error(r.error().message());
    return *r;
  }
  // True when the filter closed the connection (EOF, nothing more to read).
  bool closed() {
    char c;
    const ssize_t n = ::read(fd_, &c, 1);
    return pending_.empty() && (n == 0 || (n < 0 && errno == ECONNRESET));
  }

  // OPTNEG as Postfix 3.7 sends it: every action and protocol flag.
  m::OptNeg negotiate() {
    send(m::OptNeg{6, 0x1ff, 0x1fffff});
    auto r = read();
    EXPECT_TRUE(r && std::holds_alternative<m::OptNeg>(*r));
    return r ? std::get<m::OptNeg>(*r) : m::OptNeg{};
  }

  // A whole SMTP session's events up to the end of the body, as Postfix
  // sends them (no reply expected for headers, DATA and body chunks);
  // returns the end-of-body replies, the decision last.
  std::vector<m::Reply> message(const std::vector<std::string>& rcpts, const std::string& headers,
                                const std::string& body, bool connect = true) {
    if (connect) {
      send(m::Macros{'C', {{"j", "mx.test"}, {"{daemon_name}", "mx.test"}}});
      send(m::Connect{"client.example", m::Family::kInet, 40000, "192.0.2.7"});
      EXPECT_EQ(read(), m::Reply(m::Continue{}));
      send(m::Helo{"client.example"});
      EXPECT_EQ(read(), m::Reply(m::Continue{}));
    }
    send(m::Macros{'M', {{"i", "4QID123"}}});
    send(m::Mail{{"<alice@a.test>", "SIZE=100", "BODY=8BITMIME"}});
    EXPECT_EQ(read(), m::Reply(m::Continue{}));
    for (const auto& r : rcpts) {
      send(m::Rcpt{{"<" + r + ">", "NOTIFY=FAILURE"}});
      EXPECT_EQ(read(), m::Reply(m::Continue{}));
    }
    send(m::Data{});
    // "Name: value\r\n" lines → HEADER packets with the leading space kept
    // and folds as LF, as Postfix sends them.
    size_t pos = 0;
    while (pos < headers.size()) {
      size_t end = pos;
      do {
        end = headers.find("\r\n", end) + 2;
      } while (end < headers.size() && (headers[end] == ' ' || headers[end] == '\t'));
      std::string field = headers.substr(pos, end - 2 - pos);
      for (size_t at; (at = field.find("\r\n")) != std::string::npos;) field.erase(at, 1);
      const size_t colon = field.find(':');
      send(m::Header{field.substr(0, colon), field.substr(colon + 1)});
      pos = end;
    }
    send(m::EndOfHeaders{});
    for (size_t at = 0; at < body.size(); at += m::kBodyChunk) {
      send(m::BodyChunk{body.substr(at, m::kBodyChunk)});
    }
    send(m::Macros{'E', {{"i", "4QID123"}}});
    send(m::EndOfBody{});
    std::vector<m::Reply> out;
    while (auto r = read()) {
      out.push_back(*r);
      if (!std::holds_alternative<m::AddHeader>(*r) &&
          !std::holds_alternative<m::ChangeHeader>(*r) &&
          !std::holds_alternative<m::ReplaceBody>(*r) &&
          !std::holds_alternative<m::DeleteRcpt>(*r) && !std::holds_alternative<m::AddRcpt>(*r)) {
        break;
      }
    }
    return out;
  }

 private:
  int fd_;
  m::MilterDecoder decoder_{UINT32_MAX};
  std::vector<m::Packet> pending_;
};

const std::string kHeaders =
    "From: Alice <alice@a.test>\r\n"
    "To: bob@b.test\r\n"
    "Subject: hello\r\n"
    "Message-ID: <1@a.test>\r\n";

std::string virus_mail_headers() {
  return kHeaders +
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"b1\"\r\n";
}
std::string virus_mail_body() {
  return "--b1\r\n"
         "Content-Type: text/plain\r\n\r\n"
         "see attachment\r\n"
         "--b1\r\n"
         "Content-Type: application/octet-stream; name=\"eicar.txt\"\r\n"
         "Content-Disposition: attachment; filename=\"eicar.txt\"\r\n\r\n" +
         eicar() +
         "\r\n"
         "--b1--\r\n";
}

template <typename T>
const T* last_as(const std::vector<m::Reply>& r) {
  return r.empty() ? nullptr : std::get_if<T>(&r.back());
}

TEST(MilterSession, NegotiatesFilterdsActionsWithinPostfixsOffer) {
  MilterFilterd f;
  FakeMta mta(f.port());
  const m::OptNeg got = mta.negotiate();
  EXPECT_EQ(got.version, 6u);
  EXPECT_EQ(got.actions, m::kWantedActions);
  EXPECT_EQ(got.protocol, m::kWantedProtocol);
}

TEST(MilterSession, CleanMessageIsAcceptedWithXVirusScanned) {
  MilterFilterd f;
  FakeMta mta(f.port());
  mta.negotiate();
  auto r = mta.message({"bob@b.test"}, kHeaders, "hello\r\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], m::Reply(m::AddHeader{"X-Virus-Scanned", " filterd at filter.test"}));
  EXPECT_NE(last_as<m::Accept>(r), nullptr);
}

TEST(MilterSession, EicarIsRejectedWithThe554ReplyDuringTheDialog) {
  MilterFilterd f({"--final_virus_destiny=D_REJECT"});
  FakeMta mta(f.port());
  mta.negotiate();
  auto r = mta.message({"bob@b.test"}, virus_mail_headers(), virus_mail_body());
  ASSERT_EQ(r.size(), 1u);
  const auto* code = last_as<m::ReplyCode>(r);
  ASSERT_NE(code, nullptr);
  EXPECT_TRUE(code->line.starts_with("554 5.7.0 ")) << code->line;
  EXPECT_NE(code->line.find("Eicar-Test-Signature"), std::string::npos) << code->line;
}

TEST(MilterSession, VirusIsDiscardedByDefault) {
  MilterFilterd f;
  FakeMta mta(f.port());
  mta.negotiate();
  auto r = mta.message({"bob@b.test"}, virus_mail_headers(), virus_mail_body());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NE(last_as<m::Discard>(r), nullptr);
}

TEST(MilterSession, RemovedAttachmentReplacesTheBodyAndKeepsTheHeaders) {
  MilterFilterd f({"--remove_infected_parts=yes"});
  FakeMta mta(f.port());
  mta.negotiate();
  auto r = mta.message({"bob@b.test"}, virus_mail_headers(), virus_mail_body());
  ASSERT_NE(last_as<m::Accept>(r), nullptr);
  std::string body;
  for (const auto& x : r) {
    if (const auto* b = std::get_if<m::ReplaceBody>(&x)) body += b->chunk;
    EXPECT_FALSE(std::holds_alternative<m::ChangeHeader>(x));
  }
  EXPECT_TRUE(body.starts_with("--b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"));
  EXPECT_NE(body.find("An attachment was removed"), std::string::npos) << body;
  EXPECT_EQ(body.find("EICAR-STANDARD"), std::string::npos);
  EXPECT_TRUE(body.ends_with("--b1--\r\n"));
}

TEST(MilterSession, AbortedMessageIsForgottenAndTheNextOneJudgedAlone) {
  MilterFilterd f({"--final_virus_destiny=D_REJECT"});
  FakeMta mta(f.port());
  mta.negotiate();
  mta.send(m::Macros{'C', {}});
  mta.send(m::Connect{"client.example", m::Family::kInet, 40000, "192.0.2.7"});
  EXPECT_EQ(mta.read(), m::Reply(m::Continue{}));
  mta.send(m::Mail{{"<alice@a.test>"}});
  EXPECT_EQ(mta.read(), m::Reply(m::Continue{}));
  mta.send(m::Rcpt{{"<bob@b.test>"}});
  EXPECT_EQ(mta.read(), m::Reply(m::Continue{}));
  mta.send(m::Header{"Subject", " " + eicar()});
  mta.send(m::Abort{});
  auto r = mta.message({"bob@b.test", "carol@b.test"}, kHeaders, "hello\r\n", false);
  EXPECT_NE(last_as<m::Accept>(r), nullptr);
}

TEST(MilterSession, SeveralMessagesOnOneConnection) {
  MilterFilterd f({"--final_virus_destiny=D_REJECT"});
  FakeMta mta(f.port());
  mta.negotiate();
  EXPECT_NE(last_as<m::Accept>(mta.message({"bob@b.test"}, kHeaders, "one\r\n")), nullptr);
  EXPECT_NE(last_as<m::ReplyCode>(
                mta.message({"bob@b.test"}, virus_mail_headers(), virus_mail_body(), false)),
            nullptr);
  EXPECT_NE(last_as<m::Accept>(mta.message({"bob@b.test"}, kHeaders, "three\r\n", false)), nullptr);
  mta.send(m::QuitNewConnection{});
  EXPECT_NE(last_as<m::Accept>(mta.message({"bob@b.test"}, kHeaders, "four\r\n")), nullptr);
  mta.send(m::Quit{});
  EXPECT_TRUE(mta.closed());
}

TEST(MilterSession, MessageAboveTheSizeLimitIs552) {
  MilterFilterd f({"--max_message_size=1000"});
  FakeMta mta(f.port());
  mta.negotiate();
  auto r = mta.message({"bob@b.test"}, kHeaders, std::string(3000, 'x') + "\r\n");
  ASSERT_EQ(r.size(), 1u);
  const auto* code = last_as<m::ReplyCode>(r);
  ASSERT_NE(code, nullptr);
  EXPECT_TRUE(code->line.starts_with("552 5.3.4")) << code->line;
}

TEST(MilterSession, VerdictLaterThanInDialogTimeoutIs451) {
  MilterFilterd f({"--in_dialog_timeout=1"});
  FakeMta mta(f.port());
  mta.negotiate();
  f.hold_workers(std::chrono::milliseconds(2500));
  auto r = mta.message({"bob@b.test"}, kHeaders, "slow\r\n");
  ASSERT_EQ(r.size(), 1u);
  const auto* code = last_as<m::ReplyCode>(r);
  ASSERT_NE(code, nullptr);
  EXPECT_TRUE(code->line.starts_with("451 4.4.5")) << code->line;
  // The connection goes on; the late verdict is only logged.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_NE(last_as<m::Accept>(mta.message({"bob@b.test"}, kHeaders, "next\r\n", false)), nullptr);
}

TEST(MilterSession, MalformedPacketClosesTheConnectionAndTheListenerGoesOn) {
  MilterFilterd f;
  {
    FakeMta mta(f.port());
    mta.negotiate();
    mta.send_bytes(m::frame('C', std::string("host\0X", 6)));  // bad address family
    EXPECT_TRUE(mta.closed());
  }
  FakeMta again(f.port());
  EXPECT_EQ(again.negotiate().version, 6u);
}

TEST(MilterSession, OversizedLengthClosesTheConnectionBeforeAnyDataArrives) {
  MilterFilterd f;
  FakeMta mta(f.port());
  mta.negotiate();
  mta.send_bytes(
      std::string("\x7f\xff\xff\xff"
                  "B",
                  5));
  EXPECT_TRUE(mta.closed());
}

TEST(MilterSession, CommandBeforeOptNegClosesTheConnection) {
  MilterFilterd f;
  FakeMta mta(f.port());
  mta.send(m::Helo{"x"});
  EXPECT_TRUE(mta.closed());
}

TEST(MilterSession, MtaThatCannotAddHeadersIsRefused) {
  MilterFilterd f;
  FakeMta mta(f.port());
  mta.send(m::OptNeg{6, m::action::kChangeBody, 0});
  EXPECT_TRUE(mta.closed());
}

}  // namespace
}  // namespace filterd
