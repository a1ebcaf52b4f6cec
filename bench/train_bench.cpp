// Training throughput of the real Trainer (sharded SGD on the ParallelContext) in
// samples/s and GFLOP/s, for MLP shapes x batch sizes x thread counts.
//
// One benchmark iteration = k epochs of plain SGD (lr 0.01, no momentum) over a subset of
// the embedded MNIST training set (8,000 samples); subset size and k are chosen from the
// model size so that an iteration does a fixed amount of work (~0.1-0.5 s here). k > 1
// only where the whole set is too small (784-128-10, batch >= 16).
// Trainer::train() evaluates the whole data set after every epoch; that is not an SGD
// step, so the onStep callback requests a stop on the last step of the epoch, which the
// trainer honours by skipping that evaluation (documented in trainer.h: stop is checked
// between evaluation chunks). The trainer is built and warmed up (one epoch) outside the
// timed loop; train(epoch + 1) resumes from where the previous iteration stopped.
//
// FLOPs: 6 * P per sample (2P forward, 4P backward; P = MlpLayout::paramCount()), the
// usual estimate for dense layers; it ignores activations, loss and the update (O(P) per
// step, not per sample).
//
// Names: BM_TrainEpoch/<shape>/batch:<B>/threads:<T>/real_time. "threads" is the
// SgdOptions::threads of the trainer (its TBB arena), not Google Benchmark's Threads().
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "core/data/dataset.h"
#include "core/model/mlp.h"
#include "core/model/mlp_layout.h"
#include "core/train/trainer.h"

namespace driftscope {
namespace {

struct ShapeSpec {
  std::vector<int> sizes;
  int iterations = 0;  // 0: let Google Benchmark choose (min time); else fixed
};

// FLOPs one iteration should do, by batch size. Measured on one AVX-512 core: ~5-18
// GFLOP/s at batch 1, 16-55 at batch 16, 50-130 at batch >= 64.
constexpr double kTargetFlopsBatch1 = 2.0e9;
constexpr double kTargetFlopsBatch16 = 5.0e9;
constexpr double kTargetFlopsLarger = 20.0e9;
constexpr int kSubsetGranule = 256;  // subset sizes are multiples of 256: no partial batch

const DataSplit& embeddedMnist() {
  static const DataSplit split = [] {
    Result<DataSplit> r = loadDataSplit(DataSource{});
    if (!r) {
      std::fprintf(stderr, "driftscope_bench: cannot load embedded MNIST: %s\n",
                   r.status().message().c_str());
      std::exit(1);
    }
    return std::move(r).value();
  }();
  return split;
}

// The first `n` training samples of the embedded set; empty test set (never evaluated).
DataSplit trainSubset(int n) {
  const DataSplit& full = embeddedMnist();
  n = std::min(n, full.train.size());
  DataSplit sub;
  sub.name = full.name + "-first" + std::to_string(n);
  sub.train.images = full.train.images.topRows(n);
  sub.train.labels.assign(full.train.labels.begin(), full.train.labels.begin() + n);
  sub.train.rows = full.train.rows;
  sub.train.cols = full.train.cols;
  sub.test.rows = full.test.rows;
  sub.test.cols = full.test.cols;
  return sub;
}

struct IterationPlan {
  int subset = 0;  // training samples (a multiple of kSubsetGranule)
  int epochs = 1;  // epochs per benchmark iteration
};

IterationPlan planIteration(std::size_t paramCount, int batch) {
  const double target = batch == 1    ? kTargetFlopsBatch1
                        : batch <= 16 ? kTargetFlopsBatch16
                                      : kTargetFlopsLarger;
  const int wanted = static_cast<int>(target / (6.0 * static_cast<double>(paramCount)));
  int n = (wanted + kSubsetGranule - 1) / kSubsetGranule * kSubsetGranule;
  n = std::max({n, kSubsetGranule, 2 * batch});
  const int available = embeddedMnist().train.size() / kSubsetGranule * kSubsetGranule;
  IterationPlan plan;
  plan.subset = std::min(n, available);
  plan.epochs = std::max(1, (wanted + plan.subset / 2) / plan.subset);
  return plan;
}

void trainEpoch(benchmark::State& state, const MlpLayout& layout) {
  const int batch = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const std::size_t P = layout.paramCount();
  const IterationPlan plan = planIteration(P, batch);
  const DataSplit data = trainSubset(plan.subset);

  SgdOptions options;
  options.learningRate = 0.01f;
  options.batchSize = batch;
  options.threads = threads;
  options.seed = 1;
  Trainer trainer(Mlp(layout, Activation::kRelu, LossKind::kCrossEntropy), data, options);

  Trainer::Callbacks callbacks;
  callbacks.onStep = [&trainer](const StepInfo& info, const Vector&) {
    if (info.epochFraction >= 1.0) trainer.requestStop();  // skip the epoch's evaluation
  };
  auto runEpoch = [&] {
    trainer.clearStop();  // the previous epoch ended with a stop request
    const TrainOutcome out = trainer.train(trainer.epoch() + 1, callbacks);
    if (out.reason == StopReason::kDiverged) state.SkipWithError(out.message.c_str());
    return out.reason != StopReason::kDiverged;
  };

  if (!runEpoch()) return;  // warm-up: page in buffers, start the TBB arena's workers
  for (auto _ : state) {
    for (int e = 0; e < plan.epochs; ++e) {
      if (!runEpoch()) return;
    }
  }

  // Self-check: every timed epoch ran all its steps (the stop landed on the last step).
  const std::int64_t epochsRun = 1 + static_cast<std::int64_t>(state.iterations()) * plan.epochs;
  if (trainer.step() != epochsRun * trainer.stepsPerEpoch() || trainer.epoch() != epochsRun) {
    state.SkipWithError("trainer did not run whole epochs: samples/s would be wrong");
    return;
  }
  const double samples = static_cast<double>(state.iterations()) * plan.epochs * data.train.size();
  state.SetItemsProcessed(static_cast<std::int64_t>(samples));
  state.counters["samples/s"] = benchmark::Counter(samples, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(6.0 * static_cast<double>(P) * samples * 1e-9,
                                                 benchmark::Counter::kIsRate);
  state.counters["shards"] = trainer.shardCount();
  state.counters["subset"] = data.train.size();
  state.counters["epochs/iter"] = plan.epochs;
}

void registerAll() {
  const std::vector<ShapeSpec> shapes = {
      {{784, 128, 10}, 0},
      {{784, 256, 256, 10}, 0},
      {{784, 1024, 1024, 10}, 2},  // 0.2-0.5 s per epoch: keep iterations low
  };
  for (const ShapeSpec& shape : shapes) {
    const MlpLayout layout(shape.sizes);
    const std::string name = "BM_TrainEpoch/" + layout.toString();
    auto* b = benchmark::RegisterBenchmark(
        name.c_str(), [layout](benchmark::State& st) { trainEpoch(st, layout); });
    b->ArgNames({"batch", "threads"})
        ->ArgsProduct({{1, 16, 64, 256}, {1, 2}})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    if (shape.iterations > 0) b->Iterations(shape.iterations);
  }
}

}  // namespace

void registerAnalysisBenchmarks();  // bench/analysis_bench.cpp
void registerGemmBenchmarks();      // bench/gemm_bench.cpp
void registerFirstLayerBenchmarks();  // bench/first_layer_bench.cpp

}  // namespace driftscope

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  driftscope::registerAll();
  driftscope::registerGemmBenchmarks();
  driftscope::registerFirstLayerBenchmarks();
  driftscope::registerAnalysisBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
