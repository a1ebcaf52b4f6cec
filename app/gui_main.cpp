#include "app/gui_main.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <iostream>

#include "core/config/run_config.h"
#include "ui/app_settings.h"
#include "ui/main_window.h"
#include "ui/plot_exporter.h"
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
  QCommandLineOption exportOption(
      QStringLiteral("export"),
      QStringLiteral("With --start: when the run ends, export everything to DIR (as File > "
                     "Export all) and quit; exit code 1 if the export fails."),
      QStringLiteral("DIR"));
  QCommandLineOption themeOption(QStringLiteral("theme"),
                                 QStringLiteral("light or dark (default: the last one used)."),
                                 QStringLiteral("THEME"));
  parser.addOption(configOption);
  parser.addOption(startOption);
  parser.addOption(screenshotOption);
  parser.addOption(exportOption);
  parser.addOption(themeOption);
  parser.process(app);
  if (parser.isSet(exportOption) &&
      (!parser.isSet(startOption) || parser.isSet(screenshotOption))) {
    std::cerr << "driftscope: --export needs --start and cannot be combined with --screenshot\n";
    return 2;
  }

  ui::Theme theme = ui::AppSettings::theme();
  if (parser.isSet(themeOption)) {
    const QString t = parser.value(themeOption);
    if (t != QLatin1String("light") && t != QLatin1String("dark")) {
      std::cerr << "driftscope: --theme must be light or dark, not " << t.toStdString() << "\n";
      return 2;
    }
    theme = t == QLatin1String("dark") ? ui::Theme::kDark : ui::Theme::kLight;
    ui::AppSettings::setTheme(theme);
  }
  ui::applyTheme(theme);
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
  if (parser.isSet(exportOption)) {
    const QString dir = parser.value(exportOption);
    ui::PlotExporter* exporter = window.exporter();
    QObject::connect(window.controller(), &ui::RunController::finished, &window,
                     [exporter, dir] { exporter->exportAllTo(dir); });
    QObject::connect(exporter, &ui::PlotExporter::allExported, &window, [](const QString& d) {
      std::cerr << "exported " << d.toStdString() << "\n";
      QApplication::exit(0);
    });
    QObject::connect(exporter, &ui::PlotExporter::failed, &window, [](const QString& m) {
      std::cerr << "driftscope: " << m.toStdString() << "\n";
      QApplication::exit(1);
    });
  }
  return app.exec();
}

}  // namespace driftscope::app
