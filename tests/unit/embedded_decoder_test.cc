// Tests of the embedded-file decoder (uuencode, yEnc, BinHex in text):
// real samples from the shared corpus, round trips through tiny encoders
// written here, hostile input, and sinks that say stop.
#include "decoders/embedded_decoder.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>

#include "tests/unit/recording_child_sink.h"

namespace filterd::decoders {
namespace {

using testing::corpus;
using testing::read_file;
using testing::RecordingChildSink;

const std::string kClamDir = "archives/clamav/clamav_hdb_scanfiles/";

struct Result {
  DecodeStatus status = DecodeStatus::kOk;
  std::string problem;
  RecordingChildSink sink;
  const RecordingChildSink::Child& child(size_t i) const { return sink.children.at(i); }
};

Result decode(std::string_view text, size_t max_children = SIZE_MAX, size_t max_bytes = SIZE_MAX) {
  Result r;
  r.sink.max_children = max_children;
  r.sink.max_total_bytes = max_bytes;
  Part part;
  part.detected_type = ".txt";
  r.status = make_embedded_decoder()->decode(text, part, r.sink, r.problem);
  for (const auto& c : r.sink.children) EXPECT_TRUE(c.finished) << c.info.name;
  EXPECT_FALSE(r.sink.overlapping_children);
  EXPECT_EQ(r.sink.write_calls_after_stop, 0u);
  return r;
}

uint32_t crc32(std::string_view data) {
  uint32_t crc = 0xFFFFFFFF;
  for (unsigned char b : data) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

uint16_t crc16_xmodem(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char b : data) {
    crc ^= static_cast<uint16_t>(b << 8);
    for (int k = 0; k < 8; ++k) {
      crc = static_cast<uint16_t>(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
  }
  return crc;
}

std::string hex8(uint32_t v) {
  char buf[9];
  snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::string every_byte_value(size_t repeats) {
  std::string s;
  for (size_t r = 0; r < repeats; ++r) {
    for (int b = 0; b < 256; ++b) s += static_cast<char>(b);
  }
  return s;
}

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// ---- tiny encoders --------------------------------------------------------

// uuencode(1): 45 bytes a line; `backtick` false is the old style, where a
// zero value is a space (and so can be lost at the end of a line).
std::string uu_encode(std::string_view data, std::string_view name, std::string_view eol,
                      bool backtick = true) {
  auto ch = [&](uint32_t v) { return static_cast<char>(v == 0 && backtick ? '`' : v + 32); };
  std::string out = "begin 644 " + std::string(name) + std::string(eol);
  for (size_t i = 0; i < data.size(); i += 45) {
    size_t n = std::min<size_t>(45, data.size() - i);
    out += ch(static_cast<uint32_t>(n));
    for (size_t j = 0; j < n; j += 3) {
      uint32_t v = 0;
      for (size_t k = 0; k < 3; ++k) {
        v = v << 8 | (j + k < n ? static_cast<unsigned char>(data[i + j + k]) : 0u);
      }
      for (int s = 18; s >= 0; s -= 6) out += ch(v >> s & 63);
    }
    out += eol;
  }
  out += ch(0);
  out += eol;
  out += "end";
  out += eol;
  return out;
}

std::string base64_encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < data.size(); i += 3) {
    uint32_t v = 0;
    size_t n = std::min<size_t>(3, data.size() - i);
    for (size_t k = 0; k < 3; ++k) {
      v = v << 8 | (k < n ? static_cast<unsigned char>(data[i + k]) : 0u);
    }
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[v >> (18 - 6 * k) & 63] : '=';
  }
  return out;
}

// GNU sharutils' "uuencode -m".
std::string uu_encode_base64(std::string_view data, std::string_view name) {
  std::string b64 = base64_encode(data), out = "begin-base64 644 " + std::string(name) + "\n";
  for (size_t i = 0; i < b64.size(); i += 60) out += b64.substr(i, 60) + "\n";
  return out + "====\n";
}

std::string strip_trailing_spaces(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == text.npos ? text.npos : nl - pos);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    out += line;
    if (nl == text.npos) break;
    out += '\n';
    pos = nl + 1;
  }
  return out;
}

// yEnc 1.3: escapes NUL, LF, CR, '=' and a TAB, space or dot starting a line.
std::string yenc_lines(std::string_view data, std::string_view eol) {
  std::string out;
  size_t col = 0;
  for (unsigned char b : data) {
    auto c = static_cast<unsigned char>(b + 42);
    if (c == 0 || c == '\n' || c == '\r' || c == '=' ||
        (col == 0 && (c == '\t' || c == ' ' || c == '.'))) {
      out += '=';
      c = static_cast<unsigned char>(c + 64);
      ++col;
    }
    out += static_cast<char>(c);
    if (++col >= 128) {
      out += eol;
      col = 0;
    }
  }
  if (col > 0) out += eol;
  return out;
}

std::string yenc_encode(std::string_view data, std::string_view name, std::string_view eol) {
  std::string size = std::to_string(data.size());
  return "=ybegin line=128 size=" + size + " name=" + std::string(name) + std::string(eol) +
         yenc_lines(data, eol) + "=yend size=" + size + " crc32=" + hex8(crc32(data)) +
         std::string(eol);
}

// A multipart post, all parts in one text with prose between them.
std::string yenc_encode_parts(std::string_view data, std::string_view name, size_t parts) {
  std::string out, size = std::to_string(data.size());
  size_t per_part = (data.size() + parts - 1) / parts;
  for (size_t p = 0; p < parts; ++p) {
    std::string_view piece = data.substr(p * per_part, per_part);
    out += "Part " + std::to_string(p + 1) + " follows.\n";
    out += "=ybegin part=" + std::to_string(p + 1) + " total=" + std::to_string(parts) +
           " line=128 size=" + size + " name=" + std::string(name) + "\n";
    out += "=ypart begin=" + std::to_string(p * per_part + 1) +
           " end=" + std::to_string(p * per_part + piece.size()) + "\n";
    out += yenc_lines(piece, "\n");
    out += "=yend size=" + std::to_string(piece.size()) + " part=" + std::to_string(p + 1) +
           " pcrc32=" + hex8(crc32(piece)) + " crc32=" + hex8(crc32(data)) + "\n";
  }
  return out;
}

// BinHex 4.0 with its own 0x90 run-length encoding.
std::string binhex_rle(std::string_view data) {
  std::string out;
  for (size_t i = 0; i < data.size();) {
    auto b = static_cast<unsigned char>(data[i]);
    size_t run = 1;
    while (i + run < data.size() && data[i + run] == data[i] && run < 255) ++run;
    out += b == 0x90 ? std::string("\x90\x00", 2) : std::string(1, static_cast<char>(b));
    if (run > 2) {
      out += '\x90';
      out += static_cast<char>(run);
      i += run;
    } else {
      i += 1;
    }
  }
  return out;
}

std::string binhex_chars(std::string_view bytes) {
  static constexpr std::string_view kAlphabet =
      "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";
  std::string out;
  uint32_t bits = 0;
  int nbits = 0;
  for (unsigned char b : bytes) {
    bits = bits << 8 | b;
    nbits += 8;
    while (nbits >= 6) {
      nbits -= 6;
      out += kAlphabet[bits >> nbits & 63];
      if (out.size() % 65 == 64) out += '\n';
    }
    bits &= (1u << nbits) - 1;
  }
  if (nbits > 0) out += kAlphabet[bits << (6 - nbits) & 63];
  return out;
}

std::string be(uint32_t v, int bytes) {
  std::string s;
  for (int i = bytes - 1; i >= 0; --i) s += static_cast<char>(v >> (8 * i));
  return s;
}

// The stream before run-length encoding: header, forks and their CRCs.
std::string binhex_stream(std::string_view name, std::string_view data, std::string_view rsrc,
                          uint32_t declared_data_length) {
  std::string header = std::string(1, static_cast<char>(name.size())) + std::string(name) +
                       std::string(1, '\0') + "TEXTttxt" + be(0, 2) + be(declared_data_length, 4) +
                       be(static_cast<uint32_t>(rsrc.size()), 4);
  return header + be(crc16_xmodem(header), 2) + std::string(data) + be(crc16_xmodem(data), 2) +
         std::string(rsrc) + be(crc16_xmodem(rsrc), 2);
}

std::string binhex_encode(std::string_view stream_after_rle) {
  return "(This file must be converted with BinHex 4.0)\n:" + binhex_chars(stream_after_rle) +
         ":\n";
}

// ---- real samples ---------------------------------------------------------

TEST(EmbeddedDecoder, NameAndTypes) {
  auto d = make_embedded_decoder();
  EXPECT_EQ(d->name(), "embedded");
  EXPECT_EQ(d->types(), (std::vector<std::string>{".txt", ".asc", ".html", ".uue", ".hqx"}));
}

// ClamAV's clam.exe.mbox.uu: a mail whose body is uuencoded clam.exe; its
// block ends with the "`" line but has no "end" line.
TEST(EmbeddedDecoder, ClamExeUuencodedInAMailDecodesByteForByte) {
  std::string clam = corpus(kClamDir + "clam.exe");
  ASSERT_EQ(clam.size(), 544u);  // as clamav.hdb lists ClamAV-Test-File
  auto r = decode(corpus(kClamDir + "clam.exe.mbox.uu"));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.name, "clam.exe");
  EXPECT_EQ(r.child(0).info.decoder, "uuencode");
  EXPECT_EQ(r.child(0).bytes, clam);
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_NE(r.problem.find("no \"end\" line"), std::string::npos) << r.problem;
}

