// recording_toggle: what recording costs training, measured within ONE run (issue 6:
// "recording a snapshot every epoch with all analyses live costs < 5% of training
// throughput for 784-256-256-10 with a ring of 500").
//
// bench/recording_overhead.sh compares two runs; on this kind of shared 2-core guest the
// speed of a whole run drifts between states ~30% apart that last tens of seconds, so a
// 5% effect needs dozens of pairs. Here one run (the same Trainer and AnalysisEngine as
// `driftscope run`, a snapshot at every epoch's end whose logits the engine gets from the
// evaluation, as Experiment hands them over) first fills the ring, then alternates blocks
// of epochs WITH snapshots and WITHOUT, in the order on-off-off-on (so a drift cancels),
// each block a second or so: both sides of a comparison see the same machine state.
// An epoch's work for the engine runs mostly during the next epochs, so the first
// `--skip` epochs of every block are left out (they carry the previous block's work).
// Reports the mean epoch time with and without, the overhead of all kept epochs, and the
// median of the per-quadruple overheads (on-off-off-on: mean(on) / mean(off) - 1).
//
// Usage: recording_toggle [--blocks N] [--block EPOCHS] [--skip EPOCHS] [--threads N]
//                         [--capacity C] [--live-share S] [--layers 784,256,256,10]
// Defaults: 48 blocks of 20 epochs (skip 4), 2 threads, ring 500, share from RunConfig.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "core/config/run_config.h"
#include "core/data/dataset.h"
#include "core/engine/analysis_engine.h"
#include "core/model/mlp.h"
#include "core/model/mlp_layout.h"
#include "core/train/trainer.h"

namespace {

using namespace driftscope;
using Clock = std::chrono::steady_clock;

struct Args {
  int blocks = 48;  // a multiple of 4
  int block = 20;
  int skip = 4;
  RunConfig config;
};

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "recording_toggle: %s\n", why.c_str());
  std::exit(2);
}

Args parseArgs(int argc, char** argv) {
  Args a;
  a.config.sgd.batchSize = 64;
  a.config.sgd.threads = 2;
  a.config.capacity = 500;
  std::string layers = "784,256,256,10";
  CLI::App app{"Recording overhead within one run: blocks of epochs with and without snapshots."};
  app.add_option("--blocks", a.blocks, "Blocks after the ring is full (a multiple of 4)")
      ->check(CLI::PositiveNumber);
  app.add_option("--block", a.block, "Epochs per block")->check(CLI::PositiveNumber);
  app.add_option("--skip", a.skip, "Epochs left out at the start of every block")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--threads", a.config.sgd.threads, "Training threads");
  app.add_option("--capacity", a.config.capacity, "Ring capacity");
  app.add_option("--live-share", a.config.liveAnalysisShare, "live_analysis_share");
  app.add_option("--layers", layers, "Layer sizes, input to output");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  auto sizes = parseLayerSizes(layers);
  if (!sizes) fail("--layers: " + sizes.message());
  a.config.layers = *sizes;
  if (a.blocks % 4 != 0) fail("--blocks must be a multiple of 4");
  if (a.block <= a.skip) fail("--block must be larger than --skip");
  return a;
}

