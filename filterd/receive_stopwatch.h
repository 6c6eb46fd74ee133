// receive_stopwatch.h — one message's receive time, from DATA's 354 to the
// final dot, for its summary line (StageTimes::receive). drive_session()
// shows it the session's state after each read and after each finished
// transaction; it keeps no clock of its own (the caller passes `now`), so
// it is tested with plain time points.
#pragma once

#include <chrono>
#include <optional>

#include "smtp/server_session.h"

namespace filterd {

class ReceiveStopwatch {
 public:
  using Clock = std::chrono::steady_clock;

  // The session is in `state` at `now`. In DATA, or holding a transaction
  // (DATA and its dot arrived in one read), it starts, unless already
  // running. Back to commands without a transaction (a message refused at
  // its dot), it forgets its start, so the next message's time does not
  // include this one's.
  void note(smtp::ServerSession::State state, Clock::time_point now);

  // The ready transaction's receive time, and the stopwatch is cleared.
  // Zero when it never started. REQUIRES: the session holds a transaction.
  Clock::duration stop(Clock::time_point now);

 private:
  std::optional<Clock::time_point> since_;
};

}  // namespace filterd
