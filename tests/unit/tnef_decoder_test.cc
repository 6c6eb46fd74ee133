// Tests of the TNEF (winmail.dat) decoder: ClamAV's and MimeKit's real
// samples, streams built here attribute by attribute, hostile lengths and
// counts, and sinks that say stop.
#include "decoders/tnef_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/recording_child_sink.h"

namespace filterd::decoders {
namespace {

using testing::corpus;
using testing::read_file;
using testing::RecordingChildSink;

std::string mimekit(const std::string& name) {
  return corpus("mime/mimekit/tnef/" + name);
}
const std::string kClamDir = "archives/clamav/clamav_hdb_scanfiles/";

struct Result {
  DecodeStatus status = DecodeStatus::kOk;
  std::string problem;
  RecordingChildSink sink;
  const RecordingChildSink::Child& child(size_t i) const { return sink.children.at(i); }
  const RecordingChildSink::Child* named(std::string_view name) const {
    for (const auto& c : sink.children) {
      if (c.info.name == name) return &c;
    }
    return nullptr;
  }
  // Attachment names, without the body.* children.
  std::vector<std::string> attachments() const {
    std::vector<std::string> names;
    for (const auto& c : sink.children) {
      if (!c.info.name.starts_with("body.")) names.push_back(c.info.name);
    }
    return names;
  }
};

Result decode(std::string_view data, size_t max_children = SIZE_MAX, size_t max_bytes = SIZE_MAX) {
  Result r;
  r.sink.max_children = max_children;
  r.sink.max_total_bytes = max_bytes;
  Part part;
  part.detected_type = ".tnef";
  r.status = make_tnef_decoder()->decode(data, part, r.sink, r.problem);
  for (const auto& c : r.sink.children) {
    EXPECT_TRUE(c.finished) << c.info.name;
    EXPECT_EQ(c.info.decoder, "tnef");
  }
  EXPECT_FALSE(r.sink.overlapping_children);
  EXPECT_EQ(r.sink.write_calls_after_stop, 0u);
  return r;
}

// ---- a TNEF writer, attribute by attribute --------------------------------

std::string le(uint32_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s += static_cast<char>(v >> (8 * i));
  return s;
}

std::string pad4(std::string s) {
  while (s.size() % 4) s += '\0';
  return s;
}

constexpr uint8_t kMessage = 1, kAttachment = 2;
constexpr uint32_t kAttBody = 0x0002800C, kAttAttachData = 0x0006800F, kAttAttachTitle = 0x00018010,
                   kAttAttachRendData = 0x00069002, kAttMsgProps = 0x00069003,
                   kAttAttachment = 0x00069005, kAttTnefVersion = 0x00089006;

std::string attribute(uint8_t level, uint32_t id, std::string_view data) {
  uint32_t sum = 0;
  for (unsigned char c : data) sum += c;
  return std::string(1, static_cast<char>(level)) + le(id, 4) +
         le(static_cast<uint32_t>(data.size()), 4) + std::string(data) + le(sum & 0xFFFF, 2);
}

std::string stream(const std::vector<std::string>& attributes) {
  std::string s =
      le(0x223E9F78, 4) + le(0x0001, 2) + attribute(kMessage, kAttTnefVersion, le(0x10000, 4));
  for (const auto& a : attributes) s += a;
  return s;
}

// One counted variable-size value (PtypString8, PtypBinary, ...).
std::string variable_property(uint16_t type, uint16_t id, std::string_view value) {
  return le(static_cast<uint32_t>(id) << 16 | type, 4) + le(1, 4) +
         le(static_cast<uint32_t>(value.size()), 4) + pad4(std::string(value));
}
std::string string8_property(uint16_t id, std::string_view s) {
  return variable_property(0x001E, id, std::string(s) + '\0');
}
std::string unicode_property(uint16_t id, std::u16string_view s) {
  std::string bytes;
  for (char16_t c : s) bytes += le(c, 2);
  return variable_property(0x001F, id, bytes + le(0, 2));
}
std::string long_property(uint16_t id, uint32_t v) {
  return le(static_cast<uint32_t>(id) << 16 | 0x0003, 4) + le(v, 4);
}
std::string properties(const std::vector<std::string>& props) {
  std::string s = le(static_cast<uint32_t>(props.size()), 4);
  for (const auto& p : props) s += p;
  return s;
}

const std::string kIidMessage{"\x07\x03\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46",
                              16};

// ---- real samples ---------------------------------------------------------

TEST(TnefDecoder, NameAndTypes) {
  auto d = make_tnef_decoder();
  EXPECT_EQ(d->name(), "tnef");
  EXPECT_EQ(d->types(), std::vector<std::string>{".tnef"});
}

// ClamAV's clam.tnef carries clam.exe; three of its attribute checksums are
// wrong and a newline trails it: noted, not fatal.
TEST(TnefDecoder, ClamTnefCarriesClamExeByteForByte) {
  auto r = decode(corpus(kClamDir + "clam.tnef"));
  EXPECT_EQ(r.attachments(), std::vector<std::string>{"clam.exe"});
  ASSERT_NE(r.named("clam.exe"), nullptr);
  EXPECT_EQ(r.named("clam.exe")->bytes, corpus(kClamDir + "clam.exe"));
  EXPECT_EQ(r.named("clam.exe")->info.declared_size, 544);
  EXPECT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_NE(r.problem.find("3 attribute checksums wrong"), std::string::npos) << r.problem;
  ASSERT_NE(r.named("body.rtf"), nullptr);
  EXPECT_TRUE(r.named("body.rtf")->bytes.starts_with("{\\rtf1")) << r.named("body.rtf")->bytes;
}

// MimeKit's UnitTests/TestData/tnef/*.tnef with the attachment names its
// *.list files give. Two differ on purpose: in long-filename.tnef the title
// is the 8.3 name ALLPRO~1.DAT and PR_ATTACH_LONG_FILENAME the real one; in
// missing-filenames.tnef three titles are empty and the names come from
// PR_ATTACH_LONG_FILENAME. Embedded messages keep their display name.
TEST(TnefDecoder, MimeKitSamplesGiveTheirAttachmentNames) {
  struct Case {
    const char* file;
    std::vector<std::string> names;
    DecodeStatus status;
  };
  const std::vector<Case> cases = {
      {"MAPI_ATTACH_DATA_OBJ.tnef",
       {"VIA_Nytt_1402.doc", "VIA_Nytt_1402.pdf", "VIA_Nytt_14021.htm"},
       DecodeStatus::kOk},
      {"MAPI_OBJECT.tnef", {"Untitled_Attachment"}, DecodeStatus::kOk},
      {"attachments.tnef", {"bookmark.htm", "zappa_av1.jpg"}, DecodeStatus::kOk},
      {"body.tnef", {}, DecodeStatus::kOk},
      {"christmas.tnef",
       {"Untitled Attachment", "Untitled Attachment", "Untitled Attachment", "Untitled Attachment",
        "kitten-playing-with-a-christmas-tree.jpg"},
       DecodeStatus::kOk},
      {"data-before-name.tnef", {"AUTOEXEC.BAT", "CONFIG.SYS", "boot.ini"}, DecodeStatus::kOk},
      {"garbage-at-end.tnef", {}, DecodeStatus::kOk},
      {"long-filename.tnef", {"allproductsmar2000.dat"}, DecodeStatus::kOk},
      {"missing-filenames.tnef",
       {"TechlibDEC99-JAN00.doc", "TechlibDEC99.doc", "TechlibNOV99.doc", "generpts.src"},
       DecodeStatus::kOk},
      {"multi-name-property.tnef", {}, DecodeStatus::kOk},
      {"multi-value-attribute.tnef", {"208225__5_seconds__Voice_Mail.mp3"}, DecodeStatus::kOk},
      {"one-file.tnef", {"AUTHORS"}, DecodeStatus::kOk},
      {"panic.tnef", {"image001.jpg", "image002.jpg", "image003.png"}, DecodeStatus::kDamaged},
      {"rtf.tnef", {}, DecodeStatus::kOk},
      {"triples.tnef", {}, DecodeStatus::kOk},
      {"two-files.tnef", {"AUTHORS", "README"}, DecodeStatus::kOk},
      {"unicode-mapi-attr-name.tnef",
       {"image001.png", "image002.png", "image003.png", "spaconsole2.cfg"},
       DecodeStatus::kOk},
      {"unicode-mapi-attr.tnef", {"example.dat"}, DecodeStatus::kOk},
      {"winmail.tnef", {"Untitled Attachment", "Untitled Attachment"}, DecodeStatus::kOk},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    std::string data = mimekit(c.file);
    ASSERT_FALSE(data.empty());
    auto r = decode(data);
    auto names = r.attachments();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, c.names);
    EXPECT_EQ(r.status, c.status) << r.problem;
  }
}

TEST(TnefDecoder, AttachmentContentIsWhatItsNameSays) {
  auto r = decode(mimekit("MAPI_ATTACH_DATA_OBJ.tnef"));
  ASSERT_NE(r.named("VIA_Nytt_1402.pdf"), nullptr);
  EXPECT_TRUE(r.named("VIA_Nytt_1402.pdf")->bytes.starts_with("%PDF"));
  EXPECT_TRUE(r.named("VIA_Nytt_1402.doc")->bytes.starts_with("\xD0\xCF\x11\xE0"));  // OLE2
  r = decode(mimekit("christmas.tnef"));
  auto jpeg = r.named("kitten-playing-with-a-christmas-tree.jpg");
  ASSERT_NE(jpeg, nullptr);
  EXPECT_TRUE(jpeg->bytes.starts_with("\xFF\xD8\xFF"));
  EXPECT_EQ(jpeg->bytes.size(), static_cast<size_t>(jpeg->info.declared_size));
}

// An attached message is a TNEF stream of its own, left to the caller's
// recursion (and its depth limit).
TEST(TnefDecoder, EmbeddedMessageIsEmittedAsATnefStream) {
  auto r = decode(mimekit("christmas.tnef"));
  size_t embedded = 0;
  for (const auto& c : r.sink.children) {
    if (c.info.declared_type != "application/ms-tnef") continue;
    ++embedded;
    EXPECT_TRUE(c.bytes.starts_with("\x78\x9F\x3E\x22"));
    auto inner = decode(c.bytes);
    EXPECT_NE(inner.status, DecodeStatus::kStopped);
    EXPECT_FALSE(inner.sink.children.empty());
  }
  EXPECT_EQ(embedded, 2u);
}

TEST(TnefDecoder, CompressedRtfBodyIsDecompressed) {
  auto r = decode(mimekit("rtf.tnef"));
  ASSERT_NE(r.named("body.rtf"), nullptr);
  const std::string& rtf = r.named("body.rtf")->bytes;
  EXPECT_TRUE(rtf.starts_with("{\\rtf1\\ansi")) << rtf;
  EXPECT_NE(rtf.find("Compuware Corporation"), std::string::npos);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;  // its CRC matched
}

TEST(TnefDecoder, HtmlBodyIsEmitted) {
  auto r = decode(mimekit("body.tnef"));
  ASSERT_NE(r.named("body.html"), nullptr);
  EXPECT_NE(r.named("body.html")->bytes.find("<HTML>"), std::string::npos);
}

// ---- streams built here ---------------------------------------------------

TEST(TnefDecoder, LongUnicodeFileNameWinsOverTheTitle) {
  auto r = decode(stream({
      attribute(kAttachment, kAttAttachRendData, std::string(14, '\0')),
      attribute(kAttachment, kAttAttachTitle, std::string("REPORT~1.EXE\0", 13)),
      attribute(kAttachment, kAttAttachData, "MZ payload"),
      attribute(kAttachment, kAttAttachment,
                properties({long_property(0x3705, 1),
                            unicode_property(0x3707, u"Bericht f\u00fcr M\u00e4rz.exe")})),
  }));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.name, "Bericht f\xC3\xBCr M\xC3\xA4rz.exe");
  EXPECT_EQ(r.child(0).bytes, "MZ payload");
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

// Outlook reads PR_ATTACH_DATA_OBJ; another reader may read attAttachData.
// When they differ a scanner must see both.
TEST(TnefDecoder, DifferingDataAttributeAndPropertyAreBothEmitted) {
  auto r = decode(stream({
      attribute(kAttachment, kAttAttachRendData, std::string(14, '\0')),
      attribute(kAttachment, kAttAttachData, "harmless"),
      attribute(kAttachment, kAttAttachment,
                properties({string8_property(0x3704, "a.exe"),
                            variable_property(0x0102, 0x3701, "MZ evil")})),
  }));
  ASSERT_EQ(r.sink.children.size(), 2u);
  EXPECT_EQ(r.child(0).bytes, "MZ evil");
  EXPECT_EQ(r.child(1).bytes, "harmless");
  EXPECT_EQ(r.child(0).info.name, "a.exe");
  EXPECT_EQ(r.child(1).info.name, "a.exe");
}

TEST(TnefDecoder, NamedPropertiesAndMultiValuesAreSkippedCorrectly) {
  std::string guid(16, 'G');
  std::string named = le(0x8001u << 16 | 0x001E, 4) + guid + le(1, 4) + le(6, 4) +
                      pad4(std::string("n\0m\0\0\0", 6)) + le(1, 4) + le(3, 4) + pad4("ab\0");
  std::string multi = le(0x0FFFu << 16 | 0x1003, 4) + le(3, 4) + le(1, 4) + le(2, 4) + le(3, 4);
  std::string guid_prop = le(0x0FFEu << 16 | 0x0048, 4) + guid;
  auto r = decode(stream({
      attribute(kAttachment, kAttAttachRendData, std::string(14, '\0')),
      attribute(kAttachment, kAttAttachment,
                properties({named, multi, guid_prop, string8_property(0x3707, "after.txt"),
                            variable_property(0x0102, 0x3701, "data")})),
  }));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.name, "after.txt");
  EXPECT_EQ(r.child(0).bytes, "data");
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

TEST(TnefDecoder, MessageBodiesBecomeChildren) {
  std::string rtf_raw = "{\\rtf1 stored}";
  std::string mela = le(static_cast<uint32_t>(rtf_raw.size() + 12), 4) +
                     le(static_cast<uint32_t>(rtf_raw.size()), 4) + "MELA" + le(0, 4) + rtf_raw;
  auto r = decode(stream({
      attribute(kMessage, kAttBody, std::string("plain body\0", 11)),
      attribute(kMessage, kAttMsgProps,
                properties({unicode_property(0x1000, u"unicode body"),
                            variable_property(0x0102, 0x1013, "<p>html</p>"),
                            variable_property(0x0102, 0x1009, mela)})),
  }));
  EXPECT_EQ(r.named("body.txt")->bytes, "unicode body");  // the property wins
  EXPECT_EQ(r.named("body.html")->bytes, "<p>html</p>");
  EXPECT_EQ(r.named("body.rtf")->bytes, rtf_raw);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
}

TEST(TnefDecoder, EmbeddedMessageObjectKeepsItsBytes) {
  std::string inner = stream({attribute(kAttachment, kAttAttachRendData, std::string(14, '\0')),
                              attribute(kAttachment, kAttAttachData, "inner")});
  auto r = decode(stream({
      attribute(kAttachment, kAttAttachRendData, std::string(14, '\0')),
      attribute(kAttachment, kAttAttachment,
                properties({string8_property(0x3001, "Fwd: hello"),
                            variable_property(0x000D, 0x3701, kIidMessage + inner)})),
  }));
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).info.name, "Fwd: hello");
  EXPECT_EQ(r.child(0).info.declared_type, "application/ms-tnef");
  EXPECT_EQ(r.child(0).bytes, inner);
}

