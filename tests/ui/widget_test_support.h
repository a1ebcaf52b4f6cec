// Helpers shared by the widget tests: a tiny run configuration, and waiting for a
// condition while the Qt event loop runs.
#pragma once

#include <QElapsedTimer>
#include <QTest>

#include "core/config/run_config.h"

namespace driftscope::ui::testing {

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
