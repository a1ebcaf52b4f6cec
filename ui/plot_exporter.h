// PlotExporter: every way a plot leaves the window. Per plot (its frame's Export button,
// a right-click, File > Export plot): PNG at 1x / 2x / 300 dpi, SVG, the plot's data as
// CSV, and copy to the clipboard. Export all: every data file of design.md plus every
// plot as PNG and SVG into one folder, the same files `driftscope run` writes. Failures
// are reported (naming the path) and leave no partial file. GUI thread only.
#pragma once

#include <QObject>
#include <QString>
#include <functional>
#include <string>
#include <vector>

#include "core/engine/analysis_state.h"
#include "core/status.h"

class QMenu;
class QWidget;

namespace driftscope::ui {

class PlotFrame;
class RunController;

struct PlotEntry {
  QString stem;                      // file name stem, e.g. "distance"
  QString title;                     // shown in menus and as the exported figure's title
  std::function<QWidget*()> widget;  // the live plot widget (current tab where tabbed)
  std::function<std::string(const AnalysisState&)> csv;
};

enum class ExportKind { kPng1x, kPng2x, kPng300Dpi, kSvg, kCsv };

class PlotExporter : public QObject {
  Q_OBJECT

 public:
  PlotExporter(RunController* controller, QWidget* dialogParent);

  // Registers a plot and gives its frame an Export menu; a frame holding several plots
  // (tabs) gets one menu with a section per plot.
  void addPlot(PlotFrame* frame, const PlotEntry& entry);
  // File > Export plot: one submenu per plot.
  void fillExportMenu(QMenu* menu);

  // Without dialogs (tests, scripts). `stem` names a registered plot.
  Status exportTo(const QString& stem, ExportKind kind, const QString& path);
  Status copyToClipboard(const QString& stem);
  // Asks for a folder, then exports everything there (asynchronous).
  void exportAllWithDialog();
  void exportAllTo(const QString& dir);

  QString lastDirectory() const { return m_lastDir; }
  void setLastDirectory(const QString& dir) { m_lastDir = dir; }
  // The format of the last per-plot export; "Quick export" reuses it with the last folder.
  ExportKind lastKind() const { return m_lastKind; }
  void setLastKind(ExportKind kind) { m_lastKind = kind; }
  // Writes STEM.<ext> of the last format into the last folder, without a dialog.
  void quickExport(const QString& stem);

 Q_SIGNALS:
  void info(const QString& message);
  void failed(const QString& message);
  void allExported(const QString& dir);  // export all completed (data and figures)

 private:
  const PlotEntry* find(const QString& stem) const;
  QMenu* makeMenu(const PlotEntry& entry, QWidget* parent);
  void exportWithDialog(const PlotEntry& entry, ExportKind kind);
  void writeFiguresFor(const QString& dir, std::shared_ptr<const AnalysisState> state);

  RunController* m_controller;
  QWidget* m_parent;
  std::vector<PlotEntry> m_entries;
  std::vector<std::pair<PlotFrame*, QMenu*>> m_frameMenus;
  QString m_lastDir;
  ExportKind m_lastKind = ExportKind::kPng2x;
};

QString exportKindName(ExportKind kind);

}  // namespace driftscope::ui