// GMime's tests-data/encodings/photo.uu is photo.jpg, uuencoded.
TEST(EmbeddedDecoder, GmimePhotoUuDecodesToThePhoto) {
  auto r = decode(corpus("mime/gmime/tests-data/encodings/photo.uu"));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.name, "photo.jpg");
  EXPECT_EQ(r.child(0).bytes, corpus("mime/gmime/tests-data/encodings/photo.jpg"));
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

// patool's t.shar (GNU sharutils 4.11) uuencodes t.txt, whose MD5 in the
// archive is a1d0c6e8..., the MD5 of "42".
TEST(EmbeddedDecoder, SharutilsShellArchiveCarriesItsFile) {
  auto r = decode(corpus("archives/patool/t.shar"));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.name, "t.txt");
  EXPECT_EQ(r.child(0).bytes, "42");
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

// ClamAV's clam.exe.binhex: clam.exe in the data fork, a 1-byte resource
// fork; all three CRCs are right.
TEST(EmbeddedDecoder, ClamExeInBinHexDecodesWithItsCrcsChecked) {
  auto r = decode(corpus(kClamDir + "clam.exe.binhex"));
  ASSERT_EQ(r.sink.children.size(), 2u);
  EXPECT_EQ(r.child(0).info.name, "clam.exe");
  EXPECT_EQ(r.child(0).info.decoder, "binhex");
  EXPECT_EQ(r.child(0).info.declared_size, 544);
  EXPECT_EQ(r.child(0).bytes, corpus(kClamDir + "clam.exe"));
  EXPECT_EQ(r.child(1).info.name, "clam.exe.rsrc");
  EXPECT_EQ(r.child(1).bytes.size(), 1u);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

// MimeKit's yenc/simple.msg: the yEnc 1.3 test file (584 bytes, every
// byte value, crc32=ded29f4f).
TEST(EmbeddedDecoder, YencTestMessageDecodesAndItsCrcMatches) {
  auto r = decode(corpus("mime/mimekit/yenc/simple.msg"));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.name, "testfile.txt");
  EXPECT_EQ(r.child(0).info.decoder, "yenc");
  EXPECT_EQ(r.child(0).bytes.size(), 584u);
  EXPECT_EQ(crc32(r.child(0).bytes), 0xded29f4fu);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

// MimeKit's yenc/state-changes.ntx: "=ybeginx", "=ybegi" ... are not headers.
TEST(EmbeddedDecoder, YencLookalikeKeywordsAreNotHeaders) {
  auto r = decode(corpus("mime/mimekit/yenc/state-changes.ntx"));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).bytes.size(), 584u);
  EXPECT_EQ(crc32(r.child(0).bytes), 0xded29f4fu);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

