// RunConfig: everything that defines a Driftscope experiment, shared by the window and
// `driftscope run`. Read from and written to JSON (config.json is the resolved config of a
// run and reloads with --config). Parsing names the field and the value of every error;
// unknown keys are returned as warnings. Plain value type; not synchronised.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/model/mlp.h"
#include "core/status.h"
#include "core/train/trainer.h"

namespace driftscope {

inline constexpr int kConfigFormatVersion = 1;
// memory_limit_mb accepts 0..16 TiB.
inline constexpr double kMaxMemoryLimitMb = 16.0 * 1024 * 1024;

struct RunConfig {
  // Data and model.
  std::string dataset = "mnist-embedded";
  bool standardize = true;
  std::vector<int> layers = {784, 128, 10};
  Activation activation = Activation::kRelu;
  LossKind loss = LossKind::kCrossEntropy;
  // Optimiser.
  SgdOptions sgd = defaultSgd();
  // Recording.
  int burnInEpochs = 10;
  bool burnInAuto = false;
  int burnInPatience = 3;              // auto: epochs without a 0.5% test-loss improvement
  double burnInImprovement = 0.005;    // relative improvement that counts
  int epochs = 40;                     // total, burn-in included
  int recordEvery = 25;                // steps between snapshots
  int capacity = 500;                  // ring capacity in snapshots
  std::uint64_t memoryLimitBytes = 0;  // 0: half of physical memory
  // Analysis.
  int baselineSamples = 200;
  int alignEvery = 10;    // aligned distance every k-th snapshot (0: only the last)
  int pathPoints = 21;    // points t = 0..1 along the straight path
  int evalSubset = 2000;  // test inputs for path loss and function-space distance
  int msdLagMin = 1;
  int msdLagMax = 0;  // 0: a quarter of the ring
  // Share of the training threads' CPU time the live analyses may use while training
  // runs (plus any core training leaves idle); 1: no limit. See AnalysisEngine and
  // AnalysisOptions::liveShare (why 0.01).
  double liveAnalysisShare = 0.01;
  // Aging: snapshots this many steps after recording started become extra references
  // (at most 4), each with its own d(w_pin, w_M) against the lag since it.
  std::vector<std::int64_t> pinAfterSteps;
  // Learning-rate changes made during a run (output; replayed when reloaded).
  std::vector<LrChange> lrHistory;

  static SgdOptions defaultSgd() {
    SgdOptions o;
    o.learningRate = 0.05f;
    o.batchSize = 64;
    o.threads = 2;
    return o;
  }
};

struct ConfigParse {
  RunConfig config;
  std::vector<std::string> warnings;  // unknown keys
};

// Merges the JSON object over `base` (fields absent keep base's values).
Result<ConfigParse> configFromJson(const nlohmann::json& j, const RunConfig& base = {});
Result<ConfigParse> loadConfigFile(const std::string& path, const RunConfig& base = {});
nlohmann::json configToJson(const RunConfig& c);

// Checks ranges and consistency; `inputSize`/`classes` (when > 0) must match layers.
Status validateConfig(const RunConfig& c, int inputSize = 0, int classes = 0);

// Bytes of the snapshot ring (capacity x P floats) plus the pinned reference.
std::uint64_t ringBytes(const RunConfig& c);
std::uint64_t physicalMemoryBytes();
std::uint64_t effectiveMemoryLimit(const RunConfig& c);
std::string formatBytes(std::uint64_t bytes);

}  // namespace driftscope
