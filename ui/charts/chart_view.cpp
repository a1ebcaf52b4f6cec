#include "ui/charts/chart_view.h"

#include <QAreaSeries>
#include <QBrush>
#include <QFont>
#include <QGraphicsRectItem>
#include <QGraphicsSimpleTextItem>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMouseEvent>
#include <QValueAxis>
#include <QWheelEvent>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace driftscope::ui {

namespace {

constexpr double kTargetTicks = 5.0;       // tick intervals a linear axis aims for
constexpr double kEdgePadding = 0.02;      // fraction of the range added beyond the outer ticks
constexpr double kWheelZoomStep = 1.25;    // zoom factor of one wheel notch
constexpr double kEventHoverPixels = 5.0;  // how close the cursor must be to an event line

QString formatValue(double v) { return QString::number(v, 'g', 4); }

// 1, 2 or 5 times a power of ten, >= raw.
double niceStep(double raw) {
  if (!(raw > 0.0) || !std::isfinite(raw)) return 1.0;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * p >= raw * (1.0 - 1e-9)) return m * p;
  }
  return 10.0 * p;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool valid() const { return lo <= hi; }
};

// Sets a value or log axis to cover [lo, hi] with some air: whole decades on a log axis
// (so that there are always labelled ticks), nice numbers on a linear one.
void applyRange(QAbstractAxis* axis, Range r, bool includeZero) {
  if (auto* log = qobject_cast<QLogValueAxis*>(axis)) {
    if (!r.valid() || r.lo <= 0.0) {
      if (r.valid() && r.hi > 0.0) {
        r.lo = r.hi / 10.0;
      } else {
        r = Range{1.0, 10.0};
      }
    }
    double lo = std::pow(10.0, std::floor(std::log10(r.lo)));
    double hi = std::pow(10.0, std::ceil(std::log10(r.hi)));
    if (hi <= lo) hi = lo * 10.0;
    // A hair beyond the decades, so rounding in log10 never drops the end labels.
    log->setRange(lo * (1.0 - 1e-9), hi * (1.0 + 1e-9));
    return;
  }
  auto* value = qobject_cast<QValueAxis*>(axis);
  if (value == nullptr) return;
  if (!r.valid()) r = Range{0.0, 1.0};
  if (includeZero) {
    r.lo = std::min(r.lo, 0.0);
    r.hi = std::max(r.hi, 0.0);
  }
  if (r.hi - r.lo <= 0.0) {
    const double half = std::max(std::abs(r.hi) * 0.1, 0.5);
    r.lo -= half;
    r.hi += half;
  }
  // Ticks at 1, 2 or 5 times a power of ten, the range rounded out to whole ticks.
  const double step = niceStep((r.hi - r.lo) / kTargetTicks);
  const double lo = std::floor(r.lo / step + 1e-9) * step;
  const double hi = std::ceil(r.hi / step - 1e-9) * step;
  // A little air beyond the outer ticks so markers on the edge are not cut in half (none
  // below a zero the axis is anchored at); the ticks stay on the nice values.
  const double pad = kEdgePadding * (hi - lo);
  const double padLo = (includeZero && lo == 0.0) ? 0.0 : pad;
  value->setTickType(QValueAxis::TicksDynamic);
  value->setTickAnchor(lo);
  value->setTickInterval(step);
  value->setRange(lo - padLo, hi + pad);
}

void styleAxis(QAbstractAxis* axis) {
  QFont labels = axis->labelsFont();
  labels.setPointSizeF(9.0);
  axis->setLabelsFont(labels);
  axis->setLabelsColor(QColor(0x30, 0x30, 0x30));
  QFont title = axis->titleFont();
  title.setPointSizeF(9.5);
  title.setBold(false);
  axis->setTitleFont(title);
  axis->setTitleBrush(QColor(0x20, 0x20, 0x20));
  axis->setGridLineColor(QColor(0xdd, 0xdd, 0xdd));
  axis->setMinorGridLineColor(QColor(0xf0, 0xf0, 0xf0));
  axis->setLinePenColor(QColor(0x80, 0x80, 0x80));
}

}  // namespace

ChartView::ChartView(QWidget* parent) : QChartView(parent) {
  applyLightTheme(chart());
  setRenderHint(QPainter::Antialiasing);
  setRubberBand(QChartView::RectangleRubberBand);
  setMouseTracking(true);
  setMinimumSize(320, 220);

  m_hoverBox = new QGraphicsRectItem(chart());
  m_hoverBox->setBrush(QColor(255, 255, 255, 225));
  m_hoverBox->setPen(QPen(QColor(0xb0, 0xb0, 0xb0)));
  m_hoverBox->setZValue(1000);
  m_hoverItem = new QGraphicsSimpleTextItem(m_hoverBox);
  QFont f = m_hoverItem->font();
  f.setPointSizeF(9.0);
  m_hoverItem->setFont(f);
  m_hoverItem->setBrush(QColor(0x20, 0x20, 0x20));
  m_hoverBox->hide();

  // The scene's own rect would otherwise grow to the union of every item ever shown
  // (event lines reach far beyond the plot), and exporters render scene()->sceneRect().
  connect(chart(), &QGraphicsWidget::geometryChanged, this,
          [this] { scene()->setSceneRect(chart()->sceneBoundingRect()); });
  scene()->setSceneRect(chart()->sceneBoundingRect());
  connect(chart(), &QChart::plotAreaChanged, this, [this] { updateEventTags(); });
}