double mean(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parseArgs(argc, argv);
  RunConfig& c = args.config;
  auto source = DataSource::parse(c.dataset);
  if (!source) fail(source.status().message());
  DataOptions dataOptions;
  dataOptions.standardize = c.standardize;
  auto split = loadDataSplit(*source, dataOptions);
  if (!split) fail(split.status().message());
  const DataSplit& data = *split;

  Mlp mlp(MlpLayout(c.layers), c.activation, c.loss);
  Trainer trainer(mlp, data, c.sgd);
  const int spe = trainer.stepsPerEpoch();
  c.recordEvery = spe;  // a snapshot every epoch
  if (Status s = validateConfig(c); !s) fail(s.message());
  const int n = std::min(c.evalSubset, data.test.size());
  const RowMatrix evalInputs = data.test.images.topRows(n);
  const std::vector<std::uint8_t> evalLabels(data.test.labels.begin(),
                                             data.test.labels.begin() + n);
  trainer.captureTestLogits(n);
  AnalysisEngine engine(mlp, AnalysisOptions::fromConfig(c), evalInputs, evalLabels);
  engine.start();
  engine.setRecordingStart(0);
  engine.setPhase(RunPhase::kRecording);

  // Epochs [0, fill): recording, until the ring is full and has wrapped a little; then
  // block b (0-based) records iff b % 4 is 0 or 3 (on-off-off-on).
  const int fill = c.capacity + 20;
  const int total = fill + args.blocks * args.block;
  auto recording = [&](int epoch) {
    if (epoch < fill) return true;
    const int b = (epoch - fill) / args.block;
    return b % 4 == 0 || b % 4 == 3;
  };
  std::vector<double> seconds(static_cast<std::size_t>(total), 0.0);
  int snapshots = 0;
  std::int64_t outputsStep = -1;
  auto last = Clock::now();
  Trainer::Callbacks cb;
  cb.onStep = [&](const StepInfo& info, const Vector& params) {
    if (info.epochFraction < 1.0 || !recording(info.epoch)) return;
    SnapshotMeta meta;
    meta.index = snapshots++;
    meta.step = info.step;
    meta.epoch = static_cast<double>(info.step) / spe;
    meta.lr = info.lr;
    engine.submitSnapshot(params.data(), meta, /*outputsFollow=*/true);
    outputsStep = info.step;
  };
  cb.onEpoch = [&](const EpochMetrics& m) {
    const auto now = Clock::now();
    if (m.epoch >= 1 && m.epoch <= total) {
      seconds[static_cast<std::size_t>(m.epoch - 1)] =
          std::chrono::duration<double>(now - last).count();
    }
    last = now;
    engine.submitEpoch(m);
    if (m.step == outputsStep) {
      engine.submitFunctionOutputs(m.step, trainer.testLogits());
      outputsStep = -1;
    }
  };
  std::fprintf(stderr, "recording_toggle: %d epochs (%d to fill the ring of %d, %d blocks of %d)\n",
               total, fill, c.capacity, args.blocks, args.block);
  const TrainOutcome outcome = trainer.train(total, cb);
  engine.setPhase(RunPhase::kFinished);
  engine.finish();
  if (outcome.reason != StopReason::kCompleted)
    fail("training did not complete: " + outcome.message);

  std::vector<double> on, off, quads;
  std::vector<double> quadOn, quadOff;
  for (int b = 0; b < args.blocks; ++b) {
    const bool with = recording(fill + b * args.block);
    std::vector<double>& side = with ? on : off;
    std::vector<double>& quadSide = with ? quadOn : quadOff;
    for (int e = fill + b * args.block + args.skip; e < fill + (b + 1) * args.block; ++e) {
      side.push_back(seconds[static_cast<std::size_t>(e)]);
      quadSide.push_back(seconds[static_cast<std::size_t>(e)]);
    }
    if (b % 4 == 3) {
      quads.push_back(mean(quadOn) / mean(quadOff) - 1.0);
      quadOn.clear();
      quadOff.clear();
    }
  }
  std::vector<double> sorted = quads;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.size() % 2 == 1
                            ? sorted[sorted.size() / 2]
                            : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
  std::printf("layers");
  for (int w : c.layers) std::printf(" %d", w);
  std::printf(", batch %d, %d threads, ring %d, live share %g, %d steps per epoch\n",
              c.sgd.batchSize, c.sgd.threads, c.capacity, c.liveAnalysisShare, spe);
  std::printf("quadruple overheads (%%):");
  for (double q : quads) std::printf(" %+.1f", 100.0 * q);
  std::printf("\nepoch with snapshots %.2f ms (%zu epochs), without %.2f ms (%zu epochs)\n",
              1e3 * mean(on), on.size(), 1e3 * mean(off), off.size());
  std::printf("overhead: all kept epochs %+.2f%%, median of quadruples %+.2f%%\n",
              100.0 * (mean(on) / mean(off) - 1.0), 100.0 * median);
  return 0;
}