// MimeKit's yenc/00000020.ntx and 00000021.ntx: joystick.jpg in two posts
// (yEnc 1.2 style: no total=). In one text they make one file.
TEST(EmbeddedDecoder, YencPostsOfOneMultipartFileAreJoined) {
  auto r =
      decode(corpus("mime/mimekit/yenc/00000020.ntx") + corpus("mime/mimekit/yenc/00000021.ntx"));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.name, "joystick.jpg");
  EXPECT_EQ(r.child(0).bytes.size(), 19338u);
  EXPECT_EQ(r.child(0).bytes.substr(0, 3), "\xFF\xD8\xFF");  // a JPEG
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;       // file crc32 checked
}

TEST(EmbeddedDecoder, YencOnePartOfAMultipartFileIsEmittedAndNoted) {
  auto r = decode(corpus("mime/mimekit/yenc/00000020.ntx"));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).bytes.size(), 11250u);
  EXPECT_EQ(r.child(0).info.declared_size, 19338);
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_NE(r.problem.find("missing"), std::string::npos) << r.problem;
}

// Real mail with no embedded files must not grow children from prose.
TEST(EmbeddedDecoder, SpamAssassinHamHasNoEmbeddedFiles) {
  size_t files = 0;
  for (const char* dir : {"spamassassin-public/easy_ham", "spamassassin-public/hard_ham"}) {
    auto path = std::filesystem::path(FILTERD_CORPUS_DIR) / dir;
    if (!std::filesystem::exists(path)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      auto r = decode(read_file(entry.path().string()));
      EXPECT_TRUE(r.sink.children.empty()) << entry.path();
      EXPECT_EQ(r.status, DecodeStatus::kOk) << entry.path() << ": " << r.problem;
      ++files;
    }
  }
  EXPECT_GT(files, 2000u);
}

