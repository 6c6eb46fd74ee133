// The stage times at the end of every summary line: the form bench/filterd_log.py reads.
#include "filterd/stage_times.h"

#include <gtest/gtest.h>

namespace filterd {
namespace {

using std::chrono::microseconds;

TEST(StageTimes, EveryStageInMillisecondsWithOneDecimalInTheOrderAMessageMeetsThem) {
  StageTimes t;
  t.receive = microseconds(250);
  t.queue = microseconds(0);
  t.decode = microseconds(1'049);
  t.scan = microseconds(12'345);
  t.spam = microseconds(2'460);
  t.policy = microseconds(40);
  t.quarantine = microseconds(3'000);
  t.forward = microseconds(999);
  EXPECT_EQ(format_stage_times(microseconds(19'960), t),
            "20.0 ms (receive 0.2, queue 0.0, decode 1.0, scan 12.3, spam 2.5, policy 0.0, "
            "quarantine 3.0, forward 1.0)");
}

TEST(StageTimes, AMessageThatSkippedStagesShowsThemAsZero) {
  EXPECT_EQ(format_stage_times(microseconds(1'500), StageTimes{}),
            "1.5 ms (receive 0.0, queue 0.0, decode 0.0, scan 0.0, spam 0.0, policy 0.0, "
            "quarantine 0.0, forward 0.0)");
}

}  // namespace
}  // namespace filterd
