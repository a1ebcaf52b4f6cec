#include "ui/report_figures.h"

#include <QDir>
#include <memory>

#include "core/io/atomic_file.h"
#include "ui/charts/comparison_chart.h"
#include "ui/figure_export.h"

namespace driftscope::ui {

Status writeReportFigures(const QString& dir, const Report& report, QSize size) {
  if (!report.withFigures) return Status::ok();
  if (Status s = ensureDirectory(dir.toStdString()); !s) return s;
  for (const ReportFigure& figure : report.figures) {
    auto chart = std::make_unique<ComparisonChart>(figure);
    const QString stem = QString::fromStdString(figure.stem);
    if (Status s = writePlotFiles(chart.get(), QDir(dir).filePath(stem),
                                  QString::fromStdString(figure.title), size, report.withSvg);
        !s) {
      return s;
    }
  }
  return Status::ok();
}

}  // namespace driftscope::ui
