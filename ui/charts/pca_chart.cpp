#include "ui/charts/pca_chart.h"

#include <QAbstractAxis>
#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>
#include <algorithm>

#include "core/engine/analysis_state.h"
#include "ui/charts/colormap.h"

namespace driftscope::ui {

namespace {

QString componentTitle(int component, const std::vector<double>& ratio) {
  const auto k = static_cast<std::size_t>(component - 1);
  if (k < ratio.size()) {
    return QStringLiteral("PC%1 (%2% of variance)")
        .arg(component)
        .arg(QString::number(100.0 * ratio[k], 'f', 1));
  }
  return QStringLiteral("PC%1").arg(component);
}

}  // namespace

PcaChart::PcaChart(QWidget* parent) : ChartView(parent) {
  setChartTitle(QStringLiteral("Trajectory on the principal components of the ring"));
  setupAxes(QStringLiteral("PC1"), QStringLiteral("PC2"));
  setHoverNames(QStringLiteral("PC1"), QStringLiteral("PC2"));
  QGradientStops time;
  for (int k = 0; k < kSegments; ++k) {
    auto* s = new QLineSeries;
    const double t = kSegments > 1 ? k / static_cast<double>(kSegments - 1) : 0.0;
    const QColor c = viridis(t);
    time.append({t, c});
    addSeries(s, Side::kLeft, QPen(c, 2.0));
    s->setColor(c);
    s->setPointsVisible(true);
    s->setMarkerSize(2.5);
    if (k == 0) {
      s->setName(QStringLiteral("trajectory, old \u2192 new"));
    } else {
      hideLegendMarker(chart(), s);
    }
    m_segments.push_back(s);
  }
  setLegendGradient(m_segments.front(), time);
  m_start = new QScatterSeries;
  m_start->setName(QStringLiteral("start"));
  m_start->setMarkerShape(QScatterSeries::MarkerShapeCircle);
  m_start->setMarkerSize(11.0);
  addSeries(m_start, Side::kLeft, QPen(Qt::white, 1.5));
  m_start->setColor(QColor(0x2c, 0xa0, 0x2c));
  m_start->setBorderColor(Qt::white);
  m_end = new QScatterSeries;
  m_end->setName(QStringLiteral("end"));
  m_end->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
  m_end->setMarkerSize(10.0);
  addSeries(m_end, Side::kLeft, QPen(Qt::white, 1.5));
  m_end->setColor(QColor(0xd6, 0x27, 0x28));
  m_end->setBorderColor(Qt::white);
  resetZoom();
}

PcaChart::~PcaChart() = default;

void PcaChart::setState(const driftscope::AnalysisState& s, const PlotContext& /*ctx*/) {
  if (s.ring == m_ring) return;
  m_ring = s.ring;
  rebuild();
}

void PcaChart::setSecondComponent(int component) {
  component = component == 3 ? 3 : 2;
  if (component == m_second) return;
  m_second = component;
  rebuild();
  resetZoom();
}

void PcaChart::rebuild() {
  const int col = m_second - 1;
  const bool ok = m_ring && m_ring->pca.projections.cols() > col;
  const int c = ok ? static_cast<int>(m_ring->pca.projections.rows()) : 0;
  m_pointCount = c;
  const std::vector<double> noRatio;
  const std::vector<double>& ratio = m_ring ? m_ring->pca.explainedRatio : noRatio;
  axisX()->setTitleText(componentTitle(1, ratio));
  axisY()->setTitleText(componentTitle(m_second, ratio));
  setHoverNames(QStringLiteral("PC1"), QStringLiteral("PC%1").arg(m_second));

  auto point = [&](int i) {
    return QPointF(m_ring->pca.projections(i, 0), m_ring->pca.projections(i, col));
  };
  // Segment k covers points [k c / S, (k+1) c / S] (sharing the boundary point).
  for (int k = 0; k < kSegments; ++k) {
    QList<QPointF> pts;
    if (c > 0) {
      const int a = k * (c - 1) / kSegments;
      const int b = (k + 1) * (c - 1) / kSegments;
      if (b > a || (c == 1 && k == 0)) {
        for (int i = a; i <= b; ++i) pts.append(point(i));
      }
    }
    setPoints(m_segments[static_cast<std::size_t>(k)], pts);
  }
  setPoints(m_start, c > 0 ? QList<QPointF>{point(0)} : QList<QPointF>{});
  setPoints(m_end, c > 1 ? QList<QPointF>{point(c - 1)} : QList<QPointF>{});
  autoRange();
}

VarianceChart::VarianceChart(QWidget* parent) : ChartView(parent) {
  setChartTitle(QStringLiteral("Explained variance per principal component"));
  m_bars = new QBarSeries;
  m_trajectory = new QBarSet(QStringLiteral("trajectory"));
  m_randomWalk = new QBarSet(QStringLiteral("random walk"));
  m_bars->append(m_trajectory);
  m_bars->append(m_randomWalk);
  chart()->addSeries(m_bars);
  m_trajectory->setColor(paletteColor(0));
  m_trajectory->setBorderColor(paletteColor(0).darker(120));
  m_randomWalk->setColor(QColor(0xb0, 0xb0, 0xb0));
  m_randomWalk->setBorderColor(QColor(0x80, 0x80, 0x80));
  m_bars->setBarWidth(0.8);

  m_categories = new QBarCategoryAxis;
  m_categories->setTitleText(QStringLiteral("principal component"));
  m_values = new QValueAxis;
  m_values->setTitleText(QStringLiteral("explained variance (%)"));
  m_values->setLabelFormat(QStringLiteral("%.0f"));
  styleAxis(m_categories);
  styleAxis(m_values);
  m_categories->setGridLineVisible(false);
  chart()->addAxis(m_categories, Qt::AlignBottom);
  chart()->addAxis(m_values, Qt::AlignLeft);
  m_bars->attachAxis(m_categories);
  m_bars->attachAxis(m_values);
  setRubberBand(QChartView::NoRubberBand);

  connect(m_bars, &QBarSeries::hovered, this, [this](bool status, int index, QBarSet* set) {
    m_barHover.clear();
    if (status && set != nullptr && index >= 0 && index < set->count()) {
      const QString name = set == m_randomWalk
                               ? QStringLiteral("random walk (Antognini & Sohl-Dickstein 2018)")
                               : set->label();
      m_barHover = QStringLiteral("PC%1, %2: %3 %")
                       .arg(index + 1)
                       .arg(name, QString::number(set->at(index), 'f', 1));
    }
    showHover(m_barHover);
  });
  resetZoom();
}

VarianceChart::~VarianceChart() = default;

void VarianceChart::setState(const driftscope::AnalysisState& s, const PlotContext& /*ctx*/) {
  QList<qreal> traj;
  QList<qreal> walk;
  QStringList labels;
  if (s.ring) {
    const auto& e = s.ring->pca.explainedRatio;
    const auto& r = s.ring->pca.randomWalkRatio;
    const std::size_t n = std::min<std::size_t>(e.size(), kComponents);
    for (std::size_t k = 0; k < n; ++k) {
      traj.append(100.0 * e[k]);
      walk.append(k < r.size() ? 100.0 * r[k] : 0.0);
      labels.append(QString::number(k + 1));
    }
  }
  // Category labels first, so the axis never has fewer categories than the bars.
  if (m_categories->categories() != labels) {
    m_categories->clear();
    m_categories->append(labels);
  }
  if (m_trajectory->count() > 0) m_trajectory->remove(0, m_trajectory->count());
  if (m_randomWalk->count() > 0) m_randomWalk->remove(0, m_randomWalk->count());
  m_trajectory->append(traj);
  m_randomWalk->append(walk);
  resetZoom();
}

void VarianceChart::resetZoom() {
  if (chart()->isZoomed()) chart()->zoomReset();
  updateLayout();
  // Shares of the variance: always the whole 0-100 % scale, ticks as the height allows.
  applyFixedRange(m_values, 0.0, 100.0);
}

QString VarianceChart::hoverTextAt(const QPointF& /*pos*/) { return m_barHover; }

}  // namespace driftscope::ui
