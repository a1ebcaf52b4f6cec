// What the window remembers between sessions (QSettings): geometry and dock layout, the
// last configuration, the last export folder, recent session files and the theme.
// GUI thread only.
#pragma once

#include <QString>
#include <QStringList>
#include <optional>

#include "core/config/run_config.h"

class QMainWindow;

namespace driftscope::ui {

enum class Theme { kLight, kDark };

class AppSettings {
 public:
  static constexpr int kMaxRecent = 8;

  static void saveWindow(const QMainWindow& window);
  static void restoreWindow(QMainWindow& window);

  static void saveConfig(const RunConfig& config);
  static std::optional<RunConfig> lastConfig();

  static QString lastExportDirectory();
  static void setLastExportDirectory(const QString& dir);
  static int lastExportFormat();  // an ExportKind value; -1 when none is stored
  static void setLastExportFormat(int kind);

  static QStringList recentSessions();
  static void addRecentSession(const QString& path);

  static Theme theme();
  static void setTheme(Theme theme);
};

// Applies the light or dark palette to the whole application (Fusion style, so both
// palettes render the same way on every platform).
void applyTheme(Theme theme);

}  // namespace driftscope::ui
