#include "ui/charts/training_chart.h"

#include <QLineSeries>
#include <algorithm>

#include "core/analysis/smoothing.h"
#include "core/engine/analysis_state.h"

namespace driftscope::ui {

TrainingChart::TrainingChart(QWidget* parent) : ChartView(parent) {
  setChartTitle(QStringLiteral("Training"));
  setupAxes(QStringLiteral("epoch"), QStringLiteral("cross-entropy loss"));
  setupRightAxis(QStringLiteral("test accuracy (%)"));
  setRightRange(0.0, 100.0);
  setLeftIncludesZero(true);
  setHoverNames(QStringLiteral("epoch"), QStringLiteral("loss"), QStringLiteral("acc %"));

  // Raw mini-batch loss (mean per block of ~1/25 epoch) under its centred moving average:
  // centred, so the smoothed curve does not lag behind the data as an EMA would.
  m_batchLoss = new QLineSeries;
  m_batchLoss->setName(QStringLiteral("batch loss (raw)"));
  QColor raw = paletteColor(0).lighter(160);
  addSeries(m_batchLoss, Side::kLeft, QPen(raw, 1.0));
  m_batchAverage = new QLineSeries;
  m_batchAverage->setName(QStringLiteral("centred avg. (%1 blocks)").arg(kAverageWindow));
  addSeries(m_batchAverage, Side::kLeft, QPen(paletteColor(0).darker(130), 1.5, Qt::DashLine));
  m_trainLoss = new QLineSeries;
  m_trainLoss->setName(QStringLiteral("train loss (epoch)"));
  addSeries(m_trainLoss, Side::kLeft, QPen(paletteColor(0), 2.0));
  m_testLoss = new QLineSeries;
  m_testLoss->setName(QStringLiteral("test loss"));
  addSeries(m_testLoss, Side::kLeft, QPen(paletteColor(1), 2.0));
  m_testAcc = new QLineSeries;
  m_testAcc->setName(QStringLiteral("test acc. (right)"));
  addSeries(m_testAcc, Side::kRight, QPen(paletteColor(2), 1.5, Qt::DashLine));
  resetZoom();
}

TrainingChart::~TrainingChart() = default;

void TrainingChart::setState(const driftscope::AnalysisState& s, const PlotContext& ctx) {
  QList<QPointF> train;
  QList<QPointF> test;
  QList<QPointF> acc;
  train.reserve(static_cast<qsizetype>(s.metrics.size()));
  test.reserve(static_cast<qsizetype>(s.metrics.size()));
  acc.reserve(static_cast<qsizetype>(s.metrics.size()));
  for (const EpochMetrics& m : s.metrics) {
    const double x = m.epoch;
    train.append({x, m.trainLoss});
    test.append({x, m.testLoss});
    acc.append({x, 100.0 * m.testAcc});
  }
  setPoints(m_trainLoss, train);
  const double perEpochSteps = std::max(ctx.stepsPerEpoch, 1);
  std::vector<double> losses;
  losses.reserve(s.batchLoss.size());
  for (const BatchLossPoint& p : s.batchLoss) losses.push_back(p.loss);
  const std::vector<double> smooth = centredMovingAverage(losses, kAverageWindow);
  QList<QPointF> raw;
  QList<QPointF> average;
  raw.reserve(static_cast<qsizetype>(losses.size()));
  average.reserve(static_cast<qsizetype>(losses.size()));
  for (std::size_t k = 0; k < losses.size(); ++k) {
    const double x = static_cast<double>(s.batchLoss[k].step) / perEpochSteps;
    raw.append({x, losses[k]});
    average.append({x, smooth[k]});
  }
  setPoints(m_batchLoss, raw);
  setPoints(m_batchAverage, average);
  setPoints(m_testLoss, test);
  setPoints(m_testAcc, acc);

  const double perEpoch = std::max(ctx.stepsPerEpoch, 1);
  std::vector<EventLine> lines;
  if (s.recordingStartStep) {
    const double x = static_cast<double>(*s.recordingStartStep) / perEpoch;
    lines.push_back({x, QPen(QColor(0x55, 0x55, 0x55), 1.5, Qt::DashDotLine),
                     QStringLiteral("burn-in ends, recording starts (epoch %1)")
                         .arg(QString::number(x, 'g', 4)),
                     QStringLiteral("recording")});
  }
  for (std::size_t i = 1; i < s.lrHistory.size(); ++i) {
    const LrChange& c = s.lrHistory[i];
    const double x = static_cast<double>(c.step) / perEpoch;
    lines.push_back({x, QPen(paletteColor(4), 1.5, Qt::DotLine),
                     QStringLiteral("learning rate -> %1 (epoch %2)")
                         .arg(QString::number(c.lr, 'g', 4), QString::number(x, 'g', 4)),
                     QStringLiteral("lr %1").arg(QString::number(c.lr, 'g', 4))});
  }
  setEventLines(lines);
  autoRange();
}

}  // namespace driftscope::ui