// ---- damaged and hostile input --------------------------------------------

TEST(TnefDecoder, NotTnefIsDamagedWithoutChildren) {
  for (std::string_view data : {std::string_view(""), std::string_view("\x78\x9F"),
                                std::string_view("PK\x03\x04 not tnef at all")}) {
    auto r = decode(data);
    EXPECT_TRUE(r.sink.children.empty());
    EXPECT_EQ(r.status, DecodeStatus::kDamaged);
    EXPECT_FALSE(r.problem.empty());
  }
}

TEST(TnefDecoder, BadChecksumIsNotedNotFatal) {
  std::string data = corpus(kClamDir + "clam.tnef");
  std::string clam = corpus(kClamDir + "clam.exe");
  size_t at = data.find(clam.substr(0, 64)) + 100;
  data[at] ^= 0x55;
  clam[100] ^= 0x55;
  auto r = decode(data);
  ASSERT_NE(r.named("clam.exe"), nullptr);
  EXPECT_EQ(r.named("clam.exe")->bytes, clam);
  EXPECT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_NE(r.problem.find("4 attribute checksums wrong"), std::string::npos) << r.problem;
}

// Cut inside clam.exe's attAttachData: what is there is emitted, as damaged.
// Its name would have come after the data (in attAttachment), so it has none.
TEST(TnefDecoder, TruncatedStreamEmitsWhatItHasAndIsDamaged) {
  std::string data = corpus(kClamDir + "clam.tnef");
  std::string clam = corpus(kClamDir + "clam.exe");
  size_t start = data.find(clam.substr(0, 64));
  ASSERT_NE(start, std::string::npos);
  for (size_t cut = start + 1; cut < start + clam.size(); cut += 37) {
    auto r = decode(std::string_view(data).substr(0, cut));
    EXPECT_EQ(r.status, DecodeStatus::kDamaged) << cut;
    ASSERT_EQ(r.attachments(), std::vector<std::string>{""}) << cut;
    EXPECT_EQ(r.named("")->bytes, clam.substr(0, cut - start));
    EXPECT_EQ(r.named("")->info.declared_size, 544);
    EXPECT_NE(r.problem.find("truncated"), std::string::npos) << r.problem;
  }
}

