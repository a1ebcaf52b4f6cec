// ChartView's axes: creation and styling, the linear <-> logarithmic swap, fitting the
// ranges to the data, and tick intervals that follow the chart's pixel size.
#include <QAbstractSeries>
#include <QFontMetricsF>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <limits>

#include "ui/charts/chart_view.h"

namespace driftscope::ui {

namespace {

constexpr double kEdgePadding = 0.02;  // fraction of the range added beyond the outer ticks
constexpr int kMaxTicks = 10;          // tick intervals at most, however much room
// Room per tick interval: the widest label plus a gap on x, a multiple of the text height
// on y. Before the first layout: what axes, titles and margins take from the chart.
constexpr double kLabelGapX = 18.0;
constexpr double kLabelPitchY = 2.6;
constexpr double kDefaultReserveX = 110.0;
constexpr double kDefaultReserveY = 80.0;
// Qt steps from the tick anchor by repeated addition, so a tick meant to be 0 comes out as
// +-1e-17 and prints as "-0.00"; anchoring a hair above the nice value keeps it positive.
constexpr double kAnchorNudge = 1e-9;  // in tick intervals

// 1, 2 or 5 times a power of ten, >= raw.
double niceStepAtLeast(double raw) {
  if (!(raw > 0.0) || !std::isfinite(raw)) return 1.0;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * p >= raw * (1.0 - 1e-9)) return m * p;
  }
  return 10.0 * p;
}

// Just the decimals the step needs ("%.0f" for 500, "%.2f" for 0.05); "%.3g" for huge or
// tiny values, where fixed notation would be long.
QString labelFormatFor(double step, double lo, double hi) {
  const double mag = std::max(std::abs(lo), std::abs(hi));
  if (mag >= 1e6 || step < 1e-4) return QStringLiteral("%.3g");
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return QStringLiteral("%.%1f").arg(decimals);
}

// The pixels an axis has for its ticks and the font of their labels.
struct TickRoom {
  double pixels = 0.0;
  bool horizontal = true;
  QFont font;

  // The finest 1-2-5 step over [lo, hi] (at most kMaxTicks intervals) whose labels fit.
  double fittingStep(double lo, double hi) const {
    const QFontMetricsF fm(font);
    double step = niceStepAtLeast((hi - lo) / kMaxTicks);
    for (int i = 0; i < 40; ++i, step = niceStepAtLeast(step * 1.5)) {
      const double a = std::floor(lo / step + 1e-9) * step;
      const double b = std::ceil(hi / step - 1e-9) * step;
      const double n = std::max(std::round((b - a) / step), 1.0);
      double need = kLabelPitchY * fm.height();
      if (horizontal) {
        const QByteArray format = labelFormatFor(step, a, b).toLatin1();
        need = std::max(fm.horizontalAdvance(QString::asprintf(format.constData(), a)),
                        fm.horizontalAdvance(QString::asprintf(format.constData(), b))) +
               kLabelGapX;
      }
      if (n * need <= pixels) return step;
    }
    return step;
  }
};

// The plot gets the chart's size less `reserve`, what axes, titles and margins took from
// it at the last layout (the plot area itself may not be laid out for this size yet).
TickRoom roomFor(const QChart* chart, const QAbstractAxis* axis, const QSizeF& reserve) {
  TickRoom room;
  room.horizontal = axis->orientation() == Qt::Horizontal;
  room.font = axis->labelsFont();
  const QSizeF size = chart->size();
  if (room.horizontal) {
    room.pixels = size.width() - (reserve.isValid() ? reserve.width() : kDefaultReserveX);
  } else {
    room.pixels = size.height() - (reserve.isValid() ? reserve.height() : kDefaultReserveY);
  }
  room.pixels = std::max(room.pixels, 40.0);
  return room;
}

