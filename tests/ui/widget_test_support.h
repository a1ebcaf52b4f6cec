// Helpers shared by the widget tests: a tiny run configuration, and waiting for a
// condition while the Qt event loop runs.
#pragma once

#include <QElapsedTimer>
#include <QTest>

#include "core/config/run_config.h"

namespace driftscope::ui::testing {

// Budget for joining the worker threads (Reset, Stop with its final analysis, closing the
// window): 1 s is the requirement for the product build, checked in the dev and
// asan presets. ThreadSanitizer makes instrumented code 5-15x slower (its documented
// overhead) and the tsan suite runs two test processes on two cores, so there the same
// joins are held to 5 s: a hang still fails, TSan's own slowdown does not.
#if defined(__SANITIZE_THREAD__)
inline constexpr qint64 kJoinBudgetMs = 5000;
#else
inline constexpr qint64 kJoinBudgetMs = 1000;
#endif

// 784-16-10 on the embedded data, 1 burn-in epoch, a snapshot every 5 steps, ring of 100.
inline RunConfig tinyRunConfig(int epochs) {
  RunConfig c;
  c.layers = {784, 16, 10};
  c.epochs = epochs;
  c.burnInEpochs = 1;
  c.recordEvery = 5;
  c.capacity = 100;
  c.baselineSamples = 20;
  c.sgd.threads = 2;
  c.evalSubset = 300;
  return c;
}

// Spins the event loop (QTest::qWait) until pred() holds; false after timeoutMs. A timeout
// is a hang, not a speed goal: callers pass generous limits.
template <typename Pred>
bool waitFor(Pred pred, int timeoutMs) {
  QElapsedTimer t;
  t.start();
  while (!pred()) {
    if (t.elapsed() > timeoutMs) return false;
    QTest::qWait(10);
  }
  return true;
}

}  // namespace driftscope::ui::testing
