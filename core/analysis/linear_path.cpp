#include "core/analysis/linear_path.h"

#include <algorithm>
#include <limits>

namespace driftscope {

double pathBarrier(const std::vector<double>& t, const std::vector<double>& loss) {
  if (loss.empty()) return 0.0;
  const double l0 = loss.front();
  const double l1 = loss.back();
  double barrier = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < loss.size(); ++k) {
    barrier = std::max(barrier, loss[k] - ((1.0 - t[k]) * l0 + t[k] * l1));
  }
  return barrier;
}

namespace {

std::vector<double> lossesAlong(const Mlp& mlp, const float* a, const float* b,
                                const Eigen::Ref<const RowMatrix>& inputs,
                                std::span<const std::uint8_t> labels, const std::vector<double>& t,
                                ParallelContext& parallel) {
  const auto P = static_cast<Eigen::Index>(mlp.layout().paramCount());
  const ConstVectorMap wa(a, P);
  const ConstVectorMap wb(b, P);
  std::vector<double> loss(t.size());
  // One task per point: each builds its interpolated weights and evaluates the set.
  parallel.forEach(static_cast<int>(t.size()), [&](int k) {
    const float tk = static_cast<float>(t[static_cast<std::size_t>(k)]);
    const Vector w = wa + tk * (wb - wa);
    MlpWorkspace ws;
    const LossStats s = mlp.evaluate(w.data(), inputs, labels, ws);
    loss[static_cast<std::size_t>(k)] = s.count ? s.lossSum / s.count : 0.0;
  });
  return loss;
}

}  // namespace

PathResult linearPath(const Mlp& mlp, const float* wRef, const float* wM, const float* wMAligned,
                      const Eigen::Ref<const RowMatrix>& inputs,
                      std::span<const std::uint8_t> labels, int points, ParallelContext& parallel) {
  PathResult r;
  points = std::max(points, 2);
  r.t.resize(static_cast<std::size_t>(points));
  for (int k = 0; k < points; ++k) r.t[static_cast<std::size_t>(k)] = double(k) / (points - 1);
  r.lossRaw = lossesAlong(mlp, wRef, wM, inputs, labels, r.t, parallel);
  r.barrierRaw = pathBarrier(r.t, r.lossRaw);
  if (wMAligned) {
    r.lossAligned = lossesAlong(mlp, wRef, wMAligned, inputs, labels, r.t, parallel);
    r.barrierAligned = pathBarrier(r.t, r.lossAligned);
  }
  return r;
}

}  // namespace driftscope
