// Tests of the quarantine store: files and index in step, byte-exact round
// trips, filters, release, remove, purge, failures that leave no row, and
// several writers and purgers on one root at once.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "quarantine/store.h"

namespace filterd::quarantine {
namespace {

namespace fs = std::filesystem;

int64_t utc(int y, int mo, int d, int h, int mi = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return timegm(&tm);
}

const int64_t kDay1 = utc(2026, 11, 27, 9, 30);
const int64_t kDay2 = utc(2026, 11, 28, 14, 5);

class TempRoot {
 public:
  TempRoot() {
    std::string templ = fs::temp_directory_path() / "qstore-test-XXXXXX";
    if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempRoot() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// A mail id made from a number, so tests can name many.
std::string id(int n) {
  std::string s = "test" + std::to_string(n);
  return s + std::string(12 - s.size(), '_');
}

Entry entry(int n, int64_t time, std::string category = "INFECTED", std::string sender = "a@x.test",
            std::vector<std::string> recipients = {"r1@y.test"}, std::string subject = "hello") {
  Entry e;
  e.mail_id = id(n);
  e.time = time;
  e.category = std::move(category);
  e.reason = "Eicar-Test-Signature in p002 eicar.com";
  e.sender = std::move(sender);
  e.recipients = std::move(recipients);
  e.subject = std::move(subject);
  e.from = "Alice <a@x.test>";
  e.message_id = "<m" + std::to_string(n) + "@x.test>";
  e.client_addr = "192.0.2.1";
  e.policy_bank = "base";
  return e;
}

Store open_store(const std::string& root, bool gzip = false) {
  auto s = Store::open(root, StoreOptions{.gzip = gzip});
  EXPECT_TRUE(s.has_value()) << s.error();
  return std::move(*s);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t message_files(const std::string& root) {
  size_t n = 0;
  for (const auto& f : fs::recursive_directory_iterator(root))
    if (f.is_regular_file() && !f.path().filename().string().starts_with("index.sqlite")) ++n;
  return n;
}

// --- round trips ---------------------------------------------------------

struct RoundTrip {
  const char* name;
  std::string message;
};

class StoredMessage : public ::testing::TestWithParam<std::tuple<RoundTrip, bool>> {};

TEST_P(StoredMessage, ReadsBackByteIdentical) {
  const auto& [row, gzip] = GetParam();
  TempRoot root;
  Store store = open_store(root.path(), gzip);
  Entry e = entry(1, kDay2);
  ASSERT_TRUE(store.put(e, row.message).has_value());
  EXPECT_EQ(e.path, gzip ? "2026/11/28/14/test1_______.gz" : "2026/11/28/14/test1_______");
  EXPECT_EQ(e.size, row.message.size());
  auto got = store.get(e.mail_id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  auto message = store.read_message(**got);
  ASSERT_TRUE(message.has_value()) << message.error();
  EXPECT_EQ(*message, row.message);
}

const RoundTrip kMessages[] = {
    {"lf", "Subject: hi\nFrom: a@x.test\n\nbody\n"},
    {"crlf", "Subject: hi\r\nFrom: a@x.test\r\n\r\nbody\r\n"},
    {"binary_and_nuls", std::string("Subject: bin\n\n\0\x01\xff\xfe\r\r\n\0", 20)},
    {"empty", ""},
    {"no_final_line_end", "Subject: x\n\nno newline"},
    {"starts_with_folded_line", " looks like a continuation\nSubject: x\n\n"},
    {"starts_with_our_field", "X-Filterd-Verdict: CLEAN\n\nforged\n"},
    {"large", std::string(3 * 1024 * 1024 + 7, 'a')},
};

INSTANTIATE_TEST_SUITE_P(Quarantine, StoredMessage,
                         ::testing::Combine(::testing::ValuesIn(kMessages), ::testing::Bool()),
                         [](const auto& p) {
                           return std::string(std::get<0>(p.param).name) +
                                  (std::get<1>(p.param) ? "_gzip" : "_plain");
                         });

TEST(QuarantineFile, HasAmavisFieldsThenTheMessage) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay2, "BANNED", "a@x.test", {"r1@y.test", "r2@y.test"});
  e.reason = "p002 invoice.exe";
  ASSERT_TRUE(store.put(e, "Subject: x\r\n\r\nbody\r\n").has_value());
  EXPECT_EQ(slurp(root.sub(e.path)),
            "Return-Path: <a@x.test>\r\n"
            "X-Envelope-From: <a@x.test>\r\n"
            "X-Envelope-To: <r1@y.test>,\r\n <r2@y.test>\r\n"
            "X-Quarantine-ID: <test1_______>\r\n"
            "X-Filterd-Verdict: BANNED (p002 invoice.exe)\r\n"
            "Subject: x\r\n\r\nbody\r\n");
  struct stat st {};
  ASSERT_EQ(::stat(root.sub(e.path).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(QuarantineFile, HostileValuesCannotAddFields) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay2, "SPAM", "a@x.test>\r\nX-Evil: 1", {"r@y.test\nX-Evil: 2"});
  e.reason = "bad\r\nX-Evil: 3 " + std::string(5000, 'r');
  std::string message = "Subject: x\n\nbody\n";
  ASSERT_TRUE(store.put(e, message).has_value());
  std::string file = slurp(root.sub(e.path));
  EXPECT_EQ(file.find("\nX-Evil"), std::string::npos);
  for (size_t pos = 0, lf; (lf = file.find('\n', pos)) != std::string::npos; pos = lf + 1)
    EXPECT_LE(lf - pos, 998u);
  EXPECT_EQ(store.read_message(e).value_or("error"), message);
  EXPECT_EQ(store.get(e.mail_id)->value().sender, "a@x.test>\r\nX-Evil: 1");  // index keeps it
}

TEST(QuarantineStore, GetReturnsEveryFieldPut) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay1, "SPAM", "", {"b@y.test", "a@y.test", "c@y.test"});
  e.minor = "ENCRYPTED";
  e.spam_score = 12.5;
  e.spam_tests = "RULE=1.5, RULE2=3";
  ASSERT_TRUE(store.put(e, "x").has_value());
  EXPECT_EQ(e.secret_id.size(), 12u);
  auto got = store.get(e.mail_id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  const Entry& g = **got;
  EXPECT_EQ(g.secret_id, e.secret_id);
  EXPECT_EQ(g.time, kDay1);
  EXPECT_EQ(g.category, "SPAM");
  EXPECT_EQ(g.minor, "ENCRYPTED");
  EXPECT_EQ(g.reason, e.reason);
  EXPECT_EQ(g.spam_score, 12.5);
  EXPECT_EQ(g.spam_tests, e.spam_tests);
  EXPECT_EQ(g.sender, "");
  EXPECT_EQ(g.recipients, e.recipients);  // in envelope order
  EXPECT_EQ(g.from, e.from);
  EXPECT_EQ(g.subject, e.subject);
  EXPECT_EQ(g.message_id, e.message_id);
  EXPECT_EQ(g.size, 1u);
  EXPECT_EQ(g.client_addr, "192.0.2.1");
  EXPECT_EQ(g.policy_bank, "base");
  EXPECT_EQ(g.path, e.path);
  EXPECT_EQ(g.released_at, 0);
  EXPECT_EQ(store.get("nosuchid____").value(), std::nullopt);
}

// --- filters -------------------------------------------------------------

struct FilterRow {
  const char* name;
  Filter filter;
  std::vector<int> ids;  // expected, newest first
};

class Filtering : public ::testing::TestWithParam<FilterRow> {};

TEST_P(Filtering, ListsMatchingEntriesNewestFirst) {
  TempRoot root;
  Store store = open_store(root.path());
  std::vector<Entry> entries = {
      entry(1, kDay1, "INFECTED", "Alice@X.test", {"bob@y.test"}, "Invoice"),
      entry(2, kDay1 + 60, "SPAM", "", {"carol@y.test", "BOB@Y.TEST"}, "cheap pills"),
      entry(3, kDay2, "BANNED", "mallory@z.test", {"dave@y.test"}, "your invoice"),
      entry(4, kDay2 + 60, "SPAM", "mallory@z.test", {"erin@y.test"}, "Re: hi"),
  };
  for (Entry& e : entries) ASSERT_TRUE(store.put(e, "m\n").has_value());
  auto got = store.list(GetParam().filter);
  ASSERT_TRUE(got.has_value()) << got.error();
  std::vector<std::string> ids;
  for (const Entry& e : *got) ids.push_back(e.mail_id);
  std::vector<std::string> want;
  for (int n : GetParam().ids) want.push_back(id(n));
  EXPECT_EQ(ids, want);
}

INSTANTIATE_TEST_SUITE_P(
    Quarantine, Filtering,
    ::testing::Values(FilterRow{"all", {}, {4, 3, 2, 1}},
                      FilterRow{"category", {.category = "SPAM"}, {4, 2}},
                      FilterRow{"category_is_exact", {.category = "SPA"}, {}},
                      FilterRow{"since", {.since = kDay2}, {4, 3}},
                      FilterRow{"until_is_exclusive", {.until = kDay2}, {2, 1}},
                      FilterRow{
                          "since_and_until", {.since = kDay1 + 1, .until = kDay2 + 1}, {3, 2}},
                      FilterRow{"sender_substring_any_case", {.sender = "MALLORY"}, {4, 3}},
                      FilterRow{"sender_null", {.sender = "x.test"}, {1}},
                      FilterRow{"recipient_substring_any_case", {.recipient = "bob@"}, {2, 1}},
                      FilterRow{"recipient_second_address", {.recipient = "carol"}, {2}},
                      FilterRow{"subject_substring_any_case", {.subject = "INVOICE"}, {3, 1}},
                      FilterRow{"combined", {.category = "SPAM", .sender = "mallory"}, {4}},
                      FilterRow{"limit", {.limit = 3}, {4, 3, 2}},
                      FilterRow{"offset", {.limit = 2, .offset = 2}, {2, 1}},
                      FilterRow{"offset_past_end", {.offset = 9}, {}},
                      FilterRow{"limit_zero_is_all", {.limit = 0}, {4, 3, 2, 1}},
                      FilterRow{"no_sql_injection", {.subject = "' OR 1=1 --"}, {}}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(QuarantineStore, ListReturnsRecipients) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay1, "SPAM", "s@x.test", {"a@y.test", "b@y.test"});
  ASSERT_TRUE(store.put(e, "m").has_value());
  auto got = store.list({});
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].recipients, e.recipients);
}

// --- release, remove, purge, stats ---------------------------------------

TEST(QuarantineStore, ReleasedTwiceReturnsFalseAndKeepsTheFirst) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay1);
  ASSERT_TRUE(store.put(e, "m").has_value());
  EXPECT_EQ(store.mark_released(e.mail_id, "admin", {"r1@y.test"}, kDay2).value_or(false), true);
  auto again = store.mark_released(e.mail_id, "other", {"x@y.test", "z@y.test"}, kDay2 + 5);
  ASSERT_TRUE(again.has_value()) << again.error();
  EXPECT_FALSE(*again);
  Entry g = store.get(e.mail_id)->value();
  EXPECT_EQ(g.released_at, kDay2);
  EXPECT_EQ(g.released_by, "admin");
  EXPECT_EQ(g.released_to, std::vector<std::string>{"r1@y.test"});
}

