// worker_threads.h — the scanning threads: how many, their names, and the
// CPU each one runs on.
//
// Why pin: a message's spam rules and its virus scan are posted to two
// workers at once. The kernel places a woken thread by its own heuristics
// and, on a small machine, often queues the second worker behind the first
// on one CPU while the other CPU idles: measured on the 2-core bench VM at
// concurrency 1, the scan then waited 0.85 ms on average for the spam rules
// to finish (bench/compare, stage "queue"), 0.00 ms with each worker bound
// to a CPU of its own. Sites that share the CPUs with other heavy work can
// turn it off (worker_cpu_affinity = no).
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <vector>

namespace filterd {

// The CPUs this process may run on (its affinity mask: taskset, cgroup
// cpusets), ascending; never empty (all online CPUs if it cannot be read).
std::vector<int> usable_cpus();

// Names each of the `threads` threads of `pool` "filterd-worker" (top -H,
// ps -L) and, with `pin` and no more threads than usable CPUs, binds the
// i-th to usable_cpus()[i]. Waits until every thread has done so. A CPU
// that cannot be set is logged and left to the kernel. Returns whether the
// threads were bound (false without `pin` or with more threads than CPUs).
// REQUIRES: `pool` has exactly `threads` threads and nothing queued yet.
bool set_up_workers(boost::asio::thread_pool& pool, unsigned threads, bool pin);

}  // namespace filterd
