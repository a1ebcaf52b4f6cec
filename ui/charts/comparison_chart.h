// ComparisonChart: one figure of a multi-run report (core/report/report.h, ReportFigure)
// drawn with Driftscope's chart look: a curve per run in the palette colour of its run
// (lines, dashed or dotted lines, or points), grey reference lines, optional log axes.
// It only renders; which curves a figure has is decided in core. GUI thread only.
#pragma once

#include "core/report/report.h"
#include "ui/charts/chart_view.h"

namespace driftscope::ui {

class ComparisonChart : public ChartView {
  Q_OBJECT

 public:
  explicit ComparisonChart(const driftscope::ReportFigure& figure, QWidget* parent = nullptr);
  ~ComparisonChart() override;

  // Series in the order of figure.curves.
  const QList<QXYSeries*>& curveSeries() const { return m_series; }

 private:
  QList<QXYSeries*> m_series;
};

}  // namespace driftscope::ui
