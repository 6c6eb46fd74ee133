// Tests of the libarchive decoder plugin (decoders/archive_decoder.h), the
// decoder registry and Part/PartContent, against the shared corpus: every
// format libarchive reads, the ClamAV test file inside containers, the
// formats it cannot read (named, with the reason), encryption, damage and
// zip bombs under a byte quota.
#include "decoders/archive_decoder.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "decoders/part.h"

namespace filterd::decoders {
namespace {

namespace fs = std::filesystem;

const fs::path kArchives = fs::path(FILTERD_CORPUS_DIR) / "archives";
const fs::path kPatool = kArchives / "patool";
const fs::path kClamav = kArchives / "clamav";
const fs::path kLibarchiveTests = kArchives / "libarchive/libarchive/test";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// ---------------------------------------------------------------------------
// A ChildSink that records children and enforces a file limit and a byte
// quota, shared by nested sinks (as the walker's limits are per message).

struct Budget {
  long long max_files = -1;   // -1: no limit
  long long byte_quota = -1;  // -1: no limit
  long long files = 0;
  long long bytes = 0;
  long long writes_after_stop = 0;  // a decoder that ignores write() == false
  bool stopped = false;
};

struct Child {
  ChildInfo info;
  std::string data;
  bool finished = false;
};

class RecordingSink : public ChildSink {
 public:
  explicit RecordingSink(std::shared_ptr<Budget> budget = std::make_shared<Budget>())
      : budget_(std::move(budget)) {}

  std::unique_ptr<ChildWriter> begin_child(const ChildInfo& info) override {
    if (budget_->stopped) return nullptr;
    if (budget_->max_files >= 0 && budget_->files >= budget_->max_files) {
      budget_->stopped = true;
      return nullptr;
    }
    ++budget_->files;
    children_.push_back(std::make_unique<Child>(Child{info, {}, false}));
    return std::make_unique<Writer>(*budget_, *children_.back());
  }
  bool stopped() const override { return budget_->stopped; }

  const std::vector<std::unique_ptr<Child>>& children() const { return children_; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& c : children_) out.push_back(c->info.name);
    return out;
  }
  Budget& budget() { return *budget_; }
  std::shared_ptr<Budget> shared_budget() { return budget_; }

 private:
  class Writer : public ChildWriter {
   public:
    Writer(Budget& budget, Child& child) : budget_(budget), child_(child) {}
    bool write(std::string_view bytes) override {
      if (budget_.stopped) {
        ++budget_.writes_after_stop;
        return false;
      }
      if (budget_.byte_quota >= 0 &&
          budget_.bytes + static_cast<long long>(bytes.size()) > budget_.byte_quota) {
        bytes = bytes.substr(0, static_cast<size_t>(budget_.byte_quota - budget_.bytes));
        budget_.stopped = true;
      }
      budget_.bytes += static_cast<long long>(bytes.size());
      child_.data.append(bytes);
      return !budget_.stopped;
    }
    void finish() override { child_.finished = true; }

   private:
    Budget& budget_;
    Child& child_;
  };

  std::shared_ptr<Budget> budget_;
  std::vector<std::unique_ptr<Child>> children_;
};

struct Result {
  DecodeStatus status;
  std::string problem;
};

const Decoder& decoder() {
  static const std::shared_ptr<const Decoder> d = make_archive_decoder();
  return *d;
}

Result decode(std::string_view data, std::string_view type, std::string_view name, ChildSink& sink,
              const Decoder& d = decoder()) {
  Part part;
  part.path = "p001";
  part.detected_type = std::string(type);
  if (!name.empty()) part.declared_names.emplace_back(name);
  Result r{DecodeStatus::kOk, {}};
  r.status = d.decode(data, part, sink, r.problem);
  return r;
}

const char* status_name(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::kOk:
      return "kOk";
    case DecodeStatus::kDamaged:
      return "kDamaged";
    case DecodeStatus::kEncrypted:
      return "kEncrypted";
    case DecodeStatus::kStopped:
      return "kStopped";
  }
  return "?";
}

bool decoder_reads(std::string_view type) {
  auto t = decoder().types();
  return std::find(t.begin(), t.end(), type) != t.end();
}

// The test's stand-in for the walker: a child's type from its name.
std::string type_from_name(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kByExtension[] = {
      {".zip", ".zip"}, {".7z", ".7z"},     {".rar", ".rar"}, {".tar", ".tar"}, {".cpio", ".cpio"},
      {".iso", ".iso"}, {".cab", ".cab"},   {".lha", ".lha"}, {".lzh", ".lha"}, {".deb", ".deb"},
      {".rpm", ".rpm"}, {".xar", ".xar"},   {".gz", ".gz"},   {".tgz", ".gz"},  {".bz2", ".bz2"},
      {".xz", ".xz"},   {".lzma", ".lzma"}, {".lz", ".lz"},   {".lz4", ".lz4"}, {".zst", ".zst"},
      {".Z", ".Z"},
  };
  for (const auto& [ext, type] : kByExtension) {
    if (name.size() > ext.size() && name.ends_with(ext)) return std::string(type);
  }
  return {};
}

// Walks children the way the walker will (recursion with a shared budget),
// calling `leaf` for every child; returns the worst status seen.
template <typename Leaf>
DecodeStatus walk(std::string_view data, std::string_view type, std::string_view name,
                  const std::shared_ptr<Budget>& budget, int depth, Leaf&& leaf) {
  RecordingSink sink(budget);
  DecodeStatus status = decode(data, type, name, sink).status;
  for (const auto& child : sink.children()) {
    leaf(*child);
    std::string child_type = type_from_name(child->info.name);
    if (depth < 24 && !child_type.empty() && !budget->stopped) {
      DecodeStatus s = walk(child->data, child_type, child->info.name, budget, depth + 1, leaf);
      status = std::max(status, s);
    }
  }
  return status;
}

std::string hex_digest(std::string_view data, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", out[i]);
    hex += b;
  }
  return hex;
}

// The ClamAV test file's hash from clamav.hdb ("hash:size:name"); the hash
// is MD5, SHA-1 or SHA-256 by its length (the corpus has SHA-256).
struct Signature {
  std::string hash;
  const EVP_MD* md;
};

Signature clam_signature() {
  std::string line = read_file(kClamav / "clamav.hdb");
  std::string hash = line.substr(0, line.find(':'));
  const EVP_MD* md = hash.size() == 32 ? EVP_md5() : hash.size() == 40 ? EVP_sha1() : EVP_sha256();
  return {hash, md};
}

// Builds an archive in memory with libarchive's writer.
struct Member {
  std::string name;
  std::string data;
  mode_t type = AE_IFREG;
};

