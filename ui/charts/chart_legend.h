// ChartLegend: the legend of a ChartView, drawn as one graphics item under the plot. Unlike
// QLegend, which squeezes every entry into one row and elides the names, it wraps the
// entries onto as many centred rows as the width needs. It mirrors the chart's QLegend
// markers (kept out of sight): their order and labels; a marker hidden through
// ChartView::hideLegendMarker() (which sets kHiddenProperty) or a hidden series has no
// entry. (QLegendMarker::isVisible() is no guide: it is false until Qt lays the legend out.)
// Samples follow the series: a line in the series' pen (with a dot when its points are shown), the
// scatter marker shape, or a filled box for areas and bars; a series can have a colour gradient
// instead (e.g. colour = time). GUI thread only.
#pragma once

#include <QBrush>
#include <QColor>
#include <QFont>
#include <QGradientStops>
#include <QGraphicsItem>
#include <QHash>
#include <QList>
#include <QPen>
#include <QRectF>
#include <QString>
#include <QStringList>

class QAbstractSeries;
class QChart;
class QLegendMarker;

namespace driftscope::ui {

class ChartLegend : public QGraphicsItem {
 public:
  // Dynamic property of a QLegendMarker: true = no entry.
  static constexpr const char* kHiddenProperty = "driftscopeLegendHidden";

  // A child item of `chart`; lays nothing out until relayout().
  explicit ChartLegend(QChart* chart);

  // Re-reads the visible markers and flows them into rows at most `width` wide (an entry
  // wider than that alone is elided). Returns the height used, 0 when there is no entry.
  qreal relayout(qreal width);

  void setFont(const QFont& font);
  QFont font() const { return m_font; }
  void setTextColor(const QColor& color) { m_textColor = color; }
  QColor textColor() const { return m_textColor; }
  // Draw `series`' sample as a line through these stops instead of its pen.
  void setGradient(QAbstractSeries* series, const QGradientStops& stops);
  // These series come first, in this order; the rest follow in the chart's order.
  void setOrder(const QList<QAbstractSeries*>& first) { m_first = first; }

  // The entries' labels as drawn (after any eliding), in order.
  QStringList labels() const;
  int rowCount() const { return m_rows; }
  // True when some label had to be elided to fit.
  bool elided() const { return m_elided; }

  QRectF boundingRect() const override;
  void paint(QPainter* painter, const QStyleOptionGraphicsItem* option,
             QWidget* widget = nullptr) override;

 private:
  enum class Sample { kLine, kScatterCircle, kScatterRect, kScatterOther, kBox };
  struct Entry {
    QString label;
    Sample sample = Sample::kLine;
    QPen pen;
    QBrush brush;
    bool dot = false;  // a line series with its points shown
    QGradientStops gradient;
    QRectF rect;  // in item coordinates: sample + text
  };

  Entry entryFor(QLegendMarker* marker) const;

  QChart* m_chart = nullptr;
  QFont m_font;
  QColor m_textColor = QColor(0x20, 0x20, 0x20);
  QHash<QAbstractSeries*, QGradientStops> m_gradients;
  QList<QAbstractSeries*> m_first;
  QList<Entry> m_entries;
  QRectF m_bounds;
  int m_rows = 0;
  bool m_elided = false;
};

}  // namespace driftscope::ui
