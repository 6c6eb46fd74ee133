// receive_stopwatch.cc — see receive_stopwatch.h.
#include "filterd/receive_stopwatch.h"

namespace filterd {
using State = smtp::ServerSession::State;

void ReceiveStopwatch::note(State state, Clock::time_point now) {
  if (state == State::kCommand) {
    since_.reset();
  } else if (!since_ && (state == State::kData || state == State::kAwaitingVerdict)) {
    since_ = now;
  }
}

ReceiveStopwatch::Clock::duration ReceiveStopwatch::stop(Clock::time_point now) {
  const Clock::duration took = since_ ? now - *since_ : Clock::duration{};
  since_.reset();
  return took;
}

}  // namespace filterd