std::string write_archive(int (*set_format)(struct archive*), const std::vector<Member>& members,
                          const char* options = nullptr, const char* passphrase = nullptr) {
  std::string out(1 << 20, '\0');
  size_t used = 0;
  struct archive* a = archive_write_new();
  EXPECT_EQ(set_format(a), ARCHIVE_OK);
  if (options != nullptr) {
    EXPECT_EQ(archive_write_set_options(a, options), ARCHIVE_OK) << archive_error_string(a);
  }
  if (passphrase != nullptr) {
    EXPECT_EQ(archive_write_set_passphrase(a, passphrase), ARCHIVE_OK);
  }
  EXPECT_EQ(archive_write_open_memory(a, out.data(), out.size(), &used), ARCHIVE_OK)
      << archive_error_string(a);
  for (const Member& m : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, m.type);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
    if (m.type == AE_IFLNK) archive_entry_set_symlink(e, "target");
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (!m.data.empty()) archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

std::string test_name(std::string s) {
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

// ---------------------------------------------------------------------------
// Every format in the patool corpus that libarchive reads.

struct FormatCase {
  std::string file;
  std::string type;  // what filterd's type detection says
  std::string decoder;
  std::vector<std::string> members;
  std::string first_content;  // "" when not checked
};

std::ostream& operator<<(std::ostream& os, const FormatCase& c) {
  return os << c.file;
}

const std::vector<FormatCase>& readable_formats() {
  static const std::vector<FormatCase> cases = {
      {"t.zip", ".zip", "libarchive/zip", {"t/t.txt"}, "42"},
      {"t .7z", ".7z", "libarchive/7z", {"t/t.txt"}, "42"},
      {"t.7z.001", ".7z", "libarchive/7z", {"t/t.txt"}, "42"},
      {"t.rar", ".rar", "libarchive/rar", {"t/t.txt"}, "42"},
      {"t.tar", ".tar", "libarchive/tar", {"t/t.txt"}, "42"},
      {"t.cpio", ".cpio", "libarchive/cpio", {"t/t.txt"}, "42"},
      {"t.iso", ".iso", "libarchive/iso", {"t/t.txt"}, "42"},
      {"t.udf", ".iso", "libarchive/iso", {"T/T.TXT"}, "42"},  // through its ISO 9660 bridge
      {"t.cab", ".cab", "libarchive/cab", {"t/t.txt"}, "42"},
      {"t.lha", ".lha", "libarchive/lha", {"t/t.txt"}, "42"},
      {"t.lzh", ".lha", "libarchive/lha", {"t/t.txt"}, "42\n"},
      {"t.txt.a", ".ar", "libarchive/ar", {"t.txt"}, "42"},
      {"t.deb",
       ".deb",
       "libarchive/ar",
       {"debian-binary", "control.tar.gz", "data.tar.gz"},
       "2.0\n"},
      {"t.rpm",
       ".rpm",
       "libarchive/rpm",
       {"./etc/logrotate.d/glusterfs", "./sbin/mount.glusterfs", "./sbin/umount.glusterfs"},
       ""},
      {"t.cbz", ".zip", "libarchive/zip", {"t/t.txt"}, "42"},
      {"t.cbt", ".tar", "libarchive/tar", {"t/t.txt"}, "42"},
      {"t.cbr", ".rar", "libarchive/rar", {"t/t.txt"}, "42"},
      {"t .cb7", ".7z", "libarchive/7z", {"t/t.txt"}, "42"},
      {"t.jar", ".zip", "libarchive/zip", {"META-INF/MANIFEST.MF", "t/t.txt"}, ""},
      {"t.epub",
       ".zip",
       "libarchive/zip",
       {"t/content.opf", "t/index.html", "t/META-INF/container.xml", "t/mimetype",
        "t/page_styles.css", "t/stylesheet.css", "t/toc.ncx"},
       ""},
      {"t.apk",
       ".zip",
       "libarchive/zip",
       {"META-INF/MANIFEST.MF", "META-INF/CERT.SF", "META-INF/CERT.RSA", "AndroidManifest.xml",
        "classes.dex", "res/layout/hello_activity.xml", "resources.arsc"},
       ""},
      // Single compressed streams: one child, the part's name minus the suffix.
      {"t.txt.gz", ".gz", "libarchive/gz", {"t.txt"}, "42"},
      {"t.txt.bz2", ".bz2", "libarchive/bz2", {"t.txt"}, "42"},
      {"t.txt.xz", ".xz", "libarchive/xz", {"t.txt"}, "42"},
      {"t.txt.lzma", ".lzma", "libarchive/lzma", {"t.txt"}, "42"},
      {"t.txt.lz", ".lz", "libarchive/lz", {"t.txt"}, "42"},
      {"t.txt.lz4", ".lz4", "libarchive/lz4", {"t.txt"}, "42"},
      {"t.txt.zst", ".zst", "libarchive/zst", {"t.txt"}, "42"},
      {"t.txt.Z", ".Z", "libarchive/Z", {"t.txt"}, "42"},
      {"t.tar.gz", ".gz", "libarchive/gz", {"t.tar"}, ""},
      {"t.tgz", ".gz", "libarchive/gz", {"t.tar"}, ""},
      {"t.taz", ".gz", "libarchive/gz", {"t.tar"}, ""},
      {"t.tar.bz2", ".bz2", "libarchive/bz2", {"t.tar"}, ""},
      {"t.tbz2", ".bz2", "libarchive/bz2", {"t.tar"}, ""},
      {"t.tar.xz", ".xz", "libarchive/xz", {"t.tar"}, ""},
      {"t.tar.lzma", ".lzma", "libarchive/lzma", {"t.tar"}, ""},
      {"t.tar.lz", ".lz", "libarchive/lz", {"t.tar"}, ""},
      {"t.tar.zst", ".zst", "libarchive/zst", {"t.tar"}, ""},
      {"t.tar.Z", ".Z", "libarchive/Z", {"t.tar"}, ""},
      {"t.rar.gz", ".gz", "libarchive/gz", {"t.rar"}, ""},
  };
  return cases;
}

class ReadableFormat : public testing::TestWithParam<FormatCase> {};

TEST_P(ReadableFormat, YieldsTheExpectedMembersWithContent) {
  const FormatCase& c = GetParam();
  ASSERT_TRUE(decoder_reads(c.type)) << c.type;
  RecordingSink sink;
  Result r = decode(read_file(kPatool / c.file), c.type, c.file, sink);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
  EXPECT_EQ(r.problem, "");
  EXPECT_EQ(sink.names(), c.members);
  for (const auto& child : sink.children()) {
    EXPECT_EQ(child->info.decoder, c.decoder);
    EXPECT_FALSE(child->info.encrypted);
    EXPECT_FALSE(child->data.empty()) << child->info.name;
    EXPECT_TRUE(child->finished);
    if (child->info.declared_size >= 0) {
      EXPECT_EQ(child->info.declared_size, static_cast<long long>(child->data.size()));
    }
  }
  if (!c.first_content.empty() && !sink.children().empty()) {
    EXPECT_EQ(sink.children().front()->data, c.first_content);
  }
}

INSTANTIATE_TEST_SUITE_P(Patool, ReadableFormat, testing::ValuesIn(readable_formats()),
                         [](const auto& p) { return test_name(p.param.file); });

// What libarchive 3.6.2 (Debian 12) cannot read, and why. These must be
// reported as not decodable (kDamaged, no children), never as an empty
// archive that passed.
struct UnreadableCase {
  std::string file;
  std::string type;  // filterd's short type, "" when file_type.h has none
  std::string reason;
};

std::ostream& operator<<(std::ostream& os, const UnreadableCase& c) {
  return os << c.file;
}

const std::vector<UnreadableCase>& unreadable_formats() {
  static const std::vector<UnreadableCase> cases = {
      {"t.arj", ".arj", "ARJ: libarchive has no reader"},
      {"p.arj", ".arj", "ARJ (password-protected): libarchive has no reader"},
      {"t.ace", ".ace", "ACE: proprietary, libarchive has no reader"},
      {"t.cba", ".ace", "ACE comic book: libarchive has no reader"},
      {"t.zoo", ".zoo", "Zoo: libarchive has no reader"},
      {"t.alz", "", "ALZip: libarchive has no reader"},
      {"t.arc", "", "SEA ARC: libarchive has no reader"},
      {"p.arc", "", "SEA ARC (password-protected): libarchive has no reader"},
      {"t.freearc.arc", "", "FreeArc: libarchive has no reader"},
      {"t.chm", "", "Microsoft HtmlHelp: libarchive has no reader"},
      {"t.wim", "", "Windows imaging (WIM): libarchive has no reader"},
      {"t.adf", "", "Amiga disk image: libarchive has no reader"},
      {"t.dms", "", "Amiga DMS: libarchive has no reader"},
      {"t.shar", "", "shell archive: libarchive writes shar but cannot read it"},
      {"t.zpaq", "", "ZPAQ: libarchive has no reader"},
      {"t.txt.lrz", "", "lrzip: only through the external lrzip program, which we never run"},
      {"t.txt.lzo", "",
       "lzop: Debian's libarchive lacks liblzo2, so it would run the external lzop program"},
      {"t.txt.rz", "", "rzip: libarchive has no reader"},
      {"t.txt.bz3", "", "bzip3: libarchive 3.6.2 has no reader"},
      {"t.txt", ".txt", "not an archive"},
      {"t2.txt", ".txt", "not an archive"},
  };
  return cases;
}

class UnreadableFormat : public testing::TestWithParam<UnreadableCase> {};

TEST_P(UnreadableFormat, IsReportedAsNotDecodable) {
  const UnreadableCase& c = GetParam();
  RecordProperty("reason", c.reason);
  if (!c.type.empty()) {
    EXPECT_FALSE(decoder_reads(c.type)) << c.type << " would be routed here";
  }
  RecordingSink sink;
  // Even if the walker asked (as a container), nothing passes silently.
  Result r = decode(read_file(kPatool / c.file), c.type, c.file, sink);
  EXPECT_EQ(r.status, DecodeStatus::kDamaged) << c.reason;
  EXPECT_NE(r.problem.find("Unrecognized archive format"), std::string::npos) << r.problem;
  EXPECT_TRUE(sink.children().empty());
}

INSTANTIATE_TEST_SUITE_P(Patool, UnreadableFormat, testing::ValuesIn(unreadable_formats()),
                         [](const auto& p) { return test_name(p.param.file); });

// Password-protected archives in the patool corpus.
const std::vector<FormatCase>& encrypted_formats() {
  static const std::vector<FormatCase> cases = {
      {"p.zip", ".zip", "libarchive/zip", {"t/t.txt"}, ""},
      {"p.cbz", ".zip", "libarchive/zip", {"t/t.txt"}, ""},
      {"p .7z", ".7z", "libarchive/7z", {"t/t.txt"}, ""},
      {"p.rar", ".rar", "libarchive/rar5", {"t/t.txt"}, ""},  // found by the RAR5 header walk
  };
  return cases;
}

class EncryptedFormat : public testing::TestWithParam<FormatCase> {};

TEST_P(EncryptedFormat, EmitsEncryptedMembersWithoutContent) {
  const FormatCase& c = GetParam();
  RecordingSink sink;
  Result r = decode(read_file(kPatool / c.file), c.type, c.file, sink);
  EXPECT_EQ(r.status, DecodeStatus::kEncrypted) << r.problem;
  EXPECT_EQ(sink.names(), c.members);
  for (const auto& child : sink.children()) {
    EXPECT_TRUE(child->info.encrypted);
    EXPECT_EQ(child->info.decoder, c.decoder);
    EXPECT_TRUE(child->data.empty());
    EXPECT_TRUE(child->finished);
  }
}

INSTANTIATE_TEST_SUITE_P(Patool, EncryptedFormat, testing::ValuesIn(encrypted_formats()),
                         [](const auto& p) { return test_name(p.param.file); });

TEST(PatoolCorpus, EveryFileIsInOneOfTheTables) {
  std::set<std::string> known;
  for (const auto& c : readable_formats()) known.insert(c.file);
  for (const auto& c : unreadable_formats()) known.insert(c.file);
  for (const auto& c : encrypted_formats()) known.insert(c.file);
  for (const auto& entry : fs::directory_iterator(kPatool)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name.ends_with(".foo")) continue;  // .foo: same bytes
    EXPECT_TRUE(known.contains(name)) << name << " is in no table";
  }
}

// ---------------------------------------------------------------------------
// The ClamAV test file inside ClamAV's own test containers.

enum class Expect {
  kMember,      // libarchive yields a member with the clam.exe hash
  kUnreadable,  // routed to libarchive, which cannot read it: kDamaged
  kNotOurs,     // another type: the MIME parser, TNEF, ClamAV's unpackers
};

struct ContainerCase {
  std::string file;
  std::string type;  // filterd's short type for it
  Expect expect;
  std::string reason;
};

std::ostream& operator<<(std::ostream& os, const ContainerCase& c) {
  return os << c.file;
}

const std::vector<ContainerCase>& clamav_containers() {
  static const std::vector<ContainerCase> cases = {
      {"clam-v3.rar", ".rar", Expect::kMember, ""},
      {"clam.7z", ".7z", Expect::kMember, ""},
      {"clam.bin-be.cpio", ".cpio", Expect::kMember, ""},
      {"clam.bin-le.cpio", ".cpio", Expect::kMember, ""},
      {"clam.newc.cpio", ".cpio", Expect::kMember, ""},
      {"clam.odc.cpio", ".cpio", Expect::kMember, ""},
      {"clam.bz2.zip", ".zip", Expect::kMember, ""},
      {"clam.cab", ".cab", Expect::kMember, ""},
      {"clam.exe.bz2", ".bz2", Expect::kMember, ""},
      {"clam.exe_and_mail.tar.gz", ".gz", Expect::kMember, ""},
      {"clam.iso", ".iso", Expect::kMember, ""},
      {"clamjol.iso", ".iso", Expect::kMember, ""},
      {"clam.split.oneseg.zip", ".zip", Expect::kMember, ""},
      {"clam.tar.gz", ".gz", Expect::kMember, ""},
      {"clam.zip", ".zip", Expect::kMember, ""},
      {"clam_cache_emax.tgz", ".gz", Expect::kMember, ""},
      {"clam-v2.rar", ".rar", Expect::kUnreadable,
       "RAR 2.0 compression: libarchive decodes RAR 2.9 and later only ('Prefix found')"},
      {"clam.d64.zip", ".zip", Expect::kUnreadable,
       "Deflate64 (method 9): libarchive 3.6.2 has no decoder"},
      {"clam.impl.zip", ".zip", Expect::kUnreadable,
       "PKWARE implode (method 6): libarchive 3.6.2 has no decoder"},
      {"clam.exe", ".exe-ms", Expect::kNotOurs, "the file itself"},
      {"clam-aspack.exe", ".exe-ms", Expect::kNotOurs, "ASPack-packed PE: ClamAV unpacks"},
      {"clam-fsg.exe", ".exe-ms", Expect::kNotOurs, "FSG-packed PE: ClamAV unpacks"},
      {"clam-mew.exe", ".exe-ms", Expect::kNotOurs, "MEW-packed PE: ClamAV unpacks"},
      {"clam-pespin.exe", ".exe-ms", Expect::kNotOurs, "PESpin-packed PE: ClamAV unpacks"},
      {"clam-petite.exe", ".exe-ms", Expect::kNotOurs, "Petite-packed PE: ClamAV unpacks"},
      {"clam-upack.exe", ".exe-ms", Expect::kNotOurs, "Upack-packed PE: ClamAV unpacks"},
      {"clam-upx.exe", ".exe-ms", Expect::kNotOurs, "UPX-packed PE: ClamAV unpacks"},
      {"clam-wwpack.exe", ".exe-ms", Expect::kNotOurs, "WWPack-packed PE: ClamAV unpacks"},
      {"clam-yc.exe", ".exe-ms", Expect::kNotOurs, "yC-packed PE: ClamAV unpacks"},
      {"clam-nsis.exe", ".exe-ms", Expect::kNotOurs, "NSIS installer: ClamAV unpacks"},
      {"clam.ea05.exe", ".exe-ms", Expect::kNotOurs, "AutoIt v3.05 script: ClamAV unpacks"},
      {"clam.ea06.exe", ".exe-ms", Expect::kNotOurs, "AutoIt v3.06 script: ClamAV unpacks"},
      {"clam_IScab_ext.exe", ".exe-ms", Expect::kNotOurs,
       "InstallShield: libarchive finds only the engine cabinet (no clam.exe); ClamAV unpacks"},
      {"clam_IScab_int.exe", ".exe-ms", Expect::kNotOurs,
       "InstallShield: libarchive finds only the engine cabinet (no clam.exe); ClamAV unpacks"},
      {"clam_ISmsi_ext.exe", ".exe-ms", Expect::kNotOurs, "InstallShield MSI: ClamAV unpacks"},
      {"clam_ISmsi_int.exe", ".exe-ms", Expect::kNotOurs, "InstallShield MSI: ClamAV unpacks"},
      {"clam.arj", ".arj", Expect::kNotOurs, "ARJ: no libarchive reader; ClamAV unpacks"},
      {"clam.chm", ".dat", Expect::kNotOurs, "CHM: no libarchive reader; ClamAV unpacks"},
      {"clam.exe.2007.one", ".dat", Expect::kNotOurs, "OneNote: ClamAV unpacks"},
      {"clam.exe.2010.one", ".dat", Expect::kNotOurs, "OneNote: ClamAV unpacks"},
      {"clam.exe.webapp-export.one", ".dat", Expect::kNotOurs, "OneNote: ClamAV unpacks"},
      {"clam.exe.binhex", ".hqx", Expect::kNotOurs, "BinHex: filterd's BinHex decoder"},
      {"clam.exe.html", ".html", Expect::kNotOurs, "HTML: ClamAV normalises it"},
      {"clam.exe.mbox.base64", ".mail", Expect::kNotOurs, "mbox, base64: the MIME parser"},
      {"clam.exe.mbox.uu", ".mail", Expect::kNotOurs, "mbox, uuencoded: the uudecoder"},
      {"clam.exe.rtf", ".rtf", Expect::kNotOurs, "RTF objects: ClamAV"},
      {"clam.exe.szdd", ".dat", Expect::kNotOurs, "SZDD (compress.exe): no libarchive reader"},
      {"clam.mail", ".mail", Expect::kNotOurs, "mail: the MIME parser"},
      {"clam.mail-boundary-content-disposition.eml", ".mail", Expect::kNotOurs, "MIME parser"},
      {"clam.mail-comment-header-name.eml", ".mail", Expect::kNotOurs, "MIME parser"},
      {"clam.mail-disposition-rfc2231-boundary.eml", ".mail", Expect::kNotOurs, "MIME parser"},
      {"clam.mail-multiple-boundaries.eml", ".mail", Expect::kNotOurs, "MIME parser"},
      {"clam.mail-multiple-content-type.eml", ".mail", Expect::kNotOurs, "MIME parser"},
      {"clam.mail-nested-comment-header-name.eml", ".mail", Expect::kNotOurs, "MIME parser"},
      {"clam.mail-semicolon-boundary.eml", ".mail", Expect::kNotOurs, "MIME parser"},
      {"clam.ole.doc", ".doc", Expect::kNotOurs, "OLE2: ClamAV"},
      {"clam.ppt", ".doc", Expect::kNotOurs, "OLE2: ClamAV"},
      {"clam.pdf", ".pdf", Expect::kNotOurs, "PDF: ClamAV"},
      {"clam.sis", ".dat", Expect::kNotOurs, "Symbian SIS: ClamAV"},
      {"clam.tnef", ".tnef", Expect::kNotOurs, "TNEF: filterd's TNEF decoder"},
  };
  return cases;
}

class ClamavContainer : public testing::TestWithParam<ContainerCase> {};

TEST_P(ClamavContainer, YieldsTheClamavTestFileOrSaysWhyNot) {
  const ContainerCase& c = GetParam();
  RecordProperty("reason", c.reason);
  const Signature sig = clam_signature();
  std::string data = read_file(kClamav / "clamav_hdb_scanfiles" / c.file);
  if (c.expect == Expect::kNotOurs) {
    EXPECT_FALSE(decoder_reads(c.type)) << c.type << " is routed to libarchive";
    return;
  }
  ASSERT_TRUE(decoder_reads(c.type)) << c.type;
  bool found = false;
  std::vector<std::string> seen;
  DecodeStatus status =
      walk(data, c.type, c.file, std::make_shared<Budget>(), 0, [&](const Child& child) {
        seen.push_back(child.info.name);
        if (hex_digest(child.data, sig.md) == sig.hash) found = true;
      });
  if (c.expect == Expect::kMember) {
    EXPECT_TRUE(found) << "members: " << testing::PrintToString(seen);
    EXPECT_EQ(status, DecodeStatus::kOk);
  } else {
    EXPECT_FALSE(found);
    EXPECT_EQ(status, DecodeStatus::kDamaged) << c.reason;
  }
}

INSTANTIATE_TEST_SUITE_P(ClamavHdbScanfiles, ClamavContainer,
                         testing::ValuesIn(clamav_containers()),
                         [](const auto& p) { return test_name(p.param.file); });

TEST(ClamavCorpus, EveryScanfileIsInTheTable) {
  std::set<std::string> known;
  for (const auto& c : clamav_containers()) known.insert(c.file);
  for (const auto& entry : fs::directory_iterator(kClamav / "clamav_hdb_scanfiles")) {
    EXPECT_TRUE(known.contains(entry.path().filename().string())) << entry.path();
  }
}

// ---------------------------------------------------------------------------
// Behaviour.

TEST(ArchiveDecoder, ListsEveryTypeItReads) {
  EXPECT_EQ(decoder().name(), "libarchive");
  for (const char* t :
       {".zip", ".7z", ".rar", ".tar", ".cpio", ".iso", ".cab", ".lha", ".ar", ".deb", ".rpm",
        ".gz", ".bz2", ".xz", ".lzma", ".lz", ".lz4", ".zst", ".Z"}) {
    EXPECT_TRUE(decoder_reads(t)) << t;
  }
  for (const char* t : {".arj", ".zoo", ".ace", ".xar", ".exe-ms", ".mail", ".tnef", ".txt"}) {
    EXPECT_FALSE(decoder_reads(t)) << t;
  }
}

TEST(ArchiveDecoder, NestedArchivesAreEmittedNotEntered) {
  RecordingSink sink;
  Result r =
      decode(read_file(kArchives / "zipbombs/Challenge9.zip"), ".zip", "Challenge9.zip", sink);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
  ASSERT_EQ(sink.children().size(), 9u);
  for (const auto& child : sink.children()) {
    EXPECT_TRUE(child->info.name.ends_with(".zip")) << child->info.name;
    EXPECT_EQ(child->data.size(), 95275u);
    EXPECT_TRUE(child->data.starts_with("PK\x03\x04"));
  }
  RecordingSink gz;
  decode(read_file(kPatool / "t.rar.gz"), ".gz", "t.rar.gz", gz);
  ASSERT_EQ(gz.children().size(), 1u);
  EXPECT_TRUE(gz.children()[0]->data.starts_with("Rar!"));
}

TEST(ArchiveDecoder, StreamChildIsNamedAfterThePartMinusItsSuffix) {
  std::string gz = read_file(kPatool / "t.txt.gz");
  const std::pair<std::string, std::string> cases[] = {
      {"x.tar.gz", "x.tar"},          {"x.tgz", "x.tar"}, {"REPORT.TXT.GZ", "REPORT.TXT"},
      {"invoice.pdf", "invoice.pdf"}, {"", ""},
  };
  for (const auto& [declared, expected] : cases) {
    RecordingSink sink;
    decode(gz, ".gz", declared, sink);
    ASSERT_EQ(sink.children().size(), 1u);
    EXPECT_EQ(sink.children()[0]->info.name, expected) << declared;
  }
}

TEST(ArchiveDecoder, StreamThatIsNotCompressedIsDamagedNotEchoed) {
  for (const char* type : {".gz", ".xz", ".Z"}) {
    RecordingSink sink;
    Result r = decode(read_file(kPatool / "t.txt"), type, "t.txt.gz", sink);
    EXPECT_EQ(r.status, DecodeStatus::kDamaged) << type;
    EXPECT_TRUE(sink.children().empty()) << type;
  }
  RecordingSink sink;  // xz bytes detected as gz: not gz either
  EXPECT_EQ(decode(read_file(kPatool / "t.txt.xz"), ".gz", "", sink).status,
            DecodeStatus::kDamaged);
}

// libarchive 3.6.2 loops forever on a xar with doubled link attributes
// (its test_read_format_xar_doublelink; fixed in 3.7.4), so xar is off:
// even a well-formed one is reported as not decodable.
TEST(ArchiveDecoder, XarIsNotReadBecauseLibarchive362CanLoopForever) {
  EXPECT_FALSE(decoder_reads(".xar"));
  std::string xar = write_archive(archive_write_set_format_xar, {{"a.txt", "alpha"}});
  RecordingSink sink;
  Result r = decode(xar, ".xar", "x.xar", sink);
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_NE(r.problem.find("Unrecognized archive format"), std::string::npos) << r.problem;
  EXPECT_TRUE(sink.children().empty());
}

// libarchive's own regression files for bugs 3.6.2 still has, each of
// which would hang or kill a worker if the decoder let libarchive reach it.
TEST(ArchiveDecoder, GzipThatDecompressesToGzipIsOneLayerPerDecode) {
  // Bidding would stack gzip filters up to libarchive's cap of 25, seconds
  // of CPU inside one call; the explicit chain peels exactly one.
  RecordingSink sink;
  Result r = decode(read_file(kLibarchiveTests / "test_read_filter_gzip_recursive.gz"), ".gz",
                    "x.gz", sink);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
  ASSERT_EQ(sink.children().size(), 1u);
  EXPECT_TRUE(sink.children()[0]->data.starts_with("\x1f\x8b"));
}

TEST(ArchiveDecoder, RockRidgeContinuationLoopDoesNotExhaustMemory) {
  // With Rock Ridge on, 3.6.2 grows without bound here and aborts.
  std::vector<std::string> names;
  walk(read_file(kLibarchiveTests / "test_read_format_iso_rockridge_ce_loop.iso.Z"), ".Z",
       "ce_loop.iso.Z", std::make_shared<Budget>(), 0,
       [&](const Child& child) { names.push_back(child.info.name); });
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "ce_loop.iso");
}