TEST(TnefDecoder, CutAnywhereTerminates) {
  for (const char* file : {"one-file.tnef", "triples.tnef", "unicode-mapi-attr.tnef"}) {
    std::string data = mimekit(file);
    for (size_t cut = 0; cut < data.size(); ++cut) {
      auto r = decode(std::string_view(data).substr(0, cut));
      for (const auto& c : r.sink.children) ASSERT_LE(c.bytes.size(), data.size());
    }
  }
}

TEST(TnefDecoder, HugeLengthsAndCountsAreCheckedAgainstTheInput) {
  std::string huge_attribute =
      std::string(1, kAttachment) + le(kAttAttachData, 4) + le(0xFFFFFFF0, 4) + "only a few bytes";
  auto r = decode(
      stream({attribute(kAttachment, kAttAttachRendData, std::string(14, '\0')), huge_attribute}));
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  ASSERT_EQ(r.sink.children.size(), 1u);
  EXPECT_EQ(r.child(0).bytes, "only a few bytes");

  std::string huge_counts = le(0xFFFFFFFF, 4) +                                  // properties
                            le(0x3707u << 16 | 0x101E, 4) + le(0xFFFFFFFF, 4) +  // values
                            le(0xFFFFFFF0, 4) + "x";                             // value size
  r = decode(stream({attribute(kAttachment, kAttAttachRendData, std::string(14, '\0')),
                     attribute(kAttachment, kAttAttachment, huge_counts)}));
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_TRUE(r.sink.children.empty());

  std::string bomb_rtf = le(0xFFFFFFFF, 4) + le(0xFFFFFFFF, 4) + "LZFu" + le(0, 4) + "\xFF";
  r = decode(stream({attribute(kMessage, kAttMsgProps,
                               properties({variable_property(0x0102, 0x1009, bomb_rtf)}))}));
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
}

