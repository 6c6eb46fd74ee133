// receive_stopwatch.cc — see receive_stopwatch.h.
#include "filterd/receive_stopwatch.h"

namespace filterd {
using State = smtp::ServerSession::State;

void ReceiveStopwatch::note(const smtp::ServerSession& session, Clock::time_point now) {
  if (session.state() != State::kData && !session.transaction_ready()) return;
  // Only the session's latest DATA can have put it here. Its state alone
  // cannot tell: a refused dot and the next MAIL, RCPT and DATA may be
  // one read (RFC 2920 lets message content begin a pipelined group).
  const unsigned data_command = session.command_counts().attempted[smtp::CommandCounts::kData];
  if (!since_ || since_->data_command != data_command) since_ = Start{now, data_command};
}

ReceiveStopwatch::Clock::duration ReceiveStopwatch::stop(Clock::time_point now) {
  const Clock::duration took = since_ ? now - since_->at : Clock::duration{};
  since_.reset();
  return took;
}

}  // namespace filterd
