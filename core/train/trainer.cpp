#include "core/train/trainer.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <numeric>

namespace driftscope {
namespace {

constexpr double kMinShardFlops = 4.0e6;  // below this a TBB task costs more than it saves
// Every shard also zeroes, fills and sums a full-size gradient and runs its GEMMs on fewer
// rows, while one shard already spreads its matrix products over the threads (Mlp splits
// each product into blocks of output rows/columns): measured (docs/benchmarks.md) one
// shard with split products beats 4 shards of 64 rows at batch 256 on 1 and 2 threads.
// Shards remain only for very large batches, to bound the products' row count.
constexpr int kMinRowsPerShard = 1024;
constexpr int kMaxShards = 4;
// The weight update runs in fixed blocks (elementwise: bit-identical for any thread
// count) that also carry the NaN/Inf check while the block is in cache.
constexpr Eigen::Index kUpdateBlock = 1 << 16;
// A single shard of at least this many rows gathers its batch rows (random rows of the
// data set, mostly from L3) on all threads: on 784-128-10 at batch 256 the serial copy
// was ~17% of a step and kept a second thread from paying off.
constexpr int kParallelGatherMinRows = 64;
constexpr int kEvalChunk = Mlp::kEvalChunkRows;  // fixed: deterministic sums, same logits
constexpr int kEvalGroups = 8;                   // chunk groups, one workspace each

using Clock = std::chrono::steady_clock;

}  // namespace

int chooseShardCount(int batchSize, std::size_t paramCount) {
  const double flops = 6.0 * static_cast<double>(paramCount) * batchSize;
  const int byWork = static_cast<int>(flops / kMinShardFlops);
  return std::clamp(std::min(byWork, batchSize / kMinRowsPerShard), 1, kMaxShards);
}

Trainer::Trainer(Mlp mlp, const DataSplit& data, SgdOptions options)
    : m_mlp(std::move(mlp)),
      m_data(data),
      m_options(options),
      m_parallel(options.threads),
      m_rng(deriveSeed(options.seed, /*stream=*/1)),
      m_requestedLr(options.learningRate) {
  assert(m_data.train.features() == m_mlp.layout().inputSize());
  const auto P = static_cast<Eigen::Index>(m_mlp.layout().paramCount());
  m_params = m_mlp.initialParams(options.seed);
  if (options.momentum != 0.0f) m_velocity = Vector::Zero(P);
  m_shardCount = chooseShardCount(options.batchSize, m_mlp.layout().paramCount());
  m_shardGrads.resize(static_cast<std::size_t>(m_shardCount));
  if (m_shardCount > 1) {
    for (Vector& g : m_shardGrads) g.resize(P);
  }
  const std::size_t workers = static_cast<std::size_t>(std::max(m_shardCount, 1));
  m_workspaces.resize(std::max<std::size_t>(workers, kEvalGroups));
  // The weights are written only by the fused step, setParams, replayToLastStep and the
  // unfused step, and the last three forget the first layer's tiles and the packed
  // weights the fused step keeps (MlpWorkspace::keepTiles).
  for (MlpWorkspace& ws : m_workspaces) ws.keepTiles = true;
  m_shardInputs.resize(workers);
  m_shardLabels.resize(workers);
  m_order.resize(static_cast<std::size_t>(m_data.train.size()));
  std::iota(m_order.begin(), m_order.end(), 0);
}

Trainer::~Trainer() = default;

void Trainer::setParams(const Vector& params) {
  assert(params.size() == m_params.size());
  forgetTiles();
  m_params = params;
}

void Trainer::forgetTiles() {
  for (MlpWorkspace& ws : m_workspaces) ws.forgetTiles();
}

int Trainer::stepsPerEpoch() const {
  const int n = m_data.train.size();
  return (n + m_options.batchSize - 1) / m_options.batchSize;
}

void Trainer::requestStop() {
  m_stop.store(true);
  std::lock_guard<std::mutex> lock(m_pauseMutex);
  m_pauseCv.notify_all();
}

void Trainer::setPaused(bool paused) {
  m_paused.store(paused);
  std::lock_guard<std::mutex> lock(m_pauseMutex);
  m_pauseCv.notify_all();
}

void Trainer::waitWhilePaused() {
  if (!m_paused.load()) return;
  std::unique_lock<std::mutex> lock(m_pauseMutex);
  m_pauseCv.wait(lock, [&] { return !m_paused.load() || m_stop.load(); });
}

void Trainer::fillEpochOrder() {
  if (m_options.withReplacement) {
    const auto n = static_cast<std::uint64_t>(m_data.train.size());
    for (int& i : m_order) i = static_cast<int>(uniformIndex(m_rng, n));
  } else {
    std::iota(m_order.begin(), m_order.end(), 0);
    shuffleRange(m_order.begin(), m_order.end(), m_rng);
  }
}

void Trainer::checkpoint() {
  m_lrsSinceCheckpoint.clear();
  m_checkpointPosition = m_positionInEpoch;
  // Taken by the next step (sgdStep): with momentum no step updates in place.
  m_checkpointPending = m_options.momentum == 0.0f;
}

void Trainer::replayToLastStep() {
  forgetTiles();
  m_params = m_checkpoint;
  int position = m_checkpointPosition;
  double loss = 0.0;
  m_replaying = true;
  for (const float lr : m_lrsSinceCheckpoint) {
    // Training is deterministic: each replayed step succeeded the first time.
    const bool ok = sgdStep(position, lr, loss);
    assert(ok && "a replayed step gives the same finite weights as the first time");
    if (!ok) break;
    position = std::min(m_data.train.size(), position + m_options.batchSize);
  }
  m_replaying = false;
}

bool Trainer::sgdStep(int position, float lr, double& batchLoss) {
  const int stop = std::min(m_data.train.size(), position + m_options.batchSize);
  m_batch.assign(m_order.begin() + position, m_order.begin() + stop);
  const std::vector<int>& batch = m_batch;
  const int B = static_cast<int>(batch.size());
  const int shards = std::min(m_shardCount, B);
  const float scale = 1.0f / static_cast<float>(B);
  const Dataset& train = m_data.train;
  std::vector<double> shardLoss(static_cast<std::size_t>(shards), 0.0);
  // Plain SGD (no momentum) with one shard: the update is fused into the backward pass,
  // no gradient buffer is written and re-read (batch 1 is memory-bound: docs/benchmarks.md),
  // and writes the weights in place.
  const bool fused = shards == 1 && m_options.momentum == 0.0f;
  std::atomic<bool> finiteNext{true};
  FusedSgd fusedSgd;
  fusedSgd.lr = lr;
  fusedSgd.decay = 1.0f - lr * m_options.weightDecay;
  fusedSgd.next = m_params.data();
  fusedSgd.finite = &finiteNext;
  if (!fused) forgetTiles();  // writes m_next and swaps it with m_params
  // The checkpoint costs no copy on the fused path: its first step after the checkpoint
  // writes the new weights into the checkpoint's buffer and swaps, so the buffer is left
  // holding the weights before the step.
  const bool intoCheckpoint = fused && m_checkpointPending;
  if (intoCheckpoint) {
    m_checkpoint.resize(m_params.size());
    fusedSgd.next = m_checkpoint.data();
  } else if (m_checkpointPending) {
    m_checkpoint = m_params;
    m_checkpointPending = false;
  }
  if (!fused) {  // allocated on first use: the fused path needs neither
    m_grad.resize(m_params.size());
    m_next.resize(m_params.size());
  }

  auto runShard = [&](int s) {
    const int begin = static_cast<int>(static_cast<std::int64_t>(B) * s / shards);
    const int end = static_cast<int>(static_cast<std::int64_t>(B) * (s + 1) / shards);
    RowMatrix& x = m_shardInputs[static_cast<std::size_t>(s)];
    std::vector<std::uint8_t>& y = m_shardLabels[static_cast<std::size_t>(s)];
    x.resize(end - begin, train.features());
    y.resize(static_cast<std::size_t>(end - begin));
    auto gather = [&](int from, int to) {
      for (int i = from; i < to; ++i) {
        const int idx = batch[static_cast<std::size_t>(i)];
        x.row(i - begin) = train.images.row(idx);
        y[static_cast<std::size_t>(i - begin)] = train.labels[static_cast<std::size_t>(idx)];
      }
    };
    const int parts = m_parallel.threads();
    if (shards == 1 && parts > 1 && end - begin >= kParallelGatherMinRows) {
      // One shard runs inline (forEach of 1), so its rows may be split on the threads.
      m_parallel.forEach(parts, [&](int p) {
        gather(begin + (end - begin) * p / parts, begin + (end - begin) * (p + 1) / parts);
      });
    } else {
      gather(begin, end);
    }
    MlpWorkspace& ws = m_workspaces[static_cast<std::size_t>(s)];
    if (fused) {
      shardLoss[0] =
          m_mlp.lossAndSgdUpdate(m_params.data(), x, y, scale, fusedSgd, ws, &m_parallel).lossSum;
      return;
    }
    Vector& g = shards == 1 ? m_grad : m_shardGrads[static_cast<std::size_t>(s)];
    // One shard: its products run in parallel on the context (not nested in a shard task).
    const LossStats st =
        m_mlp.lossAndGradient(m_params.data(), x, y, g.data(), scale, ws,
                              shards == 1 ? &m_parallel : nullptr, GradientMode::kOverwrite);
    shardLoss[static_cast<std::size_t>(s)] = st.lossSum;
  };
  m_parallel.forEach(shards, runShard);

  if (fused) {
    double lossSum = shardLoss[0];
    batchLoss = lossSum / B;
    const bool ok = std::isfinite(batchLoss) && finiteNext.load();
    if (intoCheckpoint) {  // out of place: on failure the weights are untouched
      if (!ok) return false;
      std::swap(m_params, m_checkpoint);
      m_checkpointPending = false;
      return true;
    }
    if (!ok && !m_replaying) replayToLastStep();
    return ok;
  }

  if (shards > 1) {  // fixed reduction order: shard 0, 1, 2, ...
    m_grad = m_shardGrads[0];
    for (int s = 1; s < shards; ++s) m_grad += m_shardGrads[static_cast<std::size_t>(s)];
  }
  double lossSum = 0.0;
  for (double l : shardLoss) lossSum += l;
  batchLoss = lossSum / B;
  if (!std::isfinite(batchLoss)) return false;

  const float wd = m_options.weightDecay;
  const float mu = m_options.momentum;
  const Eigen::Index P = m_params.size();
  const int blocks = static_cast<int>((P + kUpdateBlock - 1) / kUpdateBlock);
  std::vector<char> finite(static_cast<std::size_t>(blocks), 1);
  m_parallel.forEach(blocks, [&](int k) {
    const Eigen::Index begin = k * kUpdateBlock;
    const Eigen::Index len = std::min(kUpdateBlock, P - begin);
    auto w = m_params.segment(begin, len);
    auto g = m_grad.segment(begin, len);
    auto next = m_next.segment(begin, len);
    if (mu != 0.0f) {
      auto v = m_velocity.segment(begin, len);
      if (wd != 0.0f) {
        v = mu * v + g + wd * w;
      } else {
        v = mu * v + g;
      }
      next = w - lr * v;
    } else if (wd != 0.0f) {
      next = (1.0f - lr * wd) * w - lr * g;
    } else {
      next = w - lr * g;
    }
    // x - x is 0 for finite x and NaN for Inf/NaN: vectorised, on the block still in cache.
    finite[static_cast<std::size_t>(k)] = std::isfinite((next - next).sum()) ? 1 : 0;
  });
  for (char ok : finite) {
    if (!ok) return false;
  }
  std::swap(m_params, m_next);
  return true;
}

TrainOutcome Trainer::train(int totalEpochs, const Callbacks& callbacks) {
  const auto start = Clock::now();
  auto elapsed = [&] {
    return m_secondsBefore + std::chrono::duration<double>(Clock::now() - start).count();
  };
  TrainOutcome outcome;
  const int n = m_data.train.size();
  const int B = m_options.batchSize;

  auto lastProgress = Clock::now();
  std::int64_t stepsAtLastProgress = m_step;
  double runningLoss = std::nan("");

  // Mid-epoch (a resumed call): setParams may have changed the weights since the last
  // call. At an epoch start the loop takes the checkpoint.
  if (m_positionInEpoch != 0) checkpoint();
  while (m_epoch < totalEpochs) {
    if (m_positionInEpoch == 0) {
      fillEpochOrder();
      checkpoint();
    }
    while (m_positionInEpoch < n) {
      waitWhilePaused();
      if (m_stop.load()) {
        m_secondsBefore = elapsed();
        return {StopReason::kStopped, m_step, m_epoch, "stopped"};
      }
      const float lr = m_requestedLr.load(std::memory_order_relaxed);
      if (lr != m_lastLr) {
        m_lastLr = lr;
        const LrChange change{m_step, lr};
        m_lrHistory.push_back(change);
        if (callbacks.onLearningRateChange) callbacks.onLearningRateChange(change);
      }
      double batchLoss = 0.0;
      if (!sgdStep(m_positionInEpoch, lr, batchLoss)) {
        m_secondsBefore = elapsed();
        outcome.reason = StopReason::kDiverged;
        outcome.step = m_step + 1;
        outcome.epoch = m_epoch + 1;
        outcome.message =
            "diverged at step " + std::to_string(outcome.step) + " (epoch " +
            std::to_string(outcome.epoch) +
            "): " + (std::isfinite(batchLoss) ? "weights became NaN/Inf" : "loss became NaN/Inf") +
            " at learning rate " + std::to_string(lr) + "; the last finite weights are kept";
        return outcome;
      }
      m_positionInEpoch = std::min(n, m_positionInEpoch + B);
      m_lrsSinceCheckpoint.push_back(lr);
      ++m_step;
      runningLoss = std::isnan(runningLoss) ? batchLoss : 0.98 * runningLoss + 0.02 * batchLoss;
      if (callbacks.onStep) {
        StepInfo info;
        info.step = m_step;
        info.epoch = m_epoch;
        info.epochFraction = static_cast<double>(m_positionInEpoch) / n;
        info.lr = lr;
        info.batchLoss = batchLoss;
        callbacks.onStep(info, m_params);
      }
      const auto now = Clock::now();
      const double sinceProgress = std::chrono::duration<double>(now - lastProgress).count();
      if (callbacks.onProgress && sinceProgress >= 0.1) {
        TrainProgress p;
        p.step = m_step;
        p.epoch = m_epoch;
        p.epochFraction = static_cast<double>(m_positionInEpoch) / n;
        p.runningLoss = runningLoss;
        p.stepsPerSecond = static_cast<double>(m_step - stepsAtLastProgress) / sinceProgress;
        callbacks.onProgress(p);
        lastProgress = now;
        stepsAtLastProgress = m_step;
      }
    }
    m_positionInEpoch = 0;
    ++m_epoch;
    EpochMetrics metrics = evaluateNow();
    metrics.seconds = elapsed();
    if (m_stop.load()) {
      // Evaluation was cut short: the epoch counts, its metrics are not reported.
      m_secondsBefore = elapsed();
      return {StopReason::kStopped, m_step, m_epoch, "stopped"};
    }
    if (callbacks.onEpoch) callbacks.onEpoch(metrics);
  }
  m_secondsBefore = elapsed();
  outcome.reason = StopReason::kCompleted;
  outcome.step = m_step;
  outcome.epoch = m_epoch;
  outcome.message = "completed";
  return outcome;
}

LossStats Trainer::evaluateParams(const float* params, const Dataset& data, int captureRows,
                                  RowMatrix* logits) {
  const int n = data.size();
  const int split = std::clamp(captureRows, 0, n);
  // Chunks of kEvalChunk rows over [0, split), then over [split, n).
  const int head = (split + kEvalChunk - 1) / kEvalChunk;
  const int chunks = head + (n - split + kEvalChunk - 1) / kEvalChunk;
  const int groups = std::min(chunks, kEvalGroups);
  if (logits != nullptr) logits->resize(split, m_mlp.layout().outputSize());
  // Group g evaluates chunks g, g + groups, ... with its own workspace; the group sums
  // are added in group order: deterministic for any thread count.
  std::vector<LossStats> parts(static_cast<std::size_t>(groups));
  m_parallel.forEach(groups, [&](int g) {
    LossStats& acc = parts[static_cast<std::size_t>(g)];
    MlpWorkspace& ws = m_workspaces[static_cast<std::size_t>(g)];
    for (int c = g; c < chunks; c += groups) {
      if (m_stop.load()) return;
      const int begin = c < head ? c * kEvalChunk : split + (c - head) * kEvalChunk;
      const int rows = std::min(kEvalChunk, (c < head ? split : n) - begin);
      const RowMatrix z = m_mlp.forward(params, data.images.middleRows(begin, rows), ws);
      const LossStats st = m_mlp.lossOfLogits(
          z, std::span<const std::uint8_t>(data.labels)
                 .subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(rows)));
      if (logits != nullptr && c < head) logits->middleRows(begin, rows) = z;
      acc.lossSum += st.lossSum;
      acc.correct += st.correct;
      acc.count += st.count;
    }
  });
  LossStats total;
  for (const LossStats& p : parts) {
    total.lossSum += p.lossSum;
    total.correct += p.correct;
    total.count += p.count;
  }
  return total;
}

EpochMetrics Trainer::evaluateNow() {
  EpochMetrics m;
  m.epoch = m_epoch;
  m.step = m_step;
  m.lr = m_lastLr >= 0.0f ? m_lastLr : m_requestedLr.load();
  const LossStats tr = evaluateParams(m_params.data(), m_data.train);
  const LossStats te = m_captureRows > 0
                           ? evaluateParams(m_params.data(), m_data.test, m_captureRows,
                                            &m_testLogits)
                           : evaluateParams(m_params.data(), m_data.test);
  m.trainLoss = tr.count ? tr.lossSum / tr.count : 0.0;
  m.trainAcc = tr.count ? static_cast<double>(tr.correct) / tr.count : 0.0;
  m.testLoss = te.count ? te.lossSum / te.count : 0.0;
  m.testAcc = te.count ? static_cast<double>(te.correct) / te.count : 0.0;
  m.weightNorm = m_params.cast<double>().norm();
  m.seconds = m_secondsBefore;
  return m;
}

}  // namespace driftscope
