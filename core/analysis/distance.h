// Distances between two flat parameter vectors (design.md, "Analysis — definitions"):
// d(a, b) = ||a - b||_2, its per-layer parts, the relative distance d/||w_ref|| and the
// radial/tangential split of w_M - w_ref along w_ref (norm growth vs. true wandering).
// Everything is accumulated in double and each difference is taken in double BEFORE it is
// squared, so nearby float snapshots of large norm do not cancel.
// Pure functions; safe to call from any thread.
#pragma once

#include <cstddef>
#include <vector>

#include "core/model/mlp_layout.h"

namespace driftscope {

struct DistanceBreakdown {
  double distance = 0.0;         // d = ||w_M - w_ref||
  double relative = 0.0;         // d / ||w_ref|| (0 if d == 0, +inf if only ||w_ref|| == 0)
  double radial = 0.0;           // <w_M - w_ref, w_ref> / ||w_ref|| (signed; 0 if w_ref == 0)
  double tangential = 0.0;       // ||(w_M - w_ref) - radial * w_ref/||w_ref|| || >= 0
  double weightNorm = 0.0;       // ||w_M||
  double referenceNorm = 0.0;    // ||w_ref||
  std::vector<double> perLayer;  // ||(W_l, b_l) part of w_M - w_ref||, l = 0..L-1
};

// ||a - b||_2 over n floats, differences and sum in double.
double l2Distance(const float* a, const float* b, std::size_t n);

// Both vectors hold layout.paramCount() floats. radial^2 + tangential^2 == distance^2 and
// sum_l perLayer[l]^2 == distance^2 up to rounding. The tangential part is the norm of the
// orthogonal residual itself (not sqrt(d^2 - radial^2), which cancels when the motion is
// mostly radial).
DistanceBreakdown distanceBreakdown(const MlpLayout& layout, const float* wRef, const float* wM);

}  // namespace driftscope
