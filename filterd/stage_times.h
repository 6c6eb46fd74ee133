// stage_times.h — where one message's time went, stage by stage, for its
// summary line (and so for bench/, which reads the lines back).
//
// Stages, in the order a message meets them:
//   receive     DATA: from the 354 to the final dot (the client's pace)
//   queue       waiting for a free worker thread
//   decode      MIME parse, transfer decoding, archives (one walk)
//   scan        the virus scanner on the raw message and the parts
//   spam        the spam rules (on another worker, beside decode and scan)
//   policy      attachment removal and its rescan, decisions, plans
//   quarantine  the durable write of a blocked message
//   forward     reinjection, DSNs and notices
// The total on the line runs from the end of DATA to the verdict's
// delivery: the latency filterd adds. It is not the stages' sum: spam runs
// beside decode and scan, and receive comes before it.
#pragma once

#include <chrono>
#include <string>

namespace filterd {

struct StageTimes {
  using Clock = std::chrono::steady_clock;
  using Duration = Clock::duration;
  Duration receive{}, queue{}, decode{}, scan{}, spam{}, policy{}, quarantine{}, forward{};
};

// "4.3 ms (receive 0.3, queue 0.0, decode 0.2, scan 1.1, spam 2.4,
// policy 0.0, quarantine 0.0, forward 0.5)": milliseconds, one decimal.
std::string format_stage_times(StageTimes::Duration total, const StageTimes& t);

}  // namespace filterd
