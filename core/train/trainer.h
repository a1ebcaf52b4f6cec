// Trainer: plain SGD at a (changeable) fixed learning rate over a DataSplit.
//
// Mini-batch gradients are computed on the ParallelContext (TBB) in a fixed number of
// shards chosen from the work per batch (never from the thread count) and summed in
// shard order, so a seed gives bit-identical weights with 1 or N threads.
// Update (PyTorch's SGD convention, heavy-ball momentum mu, weight decay wd):
//   v <- mu v + (g + wd w);  w <- w - lr v          (mu = 0: w <- w - lr (g + wd w))
// New weights are checked for NaN/Inf; on divergence the last finite weights are kept.
// Plain SGD with one shard updates the weights in place (fused into the backward pass;
// writing a second buffer instead held batches 1-16 back by 1.2-2x, docs/benchmarks.md), so
// there a failed step restores the weights of the epoch's start (or of the train() call)
// and replays the steps since, bit for bit; the other paths write a second buffer. The
// epoch's first step writes into the checkpoint's buffer and swaps: no copy.
//
// Threads: train() runs on the calling thread (the "trainer thread"). setLearningRate,
// setPaused and requestStop are safe from any thread and take effect from the next
// step (stop and pause are also checked between evaluation chunks, so both answer well
// within 200 ms). params() and metrics may be read only by the trainer thread or while
// train() is not running; callbacks run on the trainer thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/model/mlp.h"
#include "core/parallel.h"
#include "core/random.h"

namespace driftscope {

struct SgdOptions {
  float learningRate = 0.1f;
  int batchSize = 64;
  float momentum = 0.0f;
  float weightDecay = 0.0f;
  bool withReplacement = false;  // false: reshuffle every epoch (default)
  std::uint64_t seed = 1;
  int threads = 1;
};

struct EpochMetrics {
  int epoch = 0;           // 1-based: metrics after this many epochs (0 = before training)
  std::int64_t step = 0;   // SGD steps done
  float lr = 0.0f;         // learning rate in force at the end of the epoch
  double trainLoss = 0.0;  // mean over the whole training set at the end of the epoch
  double trainAcc = 0.0;
  double testLoss = 0.0;
  double testAcc = 0.0;
  double weightNorm = 0.0;  // ||w||_2
  double seconds = 0.0;     // wall time since train() was first called
};

struct StepInfo {
  std::int64_t step = 0;       // steps done, including this one
  int epoch = 0;               // epoch in progress (0-based)
  double epochFraction = 0.0;  // within the epoch in progress, 0..1
  float lr = 0.0f;             // rate used for this step
  double batchLoss = 0.0;      // mean loss of this mini-batch (before the update)
};

struct TrainProgress {
  std::int64_t step = 0;
  int epoch = 0;
  double epochFraction = 0.0;
  double runningLoss = 0.0;  // exponential average of batch losses
  double stepsPerSecond = 0.0;
};

struct LrChange {
  std::int64_t step = 0;  // first step trained with this rate
  float lr = 0.0f;
};

enum class StopReason { kCompleted, kStopped, kDiverged };

struct TrainOutcome {
  StopReason reason = StopReason::kCompleted;
  std::int64_t step = 0;  // for kDiverged: the step at which NaN/Inf appeared
  int epoch = 0;
  std::string message;
};

class Trainer {
 public:
  struct Callbacks {
    std::function<void(const StepInfo&, const Vector& params)> onStep;  // after each step
    std::function<void(const EpochMetrics&)> onEpoch;
    std::function<void(const TrainProgress&)> onProgress;  // about every 100 ms
    std::function<void(const LrChange&)> onLearningRateChange;
  };

  // `data` must outlive the trainer.
  Trainer(Mlp mlp, const DataSplit& data, SgdOptions options);
  ~Trainer();

  const Mlp& mlp() const { return m_mlp; }
  const SgdOptions& options() const { return m_options; }
  const Vector& params() const { return m_params; }
  void setParams(const Vector& params);  // only while not training
  std::int64_t step() const { return m_step; }
  int epoch() const { return m_epoch; }  // epochs completed
  int stepsPerEpoch() const;
  int shardCount() const { return m_shardCount; }
  const std::vector<LrChange>& learningRateHistory() const { return m_lrHistory; }

