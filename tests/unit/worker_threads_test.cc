// The scanning threads: named, and bound one CPU each when asked.
#include "filterd/worker_threads.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <boost/asio/post.hpp>
#include <latch>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace filterd {
namespace {

struct ThreadFacts {
  std::string name;
  std::vector<int> cpus;  // its affinity mask
};

// What each of the pool's `n` threads says about itself: one job per
// thread, held until all have started.
std::vector<ThreadFacts> facts_of(boost::asio::thread_pool& pool, unsigned n) {
  std::vector<ThreadFacts> out;
  std::mutex mu;
  std::latch started(n), done(n);
  for (unsigned i = 0; i < n; ++i) {
    boost::asio::post(pool, [&] {
      started.arrive_and_wait();
      ThreadFacts f;
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      f.name = name;
      cpu_set_t set;
      CPU_ZERO(&set);
      pthread_getaffinity_np(pthread_self(), sizeof set, &set);
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) f.cpus.push_back(cpu);
      }
      {
        std::lock_guard lock(mu);
        out.push_back(f);
      }
      done.count_down();
    });
  }
  done.wait();
  return out;
}

TEST(WorkerThreads, UsableCpusAreThisProcesssAffinityMask) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  std::vector<int> cpus = usable_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_EQ(cpus.size(), static_cast<size_t>(CPU_COUNT(&set)));
  for (int cpu : cpus) EXPECT_TRUE(CPU_ISSET(cpu, &set)) << cpu;
}

TEST(WorkerThreads, PinnedWorkersAreNamedAndEachBoundToAUsableCpuOfItsOwn) {
  const std::vector<int> cpus = usable_cpus();
  const unsigned n = static_cast<unsigned>(cpus.size());
  boost::asio::thread_pool pool(n);
  EXPECT_TRUE(set_up_workers(pool, n, true));
  std::vector<ThreadFacts> facts = facts_of(pool, n);
  ASSERT_EQ(facts.size(), n);
  std::set<int> bound;
  for (const ThreadFacts& f : facts) {
    EXPECT_EQ(f.name, "filterd-worker");
    ASSERT_EQ(f.cpus.size(), 1u);
    bound.insert(f.cpus.front());
  }
  EXPECT_EQ(bound, std::set<int>(cpus.begin(), cpus.end()));
  pool.join();
}

TEST(WorkerThreads, MoreWorkersThanCpusAreLeftToTheKernel) {
  const unsigned n = static_cast<unsigned>(usable_cpus().size()) + 1;
  boost::asio::thread_pool pool(n);
  EXPECT_FALSE(set_up_workers(pool, n, true));  // so the start-up line does not say "bound"
  for (const ThreadFacts& f : facts_of(pool, n)) {
    EXPECT_EQ(f.name, "filterd-worker");
    EXPECT_EQ(f.cpus, usable_cpus());
  }
  pool.join();
}

TEST(WorkerThreads, UnpinnedWorkersKeepTheWholeMask) {
  boost::asio::thread_pool pool(2);
  EXPECT_FALSE(set_up_workers(pool, 2, false));
  for (const ThreadFacts& f : facts_of(pool, 2)) {
    EXPECT_EQ(f.name, "filterd-worker");
    EXPECT_EQ(f.cpus, usable_cpus());
  }
  pool.join();
}

}  // namespace
}  // namespace filterd
