// Experiment: one run of design.md's protocol, shared by the window and `driftscope run`.
// It loads and checks the data and the configuration, trains with the Trainer, decides
// when recording starts (after N burn-in epochs, or automatically when the test loss has
// stopped improving), hands every K-th step's weights to the AnalysisEngine, and replays
// a configuration's learning-rate history.
//
// Threads: run() blocks the calling thread (the trainer thread) until the run ends;
// pause/stop/setLearningRate/requestReference are safe from any other thread and
// answer within one SGD step. latest() is safe from any thread (a shared_ptr copy under a short
// lock).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/config/run_config.h"
#include "core/data/dataset.h"
#include "core/engine/analysis_engine.h"
#include "core/io/run_writer.h"
#include "core/train/trainer.h"

namespace driftscope {

class Experiment {
 public:
  // Loads the data set and validates `config` against it (layers must fit the data).
  static Result<std::unique_ptr<Experiment>> create(const RunConfig& config);
  // For tests and sessions: an already loaded split (must outlive the experiment).
  static Result<std::unique_ptr<Experiment>> create(const RunConfig& config,
                                                    std::shared_ptr<const DataSplit> data);
  ~Experiment();

  TrainOutcome run();

  void setPaused(bool paused);
  // Ends training at the next step; run() still runs the final analysis and returns.
  void stop();
  // Ends training AND abandons the analysis thread: run() returns within one SGD step
  // plus one snapshot's processing (closing the window, Reset).
  void abort();
  void setLearningRate(float lr);
  void requestReference(int snapshotIndex) { m_engine->requestReference(snapshotIndex); }
  void pinReference(int snapshotIndex) { m_engine->pinReference(snapshotIndex); }
  // See AnalysisEngine::runWithRing: fn gets the ring and a state consistent with it.
  void runWithRing(AnalysisEngine::RingTask fn) { m_engine->runWithRing(std::move(fn)); }
  // Facts of the run for summary.json (valid during and after run()).
  RunInfo runInfo() const;

  std::shared_ptr<const AnalysisState> latest() const { return m_engine->latest(); }
  // The configuration with the learning-rate history of this run (for config.json).
  RunConfig resolvedConfig() const;
  const RunConfig& config() const { return m_config; }
  const Mlp& mlp() const { return m_trainer->mlp(); }
  const DataSplit& data() const { return *m_data; }
  int stepsPerEpoch() const { return m_trainer->stepsPerEpoch(); }
  // Valid once run() has returned.
  const AnalysisEngine& engine() const { return *m_engine; }
  const Trainer& trainer() const { return *m_trainer; }
  const TrainOutcome& outcome() const { return m_outcome; }

 private:
  Experiment(const RunConfig& config, std::shared_ptr<const DataSplit> data);
  // outputsFollow: the trainer evaluates these weights next (or has just), so the engine
  // gets their logits (handOverOutputs) instead of running a forward pass of its own.
  void startRecording(std::int64_t step, int epoch, const Vector& params, bool outputsFollow);
  // After an evaluation at `step`: the logits of the evaluation subset go to the engine if
  // a snapshot of the same weights awaits them.
  void handOverOutputs(std::int64_t step);

  RunConfig m_config;
  std::shared_ptr<const DataSplit> m_data;
  RowMatrix m_evalInputs;
  std::vector<std::uint8_t> m_evalLabels;
  std::unique_ptr<Trainer> m_trainer;
  std::unique_ptr<AnalysisEngine> m_engine;
  TrainOutcome m_outcome;
  std::atomic<bool> m_recording{false};
  std::atomic<bool> m_trainingEnded{false};  // set before the terminal phase
  std::int64_t m_recordStart = 0;
  int m_snapshots = 0;
  std::int64_t m_outputsStep = -1;  // step of the snapshot awaiting its logits, or -1
  double m_bestTestLoss = 0.0;
  int m_epochsWithoutImprovement = 0;
  std::atomic<bool> m_paused{false};
  std::atomic<bool> m_runReturned{false};
};

}  // namespace driftscope