TEST(ArchiveDecoder, XarWithDoubledLinksIsNotEntered) {
  // 3.6.2 loops forever in archive_read_next_header on this file.
  RecordingSink sink;
  Result r = decode(read_file(kLibarchiveTests / "test_read_format_xar_doublelink.xar"), ".xar",
                    "x.xar", sink);
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_TRUE(sink.children().empty());
}

TEST(ArchiveDecoder, OnlyRegularFilesBecomeChildren) {
  std::string tar =
      write_archive(archive_write_set_format_pax_restricted, {{"dir", "", AE_IFDIR},
                                                              {"dir/file", "data"},
                                                              {"link", "", AE_IFLNK},
                                                              {"fifo", "", AE_IFIFO}});
  RecordingSink sink;
  Result r = decode(tar, ".tar", "x.tar", sink);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
  EXPECT_EQ(sink.names(), std::vector<std::string>{"dir/file"});
}

TEST(ArchiveDecoder, HardLinkWithoutDataIsSkipped) {
  // Go's hardlink.tar: a file and a hard link to it.
  RecordingSink sink;
  Result r = decode(read_file(kArchives / "golang/archive/tar/testdata/hardlink.tar"), ".tar",
                    "hardlink.tar", sink);
  EXPECT_EQ(r.status, DecodeStatus::kOk) << r.problem;
  EXPECT_EQ(sink.children().size(), 1u) << testing::PrintToString(sink.names());
}

