#include "ui/charts/heatmap_view.h"

#include <QFontMetrics>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <array>
#include <cmath>

#include "core/engine/analysis_state.h"
#include "ui/charts/colormap.h"

namespace driftscope::ui {

namespace {

constexpr int kPad = 6;        // outer padding
constexpr int kTick = 4;       // tick length
constexpr int kBarWidth = 16;  // colour bar width
constexpr int kBarGap = 14;    // map -> colour bar

const QString& titleText() {
  static const QString t = QStringLiteral("Pairwise distances between ring snapshots");
  return t;
}
const QString& unitText() {
  static const QString t = QStringLiteral("distance ||w_i - w_j||");
  return t;
}
const QString& axisText() {
  static const QString t = QStringLiteral("snapshot");
  return t;
}

// 1, 2 or 5 times a power of ten, >= raw.
double niceStep(double raw) {
  if (!(raw > 0.0)) return 1.0;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw * (1.0 - 1e-9)) return m * p;
  }
  return 10.0 * p;
}

QString formatTick(double v) { return QString::number(v, 'g', 3); }

// Widest colour-bar label for ticks every niceStep(maxValue / n), n = 2..6.
int valueLabelWidth(const QFontMetrics& fm, double maxValue) {
  int w = fm.horizontalAdvance(QStringLiteral("0"));
  if (!(maxValue > 0.0)) return w;
  for (int n = 2; n <= 6; ++n) {
    const double step = niceStep(maxValue / n);
    for (double v = 0.0; v <= maxValue * (1.0 + 1e-9); v += step) {
      w = std::max(w, fm.horizontalAdvance(formatTick(v)));
    }
  }
  return w;
}

QFont titleFont(const QFont& base) {
  QFont f = base;
  f.setBold(true);
  f.setPointSizeF(base.pointSizeF() > 0 ? base.pointSizeF() * 1.15 : 11.0);
  return f;
}

}  // namespace

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent) { setMouseTracking(true); }

HeatmapView::~HeatmapView() = default;

void HeatmapView::setTitleVisible(bool on) {
  if (on == m_titleVisible) return;
  m_titleVisible = on;
  update();
}

void HeatmapView::setExportLook(bool on) {
  if (on == m_exportLook) return;
  m_exportLook = on;
  update();
}

QColor HeatmapView::backgroundColor() const {
  return (m_exportLook ? PlotLook::light() : PlotLook::forPalette(palette())).background;
}

QColor HeatmapView::textColor() const {
  return (m_exportLook ? PlotLook::light() : PlotLook::forPalette(palette())).text;
}

void HeatmapView::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange) {
    update();
  }
}

QSize HeatmapView::sizeHint() const { return {560, 480}; }
QSize HeatmapView::minimumSizeHint() const { return {240, 200}; }

int HeatmapView::size() const { return m_ring ? static_cast<int>(m_ring->distances.rows()) : 0; }

void HeatmapView::setState(const driftscope::AnalysisState& s, const PlotContext& /*ctx*/) {
  if (s.ring == m_ring) return;
  m_ring = s.ring;
  rebuildImage();
  update();
}

void HeatmapView::rebuildImage() {
  m_image = QImage();
  m_max = 0.0;
  const int c = size();
  if (c == 0) return;
  const RowMatrixD& d = m_ring->distances;
  for (int i = 0; i < c; ++i) {
    for (int j = 0; j < c; ++j) {
      if (std::isfinite(d(i, j))) m_max = std::max(m_max, d(i, j));
    }
  }
  std::array<QRgb, 256> lut{};
  for (int k = 0; k < 256; ++k) lut[static_cast<std::size_t>(k)] = viridis(k / 255.0).rgb();
  m_image = QImage(c, c, QImage::Format_RGB32);
  const double scale = m_max > 0.0 ? 255.0 / m_max : 0.0;
  for (int i = 0; i < c; ++i) {
    auto* line = reinterpret_cast<QRgb*>(m_image.scanLine(i));
    for (int j = 0; j < c; ++j) {
      const double v = d(i, j);
      const int k =
          std::isfinite(v) ? std::clamp(static_cast<int>(std::lround(v * scale)), 0, 255) : 0;
      line[j] = lut[static_cast<std::size_t>(k)];
    }
  }
}

