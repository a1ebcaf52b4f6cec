// AnalysisState: one immutable picture of a run, published by the AnalysisEngine by a
// shared_ptr swap under a short lock; readers (the window's timer, the run writer) never
// wait for the producer's work and never see a half-updated value. Scalar series cover the whole
// run; the heavy ring analyses (heatmap, PCA, MSD, path) are shared between successive states.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/baseline.h"
#include "core/analysis/distance.h"
#include "core/analysis/linear_path.h"
#include "core/analysis/msd.h"
#include "core/analysis/pca.h"
#include "core/engine/chunked_series.h"
#include "core/record/snapshot_ring.h"
#include "core/train/trainer.h"

namespace driftscope {

enum class RunPhase { kIdle, kBurnIn, kRecording, kPaused, kDiverged, kStopped, kFinished };
std::string toString(RunPhase p);

struct DistanceRecord {
  SnapshotMeta meta;
  DistanceBreakdown d;
  std::optional<double> aligned;          // d_align(w_ref, w_M) where computed
  std::optional<double> alignedIdentity;  // fraction of units mapped to themselves
};

// Mean mini-batch loss over a block of consecutive steps (the raw training loss).
struct BatchLossPoint {
  std::int64_t step = 0;  // last step of the block
  double loss = 0.0;
};

struct FunctionRecord {
  SnapshotMeta meta;
  double disagreement = 0.0;
  double kl = 0.0;
};

// d(w_pin, w_M) for a later, pinned reference, against the lag since it (aging: do
// later references drift more slowly?).
struct PinnedPoint {
  std::int64_t lagSteps = 0;
  double distance = 0.0;
};
struct PinnedCurve {
  SnapshotMeta reference;
  ChunkedSeries<PinnedPoint> points;
};

struct Verdict {
  bool valid = false;
  double ratioLast = 0.0;                    // d(w_ref, w_last) / baseline mean
  std::optional<double> ratioAlignedLast;    // d_align(w_ref, w_last) / baseline mean
  std::optional<double> lagToBaselineSteps;  // where MSD ~ c tau^alpha reaches mean^2
  std::string text;                          // one line for the window and the CLI
};

// MSD exponent using only start times after a waiting time (aging: a fit that falls with
// the waiting time means the walk slows down as it ages).
struct AgingFit {
  int waitingSnapshots = 0;
  PowerLawFit fit;
};

// The analyses of the current ring, recomputed at a throttled rate.
struct RingAnalysis {
  std::vector<SnapshotMeta> snapshots;  // chronological
  RowMatrixD distances;                 // pairwise, chronological
  PcaResult pca;
  MsdResult msd;
  PowerLawFit fit;
  std::vector<AgingFit> aging;  // waiting times of 1/4 and 1/2 of the ring
  PathResult path;
  int pathSnapshot = -1;  // snapshot index of the path's endpoint w_M
};

struct AnalysisState {
  std::uint64_t version = 0;
  RunPhase phase = RunPhase::kIdle;
  std::vector<EpochMetrics> metrics;
  ChunkedSeries<BatchLossPoint> batchLoss;
  std::vector<LrChange> lrHistory;
  ChunkedSeries<DistanceRecord> distances;  // one per snapshot, relative to the reference
  ChunkedSeries<FunctionRecord> function;
  std::vector<PinnedCurve> pinned;  // at most AnalysisOptions::kMaxPinned
  std::optional<SnapshotMeta> reference;
  std::shared_ptr<const BaselineBand> baseline;
  std::shared_ptr<const RingAnalysis> ring;
  Verdict verdict;
  int snapshotsTaken = 0;
  int snapshotsInRing = 0;
  std::uint64_t ringBytes = 0;
  std::optional<std::int64_t> recordingStartStep;
  TrainProgress progress;
  std::string message;  // e.g. the divergence report
};

}  // namespace driftscope