// libarchive's test_read_format_cab_skip_malformed.cab holds broken
// fragments of "begin-base64" blocks among binary bytes.
TEST(EmbeddedDecoder, BrokenBlockFragmentsInBinaryDoNotCrash) {
  auto r =
      decode(corpus("archives/libarchive/libarchive/test/test_read_format_cab_skip_malformed.cab"));
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_FALSE(r.problem.empty());
  EXPECT_LT(r.problem.size(), 1000u);  // notes are capped
}

// ---- round trips ----------------------------------------------------------

TEST(EmbeddedDecoder, UuencodeRoundTripsWithCrlfAndLf) {
  for (std::string_view eol : {"\n", "\r\n"}) {
    for (size_t size : {0u, 1u, 2u, 3u, 44u, 45u, 46u, 90u, 1000u, 4096u}) {
      std::string data = random_bytes(size, static_cast<uint32_t>(size));
      auto r = decode("Hello,\n\n" + uu_encode(data, "file.bin", eol) + "-- \nsig\n");
      ASSERT_EQ(r.sink.children.size(), 1u) << size;
      EXPECT_EQ(r.child(0).info.name, "file.bin");
      EXPECT_EQ(r.child(0).bytes, data) << size;
      EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
    }
  }
}

TEST(EmbeddedDecoder, UuencodeNameMayHoldSpacesAndTrailingBlanksAreIgnored) {
  auto r = decode("begin 0755 my file.exe  \r\n#86)C\r\n`\r\nend   \r\n");
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.name, "my file.exe");
  EXPECT_EQ(r.child(0).bytes, "abc");
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

