// ChartView: the common base of Driftscope's Qt Charts plots. It owns the chart's x axis
// (bottom), a primary y axis (left) and an optional linear secondary y axis (right), keeps
// the raw points of every registered series so that switching an axis between linear and
// logarithmic re-filters them (a log axis never receives a non-positive coordinate, which
// would make Qt Charts drop the whole series), auto-ranges the axes from the data until the
// user zooms (rubber band, mouse wheel; double-click returns to the data range), shows a
// hover readout of the coordinates under the cursor, and draws vertical event lines
// (learning-rate changes, end of burn-in) without legend markers.
// Small plots stay readable: fonts, tick counts and tick-label precision follow the chart's
// pixel size, the legend (ChartLegend, in place of QLegend) wraps onto several rows below
// the plot, and the in-chart title is hidden unless asked for (the dashboard frames have
// their own; exporters turn it on). Axis code lives in chart_axes.cpp.
// Colours follow the application palette (PlotLook): a dark Window gives a dark chart with
// light text, and series colours too dark to read on it are lightened (the colours a
// subclass gives its series before the first layout are remembered as the light ones and
// restored in the light look). Palette changes restyle the chart at once; exporters force
// the light look for the duration of an export (setExportLook).
// Invariant: every series registered through addSeries() is attached to axisX() and to the
// y axis of its side. GUI thread only.
#pragma once

#include <QBrush>
#include <QChartView>
#include <QColor>
#include <QHash>
#include <QList>
#include <QPen>
#include <QPointF>
#include <QSizeF>
#include <QString>
#include <utility>
#include <vector>

#include "ui/charts/colormap.h"

class QAbstractAxis;
class QAbstractSeries;
class QAreaSeries;
class QGraphicsRectItem;
class QGraphicsScene;
class QGraphicsSimpleTextItem;
class QLineSeries;
class QValueAxis;
class QXYSeries;

namespace driftscope::ui {

class ChartLegend;

class ChartView : public QChartView {
  Q_OBJECT

 public:
  explicit ChartView(QWidget* parent = nullptr);
  ~ChartView() override;

  // Swap the bottom / left axis between QValueAxis and QLogValueAxis (base 10). No-op for
  // charts without value axes (bar charts).
  void setLogX(bool on);
  void setLogY(bool on);
  bool logX() const { return m_logX; }
  bool logY() const { return m_logY; }

  // Forget any zoom and fit the axes to the data (double-click does this).
  virtual void resetZoom();

  // The scene the chart lives in, for the exporters (PNG/SVG render it).
  QGraphicsScene* exportScene();

  // The current hover readout ("" when the cursor is outside the plot area).
  QString hoverText() const;

  // The chart's own title, drawn above the plot only when visible (default: hidden, as the
  // dashboard frame shows a title already). Takes effect at once, also for exportScene().
  void setTitleVisible(bool on);
  bool titleVisible() const { return m_titleVisible; }
  QString title() const { return m_title; }

  // The legend under the plot (entries in drawing order, rows as laid out last).
  const ChartLegend* chartLegend() const { return m_legend; }

  // White background, readable fonts, legend at the bottom, margins so nothing is clipped.
  static void applyLightTheme(QChart* chart);

  // The light look whatever the palette (exports); off: follow the palette again.
  void setExportLook(bool on);
  bool exportLook() const { return m_exportLook; }
  // The colours the chart is drawn with now.
  const PlotLook& look() const { return m_look; }
  // Series colours in drawing order (colour-blind friendly "tab10" order).
  static QColor paletteColor(int i);

 protected:
  enum class Side { kLeft, kRight };

  struct EventLine {
    double x = 0.0;
    QPen pen;
    QString label;  // shown by the hover readout near the line
    QString tag;    // short text drawn at the top of the line (e.g. "lr 0.05"), may be empty
  };

  void setChartTitle(const QString& title);
  // Legend: these series first (in this order); a colour gradient as a series' sample.
  void setLegendOrder(const QList<QAbstractSeries*>& first);
  void setLegendGradient(QAbstractSeries* series, const QGradientStops& stops);
  // Re-reads series names and marker visibility into the legend and re-fits the layout;
  // autoRange() and resetZoom() do this, subclasses that bypass them call it.
  void updateLayout();
  // Sets `axis` to exactly [lo, hi], with as many nice ticks as its pixel size allows.
  void applyFixedRange(QValueAxis* axis, double lo, double hi) const;
  // Fonts and colours of an axis for the current chart size.
  void styleAxis(QAbstractAxis* axis) const;

