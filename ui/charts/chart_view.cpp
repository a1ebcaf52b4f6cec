#include "ui/charts/chart_view.h"

#include <QAreaSeries>
#include <QBarSeries>
#include <QBarSet>
#include <QBrush>
#include <QFont>
#include <QGraphicsLayout>
#include <QGraphicsRectItem>
#include <QGraphicsSimpleTextItem>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMouseEvent>
#include <QScatterSeries>
#include <QValueAxis>
#include <QWheelEvent>
#include <algorithm>
#include <array>
#include <cmath>

#include "ui/charts/chart_legend.h"

namespace driftscope::ui {

namespace {

constexpr double kWheelZoomStep = 1.25;    // zoom factor of one wheel notch
constexpr double kEventHoverPixels = 5.0;  // how close the cursor must be to an event line
constexpr int kLegendSide = 6;             // legend inset from the chart's left/right edge
constexpr int kLegendBottom = 4;           // legend inset from the chart's bottom edge
// Below either size the chart uses the small fonts.
constexpr double kCompactWidth = 560.0;
constexpr double kCompactHeight = 420.0;

QString formatValue(double v) { return QString::number(v, 'g', 4); }

}  // namespace

ChartView::ChartView(QWidget* parent) : QChartView(parent) {
  m_look = PlotLook::forPalette(palette());
  applyLightTheme(chart());
  setRenderHint(QPainter::Antialiasing);
  setRubberBand(QChartView::RectangleRubberBand);
  setMouseTracking(true);
  setMinimumSize(320, 220);

  m_hoverBox = new QGraphicsRectItem(chart());
  m_hoverBox->setZValue(1000);
  m_hoverItem = new QGraphicsSimpleTextItem(m_hoverBox);
  QFont f = m_hoverItem->font();
  f.setPointSizeF(9.0);
  m_hoverItem->setFont(f);
  m_hoverBox->hide();

  // Our own legend, which wraps. QLegend keeps the markers (names, visibility) it mirrors:
  // it stays "visible" (a hidden legend reports every marker hidden) but detached from the
  // layout, transparent and out of sight.
  QLegend* qtLegend = chart()->legend();
  qtLegend->detachFromChart();
  qtLegend->setOpacity(0.0);
  qtLegend->setShowToolTips(false);
  qtLegend->setGeometry(QRectF(-10000.0, -10000.0, 2000.0, 400.0));
  m_legend = new ChartLegend(chart());
  chart()->layout()->setContentsMargins(0, 0, 0, 0);
  applyFonts();
  applyLook();

  // The scene's own rect would otherwise grow to the union of every item ever shown
  // (event lines reach far beyond the plot), and exporters render scene()->sceneRect().
  connect(chart(), &QGraphicsWidget::geometryChanged, this, [this] {
    scene()->setSceneRect(chart()->sceneBoundingRect());
    onChartResized();
  });
  scene()->setSceneRect(chart()->sceneBoundingRect());
  connect(chart(), &QChart::plotAreaChanged, this, [this](const QRectF& plot) {
    if (plot.width() > 20.0 && plot.height() > 20.0) {
      m_plotReserve = chart()->size() - plot.size();
    }
    updateEventTags();
  });
}

ChartView::~ChartView() = default;

void ChartView::applyLightTheme(QChart* c) {
  c->setTheme(QChart::ChartThemeLight);
  c->setAnimationOptions(QChart::NoAnimation);
  c->setBackgroundBrush(Qt::white);
  c->setBackgroundPen(Qt::NoPen);
  c->setBackgroundRoundness(0);
  c->setPlotAreaBackgroundVisible(false);
  c->setMargins(QMargins(8, 6, 14, 6));
  QFont title = c->titleFont();
  title.setPointSizeF(11.0);
  title.setBold(true);
  c->setTitleFont(title);
  c->setTitleBrush(QColor(0x20, 0x20, 0x20));
  QLegend* legend = c->legend();
  legend->setAlignment(Qt::AlignBottom);
  QFont lf = legend->font();
  lf.setPointSizeF(9.0);
  legend->setFont(lf);
  legend->setLabelColor(QColor(0x20, 0x20, 0x20));
  legend->setBackgroundVisible(false);
  legend->setShowToolTips(true);
  legend->setMarkerShape(QLegend::MarkerShapeFromSeries);  // lines for line series
}

QColor ChartView::paletteColor(int i) {
  static const std::array<QColor, 10> kColors = {
      QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
      QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
      QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f), QColor(0xbc, 0xbd, 0x22),
      QColor(0x17, 0xbe, 0xcf)};
  return kColors[static_cast<std::size_t>(std::abs(i)) % kColors.size()];
}