// Old encoders write zero as a space, and MTAs strip trailing spaces.
TEST(EmbeddedDecoder, OldStyleUuencodeWithStrippedTrailingSpacesStillDecodes) {
  std::string data = "zeros at the end" + std::string(200, '\0');
  std::string text = strip_trailing_spaces(uu_encode(data, "z.bin", "\n", false));
  ASSERT_EQ(text.find(" \n"), std::string::npos);
  auto r = decode(text);
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).bytes, data);
  EXPECT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_NE(r.problem.find("short lines"), std::string::npos) << r.problem;
}

TEST(EmbeddedDecoder, BeginBase64BlockRoundTrips) {
  for (size_t size : {0u, 1u, 2u, 3u, 100u, 5000u}) {
    std::string data = random_bytes(size, 7 + static_cast<uint32_t>(size));
    auto r = decode("text\n" + uu_encode_base64(data, "b.bin") + "more text\n");
    ASSERT_EQ(r.sink.children.size(), 1u) << size;
    EXPECT_EQ(r.child(0).info.name, "b.bin");
    EXPECT_EQ(r.child(0).bytes, data) << size;
    EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
  }
}

TEST(EmbeddedDecoder, YencRoundTripsEveryByteValueWithCrlfAndLf) {
  for (std::string_view eol : {"\n", "\r\n"}) {
    for (std::string data : {std::string(), every_byte_value(4), random_bytes(100000, 3)}) {
      auto r = decode("Hi\n" + yenc_encode(data, "all bytes.bin", eol) + "bye\n");
      ASSERT_EQ(r.sink.children.size(), 1u);
      EXPECT_EQ(r.child(0).info.name, "all bytes.bin");
      EXPECT_EQ(r.child(0).bytes, data);
      EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
    }
  }
}

TEST(EmbeddedDecoder, YencMultipartPartsInOneTextAreJoined) {
  std::string data = random_bytes(30000, 11);
  auto r = decode(yenc_encode_parts(data, "big.bin", 3));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).bytes, data);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

TEST(EmbeddedDecoder, YencPartsOutOfOrderAreNotJoined) {
  std::string data = random_bytes(3000, 12);
  std::string parts = yenc_encode_parts(data, "big.bin", 3);
  size_t second = parts.find("Part 2");
  size_t third = parts.find("Part 3");
  std::string swapped =
      parts.substr(0, second) + parts.substr(third) + parts.substr(second, third - second);
  auto r = decode(swapped);
  EXPECT_EQ(r.sink.children.size(), 3u);
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
}

TEST(EmbeddedDecoder, BinHexRoundTripsBothForksAndRunLengths) {
  std::string data =
      "runs:" + std::string(1000, 'A') + std::string(3, '\x90') + "x\x90y" + random_bytes(5000, 5);
  std::string rsrc = std::string(300, '\0') + "resource";
  auto size = static_cast<uint32_t>(data.size());
  auto r = decode(binhex_encode(binhex_rle(binhex_stream("Mac File", data, rsrc, size))));
  ASSERT_EQ(r.sink.children.size(), 2u);
  EXPECT_EQ(r.child(0).info.name, "Mac File");
  EXPECT_EQ(r.child(0).bytes, data);
  EXPECT_EQ(r.child(1).info.name, "Mac File.rsrc");
  EXPECT_EQ(r.child(1).bytes, rsrc);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

TEST(EmbeddedDecoder, EveryBlockInOnePartBecomesAChildInOrder) {
  std::string text = "Dear all,\r\n" + uu_encode("one", "1.txt", "\r\n") + "and\r\n" +
                     yenc_encode("two", "2.txt", "\r\n") + "and\r\n" +
                     corpus(kClamDir + "clam.exe.binhex") + "\r\nand\r\n" +
                     uu_encode_base64("four", "4.txt") + "bye\r\n";
  auto r = decode(text);
  EXPECT_EQ(r.sink.names(),
            (std::vector<std::string>{"1.txt", "2.txt", "clam.exe", "clam.exe.rsrc", "4.txt"}));
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

// ---- damaged and hostile input --------------------------------------------

TEST(EmbeddedDecoder, UuBlockWithoutEndEmitsWhatDecodedAndNotesIt) {
  std::string block = uu_encode(std::string(90, 'x'), "cut.txt", "\n");
  block.resize(block.find("`\nend"));  // cut after the data lines
  auto r = decode(block + "Regards,\nsomeone\n");
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).bytes, std::string(90, 'x'));
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_NE(r.problem.find("uuencode cut.txt: no \"end\""), std::string::npos) << r.problem;
}