TEST(ArchiveDecoder, NonUtf8NamesArriveAsUtf8) {
  RecordingSink sink;
  decode(read_file(kArchives / "golang/archive/tar/testdata/gnu-not-utf8.tar"), ".tar", "", sink);
  ASSERT_EQ(sink.children().size(), 1u);
  const std::string& name = sink.children()[0]->info.name;
  // "hi\x80\x81\x82\x83bye" read as Latin-1.
  EXPECT_EQ(name,
            "hi\xc2\x80\xc2\x81\xc2\x82\xc2\x83"
            "bye");
}

TEST(ArchiveDecoder, EncryptedZipGivesEncryptedChildrenAndKeepsGoing) {
  std::string zip = write_archive(archive_write_set_format_zip,
                                  {{"a.exe", "MZ secret"}, {"b.txt", "also secret"}},
                                  "zip:encryption=zipcrypt", "infected");
  RecordingSink sink;
  Result r = decode(zip, ".zip", "x.zip", sink);
  EXPECT_EQ(r.status, DecodeStatus::kEncrypted) << r.problem;
  EXPECT_EQ(sink.names(), (std::vector<std::string>{"a.exe", "b.txt"}));
  for (const auto& child : sink.children()) {
    EXPECT_TRUE(child->info.encrypted);
    EXPECT_TRUE(child->data.empty());
    EXPECT_TRUE(child->finished);
  }
}

