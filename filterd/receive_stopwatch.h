// receive_stopwatch.h — one message's receive time, from DATA's 354 to the
// final dot, for its summary line (StageTimes::receive). drive_session()
// shows it the session after each read and after each finished
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

  // `session` as it is at `now`. In DATA, or holding a transaction (DATA
  // and its dot arrived in one read), it starts, unless it already runs
  // for this same DATA command. A start that belongs to an earlier DATA
  // (a message refused at its dot, with the next DATA pipelined in the
  // same read or not) is forgotten, so it never counts in the next
  // message's time.
  void note(const smtp::ServerSession& session, Clock::time_point now);

  // The ready transaction's receive time, and the stopwatch is cleared.
  // Zero when it never started. REQUIRES: the session holds a transaction.
  Clock::duration stop(Clock::time_point now);

 private:
  struct Start {
    Clock::time_point at;
    unsigned data_command;  // which DATA of the session (CommandCounts::attempted)
  };
  std::optional<Start> since_;
};

}  // namespace filterd
