// HeatmapView: the C x C matrix of pairwise distances ||w_i - w_j|| between the snapshots
// of the ring (chronological), painted with QPainter (not Qt Charts) as a square image in
// viridis with a colour bar, snapshot-index ticks and an optional title (hidden by default:
// the dashboard frame has one; exporters turn it on). Hovering shows the cell's
// value; clicking a row emits that row's snapshot index (the window uses it to pick a new
// reference). Colours follow the palette like the charts (PlotLook: white with dark text
// under a light palette, the palette's Window and WindowText under a dark one); exports
// force the light look (setExportLook).
// GUI thread only; holds a shared_ptr to the immutable RingAnalysis it shows.
#pragma once

#include <QImage>
#include <QWidget>
#include <memory>

#include "ui/charts/plot_context.h"

namespace driftscope {
struct AnalysisState;
struct RingAnalysis;
}  // namespace driftscope

namespace driftscope::ui {

class HeatmapView : public QWidget {
  Q_OBJECT

 public:
  explicit HeatmapView(QWidget* parent = nullptr);
  ~HeatmapView() override;

  void setState(const driftscope::AnalysisState& s, const PlotContext& ctx);

  // The title above the map; hidden by default.
  void setTitleVisible(bool on);
  bool titleVisible() const { return m_titleVisible; }

  // The light look whatever the palette (exports); off: follow the palette again.
  void setExportLook(bool on);
  bool exportLook() const { return m_exportLook; }
  // The background and text colours paintTo() uses now.
  QColor backgroundColor() const;
  QColor textColor() const;

  // Paints the whole view (title, map, axes, colour bar) into `target` of any painter.
  void paintTo(QPainter& p, const QRect& target) const;

  // Where the square map lies when the view is painted into `target` (widget: rect()).
  QRect mapRect(const QRect& target) const;
  // Chronological row under a widget position, or -1.
  int rowAt(const QPoint& pos) const;
  int columnAt(const QPoint& pos) const;
  // Number of snapshots shown (C).
  int size() const;
  double maxValue() const { return m_max; }
  const QImage& image() const { return m_image; }

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 Q_SIGNALS:
  void snapshotClicked(int snapshotIndex);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  struct Layout {
    QRect title;
    QRect map;
    QRect bar;
  };
  Layout layoutFor(const QRect& target) const;
  void rebuildImage();

  std::shared_ptr<const RingAnalysis> m_ring;
  QImage m_image;  // C x C, one pixel per cell
  double m_max = 0.0;
  bool m_titleVisible = false;
  bool m_exportLook = false;
};

}  // namespace driftscope::ui
