// Drives the real window under QT_QPA_PLATFORM=offscreen: a run on a tiny network fills
// every plot; the learning-rate slider reaches the trainer and marks the history;
// Pause answers within 200 ms; an invalid hidden-layer string disables Start; a corrupt
// IDX file gives an error naming the file and the window stays usable.
#include "ui/main_window.h"

#include <gtest/gtest.h>

#include <QApplication>
#include <QChart>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPushButton>
#include <QSlider>
#include <QTest>
#include <QXYSeries>
#include <filesystem>
#include <fstream>

#include "core/engine/experiment.h"
#include "tests/ui/widget_test_support.h"
#include "ui/charts/distance_chart.h"
#include "ui/charts/heatmap_view.h"
#include "ui/charts/msd_chart.h"
#include "ui/charts/pca_chart.h"
#include "ui/charts/training_chart.h"
#include "ui/control_panel.h"
#include "ui/run_controller.h"
namespace driftscope::ui {
namespace {

constexpr int kRunTimeoutMs = 60000;
constexpr qint64 kPauseBudgetMs = 200;

RunConfig tinyConfig() { return testing::tinyRunConfig(6); }

// Points across the XY series of a chart (the band and event lines included).
int pointCount(QChartView* view) {
  int n = 0;
  for (QAbstractSeries* s : view->chart()->series()) {
    if (auto* xy = qobject_cast<QXYSeries*>(s)) n += xy->count();
  }
  return n;
}

using ui::testing::waitFor;

TEST(MainWindow, RunFillsEveryPlotAndTheSliderReachesTheTrainer) {
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  RunConfig c = tinyConfig();
  c.epochs = 400;  // long enough to move the slider while it runs; stopped below
  w.setConfig(c);
  w.startRun();
  RunController* rc = w.controller();
  ASSERT_TRUE(waitFor(
      [&] {
        auto s = rc->latest();
        return s && s->ring && s->ring->snapshots.size() >= 12 && s->baseline;
      },
      kRunTimeoutMs))
      << "no snapshots recorded";

  // The learning-rate slider: move it and check the trainer's rate and the history.
  QSlider* slider = w.controlPanel()->learningRateSlider();
  slider->setValue(slider->value() - 100);  // one decade down
  const double lr = w.controlPanel()->learningRate();
  EXPECT_NEAR(lr, 0.005, 0.0005);
  auto experiment = rc->experiment();
  ASSERT_TRUE(experiment);
  EXPECT_FLOAT_EQ(experiment->trainer().learningRate(), static_cast<float>(lr));
  ASSERT_TRUE(waitFor([&] { return rc->latest()->lrHistory.size() >= 2; }, kRunTimeoutMs));
  EXPECT_FLOAT_EQ(rc->latest()->lrHistory.back().lr, static_cast<float>(lr));
  const int eventLinesBefore = pointCount(w.distanceChart());
  QTest::qWait(300);

  // Pause answers within 200 ms: the step counter stops.
  QElapsedTimer pauseClock;
  pauseClock.start();
  w.togglePause();
  const qint64 pauseCallMs = pauseClock.elapsed();
  EXPECT_LT(pauseCallMs, kPauseBudgetMs) << "the GUI thread waited on training";
  QTest::qWait(static_cast<int>(kPauseBudgetMs));
  const std::int64_t stepAfterPause = rc->latest()->progress.step;
  QTest::qWait(400);
  // Progress is published at most every 100 ms; allow one in-flight report.
  EXPECT_LE(rc->latest()->progress.step - stepAfterPause, 1) << "training went on while paused";
  EXPECT_EQ(w.phaseLabel()->text(), QStringLiteral("phase: paused"));
  w.togglePause();
  w.stopRun();
  ASSERT_TRUE(waitFor([&] { return !rc->isRunning(); }, kRunTimeoutMs));
  QTest::qWait(100);

  // Every plot has data.
  EXPECT_GT(pointCount(w.trainingChart()), 4);
  EXPECT_GT(pointCount(w.distanceChart()), 12);
  EXPECT_GE(pointCount(w.distanceChart()), eventLinesBefore);
  EXPECT_GT(pointCount(w.pcaChart()), 10);
  EXPECT_GT(pointCount(w.msdChart()), 5);
  EXPECT_GT(pointCount(w.pathChart()), 10);
  EXPECT_FALSE(w.varianceChart()->chart()->series().isEmpty());
  EXPECT_GT(w.heatmapView()->size(), 10);
  EXPECT_TRUE(w.verdictLabel()->text().contains(QStringLiteral("permutation distance")))
      << w.verdictLabel()->text().toStdString();
  // config.json of this run would list the change: the resolved config has it.
  const RunConfig resolved = experiment->resolvedConfig();
  ASSERT_GE(resolved.lrHistory.size(), 2u);
  EXPECT_FLOAT_EQ(resolved.lrHistory.back().lr, static_cast<float>(lr));
}

TEST(MainWindow, InvalidHiddenLayersDisableStartWithTheReason) {
  MainWindow w;
  w.setConfig(tinyConfig());
  ControlPanel* p = w.controlPanel();
  EXPECT_TRUE(p->startButton()->isEnabled());
  p->hiddenLayersEdit()->setText(QStringLiteral("128,x"));
  EXPECT_FALSE(p->startButton()->isEnabled());
  EXPECT_TRUE(p->hiddenLayersEdit()->toolTip().contains(QStringLiteral("\"x\"")))
      << p->hiddenLayersEdit()->toolTip().toStdString();
  p->hiddenLayersEdit()->setText(QStringLiteral("64,32"));
  EXPECT_TRUE(p->startButton()->isEnabled());
  EXPECT_EQ(p->config().layers, (std::vector<int>{784, 64, 32, 10}));
}

TEST(MainWindow, CorruptIdxFileGivesAnErrorNamingTheFileAndTheWindowStaysUsable) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "driftscope_ui_corrupt";
  fs::create_directories(dir);
  const std::string bad = (dir / "train-images-idx3-ubyte").string();
  std::ofstream(bad, std::ios::binary) << "not an idx file at all";
  MainWindow w;
  w.show();
  w.setConfig(tinyConfig());
  w.controlPanel()->setIdxFiles(
      {QString::fromStdString(bad),
       QString::fromStdString((dir / "train-labels-idx1-ubyte").string()),
       QString::fromStdString((dir / "t10k-images-idx3-ubyte").string()),
       QString::fromStdString((dir / "t10k-labels-idx1-ubyte").string())});
  w.startRun();
  ASSERT_TRUE(waitFor([&] { return w.errorBanner()->isVisible(); }, kRunTimeoutMs));
  EXPECT_TRUE(w.errorBanner()->text().contains(QString::fromStdString(bad)))
      << w.errorBanner()->text().toStdString();
  EXPECT_FALSE(w.controller()->isRunning());
  // Still usable: back to the embedded data, a run starts and records.
  RunConfig c = tinyConfig();
  c.epochs = 3;
  w.setConfig(c);
  EXPECT_TRUE(w.controlPanel()->startButton()->isEnabled());
  w.startRun();
  ASSERT_TRUE(waitFor([&] { return !w.controller()->isRunning(); }, kRunTimeoutMs));
  auto s = w.controller()->latest();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->phase, RunPhase::kFinished);
  EXPECT_GT(s->snapshotsTaken, 0);
  fs::remove_all(dir);
}

