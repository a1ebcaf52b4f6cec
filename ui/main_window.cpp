#include "ui/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QInputDialog>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QTimer>
#include <QMessageBox>
#include <QProgressBar>
#include <QScrollArea>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include "core/engine/experiment.h"
#include "core/io/run_writer.h"
#include "ui/app_settings.h"
#include "ui/charts/distance_chart.h"
#include "ui/charts/heatmap_view.h"
#include "ui/charts/msd_chart.h"
#include "ui/charts/pca_chart.h"
#include "ui/charts/plot_context.h"
#include "ui/charts/training_chart.h"
#include "ui/control_panel.h"
#include "ui/dashboard.h"
#include "ui/plot_exporter.h"
#include "ui/run_controller.h"

namespace driftscope::ui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_controller(new RunController(this)),
      m_exporter(new PlotExporter(m_controller, this)) {
  setWindowTitle(tr("Driftscope"));
  resize(1500, 950);

  m_panel = new ControlPanel;
  auto* scroll = new QScrollArea;
  scroll->setWidget(m_panel);
  scroll->setWidgetResizable(true);
  auto* dock = new QDockWidget(tr("Experiment"), this);
  dock->setObjectName(QStringLiteral("experimentDock"));
  dock->setWidget(scroll);
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  addDockWidget(Qt::LeftDockWidgetArea, dock);

  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  m_verdict = new QLabel(tr("Press Start (Space) to train; the verdict appears once "
                            "snapshots are recorded."),
                         central);
  QFont big = m_verdict->font();
  big.setPointSizeF(big.pointSizeF() * 1.25);
  m_verdict->setFont(big);
  m_verdict->setWordWrap(true);
  m_error = new QLabel(central);
  m_error->setWordWrap(true);
  m_error->setStyleSheet(QStringLiteral(
      "background: #fde0dc; color: #8b1a10; border: 1px solid #d62728; padding: 4px;"));
  m_error->setVisible(false);
  m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(m_verdict);
  layout->addWidget(m_error);

  m_dashboard = new Dashboard(central);
  m_training = new TrainingChart;
  m_distance = new DistanceChart;
  m_heatmap = new HeatmapView;
  m_pca = new PcaChart;
  m_variance = new VarianceChart;
  m_msd = new MsdChart;
  m_path = new PathChart;
  m_msdTabs = new QTabWidget;
  m_msdTabs->addTab(m_msd, tr("MSD"));
  m_msdTabs->addTab(m_path, tr("Straight path"));
  m_dashboard->addPlot(tr("Training"), m_training, 0, 0);
  m_dashboard->addPlot(tr("Distance from the reference"), m_distance, 0, 1);
  m_dashboard->addPlot(tr("Pairwise distances of the ring (click: set reference)"), m_heatmap, 0,
                       2);
  m_dashboard->addPlot(tr("PCA of the trajectory"), m_pca, 1, 0);
  m_dashboard->addPlot(tr("Explained variance vs. random walk"), m_variance, 1, 1);
  m_dashboard->addPlot(tr("Mean squared displacement / straight path"), m_msdTabs, 1, 2);
  layout->addWidget(m_dashboard, 1);
  setCentralWidget(central);

  registerPlots();
  buildMenus();
  buildStatusBar();
  if (const QString dir = AppSettings::lastExportDirectory(); !dir.isEmpty()) {
    m_exporter->setLastDirectory(dir);
  }
  if (const int kind = AppSettings::lastExportFormat();
      kind >= static_cast<int>(ExportKind::kPng1x) && kind <= static_cast<int>(ExportKind::kCsv)) {
    m_exporter->setLastKind(static_cast<ExportKind>(kind));
  }
  if (auto last = AppSettings::lastConfig()) m_panel->setConfig(*last);
  AppSettings::restoreWindow(*this);

  connect(m_exporter, &PlotExporter::info, this, [this](const QString& m) { showInfo(m); });
  connect(m_exporter, &PlotExporter::failed, this, [this](const QString& m) { showError(m); });
  connect(m_controller, &RunController::fileWorkFailed, this,
          [this](const QString& m) { showError(m); });
  connect(m_controller, &RunController::sessionSaved, this, [this](const QString& path) {
    AppSettings::addRecentSession(path);
    rebuildRecentMenu();
    showInfo(tr("Session saved to %1").arg(path));
  });
  connect(m_controller, &RunController::sessionOpened, this, [this](const QString& path) {
    AppSettings::addRecentSession(path);
    rebuildRecentMenu();
    m_panel->setConfig(m_controller->shownConfig());
    m_runConfig = m_controller->shownConfig();
    m_stepsPerEpoch = m_controller->stepsPerEpoch();
    m_error->setVisible(false);
    showInfo(tr("Opened session %1").arg(path));
    onStateChanged();
  });

  connect(m_panel, &ControlPanel::startPauseClicked, this, [this] { togglePause(); });
  connect(m_panel, &ControlPanel::stopClicked, this, [this] { stopRun(); });
  connect(m_panel, &ControlPanel::resetClicked, this, [this] { resetRun(); });
  connect(m_panel, &ControlPanel::learningRateChanged, this,
          [this](double lr) { m_controller->setLearningRate(lr); });
  connect(m_panel, &ControlPanel::configEdited, this, [this] { updateRunControls(); });
  connect(m_controller, &RunController::stateChanged, this, [this] { onStateChanged(); });
  m_plotTimer = new QTimer(this);
  m_plotTimer->setSingleShot(true);
  connect(m_plotTimer, &QTimer::timeout, this, [this] { onStateChanged(); });
  connect(m_controller, &RunController::started, this, [this] { onStarted(); });
  connect(m_controller, &RunController::finished, this,
          [this](const QString& m) { onFinished(m); });
  connect(m_controller, &RunController::startFailed, this, [this](const QString& m) {
    showError(tr("Could not start: %1").arg(m));
    updateRunControls();
  });
  connect(m_heatmap, &HeatmapView::snapshotClicked, this, [this](int index) {
    // Click: new reference for every plot. Ctrl+click: pin as an extra (aging) reference.
    if (QApplication::keyboardModifiers() & Qt::ControlModifier) {
      m_controller->pinReference(index);
    } else {
      m_controller->requestReference(index);
    }
  });
  updateRunControls();
}

