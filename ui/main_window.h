// MainWindow: wires the control panel, the run controller and the plots together and
// keeps the status bar and the verdict line current. It computes nothing itself: every
// number comes from the published AnalysisState, read on the controller's timer.
#pragma once

#include <QElapsedTimer>
#include <QMainWindow>
#include <memory>

#include "core/config/run_config.h"
#include "core/engine/analysis_state.h"

class QLabel;
class QProgressBar;
class QAction;
class QMenu;
class QTabWidget;

namespace driftscope::ui {

class ControlPanel;
class Dashboard;
class PlotExporter;
class RunController;
class TrainingChart;
class DistanceChart;
class HeatmapView;
class PcaChart;
class VarianceChart;
class MsdChart;
class PathChart;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  void setConfig(const RunConfig& config);
  void startRun();
  void togglePause();
  void stopRun();
  void resetRun();
  void openSession(const QString& path);
  void saveSession(const QString& path);

  // For tests and screenshots.
  ControlPanel* controlPanel() const { return m_panel; }
  RunController* controller() const { return m_controller; }
  Dashboard* dashboard() const { return m_dashboard; }
  TrainingChart* trainingChart() const { return m_training; }
  DistanceChart* distanceChart() const { return m_distance; }
  HeatmapView* heatmapView() const { return m_heatmap; }
  PcaChart* pcaChart() const { return m_pca; }
  VarianceChart* varianceChart() const { return m_variance; }
  MsdChart* msdChart() const { return m_msd; }
  PathChart* pathChart() const { return m_path; }
  QLabel* verdictLabel() const { return m_verdict; }
  QLabel* errorBanner() const { return m_error; }
  QLabel* phaseLabel() const { return m_phase; }
  QLabel* messageLabel() const { return m_message; }
  PlotExporter* exporter() const { return m_exporter; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildMenus();
  void buildStatusBar();
  void onStateChanged();
  void onStarted();
  void onFinished(const QString& message);
  void showError(const QString& message);
  void updateRunControls();
  void render(const AnalysisState& state);  // plots and status line
  void renderStatus(const AnalysisState& state);
  void chooseReference(bool pinned);
  void showShortcuts();
  void showAbout();
  void registerPlots();
  void rebuildRecentMenu();
  void setTheme(int theme);
  void showInfo(const QString& message);

  RunController* m_controller = nullptr;
  PlotExporter* m_exporter = nullptr;
  QMenu* m_recentMenu = nullptr;
  QMenu* m_exportPlotMenu = nullptr;
  ControlPanel* m_panel = nullptr;
  Dashboard* m_dashboard = nullptr;
  TrainingChart* m_training = nullptr;
  DistanceChart* m_distance = nullptr;
  HeatmapView* m_heatmap = nullptr;
  PcaChart* m_pca = nullptr;
  VarianceChart* m_variance = nullptr;
  MsdChart* m_msd = nullptr;
  PathChart* m_path = nullptr;
  QTabWidget* m_msdTabs = nullptr;
  QLabel* m_verdict = nullptr;
  QLabel* m_error = nullptr;
  QProgressBar* m_epochProgress = nullptr;
  QProgressBar* m_runProgress = nullptr;
  QLabel* m_speed = nullptr;
  QLabel* m_snapshots = nullptr;
  QLabel* m_memory = nullptr;
  QLabel* m_phase = nullptr;
  QLabel* m_message = nullptr;  // last run message (completed, stopped, reference set)
  // While training runs, the plots are redrawn at most every kPlotIntervalMs (4 Hz; the
  // status line with every new state): redrawing six charts at the 30 Hz poll rate cost
  // training 18-27% on a 2-core machine, 4 Hz about 8% (docs/benchmarks.md).
  static constexpr int kPlotIntervalMs = 250;
  QElapsedTimer m_plotClock;
  QTimer* m_plotTimer = nullptr;  // single shot: the latest state once the interval is over
  QAction* m_startAction = nullptr;
  QAction* m_stopAction = nullptr;
  QAction* m_logAction = nullptr;
  QAction* m_epochAxisAction = nullptr;
  RunConfig m_runConfig;  // configuration of the current run
  int m_stepsPerEpoch = 1;
};

}  // namespace driftscope::ui