TEST(ArchiveDecoder, PartlyEncryptedArchivesEmitThePlainMembers) {
  struct Case {
    std::string file, type, plain, locked;
  } cases[] = {
      {"test_read_format_zip_encryption_partially.zip", ".zip", "bar.txt", "foo.txt"},
      {"test_read_format_7zip_encryption_partially.7z", ".7z", "bar_unencrypted.txt",
       "bar_encrypted.txt"},
      {"test_read_format_rar_encryption_partially.rar", ".rar", "bar.txt", "foo.txt"},
      {"test_read_format_rar5_encrypted.rar", ".rar", "a.txt", "b.txt"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    RecordingSink sink;
    Result r = decode(read_file(kLibarchiveTests / c.file), c.type, c.file, sink);
    EXPECT_EQ(r.status, DecodeStatus::kEncrypted) << r.problem;
    bool plain = false, locked = false;
    for (const auto& child : sink.children()) {
      if (child->info.name == c.plain) plain = !child->info.encrypted && !child->data.empty();
      if (child->info.name == c.locked) locked = child->info.encrypted && child->data.empty();
    }
    EXPECT_TRUE(plain);
    EXPECT_TRUE(locked);
  }
}

TEST(ArchiveDecoder, EncryptedHeadersGiveEncryptedWithoutChildren) {
  for (const char* file :
       {"test_read_format_7zip_encryption_header.7z", "test_read_format_zip_encryption_header.zip",
        "test_read_format_rar_encryption_header.rar",
        "test_read_format_rar5_encrypted_filenames.rar"}) {
    SCOPED_TRACE(file);
    RecordingSink sink;
    std::string type = fs::path(file).extension().string();
    Result r = decode(read_file(kLibarchiveTests / file), type, file, sink);
    EXPECT_EQ(r.status, DecodeStatus::kEncrypted) << r.problem;
    EXPECT_TRUE(r.problem.starts_with("encrypted ")) << r.problem;
    EXPECT_TRUE(sink.children().empty());
  }
}

std::string three_member_zip() {
  std::string big(200000, '\0');
  std::mt19937 rng(42);
  for (char& c : big) c = static_cast<char>('a' + rng() % 4);  // compressible, not trivially
  return write_archive(archive_write_set_format_zip,
                       {{"one.txt", big}, {"two.txt", big.substr(1000)}, {"three.txt", "3"}});
}

TEST(ArchiveDecoder, TruncatedZipIsDamagedAndKeepsWhatWasRead) {
  std::string zip = three_member_zip();
  RecordingSink sink;
  Result r = decode(std::string_view(zip).substr(0, zip.size() / 2), ".zip", "x.zip", sink);
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_TRUE(r.problem.starts_with("damaged zip: ")) << r.problem;
  ASSERT_FALSE(sink.children().empty());
  EXPECT_EQ(sink.children()[0]->info.name, "one.txt");
  EXPECT_EQ(sink.children()[0]->data.size(), 200000u);
  for (const auto& child : sink.children()) EXPECT_TRUE(child->finished);
}

TEST(ArchiveDecoder, FlippedBytesInCompressedDataGiveDamaged) {
  std::string zip = three_member_zip();
  for (size_t i = 100; i < 130; ++i) zip[i] = static_cast<char>(zip[i] ^ 0x55);
  RecordingSink sink;
  Result r = decode(zip, ".zip", "x.zip", sink);
  EXPECT_EQ(r.status, DecodeStatus::kDamaged);
  EXPECT_FALSE(r.problem.empty());
}

// Every prefix and random byte flips of small archives of each format:
// no crash, no exception, every begun child finished, damage reported.
TEST(ArchiveDecoder, CutAndFlippedArchivesNeverCrash) {
  struct Sample {
    const char* file;
    const char* type;
  } samples[] = {
      {"t.zip", ".zip"},     {"t .7z", ".7z"},    {"t.rar", ".rar"},     {"p.rar", ".rar"},
      {"t.cab", ".cab"},     {"t.lha", ".lha"},   {"t.cpio", ".cpio"},   {"t.txt.a", ".ar"},
      {"t.tar.gz", ".gz"},   {"t.tar.xz", ".xz"}, {"t.tar.bz2", ".bz2"}, {"t.txt.lz4", ".lz4"},
      {"t.tar.zst", ".zst"}, {"t.tar.Z", ".Z"},   {"t.tar.lz", ".lz"},   {"t.tar.lzma", ".lzma"}};
  std::mt19937 rng(7);
  for (const Sample& s : samples) {
    SCOPED_TRACE(s.file);
    std::string data = read_file(kPatool / s.file);
    for (size_t len = 0; len < data.size(); ++len) {
      RecordingSink sink;
      Result r = decode(std::string_view(data).substr(0, len), s.type, s.file, sink);
      if (len < 4) {
        EXPECT_EQ(r.status, DecodeStatus::kDamaged) << len;
      }
      for (const auto& child : sink.children()) EXPECT_TRUE(child->finished);
    }
    for (int round = 0; round < 200; ++round) {
      std::string bad = data;
      for (int k = 0; k < 4; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
      auto budget = std::make_shared<Budget>();
      budget->byte_quota = 1 << 20;
      RecordingSink sink(budget);
      decode(bad, s.type, s.file, sink);
      for (const auto& child : sink.children()) EXPECT_TRUE(child->finished);
      EXPECT_EQ(budget->writes_after_stop, 0);
    }
  }
}

TEST(ArchiveDecoder, EmptyAndOneByteInputsAreDamaged) {
  for (const char* type : {".zip", ".7z", ".tar", ".gz", ".xz", ""}) {
    for (std::string_view input : {std::string_view(), std::string_view("P")}) {
      RecordingSink sink;
      Result r = decode(input, type, "x", sink);
      EXPECT_EQ(r.status, DecodeStatus::kDamaged) << type << " " << input.size();
      EXPECT_FALSE(r.problem.empty());
      EXPECT_TRUE(sink.children().empty());
    }
  }
}

TEST(ArchiveDecoder, EmptyZipIsOkWithNoChildren) {
  std::string zip = write_archive(archive_write_set_format_zip, {});
  RecordingSink sink;
  EXPECT_EQ(decode(zip, ".zip", "x.zip", sink).status, DecodeStatus::kOk);
  EXPECT_TRUE(sink.children().empty());
}

TEST(ArchiveDecoder, SinkFileLimitStopsAtOnce) {
  std::vector<Member> members;
  for (int i = 0; i < 10; ++i) members.push_back({"f" + std::to_string(i), "x"});
  std::string tar = write_archive(archive_write_set_format_ustar, members);
  auto budget = std::make_shared<Budget>();
  budget->max_files = 3;
  RecordingSink sink(budget);
  EXPECT_EQ(decode(tar, ".tar", "x.tar", sink).status, DecodeStatus::kStopped);
  EXPECT_EQ(sink.children().size(), 3u);
}

TEST(ArchiveDecoder, HeaderCapEndsContainersOfEmptyEntries) {
  std::vector<Member> dirs;
  for (int i = 0; i < 50; ++i) dirs.push_back({"d" + std::to_string(i), "", AE_IFDIR});
  std::string tar = write_archive(archive_write_set_format_ustar, dirs);
  ArchiveDecoderLimits limits;
  limits.max_headers = 10;
  auto capped = make_archive_decoder(limits);
  RecordingSink sink;
  Result r = decode(tar, ".tar", "x.tar", sink, *capped);
  EXPECT_EQ(r.status, DecodeStatus::kStopped);
  EXPECT_EQ(r.problem, "more than 10 entries in tar");
}

// zbsm.zip: 251 overlapping entries of ~2 GB each (David Fifield's
// "better zip bomb"). The byte quota must end it after the quota, not after
// 546 GB: assert on bytes, not time.
TEST(ArchiveDecoder, OverlappingZipBombStopsAtTheByteQuota) {
  constexpr long long kQuota = 10 << 20;
  auto budget = std::make_shared<Budget>();
  budget->byte_quota = kQuota;
  RecordingSink sink(budget);
  Result r = decode(read_file(kArchives / "zipbombs/zbsm.zip"), ".zip", "zbsm.zip", sink);
  EXPECT_EQ(r.status, DecodeStatus::kStopped) << r.problem;
  EXPECT_EQ(budget->bytes, kQuota);
  EXPECT_EQ(budget->writes_after_stop, 0);
  // b.txt (62 bytes), then "0", which alone claims 2 GB.
  EXPECT_EQ(sink.names(), (std::vector<std::string>{"b.txt", "0"}));
  for (const auto& child : sink.children()) EXPECT_TRUE(child->finished);
}

// Challenge9.zip: nine copies of a zip of nine copies of ... nested eight
// deep. Walked with one shared quota it stops at the quota.
TEST(ArchiveDecoder, NestedZipBombStopsAtTheSharedByteQuota) {
  constexpr long long kQuota = 10 << 20;
  auto budget = std::make_shared<Budget>();
  budget->byte_quota = kQuota;
  long long leaves = 0;
  DecodeStatus status = walk(read_file(kArchives / "zipbombs/Challenge9.zip"), ".zip",
                             "Challenge9.zip", budget, 0, [&](const Child&) { ++leaves; });
  EXPECT_EQ(status, DecodeStatus::kStopped);
  EXPECT_EQ(budget->bytes, kQuota);
  EXPECT_EQ(budget->writes_after_stop, 0);
  EXPECT_GT(leaves, 9);
}

// Every file of the archive corpus (fuzz regressions of libarchive, Go and
// CPython test archives, bombs), read as a container and as each stream
// type: ends, within the quota, every child finished.
TEST(ArchiveDecoder, WholeCorpusEndsWithinTheQuota) {
  std::vector<std::string> types = {""};
  for (const char* t : {".gz", ".bz2", ".xz", ".lzma", ".lz", ".lz4", ".zst", ".Z"}) {
    types.push_back(t);
  }
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kArchives)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::string data = read_file(entry.path());
    for (const std::string& type : types) {
      auto budget = std::make_shared<Budget>();
      budget->byte_quota = 4 << 20;
      budget->max_files = 1000;
      RecordingSink sink(budget);
      Result r = decode(data, type, entry.path().filename().string(), sink);
      SCOPED_TRACE(entry.path().string() + " as '" + type + "': " + status_name(r.status));
      EXPECT_LE(budget->bytes, budget->byte_quota);
      EXPECT_EQ(budget->writes_after_stop, 0);
      for (const auto& child : sink.children()) EXPECT_TRUE(child->finished);
      if (r.status == DecodeStatus::kDamaged) {
        EXPECT_FALSE(r.problem.empty());
      }
    }
  }
  EXPECT_GT(files, 800);
}