void setTicks(QValueAxis* axis, double anchor, double step, double lo, double hi) {
  axis->setTickType(QValueAxis::TicksDynamic);
  axis->setTickAnchor(anchor + kAnchorNudge * step);
  axis->setTickInterval(step);
  axis->setLabelFormat(labelFormatFor(step, lo, hi));
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
// (so that there are always labelled ticks), nice ticks as dense as `room` allows on a
// linear one.
void applyRange(QAbstractAxis* axis, Range r, bool includeZero, const TickRoom& room) {
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
  const double step = room.fittingStep(r.lo, r.hi);
  const double lo = std::floor(r.lo / step + 1e-9) * step;
  const double hi = std::ceil(r.hi / step - 1e-9) * step;
  // A little air beyond the outer ticks so markers on the edge are not cut in half (none
  // below a zero the axis is anchored at); the ticks stay on the nice values.
  const double pad = kEdgePadding * (hi - lo);
  const double padLo = (includeZero && lo == 0.0) ? 0.0 : pad;
  setTicks(value, lo, step, lo, hi);
  value->setRange(lo - padLo, hi + pad);
}

}  // namespace

void ChartView::applyFixedRange(QValueAxis* axis, double lo, double hi) const {
  const double step = roomFor(chart(), axis, m_plotReserve).fittingStep(lo, hi);
  setTicks(axis, std::ceil(lo / step - 1e-9) * step, step, lo, hi);
  // The nudged anchor would put a tick on hi just beyond it, and Qt would drop it.
  axis->setRange(lo, hi + 2.0 * kAnchorNudge * step);
}

void ChartView::styleAxis(QAbstractAxis* axis) const {
  QFont labels = axis->labelsFont();
  labels.setPointSizeF(m_compact ? 8.0 : 9.0);
  axis->setLabelsFont(labels);
  axis->setLabelsColor(m_look.tickText);
  QFont title = axis->titleFont();
  title.setPointSizeF(m_compact ? 8.5 : 9.5);
  title.setBold(false);
  axis->setTitleFont(title);
  axis->setTitleBrush(m_look.text);
  axis->setGridLineColor(m_look.grid);
  axis->setMinorGridLineColor(m_look.minorGrid);
  axis->setLinePenColor(m_look.axisLine);
}

void ChartView::watchRange(QAbstractAxis* axis) {
  if (auto* v = qobject_cast<QValueAxis*>(axis)) {
    connect(v, &QValueAxis::rangeChanged, this, [this, v] {
      retick(v);
      updateEventTags();
    });
  } else if (auto* l = qobject_cast<QLogValueAxis*>(axis)) {
    connect(l, &QLogValueAxis::rangeChanged, this, [this] { updateEventTags(); });
  }
}

void ChartView::retick(QAbstractAxis* axis) {
  auto* v = qobject_cast<QValueAxis*>(axis);
  if (m_applyingRange || v == nullptr || !(v->max() > v->min())) return;
  const double step = roomFor(chart(), v, m_plotReserve).fittingStep(v->min(), v->max());
  setTicks(v, std::ceil(v->min() / step - 1e-9) * step, step, v->min(), v->max());
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
    a->setLabelFormat(QStringLiteral("%.3g"));
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
  watchRange(m_axisY2);
}

void ChartView::setRightRange(double lo, double hi) {
  m_hasRightRange = true;
  m_rightLo = lo;
  m_rightHi = hi;
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
  updateLayout();  // the legend's height decides the room for ticks
  m_applyingRange = true;
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
  if (m_axisX != nullptr) applyRange(m_axisX, x, false, roomFor(chart(), m_axisX, m_plotReserve));
  if (m_axisY != nullptr) {
    applyRange(m_axisY, left, m_leftIncludesZero && !m_logY,
               roomFor(chart(), m_axisY, m_plotReserve));
  }
  if (auto* y2 = qobject_cast<QValueAxis*>(m_axisY2)) {
    if (m_hasRightRange) {
      applyFixedRange(y2, m_rightLo, m_rightHi);
    } else {
      applyRange(y2, right, false, roomFor(chart(), y2, m_plotReserve));
    }
  }
  m_applyingRange = false;
  updateEventLines();
}

void ChartView::autoRange() {
  if (chart()->isZoomed()) {
    updateLayout();
  } else {
    resetZoom();
  }
}

void ChartView::onChartResized() {
  updateLayout();
  if (chart()->isZoomed()) {
    for (QAbstractAxis* a : {m_axisX, m_axisY, m_axisY2}) {
      if (a != nullptr) retick(a);
    }
    return;
  }
  resetZoom();  // virtual: subclasses with their own axes re-fit them too
}

}  // namespace driftscope::ui
