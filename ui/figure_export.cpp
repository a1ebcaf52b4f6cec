#include "ui/figure_export.h"

#include <QCoreApplication>
#include <QDir>
#include <functional>
#include <memory>

#include "core/io/atomic_file.h"
#include "ui/charts/distance_chart.h"
#include "ui/charts/heatmap_view.h"
#include "ui/charts/msd_chart.h"
#include "ui/charts/pca_chart.h"
#include "ui/charts/plot_export.h"
#include "ui/charts/training_chart.h"

namespace driftscope::ui {
namespace {

struct Figure {
  QString stem;
  QString title;
  std::function<QWidget*(const AnalysisState&, const PlotContext&)> make;
};

template <typename Plot>
QWidget* makePlot(const AnalysisState& s, const PlotContext& c) {
  auto* plot = new Plot;
  plot->setState(s, c);
  return plot;
}

const std::vector<Figure>& figures() {
  static const std::vector<Figure> list = {
      {QStringLiteral("training"), QStringLiteral("Training"), makePlot<TrainingChart>},
      {QStringLiteral("distance"), QStringLiteral("Distance from the reference"),
       makePlot<DistanceChart>},
      {QStringLiteral("heatmap"), QStringLiteral("Pairwise distances of the ring"),
       makePlot<HeatmapView>},
      {QStringLiteral("pca"), QStringLiteral("PCA of the trajectory"), makePlot<PcaChart>},
      {QStringLiteral("pca_variance"), QStringLiteral("Explained variance vs. random walk"),
       makePlot<VarianceChart>},
      {QStringLiteral("msd"), QStringLiteral("Mean squared displacement"), makePlot<MsdChart>},
      {QStringLiteral("path"), QStringLiteral("Loss along the straight path"), makePlot<PathChart>},
  };
  return list;
}

}  // namespace

QStringList figureNames() {
  QStringList names;
  for (const Figure& f : figures()) names << f.stem;
  return names;
}

Status writeFigures(const QString& dir, const AnalysisState& state, const PlotContext& context,
                    QSize size) {
  if (Status s = ensureDirectory(dir.toStdString()); !s) return s;
  for (const Figure& f : figures()) {
    std::unique_ptr<QWidget> plot(f.make(state, context));
    if (Status s = writePlotFiles(plot.get(), QDir(dir).filePath(f.stem), f.title, size); !s) {
      return s;
    }
  }
  return Status::ok();
}

Status writePlotFiles(QWidget* plot, const QString& base, const QString& title, QSize size,
                      bool svg) {
  // Laid out like a shown widget, but never on a screen.
  plot->setAttribute(Qt::WA_DontShowOnScreen);
  plot->resize(size);
  plot->show();
  QCoreApplication::processEvents();
  ImageOptions png;
  png.size = size;
  png.scale = 2.0;
  if (Status s = writePlot(plot, base + QStringLiteral(".png"), ImageFormat::kPng, png, title);
      !s) {
    return s;
  }
  if (!svg) return Status::ok();
  ImageOptions vector;
  vector.size = size;
  return writePlot(plot, base + QStringLiteral(".svg"), ImageFormat::kSvg, vector, title);
}

}  // namespace driftscope::ui
