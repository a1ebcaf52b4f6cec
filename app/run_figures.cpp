#include "app/run_figures.h"

#include <QApplication>

#include <memory>

#include "ui/figure_export.h"

namespace driftscope::app {

Status writeRunFigures(const std::string& dir, const AnalysisState& state, int stepsPerEpoch,
                       int recordEvery) {
  std::unique_ptr<QApplication> app;
  if (!QApplication::instance()) {
    // Headless by design: never open a window, whatever DISPLAY says.
    qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char name[] = "driftscope";
    static char* argv[] = {name, nullptr};
    app = std::make_unique<QApplication>(argc, argv);
  }
  ui::PlotContext context;
  context.stepsPerEpoch = stepsPerEpoch;
  context.recordEvery = recordEvery;
  return ui::writeFigures(QString::fromStdString(dir), state, context);
}

}  // namespace driftscope::app