TEST(QuarantineStore, ReleasingAnUnknownIdIsAnError) {
  TempRoot root;
  Store store = open_store(root.path());
  auto r = store.mark_released("nosuchid____", "admin", {}, kDay2);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("no entry nosuchid____"), std::string::npos) << r.error();
}

TEST(QuarantineStore, RemoveDeletesRowAndFile) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay1), keep = entry(2, kDay1);
  ASSERT_TRUE(store.put(e, "m").has_value());
  ASSERT_TRUE(store.put(keep, "m").has_value());
  EXPECT_EQ(store.remove(e.mail_id).value_or(false), true);
  EXPECT_FALSE(fs::exists(root.sub(e.path)));
  EXPECT_EQ(store.get(e.mail_id).value(), std::nullopt);
  EXPECT_EQ(store.remove(e.mail_id).value_or(true), false);
  EXPECT_TRUE(fs::exists(root.sub(keep.path)));
  EXPECT_EQ(store.list({})->size(), 1u);
}

TEST(QuarantineStore, PurgeRemovesOlderRowsFilesAndEmptyDirectoriesKeepsNewer) {
  TempRoot root;
  Store store = open_store(root.path(), /*gzip=*/true);
  std::vector<Entry> old, fresh;
  for (int i = 0; i < 3; ++i) old.push_back(entry(i, kDay1 + i));
  for (int i = 10; i < 12; ++i) fresh.push_back(entry(i, kDay2 + i));
  for (Entry& e : old) ASSERT_TRUE(store.put(e, "m").has_value());
  for (Entry& e : fresh) ASSERT_TRUE(store.put(e, "m").has_value());
  auto n = store.purge(kDay2);
  ASSERT_TRUE(n.has_value()) << n.error();
  EXPECT_EQ(*n, 3u);
  for (const Entry& e : old) {
    EXPECT_FALSE(fs::exists(root.sub(e.path)));
    EXPECT_EQ(store.get(e.mail_id).value(), std::nullopt);
  }
  for (const Entry& e : fresh) EXPECT_TRUE(store.read_message(e).has_value());
  EXPECT_FALSE(fs::exists(root.sub("2026/11/27")));  // emptied day and hour dirs go
  EXPECT_EQ(store.list({})->size(), 2u);
  EXPECT_EQ(store.purge(kDay2).value_or(9), 0u);
}