MainWindow::~MainWindow() { m_controller->abort(); }

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* newRun = file->addAction(tr("&New run"), this, [this] { resetRun(); });
  newRun->setShortcut(QKeySequence::New);
  file->addSeparator();
  QAction* open = file->addAction(tr("&Open session..."), this, [this] {
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open session"), m_exporter->lastDirectory(),
                                     tr("Driftscope sessions (*.dsession);;All files (*)"));
    if (!path.isEmpty()) openSession(path);
  });
  open->setShortcut(QKeySequence::Open);
  m_recentMenu = file->addMenu(tr("Open &recent"));
  rebuildRecentMenu();
  QAction* save = file->addAction(tr("&Save session..."), this, [this] {
    QString path = QFileDialog::getSaveFileName(
        this, tr("Save session"), m_exporter->lastDirectory() + QStringLiteral("/run.dsession"),
        tr("Driftscope sessions (*.dsession)"));
    if (path.isEmpty()) return;
    if (!path.endsWith(QLatin1String(".dsession"))) path += QStringLiteral(".dsession");
    saveSession(path);
  });
  save->setShortcut(QKeySequence::Save);
  file->addSeparator();
  m_exportPlotMenu = file->addMenu(tr("Export &plot"));
  m_exporter->fillExportMenu(m_exportPlotMenu);
  QAction* exportAll =
      file->addAction(tr("&Export all..."), this, [this] { m_exporter->exportAllWithDialog(); });
  exportAll->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, [this] { close(); });
  quit->setShortcut(QKeySequence::Quit);

  QMenu* run = menuBar()->addMenu(tr("&Run"));
  m_startAction = run->addAction(tr("Start / Pause"), this, [this] { togglePause(); });
  m_startAction->setShortcut(QKeySequence(Qt::Key_Space));
  m_stopAction = run->addAction(tr("Stop"), this, [this] { stopRun(); });
  m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
  QAction* reset = run->addAction(tr("Reset"), this, [this] { resetRun(); });
  reset->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  run->addSeparator();
  QAction* ref = run->addAction(tr("Set reference..."), this, [this] { chooseReference(false); });
  ref->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
  QAction* pin =
      run->addAction(tr("Pin extra reference (aging)..."), this, [this] { chooseReference(true); });
  pin->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));

  QMenu* view = menuBar()->addMenu(tr("&View"));
  m_logAction = view->addAction(tr("&Logarithmic distance axis"));
  m_logAction->setCheckable(true);
  m_logAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
  connect(m_logAction, &QAction::toggled, this, [this](bool on) {
    m_distance->setLogY(on);
    onStateChanged();
  });
  QAction* pc3 = view->addAction(tr("PCA: plot PC&3 instead of PC2"));
  pc3->setCheckable(true);
  connect(pc3, &QAction::toggled, this, [this](bool on) {
    m_pca->setSecondComponent(on ? 3 : 2);
    onStateChanged();
  });
  m_epochAxisAction = view->addAction(tr("Time in &epochs"));
  m_epochAxisAction->setCheckable(true);
  connect(m_epochAxisAction, &QAction::toggled, this, [this] { onStateChanged(); });
  QAction* resetZoom = view->addAction(tr("Reset &zoom"), this, [this] {
    for (ChartView* c : std::initializer_list<ChartView*>{m_training, m_distance, m_pca, m_variance,
                                                          m_msd, m_path}) {
      c->resetZoom();
    }
  });
  resetZoom->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  QMenu* theme = view->addMenu(tr("&Theme"));
  auto* themes = new QActionGroup(this);
  QAction* light = theme->addAction(tr("&Light"), this, [this] { setTheme(0); });
  QAction* dark = theme->addAction(tr("&Dark"), this, [this] { setTheme(1); });
  for (QAction* a : {light, dark}) {
    a->setCheckable(true);
    themes->addAction(a);
  }
  (AppSettings::theme() == Theme::kDark ? dark : light)->setChecked(true);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&Keyboard shortcuts"), this, [this] { showShortcuts(); });
  help->addAction(tr("&About Driftscope"), this, [this] { showAbout(); });
}