ChartView::~ChartView() = default;

void ChartView::watchRange(QAbstractAxis* axis) {
  if (auto* v = qobject_cast<QValueAxis*>(axis)) {
    connect(v, &QValueAxis::rangeChanged, this, [this] { updateEventTags(); });
  } else if (auto* l = qobject_cast<QLogValueAxis*>(axis)) {
    connect(l, &QLogValueAxis::rangeChanged, this, [this] { updateEventTags(); });
  }
}

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

QString ChartView::hoverText() const {
  return m_hoverBox->isVisible() ? m_hoverItem->text() : QString();
}

QAbstractAxis* ChartView::makeAxis(bool log) const {
  QAbstractAxis* axis = nullptr;
  if (log) {
    auto* a = new QLogValueAxis;
    a->setBase(10.0);
    a->setLabelFormat(QStringLiteral("%g"));
    a->setMinorTickCount(-1);
    axis = a;
  } else {
    auto* a = new QValueAxis;
    a->setLabelFormat(QStringLiteral("%.6g"));
    axis = a;
  }
  styleAxis(axis);
  return axis;
}

void ChartView::setupAxes(const QString& xTitle, const QString& yTitle) {
  Q_ASSERT(m_axisX == nullptr && m_axisY == nullptr);
  m_axisX = makeAxis(m_logX);
  m_axisX->setTitleText(xTitle);
  chart()->addAxis(m_axisX, Qt::AlignBottom);
  m_axisY = makeAxis(m_logY);
  m_axisY->setTitleText(yTitle);
  chart()->addAxis(m_axisY, Qt::AlignLeft);
  watchRange(m_axisX);
  watchRange(m_axisY);
}

void ChartView::setupRightAxis(const QString& title) {
  Q_ASSERT(m_axisY2 == nullptr);
  m_axisY2 = makeAxis(false);
  m_axisY2->setTitleText(title);
  m_axisY2->setGridLineVisible(false);
  chart()->addAxis(m_axisY2, Qt::AlignRight);
}

void ChartView::setRightRange(double lo, double hi) {
  m_hasRightRange = true;
  m_rightLo = lo;
  m_rightHi = hi;
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
  for (QLegendMarker* m : markers) m->setVisible(false);
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
    f.setPointSizeF(8.5);
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
      s->setPen(m_eventLines[i].pen);
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
    tag->setBrush(m_eventLines[i].pen.color().darker(130));
    const double w = tag->boundingRect().width();
    // Right of the line, or left of it when that would run out of the plot.
    const double x = px + 3.0 + w <= plot.right() ? px + 3.0 : px - 3.0 - w;
    tag->setPos(x, plot.top() + 2.0);
    tag->show();
  }
}

void ChartView::replaceAxis(bool xAxis, bool log) {
  QAbstractAxis*& slot = xAxis ? m_axisX : m_axisY;
  if (slot == nullptr) return;
  if (chart()->isZoomed()) chart()->zoomReset();
  QAbstractAxis* old = slot;
  QAbstractAxis* axis = makeAxis(log);
  axis->setTitleText(old->titleText());
  chart()->addAxis(axis, xAxis ? Qt::AlignBottom : Qt::AlignLeft);
  // Empty the series first: a log axis must never see a non-positive coordinate.
  for (auto it = m_data.begin(); it != m_data.end(); ++it) it.key()->clear();
  for (QLineSeries* s : m_eventSeries) s->clear();
  for (const Attached& a : m_attached) {
    if (!xAxis && a.side != Side::kLeft) continue;
    a.series->detachAxis(old);
    a.series->attachAxis(axis);
  }
  // Hide first: the presenter only deleteLater()s the axis' graphics items, which would
  // otherwise still be drawn (e.g. by an export) until the event loop runs.
  old->setVisible(false);
  chart()->removeAxis(old);
  delete old;
  slot = axis;
  watchRange(axis);
  for (auto it = m_data.begin(); it != m_data.end(); ++it) applyFilter(it.key(), it.value());
  resetZoom();
}

void ChartView::setLogX(bool on) {
  if (on == m_logX) return;
  m_logX = on;
  replaceAxis(true, on);
}

void ChartView::setLogY(bool on) {
  if (on == m_logY) return;
  m_logY = on;
  replaceAxis(false, on);
}

void ChartView::resetZoom() {
  if (chart()->isZoomed()) chart()->zoomReset();
  Range x;
  Range left;
  Range right;
  for (auto it = m_data.cbegin(); it != m_data.cend(); ++it) {
    if (!it->inRange) continue;
    const QList<QPointF> shown = it.key()->points();
    for (const QPointF& p : shown) {
      x.add(p.x());
      (it->side == Side::kLeft ? left : right).add(p.y());
    }
  }
  for (const EventLine& e : m_eventLines) {
    if (!m_logX || e.x > 0.0) x.add(e.x);
  }
  if (m_axisX != nullptr) applyRange(m_axisX, x, false);
  if (m_axisY != nullptr) applyRange(m_axisY, left, m_leftIncludesZero && !m_logY);
  if (m_axisY2 != nullptr) {
    if (m_hasRightRange) {
      right = Range{m_rightLo, m_rightHi};
      static_cast<QValueAxis*>(m_axisY2)->setRange(m_rightLo, m_rightHi);
    } else {
      applyRange(m_axisY2, right, false);
    }
  }
  updateEventLines();
}

void ChartView::autoRange() {
  if (!chart()->isZoomed()) resetZoom();
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
