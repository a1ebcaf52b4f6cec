#include "ui/charts/msd_chart.h"

#include <QLegend>
#include <QLineSeries>
#include <QScatterSeries>
#include <algorithm>
#include <cmath>

#include "core/engine/analysis_state.h"

namespace driftscope::ui {

MsdChart::MsdChart(QWidget* parent) : ChartView(parent) {
  setChartTitle(QStringLiteral("Mean squared displacement"));
  setLogX(true);  // before setupAxes: both axes are created logarithmic
  setLogY(true);
  setupAxes(QStringLiteral("lag (steps)"),
            QStringLiteral("MSD = mean ||w(t+lag) \u2212 w(t)||\u00b2"));
  setHoverNames(QStringLiteral("lag"), QStringLiteral("MSD"));

  m_baseline = new QLineSeries;
  m_baseline->setName(QStringLiteral("(perm. distance)\u00b2"));
  addSeries(m_baseline, Side::kLeft, QPen(QColor(0x3b, 0x5b, 0x80), 1.5, Qt::DashLine));
  m_msd = new QScatterSeries;
  m_msd->setName(QStringLiteral("MSD"));
  m_msd->setMarkerShape(QScatterSeries::MarkerShapeCircle);
  m_msd->setMarkerSize(6.0);
  addSeries(m_msd, Side::kLeft, QPen(paletteColor(0).darker(130), 1.0));
  m_msd->setColor(paletteColor(0));
  m_msd->setBorderColor(paletteColor(0).darker(130));
  m_fit = new QLineSeries;
  m_fit->setName(QStringLiteral("fit"));
  addSeries(m_fit, Side::kLeft, QPen(paletteColor(3), 2.0));
  setLegendOrder({m_msd, m_fit, m_baseline});
  resetZoom();
}

MsdChart::~MsdChart() = default;

void MsdChart::setState(const driftscope::AnalysisState& s, const PlotContext& ctx) {
  const double k = std::max(ctx.recordEvery, 1);
  QList<QPointF> msd;
  QList<QPointF> fit;
  QList<QPointF> baseline;
  QString fitName = QStringLiteral("fit: too few lags");
  if (s.ring) {
    const MsdResult& m = s.ring->msd;
    const std::size_t n = std::min(m.lags.size(), m.msd.size());
    msd.reserve(static_cast<qsizetype>(n));
    for (std::size_t i = 0; i < n; ++i) msd.append({m.lags[i] * k, m.msd[i]});
    const PowerLawFit& f = s.ring->fit;
    if (f.valid && f.lagMax >= f.lagMin && f.lagMin > 0) {
      const double a = std::log(static_cast<double>(f.lagMin));
      const double b = std::log(static_cast<double>(f.lagMax));
      for (int i = 0; i < kFitPoints; ++i) {
        const double lag = std::exp(a + (b - a) * i / (kFitPoints - 1));
        fit.append({lag * k, powerLawValue(f, lag)});
      }
      // The fitted lag range shows as the extent of the line; the legend stays short.
      fitName = QStringLiteral("fit: \u03b1 = %1 \u00b1 %2")
                    .arg(QString::number(f.alpha, 'f', 2), QString::number(f.alphaStderr, 'f', 2));
    }
    if (s.baseline && n > 0 && std::isfinite(s.baseline->mean)) {
      const double y = s.baseline->mean * s.baseline->mean;
      baseline = {{m.lags.front() * k, y}, {m.lags[n - 1] * k, y}};
    }
  }
  m_fit->setName(fitName);
  setPoints(m_msd, msd);
  setPoints(m_fit, fit);
  setPoints(m_baseline, baseline);
  autoRange();
}

PathChart::PathChart(QWidget* parent) : ChartView(parent) {
  setChartTitle(QStringLiteral("Loss along the straight line from w_ref to w_M"));
  setupAxes(QStringLiteral("t  (0 = w_ref, 1 = w_M)"), QStringLiteral("loss"));
  setHoverNames(QStringLiteral("t"), QStringLiteral("loss"));
  m_raw = new QLineSeries;
  m_raw->setName(QStringLiteral("raw"));
  addSeries(m_raw, Side::kLeft, QPen(paletteColor(0), 2.0));
  m_raw->setPointsVisible(true);
  m_raw->setMarkerSize(2.5);
  m_aligned = new QLineSeries;
  m_aligned->setName(QStringLiteral("aligned"));
  addSeries(m_aligned, Side::kLeft, QPen(paletteColor(3), 2.0));
  m_aligned->setPointsVisible(true);
  m_aligned->setMarkerSize(2.5);
  resetZoom();
}

PathChart::~PathChart() = default;

void PathChart::setState(const driftscope::AnalysisState& s, const PlotContext& /*ctx*/) {
  QList<QPointF> raw;
  QList<QPointF> aligned;
  QString rawName = QStringLiteral("raw");
  QString alignedName = QStringLiteral("aligned");
  QString title = QStringLiteral("Loss along the straight line from w_ref to w_M");
  if (s.ring) {
    const PathResult& p = s.ring->path;
    for (std::size_t i = 0; i < p.t.size() && i < p.lossRaw.size(); ++i) {
      raw.append({p.t[i], p.lossRaw[i]});
    }
    for (std::size_t i = 0; i < p.t.size() && i < p.lossAligned.size(); ++i) {
      aligned.append({p.t[i], p.lossAligned[i]});
    }
    if (!raw.isEmpty()) {
      rawName = QStringLiteral("raw (barrier = %1)").arg(QString::number(p.barrierRaw, 'g', 3));
    }
    if (!aligned.isEmpty()) {
      alignedName =
          QStringLiteral("aligned (barrier = %1)").arg(QString::number(p.barrierAligned, 'g', 3));
    }
    if (s.ring->pathSnapshot >= 0) {
      title = QStringLiteral("Loss along the straight line from w_ref to w_M (snapshot %1)")
                  .arg(s.ring->pathSnapshot);
    }
  }
  setChartTitle(title);
  m_raw->setName(rawName);
  m_aligned->setName(alignedName);
  setPoints(m_raw, raw);
  setPoints(m_aligned, aligned);
  autoRange();
}

}  // namespace driftscope::ui
