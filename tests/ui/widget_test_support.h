// Helpers shared by the widget tests: wait for a condition while the Qt event loop runs.
#pragma once

#include <QElapsedTimer>
#include <QTest>

namespace driftscope::ui::testing {

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