QGraphicsScene* ChartView::exportScene() { return scene(); }

void ChartView::setChartTitle(const QString& title) {
  m_title = title;
  chart()->setTitle(m_titleVisible ? m_title : QString());
}

void ChartView::setTitleVisible(bool on) {
  if (on == m_titleVisible) return;
  m_titleVisible = on;
  chart()->setTitle(m_titleVisible ? m_title : QString());
  updateLayout();
  // Lay the chart out now, so that an export right after this call shows the change.
  chart()->layout()->activate();
}

void ChartView::setLegendOrder(const QList<QAbstractSeries*>& first) { m_legend->setOrder(first); }

void ChartView::setLegendGradient(QAbstractSeries* series, const QGradientStops& stops) {
  m_legendGradients.insert(series, stops);
  QGradientStops shown = stops;
  for (QGradientStop& s : shown) s.second = m_look.readable(s.second);
  m_legend->setGradient(series, shown);
}

void ChartView::setExportLook(bool on) {
  if (on == m_exportLook) return;
  m_exportLook = on;
  applyLook();
}

void ChartView::changeEvent(QEvent* event) {
  QChartView::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange) {
    applyLook();
  }
}

QPen ChartView::lookPen(QPen pen) const {
  pen.setColor(m_look.readable(pen.color()));
  return pen;
}

void ChartView::applyLook() {
  const PlotLook look = m_exportLook ? PlotLook::light() : PlotLook::forPalette(palette());
  chart()->setBackgroundBrush(look.background);
  setBackgroundBrush(look.background);
  chart()->setTitleBrush(look.title);
  m_legend->setTextColor(look.text);
  m_hoverBox->setBrush(look.hoverFill);
  m_hoverBox->setPen(QPen(look.hoverBorder));
  m_hoverItem->setBrush(look.hoverText);
  const bool changed = look.dark != m_look.dark || look.background != m_look.background;
  m_look = look;
  const auto axes = chart()->axes();
  for (QAbstractAxis* a : axes) styleAxis(a);
  adoptSeries();
  if (changed) {
    for (auto it = m_lightColours.cbegin(); it != m_lightColours.cend(); ++it) {
      colourSeries(it.key(), it.value());
    }
  }
  for (auto it = m_legendGradients.cbegin(); it != m_legendGradients.cend(); ++it) {
    QGradientStops shown = it.value();
    for (QGradientStop& s : shown) s.second = m_look.readable(s.second);
    m_legend->setGradient(it.key(), shown);
  }
  for (std::size_t i = 0; i < m_eventLines.size() && i < m_eventSeries.size(); ++i) {
    m_eventSeries[i]->setPen(lookPen(m_eventLines[i].pen));
  }
  updateEventTags();
  updateLayout();  // the legend re-reads the series' pens
  m_legend->update();
}

void ChartView::adoptSeries() {
  const auto all = chart()->series();
  for (QAbstractSeries* s : all) {
    if (m_lightColours.contains(s)) continue;
    if (std::find(m_eventSeries.begin(), m_eventSeries.end(), s) != m_eventSeries.end()) continue;
    LightColours light;
    if (auto* area = qobject_cast<QAreaSeries*>(s)) {
      light.pen = area->pen();
      light.brush = area->brush();
    } else if (auto* xy = qobject_cast<QXYSeries*>(s)) {
      light.pen = xy->pen();
      light.brush = xy->brush();
    } else if (auto* bars = qobject_cast<QBarSeries*>(s)) {
      const auto sets = bars->barSets();
      for (QBarSet* set : sets) light.bars.append({set->color(), set->borderColor()});
    }
    m_lightColours.insert(s, light);
    if (m_look.dark) colourSeries(s, light);
  }
}

