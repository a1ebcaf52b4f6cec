#include "ui/charts/training_chart.h"

#include <QLineSeries>
#include <algorithm>

#include "core/engine/analysis_state.h"

namespace driftscope::ui {

TrainingChart::TrainingChart(QWidget* parent) : ChartView(parent) {
  setChartTitle(QStringLiteral("Training"));
  setupAxes(QStringLiteral("epoch"), QStringLiteral("cross-entropy loss"));
  setupRightAxis(QStringLiteral("test accuracy (%)"));
  setRightRange(0.0, 100.0);
  setLeftIncludesZero(true);
  setHoverNames(QStringLiteral("epoch"), QStringLiteral("loss"), QStringLiteral("acc %"));

  m_trainLoss = new QLineSeries;
  m_trainLoss->setName(QStringLiteral("train loss"));
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