// ---------------------------------------------------------------------------
// DecoderRegistry.

class FakeDecoder : public Decoder {
 public:
  FakeDecoder(std::string name, std::vector<std::string> types)
      : name_(std::move(name)), types_(std::move(types)) {}
  std::string_view name() const override { return name_; }
  std::vector<std::string> types() const override { return types_; }
  DecodeStatus decode(std::string_view, const Part&, ChildSink&, std::string&) const override {
    return DecodeStatus::kOk;
  }

 private:
  std::string name_;
  std::vector<std::string> types_;
};

TEST(DecoderRegistry, BuiltinRegistryRoutesArchivesToLibarchive) {
  DecoderRegistry registry = builtin_decoders();
  ASSERT_NE(registry.find(".zip"), nullptr);
  EXPECT_EQ(registry.find(".zip")->name(), "libarchive");
  EXPECT_EQ(registry.find(".arj"), nullptr);
  EXPECT_EQ(registry.table().at(".gz"), "libarchive");
}

TEST(DecoderRegistry, LaterRegistrationReplacesOnlyItsTypes) {
  DecoderRegistry registry;
  registry.add(std::make_shared<FakeDecoder>("first", std::vector<std::string>{".a", ".b"}));
  registry.add(std::make_shared<FakeDecoder>("second", std::vector<std::string>{".b"}));
  EXPECT_EQ(registry.find(".a")->name(), "first");
  EXPECT_EQ(registry.find(".b")->name(), "second");
  EXPECT_EQ(registry.find(".c"), nullptr);
  EXPECT_EQ(registry.table(),
            (std::map<std::string, std::string>{{".a", "first"}, {".b", "second"}}));
}

