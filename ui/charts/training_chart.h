// TrainingChart: the raw mini-batch loss (AnalysisState::batchLoss) with its centred
// moving average, train and test loss per epoch (full-set evaluations from
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

  static constexpr int kAverageWindow = 11;
  QLineSeries* batchLossSeries() const { return m_batchLoss; }
  QLineSeries* batchAverageSeries() const { return m_batchAverage; }
  QLineSeries* trainLossSeries() const { return m_trainLoss; }
  QLineSeries* testLossSeries() const { return m_testLoss; }
  QLineSeries* testAccuracySeries() const { return m_testAcc; }
  using ChartView::eventLineCount;

 private:
  QLineSeries* m_batchLoss = nullptr;
  QLineSeries* m_batchAverage = nullptr;
  QLineSeries* m_trainLoss = nullptr;
  QLineSeries* m_testLoss = nullptr;
  QLineSeries* m_testAcc = nullptr;
};

}  // namespace driftscope::ui
