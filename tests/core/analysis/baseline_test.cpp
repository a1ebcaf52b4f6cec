#include "core/analysis/baseline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <vector>

#include "core/analysis/permutation.h"
#include "core/parallel.h"

namespace driftscope {
namespace {

constexpr double kExactRelativeTolerance = 1e-10;  // double sums of float data
constexpr double kMonteCarloStandardErrors = 3.0;

Vector randomParams(const MlpLayout& layout, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.3f, 1.0f);  // nonzero mean: E[P] terms matter
  Vector w(static_cast<Eigen::Index>(layout.paramCount()));
  for (Eigen::Index k = 0; k < w.size(); ++k) w[k] = normal(rng);
  return w;
}

// Calls visit(pi) for every NetworkPermutation of the layout (product of all orderings).
void forEachPermutation(const MlpLayout& layout,
                        const std::function<void(const NetworkPermutation&)>& visit) {
  NetworkPermutation pi = identity(layout);
  std::function<void(std::size_t)> recurse = [&](std::size_t h) {
    if (h == pi.hidden.size()) {
      visit(pi);
      return;
    }
    std::sort(pi.hidden[h].begin(), pi.hidden[h].end());
    do {
      recurse(h + 1);
    } while (std::next_permutation(pi.hidden[h].begin(), pi.hidden[h].end()));
  };
  recurse(0);
}

// Brute-force cheapest transposition over live units; returns d^2 (inf if none).
double bruteForceCheapestTransposition(const MlpLayout& layout, const Vector& w,
                                       const std::vector<std::vector<bool>>& dead) {
  double best = std::numeric_limits<double>::infinity();
  for (int h = 0; h < layout.numHiddenLayers(); ++h) {
    const int n = layout.sizes()[static_cast<std::size_t>(h + 1)];
    for (int i = 0; i < n; ++i) {
      for (int j = i + 1; j < n; ++j) {
        if (!dead.empty() && (dead[h][i] || dead[h][j])) continue;
        NetworkPermutation pi = identity(layout);
        std::swap(pi.hidden[h][i], pi.hidden[h][j]);
        best = std::min(best, permutedSquaredDistance(layout, w.data(), w.data(), pi));
      }
    }
  }
  return best;
}

TEST(Baseline, ExactMeanSquareEqualsAverageOverAllPermutationsOfTwoHiddenLayers) {
  const MlpLayout layout({2, 3, 3, 2});  // 3! * 3! = 36 permutations
  const Vector w = randomParams(layout, 1);
  double sum = 0.0;
  int count = 0;
  forEachPermutation(layout, [&](const NetworkPermutation& pi) {
    sum += permutedSquaredDistance(layout, w.data(), w.data(), pi);
    ++count;
  });
  ASSERT_EQ(count, 36);
  const double exact = exactMeanSquaredDistance(layout, w.data());
  EXPECT_NEAR(exact, sum / count, kExactRelativeTolerance * exact);
}

TEST(Baseline, ExactMeanSquareEqualsAverageOverAllPermutationsOfThreeHiddenLayers) {
  const MlpLayout layout({3, 4, 2, 3, 2});  // 4! * 2! * 3! = 288 permutations
  const Vector w = randomParams(layout, 2);
  double sum = 0.0;
  int count = 0;
  forEachPermutation(layout, [&](const NetworkPermutation& pi) {
    sum += permutedSquaredDistance(layout, w.data(), w.data(), pi);
    ++count;
  });
  ASSERT_EQ(count, 288);
  const double exact = exactMeanSquaredDistance(layout, w.data());
  EXPECT_NEAR(exact, sum / count, kExactRelativeTolerance * exact);
}

TEST(Baseline, ExactMeanSquareIsZeroWithoutHiddenLayers) {
  const MlpLayout layout({4, 3});
  const Vector w = randomParams(layout, 3);
  EXPECT_NEAR(exactMeanSquaredDistance(layout, w.data()), 0.0, 1e-12);
}

TEST(Baseline, MonteCarloMeanSquareWithinThreeStandardErrorsOfExact) {
  const MlpLayout layout({4, 6, 5, 3});
  const Vector w = randomParams(layout, 4);
  BaselineOptions options;
  options.samples = 2000;
  options.seed = 5;
  const BaselineBand band = computeBaseline(layout, w.data(), options);
  ASSERT_EQ(band.samples.size(), 2000u);
  double sum = 0.0, sumSq = 0.0;
  for (double d : band.samples) {
    sum += d * d;
    sumSq += d * d * d * d;
  }
  const double n = static_cast<double>(band.samples.size());
  const double mean = sum / n;
  const double standardError = std::sqrt((sumSq / n - mean * mean) / (n - 1.0));
  const double exact = band.exactRms * band.exactRms;
  EXPECT_NEAR(mean, exact, kMonteCarloStandardErrors * standardError);
  EXPECT_NEAR(band.exactRms, std::sqrt(exactMeanSquaredDistance(layout, w.data())), 1e-12);
}

TEST(Baseline, BandStatisticsDescribeTheSamples) {
  const MlpLayout layout({3, 7, 4, 2});
  const Vector w = randomParams(layout, 6);
  BaselineOptions options;
  options.samples = 101;
  options.seed = 7;
  const BaselineBand band = computeBaseline(layout, w.data(), options);
  std::vector<double> sorted = band.samples;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_DOUBLE_EQ(band.p50, sorted[50]);  // (n-1) * 0.5 = 50: an order statistic
  EXPECT_DOUBLE_EQ(band.p05, sorted[5]);
  EXPECT_DOUBLE_EQ(band.p95, sorted[95]);
  EXPECT_NEAR(band.mean, std::accumulate(sorted.begin(), sorted.end(), 0.0) / 101.0, 1e-12);
  // Every sample is the distance of a real permutation: never negative, at most ||w|| * 2.
  const double bound = 2.0 * w.cast<double>().norm();
  for (double d : band.samples) {
    EXPECT_GE(d, 0.0);
    EXPECT_LE(d, bound);
  }
}

TEST(Baseline, PercentileUsesNumpyLinearInterpolation) {
  // numpy.percentile([4, 1, 3, 2], [5, 50, 95]) == [1.15, 2.5, 3.85]
  const std::vector<double> v{4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(percentileLinear(v, 0.05), 1.15);
  EXPECT_DOUBLE_EQ(percentileLinear(v, 0.50), 2.5);
  EXPECT_DOUBLE_EQ(percentileLinear(v, 0.95), 3.85);
  EXPECT_DOUBLE_EQ(percentileLinear(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(percentileLinear(v, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(percentileLinear({7.0}, 0.3), 7.0);
  EXPECT_TRUE(std::isnan(percentileLinear({}, 0.5)));
}

TEST(Baseline, ZeroSamplesGiveNaNStatisticsButExactValues) {
  const MlpLayout layout({3, 4, 2});
  const Vector w = randomParams(layout, 8);
  BaselineOptions options;
  options.samples = 0;
  const BaselineBand band = computeBaseline(layout, w.data(), options);
  EXPECT_TRUE(band.samples.empty());
  EXPECT_TRUE(std::isnan(band.mean));
  EXPECT_TRUE(std::isnan(band.p50));
  EXPECT_GT(band.exactRms, 0.0);
  EXPECT_GT(band.nearestTransposition, 0.0);
}

TEST(Baseline, ParallelEqualsSerialBitwiseForAnyThreadCount) {
  const MlpLayout layout({5, 9, 7, 3});
  const Vector w = randomParams(layout, 9);
  BaselineOptions options;
  options.samples = 101;  // not a multiple of the chunk size
  options.seed = 10;
  const BaselineBand serial = computeBaseline(layout, w.data(), options);
  for (int threads : {1, 2, 3}) {
    ParallelContext parallel(threads);
    const BaselineBand band = computeBaseline(layout, w.data(), options, parallel);
    ASSERT_EQ(band.samples.size(), serial.samples.size());
    EXPECT_EQ(std::memcmp(band.samples.data(), serial.samples.data(),
                          sizeof(double) * serial.samples.size()),
              0)
        << "threads=" << threads;
    EXPECT_EQ(band.mean, serial.mean);
    EXPECT_EQ(band.p95, serial.p95);
  }
}

TEST(Baseline, SeedDeterminesSamples) {
  const MlpLayout layout({3, 8, 2});
  const Vector w = randomParams(layout, 11);
  BaselineOptions options;
  options.samples = 40;
  options.seed = 12;
  const BaselineBand a = computeBaseline(layout, w.data(), options);
  const BaselineBand b = computeBaseline(layout, w.data(), options);
  EXPECT_EQ(a.samples, b.samples);
  options.seed = 13;
  EXPECT_NE(computeBaseline(layout, w.data(), options).samples, a.samples);
}

TEST(Baseline, CheapestTranspositionEqualsBruteForceOverAllTranspositions) {
  for (std::uint64_t seed = 20; seed < 30; ++seed) {
    const MlpLayout layout({3, 6, 5, 4, 2});
    const Vector w = randomParams(layout, seed);
    const NearestTransposition nearest = nearestTransposition(layout, w.data(), 1e-12);
    const double expectedD2 = bruteForceCheapestTransposition(layout, w, {});
    EXPECT_NEAR(nearest.distance * nearest.distance, expectedD2,
                kExactRelativeTolerance * expectedD2);
    ASSERT_GE(nearest.layer, 0);
    ASSERT_LT(nearest.i, nearest.j);
    NetworkPermutation pi = identity(layout);
    std::swap(pi.hidden[nearest.layer][nearest.i], pi.hidden[nearest.layer][nearest.j]);
    EXPECT_NEAR(permutedSquaredDistance(layout, w.data(), w.data(), pi), expectedD2,
                kExactRelativeTolerance * expectedD2);
  }
}

TEST(Baseline, DeadUnitsAreSkippedInCheapestTransposition) {
  const MlpLayout layout({3, 6, 4, 2});
  Vector w = randomParams(layout, 31);
  // Kill units 1 and 4 of hidden layer 0: zero row of W_0, b_0 entry, column of W_1.
  for (int unit : {1, 4}) {
    layout.weights(w.data(), 0).row(unit).setZero();
    layout.bias(w.data(), 0)[unit] = 0.0f;
    layout.weights(w.data(), 1).col(unit).setZero();
  }
  std::vector<std::vector<bool>> dead{std::vector<bool>(6, false), std::vector<bool>(4, false)};
  dead[0][1] = dead[0][4] = true;
  // Swapping the two dead units is free and would give d = 0 if not skipped.
  EXPECT_EQ(bruteForceCheapestTransposition(layout, w, {}), 0.0);
  const double expectedD2 = bruteForceCheapestTransposition(layout, w, dead);
  ASSERT_GT(expectedD2, 0.0);
  BaselineOptions options;
  options.samples = 10;
  const BaselineBand band = computeBaseline(layout, w.data(), options);
  EXPECT_NEAR(band.nearestTransposition * band.nearestTransposition, expectedD2,
              kExactRelativeTolerance * expectedD2);
  EXPECT_FALSE(band.nearestLayer == 0 && (band.nearestI == 1 || band.nearestI == 4 ||
                                          band.nearestJ == 1 || band.nearestJ == 4));
}

TEST(Baseline, FewerThanTwoLiveUnitsGivesNaNAndNoIndices) {
  {
    const MlpLayout layout({3, 1, 2});  // one hidden unit: nothing to swap
    const Vector w = randomParams(layout, 40);
    const BaselineBand band = computeBaseline(layout, w.data(), BaselineOptions{});
    EXPECT_TRUE(std::isnan(band.nearestTransposition));
    EXPECT_EQ(band.nearestLayer, -1);
    EXPECT_EQ(band.nearestI, -1);
    EXPECT_EQ(band.nearestJ, -1);
    EXPECT_EQ(band.exactRms, 0.0);
  }
  {
    const MlpLayout layout({2, 3, 2});  // three units, two dead
    Vector w = randomParams(layout, 41);
    for (int unit : {0, 2}) {
      layout.weights(w.data(), 0).row(unit).setZero();
      layout.bias(w.data(), 0)[unit] = 0.0f;
      layout.weights(w.data(), 1).col(unit).setZero();
    }
    const NearestTransposition nearest = nearestTransposition(layout, w.data(), 1e-12);
    EXPECT_TRUE(std::isnan(nearest.distance));
    EXPECT_EQ(nearest.layer, -1);
  }
  {
    const MlpLayout layout({4, 3});  // no hidden layer at all
    const Vector w = randomParams(layout, 42);
    const BaselineBand band = computeBaseline(layout, w.data(), BaselineOptions{});
    EXPECT_TRUE(std::isnan(band.nearestTransposition));
    for (double d : band.samples) EXPECT_EQ(d, 0.0);
  }
}

}  // namespace
}  // namespace driftscope