  // Creates the bottom and left axes; call once from the subclass constructor.
  void setupAxes(const QString& xTitle, const QString& yTitle);
  // Adds the linear right-hand axis.
  void setupRightAxis(const QString& title);
  QAbstractAxis* axisX() const { return m_axisX; }
  QAbstractAxis* axisY() const { return m_axisY; }
  QAbstractAxis* axisY2() const { return m_axisY2; }

  // Adds `series` to the chart (taking ownership), attached to the x axis and to `side`,
  // then applies `pen` (after the theme has coloured it). inRange: its points count when
  // fitting the axes.
  void addSeries(QXYSeries* series, Side side, const QPen& pen, bool inRange = true);
  // Adds an area series whose upper/lower lines are fed through setPoints().
  void addAreaSeries(QAreaSeries* area, Side side, bool inRange = true);
  // Removes and deletes a series added above.
  void removeSeries(QAbstractSeries* series);
  // Stores `points` as the series' data and shows those a log axis can display.
  void setPoints(QXYSeries* series, const QList<QPointF>& points);
  // Replaces the event lines (the series are pooled and reused).
  void setEventLines(const std::vector<EventLine>& lines);
  int eventLineCount() const { return static_cast<int>(m_eventLines.size()); }
  static void hideLegendMarker(QChart* chart, QAbstractSeries* series);

  // Fit the axes unless the user has zoomed; call at the end of every setState().
  void autoRange();
  // Options for resetZoom(): include y = 0 on a linear left axis; a fixed right range.
  void setLeftIncludesZero(bool on) { m_leftIncludesZero = on; }
  void setRightRange(double lo, double hi);
  // Names used by the hover readout, e.g. "epoch", "loss".
  void setHoverNames(const QString& x, const QString& y, const QString& y2 = QString());

  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void changeEvent(QEvent* event) override;

  // Text for the hover readout at the chart position `pos` (chart coordinates); subclasses
  // without value axes (bars) override it. Empty hides the readout.
  virtual QString hoverTextAt(const QPointF& pos);
  void showHover(const QString& text);

 private:
  struct SeriesData {
    Side side = Side::kLeft;
    bool inRange = true;
    QList<QPointF> raw;
  };
  struct Attached {
    QAbstractSeries* series = nullptr;
    Side side = Side::kLeft;
  };
  // A series' colours in the light look.
  struct LightColours {
    QPen pen;
    QBrush brush;
    QList<std::pair<QColor, QColor>> bars;  // per bar set: colour, border colour
  };

  QAbstractAxis* makeAxis(bool log) const;
  void replaceAxis(bool xAxis, bool log);
  // Tick interval and label precision for the axis' current range (after a zoom).
  void retick(QAbstractAxis* axis);
  void onChartResized();
  // Recomputes m_look from the palette (or the export look) and recolours everything.
  void applyLook();
  // Remembers the light colours of series not seen yet and gives them the current look.
  void adoptSeries();
  void colourSeries(QAbstractSeries* series, const LightColours& light) const;
  QPen lookPen(QPen pen) const;
  void applyFonts();
  void applyFilter(QXYSeries* series, const SeriesData& data);
  void updateEventLines();
  void updateEventTags();
  void watchRange(QAbstractAxis* axis);
  QAbstractSeries* anySeries(Side side) const;

  ChartLegend* m_legend = nullptr;
  PlotLook m_look;
  bool m_exportLook = false;
  QHash<QAbstractSeries*, LightColours> m_lightColours;
  QHash<QAbstractSeries*, QGradientStops> m_legendGradients;  // light stops
  QString m_title;
  bool m_titleVisible = false;
  bool m_compact = true;         // small-chart fonts
  bool m_applyingRange = false;  // resetZoom() is setting the ranges: no retick()
  QSizeF m_plotReserve;          // chart size - plot area size at the last layout
  bool m_logX = false;
  bool m_logY = false;
  bool m_leftIncludesZero = false;
  bool m_hasRightRange = false;
  double m_rightLo = 0.0;
  double m_rightHi = 1.0;
  QAbstractAxis* m_axisX = nullptr;
  QAbstractAxis* m_axisY = nullptr;
  QAbstractAxis* m_axisY2 = nullptr;
  QList<Attached> m_attached;
  QHash<QXYSeries*, SeriesData> m_data;
  std::vector<EventLine> m_eventLines;
  std::vector<QLineSeries*> m_eventSeries;            // pool, m_eventSeries.size() >= m_eventLines
  std::vector<QGraphicsSimpleTextItem*> m_eventTags;  // parallel to m_eventSeries
  QGraphicsRectItem* m_hoverBox = nullptr;
  QGraphicsSimpleTextItem* m_hoverItem = nullptr;
  QString m_hoverX = QStringLiteral("x");
  QString m_hoverY = QStringLiteral("y");
  QString m_hoverY2;
};

}  // namespace driftscope::ui
