#include "core/analysis/alignment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/analysis/permutation.h"

namespace driftscope {
namespace {

constexpr double kZeroRelativeTolerance = 1e-6;
constexpr double kDistanceRelativeTolerance = 1e-10;  // double sums of float data

Vector randomParams(const MlpLayout& layout, std::uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  Vector w(static_cast<Eigen::Index>(layout.paramCount()));
  for (Eigen::Index k = 0; k < w.size(); ++k) w[k] = normal(rng);
  return w;
}

double norm(const Vector& w) { return w.cast<double>().norm(); }

double alignedDistanceOf(const MlpLayout& layout, const Vector& a, const Vector& b,
                         const NetworkPermutation& pi) {
  return (a.cast<double>() - apply(layout, pi, b).cast<double>()).norm();
}

TEST(Alignment, PermutedCopyAlignsToZeroAndRecoversInversePermutation) {
  const std::vector<std::vector<int>> shapes{
      {8, 16, 12, 4}, {10, 32, 4}, {6, 10, 10, 10, 3}, {20, 64, 64, 10}};
  std::mt19937_64 rng(1);
  std::uint64_t seed = 100;
  for (const std::vector<int>& sizes : shapes) {
    const MlpLayout layout(sizes);
    for (int trial = 0; trial < 3; ++trial) {
      const Vector w = randomParams(layout, ++seed);
      const NetworkPermutation pi = random(layout, rng);
      const Vector pw = apply(layout, pi, w);
      const AlignmentResult result = alignWeights(layout, w.data(), pw.data());
      ASSERT_TRUE(isValid(layout, result.perm));
      EXPECT_LE(result.distance, kZeroRelativeTolerance * norm(w)) << layout.toString();
      EXPECT_TRUE(isIdentity(compose(result.perm, pi))) << layout.toString();
      EXPECT_EQ(result.perm, inverse(pi));
      EXPECT_LT(result.sweeps, AlignmentOptions{}.maxSweeps);
    }
  }
}

TEST(Alignment, NoisyPermutedCopyRecoversInversePermutation) {
  const MlpLayout layout({12, 24, 16, 5});
  std::mt19937_64 rng(2);
  const Vector w = randomParams(layout, 3);
  const Vector noise = randomParams(layout, 4, 0.01f);
  const NetworkPermutation pi = random(layout, rng);
  const Vector b = apply(layout, pi, w) + noise;
  const AlignmentResult result = alignWeights(layout, w.data(), b.data());
  EXPECT_EQ(result.perm, inverse(pi));
  EXPECT_NEAR(result.distance, alignedDistanceOf(layout, w, b, inverse(pi)),
              kDistanceRelativeTolerance * norm(w));
  // pi^-1(b) = w + pi^-1(noise) up to float rounding of b: the noise norm.
  EXPECT_NEAR(result.distance, norm(noise), kZeroRelativeTolerance * norm(w));
}

TEST(Alignment, AlignedDistanceNeverExceedsUnalignedOnRandomPairs) {
  const std::vector<std::vector<int>> shapes{{4, 8, 3}, {5, 7, 6, 2}, {3, 5, 5, 5, 2}};
  std::uint64_t seed = 200;
  for (const std::vector<int>& sizes : shapes) {
    const MlpLayout layout(sizes);
    for (int trial = 0; trial < 20; ++trial) {
      const Vector a = randomParams(layout, ++seed);
      const Vector b = randomParams(layout, ++seed);
      const AlignmentResult result = alignWeights(layout, a.data(), b.data());
      const double d = unalignedDistance(layout, a.data(), b.data());
      EXPECT_LE(result.distance, d * (1.0 + kDistanceRelativeTolerance));
      EXPECT_NEAR(result.distance, alignedDistanceOf(layout, a, b, result.perm),
                  kDistanceRelativeTolerance * d);
      EXPECT_GE(result.identityFraction, 0.0);
      EXPECT_LE(result.identityFraction, 1.0);
    }
  }
}

TEST(Alignment, SingleHiddenLayerReachesBruteForceOptimum) {
  const MlpLayout layout({3, 5, 2});  // one assignment is exact: 5! = 120 candidates
  for (std::uint64_t seed = 300; seed < 320; seed += 2) {
    const Vector a = randomParams(layout, seed);
    const Vector b = randomParams(layout, seed + 1);
    NetworkPermutation pi = identity(layout);
    double best = std::numeric_limits<double>::infinity();
    do {
      best = std::min(best, alignedDistanceOf(layout, a, b, pi));
    } while (std::next_permutation(pi.hidden[0].begin(), pi.hidden[0].end()));
    const AlignmentResult result = alignWeights(layout, a.data(), b.data());
    EXPECT_NEAR(result.distance, best, kDistanceRelativeTolerance * best);
  }
}

TEST(Alignment, ConvergedResultIsOptimalInEachLayerSeparately) {
  // Coordinate descent's fixed point: no change of ONE layer's permutation helps.
  const MlpLayout layout({3, 5, 4, 2});
  for (std::uint64_t seed = 400; seed < 410; seed += 2) {
    const Vector a = randomParams(layout, seed);
    const Vector b = randomParams(layout, seed + 1);
    const AlignmentResult result = alignWeights(layout, a.data(), b.data());
    ASSERT_LT(result.sweeps, AlignmentOptions{}.maxSweeps);
    for (std::size_t h = 0; h < result.perm.hidden.size(); ++h) {
      NetworkPermutation pi = result.perm;
      std::sort(pi.hidden[h].begin(), pi.hidden[h].end());
      do {
        EXPECT_GE(alignedDistanceOf(layout, a, b, pi),
                  result.distance * (1.0 - kDistanceRelativeTolerance));
      } while (std::next_permutation(pi.hidden[h].begin(), pi.hidden[h].end()));
    }
  }
}

TEST(Alignment, IdenticalNetworksGiveIdentityAndFractionOne) {
  const MlpLayout layout({6, 9, 7, 3});
  const Vector w = randomParams(layout, 500);
  const AlignmentResult result = alignWeights(layout, w.data(), w.data());
  EXPECT_TRUE(isIdentity(result.perm));
  EXPECT_EQ(result.identityFraction, 1.0);
  EXPECT_EQ(result.distance, 0.0);
  EXPECT_EQ(result.sweeps, 1);
}

TEST(Alignment, IdentityFractionCountsFixedUnits) {
  const MlpLayout layout({4, 6, 2});
  const Vector w = randomParams(layout, 501);
  NetworkPermutation pi = identity(layout);
  std::swap(pi.hidden[0][1], pi.hidden[0][4]);  // 4 of 6 units stay put
  const Vector pw = apply(layout, pi, w);
  const AlignmentResult result = alignWeights(layout, w.data(), pw.data());
  EXPECT_EQ(result.perm, pi);  // a transposition is its own inverse
  EXPECT_DOUBLE_EQ(result.identityFraction, 4.0 / 6.0);
}

TEST(Alignment, NoHiddenLayerGivesUnalignedDistance) {
  const MlpLayout layout({5, 3});
  const Vector a = randomParams(layout, 600);
  const Vector b = randomParams(layout, 601);
  const AlignmentResult result = alignWeights(layout, a.data(), b.data());
  EXPECT_TRUE(result.perm.hidden.empty());
  EXPECT_EQ(result.sweeps, 0);
  EXPECT_EQ(result.identityFraction, 1.0);
  EXPECT_DOUBLE_EQ(result.distance, unalignedDistance(layout, a.data(), b.data()));
}

TEST(Alignment, UnalignedDistanceEqualsEuclideanNormInDouble) {
  const MlpLayout layout({7, 5, 3});
  const Vector a = randomParams(layout, 700);
  const Vector b = randomParams(layout, 701);
  const double expected = (a.cast<double>() - b.cast<double>()).norm();
  EXPECT_NEAR(unalignedDistance(layout, a.data(), b.data()), expected,
              kDistanceRelativeTolerance * expected);
  EXPECT_EQ(unalignedDistance(layout, a.data(), a.data()), 0.0);
}

TEST(Alignment, MaxSweepsBoundsTheIterations) {
  const MlpLayout layout({4, 10, 10, 10, 3});
  const Vector a = randomParams(layout, 800);
  const Vector b = randomParams(layout, 801);
  AlignmentOptions options;
  options.maxSweeps = 1;
  const AlignmentResult result = alignWeights(layout, a.data(), b.data(), options);
  EXPECT_EQ(result.sweeps, 1);
  EXPECT_LE(result.distance, unalignedDistance(layout, a.data(), b.data()));
}

}  // namespace
}  // namespace driftscope
