// decode_bench — MIME parse + decode throughput, single thread (figures,
// not a test):
//   1. raw base64 decoding (MB/s of encoded input),
//   2. a message with a large base64 attachment, through decode_message,
//   3. the SpamAssassin public corpus through decode_message,
//   4. the archive chain: mails carrying each ClamAV test container.
//
//   decode_bench [CORPUS_DIR]   (default ../shared/corpus)
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "bench/read_file.h"
#include "decoders/decoder.h"
#include "decoders/message_decoder.h"
#include "decoders/transfer_encoding.h"

namespace {
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using namespace filterd::decoders;

using filterd::bench::read_file;

std::string base64_lines(const std::string& bin) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t col = 0;
  for (size_t i = 0; i + 2 < bin.size(); i += 3) {
    uint32_t v = uint8_t(bin[i]) << 16 | uint8_t(bin[i + 1]) << 8 | uint8_t(bin[i + 2]);
    out += a[v >> 18];
    out += a[(v >> 12) & 63];
    out += a[(v >> 6) & 63];
    out += a[v & 63];
    if ((col += 4) == 76) {
      out += "\r\n";
      col = 0;
    }
  }
  return out + "\r\n";
}

template <typename F>
double seconds(F&& f) {
  auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string mail_with(const std::string& name, const std::string& bin) {
  return "From: a@b.test\r\nTo: c@d.test\r\nSubject: bench\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
         "Content-Type: text/plain\r\n\r\nsee attachment\r\n--XX\r\n"
         "Content-Type: application/octet-stream; name=\"" +
         name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64_lines(bin) +
         "--XX--\r\n";
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path corpus = argc > 1 ? argv[1] : "../shared/corpus";
  const DecoderRegistry registry = builtin_decoders();
  DecodeLimits limits;
  limits.temp_dir = fs::temp_directory_path();

  std::mt19937_64 rng(42);
  std::string bin(16 << 20, '\0');
  for (auto& c : bin) c = static_cast<char>(rng());
  const std::string b64 = base64_lines(bin);
  std::string out;
  int rounds = 10;
  double s = seconds([&] {
    for (int i = 0; i < rounds; ++i) {
      out.clear();
      decode_base64(b64, out);
    }
  });
  std::printf("base64 decode: %.0f MB/s of encoded input (%zu MB x %d)\n",
              b64.size() * rounds / s / 1e6, b64.size() >> 20, rounds);

  const std::string big = mail_with("random.bin", bin);
  s = seconds([&] {
    for (int i = 0; i < rounds; ++i) (void)decode_message(big, limits, registry);
  });
  std::printf("message with a 16 MB base64 attachment: %.0f MB/s (decode_message)\n",
              big.size() * rounds / s / 1e6);

  std::vector<std::string> msgs;
  size_t bytes = 0;
  for (const char* sub : {"spamassassin-public/easy_ham", "spamassassin-public/hard_ham",
                          "spamassassin-public/spam", "spamassassin-public/spam_2"}) {
    if (!fs::exists(corpus / sub)) continue;
    for (const auto& e : fs::directory_iterator(corpus / sub)) {
      msgs.push_back(read_file(e.path()));
      bytes += msgs.back().size();
    }
  }
  size_t parts = 0;
  s = seconds([&] {
    for (const auto& m : msgs) parts += decode_message(m, limits, registry).parts.size();
  });
  std::printf(
      "SpamAssassin corpus: %zu messages, %.1f MB: %.0f msgs/s, %.0f MB/s, %.1f us/msg, "
      "%zu parts\n",
      msgs.size(), bytes / 1e6, msgs.size() / s, bytes / s / 1e6, s / msgs.size() * 1e6, parts);

  const fs::path containers = corpus / "archives/clamav/clamav_hdb_scanfiles";
  if (fs::exists(containers)) {
    std::vector<std::string> mails;
    for (const auto& e : fs::directory_iterator(containers)) {
      mails.push_back(mail_with(e.path().filename().string(), read_file(e.path())));
    }
    size_t n = 0;
    s = seconds([&] {
      for (int i = 0; i < 20; ++i) {
        for (const auto& m : mails) n += decode_message(m, limits, registry).parts.size();
      }
    });
    std::printf(
        "archive chain: %zu mails with ClamAV test containers: %.0f us/mail, %.1f parts/mail\n",
        mails.size(), s / (20.0 * mails.size()) * 1e6, double(n) / (20.0 * mails.size()));
  }
  return 0;
}
