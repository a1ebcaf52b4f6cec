// The one seam through which Driftscope uses threads (oneTBB). Every parallel loop in
// core/ goes through ParallelContext::forEach: with 1 thread it runs inline on the
// caller, otherwise in a tbb::task_arena of exactly `threads` workers, so a context
// never oversubscribes the machine. Work is split by the CALLER into a fixed number of
// chunks that does not depend on the thread count, and results are reduced by the
// caller in chunk order: a seed gives bit-identical results with 1 or N threads.
// Eigen must stay single-threaded inside tasks (EIGEN_DONT_PARALLELIZE, no OpenMP).
// Thread-safety: forEach may be called from one thread at a time per context.
#pragma once

#include <functional>
#include <memory>

namespace driftscope {

class ParallelContext {
 public:
  explicit ParallelContext(int threads = 1);
  ~ParallelContext();
  ParallelContext(const ParallelContext&) = delete;
  ParallelContext& operator=(const ParallelContext&) = delete;

  int threads() const { return m_threads; }
  // Calls fn(i) for i in [0, n); returns when all calls are done.
  void forEach(int n, const std::function<void(int)>& fn);

  static int hardwareThreads();

 private:
  int m_threads;
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Lets the calling thread give way to the process's other threads where they compete for
// a core: on Linux its nice value (a per-thread attribute there) rises by
// kBackgroundNiceIncrement, so the scheduler runs a waking thread of normal priority at
// once and gives this one about a tenth of a core they share; elsewhere it does nothing.
// One way: an unprivileged thread cannot lower its nice value again. For threads of
// optional background work (the live analyses while training runs). False if refused.
constexpr int kBackgroundNiceIncrement = 10;
bool lowerCurrentThreadPriority();

}  // namespace driftscope