TEST(QuarantineStore, PurgeSweepsOldOrphanFilesButNotFreshOnes) {
  TempRoot root;
  Store store = open_store(root.path());
  fs::create_directories(root.sub("2026/11/27/09"));
  std::string old_orphan = root.sub("2026/11/27/09/orphan______");
  std::string old_temp = root.sub("2026/11/27/09/.orphan2_____.aBcDeF");
  std::string fresh_orphan = root.sub("2026/11/27/09/inflight____");
  for (const std::string& p : {old_orphan, old_temp, fresh_orphan}) std::ofstream(p) << "x";
  auto past = fs::file_time_type::clock::now() - std::chrono::seconds(2 * kOrphanGrace);
  fs::last_write_time(old_orphan, past);
  fs::last_write_time(old_temp, past);
  EXPECT_EQ(store.purge(kDay2).value_or(9), 0u);
  EXPECT_FALSE(fs::exists(old_orphan));
  EXPECT_FALSE(fs::exists(old_temp));
  EXPECT_TRUE(fs::exists(fresh_orphan));  // a put() in flight: its row is coming
}

TEST(QuarantineStore, StatsCountPerUtcDayAndCategory) {
  TempRoot root;
  Store store = open_store(root.path());
  std::vector<Entry> entries = {entry(1, kDay1, "SPAM"), entry(2, kDay1 + 1, "SPAM"),
                                entry(3, kDay1 + 2, "INFECTED"), entry(4, kDay2, "SPAM")};
  for (Entry& e : entries) ASSERT_TRUE(store.put(e, "m").has_value());
  auto all = store.stats();
  ASSERT_TRUE(all.has_value()) << all.error();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].day, "2026-11-27");
  EXPECT_EQ((*all)[0].category, "INFECTED");
  EXPECT_EQ((*all)[0].count, 1u);
  EXPECT_EQ((*all)[1].category, "SPAM");
  EXPECT_EQ((*all)[1].count, 2u);
  EXPECT_EQ((*all)[2].day, "2026-11-28");
  EXPECT_EQ(store.stats(kDay2)->size(), 1u);
}

