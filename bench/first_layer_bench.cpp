// The first layer over MNIST's blank pixels or not: Mlp's sparse first-layer kernels
// (SparseInput, core/model/mlp.cpp) against its dense ones, on the same batches, one
// thread. The network is 784-1024-10, so the first layer is 99% of the work.
//
//  BM_FirstLayer/batch:<B>/sparse:<0|1>/part:0   Mlp::forward
//  BM_FirstLayer/batch:<B>/sparse:<0|1>/part:1   Mlp::lossAndSgdUpdate (forward, backward,
//                                                update in place; lr 1e-4)
//
// Batches: 8 different batches of B standardized training images (the app's default
// data), taken in turn. Counters:
//   GMAC/s      first-layer multiply-adds the kernels actually do, 1e9 per second: B x 784
//               x 1024 per product when dense, (entries off the background) x 1024 when
//               sparse; a step does two products of the first layer (forward, update).
//               1 / GMAC/s is the cost of one multiply-add in ns (the second layer's 1% of
//               the work is charged to it); the sparse path wins while its cost per
//               multiply-add stays below 1 / density times the dense one.
//   density     the share of entries off the background (MNIST: ~19%), from Mlp's own
//               listing of each batch (the bench stops if a batch is too dense for it).
// Session 7 measured ~0.73 ns per sparse and ~0.22 ns per dense multiply-add of 16 lanes
// with a standalone loop; this bench gives such figures for the real code paths.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/data/dataset.h"
#include "core/model/mlp.h"
#include "core/model/mlp_layout.h"

namespace driftscope {
namespace {

constexpr int kBatches = 8;
constexpr int kUnits = 1024;

struct Batches {
  std::vector<RowMatrix> x;
  std::vector<std::vector<std::uint8_t>> y;
  std::int64_t offBackground = 0;  // over all batches, as Mlp's listing counts them
  std::int64_t entries = 0;
  bool allSparse = true;  // whether Mlp's listing accepted every batch (usesSparseInput)
};

// The i-th batch: training rows [i B, (i + 1) B); its entries off the background from
// the listing Mlp::forward makes of it (SparseInput::rowStart).
Batches makeBatches(const Mlp& mlp, const Vector& params, const Dataset& train, int batch) {
  Batches b;
  MlpWorkspace ws;
  for (int i = 0; i < kBatches; ++i) {
    RowMatrix x = train.images.middleRows(static_cast<Eigen::Index>(i) * batch, batch);
    mlp.forward(params.data(), x, ws);
    if (ws.sparse.describes(x)) {
      b.offBackground += ws.sparse.rowStart.back();
    } else {
      b.allSparse = false;
    }
    b.entries += x.size();
    b.x.push_back(std::move(x));
    const auto begin = train.labels.begin() + static_cast<std::ptrdiff_t>(i) * batch;
    b.y.emplace_back(begin, begin + batch);
  }
  return b;
}

void firstLayer(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const bool sparse = state.range(1) != 0;
  const bool step = state.range(2) != 0;
  const Result<DataSplit> split = loadDataSplit(DataSource{});
  if (!split) {
    state.SkipWithError(("cannot load embedded MNIST: " + split.status().message()).c_str());
    return;
  }
  const Mlp mlp(MlpLayout({784, kUnits, 10}), Activation::kRelu, LossKind::kCrossEntropy);
  Vector params = mlp.initialParams(1);
  const Batches data = makeBatches(mlp, params, split.value().train, batch);
  if (!data.allSparse) {
    state.SkipWithError("a batch is too dense for the sparse kernels: no count of their work");
    return;
  }
  MlpWorkspace ws;
  ws.sparseForward = sparse;
  ws.sparseUpdate = sparse;
  std::atomic<bool> finite{true};
  FusedSgd sgd;
  sgd.lr = 1e-4f;
  sgd.next = params.data();
  sgd.finite = &finite;
  const float scale = 1.0f / static_cast<float>(batch);
  int i = 0;
  while (state.KeepRunning()) {
    const RowMatrix& x = data.x[static_cast<std::size_t>(i)];
    if (step) {
      benchmark::DoNotOptimize(mlp.lossAndSgdUpdate(
          params.data(), x, data.y[static_cast<std::size_t>(i)], scale, sgd, ws));
    } else {
      benchmark::DoNotOptimize(mlp.forward(params.data(), x, ws).data());
    }
    i = (i + 1) % kBatches;
  }
  if (!finite.load()) state.SkipWithError("the weights diverged");
  const double density =
      static_cast<double>(data.offBackground) / static_cast<double>(data.entries);
  const double perProduct = static_cast<double>(batch) * 784.0 * kUnits * (sparse ? density : 1.0);
  const double macs = static_cast<double>(state.iterations()) * perProduct * (step ? 2.0 : 1.0);
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsRate);
  state.counters["density"] = density;
}

}  // namespace

void registerFirstLayerBenchmarks() {
  benchmark::RegisterBenchmark("BM_FirstLayer", firstLayer)
      ->ArgNames({"batch", "sparse", "part"})
      ->ArgsProduct({{64, 256}, {0, 1}, {0, 1}})
      ->MinTime(0.3)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace driftscope
