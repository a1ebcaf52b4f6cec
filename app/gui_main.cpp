#include "app/gui_main.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <iostream>

#include "core/config/run_config.h"
#include "ui/main_window.h"
#include "ui/run_controller.h"

namespace driftscope::app {

int guiMain(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("Driftscope"));
  QApplication::setOrganizationName(QStringLiteral("Driftscope"));
  QApplication::setApplicationVersion(QStringLiteral(DRIFTSCOPE_VERSION));

  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Driftscope: does constant-learning-rate SGD stay local or wander?\n"
                     "Headless runs: driftscope run --help"));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption configOption(QStringLiteral("config"),
                                  QStringLiteral("Open the window with this configuration."),
                                  QStringLiteral("FILE.json"));
  QCommandLineOption startOption(QStringLiteral("start"), QStringLiteral("Start the run at once."));
  QCommandLineOption screenshotOption(
      QStringLiteral("screenshot"),
      QStringLiteral("With --start: when the run ends, save the window to FILE.png and quit "
                     "(for the docs)."),
      QStringLiteral("FILE.png"));
  parser.addOption(configOption);
  parser.addOption(startOption);
  parser.addOption(screenshotOption);
  parser.process(app);

  ui::MainWindow window;
  if (parser.isSet(configOption)) {
    auto loaded = loadConfigFile(parser.value(configOption).toStdString());
    if (!loaded) {
      std::cerr << "driftscope: " << loaded.message() << "\n";
      return 2;
    }
    for (const std::string& w : loaded->warnings) std::cerr << "warning: " << w << "\n";
    window.setConfig(loaded->config);
  }
  window.show();
  if (parser.isSet(startOption)) {
    QTimer::singleShot(0, &window, [&window] { window.startRun(); });
  }
  if (parser.isSet(screenshotOption)) {
    const QString file = parser.value(screenshotOption);
    QObject::connect(window.controller(), &ui::RunController::finished, &window, [&window, file] {
      // Let the last state render before grabbing.
      QTimer::singleShot(500, &window, [&window, file] {
        const bool ok = window.grab().save(file);
        std::cerr << (ok ? "saved " : "could not save ") << file.toStdString() << "\n";
        QApplication::exit(ok ? 0 : 1);
      });
    });
  }
  return app.exec();
}

}  // namespace driftscope::app
