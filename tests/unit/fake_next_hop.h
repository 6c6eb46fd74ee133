// fake_next_hop.h — a scripted SMTP/LMTP server on 127.0.0.1 (free port) for
// unit tests of the client and the pipeline. Runs in its own thread with
// blocking sockets; records every transaction it receives.
//
// Script by recipient local part: "temp*" gets 451 at RCPT, "perm*" gets
// 550 at RCPT, "lmtpfail*" gets 452 after DATA (LMTP). data_reply sets the
// end-of-data reply; silent_after_greeting makes it stop answering.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace filterd::testing {

struct ReceivedMessage {
  std::string mail_from;           // the whole MAIL command line
  std::vector<std::string> rcpts;  // accepted RCPT command lines
  std::vector<std::string> xforward;
  std::string data;  // dot-unstuffed, as the next hop sees it
};

class FakeNextHop {
 public:
  explicit FakeNextHop(bool lmtp = false) : lmtp_(lmtp) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~FakeNextHop() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::string endpoint() const {
    return std::string(lmtp_ ? "lmtp" : "smtp") + ":127.0.0.1:" + std::to_string(port_);
  }
  std::vector<ReceivedMessage> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }

  std::string data_reply = "250 2.0.0 Ok: queued as FAKE123";
  // Hang up after each end-of-data reply (a peer that closes idle sessions).
  bool close_after_data = false;
  std::atomic<int> connections{0};  // accepted so far
  bool silent_after_greeting = false;
  bool pipelining = true;

 private:
  void run() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++connections;
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      serve(c);
      ::close(c);
    }
  }
  bool send(int c, const std::string& s) {
    return ::write(c, s.data(), s.size()) == ssize_t(s.size());
  }
  // Reads one line (without CRLF); false on EOF.
  bool line(int c, std::string& buf, std::string& out) {
    for (;;) {
      size_t nl = buf.find("\r\n");
      if (nl != std::string::npos) {
        out = buf.substr(0, nl);
        buf.erase(0, nl + 2);
        return true;
      }
      char tmp[4096];
      ssize_t n = ::read(c, tmp, sizeof tmp);
      if (n <= 0) return false;
      buf.append(tmp, n);
    }
  }
  void serve(int c) {
    std::string buf, l;
    send(c, "220 fake.test ESMTP\r\n");
    if (silent_after_greeting) {
      while (line(c, buf, l)) {
      }
      return;
    }
    ReceivedMessage m;
    std::vector<std::string> accepted;
    while (line(c, buf, l)) {
      std::string verb = l.substr(0, 4);
      if (verb == "EHLO" || verb == "LHLO") {
        send(
            c,
            std::string("250-fake.test\r\n") + (pipelining ? "250-PIPELINING\r\n" : "") +
                "250-DSN\r\n250-8BITMIME\r\n250-XFORWARD NAME ADDR PROTO HELO\r\n250 SMTPUTF8\r\n");
      } else if (verb == "XFOR") {
        m.xforward.push_back(l);
        send(c, "250 2.0.0 Ok\r\n");
      } else if (verb == "MAIL") {
        m.mail_from = l;
        send(c, "250 2.1.0 Ok\r\n");
      } else if (verb == "RCPT") {
        if (l.find("<temp") != std::string::npos) {
          send(c, "451 4.3.0 try later\r\n");
        } else if (l.find("<perm") != std::string::npos) {
          send(c, "550 5.1.1 no such user\r\n");
        } else {
          accepted.push_back(l);
          send(c, "250 2.1.5 Ok\r\n");
        }
      } else if (verb == "DATA") {
        send(c, "354 go\r\n");
        std::string data;
        while (line(c, buf, l) && l != ".") data += (l.starts_with(".") ? l.substr(1) : l) + "\r\n";
        m.rcpts = accepted;
        m.data = data;
        {
          std::lock_guard lock(mu_);
          messages_.push_back(m);
        }
        if (lmtp_) {
          for (const auto& r : accepted) {
            send(c, r.find("<lmtpfail") != std::string::npos ? "452 4.2.2 mailbox full\r\n"
                                                             : data_reply + "\r\n");
          }
        } else {
          send(c, data_reply + "\r\n");
        }
        accepted.clear();
        m = ReceivedMessage{};
        if (close_after_data) return;
      } else if (verb == "RSET") {
        accepted.clear();
        m = ReceivedMessage{};
        send(c, "250 2.0.0 Ok\r\n");
      } else if (verb == "QUIT") {
        send(c, "221 2.0.0 Bye\r\n");
        return;
      } else {
        send(c, "502 5.5.2 what\r\n");
      }
    }
  }

  bool lmtp_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<ReceivedMessage> messages_;
};

}  // namespace filterd::testing