void ChartView::colourSeries(QAbstractSeries* series, const LightColours& light) const {
  if (auto* area = qobject_cast<QAreaSeries*>(series)) {
    area->setPen(lookPen(light.pen));
    QBrush brush = light.brush;
    // Translucent fills blend with the background by themselves.
    if (brush.style() != Qt::NoBrush && brush.color().alpha() == 255) {
      brush.setColor(m_look.readable(brush.color()));
    }
    area->setBrush(brush);
  } else if (auto* xy = qobject_cast<QXYSeries*>(series)) {
    xy->setPen(lookPen(light.pen));
    if (qobject_cast<QScatterSeries*>(series) != nullptr) {
      QBrush brush = light.brush;
      if (brush.style() != Qt::NoBrush) brush.setColor(m_look.readable(brush.color()));
      xy->setBrush(brush);
    }
  } else if (auto* bars = qobject_cast<QBarSeries*>(series)) {
    const auto sets = bars->barSets();
    for (qsizetype i = 0; i < sets.size() && i < light.bars.size(); ++i) {
      sets[i]->setColor(m_look.readable(light.bars[i].first));
      sets[i]->setBorderColor(m_look.readable(light.bars[i].second));
    }
  }
}

void ChartView::applyFonts() {
  QFont title = chart()->titleFont();
  title.setPointSizeF(m_compact ? 10.0 : 11.0);
  title.setBold(true);
  chart()->setTitleFont(title);
  QFont legend = chart()->legend()->font();
  legend.setPointSizeF(m_compact ? 8.0 : 9.0);
  m_legend->setFont(legend);
  QFont hover = m_hoverItem->font();
  hover.setPointSizeF(m_compact ? 8.0 : 9.0);
  m_hoverItem->setFont(hover);
  for (QGraphicsSimpleTextItem* tag : m_eventTags) {
    QFont f = tag->font();
    f.setPointSizeF(m_compact ? 7.5 : 8.5);
    tag->setFont(f);
  }
  const auto axes = chart()->axes();
  for (QAbstractAxis* a : axes) styleAxis(a);
}

void ChartView::updateLayout() {
  adoptSeries();
  const QSizeF size = chart()->size();
  const bool compact = size.width() < kCompactWidth || size.height() < kCompactHeight;
  if (compact != m_compact) {
    m_compact = compact;
    applyFonts();
  }
  const qreal legendH = m_legend->relayout(size.width() - 2 * kLegendSide);
  m_legend->setPos(kLegendSide, size.height() - kLegendBottom - legendH);
  const int bottom = legendH > 0.0 ? static_cast<int>(std::ceil(legendH)) + kLegendBottom + 6 : 6;
  // Right: room for the last x tick label to overhang the plot.
  const QMargins margins(6, m_titleVisible ? 4 : 8, 12, bottom);
  if (chart()->margins() != margins) chart()->setMargins(margins);
}

QString ChartView::hoverText() const {
  return m_hoverBox->isVisible() ? m_hoverItem->text() : QString();
}

void ChartView::setHoverNames(const QString& x, const QString& y, const QString& y2) {
  m_hoverX = x;
  m_hoverY = y;
  m_hoverY2 = y2;
}

void ChartView::addSeries(QXYSeries* series, Side side, const QPen& pen, bool inRange) {
  chart()->addSeries(series);
  if (m_axisX != nullptr) series->attachAxis(m_axisX);
  QAbstractAxis* y = side == Side::kLeft ? m_axisY : m_axisY2;
  if (y != nullptr) series->attachAxis(y);
  series->setPen(pen);
  m_attached.append({series, side});
  m_data.insert(series, SeriesData{side, inRange, {}});
}

void ChartView::addAreaSeries(QAreaSeries* area, Side side, bool inRange) {
  chart()->addSeries(area);
  if (m_axisX != nullptr) area->attachAxis(m_axisX);
  QAbstractAxis* y = side == Side::kLeft ? m_axisY : m_axisY2;
  if (y != nullptr) area->attachAxis(y);
  m_attached.append({area, side});
  if (area->upperSeries() != nullptr) m_data.insert(area->upperSeries(), {side, inRange, {}});
  if (area->lowerSeries() != nullptr) m_data.insert(area->lowerSeries(), {side, inRange, {}});
}

void ChartView::removeSeries(QAbstractSeries* series) {
  if (series == nullptr) return;
  for (qsizetype i = 0; i < m_attached.size(); ++i) {
    if (m_attached[i].series == series) {
      m_attached.removeAt(i);
      break;
    }
  }
  if (auto* area = qobject_cast<QAreaSeries*>(series)) {
    m_data.remove(area->upperSeries());
    m_data.remove(area->lowerSeries());
  }
  if (auto* xy = qobject_cast<QXYSeries*>(series)) m_data.remove(xy);
  m_lightColours.remove(series);
  m_legendGradients.remove(series);
  chart()->removeSeries(series);
  delete series;
}

