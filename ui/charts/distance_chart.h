// DistanceChart: how far the trajectory has moved from the reference, d(w_ref, w_M), with
// the aligned distance (where computed), the radial/tangential split (absolute values, so
// they can go on a log axis), ||w|| on a right-hand axis, and the permutation baseline band
// (p05-p95 area, mean dashed, nearest transposition dotted) that says what "far" means.
// x = steps, or epochs when PlotContext::timeInEpochs. GUI thread only.
#pragma once

#include <QList>
#include <QPointF>
#include <QString>
#include <utility>
#include <vector>

#include "ui/charts/chart_view.h"
#include "ui/charts/plot_context.h"

class QAreaSeries;

namespace driftscope {
struct AnalysisState;
}

namespace driftscope::ui {

class DistanceChart : public ChartView {
  Q_OBJECT

 public:
  static constexpr int kMaxExtraCurves = 4;

  explicit DistanceChart(QWidget* parent = nullptr);
  ~DistanceChart() override;

  void setState(const driftscope::AnalysisState& s, const PlotContext& ctx);

  // Up to kMaxExtraCurves "pinned reference" curves (name, points with x = lag since that
  // reference, in the chart's time unit); replaces the previous set, extra entries ignored.
  void setExtraCurves(const std::vector<std::pair<QString, QList<QPointF>>>& curves);

  QLineSeries* distanceSeries() const { return m_distance; }
  QLineSeries* alignedSeries() const { return m_aligned; }
  QLineSeries* radialSeries() const { return m_radial; }
  QLineSeries* tangentialSeries() const { return m_tangential; }
  QLineSeries* weightNormSeries() const { return m_weightNorm; }
  QAreaSeries* baselineBand() const { return m_band; }
  QLineSeries* baselineMeanSeries() const { return m_bandMean; }
  QLineSeries* nearestTranspositionSeries() const { return m_nearest; }
  const std::vector<QLineSeries*>& extraCurves() const { return m_extra; }
  using ChartView::eventLineCount;

 private:
  QLineSeries* m_distance = nullptr;
  QLineSeries* m_aligned = nullptr;
  QLineSeries* m_radial = nullptr;
  QLineSeries* m_tangential = nullptr;
  QLineSeries* m_weightNorm = nullptr;
  QLineSeries* m_bandUpper = nullptr;
  QLineSeries* m_bandLower = nullptr;
  QAreaSeries* m_band = nullptr;
  QLineSeries* m_bandMean = nullptr;
  QLineSeries* m_nearest = nullptr;
  std::vector<QLineSeries*> m_extra;
};

}  // namespace driftscope::ui
