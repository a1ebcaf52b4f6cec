#include "core/analysis/baseline.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <random>

#include "core/analysis/permutation.h"
#include "core/parallel.h"

namespace driftscope {

namespace {

constexpr int kSamplesPerChunk = 16;  // fixed: results must not depend on the thread count
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// SplitMix64 finaliser (Steele, Lea, Flood 2014): decorrelates the per-chunk seeds
// seed + c, which are adjacent integers.
std::uint64_t chunkSeed(std::uint64_t seed, int chunk) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (static_cast<std::uint64_t>(chunk) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// r_i of hidden layer h as the rows of an n x (in + 1 + outNext) double matrix.
RowMatrixD unitVectors(const MlpLayout& layout, const float* w, int h) {
  const ConstRowMatrixMap wIn = layout.weights(w, h);
  const ConstVectorMap b = layout.bias(w, h);
  const ConstRowMatrixMap wOut = layout.weights(w, h + 1);
  const int n = static_cast<int>(wIn.rows());
  RowMatrixD r(n, wIn.cols() + 1 + wOut.rows());
  r.leftCols(wIn.cols()) = wIn.cast<double>();
  r.col(wIn.cols()) = b.cast<double>();
  r.rightCols(wOut.rows()) = wOut.transpose().cast<double>();
  return r;
}

BaselineBand computeBaselineImpl(const MlpLayout& layout, const float* wRef,
                                 const BaselineOptions& options, ParallelContext* parallel) {
  assert(options.samples >= 0);
  BaselineBand band;
  const int samples = options.samples;
  band.samples.assign(static_cast<std::size_t>(samples), 0.0);
  const int chunks = (samples + kSamplesPerChunk - 1) / kSamplesPerChunk;
  auto runChunk = [&](int c) {
    std::mt19937_64 rng(chunkSeed(options.seed, c));
    const int end = std::min(samples, (c + 1) * kSamplesPerChunk);
    for (int k = c * kSamplesPerChunk; k < end; ++k) {
      const NetworkPermutation pi = random(layout, rng);
      band.samples[static_cast<std::size_t>(k)] =
          std::sqrt(permutedSquaredDistance(layout, wRef, wRef, pi));
    }
  };
  if (parallel) {
    parallel->forEach(chunks, runChunk);
  } else {
    for (int c = 0; c < chunks; ++c) runChunk(c);
  }

  if (samples > 0) {
    double sum = 0.0;
    for (double d : band.samples) sum += d;  // in draw order: deterministic
    band.mean = sum / samples;
  } else {
    band.mean = kNaN;
  }
  band.p05 = percentileLinear(band.samples, 0.05);
  band.p50 = percentileLinear(band.samples, 0.50);
  band.p95 = percentileLinear(band.samples, 0.95);
  band.exactRms = std::sqrt(std::max(0.0, exactMeanSquaredDistance(layout, wRef)));
  const NearestTransposition nearest =
      nearestTransposition(layout, wRef, options.deadUnitTolerance);
  band.nearestTransposition = nearest.distance;
  band.nearestLayer = nearest.layer;
  band.nearestI = nearest.i;
  band.nearestJ = nearest.j;
  return band;
}

}  // namespace

double percentileLinear(std::vector<double> values, double q) {
  assert(q >= 0.0 && q <= 1.0);
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double h = (static_cast<double>(values.size()) - 1.0) * q;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (h - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

double exactMeanSquaredDistance(const MlpLayout& layout, const float* w) {
  const int numLayers = layout.numLayers();
  double total = 0.0;
  for (int l = 0; l < numLayers; ++l) {
    const ConstRowMatrixMap wl = layout.weights(w, l);
    const ConstVectorMap b = layout.bias(w, l);
    const bool rowsPermuted = l < numLayers - 1;  // P_l, l = output side
    const bool colsPermuted = l > 0;              // P_{l-1}, input side
    const RowMatrixD x = wl.cast<double>();
    const double n = static_cast<double>(x.rows());
    const double m = static_cast<double>(x.cols());
    const double xNorm2 = x.squaredNorm();
    // tr(X^T E[P] X E[Q]^T) for the four cases of E[P], E[Q] in {I, 11^T/k}.
    double cross;
    if (rowsPermuted && colsPermuted) {
      const double s = x.sum();
      cross = s * s / (n * m);
    } else if (rowsPermuted) {
      cross = x.colwise().sum().squaredNorm() / n;
    } else if (colsPermuted) {
      cross = x.rowwise().sum().squaredNorm() / m;
    } else {
      cross = xNorm2;
    }
    total += 2.0 * xNorm2 - 2.0 * cross;
    if (rowsPermuted) {
      const VectorD bd = b.cast<double>();
      const double s = bd.sum();
      total += 2.0 * bd.squaredNorm() - 2.0 * s * s / n;
    }
  }
  return total;
}

NearestTransposition nearestTransposition(const MlpLayout& layout, const float* w,
                                          double deadUnitTolerance) {
  NearestTransposition best;
  best.distance = kNaN;
  double bestGramD2 = std::numeric_limits<double>::infinity();
  for (int h = 0; h < layout.numHiddenLayers(); ++h) {
    const RowMatrixD r = unitVectors(layout, w, h);
    std::vector<int> live;
    for (int i = 0; i < r.rows(); ++i) {
      if (r.row(i).cwiseAbs().maxCoeff() > deadUnitTolerance) live.push_back(i);
    }
    if (live.size() < 2) continue;
    const MatrixD gram = r * r.transpose();
    for (std::size_t a = 0; a < live.size(); ++a) {
      const int i = live[a];
      for (std::size_t c = a + 1; c < live.size(); ++c) {
        const int j = live[c];
        const double d2 = gram(i, i) + gram(j, j) - 2.0 * gram(i, j);
        if (d2 < bestGramD2) {
          bestGramD2 = d2;
          best.layer = h;
          best.i = i;
          best.j = j;
        }
      }
    }
  }
  if (best.layer >= 0) {
    const RowMatrixD r = unitVectors(layout, w, best.layer);
    best.distance = std::sqrt(2.0 * (r.row(best.i) - r.row(best.j)).squaredNorm());
  }
  return best;
}

BaselineBand computeBaseline(const MlpLayout& layout, const float* wRef,
                             const BaselineOptions& options) {
  return computeBaselineImpl(layout, wRef, options, nullptr);
}

BaselineBand computeBaseline(const MlpLayout& layout, const float* wRef,
                             const BaselineOptions& options, ParallelContext& parallel) {
  return computeBaselineImpl(layout, wRef, options, &parallel);
}

}  // namespace driftscope
