#include "ui/charts/comparison_chart.h"

#include <QLineSeries>
#include <QScatterSeries>

namespace driftscope::ui {
namespace {

QColor curveColour(int colour) {
  return colour == ReportCurve::kNeutral ? QColor(0x70, 0x70, 0x70)
                                         : ChartView::paletteColor(colour);
}

}  // namespace

ComparisonChart::ComparisonChart(const ReportFigure& figure, QWidget* parent) : ChartView(parent) {
  setChartTitle(QString::fromStdString(figure.title));
  setLogX(figure.logX);  // before setupAxes: the axes are created with this scale
  setLogY(figure.logY);
  setupAxes(QString::fromStdString(figure.xLabel), QString::fromStdString(figure.yLabel));
  setHoverNames(QString::fromStdString(figure.xLabel), QString::fromStdString(figure.yLabel));
  setLeftIncludesZero(!figure.logY);
  for (const ReportCurve& c : figure.curves) {
    const QColor colour = curveColour(c.colour);
    QXYSeries* series = nullptr;
    QPen pen(colour, 2.0);
    if (c.style == CurveStyle::kPoints) {
      auto* scatter = new QScatterSeries;
      scatter->setMarkerShape(QScatterSeries::MarkerShapeCircle);
      scatter->setMarkerSize(6.0);
      pen = QPen(colour.darker(130), 1.0);
      series = scatter;
    } else {
      series = new QLineSeries;
      if (c.style == CurveStyle::kDashed) pen.setStyle(Qt::DashLine);
      if (c.style == CurveStyle::kDotted) {
        pen.setStyle(Qt::DotLine);
        pen.setWidthF(2.5);
      }
    }
    series->setName(QString::fromStdString(c.name));
    addSeries(series, Side::kLeft, pen);
    if (c.style == CurveStyle::kPoints) {
      series->setColor(colour);
      static_cast<QScatterSeries*>(series)->setBorderColor(colour.darker(130));
    }
    QList<QPointF> points;
    points.reserve(static_cast<qsizetype>(c.x.size()));
    for (std::size_t i = 0; i < c.x.size() && i < c.y.size(); ++i) points.append({c.x[i], c.y[i]});
    setPoints(series, points);
    m_series.append(series);
  }
  resetZoom();
}

ComparisonChart::~ComparisonChart() = default;

}  // namespace driftscope::ui
