// RunController: the window's handle on one Experiment. It creates and runs the
// experiment on a worker thread (so loading a large data set or a long final analysis
// never blocks the GUI), forwards the controls (pause, stop, learning rate, reference)
// and polls the published AnalysisState on a ~30 Hz timer, emitting stateChanged only
// when a new version exists (bursts are coalesced; the GUI thread never waits on
// training or analysis). Lives on the GUI thread; all signals arrive there.
#pragma once

#include <QObject>
#include <QString>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/config/run_config.h"
#include "core/engine/analysis_state.h"

class QTimer;

namespace driftscope {
class Experiment;
struct Session;
}  // namespace driftscope

namespace driftscope::ui {

class RunController : public QObject {
  Q_OBJECT

 public:
  explicit RunController(QObject* parent = nullptr);
  ~RunController() override;

  bool isRunning() const { return m_running; }
  bool isPaused() const { return m_paused; }

  // Starts a run with `config`; failures (bad data file, config) arrive as startFailed.
  void start(const RunConfig& config);
  void setPaused(bool paused);
  void stop();   // training ends at the next step; the final analysis still runs
  void abort();  // ends everything now (Reset, closing the window); joins the worker
  void reset();  // abort() and forget the experiment (the plots empty)
  void setLearningRate(double lr);
  void requestReference(int snapshotIndex);
  void pinReference(int snapshotIndex);

  std::shared_ptr<const AnalysisState> latest() const;
  // The experiment of the current or last run (null before the first start).
  std::shared_ptr<Experiment> experiment() const;
  // The session opened last (null when a run was started since).
  std::shared_ptr<const Session> session() const { return m_session; }
  // Configuration of what is shown (the run's, or the opened session's).
  RunConfig shownConfig() const;
  int stepsPerEpoch() const;
  bool isBusy() const { return m_busy; }  // an export or session save/open is under way

  // Asynchronous file work; each ends with exactly one of the signals below. The data
  // files are written off the GUI thread from a ring and a state consistent with it.
  void exportAll(const QString& dir);
  void saveSession(const QString& path);
  void openSession(const QString& path);

 Q_SIGNALS:
  // Export all: the data files are written; `state` is what they show (the window then
  // renders the figures of that same state into `dir`).
  void exportDataWritten(const QString& dir,
                         std::shared_ptr<const driftscope::AnalysisState> state);
  void fileWorkFailed(const QString& message);
  void sessionSaved(const QString& path);
  void sessionOpened(const QString& path);
  void started();
  void startFailed(const QString& message);
  void finished(const QString& message);
  void stateChanged();

 private:
  void poll();
  void joinWorker();
  // Runs `job` on a background thread, joined at the latest in the destructor.
  void background(std::function<void()> job);

  mutable std::mutex m_mutex;
  std::shared_ptr<Experiment> m_experiment;  // guarded by m_mutex (set by the worker)
  std::thread m_worker;
  QTimer* m_timer = nullptr;
  std::uint64_t m_lastVersion = 0;
  const void* m_lastStateIdentity = nullptr;
  bool m_running = false;
  bool m_paused = false;
  bool m_abortRequested = false;  // guarded by m_mutex; read by the worker
  std::shared_ptr<const Session> m_session;
  std::vector<std::thread> m_jobs;
  bool m_busy = false;
  int m_generation = 0;  // runs started; stale queued events are dropped
};

}  // namespace driftscope::ui
