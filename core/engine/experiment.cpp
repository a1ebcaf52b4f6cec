#include "core/engine/experiment.h"

#include <cmath>
#include <limits>

namespace driftscope {

Result<std::unique_ptr<Experiment>> Experiment::create(const RunConfig& config) {
  if (Status s = validateConfig(config); !s) return s;
  auto source = DataSource::parse(config.dataset);
  if (!source) return source.status();
  DataOptions dataOptions;
  dataOptions.standardize = config.standardize;
  auto split = loadDataSplit(*source, dataOptions);
  if (!split) return split.status();
  return create(config, std::make_shared<const DataSplit>(std::move(split).value()));
}

Result<std::unique_ptr<Experiment>> Experiment::create(const RunConfig& config,
                                                       std::shared_ptr<const DataSplit> data) {
  int classes = 0;
  for (auto y : data->train.labels) classes = std::max(classes, int{y} + 1);
  if (Status s = validateConfig(config, data->train.features(), std::max(classes, 10)); !s) {
    return s;
  }
  return std::unique_ptr<Experiment>(new Experiment(config, std::move(data)));
}

Experiment::Experiment(const RunConfig& config, std::shared_ptr<const DataSplit> data)
    : m_config(config), m_data(std::move(data)) {
  const int n = std::min(m_config.evalSubset, m_data->test.size());
  m_evalInputs = m_data->test.images.topRows(n);
  m_evalLabels.assign(m_data->test.labels.begin(), m_data->test.labels.begin() + n);
  Mlp mlp(MlpLayout(m_config.layers), m_config.activation, m_config.loss);
  SgdOptions sgd = m_config.sgd;
  for (const LrChange& c : m_config.lrHistory) {
    if (c.step == 0) sgd.learningRate = c.lr;
  }
  m_trainer = std::make_unique<Trainer>(mlp, *m_data, sgd);
  m_trainer->captureTestLogits(n);  // the evaluation subset: the first n test inputs
  m_engine = std::make_unique<AnalysisEngine>(mlp, AnalysisOptions::fromConfig(m_config),
                                              m_evalInputs, m_evalLabels);
}

Experiment::~Experiment() {
  m_trainer->requestStop();
  m_engine->stop();
}

void Experiment::setPaused(bool paused) {
  if (m_trainingEnded.load()) return;  // finished/stopped/diverged: the phase stays
  m_paused.store(paused);
  m_trainer->setPaused(paused);
  m_engine->setPhase(paused ? RunPhase::kPaused
                            : (m_recording.load() ? RunPhase::kRecording : RunPhase::kBurnIn));
}

void Experiment::stop() { m_trainer->requestStop(); }

void Experiment::abort() {
  m_trainer->requestStop();
  m_engine->stop();
}

void Experiment::setLearningRate(float lr) { m_trainer->setLearningRate(lr); }

RunConfig Experiment::resolvedConfig() const {
  // The published history (a copy made under the engine's lock), never the trainer's own
  // vector, which the trainer thread appends to.
  RunConfig c = m_config;
  const auto state = latest();
  if (!state->lrHistory.empty()) {
    c.sgd.learningRate = state->lrHistory.front().lr;
    c.lrHistory = state->lrHistory;
  } else if (m_runReturned.load()) {
    c.lrHistory = m_trainer->learningRateHistory();
  }
  return c;
}

RunInfo Experiment::runInfo() const {
  RunInfo info;
  info.version = DRIFTSCOPE_VERSION;
  info.threads = m_config.sgd.threads;
  info.stepsPerEpoch = m_trainer->stepsPerEpoch();
  const auto state = latest();
  info.seconds = state->metrics.empty() ? 0.0 : state->metrics.back().seconds;
  if (m_runReturned.load()) {  // the trainer is idle: its counters are safe to read
    info.steps = m_trainer->step();
    info.epochs = m_trainer->epoch();
  } else {
    info.steps = state->progress.step;
    info.epochs = state->metrics.empty() ? 0 : state->metrics.back().epoch;
  }
  if (m_runReturned.load()) info.outcome = m_outcome;  // written before m_runReturned
  if (state->phase != RunPhase::kFinished && state->phase != RunPhase::kDiverged &&
      state->phase != RunPhase::kStopped) {
    info.outcome.reason = StopReason::kStopped;
    info.outcome.message = "in progress (" + toString(state->phase) + ")";
    info.outcome.step = state->progress.step;
    info.outcome.epoch = state->progress.epoch;
  }
  return info;
}

void Experiment::startRecording(std::int64_t step, int epoch, const Vector& params,
                                bool outputsFollow) {
  m_recording.store(true);
  m_recordStart = step;
  m_engine->setRecordingStart(step);
  if (!m_paused.load()) m_engine->setPhase(RunPhase::kRecording);
  SnapshotMeta meta;
  meta.index = m_snapshots++;
  meta.step = step;
  meta.epoch = epoch;
  meta.lr = m_trainer->learningRate();
  m_engine->submitSnapshot(params.data(), meta, outputsFollow);
  if (outputsFollow) m_outputsStep = step;
}

void Experiment::handOverOutputs(std::int64_t step) {
  // A stop during the evaluation leaves the logits incomplete: the engine then runs the
  // forward pass itself (same bits).
  if (step != m_outputsStep || m_trainer->stopRequested()) return;
  m_engine->submitFunctionOutputs(step, m_trainer->testLogits());
  m_outputsStep = -1;
}

TrainOutcome Experiment::run() {
  m_engine->start();
  m_engine->setPhase(RunPhase::kBurnIn);
  m_bestTestLoss = std::numeric_limits<double>::infinity();
  const std::int64_t spe = m_trainer->stepsPerEpoch();

  // Learning-rate history replay: entry (s, lr) means steps from s on use lr.
  std::vector<LrChange> schedule;
  for (const LrChange& c : m_config.lrHistory) {
    if (c.step > 0) schedule.push_back(c);
  }
  std::size_t nextChange = 0;

  if (!m_config.burnInAuto && m_config.burnInEpochs == 0) {
    startRecording(0, 0, m_trainer->params(), /*outputsFollow=*/true);  // evaluated below
  }
  // Raw training loss: the mean batch loss of blocks of ~1/25 epoch.
  const std::int64_t lossBlock = std::max<std::int64_t>(1, spe / 25);
  double blockLoss = 0.0;
  std::int64_t blockSteps = 0;
  Trainer::Callbacks cb;
  cb.onStep = [&](const StepInfo& info, const Vector& params) {
    blockLoss += info.batchLoss;
    if (++blockSteps == lossBlock) {
      m_engine->submitBatchLoss({info.step, blockLoss / static_cast<double>(blockSteps)});
      blockLoss = 0.0;
      blockSteps = 0;
    }
    while (nextChange < schedule.size() && schedule[nextChange].step <= info.step) {
      m_trainer->setLearningRate(schedule[nextChange].lr);
      ++nextChange;
    }
    if (m_recording.load() && (info.step - m_recordStart) % m_config.recordEvery == 0) {
      SnapshotMeta meta;
      meta.index = m_snapshots++;
      meta.step = info.step;
      meta.epoch = static_cast<double>(info.step) / static_cast<double>(spe);
      meta.lr = info.lr;
      // At the end of an epoch the trainer evaluates these weights next (onEpoch).
      const bool epochEnd = info.epochFraction >= 1.0;
      m_engine->submitSnapshot(params.data(), meta, epochEnd);
      if (epochEnd) m_outputsStep = info.step;
    }
  };
  cb.onEpoch = [&](const EpochMetrics& m) {
    m_engine->submitEpoch(m);
    handOverOutputs(m.step);
    if (m_recording.load()) return;
    bool start = false;
    if (m_config.burnInAuto) {
      if (m.testLoss < m_bestTestLoss * (1.0 - m_config.burnInImprovement)) {
        m_bestTestLoss = m.testLoss;
        m_epochsWithoutImprovement = 0;
      } else {
        ++m_epochsWithoutImprovement;
      }
      start = m_epochsWithoutImprovement >= m_config.burnInPatience;
    } else {
      start = m.epoch >= m_config.burnInEpochs;
    }
    if (start) {
      startRecording(m.step, m.epoch, m_trainer->params(), /*outputsFollow=*/true);
      handOverOutputs(m.step);  // evaluated just now
    }
  };
  cb.onProgress = [&](const TrainProgress& p) { m_engine->submitProgress(p); };
  cb.onLearningRateChange = [&](const LrChange& c) { m_engine->submitLearningRateChange(c); };

  // Epoch 0 metrics: where training starts (and the first best test loss for auto).
  const EpochMetrics initial = m_trainer->evaluateNow();
  m_engine->submitEpoch(initial);
  handOverOutputs(initial.step);
  m_bestTestLoss = initial.testLoss;
  if (!m_trainer->stopRequested()) {
    m_outcome = m_trainer->train(m_config.epochs, cb);
  } else {  // stopped (Reset, closing the window) before the first step
    m_outcome = {StopReason::kStopped, 0, 0, "stopped before training started"};
  }
  m_trainingEnded.store(true);
  switch (m_outcome.reason) {
    case StopReason::kCompleted:
      m_engine->setPhase(RunPhase::kFinished, "completed " + std::to_string(m_outcome.epoch) +
                                                  " epochs, " + std::to_string(m_outcome.step) +
                                                  " steps");
      break;
    case StopReason::kStopped:
      m_engine->setPhase(RunPhase::kStopped, "stopped at step " + std::to_string(m_outcome.step));
      break;
    case StopReason::kDiverged:
      m_engine->setPhase(RunPhase::kDiverged, m_outcome.message);
      break;
  }
  m_engine->finish();
  m_runReturned.store(true);
  return m_outcome;
}

}  // namespace driftscope
