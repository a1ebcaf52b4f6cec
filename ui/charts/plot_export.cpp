#include "ui/charts/plot_export.h"

#include <QBuffer>
#include <QGraphicsScene>
#include <QPainter>
#include <QSvgGenerator>
#include <cmath>

#include "core/io/atomic_file.h"
#include "ui/charts/chart_view.h"
#include "ui/charts/heatmap_view.h"

namespace driftscope::ui {
namespace {

constexpr double kScreenDpi = 96.0;

// Shows the title and the light look (white background, dark text, whatever the
// application's palette) for the duration of an export.
class ExportLook {
 public:
  explicit ExportLook(QWidget* plot)
      : m_chart(qobject_cast<ChartView*>(plot)), m_heatmap(qobject_cast<HeatmapView*>(plot)) {
    if (m_chart) {
      m_chart->setExportLook(true);
      m_chart->setTitleVisible(true);
    }
    if (m_heatmap) {
      m_heatmap->setExportLook(true);
      m_heatmap->setTitleVisible(true);
    }
  }
  ~ExportLook() {
    if (m_chart) {
      m_chart->setTitleVisible(false);
      m_chart->setExportLook(false);
    }
    if (m_heatmap) {
      m_heatmap->setTitleVisible(false);
      m_heatmap->setExportLook(false);
    }
  }
  ExportLook(const ExportLook&) = delete;
  ExportLook& operator=(const ExportLook&) = delete;

 private:
  ChartView* m_chart;
  HeatmapView* m_heatmap;
};

QSize logicalSize(QWidget* plot, const ImageOptions& o) {
  return o.size.isEmpty() ? plot->size() : o.size;
}

double pixelScale(const ImageOptions& o) { return o.dpi > 0 ? o.dpi / kScreenDpi : o.scale; }

// Paints the plot into `painter` filling `target` (in painter coordinates). The caller
// has already sized the widget to the logical size.
void paintPlot(QWidget* plot, QPainter& painter, const QRectF& target) {
  if (auto* heatmap = qobject_cast<HeatmapView*>(plot)) {
    painter.save();
    painter.scale(target.width() / plot->width(), target.height() / plot->height());
    heatmap->paintTo(painter, QRect(QPoint(0, 0), plot->size()));
    painter.restore();
    return;
  }
  if (auto* chart = qobject_cast<ChartView*>(plot)) {
    QGraphicsScene* scene = chart->exportScene();
    scene->render(&painter, target, scene->sceneRect());
  }
}

// Gives the plot the logical size for the export and restores it afterwards.
class SizeFor {
 public:
  SizeFor(QWidget* plot, QSize size) : m_plot(plot), m_old(plot->size()) {
    if (size != m_old) m_plot->resize(size);
  }
  ~SizeFor() {
    if (m_plot->size() != m_old) m_plot->resize(m_old);
  }
  SizeFor(const SizeFor&) = delete;
  SizeFor& operator=(const SizeFor&) = delete;

 private:
  QWidget* m_plot;
  QSize m_old;
};

}  // namespace

QImage renderPlotImage(QWidget* plot, const ImageOptions& options) {
  const QSize size = logicalSize(plot, options);
  const double scale = pixelScale(options);
  SizeFor sized(plot, size);
  ExportLook look(plot);
  QImage image(QSize(static_cast<int>(std::lround(size.width() * scale)),
                     static_cast<int>(std::lround(size.height() * scale))),
               QImage::Format_ARGB32_Premultiplied);
  image.fill(Qt::white);
  if (options.dpi > 0) {
    const int dpm = static_cast<int>(std::lround(options.dpi / 0.0254));
    image.setDotsPerMeterX(dpm);
    image.setDotsPerMeterY(dpm);
  }
  QPainter painter(&image);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setRenderHint(QPainter::TextAntialiasing);
  paintPlot(plot, painter, QRectF(QPointF(0, 0), QSizeF(image.size())));
  painter.end();
  return image;
}

QByteArray renderPlotPng(QWidget* plot, const ImageOptions& options) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  renderPlotImage(plot, options).save(&buffer, "PNG");
  return bytes;
}

QByteArray renderPlotSvg(QWidget* plot, const ImageOptions& options, const QString& title) {
  const QSize size = logicalSize(plot, options);
  SizeFor sized(plot, size);
  ExportLook look(plot);
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  QSvgGenerator generator;
  generator.setOutputDevice(&buffer);
  generator.setSize(size);
  generator.setViewBox(QRect(QPoint(0, 0), size));
  generator.setTitle(title);
  generator.setDescription(QStringLiteral("Driftscope plot"));
  QPainter painter(&generator);
  painter.fillRect(QRect(QPoint(0, 0), size), Qt::white);
  paintPlot(plot, painter, QRectF(QPointF(0, 0), QSizeF(size)));
  painter.end();
  return bytes;
}

Status writeBytesAtomically(const QString& path, const QByteArray& bytes) {
  return writeFileAtomically(path.toStdString(), [&](std::ostream& out) {
    out.write(bytes.constData(), bytes.size());
    return Status::ok();
  });
}

Status writePlot(QWidget* plot, const QString& path, ImageFormat format,
                 const ImageOptions& options, const QString& title) {
  const QByteArray bytes = format == ImageFormat::kPng ? renderPlotPng(plot, options)
                                                       : renderPlotSvg(plot, options, title);
  if (bytes.isEmpty()) {
    return Status::error(path.toStdString() + ": the plot could not be rendered");
  }
  return writeBytesAtomically(path, bytes);
}

}  // namespace driftscope::ui
