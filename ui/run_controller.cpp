#include "ui/run_controller.h"

#include <QMetaObject>
#include <QTimer>

#include "core/engine/experiment.h"

namespace driftscope::ui {

RunController::RunController(QObject* parent) : QObject(parent), m_timer(new QTimer(this)) {
  m_timer->setInterval(33);
  connect(m_timer, &QTimer::timeout, this, [this] { poll(); });
  m_timer->start();
}

RunController::~RunController() { abort(); }

std::shared_ptr<Experiment> RunController::experiment() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_experiment;
}

std::shared_ptr<const AnalysisState> RunController::latest() const {
  const auto e = experiment();
  return e ? e->latest() : nullptr;
}

void RunController::joinWorker() {
  if (m_worker.joinable()) m_worker.join();
}

void RunController::start(const RunConfig& config) {
  if (m_running) return;
  joinWorker();
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_experiment.reset();
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_abortRequested = false;
  }
  m_running = true;
  m_paused = false;
  m_lastVersion = 0;
  const int generation = ++m_generation;
  m_worker = std::thread([this, config, generation] {
    auto created = Experiment::create(config);
    if (!created) {
      const QString message = QString::fromStdString(created.message());
      QMetaObject::invokeMethod(this, [this, message, generation] {
        if (generation != m_generation || !m_running) return;
        m_running = false;
        joinWorker();
        Q_EMIT startFailed(message);
      }, Qt::QueuedConnection);
      return;
    }
    std::shared_ptr<Experiment> experiment(std::move(created).value().release());
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (m_abortRequested) return;
      m_experiment = experiment;
    }
    QMetaObject::invokeMethod(this, [this, generation] {
      if (generation == m_generation) Q_EMIT started();
    }, Qt::QueuedConnection);
    const TrainOutcome outcome = experiment->run();
    const QString message = QString::fromStdString(outcome.message);
    QMetaObject::invokeMethod(this, [this, message, generation] {
      if (generation != m_generation || !m_running) return;  // aborted or superseded
      m_running = false;
      m_paused = false;
      joinWorker();
      poll();
      Q_EMIT finished(message);
    }, Qt::QueuedConnection);
  });
}

void RunController::setPaused(bool paused) {
  if (!m_running) return;
  m_paused = paused;
  if (auto e = experiment()) e->setPaused(paused);
}

void RunController::stop() {
  if (auto e = experiment()) e->stop();
}

void RunController::abort() {
  std::shared_ptr<Experiment> e;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_abortRequested = true;
    e = m_experiment;
  }
  if (e) e->abort();
  joinWorker();
  m_running = false;
  m_paused = false;
}

void RunController::reset() {
  abort();
  ++m_generation;
  std::lock_guard<std::mutex> lock(m_mutex);
  m_experiment.reset();
}

void RunController::setLearningRate(double lr) {
  if (auto e = experiment()) e->setLearningRate(static_cast<float>(lr));
}

void RunController::requestReference(int snapshotIndex) {
  if (auto e = experiment()) e->requestReference(snapshotIndex);
}

void RunController::poll() {
  const auto state = latest();
  if (!state) return;
  if (state->version == m_lastVersion && state.get() == m_lastStateIdentity) return;
  m_lastVersion = state->version;
  m_lastStateIdentity = state.get();
  Q_EMIT stateChanged();
}

}  // namespace driftscope::ui