// --- failures ------------------------------------------------------------

TEST(QuarantineFailure, DirectoryThatCannotBeMadeFailsPutWithoutRow) {
  TempRoot root;
  Store store = open_store(root.path());
  std::ofstream(root.sub("2026")) << "a file where the year directory goes";
  Entry e = entry(1, kDay2);
  auto r = store.put(e, "m");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find(root.sub("2026/11")), std::string::npos) << r.error();
  EXPECT_EQ(store.get(e.mail_id).value(), std::nullopt);
  EXPECT_TRUE(store.list({})->empty());
}

// Root bypasses file permissions through CAP_DAC_OVERRIDE; a child process
// that drops it meets them like any other user.
bool drop_permission_override() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  for (int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER})
    data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
  return ::syscall(SYS_capset, &header, data) == 0;
}

TEST(QuarantineFailure, UnwritableRootFailsPutWithoutRow) {
  TempRoot root;
  Store store = open_store(root.path());  // keeps index.sqlite-wal and -shm in place
  ASSERT_EQ(::chmod(root.path().c_str(), 0555), 0);
  EXPECT_EXIT(
      {
        if (!drop_permission_override()) std::_Exit(2);
        auto child = Store::open(root.path());
        if (!child) std::_Exit(3);
        Entry e = entry(1, kDay2);
        auto r = child->put(e, "m");
        if (r) std::_Exit(4);
        std::fprintf(stderr, "%s\n", r.error().c_str());
        auto row = child->get(e.mail_id);
        std::_Exit(row && !*row ? 0 : 5);
      },
      ::testing::ExitedWithCode(0), "mkdir .*/2026: Permission denied");
  ::chmod(root.path().c_str(), 0755);
  EXPECT_TRUE(store.list({})->empty());
}

