// Tests of frontd's durable queue: file format, store, restart, corrupt
// files, and disk failures injected through SafeIo.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "frontd/queue_file.h"
#include "frontd/queue_store.h"

namespace filterd::frontd {
namespace {
namespace fs = std::filesystem;

QueuedMessage sample() {
  QueuedMessage m;
  m.arrival_ms = 1700000000123;
  m.stage = Stage::kFilter;
  m.client = "unknown[192.0.2.1]";
  m.helo = "client with space";
  m.envelope.sender = "alice@example.test";
  m.envelope.ret = "HDRS";
  m.envelope.envid = "abc+2Bdef";
  m.envelope.body = "8BITMIME";
  m.envelope.smtputf8 = true;
  m.envelope.xforward.addr = "192.0.2.1";
  m.envelope.xforward.helo = "h";
  m.envelope.recipients.push_back({"bob@example.test", "SUCCESS,FAILURE", "rfc822;bob@x"});
  m.envelope.recipients.push_back({"carol@example.test", "", ""});
  m.data = "Subject: hi\r\n\r\nbody\r\n.\r\n\r\n";
  return m;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/frontd-queue-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Fails the chosen operation, as a full disk or an I/O error would.
class FailingIo : public PosixIo {
 public:
  bool fail_write = false, fail_remove = false;
  std::expected<void, IoError> write_atomic(const std::string& path, std::string_view data,
                                            bool exclusive) override {
    if (fail_write) return std::unexpected(IoError{ENOSPC, "write: No space left on device"});
    return PosixIo::write_atomic(path, data, exclusive);
  }
  std::expected<void, IoError> remove(const std::string& path) override {
    if (fail_remove) return std::unexpected(IoError{EIO, "unlink: Input/output error"});
    return PosixIo::remove(path);
  }
};

TEST(QueueFile, RoundTripKeepsEveryEnvelopeFieldAndTheExactBytes) {
  QueuedMessage m = sample();
  m.id = "0123456789AB";
  auto back = parse_message(encode_message(m));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->id, m.id);
  EXPECT_EQ(back->arrival_ms, m.arrival_ms);
  EXPECT_EQ(back->stage, Stage::kFilter);
  EXPECT_EQ(back->client, m.client);
  EXPECT_EQ(back->helo, m.helo);
  EXPECT_EQ(back->envelope.sender, m.envelope.sender);
  EXPECT_EQ(back->envelope.ret, "HDRS");
  EXPECT_EQ(back->envelope.envid, m.envelope.envid);
  EXPECT_EQ(back->envelope.body, "8BITMIME");
  EXPECT_TRUE(back->envelope.smtputf8);
  EXPECT_EQ(back->envelope.xforward.addr, "192.0.2.1");
  ASSERT_EQ(back->envelope.recipients.size(), 2u);
  EXPECT_EQ(back->envelope.recipients[0].notify, "SUCCESS,FAILURE");
  EXPECT_EQ(back->envelope.recipients[0].orcpt, "rfc822;bob@x");
  EXPECT_EQ(back->envelope.recipients[1].address, "carol@example.test");
  EXPECT_EQ(back->data, m.data);
}

TEST(QueueFile, NullSenderSurvivesTheRoundTrip) {
  QueuedMessage m = sample();
  m.id = "0123456789AB";
  m.envelope.sender = "";
  auto back = parse_message(encode_message(m));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->envelope.sender, "");
}

TEST(QueueFile, TruncatedFileIsAnErrorAtEveryLength) {
  QueuedMessage m = sample();
  m.id = "0123456789AB";
  const std::string file = encode_message(m);
  for (size_t n = 0; n < file.size(); ++n) {
    EXPECT_FALSE(parse_message(std::string_view(file).substr(0, n))) << "length " << n;
  }
}

TEST(QueueFile, GarbageAndHostileSizesAreErrorsNotCrashes) {
  EXPECT_FALSE(parse_message(""));
  EXPECT_FALSE(parse_message("frontd-queue 1\n\n"));
  EXPECT_FALSE(
      parse_message("frontd-queue 1\nid 0123456789AB\narrival 1\nstage deliver\nrcpt a@b - -\n"
                    "size 18446744073709551615\n\nx"));
  EXPECT_FALSE(parse_message("frontd-queue 1\nid 0123456789AB\nbogus record\n\n"));
  EXPECT_FALSE(
      parse_message("frontd-queue 1\nid 0123456789AB\narrival 1\nstage deliver\n"
                    "size 0\n\n"));  // no recipients
}

TEST(QueueFile, StatusRoundTripAndTruncation) {
  QueueStatus s;
  s.attempts = 3;
  s.next_attempt = 1700000300;
  s.done = {0, 2};
  s.reason = "451 4.4.1 connect to 127.0.0.1:10024: Connection refused";
  const std::string file = encode_status(s);
  auto back = parse_status(file);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->attempts, 3u);
  EXPECT_EQ(back->next_attempt, 1700000300);
  EXPECT_EQ(back->done, (std::set<size_t>{0, 2}));
  EXPECT_EQ(back->reason, s.reason);
  EXPECT_FALSE(parse_status(file.substr(0, file.size() - 4)));
}