void MainWindow::buildStatusBar() {
  m_phase = new QLabel(tr("idle"));
  m_epochProgress = new QProgressBar;
  m_epochProgress->setRange(0, 1000);
  m_epochProgress->setFormat(tr("epoch %p%"));
  m_epochProgress->setMaximumWidth(160);
  m_runProgress = new QProgressBar;
  m_runProgress->setRange(0, 1000);
  m_runProgress->setFormat(tr("run %p%"));
  m_runProgress->setMaximumWidth(160);
  m_speed = new QLabel;
  m_snapshots = new QLabel;
  m_memory = new QLabel;
  m_message = new QLabel;
  statusBar()->addWidget(m_phase);
  statusBar()->addWidget(m_epochProgress);
  statusBar()->addWidget(m_runProgress);
  statusBar()->addWidget(m_message, 1);
  statusBar()->addPermanentWidget(m_speed);
  statusBar()->addPermanentWidget(m_snapshots);
  statusBar()->addPermanentWidget(m_memory);
}

void MainWindow::setConfig(const RunConfig& config) { m_panel->setConfig(config); }

void MainWindow::startRun() {
  if (m_controller->isRunning()) return;
  const QString error = m_panel->validationError();
  if (!error.isEmpty()) {
    showError(error);
    return;
  }
  m_error->setVisible(false);
  m_runConfig = m_panel->config();
  m_controller->start(m_runConfig);
  m_phase->setText(tr("loading data..."));
  updateRunControls();
}

void MainWindow::togglePause() {
  if (!m_controller->isRunning()) {
    startRun();
    return;
  }
  m_controller->setPaused(!m_controller->isPaused());
  updateRunControls();
}

void MainWindow::stopRun() {
  m_controller->stop();
  m_phase->setText(tr("stopping (final analysis)..."));
}

void MainWindow::resetRun() {
  m_controller->reset();
  m_error->setVisible(false);
  const AnalysisState empty;
  render(empty);
  m_verdict->setText(tr("Press Start (Space) to train."));
  m_phase->setText(tr("idle"));
  m_message->clear();
  updateRunControls();
}

void MainWindow::onStarted() {
  if (auto e = m_controller->experiment()) m_stepsPerEpoch = e->stepsPerEpoch();
  updateRunControls();
}

void MainWindow::onFinished(const QString& message) {
  updateRunControls();
  m_message->setText(message);
  if (auto s = m_controller->latest(); s && s->phase == RunPhase::kDiverged) {
    showError(
        tr("Training diverged: %1. The recorded snapshots and series are kept.").arg(message));
  }
}

void MainWindow::showError(const QString& message) {
  m_error->setText(message);
  m_error->setVisible(true);
}

void MainWindow::updateRunControls() {
  m_panel->setRunState(m_controller->isRunning(), m_controller->isPaused());
  m_stopAction->setEnabled(m_controller->isRunning());
}

