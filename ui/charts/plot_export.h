// Rendering a plot widget (any ChartView, or the HeatmapView) to PNG or SVG bytes by
// painting its QGraphicsScene (or its paintTo) into a QImage / QSvgGenerator of the
// wanted size: crisp at any scale and independent of the screen, so it also works
// offscreen. Exports always use the light look and show the plot's title. Files are
// written atomically through core's writeFileAtomically. GUI thread only.
#pragma once

#include <QByteArray>
#include <QImage>
#include <QSize>
#include <QString>

#include "core/status.h"

class QWidget;

namespace driftscope::ui {

struct ImageOptions {
  QSize size;          // logical size; empty: the widget's current size
  double scale = 1.0;  // pixels per logical pixel (2 for "2x")
  int dpi = 0;         // when > 0: scale = dpi / 96 and the PNG records this resolution
};

enum class ImageFormat { kPng, kSvg };

QImage renderPlotImage(QWidget* plot, const ImageOptions& options);
QByteArray renderPlotPng(QWidget* plot, const ImageOptions& options);
QByteArray renderPlotSvg(QWidget* plot, const ImageOptions& options, const QString& title);
// Writes the plot to `path` in `format`, atomically; the message names the path.
Status writePlot(QWidget* plot, const QString& path, ImageFormat format,
                 const ImageOptions& options, const QString& title);
Status writeBytesAtomically(const QString& path, const QByteArray& bytes);

}  // namespace driftscope::ui
