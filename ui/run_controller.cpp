#include "ui/run_controller.h"

#include <QTimer>

#include "core/engine/experiment.h"
#include "core/io/run_writer.h"
#include "core/io/session.h"
#include "core/model/mlp_layout.h"
#include "ui/queued_call.h"

namespace driftscope::ui {

RunController::RunController(QObject* parent) : QObject(parent), m_timer(new QTimer(this)) {
  m_timer->setInterval(33);
  connect(m_timer, &QTimer::timeout, this, [this] { poll(); });
  m_timer->start();
}

RunController::~RunController() {
  abort();
  for (std::thread& t : m_jobs) {
    if (t.joinable()) t.join();
  }
}

void RunController::background(std::function<void()> job) {
  // Threads are kept until the destructor joins them: a job per export or session file,
  // so only a handful per window lifetime.
  m_jobs.emplace_back(std::move(job));
}

RunConfig RunController::shownConfig() const {
  if (auto e = experiment()) return e->resolvedConfig();
  if (m_session) return m_session->config;
  return RunConfig{};
}

int RunController::stepsPerEpoch() const {
  if (auto e = experiment()) return e->stepsPerEpoch();
  if (m_session) return m_session->info.stepsPerEpoch;
  return 1;
}

void RunController::exportAll(const QString& dir) {
  if (m_busy) return;
  const std::string out = dir.toStdString();
  auto fail = [this](const std::string& message) {
    const QString m = QString::fromStdString(message);
    postQueued(this, [this, m] {
      m_busy = false;
      Q_EMIT fileWorkFailed(m);
    });
  };
  auto done = [this, dir](std::shared_ptr<const AnalysisState> state) {
    postQueued(this, [this, dir, state] {
      m_busy = false;
      Q_EMIT exportDataWritten(dir, state);
    });
  };
  if (auto e = experiment()) {
    m_busy = true;
    background([e, out, fail, done] {
      e->runWithRing([e, out, fail, done](const SnapshotRing& ring,
                                          std::shared_ptr<const AnalysisState> state) {
        if (!state) {
          fail(out + ": export cancelled (the run was reset or closed)");
          return;
        }
        const RunConfig config = e->resolvedConfig();
        const Status s =
            writeRunOutputs(out, config, MlpLayout(config.layers), *state, ring, e->runInfo());
        if (s) {
          done(state);
        } else {
          fail(s.message());
        }
      });
    });
  } else if (auto session = m_session) {
    m_busy = true;
    background([session, out, fail, done] {
      const Status s = writeRunOutputs(out, session->config, MlpLayout(session->config.layers),
                                       *session->state, *session->ring, session->info);
      if (s) {
        done(session->state);
      } else {
        fail(s.message());
      }
    });
  } else {
    Q_EMIT fileWorkFailed(tr("Nothing to export yet: start a run or open a session."));
  }
}

void RunController::saveSession(const QString& path) {
  if (m_busy) return;
  const std::string file = path.toStdString();
  auto finish = [this, path](const Status& s) {
    const QString m = QString::fromStdString(s.message());
    const bool ok = s.isOk();
    postQueued(this, [this, path, m, ok] {
      m_busy = false;
      if (ok) {
        Q_EMIT sessionSaved(path);
      } else {
        Q_EMIT fileWorkFailed(m);
      }
    });
  };
  if (auto e = experiment()) {
    m_busy = true;
    background([e, file, finish] {
      e->runWithRing(
          [e, file, finish](const SnapshotRing& ring, std::shared_ptr<const AnalysisState> state) {
            if (!state) {
              finish(Status::error(file + ": save cancelled (the run was reset or closed)"));
              return;
            }
            finish(driftscope::saveSession(file, e->resolvedConfig(), *state, ring, e->runInfo()));
          });
    });
  } else if (auto session = m_session) {
    m_busy = true;
    background([session, file, finish] {
      finish(driftscope::saveSession(file, session->config, *session->state, *session->ring,
                                     session->info));
    });
  } else {
    Q_EMIT fileWorkFailed(tr("Nothing to save yet: start a run first."));
  }
}

void RunController::openSession(const QString& path) {
  if (m_busy || m_running) return;
  m_busy = true;
  const std::string file = path.toStdString();
  background([this, file, path] {
    auto loaded = loadSession(file);
    std::shared_ptr<const Session> session;
    QString message;
    if (loaded) {
      session = std::make_shared<const Session>(std::move(loaded).value());
    } else {
      message = QString::fromStdString(loaded.message());
    }
    postQueued(this, [this, session, message, path] {
      m_busy = false;
      if (!session) {
        Q_EMIT fileWorkFailed(message);
        return;
      }
      if (m_running) return;  // a run started meanwhile: it wins
      {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_experiment.reset();
      }
      m_session = session;
      m_lastVersion = 0;
      m_lastStateIdentity = nullptr;
      Q_EMIT sessionOpened(path);
      poll();
    });
  });
}

std::shared_ptr<Experiment> RunController::experiment() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_experiment;
}

std::shared_ptr<const AnalysisState> RunController::latest() const {
  if (const auto e = experiment()) return e->latest();
  return m_session ? m_session->state : nullptr;
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
  m_session.reset();
  m_running = true;
  m_paused = false;
  m_lastVersion = 0;
  const int generation = ++m_generation;
  m_worker = std::thread([this, config, generation] {
    auto created = Experiment::create(config);
    if (!created) {
      const QString message = QString::fromStdString(created.message());
      postQueued(this, [this, message, generation] {
        if (generation != m_generation || !m_running) return;
        m_running = false;
        joinWorker();
        Q_EMIT startFailed(message);
      });
      return;
    }
    std::shared_ptr<Experiment> experiment(std::move(created).value().release());
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (m_abortRequested) return;
      m_experiment = experiment;
    }
    postQueued(this, [this, generation] {
      if (generation == m_generation) Q_EMIT started();
    });
    const TrainOutcome outcome = experiment->run();
    const QString message = QString::fromStdString(outcome.message);
    postQueued(this, [this, message, generation] {
      if (generation != m_generation || !m_running) return;  // aborted or superseded
      m_running = false;
      m_paused = false;
      joinWorker();
      poll();
      Q_EMIT finished(message);
    });
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
  abort();  // cancels queued exports/saves (they report "cancelled")
  ++m_generation;
  m_busy = false;
  m_session.reset();
  std::lock_guard<std::mutex> lock(m_mutex);
  m_experiment.reset();
}

void RunController::setLearningRate(double lr) {
  if (auto e = experiment()) e->setLearningRate(static_cast<float>(lr));
}

void RunController::requestReference(int snapshotIndex) {
  if (auto e = experiment()) e->requestReference(snapshotIndex);
}

void RunController::pinReference(int snapshotIndex) {
  if (auto e = experiment()) e->pinReference(snapshotIndex);
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
