#include "ui/charts/chart_legend.h"

#include <QAreaSeries>
#include <QBarLegendMarker>
#include <QBarSet>
#include <QChart>
#include <QFontMetricsF>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLinearGradient>
#include <QPainter>
#include <QScatterSeries>
#include <QXYLegendMarker>
#include <algorithm>

namespace driftscope::ui {

namespace {

constexpr qreal kSampleWidth = 18.0;  // line sample length
constexpr qreal kSampleGap = 4.0;     // sample -> text
constexpr qreal kEntryGap = 12.0;     // between entries of a row
constexpr qreal kRowGap = 1.0;        // between rows

}  // namespace

ChartLegend::ChartLegend(QChart* chart) : QGraphicsItem(chart), m_chart(chart) {
  setZValue(800);
  setAcceptedMouseButtons(Qt::NoButton);
}

void ChartLegend::setFont(const QFont& font) { m_font = font; }

void ChartLegend::setGradient(QAbstractSeries* series, const QGradientStops& stops) {
  m_gradients.insert(series, stops);
}

QStringList ChartLegend::labels() const {
  QStringList out;
  for (const Entry& e : m_entries) out.append(e.label);
  return out;
}

QRectF ChartLegend::boundingRect() const { return m_bounds; }

ChartLegend::Entry ChartLegend::entryFor(QLegendMarker* marker) const {
  Entry e;
  e.label = marker->label();
  QAbstractSeries* series = marker->series();
  if (auto* bar = qobject_cast<QBarLegendMarker*>(marker)) {
    e.sample = Sample::kBox;
    e.brush = bar->barset()->brush();
    e.pen = bar->barset()->pen();
  } else if (auto* area = qobject_cast<QAreaSeries*>(series)) {
    e.sample = Sample::kBox;
    e.brush = area->brush();
    e.pen = area->pen();
  } else if (auto* scatter = qobject_cast<QScatterSeries*>(series)) {
    switch (scatter->markerShape()) {
      case QScatterSeries::MarkerShapeCircle:
        e.sample = Sample::kScatterCircle;
        break;
      case QScatterSeries::MarkerShapeRectangle:
        e.sample = Sample::kScatterRect;
        break;
      default:
        e.sample = Sample::kScatterOther;
        break;
    }
    e.brush = scatter->brush();
    e.pen = scatter->pen();
  } else if (auto* xy = qobject_cast<QXYSeries*>(series)) {
    e.sample = Sample::kLine;
    e.pen = xy->pen();
    e.dot = xy->pointsVisible();
    e.gradient = m_gradients.value(series);
  } else {
    e.sample = Sample::kBox;
    e.brush = marker->brush();
    e.pen = marker->pen();
  }
  return e;
}

qreal ChartLegend::relayout(qreal width) {
  prepareGeometryChange();
  m_entries.clear();
  m_rows = 0;
  m_elided = false;
  m_bounds = QRectF();

  QList<QLegendMarker*> markers = m_chart->legend()->markers();
  // Stable: the series named in m_first first, in that order.
  auto rank = [this](QLegendMarker* m) {
    const qsizetype i = m_first.indexOf(m->series());
    return i < 0 ? m_first.size() : i;
  };
  std::stable_sort(markers.begin(), markers.end(),
                   [&](QLegendMarker* a, QLegendMarker* b) { return rank(a) < rank(b); });

  const QFontMetricsF fm(m_font);
  const qreal rowH = std::max(fm.height(), 10.0);
  width = std::max(width, kSampleWidth + kSampleGap + fm.averageCharWidth() * 4);
  QList<QList<qsizetype>> rows;
  qreal rowW = 0.0;
  for (QLegendMarker* m : markers) {
    if (m->property(kHiddenProperty).toBool() || m->label().isEmpty()) continue;
    if (m->series() != nullptr && !m->series()->isVisible()) continue;
    Entry e = entryFor(m);
    const qreal textRoom = width - kSampleWidth - kSampleGap;
    if (fm.horizontalAdvance(e.label) > textRoom) {
      e.label = fm.elidedText(e.label, Qt::ElideRight, textRoom);
      m_elided = true;
    }
    const qreal w = kSampleWidth + kSampleGap + fm.horizontalAdvance(e.label);
    if (rows.isEmpty() || rowW + kEntryGap + w > width) {
      rows.append(QList<qsizetype>());
      rowW = w;
    } else {
      rowW += kEntryGap + w;
    }
    e.rect = QRectF(0.0, 0.0, w, rowH);
    rows.back().append(m_entries.size());
    m_entries.append(e);
  }
  // Centre every row.
  for (qsizetype r = 0; r < rows.size(); ++r) {
    qreal w = -kEntryGap;
    for (qsizetype i : rows[r]) w += m_entries[i].rect.width() + kEntryGap;
    qreal x = (width - w) / 2.0;
    const qreal y = r * (rowH + kRowGap);
    for (qsizetype i : rows[r]) {
      m_entries[i].rect.moveTo(x, y);
      x += m_entries[i].rect.width() + kEntryGap;
    }
  }
  m_rows = static_cast<int>(rows.size());
  const qreal height = m_rows == 0 ? 0.0 : m_rows * rowH + (m_rows - 1) * kRowGap;
  m_bounds = QRectF(0.0, 0.0, width, height);
  update();
  return height;
}

void ChartLegend::paint(QPainter* painter, const QStyleOptionGraphicsItem* /*option*/,
                        QWidget* /*widget*/) {
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing, true);
  painter->setFont(m_font);
  for (const Entry& e : m_entries) {
    const QRectF sample(e.rect.left(), e.rect.top(), kSampleWidth, e.rect.height());
    const QPointF c = sample.center();
    switch (e.sample) {
      case Sample::kLine: {
        QPen pen = e.pen;
        pen.setWidthF(std::clamp(pen.widthF(), 1.0, 2.5));
        pen.setCapStyle(Qt::FlatCap);
        if (!e.gradient.isEmpty()) {
          QLinearGradient g(sample.left(), 0.0, sample.right(), 0.0);
          g.setStops(e.gradient);
          pen.setBrush(g);
          pen.setWidthF(3.0);
          pen.setStyle(Qt::SolidLine);
        }
        painter->setPen(pen);
        painter->drawLine(QPointF(sample.left(), c.y()), QPointF(sample.right(), c.y()));
        if (e.dot) {
          painter->setPen(Qt::NoPen);
          painter->setBrush(e.pen.color());
          painter->drawEllipse(c, 2.5, 2.5);
        }
        break;
      }
      case Sample::kScatterCircle:
      case Sample::kScatterOther: {
        QPen pen = e.pen;
        pen.setWidthF(std::min(pen.widthF(), 1.0));
        painter->setPen(pen);
        painter->setBrush(e.brush);
        painter->drawEllipse(c, 4.0, 4.0);
        break;
      }
      case Sample::kScatterRect: {
        QPen pen = e.pen;
        pen.setWidthF(std::min(pen.widthF(), 1.0));
        painter->setPen(pen);
        painter->setBrush(e.brush);
        painter->drawRect(QRectF(c.x() - 4.0, c.y() - 4.0, 8.0, 8.0));
        break;
      }
      case Sample::kBox: {
        QPen pen = e.pen;
        pen.setWidthF(1.0);
        pen.setStyle(Qt::SolidLine);
        painter->setPen(pen);
        painter->setBrush(e.brush);
        painter->drawRect(QRectF(c.x() - 6.0, c.y() - 4.5, 12.0, 9.0));
        break;
      }
    }
    painter->setPen(m_textColor);
    painter->setBrush(Qt::NoBrush);
    const QRectF text(sample.right() + kSampleGap, e.rect.top(),
                      e.rect.right() - sample.right() - kSampleGap + 1.0, e.rect.height());
    painter->drawText(text, Qt::AlignLeft | Qt::AlignVCenter | Qt::TextSingleLine, e.label);
  }
  painter->restore();
}

}  // namespace driftscope::ui