TEST(EmbeddedDecoder, GarbageLinesInsideAUuBlockAreSkippedAndNoted) {
  std::string block = uu_encode(std::string(90, 'y'), "g.txt", "\n");
  size_t second_line = block.find('\n', block.find('\n') + 1) + 1;
  block.insert(second_line, "this line was pasted in\n");
  auto r = decode(block);
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).bytes, std::string(90, 'y'));
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_NE(r.problem.find("invalid lines skipped"), std::string::npos) << r.problem;
}

TEST(EmbeddedDecoder, ChanceBeginLineInProseIsNotABlock) {
  auto r = decode("begin 100 meters\nfrom the start, and then\nend up here.\n");
  EXPECT_TRUE(r.sink.children.empty());
  EXPECT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_TRUE(r.problem.empty());
}

// A dangling header must not swallow the real block after it.
TEST(EmbeddedDecoder, DanglingHeadersDoNotHideALaterBlock) {
  std::string clam = corpus(kClamDir + "clam.exe");
  auto r = decode("=ybegin line=128 size=5 name=decoy\nshort\n" + uu_encode(clam, "real", "\n"));
  ASSERT_EQ(r.sink.children.size(), 2u);
  EXPECT_EQ(r.child(1).info.name, "real");
  EXPECT_EQ(r.child(1).bytes, clam);
  EXPECT_NE(r.problem.find("yEnc decoy: no =yend"), std::string::npos) << r.problem;

  r = decode("begin 644 decoy\nM\n" + corpus(kClamDir + "clam.exe.binhex"));
  EXPECT_EQ(r.sink.names(), (std::vector<std::string>{"decoy", "clam.exe", "clam.exe.rsrc"}));
}

TEST(EmbeddedDecoder, YencHugeDeclaredSizeIsNotTrusted) {
  auto r = decode("=ybegin line=128 size=999999999999999 name=huge\n" + yenc_lines("small", "\n") +
                  "=yend size=999999999999999\n");
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.declared_size, 999999999999999);
  EXPECT_EQ(r.child(0).bytes, "small");
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_NE(r.problem.find("size"), std::string::npos) << r.problem;
}

TEST(EmbeddedDecoder, YencCorruptedDataIsEmittedWithACrcNote) {
  std::string text = yenc_encode("payload bytes", "p.bin", "\n");
  text[text.find('\n') + 3] ^= 1;
  auto r = decode(text);
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).bytes.size(), 13u);
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_NE(r.problem.find("CRC mismatch"), std::string::npos) << r.problem;
}

TEST(EmbeddedDecoder, BinHexWithACorruptedCharacterIsEmittedWithCrcNotes) {
  std::string text = corpus(kClamDir + "clam.exe.binhex");
  size_t at = text.find('\n', text.find(':')) + 10;  // inside the data fork
  text[at] = text[at] == 'A' ? 'B' : 'A';
  auto r = decode(text);
  ASSERT_GE(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.name, "clam.exe");
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_NE(r.problem.find("CRC mismatch"), std::string::npos) << r.problem;
}

TEST(EmbeddedDecoder, BinHexCutAnywhereTerminatesAndEmitsAPrefix) {
  std::string text = corpus(kClamDir + "clam.exe.binhex");
  std::string clam = corpus(kClamDir + "clam.exe");
  size_t colon = text.find(':');
  for (size_t cut = 0; cut < text.size(); ++cut) {
    auto r = decode(text.substr(0, cut));
    if (!r.sink.children.empty()) {
      EXPECT_EQ(clam.substr(0, r.child(0).bytes.size()), r.child(0).bytes) << cut;
    }
    if (cut > colon && cut + 2 < text.size()) {
      EXPECT_EQ(r.status, DecodeStatus::kDamaged) << cut;
    }
  }
}

