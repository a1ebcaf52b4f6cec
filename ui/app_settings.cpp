#include "ui/app_settings.h"

#include <QApplication>
#include <QFileInfo>
#include <QMainWindow>
#include <QPalette>
#include <QSettings>
#include <QStyle>
#include <QStyleFactory>
#include <nlohmann/json.hpp>

namespace driftscope::ui {

void AppSettings::saveWindow(const QMainWindow& window) {
  QSettings s;
  s.setValue(QStringLiteral("window/geometry"), window.saveGeometry());
  s.setValue(QStringLiteral("window/state"), window.saveState());
}

void AppSettings::restoreWindow(QMainWindow& window) {
  QSettings s;
  window.restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
  window.restoreState(s.value(QStringLiteral("window/state")).toByteArray());
}

void AppSettings::saveConfig(const RunConfig& config) {
  QSettings s;
  RunConfig c = config;
  c.lrHistory.clear();
  s.setValue(QStringLiteral("run/lastConfig"), QString::fromStdString(configToJson(c).dump()));
}

std::optional<RunConfig> AppSettings::lastConfig() {
  QSettings s;
  const std::string text = s.value(QStringLiteral("run/lastConfig")).toString().toStdString();
  if (text.empty()) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  auto parsed = configFromJson(j);
  if (!parsed || !validateConfig(parsed->config)) return std::nullopt;
  return parsed->config;
}

QString AppSettings::lastExportDirectory() {
  return QSettings().value(QStringLiteral("export/lastDirectory")).toString();
}

void AppSettings::setLastExportDirectory(const QString& dir) {
  QSettings().setValue(QStringLiteral("export/lastDirectory"), dir);
}

int AppSettings::lastExportFormat() {
  return QSettings().value(QStringLiteral("export/lastFormat"), -1).toInt();
}

void AppSettings::setLastExportFormat(int kind) {
  QSettings().setValue(QStringLiteral("export/lastFormat"), kind);
}

QStringList AppSettings::recentSessions() {
  QStringList list = QSettings().value(QStringLiteral("sessions/recent")).toStringList();
  list.erase(std::remove_if(list.begin(), list.end(),
                            [](const QString& p) { return !QFileInfo::exists(p); }),
             list.end());
  return list;
}

void AppSettings::addRecentSession(const QString& path) {
  QSettings s;
  QStringList list = s.value(QStringLiteral("sessions/recent")).toStringList();
  const QString absolute = QFileInfo(path).absoluteFilePath();
  list.removeAll(absolute);
  list.prepend(absolute);
  while (list.size() > kMaxRecent) list.removeLast();
  s.setValue(QStringLiteral("sessions/recent"), list);
}

Theme AppSettings::theme() {
  return QSettings().value(QStringLiteral("view/theme")).toString() == QLatin1String("dark")
             ? Theme::kDark
             : Theme::kLight;
}

void AppSettings::setTheme(Theme theme) {
  QSettings().setValue(QStringLiteral("view/theme"),
                       theme == Theme::kDark ? QStringLiteral("dark") : QStringLiteral("light"));
}

void applyTheme(Theme theme) {
  QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
  if (theme == Theme::kLight) {
    QApplication::setPalette(QApplication::style()->standardPalette());
    return;
  }
  QPalette p;
  const QColor window(45, 45, 48), base(30, 30, 32), text(220, 220, 220);
  const QColor disabled(130, 130, 130), highlight(42, 130, 218);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, window);
  p.setColor(QPalette::ToolTipBase, base);
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, window);
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, Qt::red);
  p.setColor(QPalette::Link, highlight.lighter(130));
  p.setColor(QPalette::Highlight, highlight);
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::PlaceholderText, disabled);
  for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
    p.setColor(QPalette::Disabled, role, disabled);
  }
  QApplication::setPalette(p);
}

}  // namespace driftscope::ui
