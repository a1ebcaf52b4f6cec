// Writes the output files of a run (design.md, "Outputs of a run"): config.json,
// metrics.csv, distance.csv, baseline.csv, heatmap.csv, pca.csv, pca_variance.csv,
// msd.csv, path.csv, function.csv, summary.json, snapshots.npy, reference.npy,
// layout.json, and aging.csv (pinned later references). A public contract read by numpy/PyTorch
// users: names and columns stay put. Each file is written atomically; the first failure stops and
// is returned.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/config/run_config.h"
#include "core/engine/analysis_state.h"
#include "core/record/snapshot_ring.h"

namespace driftscope {

struct RunInfo {
  std::string version;
  int threads = 1;
  double seconds = 0.0;
  std::int64_t steps = 0;
  int epochs = 0;
  int stepsPerEpoch = 1;
  TrainOutcome outcome;
};

Status writeRunOutputs(const std::string& dir, const RunConfig& config, const MlpLayout& layout,
                       const AnalysisState& state, const SnapshotRing& ring, const RunInfo& info);

// Pieces, for the window's per-plot CSV export and for tests.
std::string metricsCsv(const AnalysisState& s);
std::string distanceCsv(const AnalysisState& s, int numLayers);
std::string baselineCsv(const AnalysisState& s);
std::string heatmapCsv(const AnalysisState& s);
std::string pcaCsv(const AnalysisState& s);
std::string pcaVarianceCsv(const AnalysisState& s);
std::string msdCsv(const AnalysisState& s, int recordEvery);
std::string pathCsv(const AnalysisState& s);
std::string functionCsv(const AnalysisState& s);
// reference_snapshot,reference_step,lag_steps,d — one block per pinned reference.
std::string agingCsv(const AnalysisState& s);
nlohmann::json layoutJson(const MlpLayout& layout);
nlohmann::json summaryJson(const AnalysisState& s, const RunInfo& info);

}  // namespace driftscope
