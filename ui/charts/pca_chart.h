// PcaChart: the trajectory of the ring on its first principal components (PC1 against PC2
// or PC3), coloured by time in viridis (consecutive segments), with the start and end
// marked; axis titles give each component's share of the variance.
// VarianceChart: the explained-variance spectrum of the first components beside that of a
// random walk of the same length (Antognini & Sohl-Dickstein 2018), because a PCA picture
// of any random walk looks structured too. GUI thread only.
#pragma once

#include <memory>
#include <vector>

#include "ui/charts/chart_view.h"
#include "ui/charts/plot_context.h"

class QBarCategoryAxis;
class QBarSeries;
class QBarSet;
class QScatterSeries;
class QValueAxis;

namespace driftscope {
struct AnalysisState;
struct RingAnalysis;
}  // namespace driftscope

namespace driftscope::ui {

class PcaChart : public ChartView {
  Q_OBJECT

 public:
  static constexpr int kSegments = 8;

  explicit PcaChart(QWidget* parent = nullptr);
  ~PcaChart() override;

  void setState(const driftscope::AnalysisState& s, const PlotContext& ctx);
  // Component on the vertical axis: 2 (PC2, default) or 3 (PC3).
  void setSecondComponent(int component);
  int secondComponent() const { return m_second; }

  // Trajectory points shown (segments share their end points, so this is C, not the sum).
  int trajectoryPointCount() const { return m_pointCount; }
  const std::vector<QLineSeries*>& segments() const { return m_segments; }
  QScatterSeries* startSeries() const { return m_start; }
  QScatterSeries* endSeries() const { return m_end; }

 private:
  void rebuild();

  std::shared_ptr<const RingAnalysis> m_ring;
  int m_second = 2;
  int m_pointCount = 0;
  std::vector<QLineSeries*> m_segments;
  QScatterSeries* m_start = nullptr;
  QScatterSeries* m_end = nullptr;
};

class VarianceChart : public ChartView {
  Q_OBJECT

 public:
  static constexpr int kComponents = 10;

  explicit VarianceChart(QWidget* parent = nullptr);
  ~VarianceChart() override;

  void setState(const driftscope::AnalysisState& s, const PlotContext& ctx);
  void resetZoom() override;

  QBarSet* trajectorySet() const { return m_trajectory; }
  QBarSet* randomWalkSet() const { return m_randomWalk; }

 protected:
  QString hoverTextAt(const QPointF& pos) override;

 private:
  QBarSeries* m_bars = nullptr;
  QBarSet* m_trajectory = nullptr;
  QBarSet* m_randomWalk = nullptr;
  QBarCategoryAxis* m_categories = nullptr;
  QValueAxis* m_values = nullptr;
  QString m_barHover;
};

}  // namespace driftscope::ui