TEST(MainWindow, ClosingDuringARunJoinsWithinOneSecond) {
  auto* w = new MainWindow;
  RunConfig c = tinyConfig();
  c.epochs = 1000;
  w->setConfig(c);
  w->show();
  w->startRun();
  ASSERT_TRUE(waitFor(
      [&] {
        auto s = w->controller()->latest();
        return s && s->snapshotsTaken > 3;
      },
      kRunTimeoutMs));
  QElapsedTimer t;
  t.start();
  w->close();
  delete w;
  EXPECT_LT(t.elapsed(), testing::kJoinBudgetMs);
}

TEST(MainWindow, PinnedReferencesAddAgingCurvesToTheDistancePlot) {
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  RunConfig c = tinyConfig();
  // Long enough that the pin below reaches a running engine (a 4-epoch run of this tiny
  // network can end within a few publications); stopped once both pins are in.
  c.epochs = 400;
  c.pinAfterSteps = {50};  // automatic pin 50 steps into recording
  w.setConfig(c);
  w.startRun();
  RunController* rc = w.controller();
  ASSERT_TRUE(waitFor(
      [&] {
        auto s = rc->latest();
        return s && s->snapshotsTaken >= 15;
      },
      kRunTimeoutMs));
  rc->pinReference(12);  // as a Ctrl+click on heatmap row 12 does
  EXPECT_TRUE(waitFor(
      [&] {
        auto s = rc->latest();
        return s && s->pinned.size() >= 2;
      },
      kRunTimeoutMs));
  w.stopRun();
  ASSERT_TRUE(waitFor([&] { return !rc->isRunning(); }, kRunTimeoutMs));
  QTest::qWait(100);
  const auto s = rc->latest();
  ASSERT_EQ(s->pinned.size(), 2u) << s->message << " first pinned: "
                                  << (s->pinned.empty() ? -1 : s->pinned[0].reference.index);
  EXPECT_EQ(s->pinned[0].reference.index, 10);  // 50 steps / 5 per snapshot
  EXPECT_EQ(s->pinned[1].reference.index, 12);
  ASSERT_EQ(w.distanceChart()->extraCurves().size(), 2u);
  EXPECT_EQ(static_cast<std::size_t>(w.distanceChart()->extraCurves()[0]->count()),
            s->pinned[0].points.size());
}

}  // namespace
}  // namespace driftscope::ui
