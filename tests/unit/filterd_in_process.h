// filterd_in_process.h — filterd's Server + Processor running in the test
// process on a free port, with a scripted virus scanner, and a blocking
// SMTP client to talk to it. For the pipeline and proxy tests.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "filterd/config.h"
#include "filterd/processor.h"
#include "filterd/server.h"
#include "smtp/reply_parser.h"

namespace filterd::testing {
namespace asio = boost::asio;

// "EICAR" in the data is a virus, "SCANFAIL" makes the scan fail, "SLOWSCAN"
// takes 3 s.
class ScriptedScanner : public scanners::VirusScanner {
 public:
  std::expected<scanners::VirusScanResult, scanners::ScanError> do_scan(
      std::string_view data, std::string_view, const scanners::ScanOptions&) override {
    if (data.find("SCANFAIL") != std::string_view::npos) {
      return std::unexpected(scanners::ScanError{scanners::ScanError::Kind::kUnavailable, "down"});
    }
    scanners::VirusScanResult r;
    if (data.find("EICAR") != std::string_view::npos) r.viruses.push_back("Eicar-Test-Signature");
    if (data.find("SLOWSCAN") != std::string_view::npos) {
      std::this_thread::sleep_for(std::chrono::seconds(3));
    }
    return r;
  }
  std::expected<void, scanners::ScanError> reload() override { return {}; }
  std::string describe() const override { return "scripted"; }
};

inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A blocking TCP connection to 127.0.0.1:port; replies that take over 20 s
// fail the read instead of hanging the test.
inline int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    throw std::runtime_error("connect");
  }
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// How the test filterd listens.
enum class Mode { kSmtp, kLmtp, kProxy, kMilter };

// A running filterd (server + processor) on its own threads.
class Filterd {
 public:
  Filterd(const std::string& forward, std::vector<std::string> extra = {}, bool lmtp = false)
      : Filterd(lmtp ? Mode::kLmtp : Mode::kSmtp, forward, std::move(extra)) {}
  // kProxy: a before-queue proxy whose downstream (and forward) is `forward`.
  // `make_scanner`: the virus scanner for the loaded config (default: the
  // scripted one above).
  Filterd(Mode mode, const std::string& forward, std::vector<std::string> extra = {},
          std::function<std::unique_ptr<scanners::VirusScanner>(const Config&)> make_scanner = {}) {
    port_ = free_port();
    const std::string where = "127.0.0.1:" + std::to_string(port_);
    if (mode == Mode::kProxy) {
      extra.push_back("--proxy_listen=smtp:" + where);
      extra.push_back("--proxy_forward=" + forward);
    } else if (mode == Mode::kMilter) {
      extra.push_back("--milter_listen=inet:" + where);
    } else {
      extra.push_back(std::string("--listen=") + (mode == Mode::kLmtp ? "lmtp:" : "smtp:") + where);
    }
    extra.push_back("--forward=" + forward);
    extra.push_back("--myhostname=filter.test");
    extra.push_back("--workers=2");
    auto c = load_config({"", extra});
    if (!c) throw std::runtime_error(c.error());
    config_ = *c;
    scanner_ = make_scanner ? make_scanner(config_) : std::make_unique<ScriptedScanner>();
    processor_ = std::make_unique<Processor>(config_, *scanner_, decoders_, pool_);
    server_ = std::make_unique<Server>(io_, config_, *processor_);
    server_->bind();
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Filterd() {
    io_.stop();
    thread_.join();
    pool_.join();
  }
  uint16_t port() const { return port_; }
  // Keeps both workers busy for `d`, as a slow scanner would: the next
  // message waits for a worker.
  void hold_workers(std::chrono::milliseconds d) {
    for (int i = 0; i < 2; ++i) asio::post(pool_, [d] { std::this_thread::sleep_for(d); });
  }

 private:
  uint16_t port_;
  Config config_;
  std::unique_ptr<scanners::VirusScanner> scanner_;
  decoders::DecoderRegistry decoders_ = decoders::builtin_decoders();
  asio::io_context io_;
  asio::thread_pool pool_{2};
  std::unique_ptr<Processor> processor_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

// A blocking SMTP client: sends lines, returns the replies' codes+text.
class Client {
 public:
  explicit Client(uint16_t port) : fd_(connect_loopback(port)) {}
  ~Client() { ::close(fd_); }
  smtp::Reply read() {
    while (!parser_.has_reply()) {
      char buf[4096];
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return smtp::Reply{0, "", "EOF"};
      EXPECT_TRUE(parser_.feed(std::string_view(buf, n)));
    }
    return parser_.pop();
  }
  smtp::Reply command(const std::string& line) {
    send(line + "\r\n");
    return read();
  }
  void send(const std::string& s) {
    ASSERT_EQ(::write(fd_, s.data(), s.size()), ssize_t(s.size()));
  }
  // Runs a whole transaction; returns the replies after the data.
  std::vector<smtp::Reply> transaction(const std::string& from, std::vector<std::string> rcpts,
                                       const std::string& data, size_t n_final = 1,
                                       bool lmtp = false) {
    read();  // greeting
    send(std::string(lmtp ? "LHLO" : "EHLO") + " mta.test\r\n");
    read();
    send("MAIL FROM:<" + from + ">\r\n");
    EXPECT_EQ(read().code, 250);
    for (auto& r : rcpts) {
      send("RCPT TO:<" + r + ">\r\n");
      EXPECT_EQ(read().code, 250);
    }
    send("DATA\r\n");
    EXPECT_EQ(read().code, 354);
    send(data + ".\r\n");
    std::vector<smtp::Reply> out;
    for (size_t i = 0; i < n_final; ++i) out.push_back(read());
    send("QUIT\r\n");
    return out;
  }

 private:
  int fd_;
  smtp::ReplyParser parser_;
};

}  // namespace filterd::testing
