// A message's receive time (DATA's 354 to its final dot), with a real
// session driven the way drive_session() drives it and explicit time
// points: no wall clock.
#include "filterd/receive_stopwatch.h"

#include <gtest/gtest.h>

#include <memory>

namespace filterd {
namespace {

using smtp::ServerSession;
using std::chrono::seconds;
using Clock = ReceiveStopwatch::Clock;

const Clock::time_point kT0{seconds(1000)};
constexpr const char* kEnvelope = "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n";

class ReceiveStopwatchTest : public ::testing::Test {
 protected:
  ReceiveStopwatchTest() {
    smtp::SessionOptions o;
    o.limits.max_message_size = 100;
    session_ = std::make_unique<ServerSession>(o);
    session_->feed("EHLO mta.test\r\n");
  }
  // One read from the client at `at`, as drive_session() handles it.
  void read_at(Clock::time_point at, std::string_view bytes) {
    session_->feed(bytes);
    stopwatch_.note(*session_, at);
  }
  // The ready transaction, seen at `at`: its receive time.
  Clock::duration take_at(Clock::time_point at) {
    EXPECT_TRUE(session_->transaction_ready());
    (void)session_->take_transaction();
    return stopwatch_.stop(at);
  }
  // Its verdict, 250, at `at` (the session goes on with pipelined input).
  void answer_at(Clock::time_point at) {
    session_->finish_data({smtp::Reply{250, "2.0.0", "Ok"}});
    stopwatch_.note(*session_, at);
  }
  std::unique_ptr<ServerSession> session_;
  ReceiveStopwatch stopwatch_;
};

TEST_F(ReceiveStopwatchTest, AMessageTakesFromItsDataToItsFinalDot) {
  read_at(kT0, kEnvelope);
  read_at(kT0 + seconds(2), "Subject: a\r\n\r\nbody\r\n");
  read_at(kT0 + seconds(5), ".\r\n");
  EXPECT_EQ(take_at(kT0 + seconds(5)), seconds(5));
}

TEST_F(ReceiveStopwatchTest, AMessageRefusedAtItsDotDoesNotCountInTheNextOnesTime) {
  read_at(kT0, kEnvelope);
  read_at(kT0 + seconds(10), std::string(200, 'x') + "\r\n.\r\n");  // over max_message_size
  ASSERT_EQ(session_->state(), ServerSession::State::kCommand);     // 552, no transaction
  read_at(kT0 + seconds(20), kEnvelope);
  read_at(kT0 + seconds(23), "Subject: b\r\n\r\nbody\r\n.\r\n");
  EXPECT_EQ(take_at(kT0 + seconds(23)), seconds(3));
}

TEST_F(ReceiveStopwatchTest, ARefusedDotWithTheNextDataInTheSameReadStartsTheNextOneThere) {
  read_at(kT0, kEnvelope);
  read_at(kT0 + seconds(10), std::string(200, 'x') + "\r\n.\r\n" + kEnvelope);  // 552, 354
  ASSERT_EQ(session_->state(), ServerSession::State::kData);
  read_at(kT0 + seconds(13), "Subject: b\r\n\r\nbody\r\n.\r\n");
  EXPECT_EQ(take_at(kT0 + seconds(13)), seconds(3));
}

TEST_F(ReceiveStopwatchTest, ANextMessagePipelinedAfterTheDotStartsWhenThePreviousIsAnswered) {
  read_at(kT0, kEnvelope);
  read_at(kT0 + seconds(1), std::string("Subject: a\r\n\r\n.\r\n") + kEnvelope);
  EXPECT_EQ(take_at(kT0 + seconds(1)), seconds(1));
  answer_at(kT0 + seconds(4));  // the 354 of the buffered DATA goes out with this 250
  ASSERT_EQ(session_->state(), ServerSession::State::kData);
  read_at(kT0 + seconds(6), "Subject: b\r\n\r\n.\r\n");
  EXPECT_EQ(take_at(kT0 + seconds(6)), seconds(2));
}

TEST_F(ReceiveStopwatchTest, DataAndItsDotInOneReadTakeNoTime) {
  read_at(kT0, std::string(kEnvelope) + "Subject: a\r\n\r\n.\r\n");
  EXPECT_EQ(take_at(kT0), seconds(0));
  answer_at(kT0 + seconds(1));
  read_at(kT0 + seconds(2), kEnvelope);
  read_at(kT0 + seconds(3), "Subject: b\r\n\r\n.\r\n");
  EXPECT_EQ(take_at(kT0 + seconds(3)), seconds(1));
}

TEST(ReceiveStopwatch, NeverStartedItMeasuresZero) {
  ReceiveStopwatch stopwatch;
  EXPECT_EQ(stopwatch.stop(kT0), seconds(0));
}

}  // namespace
}  // namespace filterd