TEST(QuarantineFailure, FullDiskFailsPutWithoutRowOrFile) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay2);
  // RLIMIT_FSIZE makes write(2) fail with EFBIG, as a full disk fails it.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto r = store.put(e, std::string(1024 * 1024, 'x'));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("write"), std::string::npos) << r.error();
  EXPECT_EQ(store.get(e.mail_id).value(), std::nullopt);
  EXPECT_EQ(message_files(root.path()), 0u);  // nor the temp file
}

TEST(QuarantineFailure, DuplicateMailIdIsAnErrorAndKeepsTheOriginal) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry first = entry(1, kDay1), second = entry(1, kDay1);
  ASSERT_TRUE(store.put(first, "original").has_value());
  EXPECT_FALSE(store.put(second, "impostor").has_value());
  Entry later = entry(1, kDay2);  // another hour directory: the row clashes, not the file
  EXPECT_FALSE(store.put(later, "impostor").has_value());
  EXPECT_FALSE(fs::exists(root.sub(later.path)));
  EXPECT_EQ(store.read_message(first).value_or("error"), "original");
}

TEST(QuarantineFailure, BadMailIdIsRefusedBeforeItNamesAFile) {
  TempRoot root;
  Store store = open_store(root.path());
  for (std::string bad : {"../../etc/pw", "short", "has space 12", "toolongmailid", ""}) {
    Entry e = entry(1, kDay1);
    e.mail_id = bad;
    EXPECT_FALSE(store.put(e, "m").has_value()) << bad;
  }
  EXPECT_EQ(message_files(root.path()), 0u);
}

TEST(QuarantineFailure, CorruptGzipFileIsAReadErrorAndListStillWorks) {
  TempRoot root;
  Store store = open_store(root.path(), /*gzip=*/true);
  Entry e = entry(1, kDay1);
  ASSERT_TRUE(store.put(e, std::string(10000, 'm')).has_value());
  std::string file = slurp(root.sub(e.path));
  file[file.size() / 2] ^= 0x55;
  std::ofstream(root.sub(e.path), std::ios::binary | std::ios::trunc) << file;
  auto r = store.read_message(e);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find(e.path), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("gzip"), std::string::npos) << r.error();
  EXPECT_EQ(store.list({})->size(), 1u);
}

TEST(QuarantineFailure, TruncatedGzipFileIsAReadError) {
  TempRoot root;
  Store store = open_store(root.path(), /*gzip=*/true);
  Entry e = entry(1, kDay1);
  ASSERT_TRUE(store.put(e, std::string(10000, 'm')).has_value());
  fs::resize_file(root.sub(e.path), fs::file_size(root.sub(e.path)) - 4);
  EXPECT_FALSE(store.read_message(e).has_value());
}

TEST(QuarantineFailure, TruncatedPlainFileIsAReadError) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay1);
  ASSERT_TRUE(store.put(e, "Subject: x\n\nbody\n").has_value());
  fs::resize_file(root.sub(e.path), fs::file_size(root.sub(e.path)) - 2);
  auto r = store.read_message(e);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("the index 17"), std::string::npos) << r.error();
}

TEST(QuarantineFailure, FileWithoutPrependedFieldsIsAReadError) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay1);
  ASSERT_TRUE(store.put(e, "m").has_value());
  std::ofstream(root.sub(e.path), std::ios::trunc) << "Subject: not ours\n\nm";
  auto r = store.read_message(e);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("not a quarantine file"), std::string::npos) << r.error();
}

TEST(QuarantineFailure, MissingFileIsAReadErrorAndListStillWorks) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay1);
  ASSERT_TRUE(store.put(e, "m").has_value());
  fs::remove(root.sub(e.path));
  auto r = store.read_message(e);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("No such file"), std::string::npos) << r.error();
  EXPECT_EQ(store.list({})->size(), 1u);
  EXPECT_EQ(store.remove(e.mail_id).value_or(false), true);
}

TEST(QuarantineFailure, PathOutsideTheLayoutIsNotOpened) {
  TempRoot root;
  Store store = open_store(root.path());
  Entry e = entry(1, kDay1);
  e.path = "../../etc/passwd";
  e.size = 1;
  auto r = store.read_message(e);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("bad path"), std::string::npos) << r.error();
}

TEST(QuarantineOpen, MissingRootWithoutCreateIsAnError) {
  TempRoot root;
  auto s = Store::open(root.sub("absent"), StoreOptions{.create = false});
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().find("absent"), std::string::npos) << s.error();
  EXPECT_FALSE(fs::exists(root.sub("absent")));
}