TEST(TnefDecoder, RandomMutationsOfRealSamplesTerminate) {
  std::mt19937 rng(7);
  for (const char* file : {"two-files.tnef", "unicode-mapi-attr-name.tnef", "rtf.tnef"}) {
    std::string original = mimekit(file);
    for (int round = 0; round < 100; ++round) {
      std::string data = original;
      for (int flips = 1 + static_cast<int>(rng() % 8); flips > 0; --flips) {
        data[6 + rng() % (data.size() - 6)] = static_cast<char>(rng());
      }
      auto r = decode(data);
      (void)r;
    }
  }
}

// ---- limits ---------------------------------------------------------------

TEST(TnefDecoder, ByteQuotaStopsDecoding) {
  auto r = decode(mimekit("MAPI_ATTACH_DATA_OBJ.tnef"), SIZE_MAX, 100000);
  EXPECT_EQ(r.status, DecodeStatus::kStopped);
  size_t total = 0;
  for (const auto& c : r.sink.children) total += c.bytes.size();
  EXPECT_EQ(total, 100000u);
  EXPECT_EQ(r.sink.children.size(), 2u);  // the .doc whole, the .pdf cut
}

TEST(TnefDecoder, ChildLimitStopsAtOnce) {
  auto r = decode(mimekit("two-files.tnef"), 1);
  EXPECT_EQ(r.status, DecodeStatus::kStopped);
  EXPECT_EQ(r.sink.names(), std::vector<std::string>{"AUTHORS"});
}

}  // namespace
}  // namespace filterd::decoders