HeatmapView::Layout HeatmapView::layoutFor(const QRect& target) const {
  const QFontMetrics fm(font());
  const QFontMetrics tfm(titleFont(font()));
  const int lineH = fm.height();
  Layout l;
  const int titleH = m_titleVisible ? tfm.height() : 0;

  // Widest labels: snapshot indices on the left, colour-bar values on the right.
  int maxIndex = 0;
  if (m_ring && !m_ring->snapshots.empty()) {
    for (const SnapshotMeta& m : m_ring->snapshots) maxIndex = std::max(maxIndex, m.index);
  }
  const int indexW = fm.horizontalAdvance(QString::number(std::max(maxIndex, 100)));
  const int valueW = valueLabelWidth(fm, m_max);

  const int left = kPad + lineH + kPad + indexW + kTick + 2;
  const int right = kBarGap + kBarWidth + kTick + 3 + valueW + kPad + lineH + kPad;
  const int top = target.top() + kPad + (titleH > 0 ? titleH + kPad : 0) + lineH / 2;
  const int bottom = kTick + 2 + lineH + kPad + lineH + kPad;
  const int availW = target.right() - target.left() + 1 - left - right;
  const int availH = target.bottom() + 1 - top - bottom;
  const int side = std::max(std::min(availW, availH), 1);
  const int x = target.left() + left + std::max(availW - side, 0) / 2;
  const int y = top + std::max(availH - side, 0) / 2;
  l.map = QRect(x, y, side, side);
  // The title sits just above the map, however much room is left around it.
  l.title = QRect(target.left(), y - lineH / 2 - kPad - titleH, target.width(), titleH);
  l.bar = QRect(l.map.right() + 1 + kBarGap, y, kBarWidth, side);
  return l;
}

QRect HeatmapView::mapRect(const QRect& target) const { return layoutFor(target).map; }

int HeatmapView::rowAt(const QPoint& pos) const {
  const int c = size();
  const QRect map = mapRect(rect());
  if (c == 0 || !map.contains(pos)) return -1;
  return std::clamp(static_cast<int>(static_cast<double>(pos.y() - map.top()) * c / map.height()),
                    0, c - 1);
}

int HeatmapView::columnAt(const QPoint& pos) const {
  const int c = size();
  const QRect map = mapRect(rect());
  if (c == 0 || !map.contains(pos)) return -1;
  return std::clamp(static_cast<int>(static_cast<double>(pos.x() - map.left()) * c / map.width()),
                    0, c - 1);
}

