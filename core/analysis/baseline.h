// Permutation baseline band for a reference network w_ref (design.md, "Permutation
// baseline band"): how far apart two networks that compute the SAME function typically
// are, i.e. the distribution of d(w_ref, pi(w_ref)) over uniform random hidden-unit
// permutations pi, its exact root mean square, and the nearest distinct equivalent network
// (the cheapest single transposition of two live units). Drift distances are read against it.
// Pure functions; thread-safe. With a ParallelContext the result is bit-identical for any
// thread count (fixed chunks, one deterministic RNG per chunk, reduction in chunk order).
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/mlp_layout.h"

namespace driftscope {

class ParallelContext;

struct BaselineOptions {
  int samples = 200;       // Monte-Carlo draws of pi (>= 0)
  std::uint64_t seed = 0;  // each fixed chunk of draws has its own RNG seeded from (seed, chunk)
  // A hidden unit whose r_i (row of W_l, b_l[i], column of W_{l+1}) has every entry with
  // |x| <= deadUnitTolerance is dead: swapping two dead units is no distinct network.
  double deadUnitTolerance = 1e-12;
};

// Invariants: samples.size() == options.samples, in draw order (not sorted); statistics
// are NaN when there are no samples; nearest* are NaN / -1 when no hidden layer has two
// live units.
struct BaselineBand {
  std::vector<double> samples;  // d(w_ref, pi_k(w_ref)), k = 0..samples-1
  double mean = 0.0;
  double p05 = 0.0;  // percentiles by linear interpolation between order statistics
  double p50 = 0.0;  // (numpy.percentile default, "linear": x[(n-1) p])
  double p95 = 0.0;
  double exactRms = 0.0;              // sqrt(E d^2), closed form
  double nearestTransposition = 0.0;  // d of the cheapest transposition = sqrt(2 min||r_i-r_j||^2)
  int nearestLayer = -1;              // hidden layer h (output of layer h), 0-based
  int nearestI = -1;                  // the two swapped units, nearestI < nearestJ
  int nearestJ = -1;
};

BaselineBand computeBaseline(const MlpLayout& layout, const float* wRef,
                             const BaselineOptions& options);
BaselineBand computeBaseline(const MlpLayout& layout, const float* wRef,
                             const BaselineOptions& options, ParallelContext& parallel);

// E_pi ||w - pi(w)||^2 over uniform pi, exact (design.md): per weight matrix X = W_l with
// row permutation P = P_l and column permutation Q = P_{l-1},
//   E||X - P X Q^T||^2 = 2||X||^2 - 2 tr(X^T E[P] X E[Q]^T),
// E[P] = 11^T/n for a permuted (hidden) side, I otherwise; per bias
//   E||b - P b||^2 = 2||b||^2 - 2 b^T E[P] b. Accumulated in double.
double exactMeanSquaredDistance(const MlpLayout& layout, const float* w);

// Percentile q in [0, 1] of values by linear interpolation (numpy default); NaN if empty.
double percentileLinear(std::vector<double> values, double q);

// Cheapest transposition (design.md): d^2 = 2 min_{h, i != j live} ||r_i - r_j||^2 with the
// minimum located through the Gram matrix of the r_i (double) and its value recomputed
// directly for the winning pair (no cancellation).
struct NearestTransposition {
  double distance = 0.0;  // NaN if none
  int layer = -1;
  int i = -1;
  int j = -1;
};
NearestTransposition nearestTransposition(const MlpLayout& layout, const float* w,
                                          double deadUnitTolerance);

}  // namespace driftscope
