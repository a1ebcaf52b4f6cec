#include "core/parallel.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <thread>

#include "core/happens_before.h"

namespace driftscope {

namespace {

// The parallel_for body. oneTBB orders everything the spawning thread did before
// parallel_for before every call of the body, and every call before parallel_for returns;
// it does so inside libtbb.so, which is not built with ThreadSanitizer, so fork(), join()
// and the two annotations in operator() tell TSan about exactly those two orderings
// (core/happens_before.h; nothing in other builds). Calls of the body stay unordered with
// each other, so a race between two calls is still reported. TBB keeps a reference to the
// body (parallel_for_body_wrapper), so every thread sees the same tags.
class ForkJoinBody {
 public:
  explicit ForkJoinBody(const std::function<void(int)>& fn) : m_fn(fn) {}

  void fork() const { happensBefore(&m_forkTag); }  // just before parallel_for
  void join() const { happensAfter(&m_joinTag); }   // just after it returned
  void operator()(int i) const {
    happensAfter(&m_forkTag);
    m_fn(i);
    happensBefore(&m_joinTag);
  }

 private:
  const std::function<void(int)>& m_fn;
  char m_forkTag = 0;  // only the addresses are used
  char m_joinTag = 0;
};

#ifdef DRIFTSCOPE_TSAN
// After parallel_for returns, a oneTBB wait_node that lived on this thread's stack (in the
// frames below arena.execute) may still carry a worker's last relaxed atomic store, made
// just before the worker woke this thread through a futex TSan cannot see. Ordinary code
// that later reuses those stack bytes then looks like a race with that store (seen in
// pcaFromGram after the ring worker's Gram loop: docs/reliability.md, sessions 6 and 7).
// An atomic store to every word of the stack just below this frame makes this thread
// their last accessor as far as TSan knows (atomics never race with atomics); what the
// region held is dead. TSan builds only: in others this function does not exist.
[[gnu::noinline]] void reclaimStackBelow() {
  constexpr std::size_t kBytes = 64 * 1024;
  alignas(64) int words[kBytes / sizeof(int)];
  for (int& w : words) __atomic_store_n(&w, 0, __ATOMIC_RELAXED);
  asm volatile("" : : "r"(words) : "memory");
}
#endif

}  // namespace

struct ParallelContext::Impl {
  explicit Impl(int threads) : arena(threads) {}
  oneapi::tbb::task_arena arena;
};

ParallelContext::ParallelContext(int threads) : m_threads(std::max(1, threads)) {
  if (m_threads > 1) m_impl = std::make_unique<Impl>(m_threads);
}

ParallelContext::~ParallelContext() = default;

void ParallelContext::forEach(int n, const std::function<void(int)>& fn) {
  if (n <= 0) return;
  if (!m_impl || n == 1) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  // The arena reserves a slot for the calling thread, so execute() runs this on it.
  m_impl->arena.execute([&] {
    const ForkJoinBody body(fn);
    body.fork();
    oneapi::tbb::parallel_for(0, n, body);
    body.join();
  });
#ifdef DRIFTSCOPE_TSAN
  reclaimStackBelow();  // where execute's frames were
#endif
}

int ParallelContext::hardwareThreads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace driftscope