  // Thread-safe controls.
  void setLearningRate(float lr) { m_requestedLr.store(lr, std::memory_order_relaxed); }
  float learningRate() const { return m_requestedLr.load(std::memory_order_relaxed); }
  void requestStop();
  void clearStop() { m_stop.store(false); }
  void setPaused(bool paused);
  bool paused() const { return m_paused.load(); }
  bool stopRequested() const { return m_stop.load(); }

  // Trains until `totalEpochs` epochs are complete (resuming where a previous call
  // stopped), a stop is requested, or divergence. Evaluates after every epoch. A stop
  // requested before the call is honoured (it returns at once); clearStop() first to
  // resume after a stop.
  TrainOutcome train(int totalEpochs, const Callbacks& callbacks);

  // Full-set loss/accuracy of the current weights (parallel, deterministic).
  EpochMetrics evaluateNow();
  // Mean loss and accuracy of arbitrary weights on a data set (parallel, deterministic),
  // in chunks of Mlp::kEvalChunkRows; the first `captureRows` rows are chunked on their
  // own (chunks never straddle that row) and, with `logits`, their logits are copied there
  // ([captureRows, outputs]; bit-identical to Mlp::logitsInChunks of those rows).
  LossStats evaluateParams(const float* params, const Dataset& data, int captureRows = 0,
                           RowMatrix* logits = nullptr);

  // From now on every evaluateNow() keeps the logits of the first min(rows, test size)
  // test inputs (0: none), for the function-space distance of a snapshot of the same
  // weights (Experiment hands them to the analysis engine). Only while not training.
  void captureTestLogits(int rows) { m_captureRows = std::max(0, rows); }
  // The logits kept by the last evaluateNow() (empty before, or without captureTestLogits);
  // on the trainer's thread (in onEpoch, or after evaluateNow()). Incomplete when a stop
  // was requested during that evaluation.
  const RowMatrix& testLogits() const { return m_testLogits; }

 private:
  // One step on the samples m_order[position, position + batch size); false on divergence,
  // with the weights before the step.
  bool sgdStep(int position, float lr, double& batchLoss);
  void checkpoint();
  void replayToLastStep();
  // Before writing the weights other than by the fused step: the workspaces' kept tiles
  // of the first layer and packed weights of the others (MlpWorkspace::keepTiles) no
  // longer match them.
  void forgetTiles();
  void waitWhilePaused();
  void fillEpochOrder();

  Mlp m_mlp;
  const DataSplit& m_data;
  SgdOptions m_options;
  ParallelContext m_parallel;
  Rng m_rng;

  Vector m_params;
  Vector m_next;  // the paths that do not update in place (allocated on first use)
  // In-place steps (momentum 0): the weights at m_checkpointPosition of the current epoch
  // and the learning rate of every step since. Pending: the next step takes it.
  Vector m_checkpoint;
  int m_checkpointPosition = 0;
  bool m_checkpointPending = false;
  std::vector<float> m_lrsSinceCheckpoint;
  bool m_replaying = false;
  std::vector<int> m_batch;
  Vector m_velocity;
  Vector m_grad;
  std::vector<Vector> m_shardGrads;
  std::vector<MlpWorkspace> m_workspaces;
  std::vector<RowMatrix> m_shardInputs;
  std::vector<std::vector<std::uint8_t>> m_shardLabels;
  int m_shardCount = 1;

  std::vector<int> m_order;
  std::int64_t m_step = 0;
  int m_epoch = 0;
  int m_positionInEpoch = 0;  // index into m_order of the next sample
  double m_secondsBefore = 0.0;
  float m_lastLr = -1.0f;
  std::vector<LrChange> m_lrHistory;
  int m_captureRows = 0;
  RowMatrix m_testLogits;

  std::atomic<float> m_requestedLr;
  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_paused{false};
  std::mutex m_pauseMutex;
  std::condition_variable m_pauseCv;
};

// Shards for a batch: enough work per shard to amortise a task (>= kMinShardFlops),
// at most kMaxShards. Depends only on the batch size and the model, so results do not
// depend on the thread count.
int chooseShardCount(int batchSize, std::size_t paramCount);

}  // namespace driftscope
