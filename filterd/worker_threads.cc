// worker_threads.cc — see worker_threads.h.
#include "filterd/worker_threads.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cstring>
#include <latch>
#include <thread>

namespace filterd {

std::vector<int> usable_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
  if (cpus.empty()) {
    const unsigned n = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned cpu = 0; cpu < n; ++cpu) cpus.push_back(static_cast<int>(cpu));
  }
  return cpus;
}

bool set_up_workers(boost::asio::thread_pool& pool, unsigned threads, bool pin) {
  const std::vector<int> cpus = usable_cpus();
  // More workers than CPUs: two bound to one CPU could not move to an idle
  // one, the very thing binding is for; the kernel places them instead.
  if (threads > cpus.size()) pin = false;
  // Every job waits until all have started: so each runs on a thread of
  // its own, and the pool is idle again when this returns.
  std::latch started(threads);
  std::latch done(threads);
  for (unsigned i = 0; i < threads; ++i) {
    boost::asio::post(pool, [&, i] {
      started.arrive_and_wait();
      ::pthread_setname_np(::pthread_self(), "filterd-worker");
      if (pin) {
        const int cpu = cpus[i];
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (int err = ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set); err != 0) {
          spdlog::warn("worker {}: cannot bind to CPU {}: {}", i, cpu, std::strerror(err));
        }
      }
      done.count_down();
    });
  }
  done.wait();
  return pin;
}

}  // namespace filterd
