#include "app/run_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "core/engine/experiment.h"
#include "core/io/run_writer.h"
#include "core/model/mlp_layout.h"

#ifdef DRIFTSCOPE_WITH_GUI
#include "app/run_figures.h"
#endif

#ifndef DRIFTSCOPE_VERSION
#define DRIFTSCOPE_VERSION "unknown"
#endif

namespace driftscope::app {
namespace {

std::atomic<bool> g_interrupted{false};
void onSignal(int) { g_interrupted.store(true); }

struct Flags {
  std::string config;
  std::string out;
  std::optional<std::string> dataset, layers, activation, loss, burnIn, sampling, pins;
  std::optional<float> lr, momentum, weightDecay;
  std::optional<int> batch, threads, epochs, recordEvery, capacity, baselineSamples, alignEvery,
      evalSubset, pathPoints;
  std::optional<std::uint64_t> seed;
  std::optional<double> memoryLimitMb, liveShare;
  bool noStandardize = false;
  bool noFigures = false;
  bool quiet = false;
};

Status applyFlags(const Flags& f, RunConfig& c) {
  if (f.dataset) c.dataset = *f.dataset;
  if (f.layers) {
    auto sizes = parseLayerSizes(*f.layers);
    if (!sizes) return Status::error("--layers: " + sizes.message());
    c.layers = *sizes;
  }
  if (f.activation) {
    auto a = parseActivation(*f.activation);
    if (!a) return Status::error("--activation: " + a.message());
    c.activation = *a;
  }
  if (f.loss) {
    auto l = parseLoss(*f.loss);
    if (!l) return Status::error("--loss: " + l.message());
    c.loss = *l;
  }
  if (f.burnIn) {
    if (*f.burnIn == "auto") {
      c.burnInAuto = true;
    } else {
      try {
        std::size_t used = 0;
        const int n = std::stoi(*f.burnIn, &used);
        if (used != f.burnIn->size()) throw std::invalid_argument("trailing");
        c.burnInAuto = false;
        c.burnInEpochs = n;
      } catch (const std::exception&) {
        return Status::error("--burn-in: \"" + *f.burnIn + "\" is not a number of epochs or auto");
      }
    }
  }
  if (f.sampling) {
    if (*f.sampling == "shuffle") {
      c.sgd.withReplacement = false;
    } else if (*f.sampling == "replacement") {
      c.sgd.withReplacement = true;
    } else {
      return Status::error("--sampling: \"" + *f.sampling + "\" is not shuffle or replacement");
    }
  }
  if (f.lr) c.sgd.learningRate = *f.lr;
  if (f.momentum) c.sgd.momentum = *f.momentum;
  if (f.weightDecay) c.sgd.weightDecay = *f.weightDecay;
  if (f.batch) c.sgd.batchSize = *f.batch;
  if (f.threads) c.sgd.threads = *f.threads;
  if (f.seed) c.sgd.seed = *f.seed;
  if (f.epochs) c.epochs = *f.epochs;
  if (f.recordEvery) c.recordEvery = *f.recordEvery;
  if (f.capacity) c.capacity = *f.capacity;
  if (f.baselineSamples) c.baselineSamples = *f.baselineSamples;
  if (f.alignEvery) c.alignEvery = *f.alignEvery;
  if (f.evalSubset) c.evalSubset = *f.evalSubset;
  if (f.pathPoints) c.pathPoints = *f.pathPoints;
  if (f.liveShare) c.liveAnalysisShare = *f.liveShare;
  if (f.memoryLimitMb) {
    if (*f.memoryLimitMb < 0) return Status::error("--memory-limit-mb: must be >= 0");
    c.memoryLimitBytes = static_cast<std::uint64_t>(*f.memoryLimitMb * 1024 * 1024);
  }
  if (f.noStandardize) c.standardize = false;
  if (f.pins) {
    c.pinAfterSteps.clear();
    std::size_t start = 0;
    while (start <= f.pins->size()) {
      const std::size_t comma = f.pins->find(',', start);
      const std::string part =
          f.pins->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      try {
        std::size_t used = 0;
        const long long v = std::stoll(part, &used);
        if (used != part.size() || v < 0) throw std::invalid_argument("bad");
        c.pinAfterSteps.push_back(v);
      } catch (const std::exception&) {
        return Status::error("--pin-after-steps: \"" + part + "\" is not a step count");
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return Status::ok();
}

std::string defaultOutDir() {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "driftscope-run-%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

std::string formatShare(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

// Prints progress: in place on a terminal (about 5 times a second), one line per epoch
// otherwise. Runs on its own thread reading the published state.
class ProgressPrinter {
 public:
  ProgressPrinter(const Experiment& e, bool quiet)
      : m_experiment(e), m_quiet(quiet), m_tty(::isatty(STDOUT_FILENO) != 0) {}

  void loop(const std::atomic<bool>& done) {
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      print(false);
    }
    print(true);
  }

 private:
  void print(bool final) {
    if (m_quiet) return;
    const auto s = m_experiment.latest();
    if (s->metrics.empty()) return;
    if (m_tty) {
      printLine(*s, s->metrics.back(),
                std::min(m_experiment.config().epochs, s->progress.epoch + 1),
                s->progress.step > 0 ? s->progress.runningLoss : s->metrics.back().trainLoss);
      std::printf(final ? "\n" : "");
    } else {
      // One line per completed epoch, none skipped however fast epochs go by.
      for (const EpochMetrics& m : s->metrics) {
        if (m.epoch <= m_lastEpochPrinted) continue;
        printLine(*s, m, m.epoch, m.trainLoss);
        std::printf("\n");
        m_lastEpochPrinted = m.epoch;
      }
    }
    std::fflush(stdout);
  }

  void printLine(const AnalysisState& s, const EpochMetrics& m, int epochShown, double loss) {
    const RunConfig& c = m_experiment.config();
    const int done = s.metrics.back().epoch;
    const double seconds = s.metrics.back().seconds;
    const double eta = done > 0 ? seconds / done * (c.epochs - done) : NAN;
    std::printf(
        "%sepoch %d/%d  loss %.4f  acc %.2f%% / test %.2f%%  %.0f steps/s  "
        "snapshots %d  ETA %s  [%s]",
        m_tty ? "\r\033[K" : "", epochShown, c.epochs, loss, 100.0 * m.trainAcc, 100.0 * m.testAcc,
        s.progress.stepsPerSecond, s.snapshotsTaken, formatDuration(eta).c_str(),
        toString(s.phase).c_str());
  }

  const Experiment& m_experiment;
  bool m_quiet;
  bool m_tty;
  int m_lastEpochPrinted = -1;
};

}  // namespace

int runCommand(int argc, char** argv) {
  const RunConfig d;
  Flags f;
  CLI::App app{
      "Train an MLP with constant-learning-rate SGD, record its trajectory after the "
      "burn-in, and write every analysis of Driftscope into a folder.",
      "driftscope run"};
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.add_option("--config", f.config,
                 "JSON configuration (e.g. a run's config.json); flags override it");
  app.add_option("--out", f.out, "Output folder (default: ./driftscope-run-DATE-TIME)");
  app.add_option("--dataset", f.dataset,
                 "mnist-embedded | fashion-mnist | idx:TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,"
                 "TEST_LABELS (default: " +
                     d.dataset + ")");
  app.add_option("--layers", f.layers, "Layer sizes, input to output (default: 784,128,10)");
  app.add_option("--activation", f.activation, "relu | tanh (default: relu)");
  app.add_option("--loss", f.loss, "ce (softmax cross-entropy) | mse (default: ce)");
  app.add_option("--lr", f.lr,
                 "Learning rate (default: " + std::to_string(d.sgd.learningRate) + ")");
  app.add_option("--batch", f.batch,
                 "Mini-batch size (default: " + std::to_string(d.sgd.batchSize) + ")");
  app.add_option("--momentum", f.momentum, "Heavy-ball momentum in [0, 1) (default: 0)");
  app.add_option("--weight-decay", f.weightDecay, "L2 weight decay (default: 0)");
  app.add_option("--sampling", f.sampling,
                 "shuffle (every epoch) | replacement (default: shuffle)");
  app.add_option("--seed", f.seed,
                 "Seed for initialisation, shuffling and permutations (default: 1)");
  app.add_option("--threads", f.threads,
                 "Worker threads (default: " + std::to_string(d.sgd.threads) + ")");
  app.add_option("--burn-in", f.burnIn,
                 "Epochs before recording starts, or auto: once the test loss has not improved "
                 "by 0.5% for 3 epochs (default: " +
                     std::to_string(d.burnInEpochs) + ")");
  app.add_option("--epochs", f.epochs,
                 "Total epochs, burn-in included (default: " + std::to_string(d.epochs) + ")");
  app.add_option("--record-every", f.recordEvery,
                 "Steps between snapshots (default: " + std::to_string(d.recordEvery) + ")");
  app.add_option("--capacity", f.capacity,
                 "Snapshots kept in the ring (default: " + std::to_string(d.capacity) + ")");
  app.add_option("--baseline-samples", f.baselineSamples,
                 "Random permutations for the baseline band (default: " +
                     std::to_string(d.baselineSamples) + ")");
  app.add_option("--align-every", f.alignEvery,
                 "Aligned distance every k-th snapshot; 0: only the last (default: " +
                     std::to_string(d.alignEvery) + ")");
  app.add_option("--eval-subset", f.evalSubset,
                 "Test inputs for the path loss and the function-space distance (default: " +
                     std::to_string(d.evalSubset) + ")");
  app.add_option("--path-points", f.pathPoints,
                 "Points along the straight path (default: " + std::to_string(d.pathPoints) + ")");
  app.add_option("--live-share", f.liveShare,
                 "Share of the training threads' CPU time the live analyses may use while "
                 "training runs, 0..1, plus any idle core; 1: no limit (default: " +
                     formatShare(d.liveAnalysisShare) + ")");
  app.add_option("--pin-after-steps", f.pins,
                 "Aging: pin the snapshots taken this many steps after recording starts as extra "
                 "references, e.g. 1000,4000 (up to 4; written to aging.csv)");
  app.add_option("--memory-limit-mb", f.memoryLimitMb,
                 "Largest ring allowed (default: half of physical memory)");
  app.add_flag("--no-standardize", f.noStandardize,
               "Keep pixels in [0, 1] instead of standardising them");
  app.add_flag("--no-figures", f.noFigures, "Write the data files only, no PNG/SVG plots");
  app.add_flag("-q,--quiet", f.quiet, "No progress line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "driftscope run: " << e.what() << "\n";
    return 2;
  }

  RunConfig config;
  if (!f.config.empty()) {
    auto loaded = loadConfigFile(f.config);
    if (!loaded) {
      std::cerr << "driftscope run: " << loaded.message() << "\n";
      return 2;
    }
    for (const std::string& w : loaded->warnings) std::cerr << "warning: " << w << "\n";
    config = loaded->config;
  }
  if (Status s = applyFlags(f, config); !s) {
    std::cerr << "driftscope run: " << s.message() << "\n";
    return 2;
  }
  const std::string out = f.out.empty() ? defaultOutDir() : f.out;
  {
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && !std::filesystem::is_directory(out, ec)) {
      std::cerr << "driftscope run: --out " << out << ": exists and is not a folder\n";
      return 2;
    }
  }
  auto created = Experiment::create(config);
  if (!created) {
    std::cerr << "driftscope run: " << created.message() << "\n";
    return 2;
  }
  Experiment& e = **created;
  const MlpLayout layout(config.layers);
  if (!f.quiet) {
    std::printf(
        "driftscope %s: %s %s, %s loss, lr %g, batch %d, %d thread%s on %s "
        "(%d train / %d test)\n",
        DRIFTSCOPE_VERSION, layout.toString().c_str(), toString(config.activation).c_str(),
        toString(config.loss).c_str(), config.sgd.learningRate, config.sgd.batchSize,
        config.sgd.threads, config.sgd.threads == 1 ? "" : "s", config.dataset.c_str(),
        e.data().train.size(), e.data().test.size());
    std::printf("recording after %s, a snapshot every %d steps; ring of %d snapshots = %s\n",
                config.burnInAuto
                    ? "the test loss stops improving"
                    : (std::to_string(config.burnInEpochs) + " burn-in epochs").c_str(),
                config.recordEvery, config.capacity, formatBytes(ringBytes(config)).c_str());
    std::fflush(stdout);
  }

  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  std::atomic<bool> done{false};
  ProgressPrinter printer(e, f.quiet);
  std::thread progress([&] { printer.loop(done); });
  std::thread watcher([&] {
    while (!done.load()) {
      if (g_interrupted.load()) {
        e.stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const TrainOutcome outcome = e.run();
  done.store(true);
  watcher.join();
  progress.join();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  const auto state = e.latest();
  const RunInfo info = e.runInfo();
  if (Status s = writeRunOutputs(out, e.resolvedConfig(), layout, *state, e.engine().ring(), info);
      !s) {
    std::cerr << "driftscope run: could not write the outputs: " << s.message() << "\n";
    return 4;
  }
#ifdef DRIFTSCOPE_WITH_GUI
  if (!f.noFigures) {
    if (Status s = writeRunFigures(out, *state, e.stepsPerEpoch(), config.recordEvery); !s) {
      std::cerr << "driftscope run: could not write the figures: " << s.message() << "\n";
      return 4;
    }
  }
#endif
  if (!f.quiet && !state->verdict.text.empty()) std::printf("%s\n", state->verdict.text.c_str());
  if (outcome.reason == StopReason::kDiverged) {
    std::fprintf(stderr, "driftscope run: %s\n", outcome.message.c_str());
    std::printf("wrote %s (up to the last finite step)\n", out.c_str());
    return 3;
  }
  if (outcome.reason == StopReason::kStopped) {
    std::printf("interrupted at step %lld; wrote %s\n", static_cast<long long>(outcome.step),
                out.c_str());
    return 130;
  }
  if (!f.quiet) std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace driftscope::app
