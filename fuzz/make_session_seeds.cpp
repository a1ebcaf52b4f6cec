// Writes the seed corpus of the session fuzzer: small but complete sessions (a 4-3-2
// network, a few snapshots, every series and analysis filled) saved by saveSession, with
// the trailing CRC-32 removed (the fuzz entry appends it). Usage: make_session_seeds DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "core/io/session.h"

namespace {

using namespace driftscope;

RunConfig tinyConfig() {
  RunConfig c;
  c.layers = {4, 3, 2};
  c.capacity = 4;
  c.epochs = 3;
  c.burnInEpochs = 1;
  c.recordEvery = 2;
  c.lrHistory = {{0, 0.05f}, {7, 0.02f}};
  c.pinAfterSteps = {4};
  return c;
}

SnapshotMeta meta(int i) { return {i, 2 * i, 1.0 + 0.25 * i, 0.05f}; }

void fillRing(SnapshotRing& ring, int count, bool reference) {
  for (int i = 0; i < count; ++i) {
    float w[4 * 3 + 3 + 3 * 2 + 2];
    for (int k = 0; k < static_cast<int>(std::size(w)); ++k) w[k] = 0.01f * (k + 1) + 0.001f * i;
    ring.push(w, meta(i));
    if (reference && i == 0) ring.setReference(w, meta(0));
  }
}

AnalysisState fullState(int n) {
  AnalysisState s;
  s.phase = RunPhase::kFinished;
  s.metrics.push_back({1, 10, 0.05f, 0.9, 0.7, 1.0, 0.65, 3.0, 0.5});
  s.metrics.push_back({2, 20, 0.02f, 0.5, 0.8, 0.7, 0.75, 3.1, 1.0});
  s.batchLoss.push_back({5, 1.2});
  s.lrHistory = {{0, 0.05f}, {7, 0.02f}};
  for (int i = 0; i < n; ++i) {
    DistanceRecord r;
    r.meta = meta(i);
    r.d.distance = 0.1 * i;
    r.d.relative = 0.01 * i;
    r.d.radial = 0.05 * i;
    r.d.tangential = 0.08 * i;
    r.d.weightNorm = 3.0;
    r.d.referenceNorm = 3.0;
    r.d.perLayer = {0.07 * i, 0.03 * i};
    if (i % 2 == 0) {
      r.aligned = 0.09 * i;
      r.alignedIdentity = 1.0;
    }
    s.distances.push_back(r);
    s.function.push_back({meta(i), 0.01 * i, 0.001 * i});
  }
  s.reference = meta(0);
  PinnedCurve pin;
  pin.reference = meta(2);
  pin.points.push_back({0, 0.0});
  pin.points.push_back({2, 0.04});
  s.pinned.push_back(pin);
  auto band = std::make_shared<BaselineBand>();
  band->samples = {1.0, 1.2, 1.1};
  band->mean = 1.1;
  band->p05 = 1.0;
  band->p50 = 1.1;
  band->p95 = 1.2;
  band->exactRms = 1.1;
  band->nearestTransposition = 0.3;
  band->nearestLayer = 0;
  band->nearestI = 0;
  band->nearestJ = 2;
  s.baseline = band;
  auto ra = std::make_shared<RingAnalysis>();
  for (int i = 0; i < n; ++i) ra->snapshots.push_back(meta(i));
  ra->distances = RowMatrixD::Zero(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) ra->distances(i, j) = 0.1 * std::abs(i - j);
  ra->pca.projections = RowMatrixD::Constant(n, 2, 0.5);
  ra->pca.explainedRatio = std::vector<double>(static_cast<std::size_t>(n), 1.0 / n);
  ra->pca.randomWalkRatio = ra->pca.explainedRatio;
  ra->msd.lags = {1, 2};
  ra->msd.msd = {0.01, 0.04};
  ra->msd.counts = {n - 1, n - 2};
  ra->fit = {2.0, 0.0, 0.01, 1, 2, 2, false};
  ra->aging.push_back({1, ra->fit});
  ra->path.t = {0.0, 0.5, 1.0};
  ra->path.lossRaw = {1.0, 1.1, 0.9};
  ra->path.lossAligned = {1.0, 1.05, 0.9};
  ra->path.barrierRaw = 0.15;
  ra->path.barrierAligned = 0.1;
  ra->pathSnapshot = n - 1;
  s.ring = ra;
  s.verdict.valid = true;
  s.verdict.ratioLast = 0.2;
  s.verdict.ratioAlignedLast = 0.15;
  s.verdict.text = "After 6 recorded steps SGD moved 20% of the permutation distance";
  s.snapshotsTaken = n;
  s.snapshotsInRing = n;
  s.ringBytes = 1000;
  s.recordingStartStep = 0;
  s.progress = {10, 2, 0.5, 0.6, 100.0};
  return s;
}

bool writeSeed(const std::filesystem::path& dir, const std::string& name, const RunConfig& config,
               const AnalysisState& state, const SnapshotRing& ring) {
  RunInfo info;
  info.version = "seed";
  info.steps = 20;
  info.epochs = 2;
  info.stepsPerEpoch = 10;
  const std::filesystem::path full = dir / (name + ".full");
  if (Status st = saveSession(full.string(), config, state, ring, info); !st) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return false;
  }
  std::ifstream in(full, std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  in.close();
  std::filesystem::remove(full);
  bytes.resize(bytes.size() - 4);  // the fuzz entry appends the CRC-32
  std::ofstream(dir / name, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  const RunConfig config = tinyConfig();
  const std::size_t P = MlpLayout(config.layers).paramCount();
  bool ok = true;
  {
    SnapshotRing ring(config.capacity, P);
    fillRing(ring, 3, true);
    ok &= writeSeed(dir, "full-3-snapshots", config, fullState(3), ring);
  }
  {
    SnapshotRing ring(config.capacity, P);
    fillRing(ring, 6, true);  // wrapped: 4 of 6 snapshots kept
    ok &= writeSeed(dir, "wrapped-ring", config, fullState(4), ring);
  }
  {
    SnapshotRing ring(config.capacity, P);
    AnalysisState idle;
    ok &= writeSeed(dir, "empty-before-recording", config, idle, ring);
  }
  return ok ? 0 : 1;
}
