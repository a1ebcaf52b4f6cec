// The window's thread handling under QT_QPA_PLATFORM=offscreen: Stop and Reset while
// training and analysis run end the run without a hang (Reset joins within 1 s, Stop's
// final analysis of a small ring likewise), and dragging the learning-rate slider through
// thousands of positions during a run leaves a consistent history that ends at the
// slider's last value.
#include <gtest/gtest.h>

#include <QElapsedTimer>
#include <QSlider>
#include <QTest>

#include "core/engine/experiment.h"
#include "tests/ui/widget_test_support.h"
#include "ui/control_panel.h"
#include "ui/main_window.h"
#include "ui/run_controller.h"
namespace driftscope::ui {
namespace {

constexpr int kRunTimeoutMs = 60000;
using ui::testing::kJoinBudgetMs;

// Never completes: ended by the test.
RunConfig longTinyConfig() { return testing::tinyRunConfig(1000); }

using ui::testing::waitFor;

bool recording(const RunController& rc) {
  const auto s = rc.latest();
  return s && s->snapshotsTaken > 3;
}

TEST(MainWindowThreads, ResetDuringARunJoinsWithinOneSecondAndTheWindowCanRunAgain) {
  MainWindow w;
  w.setConfig(longTinyConfig());
  w.show();
  w.startRun();
  ASSERT_TRUE(waitFor([&] { return recording(*w.controller()); }, kRunTimeoutMs));
  QElapsedTimer t;
  t.start();
  w.resetRun();  // aborts and joins the worker before returning
  EXPECT_LT(t.elapsed(), kJoinBudgetMs);
  EXPECT_FALSE(w.controller()->isRunning());
  EXPECT_FALSE(w.controller()->experiment());
  // Usable afterwards: a second run starts and records.
  w.startRun();
  ASSERT_TRUE(waitFor([&] { return recording(*w.controller()); }, kRunTimeoutMs));
  w.resetRun();
  EXPECT_FALSE(w.controller()->isRunning());
}

TEST(MainWindowThreads, StopDuringARunEndsItWithinOneSecondKeepingTheRecording) {
  MainWindow w;
  w.setConfig(longTinyConfig());
  w.show();
  w.startRun();
  ASSERT_TRUE(waitFor([&] { return recording(*w.controller()); }, kRunTimeoutMs));
  QElapsedTimer t;
  t.start();
  w.stopRun();
  ASSERT_TRUE(waitFor([&] { return !w.controller()->isRunning(); }, kRunTimeoutMs));
  EXPECT_LT(t.elapsed(), kJoinBudgetMs) << "training or the final analysis did not stop";
  const auto s = w.controller()->latest();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->phase, RunPhase::kStopped);
  EXPECT_GT(s->snapshotsTaken, 3);
}

TEST(MainWindowThreads, DraggingTheLearningRateSliderThousandsOfTimesKeepsAConsistentHistory) {
  MainWindow w;
  w.setConfig(longTinyConfig());
  w.show();
  w.startRun();
  RunController* rc = w.controller();
  ASSERT_TRUE(waitFor([&] { return recording(*rc); }, kRunTimeoutMs));
  QSlider* slider = w.controlPanel()->learningRateSlider();
  const int lo = slider->minimum() + (slider->maximum() - slider->minimum()) / 4;
  const int hi = slider->maximum() - (slider->maximum() - slider->minimum()) / 4;
  int position = lo;
  int direction = 1;
  for (int k = 0; k < 3000; ++k) {  // back and forth across the middle half
    slider->setValue(position);
    position += direction;
    if (position >= hi || position <= lo) direction = -direction;
    if (k % 100 == 0) QTest::qWait(1);  // let the timer publish in between
  }
  const auto lastLr = static_cast<float>(w.controlPanel()->learningRate());
  auto experiment = rc->experiment();
  ASSERT_TRUE(experiment);
  EXPECT_FLOAT_EQ(experiment->trainer().learningRate(), lastLr);
  // Applied by the steps that follow (waited for: a Stop before the next step would
  // legitimately leave it unapplied).
  ASSERT_TRUE(waitFor(
      [&] {
        const auto s = rc->latest();
        return s && !s->lrHistory.empty() && s->lrHistory.back().lr == lastLr;
      },
      kRunTimeoutMs))
      << "the slider's last value was never applied";
  w.stopRun();
  ASSERT_TRUE(waitFor([&] { return !rc->isRunning(); }, kRunTimeoutMs));
  const std::vector<LrChange> history = rc->latest()->lrHistory;
  ASSERT_GE(history.size(), 2u);
  EXPECT_FLOAT_EQ(history.back().lr, lastLr);
  for (std::size_t k = 1; k < history.size(); ++k) {
    EXPECT_GT(history[k].step, history[k - 1].step);
    EXPECT_GE(history[k].lr, static_cast<float>(1e-6));
  }
  EXPECT_TRUE(validateConfig(experiment->resolvedConfig(), 784, 10));
}

}  // namespace
}  // namespace driftscope::ui
