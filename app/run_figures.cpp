#include "app/run_figures.h"

#include <sys/stat.h>
#include <unistd.h>

#include <QApplication>
#include <memory>

#include "ui/figure_export.h"
#include "ui/report_figures.h"

namespace driftscope::app {
namespace {

// A QApplication on the offscreen platform unless one exists already (then null).
std::unique_ptr<QApplication> offscreenApplication() {
  if (QApplication::instance()) return nullptr;
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
  return std::make_unique<QApplication>(argc, argv);
}

}  // namespace

Status writeRunFigures(const std::string& dir, const AnalysisState& state, int stepsPerEpoch,
                       int recordEvery) {
  const auto app = offscreenApplication();
  ui::PlotContext context;
  context.stepsPerEpoch = stepsPerEpoch;
  context.recordEvery = recordEvery;
  return ui::writeFigures(QString::fromStdString(dir), state, context);
}

Status writeReportFigures(const std::string& dir, const Report& report) {
  const auto app = offscreenApplication();
  return ui::writeReportFigures(QString::fromStdString(dir), report);
}

}  // namespace driftscope::app