void HeatmapView::paintTo(QPainter& p, const QRect& target) const {
  p.save();
  p.setClipRect(target);
  const PlotLook look = m_exportLook ? PlotLook::light() : PlotLook::forPalette(palette());
  p.fillRect(target, look.background);
  const QColor text = look.text;
  const Layout l = layoutFor(target);
  const QFontMetrics fm(font());

  p.setPen(text);
  if (m_titleVisible) {
    p.setFont(titleFont(font()));
    p.drawText(l.title, Qt::AlignHCenter | Qt::AlignVCenter, titleText());
  }
  p.setFont(font());

  const int c = size();
  if (c == 0 || m_image.isNull()) {
    p.drawText(target, Qt::AlignCenter, QStringLiteral("No snapshots recorded yet"));
    p.restore();
    return;
  }

  // The map: one image pixel per cell, scaled without smoothing so cells stay crisp.
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);
  p.drawImage(QRectF(l.map), m_image);
  p.setPen(QPen(text, 1.0));
  p.setBrush(Qt::NoBrush);
  p.drawRect(QRectF(l.map).adjusted(-0.5, -0.5, 0.5, 0.5));

  // Snapshot-index ticks at cell centres, the same rows and columns on both axes.
  const double cell = static_cast<double>(l.map.width()) / c;
  const int maxTicks =
      std::clamp(l.map.width() / (fm.horizontalAdvance(QStringLiteral("00000")) + 8), 2, 8);
  const int stride = static_cast<int>(niceStep(static_cast<double>(c) / maxTicks));
  for (int k = 0; k < c; k += std::max(stride, 1)) {
    const QString label = QString::number(m_ring->snapshots.size() == static_cast<std::size_t>(c)
                                              ? m_ring->snapshots[static_cast<std::size_t>(k)].index
                                              : k);
    const double pos = (k + 0.5) * cell;
    const double x = l.map.left() + pos;
    const double y = l.map.top() + pos;
    p.drawLine(QPointF(x, l.map.bottom() + 1), QPointF(x, l.map.bottom() + 1 + kTick));
    p.drawText(QRectF(x - 40, l.map.bottom() + 2 + kTick, 80, fm.height()), Qt::AlignHCenter,
               label);
    p.drawLine(QPointF(l.map.left() - kTick, y), QPointF(l.map.left(), y));
    p.drawText(QRectF(l.map.left() - kTick - 2 - 80, y - fm.height() / 2.0, 80, fm.height()),
               Qt::AlignRight | Qt::AlignVCenter, label);
  }
  // Axis titles: "snapshot" below and, rotated, on the left.
  const int xTitleY = l.map.bottom() + 2 + kTick + fm.height() + kPad / 2;
  p.drawText(QRect(l.map.left(), xTitleY, l.map.width(), fm.height()), Qt::AlignHCenter,
             axisText() + QStringLiteral(" j"));
  int indexW = 0;
  for (const SnapshotMeta& m : m_ring->snapshots) {
    indexW = std::max(indexW, fm.horizontalAdvance(QString::number(m.index)));
  }
  p.save();
  p.translate(
      std::max(target.left() + kPad, l.map.left() - kTick - 2 - indexW - kPad - fm.height()),
      l.map.center().y());
  p.rotate(-90);
  p.drawText(QRect(-l.map.height() / 2, 0, l.map.height(), fm.height()), Qt::AlignHCenter,
             axisText() + QStringLiteral(" i"));
  p.restore();

  // Colour bar: viridis from 0 (bottom) to the largest distance (top).
  QImage bar(1, 256, QImage::Format_RGB32);
  for (int k = 0; k < 256; ++k) bar.setPixel(0, 255 - k, viridis(k / 255.0).rgb());
  p.setRenderHint(QPainter::SmoothPixmapTransform, true);
  p.drawImage(QRectF(l.bar), bar);
  p.drawRect(QRectF(l.bar).adjusted(-0.5, -0.5, 0.5, 0.5));
  if (m_max > 0.0) {
    const int maxBarTicks = std::max(2, l.bar.height() / (2 * fm.height()));
    const double step = niceStep(m_max / std::min(maxBarTicks, 6));
    for (double v = 0.0; v <= m_max * (1.0 + 1e-9); v += step) {
      const double y = l.bar.bottom() + 1 - v / m_max * l.bar.height();
      p.drawLine(QPointF(l.bar.right() + 1, y), QPointF(l.bar.right() + 1 + kTick, y));
      p.drawText(QRectF(l.bar.right() + kTick + 4, y - fm.height() / 2.0, 200, fm.height()),
                 Qt::AlignLeft | Qt::AlignVCenter, formatTick(v));
    }
  }
  const int valueW = valueLabelWidth(fm, m_max);
  p.save();
  p.translate(l.bar.right() + kTick + 3 + valueW + kPad + fm.height(), l.bar.center().y());
  p.rotate(-90);
  p.drawText(QRect(-l.bar.height() / 2 - 100, -fm.height(), l.bar.height() + 200, fm.height()),
             Qt::AlignHCenter | Qt::AlignBottom, unitText());
  p.restore();
  p.restore();
}

void HeatmapView::paintEvent(QPaintEvent* /*event*/) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTo(p, rect());
}

void HeatmapView::mouseMoveEvent(QMouseEvent* event) {
  const QPoint pos = event->position().toPoint();
  const int i = rowAt(pos);
  const int j = columnAt(pos);
  if (i < 0 || j < 0) {
    QToolTip::hideText();
    QWidget::mouseMoveEvent(event);
    return;
  }
  const auto& snaps = m_ring->snapshots;
  const bool haveMeta = snaps.size() == static_cast<std::size_t>(size());
  const int si = haveMeta ? snaps[static_cast<std::size_t>(i)].index : i;
  const int sj = haveMeta ? snaps[static_cast<std::size_t>(j)].index : j;
  QToolTip::showText(event->globalPosition().toPoint(),
                     QStringLiteral("(%1, %2) = %3")
                         .arg(si)
                         .arg(sj)
                         .arg(QString::number(m_ring->distances(i, j), 'g', 4)),
                     this);
}

void HeatmapView::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) {
    QWidget::mousePressEvent(event);
    return;
  }
  const int row = rowAt(event->position().toPoint());
  if (row < 0) return;
  const auto& snaps = m_ring->snapshots;
  const int index = snaps.size() == static_cast<std::size_t>(size())
                        ? snaps[static_cast<std::size_t>(row)].index
                        : row;
  Q_EMIT snapshotClicked(index);
}

}  // namespace driftscope::ui
