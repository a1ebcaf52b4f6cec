// Cost of the analysis pipeline (design.md, "Analysis"): snapshot copy, one heatmap row
// update, the full heatmap from scratch, PCA of the ring, and weight matching.
//
// Data: a synthetic ring of C snapshots of P = 100,000 floats, a random walk
// (w_0 ~ U[-0.1, 0.1), w_{k+1} = w_k + U[-1e-3, 1e-3) per coordinate) anchored at w_0, so
// that the Gram matrix has the decaying spectrum of a trajectory rather than that of iid
// noise. Generated once per C (deterministic splitmix64) and shared by the benchmarks.
//
//  BM_SnapshotPush/P:<P>/C:<C>            SnapshotRing::push (one memcpy of P floats into
//                                         the next slot of a C x P ring; the ring is
//                                         filled once before timing, so every slot's pages
//                                         are resident). GB/s = bytes copied (4P) per s.
//  BM_HeatmapRowUpdate/C:<C>/threads:<T>  DistanceMatrix::addSnapshot(slot, ring, ctx) with
//                                         all C slots occupied (steady state: the newest
//                                         snapshot overwrote the oldest slot). C dot
//                                         products of length P. GB/s = ring bytes read
//                                         (4·C·P) per s; GFLOP/s counts 2·C·P.
//                                         Setup (not timed): DistanceMatrix::rebuild.
//  BM_HeatmapRows/C:<C>/batch:<B>/threads:<T>
//                                         DistanceMatrix::addSnapshots of B new snapshots
//                                         at a full ring (the engine's batched rows);
//                                         rows/s and GFLOP/s (2·C·P per row).
//  BM_DistanceMatrixLarge/C:2000/P:1000000/threads:2  only with DRIFTSCOPE_BENCH_LARGE=1 (8 GB):
//  the
//                                         full distance matrix from scratch, centred, and
//                                         its largest relative error (max_rel_err).
//  BM_HeatmapFull/C:<C>/threads:<T>       anchoredGram(block, C, P, anchor, ctx) from
//                                         scratch. GFLOP/s counts C^2·P (C^2/2 distinct
//                                         pairs x 2 FLOPs; the diagonal tiles' redundant
//                                         upper halves are not counted). C = 2000 is
//                                         ~4e11 FLOPs: Iterations(1).
//  BM_PcaFromGram/C:<C>                   pcaFromGram(G, 3) on the ring's C x C Gram
//                                         (centring + full SelfAdjointEigenSolver up
//                                         to C = 512, leading 20 eigenpairs by
//                                         subspace iteration above: pca.h).
//  BM_DistanceBreakdown/784-256-256-10    distanceBreakdown of a snapshot (the analysis
//                                         thread's per-snapshot distance, 269,322
//                                         weights); GB/s = both vectors' bytes per s.
//  BM_AlignWeights/784-<n>-10             alignWeights(layout, a, b) for two independent
//                                         random nets (the Git Re-Basin use case: two
//                                         inits); one hidden layer, so it always runs 2
//                                         sweeps (find the permutation, confirm it):
//                                         2 similarity GEMMs + 2 LAPs of n x n.
//  BM_LinearAssignment/n:<n>              solveMinCostAssignment on an n x n matrix of
//                                         U[0, 1) costs (includes the row-major copy).
//                                         Compare with bench/lap_scipy.py.
//
// "threads" is the ParallelContext size; only addSnapshot and anchoredGram take one.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/analysis/alignment.h"
#include "core/analysis/distance.h"
#include "core/analysis/distance_matrix.h"
#include "core/analysis/linear_assignment.h"
#include "core/analysis/pca.h"
#include "core/model/mlp_layout.h"
#include "core/parallel.h"
#include "core/record/snapshot_ring.h"

namespace driftscope {
namespace {

constexpr std::size_t kParams = 100000;

// Deterministic uniform [0, 1) from splitmix64 (fast enough for 2e8 draws).
class Uniform {
 public:
  explicit Uniform(std::uint64_t seed) : m_state(seed) {}
  double operator()() {
    std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }

