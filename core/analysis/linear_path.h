// Loss along the straight line between two networks, L(t) at w_ref + t (w_M - w_ref) for
// t = 0..1 on a fixed evaluation set, and the barrier of design.md:
//   barrier = max_t [L(t) - ((1 - t) L(0) + t L(1))]
// (Frankle et al. 2020 "linear mode connectivity"). With an aligned w_M (pi(w_M) from
// weight matching) the same path shows whether the barrier was a symmetry artefact.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/model/mlp.h"
#include "core/parallel.h"

namespace driftscope {

struct PathResult {
  std::vector<double> t;
  std::vector<double> lossRaw;
  std::vector<double> lossAligned;  // empty when no aligned endpoint was given
  double barrierRaw = 0.0;
  double barrierAligned = 0.0;
};

// Mean loss at each t of `points` evenly spaced points in [0, 1]. wMAligned may be null.
PathResult linearPath(const Mlp& mlp, const float* wRef, const float* wM, const float* wMAligned,
                      const Eigen::Ref<const RowMatrix>& inputs,
                      std::span<const std::uint8_t> labels, int points, ParallelContext& parallel);

double pathBarrier(const std::vector<double>& t, const std::vector<double>& loss);

}  // namespace driftscope
