// Writes every plot of a run as NAME.png and NAME.svg into a folder, drawn by the same
// chart classes as the window on offscreen widgets of a fixed size: "Export all" in the
// window and `driftscope run` share it. Needs a QApplication (any platform, including
// offscreen); GUI thread only.
#pragma once

#include <QSize>
#include <QString>
#include <QStringList>

#include "core/engine/analysis_state.h"
#include "core/status.h"
#include "ui/charts/plot_context.h"

class QWidget;

namespace driftscope::ui {

// File stems written by writeFigures, in order.
QStringList figureNames();

// PNGs are rendered at 2x of `size` (1800 x 1200 pixels by default).
Status writeFigures(const QString& dir, const AnalysisState& state, const PlotContext& context,
                    QSize size = QSize(900, 600));

// Lays `plot` out offscreen at `size` and writes BASE.png (2x) and, with `svg`, BASE.svg,
// titled.
Status writePlotFiles(QWidget* plot, const QString& base, const QString& title, QSize size,
                      bool svg = true);

}  // namespace driftscope::ui
