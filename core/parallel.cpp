#include "core/parallel.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <thread>

namespace driftscope {

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
  m_impl->arena.execute([&] { oneapi::tbb::parallel_for(0, n, [&](int i) { fn(i); }); });
}

int ParallelContext::hardwareThreads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace driftscope
