#include "app/run_figures.h"

#include <sys/stat.h>
#include <unistd.h>

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
    // Qt falls back to /tmp/runtime-$USER anyway, but warns on stderr; say it quietly.
    if (qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR")) {
      const QByteArray dir = "/tmp/runtime-" + QByteArray::number(::getuid());
      ::mkdir(dir.constData(), 0700);
      qputenv("XDG_RUNTIME_DIR", dir);
    }
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