void MainWindow::onStateChanged() {
  const auto state = m_controller->latest();
  if (!state) return;
  const bool training = state->phase == RunPhase::kBurnIn || state->phase == RunPhase::kRecording;
  if (training && m_plotClock.isValid() && m_plotClock.elapsed() < kPlotIntervalMs) {
    renderStatus(*state);
    if (!m_plotTimer->isActive()) {
      m_plotTimer->start(static_cast<int>(kPlotIntervalMs - m_plotClock.elapsed()));
    }
    return;
  }
  m_plotTimer->stop();
  m_plotClock.start();
  render(*state);
}

void MainWindow::render(const AnalysisState& s) {
  PlotContext ctx;
  ctx.stepsPerEpoch = std::max(1, m_stepsPerEpoch);
  ctx.recordEvery = std::max(1, m_runConfig.recordEvery);
  ctx.timeInEpochs = m_epochAxisAction->isChecked();
  m_training->setState(s, ctx);
  m_distance->setState(s, ctx);
  // Pinned references: d(w_pin, w) against the lag since the pin, drawn from the start of
  // recording so they overlay d(w_N, w) against its own lag (the aging picture).
  std::vector<std::pair<QString, QList<QPointF>>> pinned;
  if (!s.distances.empty()) {
    const double x0 = static_cast<double>(s.distances.front().meta.step);
    for (const PinnedCurve& c : s.pinned) {
      QList<QPointF> points;
      points.reserve(static_cast<qsizetype>(c.points.size()));
      for (const PinnedPoint& p : c.points) {
        const double x = x0 + static_cast<double>(p.lagSteps);
        points.append(QPointF(ctx.timeInEpochs ? x / ctx.stepsPerEpoch : x, p.distance));
      }
      pinned.emplace_back(tr("pin #%1, vs lag").arg(c.reference.index), points);
    }
  }
  m_distance->setExtraCurves(pinned);
  m_heatmap->setState(s, ctx);
  m_pca->setState(s, ctx);
  m_variance->setState(s, ctx);
  m_msd->setState(s, ctx);
  m_path->setState(s, ctx);
  renderStatus(s);
}

void MainWindow::renderStatus(const AnalysisState& s) {
  if (s.verdict.valid) m_verdict->setText(QString::fromStdString(s.verdict.text));
  QString phase = QString::fromStdString(toString(s.phase));
  if (s.phase == RunPhase::kIdle && m_controller->isRunning()) phase = tr("starting");
  m_phase->setText(tr("phase: %1").arg(phase));
  const double epochFraction = s.phase == RunPhase::kFinished ? 1.0 : s.progress.epochFraction;
  m_epochProgress->setValue(static_cast<int>(1000 * epochFraction));
  const double total = std::max(1, m_runConfig.epochs);
  const int epochsDone = s.metrics.empty() ? 0 : s.metrics.back().epoch;
  const double runFraction =
      s.phase == RunPhase::kFinished
          ? 1.0
          : std::min(1.0, (std::max<double>(epochsDone, s.progress.epoch) +
                           (s.progress.epoch >= epochsDone ? epochFraction : 0.0)) /
                              total);
  m_runProgress->setValue(static_cast<int>(1000 * runFraction));
  m_speed->setText(tr("%1 steps/s").arg(s.progress.stepsPerSecond, 0, 'f', 0));
  m_snapshots->setText(
      tr("snapshots: %1 taken, %2 in ring").arg(s.snapshotsTaken).arg(s.snapshotsInRing));
  m_memory->setText(tr("ring memory: %1").arg(QString::fromStdString(formatBytes(s.ringBytes))));
  if (!s.message.empty()) m_message->setText(QString::fromStdString(s.message));
}

void MainWindow::chooseReference(bool pinned) {
  const auto s = m_controller->latest();
  if (!s || !s->ring || s->ring->snapshots.empty()) {
    showError(tr("No snapshots yet: the reference can be set once recording has started."));
    return;
  }
  const int first = s->ring->snapshots.front().index;
  const int last = s->ring->snapshots.back().index;
  bool ok = false;
  const int index =
      QInputDialog::getInt(this, pinned ? tr("Pin an extra reference") : tr("Set reference"),
                           tr("Snapshot index (%1 to %2 are in the ring):").arg(first).arg(last),
                           s->reference ? s->reference->index : first, first, last, 1, &ok);
  if (!ok) return;
  if (pinned) {
    m_controller->pinReference(index);
  } else {
    m_controller->requestReference(index);
  }
}

