// stage_times.cc — see stage_times.h.
#include "filterd/stage_times.h"

#include <fmt/format.h>

namespace filterd {
namespace {

double ms(StageTimes::Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

std::string format_stage_times(StageTimes::Duration total, const StageTimes& t) {
  return fmt::format(
      "{:.1f} ms (receive {:.1f}, queue {:.1f}, decode {:.1f}, scan {:.1f}, spam {:.1f}, "
      "policy {:.1f}, quarantine {:.1f}, forward {:.1f})",
      ms(total), ms(t.receive), ms(t.queue), ms(t.decode), ms(t.scan), ms(t.spam), ms(t.policy),
      ms(t.quarantine), ms(t.forward));
}

}  // namespace filterd