void ChartView::applyFilter(QXYSeries* series, const SeriesData& data) {
  const bool dropX = m_logX && m_axisX != nullptr;
  const bool dropY = m_logY && data.side == Side::kLeft && m_axisY != nullptr;
  QList<QPointF> shown;
  shown.reserve(data.raw.size());
  for (const QPointF& p : data.raw) {
    if (!std::isfinite(p.x()) || !std::isfinite(p.y())) continue;
    if (dropX && p.x() <= 0.0) continue;
    if (dropY && p.y() <= 0.0) continue;
    shown.append(p);
  }
  series->replace(shown);
}

void ChartView::setPoints(QXYSeries* series, const QList<QPointF>& points) {
  auto it = m_data.find(series);
  Q_ASSERT(it != m_data.end());
  if (it == m_data.end()) return;
  it->raw = points;
  applyFilter(series, *it);
}

void ChartView::hideLegendMarker(QChart* c, QAbstractSeries* series) {
  const auto markers = c->legend()->markers(series);
  for (QLegendMarker* m : markers) {
    m->setVisible(false);
    m->setProperty(ChartLegend::kHiddenProperty, true);
  }
}

void ChartView::setEventLines(const std::vector<EventLine>& lines) {
  m_eventLines = lines;
  while (m_eventSeries.size() < m_eventLines.size()) {
    auto* s = new QLineSeries;
    chart()->addSeries(s);
    if (m_axisX != nullptr) s->attachAxis(m_axisX);
    if (m_axisY != nullptr) s->attachAxis(m_axisY);
    m_attached.append({s, Side::kLeft});
    hideLegendMarker(chart(), s);
    m_eventSeries.push_back(s);
    auto* tag = new QGraphicsSimpleTextItem(chart());
    QFont f = tag->font();
    f.setPointSizeF(m_compact ? 7.5 : 8.5);
    tag->setFont(f);
    tag->setZValue(900);
    tag->hide();
    m_eventTags.push_back(tag);
  }
  for (std::size_t i = 0; i < m_eventSeries.size(); ++i) {
    QLineSeries* s = m_eventSeries[i];
    const bool used = i < m_eventLines.size();
    s->setVisible(used);
    if (used) {
      s->setPen(lookPen(m_eventLines[i].pen));
      s->setName(m_eventLines[i].label);
    }
    hideLegendMarker(chart(), s);  // setVisible() shows the marker again
  }
  updateEventLines();
}

void ChartView::updateEventLines() {
  double lo = 0.0;
  double hi = 1.0;
  if (auto* v = qobject_cast<QValueAxis*>(m_axisY)) {
    lo = v->min();
    hi = v->max();
  } else if (auto* l = qobject_cast<QLogValueAxis*>(m_axisY)) {
    lo = l->min();
    hi = l->max();
  }
  // Beyond the current range, so the lines still span the plot after zooming out a bit.
  const bool log = m_logY;
  const double a = log ? lo / 1e3 : lo - 10.0 * (hi - lo);
  const double b = log ? hi * 1e3 : hi + 10.0 * (hi - lo);
  for (std::size_t i = 0; i < m_eventLines.size(); ++i) {
    const double x = m_eventLines[i].x;
    if (m_logX && x <= 0.0) {
      m_eventSeries[i]->clear();
      continue;
    }
    m_eventSeries[i]->replace(QList<QPointF>{{x, a}, {x, b}});
  }
  updateEventTags();
}

void ChartView::updateEventTags() {
  const QRectF plot = chart()->plotArea();
  std::vector<QRectF> placed;  // tags already drawn; a tag that would overlap goes lower
  for (std::size_t i = 0; i < m_eventTags.size(); ++i) {
    QGraphicsSimpleTextItem* tag = m_eventTags[i];
    const bool used =
        i < m_eventLines.size() && !m_eventLines[i].tag.isEmpty() && m_eventSeries[i]->count() > 0;
    if (!used) {
      tag->hide();
      continue;
    }
    const QPointF first = m_eventSeries[i]->at(0);
    const double px = chart()->mapToPosition(first, m_eventSeries[i]).x();
    if (!(px >= plot.left() && px <= plot.right())) {
      tag->hide();
      continue;
    }
    tag->setText(m_eventLines[i].tag);
    const QColor colour = m_eventLines[i].pen.color();
    tag->setBrush(m_look.dark ? m_look.readable(colour, PlotLook::kTextContrast)
                              : colour.darker(130));
    const QRectF box = tag->boundingRect();
    // Right of the line, or left of it when that would run out of the plot.
    const double x = px + 3.0 + box.width() <= plot.right() ? px + 3.0 : px - 3.0 - box.width();
    QRectF at(x, plot.top() + 2.0, box.width(), box.height());
    for (bool moved = true; moved;) {
      moved = false;
      for (const QRectF& r : placed) {
        if (r.adjusted(-2.0, 0.0, 2.0, 0.0).intersects(at)) {
          at.moveTop(r.bottom() + 1.0);
          moved = true;
        }
      }
    }
    placed.push_back(at);
    tag->setPos(at.topLeft());
    tag->show();
  }
}