TEST(QueueStore, EnqueuedMessageIsOnDiskUnderItsIdAndSurvivesReopening) {
  TempDir dir;
  PosixIo io;
  std::string id;
  {
    auto store = QueueStore::open(dir.path(), io);
    ASSERT_TRUE(store) << store.error();
    QueuedMessage m = sample();
    ASSERT_TRUE(store->enqueue(m));
    id = m.id;
    EXPECT_TRUE(valid_queue_id(id)) << id;
    EXPECT_TRUE(fs::exists(store->message_path(id)));
    QueueStatus st;
    st.attempts = 1;
    st.done = {1};
    ASSERT_TRUE(store->save_status(id, st));
  }
  auto store = QueueStore::open(dir.path(), io);  // "restart"
  ASSERT_TRUE(store);
  std::vector<std::string> problems;
  auto entries = store->scan(problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].header.id, id);
  EXPECT_TRUE(entries[0].header.data.empty()) << "scan reads headers only";
  EXPECT_EQ(entries[0].status.done, (std::set<size_t>{1}));
  auto full = store->load(id);
  ASSERT_TRUE(full) << full.error();
  EXPECT_EQ(full->data, sample().data);
}

TEST(QueueStore, IdsAreUniqueAndATakenIdIsNeverOverwritten) {
  TempDir dir;
  PosixIo io;
  auto store = QueueStore::open(dir.path(), io);
  std::set<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    QueuedMessage m = sample();
    ASSERT_TRUE(store->enqueue(m));
    EXPECT_TRUE(ids.insert(m.id).second) << m.id;
  }
  QueuedMessage again = sample();
  again.id = *ids.begin();
  auto r = store->enqueue(again);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, EEXIST);
}

TEST(QueueStore, CorruptQueueFileIsMovedAsideAndReportedNotLoaded) {
  TempDir dir;
  PosixIo io;
  auto store = QueueStore::open(dir.path(), io);
  QueuedMessage good = sample();
  ASSERT_TRUE(store->enqueue(good));
  // A truncated copy under another valid id, and garbage under a third.
  std::string file = encode_message(good);
  std::ofstream(dir.path() + "/queue/AAAAAAAAAAAA") << file.substr(0, file.size() - 3);
  std::ofstream(dir.path() + "/queue/BBBBBBBBBBBB") << "\x01\x02 not a queue file";
  std::ofstream(dir.path() + "/queue/CCCCCCCCCCCC.tmp.1.2") << "leftover";
  std::vector<std::string> problems;
  auto entries = store->scan(problems);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].header.id, good.id);
  ASSERT_EQ(problems.size(), 2u);
  for (const auto& p : problems) EXPECT_NE(p.find("moved to corrupt/"), std::string::npos) << p;
  EXPECT_TRUE(fs::exists(dir.path() + "/corrupt/AAAAAAAAAAAA"));
  EXPECT_TRUE(fs::exists(dir.path() + "/corrupt/BBBBBBBBBBBB"));
  EXPECT_FALSE(fs::exists(dir.path() + "/queue/CCCCCCCCCCCC.tmp.1.2")) << "temp files are swept";
}

TEST(QueueStore, BrokenStatusFileMeansRetryEveryRecipientNotLoss) {
  TempDir dir;
  PosixIo io;
  auto store = QueueStore::open(dir.path(), io);
  QueuedMessage m = sample();
  ASSERT_TRUE(store->enqueue(m));
  std::ofstream(store->status_path(m.id)) << "frontd-status 1\nattempts 2\n";  // cut short
  std::vector<std::string> problems;
  auto entries = store->scan(problems);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(entries[0].status.done.empty());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("retrying every recipient"), std::string::npos);
}

TEST(QueueStore, FailedWriteLeavesNothingBehindAndIsReported) {
  TempDir dir;
  FailingIo io;
  auto store = QueueStore::open(dir.path(), io);
  io.fail_write = true;
  QueuedMessage m = sample();
  auto r = store->enqueue(m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, ENOSPC);
  std::vector<std::string> problems;
  EXPECT_TRUE(store->scan(problems).empty());
}

TEST(QueueStore, FailedRemoveKeepsTheMessage) {
  TempDir dir;
  FailingIo io;
  auto store = QueueStore::open(dir.path(), io);
  QueuedMessage m = sample();
  ASSERT_TRUE(store->enqueue(m));
  io.fail_remove = true;
  EXPECT_FALSE(store->remove(m.id));
  std::vector<std::string> problems;
  EXPECT_EQ(store->scan(problems).size(), 1u);
  io.fail_remove = false;
  EXPECT_TRUE(store->remove(m.id));
  EXPECT_TRUE(store->scan(problems).empty());
}

TEST(QueueStore, QueueFilesArePrivate) {
  TempDir dir;
  PosixIo io;
  auto store = QueueStore::open(dir.path(), io);
  QueuedMessage m = sample();
  ASSERT_TRUE(store->enqueue(m));
  struct stat st {};
  ASSERT_EQ(::stat(store->message_path(m.id).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace filterd::frontd