 private:
  std::uint64_t m_state;
};

// C x P row-major random walk plus its anchor (row 0) and, lazily, its Gram matrix.
struct Ring {
  int capacity = 0;
  std::vector<float> block;
  std::vector<float> anchor;
  std::unique_ptr<DistanceMatrix> matrix;  // all slots occupied; built on first use
};

Ring& ringFor(int capacity) {
  static std::map<int, std::unique_ptr<Ring>> rings;
  std::unique_ptr<Ring>& slot = rings[capacity];
  if (!slot) {
    slot = std::make_unique<Ring>();
    slot->capacity = capacity;
    slot->block.resize(static_cast<std::size_t>(capacity) * kParams);
    Uniform u(static_cast<std::uint64_t>(capacity));
    float* row0 = slot->block.data();
    for (std::size_t p = 0; p < kParams; ++p) row0[p] = static_cast<float>(0.2 * u() - 0.1);
    for (int r = 1; r < capacity; ++r) {
      const float* prev = row0 + static_cast<std::size_t>(r - 1) * kParams;
      float* cur = row0 + static_cast<std::size_t>(r) * kParams;
      for (std::size_t p = 0; p < kParams; ++p) {
        cur[p] = prev[p] + static_cast<float>(2e-3 * u() - 1e-3);
      }
    }
    slot->anchor.assign(row0, row0 + kParams);
  }
  return *slot;
}

DistanceMatrix& fullMatrix(Ring& ring) {
  if (!ring.matrix) {
    ring.matrix = std::make_unique<DistanceMatrix>(ring.capacity);
    ring.matrix->setAnchor(ring.anchor.data(), kParams);
    std::vector<int> slots(static_cast<std::size_t>(ring.capacity));
    for (int s = 0; s < ring.capacity; ++s) slots[static_cast<std::size_t>(s)] = s;
    ParallelContext setup(ParallelContext::hardwareThreads());
    ring.matrix->rebuild(ring.block.data(), slots, setup);
  }
  return *ring.matrix;
}

void snapshotPush(benchmark::State& state) {
  const std::size_t P = static_cast<std::size_t>(state.range(0));
  const int C = static_cast<int>(state.range(1));
  SnapshotRing ring(C, P);
  std::vector<float> params(P);
  Uniform u(7);
  for (float& x : params) x = static_cast<float>(u());
  SnapshotMeta meta;
  for (int i = 0; i < C; ++i) ring.push(params.data(), meta);  // page in every slot
  for (auto _ : state) {
    ++meta.step;
    benchmark::DoNotOptimize(ring.push(params.data(), meta));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(P * sizeof(float)));
}

void heatmapRowUpdate(benchmark::State& state) {
  const int C = static_cast<int>(state.range(0));
  ParallelContext parallel(static_cast<int>(state.range(1)));
  Ring& ring = ringFor(C);
  DistanceMatrix& matrix = fullMatrix(ring);
  int slot = 0;
  for (auto _ : state) {
    matrix.addSnapshot(slot, ring.block.data(), parallel);
    slot = (slot + 1) % C;
  }
  const double n = static_cast<double>(state.iterations());
  const double cp = static_cast<double>(C) * static_cast<double>(kParams);
  state.counters["GB/s"] =
      benchmark::Counter(n * cp * sizeof(float) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(n * 2.0 * cp * 1e-9, benchmark::Counter::kIsRate);
}

// Steady state of the engine at a full ring: `batch` new snapshots overwrite the oldest
// slots and their rows are added in one pass (DistanceMatrix::addSnapshots).
void heatmapRows(benchmark::State& state) {
  const int C = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  ParallelContext parallel(static_cast<int>(state.range(2)));
  Ring& ring = ringFor(C);
  DistanceMatrix& matrix = fullMatrix(ring);
  int slot = 0;
  std::vector<int> slots(static_cast<std::size_t>(batch));
  for (auto _ : state) {
    for (int& s : slots) {
      s = slot;
      slot = (slot + 1) % C;
    }
    matrix.addSnapshots(slots, ring.block.data(), parallel);
  }
  const double rows = static_cast<double>(state.iterations()) * batch;
  const double cp = static_cast<double>(C) * static_cast<double>(kParams);
  state.counters["rows/s"] = benchmark::Counter(rows, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(rows * 2.0 * cp * 1e-9, benchmark::Counter::kIsRate);
}

// The size: the full distance matrix of C = 2000 snapshots of P = 1M floats (an
// 8 GB ring), centred (anchored at the centroid), from scratch. Registered only with
// DRIFTSCOPE_BENCH_LARGE=1 (8 GB of memory, ~1 min). Counter max_rel_err: the largest
// relative error of d_ij against a direct double-precision ||r_i - r_j|| over 400 pairs
// (the nearest neighbours i, i+1 among them: the hardest case for a Gram matrix).
void distanceMatrixLarge(benchmark::State& state) {
  const int C = static_cast<int>(state.range(0));
  const auto P = static_cast<std::size_t>(state.range(1));
  ParallelContext parallel(static_cast<int>(state.range(2)));
  std::vector<float> block(static_cast<std::size_t>(C) * P);
  Uniform u(99);
  for (std::size_t p = 0; p < P; ++p) block[p] = static_cast<float>(0.2 * u() - 0.1);
  for (int r = 1; r < C; ++r) {
    const float* prev = block.data() + static_cast<std::size_t>(r - 1) * P;
    float* cur = block.data() + static_cast<std::size_t>(r) * P;
    for (std::size_t p = 0; p < P; ++p) cur[p] = prev[p] + static_cast<float>(2e-3 * u() - 1e-3);
  }
  VectorD mean = VectorD::Zero(static_cast<Eigen::Index>(P));
  for (int r = 0; r < C; ++r) {
    mean +=
        ConstVectorMap(block.data() + static_cast<std::size_t>(r) * P, static_cast<Eigen::Index>(P))
            .cast<double>();
  }
  const std::vector<float> centroid = [&] {
    std::vector<float> c(P);
    for (std::size_t p = 0; p < P; ++p)
      c[p] = static_cast<float>(mean(static_cast<Eigen::Index>(p)) / C);
    return c;
  }();
  RowMatrixD d;
  for (auto _ : state) {
    d = distancesFromGram(anchoredGram(block.data(), C, P, centroid.data(), parallel));
    benchmark::DoNotOptimize(d.data());
  }
  double worst = 0.0;
  for (int k = 0; k < 400; ++k) {
    const int i = static_cast<int>(u() * (C - 1));
    const int j = (k % 2 == 0) ? i + 1 : static_cast<int>(u() * C);
    if (i == j) continue;
    const double exact = l2Distance(block.data() + static_cast<std::size_t>(i) * P,
                                    block.data() + static_cast<std::size_t>(j) * P, P);
    worst = std::max(worst, std::abs(d(i, j) - exact) / exact);
  }
  state.counters["max_rel_err"] = worst;
  state.counters["GFLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * C * C * static_cast<double>(P) * 1e-9,
      benchmark::Counter::kIsRate);
}

void heatmapFull(benchmark::State& state) {
  const int C = static_cast<int>(state.range(0));
  ParallelContext parallel(static_cast<int>(state.range(1)));
  Ring& ring = ringFor(C);
  for (auto _ : state) {
    MatrixD g = anchoredGram(ring.block.data(), C, kParams, ring.anchor.data(), parallel);
    benchmark::DoNotOptimize(g.data());
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] =
      benchmark::Counter(n * static_cast<double>(C) * C * static_cast<double>(kParams) * 1e-9,
                         benchmark::Counter::kIsRate);
}

void pca(benchmark::State& state) {
  const int C = static_cast<int>(state.range(0));
  Ring& ring = ringFor(C);
  std::vector<int> slots(static_cast<std::size_t>(C));
  for (int s = 0; s < C; ++s) slots[static_cast<std::size_t>(s)] = s;
  const MatrixD gram = fullMatrix(ring).gram(slots);
  double pc1 = 0.0;
  for (auto _ : state) {
    const PcaResult r = pcaFromGram(gram, 3);
    pc1 = r.explainedRatio.front();
    benchmark::DoNotOptimize(r.projections.data());
  }
  state.counters["PC1_ratio"] = pc1;
}

void breakdown(benchmark::State& state) {
  const MlpLayout layout({784, 256, 256, 10});
  std::vector<float> ref(layout.paramCount());
  std::vector<float> m(layout.paramCount());
  Uniform u(5);
  for (std::size_t i = 0; i < ref.size(); ++i) {
    ref[i] = static_cast<float>(0.1 * u() - 0.05);
    m[i] = ref[i] + static_cast<float>(0.002 * u() - 0.001);
  }
  for (auto _ : state) {
    const DistanceBreakdown b = distanceBreakdown(layout, ref.data(), m.data());
    benchmark::DoNotOptimize(b.tangential);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(2 * ref.size() * sizeof(float)));
}

void alignNets(benchmark::State& state) {
  const int hidden = static_cast<int>(state.range(0));
  const MlpLayout layout({784, hidden, 10});
  std::vector<float> a(layout.paramCount()), b(layout.paramCount());
  Uniform u(static_cast<std::uint64_t>(hidden));
  for (float& x : a) x = static_cast<float>(0.1 * u() - 0.05);
  for (float& x : b) x = static_cast<float>(0.1 * u() - 0.05);
  AlignmentResult r;
  for (auto _ : state) {
    r = alignWeights(layout, a.data(), b.data());
    benchmark::DoNotOptimize(r.distance);
  }
  state.counters["sweeps"] = r.sweeps;
  state.counters["identity"] = r.identityFraction;
}

void linearAssignment(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  MatrixD cost(n, n);
  Uniform u(static_cast<std::uint64_t>(n) + 1000);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) cost(i, j) = u();
  }
  double total = 0.0;
  for (auto _ : state) {
    const Assignment r = solveMinCostAssignment(cost);
    total = r.total;
    benchmark::DoNotOptimize(r.rowToCol.data());
  }
  state.counters["total"] = total;
}

void registerAll() {
  benchmark::RegisterBenchmark("BM_SnapshotPush", snapshotPush)
      ->ArgNames({"P", "C"})
      ->Args({static_cast<std::int64_t>(kParams), 500})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  // Rings (C = 2000: 800 MB) and their DistanceMatrix are built on first use and shared.
  benchmark::RegisterBenchmark("BM_HeatmapRowUpdate", heatmapRowUpdate)
      ->ArgNames({"C", "threads"})
      ->ArgsProduct({{500, 2000}, {1, 2}})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_HeatmapFull", heatmapFull)
      ->ArgNames({"C", "threads"})
      ->ArgsProduct({{500}, {1, 2}})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_HeatmapFull", heatmapFull)
      ->ArgNames({"C", "threads"})
      ->ArgsProduct({{2000}, {1, 2}})
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_HeatmapRows", heatmapRows)
      ->ArgNames({"C", "batch", "threads"})
      ->ArgsProduct({{500}, {1, 4, 16}, {1, 2}})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  if (const char* large = std::getenv("DRIFTSCOPE_BENCH_LARGE");
      large && std::string(large) == "1") {
    benchmark::RegisterBenchmark("BM_DistanceMatrixLarge", distanceMatrixLarge)
        ->ArgNames({"C", "P", "threads"})
        ->Args({2000, 1000000, 2})
        ->Iterations(1)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("BM_PcaFromGram", pca)
      ->ArgNames({"C"})
      ->Arg(500)
      ->Arg(2000)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_DistanceBreakdown/784-256-256-10", breakdown)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_AlignWeights/784-n-10", alignNets)
      ->ArgNames({"n"})
      ->Arg(128)
      ->Arg(512)
      ->Arg(1024)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_LinearAssignment", linearAssignment)
      ->ArgNames({"n"})
      ->Arg(128)
      ->Arg(512)
      ->Arg(1024)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace

// Called from main() in train_bench.cpp (one executable, two files).
void registerAnalysisBenchmarks() { registerAll(); }

}  // namespace driftscope