QAbstractSeries* ChartView::anySeries(Side side) const {
  for (const Attached& a : m_attached) {
    if (a.side == side) return a.series;
  }
  return nullptr;
}

QString ChartView::hoverTextAt(const QPointF& pos) {
  if (!chart()->plotArea().contains(pos) || m_axisX == nullptr) return {};
  QAbstractSeries* left = anySeries(Side::kLeft);
  if (left == nullptr) return {};
  const QPointF v = chart()->mapToValue(pos, left);
  QString text = QStringLiteral("%1 = %2   %3 = %4")
                     .arg(m_hoverX, formatValue(v.x()), m_hoverY, formatValue(v.y()));
  if (m_axisY2 != nullptr && !m_hoverY2.isEmpty()) {
    if (QAbstractSeries* right = anySeries(Side::kRight)) {
      text += QStringLiteral("   %1 = %2")
                  .arg(m_hoverY2, formatValue(chart()->mapToValue(pos, right).y()));
    }
  }
  for (std::size_t i = 0; i < m_eventLines.size(); ++i) {
    const EventLine& e = m_eventLines[i];
    if (m_eventLines[i].label.isEmpty() || m_eventSeries[i]->count() == 0) continue;
    const QPointF at = chart()->mapToPosition(QPointF(e.x, v.y()), m_eventSeries[i]);
    if (std::abs(at.x() - pos.x()) <= kEventHoverPixels) {
      text += QLatin1Char('\n') + e.label;
    }
  }
  return text;
}

void ChartView::showHover(const QString& text) {
  if (text.isEmpty()) {
    m_hoverBox->hide();
    return;
  }
  m_hoverItem->setText(text);
  const QRectF br = m_hoverItem->boundingRect();
  m_hoverItem->setPos(4.0, 2.0);
  m_hoverBox->setRect(0.0, 0.0, br.width() + 8.0, br.height() + 4.0);
  const QRectF plot = chart()->plotArea();
  m_hoverBox->setPos(plot.right() - br.width() - 14.0, plot.top() + 6.0);
  m_hoverBox->show();
}

void ChartView::mouseMoveEvent(QMouseEvent* event) {
  const QPointF scenePos = mapToScene(event->position().toPoint());
  showHover(hoverTextAt(chart()->mapFromScene(scenePos)));
  QChartView::mouseMoveEvent(event);
}

void ChartView::mouseDoubleClickEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) {
    resetZoom();
    event->accept();
    return;
  }
  QChartView::mouseDoubleClickEvent(event);
}

void ChartView::wheelEvent(QWheelEvent* event) {
  const int delta = event->angleDelta().y();
  const QRectF plot = chart()->plotArea();
  const QPointF c = chart()->mapFromScene(mapToScene(event->position().toPoint()));
  if (delta == 0 || !plot.contains(c) || m_axisX == nullptr) {
    QChartView::wheelEvent(event);
    return;
  }
  const double factor = delta > 0 ? kWheelZoomStep : 1.0 / kWheelZoomStep;
  // Keep the value under the cursor where it is.
  const double w = plot.width() / factor;
  const double h = plot.height() / factor;
  const double left = c.x() - (c.x() - plot.left()) / factor;
  const double top = c.y() - (c.y() - plot.top()) / factor;
  chart()->zoomIn(QRectF(left, top, w, h));
  event->accept();
}

void ChartView::leaveEvent(QEvent* event) {
  m_hoverBox->hide();
  QChartView::leaveEvent(event);
}

void ChartView::resizeEvent(QResizeEvent* event) {
  m_hoverBox->hide();
  QChartView::resizeEvent(event);
}

}  // namespace driftscope::ui
