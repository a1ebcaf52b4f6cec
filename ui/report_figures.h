// Writes the figures of a multi-run report (core/report) as STEM.png (2x) and STEM.svg
// (as report.withFigures / withSvg say) into a folder, each drawn by a ComparisonChart on an
// offscreen widget. Needs a QApplication (the offscreen platform will do); GUI thread only.
#pragma once

#include <QSize>
#include <QString>

#include "core/report/report.h"
#include "core/status.h"

namespace driftscope::ui {

Status writeReportFigures(const QString& dir, const driftscope::Report& report,
                          QSize size = QSize(900, 600));

}  // namespace driftscope::ui
