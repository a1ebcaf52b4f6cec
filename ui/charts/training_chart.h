// TrainingChart: train and test loss per epoch (full-set evaluations from
// AnalysisState::metrics) with test accuracy on a right-hand axis, plus vertical lines at
// the end of burn-in (recording start) and at every learning-rate change. GUI thread only.
#pragma once

#include "ui/charts/chart_view.h"
#include "ui/charts/plot_context.h"

namespace driftscope {
struct AnalysisState;
}

namespace driftscope::ui {

class TrainingChart : public ChartView {
  Q_OBJECT

 public:
  explicit TrainingChart(QWidget* parent = nullptr);
  ~TrainingChart() override;

  void setState(const driftscope::AnalysisState& s, const PlotContext& ctx);

  QLineSeries* trainLossSeries() const { return m_trainLoss; }
  QLineSeries* testLossSeries() const { return m_testLoss; }
  QLineSeries* testAccuracySeries() const { return m_testAcc; }
  using ChartView::eventLineCount;

 private:
  QLineSeries* m_trainLoss = nullptr;
  QLineSeries* m_testLoss = nullptr;
  QLineSeries* m_testAcc = nullptr;
};

}  // namespace driftscope::ui
