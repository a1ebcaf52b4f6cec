// MsdChart: mean squared displacement of the ring against lag (in steps) on log-log axes,
// with the fitted power law MSD ~ c lag^alpha over its fit range and, for scale, the square
// of the permutation baseline mean (the MSD a drift would need to reach the yardstick).
// PathChart: loss along the straight line w_ref -> w_M (t in [0, 1]), raw and after
// aligning w_M by weight matching; the legend gives each barrier. GUI thread only.
#pragma once

#include <memory>

#include "ui/charts/chart_view.h"
#include "ui/charts/plot_context.h"

class QScatterSeries;

namespace driftscope {
struct AnalysisState;
}  // namespace driftscope

namespace driftscope::ui {

class MsdChart : public ChartView {
  Q_OBJECT

 public:
  static constexpr int kFitPoints = 32;

  explicit MsdChart(QWidget* parent = nullptr);
  ~MsdChart() override;

  void setState(const driftscope::AnalysisState& s, const PlotContext& ctx);

  QScatterSeries* msdSeries() const { return m_msd; }
  QLineSeries* fitSeries() const { return m_fit; }
  QLineSeries* baselineSeries() const { return m_baseline; }

 private:
  QScatterSeries* m_msd = nullptr;
  QLineSeries* m_fit = nullptr;
  QLineSeries* m_baseline = nullptr;
};

class PathChart : public ChartView {
  Q_OBJECT

 public:
  explicit PathChart(QWidget* parent = nullptr);
  ~PathChart() override;

  void setState(const driftscope::AnalysisState& s, const PlotContext& ctx);

  QLineSeries* rawSeries() const { return m_raw; }
  QLineSeries* alignedSeries() const { return m_aligned; }

 private:
  QLineSeries* m_raw = nullptr;
  QLineSeries* m_aligned = nullptr;
};

}  // namespace driftscope::ui
