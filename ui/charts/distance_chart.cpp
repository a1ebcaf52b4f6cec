#include "ui/charts/distance_chart.h"

#include <QAbstractAxis>
#include <QAreaSeries>
#include <QLegend>
#include <QLineSeries>
#include <algorithm>
#include <cmath>

#include "core/engine/analysis_state.h"

namespace driftscope::ui {

DistanceChart::DistanceChart(QWidget* parent) : ChartView(parent) {
  setChartTitle(QStringLiteral("Distance from the reference w_ref, against permuted copies of it"));
  setupAxes(QStringLiteral("step"), QStringLiteral("distance ||w - w_ref||"));
  setupRightAxis(QStringLiteral("||w||"));
  setLeftIncludesZero(true);
  setHoverNames(QStringLiteral("step"), QStringLiteral("d"), QStringLiteral("||w||"));

  // The band first, so the curves are drawn over it.
  // QAreaSeries does not own its boundary series: parent them to the area so they go
  // with it (LeakSanitizer caught them leaking once per chart).
  m_band = new QAreaSeries;
  m_bandUpper = new QLineSeries(m_band);
  m_bandLower = new QLineSeries(m_band);
  m_band->setUpperSeries(m_bandUpper);
  m_band->setLowerSeries(m_bandLower);
  m_band->setName(QStringLiteral("perm. band 5\u201395%"));
  addAreaSeries(m_band, Side::kLeft);
  QColor fill(0x9e, 0xb9, 0xd4);
  fill.setAlpha(90);
  m_band->setBrush(fill);
  m_band->setPen(QPen(QColor(0x9e, 0xb9, 0xd4), 1.0));

  m_bandMean = new QLineSeries;
  m_bandMean->setName(QStringLiteral("band mean"));
  addSeries(m_bandMean, Side::kLeft, QPen(QColor(0x3b, 0x5b, 0x80), 1.5, Qt::DashLine));
  m_nearest = new QLineSeries;
  m_nearest->setName(QStringLiteral("nearest swap"));
  addSeries(m_nearest, Side::kLeft, QPen(QColor(0x3b, 0x5b, 0x80), 1.5, Qt::DotLine));

  m_distance = new QLineSeries;
  m_distance->setName(QStringLiteral("d(w_ref, w)"));
  addSeries(m_distance, Side::kLeft, QPen(paletteColor(0), 2.0));
  // Computed every few snapshots only: small dots on a dashed line, not hiding d.
  m_aligned = new QLineSeries;
  m_aligned->setName(QStringLiteral("aligned"));
  addSeries(m_aligned, Side::kLeft, QPen(paletteColor(3), 1.5, Qt::DashLine));
  m_aligned->setPointsVisible(true);
  m_aligned->setMarkerSize(2.5);
  m_radial = new QLineSeries;
  m_radial->setName(QStringLiteral("|radial|"));
  addSeries(m_radial, Side::kLeft, QPen(paletteColor(1), 1.2));
  m_tangential = new QLineSeries;
  m_tangential->setName(QStringLiteral("tangential"));
  addSeries(m_tangential, Side::kLeft, QPen(paletteColor(2), 1.2, Qt::DashLine));
  m_weightNorm = new QLineSeries;
  m_weightNorm->setName(QStringLiteral("||w|| (right)"));
  addSeries(m_weightNorm, Side::kRight, QPen(paletteColor(7), 1.2, Qt::DashDotLine));
  // The measurements first, then the yardstick.
  setLegendOrder(
      {m_distance, m_aligned, m_radial, m_tangential, m_weightNorm, m_band, m_bandMean, m_nearest});
  resetZoom();
}

DistanceChart::~DistanceChart() = default;

void DistanceChart::setState(const driftscope::AnalysisState& s, const PlotContext& ctx) {
  const bool epochs = ctx.timeInEpochs;
  axisX()->setTitleText(epochs ? QStringLiteral("epoch") : QStringLiteral("step"));
  setHoverNames(epochs ? QStringLiteral("epoch") : QStringLiteral("step"), QStringLiteral("d"),
                QStringLiteral("||w||"));
  const double perEpoch = std::max(ctx.stepsPerEpoch, 1);
  auto timeOf = [&](const SnapshotMeta& m) {
    return epochs ? m.epoch : static_cast<double>(m.step);
  };

  QList<QPointF> d, aligned, radial, tangential, norm;
  const auto n = static_cast<qsizetype>(s.distances.size());
  d.reserve(n);
  radial.reserve(n);
  tangential.reserve(n);
  norm.reserve(n);
  double x0 = 0.0;
  double x1 = 0.0;
  for (std::size_t i = 0; i < s.distances.size(); ++i) {
    const DistanceRecord& r = s.distances[i];
    const double x = timeOf(r.meta);
    if (i == 0) x0 = x;
    x1 = x;
    d.append({x, r.d.distance});
    if (r.aligned) aligned.append({x, *r.aligned});
    radial.append({x, std::abs(r.d.radial)});
    tangential.append({x, r.d.tangential});
    norm.append({x, r.d.weightNorm});
  }
  setPoints(m_distance, d);
  setPoints(m_aligned, aligned);
  setPoints(m_radial, radial);
  setPoints(m_tangential, tangential);
  setPoints(m_weightNorm, norm);

  QList<QPointF> upper, lower, mean, nearest;
  if (s.baseline && !s.distances.empty()) {
    const BaselineBand& b = *s.baseline;
    if (x1 <= x0) x1 = x0 + 1.0;
    upper = {{x0, b.p95}, {x1, b.p95}};
    lower = {{x0, b.p05}, {x1, b.p05}};
    mean = {{x0, b.mean}, {x1, b.mean}};
    nearest = {{x0, b.nearestTransposition}, {x1, b.nearestTransposition}};
  }
  setPoints(m_bandUpper, upper);
  setPoints(m_bandLower, lower);
  setPoints(m_bandMean, mean);
  setPoints(m_nearest, nearest);

  std::vector<EventLine> lines;
  for (std::size_t i = 1; i < s.lrHistory.size(); ++i) {
    const LrChange& c = s.lrHistory[i];
    const double x = epochs ? static_cast<double>(c.step) / perEpoch : static_cast<double>(c.step);
    if (!s.distances.empty() && x < x0) continue;  // before recording: off this plot
    lines.push_back({x, QPen(paletteColor(4), 1.5, Qt::DotLine),
                     QStringLiteral("learning rate -> %1 (%2 %3)")
                         .arg(QString::number(c.lr, 'g', 4),
                              epochs ? QStringLiteral("epoch") : QStringLiteral("step"),
                              QString::number(x, 'g', 6)),
                     QStringLiteral("lr %1").arg(QString::number(c.lr, 'g', 4))});
  }
  setEventLines(lines);
  autoRange();
}

void DistanceChart::setExtraCurves(const std::vector<std::pair<QString, QList<QPointF>>>& curves) {
  const std::size_t wanted = std::min<std::size_t>(curves.size(), kMaxExtraCurves);
  while (m_extra.size() > wanted) {
    removeSeries(m_extra.back());
    m_extra.pop_back();
  }
  while (m_extra.size() < wanted) {
    auto* s = new QLineSeries;
    const int colour = 5 + static_cast<int>(m_extra.size());
    addSeries(s, Side::kLeft, QPen(paletteColor(colour == 7 ? 9 : colour), 1.5));
    m_extra.push_back(s);
  }
  for (std::size_t i = 0; i < wanted; ++i) {
    m_extra[i]->setName(curves[i].first);
    setPoints(m_extra[i], curves[i].second);
  }
  autoRange();
}

}  // namespace driftscope::ui