void MainWindow::showShortcuts() {
  QMessageBox::information(
      this, tr("Keyboard shortcuts"),
      tr("<table>"
         "<tr><td>Space</td><td>Start / Pause / Resume</td></tr>"
         "<tr><td>Ctrl+.</td><td>Stop</td></tr>"
         "<tr><td>Ctrl+R</td><td>Reset</td></tr>"
         "<tr><td>Ctrl+Shift+R</td><td>Set reference (or click a heatmap row)</td></tr>"
         "<tr><td>Ctrl+Shift+P</td><td>Pin an extra reference (or Ctrl+click a row)</td></tr>"
         "<tr><td>Ctrl+L</td><td>Logarithmic distance axis</td></tr>"
         "<tr><td>Ctrl+0</td><td>Reset zoom (or double-click a plot)</td></tr>"
         "<tr><td>Ctrl+N</td><td>New run</td></tr>"
         "<tr><td>Ctrl+Q</td><td>Quit</td></tr></table>"
         "<p>Drag a rectangle to zoom, use the wheel to zoom, double-click to reset.</p>"));
}

void MainWindow::showAbout() {
  QMessageBox::about(
      this, tr("About Driftscope"),
      tr("<h3>Driftscope %1</h3><p>After a network stops improving, does constant-learning-rate "
         "SGD stay near one point in weight space, or wander far &mdash; far compared with the "
         "distance to the same network with its hidden neurons relabelled?</p>")
          .arg(QStringLiteral(DRIFTSCOPE_VERSION)));
}

void MainWindow::registerPlots() {
  const std::vector<std::pair<int, PlotEntry>> plots = {
      {0,
       {QStringLiteral("training"), tr("Training"), [this] { return m_training; },
        [](const AnalysisState& s) { return metricsCsv(s); }}},
      {1,
       {QStringLiteral("distance"), tr("Distance from the reference"),
        [this] { return m_distance; },
        [this](const AnalysisState& s) {
          return distanceCsv(s, static_cast<int>(m_runConfig.layers.size()) - 1);
        }}},
      {2,
       {QStringLiteral("heatmap"), tr("Pairwise distances of the ring"),
        [this] { return m_heatmap; }, [](const AnalysisState& s) { return heatmapCsv(s); }}},
      {3,
       {QStringLiteral("pca"), tr("PCA of the trajectory"), [this] { return m_pca; },
        [](const AnalysisState& s) { return pcaCsv(s); }}},
      {4,
       {QStringLiteral("pca_variance"), tr("Explained variance vs. random walk"),
        [this] { return m_variance; }, [](const AnalysisState& s) { return pcaVarianceCsv(s); }}},
      {5,
       {QStringLiteral("msd"), tr("Mean squared displacement"), [this] { return m_msd; },
        [this](const AnalysisState& s) {
          return msdCsv(s, std::max(1, m_runConfig.recordEvery));
        }}},
  };
  for (const auto& [index, entry] : plots) {
    m_exporter->addPlot(m_dashboard->frames().at(index), entry);
  }
  // The straight path shares the MSD frame (a tab); it has its own menu entry.
  m_exporter->addPlot(
      m_dashboard->frames().at(5),
      {QStringLiteral("path"), tr("Loss along the straight path"), [this] { return m_path; },
       [](const AnalysisState& s) { return pathCsv(s); }});
}

void MainWindow::rebuildRecentMenu() {
  m_recentMenu->clear();
  const QStringList recent = AppSettings::recentSessions();
  for (const QString& path : recent) {
    m_recentMenu->addAction(path, this, [this, path] { openSession(path); });
  }
  m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::openSession(const QString& path) {
  if (m_controller->isRunning()) {
    showError(tr("Stop the run before opening a session."));
    return;
  }
  m_controller->openSession(path);
}

void MainWindow::saveSession(const QString& path) { m_controller->saveSession(path); }

void MainWindow::setTheme(int theme) {
  const Theme t = theme == 1 ? Theme::kDark : Theme::kLight;
  applyTheme(t);
  AppSettings::setTheme(t);
}

void MainWindow::showInfo(const QString& message) { m_message->setText(message); }

void MainWindow::closeEvent(QCloseEvent* event) {
  m_controller->abort();
  AppSettings::saveWindow(*this);
  AppSettings::saveConfig(m_panel->config());
  AppSettings::setLastExportDirectory(m_exporter->lastDirectory());
  AppSettings::setLastExportFormat(static_cast<int>(m_exporter->lastKind()));
  event->accept();
}

}  // namespace driftscope::ui
