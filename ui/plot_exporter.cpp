#include "ui/plot_exporter.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFileDialog>
#include <QMenu>

#include "ui/charts/plot_context.h"
#include "ui/charts/plot_export.h"
#include "ui/dashboard.h"
#include "ui/figure_export.h"
#include "ui/run_controller.h"

namespace driftscope::ui {
namespace {

QString suffixFor(ExportKind kind) {
  switch (kind) {
    case ExportKind::kSvg:
      return QStringLiteral(".svg");
    case ExportKind::kCsv:
      return QStringLiteral(".csv");
    default:
      return QStringLiteral(".png");
  }
}

QString filterFor(ExportKind kind) {
  switch (kind) {
    case ExportKind::kSvg:
      return QObject::tr("SVG image (*.svg)");
    case ExportKind::kCsv:
      return QObject::tr("CSV table (*.csv)");
    default:
      return QObject::tr("PNG image (*.png)");
  }
}

}  // namespace

QString exportKindName(ExportKind kind) {
  switch (kind) {
    case ExportKind::kPng1x:
      return QObject::tr("PNG 1x");
    case ExportKind::kPng2x:
      return QObject::tr("PNG 2x");
    case ExportKind::kPng300Dpi:
      return QObject::tr("PNG 300 dpi");
    case ExportKind::kSvg:
      return QObject::tr("SVG");
    case ExportKind::kCsv:
      return QObject::tr("CSV");
  }
  return {};
}

PlotExporter::PlotExporter(RunController* controller, QWidget* dialogParent)
    : QObject(dialogParent), m_controller(controller), m_parent(dialogParent) {
  m_lastDir = QDir::homePath();
  connect(m_controller, &RunController::exportDataWritten, this,
          [this](const QString& dir, std::shared_ptr<const AnalysisState> state) {
            writeFiguresFor(dir, std::move(state));
          });
}

void PlotExporter::addPlot(PlotFrame* frame, const PlotEntry& entry) {
  m_entries.push_back(entry);
  for (auto& [f, menu] : m_frameMenus) {
    if (f != frame) continue;
    // Second plot of a tabbed frame: both get a submenu in the frame's one menu.
    if (menu->actions().first()->menu() == nullptr) {
      QMenu* first = makeMenu(m_entries[m_entries.size() - 2], frame);
      menu->clear();
      menu->addMenu(first);
    }
    menu->addMenu(makeMenu(m_entries.back(), frame));
    return;
  }
  QMenu* menu = makeMenu(m_entries.back(), frame);
  m_frameMenus.emplace_back(frame, menu);
  frame->setActionsMenu(menu);
}

void PlotExporter::fillExportMenu(QMenu* menu) {
  for (const PlotEntry& e : m_entries) {
    QMenu* sub = makeMenu(e, menu);
    sub->setTitle(e.title);
    menu->addMenu(sub);
  }
}

QMenu* PlotExporter::makeMenu(const PlotEntry& entry, QWidget* parent) {
  auto* menu = new QMenu(entry.title, parent);
  const QString stem = entry.stem;
  auto add = [&](const QString& text, ExportKind kind) {
    menu->addAction(text, this, [this, stem, kind] {
      if (const PlotEntry* e = find(stem)) exportWithDialog(*e, kind);
    });
  };
  QAction* quick = menu->addAction(QString(), this, [this, stem] { quickExport(stem); });
  // The label names the remembered format and folder each time the menu opens.
  connect(menu, &QMenu::aboutToShow, quick, [this, quick] {
    quick->setText(tr("Quick export (%1 to %2)").arg(exportKindName(m_lastKind), m_lastDir));
  });
  menu->addSeparator();
  add(tr("Save PNG (1x)..."), ExportKind::kPng1x);
  add(tr("Save PNG (2x)..."), ExportKind::kPng2x);
  add(tr("Save PNG (300 dpi)..."), ExportKind::kPng300Dpi);
  add(tr("Save SVG..."), ExportKind::kSvg);
  menu->addSeparator();
  add(tr("Save data as CSV..."), ExportKind::kCsv);
  menu->addAction(tr("Copy image"), this, [this, stem] {
    if (Status s = copyToClipboard(stem); !s) Q_EMIT failed(QString::fromStdString(s.message()));
  });
  return menu;
}

const PlotEntry* PlotExporter::find(const QString& stem) const {
  for (const PlotEntry& e : m_entries) {
    if (e.stem == stem) return &e;
  }
  return nullptr;
}

void PlotExporter::exportWithDialog(const PlotEntry& entry, ExportKind kind) {
  const QString suggested = QDir(m_lastDir).filePath(entry.stem + suffixFor(kind));
  const QString path = QFileDialog::getSaveFileName(m_parent, tr("Export %1").arg(entry.title),
                                                    suggested, filterFor(kind));
  if (path.isEmpty()) return;
  m_lastDir = QFileInfo(path).absolutePath();
  m_lastKind = kind;
  if (Status s = exportTo(entry.stem, kind, path); !s) {
    Q_EMIT failed(QString::fromStdString(s.message()));
  } else {
    Q_EMIT info(tr("Saved %1").arg(path));
  }
}

Status PlotExporter::exportTo(const QString& stem, ExportKind kind, const QString& path) {
  const PlotEntry* e = find(stem);
  if (!e) return Status::error("no plot named " + stem.toStdString());
  if (kind == ExportKind::kCsv) {
    const auto state = m_controller->latest();
    if (!state) return Status::error(path.toStdString() + ": nothing to export yet");
    return writeBytesAtomically(path, QByteArray::fromStdString(e->csv(*state)));
  }
  ImageOptions options;  // the size shown on screen
  if (kind == ExportKind::kPng2x) options.scale = 2.0;
  if (kind == ExportKind::kPng300Dpi) options.dpi = 300;
  return writePlot(e->widget(), path,
                   kind == ExportKind::kSvg ? ImageFormat::kSvg : ImageFormat::kPng, options,
                   e->title);
}

void PlotExporter::quickExport(const QString& stem) {
  const QString path = QDir(m_lastDir).filePath(stem + suffixFor(m_lastKind));
  if (Status s = exportTo(stem, m_lastKind, path); !s) {
    Q_EMIT failed(QString::fromStdString(s.message()));
  } else {
    Q_EMIT info(tr("Saved %1").arg(path));
  }
}

Status PlotExporter::copyToClipboard(const QString& stem) {
  const PlotEntry* e = find(stem);
  if (!e) return Status::error("no plot named " + stem.toStdString());
  ImageOptions options;
  options.scale = 2.0;
  const QImage image = renderPlotImage(e->widget(), options);
  if (image.isNull()) return Status::error("the plot could not be rendered");
  QApplication::clipboard()->setImage(image);
  Q_EMIT info(tr("Copied %1 to the clipboard").arg(e->title));
  return Status::ok();
}

void PlotExporter::exportAllWithDialog() {
  const QString dir = QFileDialog::getExistingDirectory(
      m_parent, tr("Export all plots and data into a folder"), m_lastDir);
  if (dir.isEmpty()) return;
  m_lastDir = dir;
  exportAllTo(dir);
}

void PlotExporter::exportAllTo(const QString& dir) {
  Q_EMIT info(tr("Exporting to %1 ...").arg(dir));
  m_controller->exportAll(dir);
}

void PlotExporter::writeFiguresFor(const QString& dir, std::shared_ptr<const AnalysisState> state) {
  PlotContext context;
  context.stepsPerEpoch = std::max(1, m_controller->stepsPerEpoch());
  context.recordEvery = std::max(1, m_controller->shownConfig().recordEvery);
  if (Status s = writeFigures(dir, *state, context); !s) {
    Q_EMIT failed(tr("Export all: %1").arg(QString::fromStdString(s.message())));
    return;
  }
  Q_EMIT info(tr("Exported every plot and data file to %1").arg(dir));
  Q_EMIT allExported(dir);
}

}  // namespace driftscope::ui
