#include "core/parallel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#ifdef __linux__
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace driftscope {
namespace {

TEST(ParallelContext, CallsEveryIndexExactlyOnceWithTwoThreads) {
  ParallelContext parallel(2);
  std::vector<std::atomic<int>> calls(1000);
  parallel.forEach(1000, [&](int i) { calls[static_cast<std::size_t>(i)].fetch_add(1); });
  for (std::size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i].load(), 1) << "index " << i;
}

TEST(ParallelContext, OneThreadRunsInlineOnTheCaller) {
  ParallelContext parallel(1);
  const std::thread::id caller = std::this_thread::get_id();
  std::vector<int> order;
  parallel.forEach(5, [&](int i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(i);
  });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

// The contract the callers rely on (and that core/parallel.cpp spells out for
// ThreadSanitizer): plain writes made before forEach are seen by every call, and each
// call's plain writes are seen after forEach returns. Several rounds reuse the buffers the
// way the trainer's per-chunk workspaces do. In the tsan preset this is the test that
// reports if the fork/join annotations are missing; in every build it checks the values.
TEST(ParallelContext, WritesBeforeForEachReachEveryCallAndCallWritesReachTheCaller) {
  constexpr int kCalls = 16;
  ParallelContext parallel(2);
  std::vector<int> input(kCalls);
  std::vector<int> output(kCalls, 0);
  for (int round = 1; round <= 5; ++round) {
    for (int i = 0; i < kCalls; ++i) input[static_cast<std::size_t>(i)] = round * 100 + i;
    parallel.forEach(kCalls, [&](int i) {
      // Long enough for the second thread to take part.
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      output[static_cast<std::size_t>(i)] = 2 * input[static_cast<std::size_t>(i)];
    });
    for (int i = 0; i < kCalls; ++i) {
      ASSERT_EQ(output[static_cast<std::size_t>(i)], 2 * (round * 100 + i))
          << "round " << round << ", index " << i;
    }
  }
}

#ifdef __linux__
// The nice value of a thread, by its id (-100 if it cannot be read).
int niceOf(pid_t tid) {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  return nice == -1 && errno != 0 ? -100 : nice;
}

// The analysis threads' lower priority is theirs alone: the thread that asks for it gets
// kBackgroundNiceIncrement more (at most 19), the others keep theirs.
TEST(LowerCurrentThreadPriority, RaisesTheNiceValueOfTheCallingThreadOnly) {
  const pid_t self = gettid();
  const int before = niceOf(self);
  ASSERT_NE(before, -100);
  int workerBefore = 0;
  int workerAfter = 0;
  bool lowered = false;
  std::atomic<pid_t> worker{0};  // set once the values above are
  std::atomic<bool> done{false};
  std::thread t([&] {
    const pid_t me = gettid();
    workerBefore = niceOf(me);
    lowered = lowerCurrentThreadPriority();
    workerAfter = niceOf(me);
    worker.store(me);
    while (!done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (worker.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int seenFromOutside = niceOf(worker.load());  // while the thread still runs
  done.store(true);
  t.join();
  ASSERT_TRUE(lowered);
  EXPECT_EQ(workerBefore, before);  // a new thread starts with its creator's
  EXPECT_EQ(workerAfter, std::min(19, before + kBackgroundNiceIncrement));
  EXPECT_EQ(seenFromOutside, workerAfter);
  EXPECT_EQ(niceOf(self), before);
}
#endif

}  // namespace
}  // namespace driftscope