TEST(EmbeddedDecoder, RandomBytesAndNulsAroundHeadersTerminate) {
  const std::vector<std::string> pieces = {"begin 644 a\n",
                                           "begin-base64 600 b\n",
                                           "=ybegin line=128 size=10 name=c\n",
                                           "=ypart begin=1 end=5\n",
                                           "=yend size=3\n",
                                           "(This file must be converted with BinHex 4.0)\n",
                                           ":",
                                           "\n",
                                           "\r\n",
                                           "end\n",
                                           "====\n",
                                           "`\n",
                                           std::string("\0\0\0\n", 4),
                                           "M86)C86)C\n",
                                           "=\n",
                                           "!!!!\x90\x90\n"};
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    size_t n = rng() % 60;
    for (size_t i = 0; i < n; ++i) {
      text += rng() % 3 ? pieces[rng() % pieces.size()] : random_bytes(rng() % 80, rng());
    }
    auto r = decode(text);
    (void)r;
  }
}

// Each of these repeats a pattern that could make a careless scanner
// rescan: they must finish in linear time (ctest's timeout would catch it).
TEST(EmbeddedDecoder, PathologicalRepetitionsStayLinear) {
  std::string patterns[] = {"begin 644 x\n", "(This file must be converted with BinHex 4.0)\n",
                            "begin 644 x\nM\nM\nM\n", "=ybegin name=x\n"};
  for (const auto& p : patterns) {
    std::string text;
    while (text.size() < 2'000'000) text += p;
    auto r = decode(text, 100);
    EXPECT_LE(r.sink.children.size(), 100u);
  }
}

// ---- limits ---------------------------------------------------------------

TEST(EmbeddedDecoder, ByteQuotaStopsDecoding) {
  auto r = decode(corpus("mime/gmime/tests-data/encodings/photo.uu"), SIZE_MAX, 1000);
  EXPECT_EQ(r.status, DecodeStatus::kStopped);
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).bytes.size(), 1000u);
}

// 0x90 runs expand 2 bytes to 255: a small text claiming 4 GiB must stop
// at the sink's byte limit, not allocate or run on.
TEST(EmbeddedDecoder, BinHexRunLengthBombStopsAtTheByteLimit) {
  std::string header = std::string("\x04", 1) + "bomb" + std::string(1, '\0') + "TEXTttxt" +
                       be(0, 2) + be(0xFFFFFFFF, 4) + be(0, 4);
  std::string stream = header + be(crc16_xmodem(header), 2) + "A";
  for (int i = 0; i < 20000; ++i) stream += "\x90\xFF";
  auto r = decode(binhex_encode(stream), SIZE_MAX, 1 << 20);
  EXPECT_EQ(r.status, DecodeStatus::kStopped);
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.declared_size, 0xFFFFFFFFll);
  EXPECT_EQ(r.child(0).bytes, std::string(1 << 20, 'A'));
}

TEST(EmbeddedDecoder, ChildLimitStopsAtOnce) {
  std::string text;
  for (int i = 0; i < 10; ++i) text += uu_encode("x", "f" + std::to_string(i), "\n");
  auto r = decode(text, 3);
  EXPECT_EQ(r.status, DecodeStatus::kStopped);
  EXPECT_EQ(r.sink.children.size(), 3u);
}

TEST(EmbeddedDecoder, PlainTextHasNoChildrenAndNoProblem) {
  auto r = decode("Hello,\r\nno attachments here; see you at 10:30.\r\n");
  EXPECT_TRUE(r.sink.children.empty());
  EXPECT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_TRUE(r.problem.empty());
}

}  // namespace
}  // namespace filterd::decoders