// ---------------------------------------------------------------------------
// PartContent and Part.

std::string temp_file(std::string_view contents) {
  std::string path = (fs::temp_directory_path() / "filterd-part-XXXXXX").string();
  int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
  close(fd);
  return path;
}

TEST(PartContent, ViewAndOwnedHoldTheirBytes) {
  std::string_view original = "abc";
  EXPECT_EQ(PartContent::view(original).bytes().data(), original.data());
  PartContent owned = PartContent::owned(std::string(100, 'x'));
  PartContent copy = owned;
  owned = PartContent();
  EXPECT_EQ(copy.bytes(), std::string(100, 'x'));
  EXPECT_TRUE(copy.ok());
  EXPECT_EQ(PartContent().size(), 0u);
}

TEST(PartContent, MappedFileIsDeletedWhenTheLastCopyGoes) {
  std::string path = temp_file("member bytes");
  {
    PartContent first = PartContent::mapped_file(path);
    ASSERT_TRUE(first.ok());
    PartContent second = first;
    first = PartContent();
    EXPECT_EQ(second.bytes(), "member bytes");
    EXPECT_TRUE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(PartContent, EmptyFileMapsToAnEmptyView) {
  std::string path = temp_file("");
  {
    PartContent c = PartContent::mapped_file(path);
    EXPECT_TRUE(c.ok());
    EXPECT_EQ(c.size(), 0u);
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(PartContent, FdIsTheWholeMappedFilesOnly) {
  std::string path = temp_file("member bytes");
  PartContent mapped = PartContent::mapped_file(path);
  ASSERT_GE(mapped.fd(), 0);
  char head[6];
  EXPECT_EQ(::pread(mapped.fd(), head, sizeof head, 0), 6);
  EXPECT_EQ(std::string_view(head, 6), "member");
  EXPECT_EQ(mapped.slice(0, 6).fd(), -1);  // not the whole file
  EXPECT_EQ(PartContent::owned("x").fd(), -1);
  EXPECT_EQ(PartContent::view("x").fd(), -1);
}

// A large part spilled to disk is read by libarchive from its file (its
// mapping is not faulted in); the members are the same as from memory.
TEST(ArchiveDecoder, ArchiveOnDiskGivesTheSameMembersAsInMemory) {
  for (const char* name : {"zipbombs/Challenge9.zip", "patool/t .7z", "patool/t.tar.bz2"}) {
    const std::string bytes = read_file(kArchives / name);
    const std::string type = std::string(name).ends_with(".zip")  ? ".zip"
                             : std::string(name).ends_with(".7z") ? ".7z"
                                                                  : ".bz2";
    RecordingSink in_memory;
    ASSERT_EQ(decode(bytes, type, "", in_memory).status, DecodeStatus::kOk) << name;
    Part part;
    part.path = "p001";
    part.detected_type = type;
    part.content = PartContent::mapped_file(temp_file(bytes));
    ASSERT_GE(part.content.fd(), 0);
    RecordingSink on_disk;
    std::string problem;
    ASSERT_EQ(decoder().decode(part.content.bytes(), part, on_disk, problem), DecodeStatus::kOk)
        << name << ": " << problem;
    ASSERT_EQ(on_disk.children().size(), in_memory.children().size()) << name;
    for (size_t i = 0; i < on_disk.children().size(); ++i) {
      EXPECT_EQ(on_disk.children()[i]->info.name, in_memory.children()[i]->info.name) << name;
      EXPECT_EQ(on_disk.children()[i]->data, in_memory.children()[i]->data) << name;
    }
  }
}

TEST(PartContent, MissingFileIsNotOk) {
  PartContent c = PartContent::mapped_file("/nonexistent/filterd-part");
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.size(), 0u);
}

TEST(Part, LabelIsPathThenFirstDeclaredName) {
  Part p;
  p.path = "p002/p001";
  EXPECT_EQ(p.label(), "p002/p001");
  p.declared_names = {"clam.exe", "other.exe"};
  EXPECT_EQ(p.label(), "p002/p001 clam.exe");
  p.declared_names = {"evil\r\nX-Injected: 1.exe"};
  EXPECT_EQ(p.label(), "p002/p001 evil??X-Injected: 1.exe");
}

}  // namespace
}  // namespace filterd::decoders
