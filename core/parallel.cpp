#include "core/parallel.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <thread>

#ifdef __linux__
#include <sys/resource.h>
#include <unistd.h>
#endif

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
// oneTBB's parallel_for keeps its completion count (wait_context::m_ref_count, in a
// wait_node on the calling thread's stack, in the frames below arena.execute) and workers
// release it with an instrumented fetch_sub in oneTBB's header code; the caller reads it
// with acquire inside libtbb, which TSan does not see. Without that edge, the workers' last
// writes to the count look unordered with whatever the caller later puts in those stack
// bytes (reported in pcaFromGram after a loop on the analysis thread: docs/reliability.md,
// sessions 6 and 7). This acquires, for every word of the stack just below this frame,
// the synchronisation object TSan keeps for it if there is one: the count's, among them
// (elsewhere __tsan_acquire finds none and does nothing). That is the acquire oneTBB
// really performs. TSan builds only.
[[gnu::noinline]] void acquireLoopCompletion() {
  constexpr std::uintptr_t kBytes = 32 * 1024;
  char marker = 0;
  const auto top = reinterpret_cast<std::uintptr_t>(&marker) & ~std::uintptr_t{7};
  for (std::uintptr_t at = top - kBytes; at < top; at += 8) {
    __tsan_acquire(reinterpret_cast<void*>(at));
  }
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
  acquireLoopCompletion();  // where execute's frames were
#endif
}

int ParallelContext::hardwareThreads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

bool lowerCurrentThreadPriority() {
#ifdef __linux__
  // PRIO_PROCESS with a thread id: that thread only (setpriority(2), NOTES).
  const auto tid = static_cast<id_t>(gettid());
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, tid);
  if (nice == -1 && errno != 0) return false;
  return setpriority(PRIO_PROCESS, tid, std::min(19, nice + kBackgroundNiceIncrement)) == 0;
#else
  return false;
#endif
}

}  // namespace driftscope
