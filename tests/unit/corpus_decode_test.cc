// Every real message in the shared corpus (MIME test suites of GMime,
// MimeKit, CPython, mailparser, rspamd, amavisd, Go, and the SpamAssassin
// public corpus) decodes without a crash, a hang or a leak (this test also
// runs in the ASan+UBSan build), and its parts stay inside the limits.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "decoders/decoder.h"
#include "decoders/message_decoder.h"

namespace filterd::decoders {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CorpusDecode : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusDecode, EveryMessageDecodesWithinLimits) {
  const fs::path dir = fs::path(FILTERD_CORPUS_DIR) / GetParam();
  auto files = files_under(dir);
  ASSERT_FALSE(files.empty()) << "corpus folder missing: " << dir;
  static const DecoderRegistry registry = builtin_decoders();
  DecodeLimits limits;
  limits.temp_dir = ::testing::TempDir();
  size_t parts = 0, over = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string msg = ss.str();
    DecodeResult r = decode_message(msg, limits, registry);
    parts += r.parts.size();
    if (r.over_limits()) ++over;
    EXPECT_LE(r.decoded_bytes, limits.expansion_quota(msg.size()) + limits.spill_threshold) << f;
    EXPECT_LE(r.parts.size(), limits.max_files) << f;
    for (const Part& p : r.parts) {
      EXPECT_LE(p.depth, limits.max_depth + 1) << f << " " << p.path;
    }
  }
  std::cout << GetParam() << ": " << files.size() << " messages, " << parts << " parts, " << over
            << " over limits\n";
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusDecode,
                         ::testing::Values("mime/gmime", "mime/mimekit", "mime/mailparser",
                                           "mime/rspamd", "mime/cpython-email", "mime/amavisd",
                                           "mime/golang", "spamassassin-public",
                                           "spamassassin-tdata"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace filterd::decoders