TEST(QuarantineOpen, CreatesNestedRootAndReopens) {
  TempRoot root;
  Entry e = entry(1, kDay1);
  {
    Store store = open_store(root.sub("a/b/quarantine/"));
    EXPECT_EQ(store.root(), root.sub("a/b/quarantine"));
    ASSERT_TRUE(store.put(e, "m").has_value());
  }
  auto again = Store::open(root.sub("a/b/quarantine"), StoreOptions{.create = false});
  ASSERT_TRUE(again.has_value()) << again.error();
  EXPECT_EQ(again->read_message(again->get(e.mail_id)->value()).value_or("error"), "m");
}

int64_t pragma(const std::string& db_path, const char* sql) {
  sqlite3* db = nullptr;
  int64_t v = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return v;
}

TEST(QuarantineOpen, IndexIsVersionedAndAFutureVersionIsRefused) {
  TempRoot root;
  { open_store(root.path()); }
  std::string db = root.sub("index.sqlite");
  EXPECT_EQ(pragma(db, "PRAGMA user_version"), 1);
  pragma(db, "PRAGMA user_version = 99");
  auto s = Store::open(root.path());
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().find("schema version 99 is newer than 1"), std::string::npos) << s.error();
}

TEST(QuarantineSecret, IdsAreTwelveUrlSafeCharactersAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string s = new_secret_id();
    ASSERT_EQ(s.size(), 12u);
    EXPECT_EQ(
        s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

// --- concurrency ---------------------------------------------------------

// Every row has a readable file and every file a row.
void expect_consistent(const Store& store, const std::string& root) {
  auto all = store.list(Filter{.limit = 0});
  ASSERT_TRUE(all.has_value()) << all.error();
  for (const Entry& e : *all) EXPECT_TRUE(store.read_message(e).has_value()) << e.mail_id;
  EXPECT_EQ(all->size(), message_files(root));
}

TEST(QuarantineConcurrency, WriterThreadsAndAPurgerKeepIndexAndFilesInStep) {
  TempRoot root;
  Store store = open_store(root.path(), /*gzip=*/true);
  constexpr int kThreads = 4, kPuts = 200;
  std::atomic<int> failures{0}, done{0};
  std::atomic<uint64_t> purged{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPuts; ++i) {
        int n = t * kPuts + i;
        Entry e = entry(n, (n % 2 == 0 ? kDay1 : kDay2) + n);  // half of them purgeable
        if (!store.put(e, "Subject: " + std::to_string(n) + "\n\nbody\n")) ++failures;
      }
      ++done;
    });
  }
  std::thread purger([&] {
    while (done < kThreads) {
      auto n = store.purge(kDay2);
      if (!n)
        ++failures;
      else
        purged += *n;
    }
  });
  for (auto& w : writers) w.join();
  purger.join();
  purged += store.purge(kDay2).value_or(0);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(purged, uint64_t{kThreads * kPuts / 2});
  expect_consistent(store, root.path());
  EXPECT_EQ(store.list(Filter{.limit = 0})->size(), size_t{kThreads * kPuts / 2});
}

TEST(QuarantineConcurrency, TwoStoresOnOneRootSeeEachOtherAndStayConsistent) {
  TempRoot root;
  Store writer = open_store(root.path());
  Store admin = open_store(root.path());
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread t([&] {
    for (int n = 0; n < 300; ++n) {
      Entry e = entry(n, (n % 3 == 0 ? kDay1 : kDay2) + n);
      if (auto r = writer.put(e, "m\r\n"); !r) {
        ++failures;
        ADD_FAILURE() << "put " << n << ": " << r.error();
      }
    }
    done = true;
  });
  uint64_t purged = 0;
  while (!done) {
    auto n = admin.purge(kDay2);
    if (!n) {
      ++failures;
      ADD_FAILURE() << "purge: " << n.error();
    } else {
      purged += *n;
    }
    if (auto l = admin.list(Filter{.sender = "x.test", .limit = 10}); !l) {
      ++failures;
      ADD_FAILURE() << "list: " << l.error();
    }
  }
  t.join();
  purged += admin.purge(kDay2).value_or(0);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(purged, 100u);
  ASSERT_TRUE(admin.get(id(1)).has_value());
  EXPECT_TRUE(admin.get(id(1))->has_value());  // written by the other Store
  expect_consistent(admin, root.path());
  expect_consistent(writer, root.path());
  EXPECT_EQ(admin.list(Filter{.limit = 0})->size(), 200u);
}

}  // namespace
}  // namespace filterd::quarantine
