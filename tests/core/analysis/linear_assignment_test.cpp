#include "core/analysis/linear_assignment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace driftscope {
namespace {

constexpr double kCostTolerance = 1e-9;

bool isPermutation(const std::vector<int>& p, int n) {
  if (static_cast<int>(p.size()) != n) return false;
  std::vector<int> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < n; ++i) {
    if (sorted[static_cast<std::size_t>(i)] != i) return false;
  }
  return true;
}

double bruteForceMinCost(const MatrixD& cost) {
  const int n = static_cast<int>(cost.rows());
  std::vector<int> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  do {
    double total = 0.0;
    for (int i = 0; i < n; ++i) total += cost(i, p[static_cast<std::size_t>(i)]);
    best = std::min(best, total);
  } while (std::next_permutation(p.begin(), p.end()));
  return best;
}

double costOf(const MatrixD& cost, const std::vector<int>& p) {
  double total = 0.0;
  for (int i = 0; i < cost.rows(); ++i) total += cost(i, p[static_cast<std::size_t>(i)]);
  return total;
}

TEST(LinearAssignment, EmptyMatrixGivesEmptyAssignment) {
  const Assignment a = solveMinCostAssignment(MatrixD(0, 0));
  EXPECT_TRUE(a.rowToCol.empty());
  EXPECT_EQ(a.total, 0.0);
}

TEST(LinearAssignment, SingleEntryIsAssignedToItself) {
  MatrixD c(1, 1);
  c << -3.5;
  const Assignment a = solveMinCostAssignment(c);
  ASSERT_EQ(a.rowToCol.size(), 1u);
  EXPECT_EQ(a.rowToCol[0], 0);
  EXPECT_EQ(a.total, -3.5);
}

TEST(LinearAssignment, HandComputedThreeByThree) {
  MatrixD c(3, 3);
  c << 4, 1, 3,  //
      2, 0, 5,   //
      3, 2, 2;
  const Assignment a = solveMinCostAssignment(c);
  EXPECT_EQ(a.rowToCol, (std::vector<int>{1, 0, 2}));
  EXPECT_DOUBLE_EQ(a.total, 5.0);
}

TEST(LinearAssignment, MatchesBruteForceOnRandomRealMatricesWithNegatives) {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> entry(-10.0, 10.0);
  for (int n = 1; n <= 7; ++n) {
    for (int trial = 0; trial < 60; ++trial) {
      MatrixD c(n, n);
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) c(i, j) = entry(rng);
      }
      const Assignment a = solveMinCostAssignment(c);
      ASSERT_TRUE(isPermutation(a.rowToCol, n));
      EXPECT_NEAR(a.total, costOf(c, a.rowToCol), kCostTolerance);
      EXPECT_NEAR(a.total, bruteForceMinCost(c), kCostTolerance) << "n=" << n << "\n" << c;
    }
  }
}

TEST(LinearAssignment, MatchesBruteForceOnIntegerMatricesWithManyTies) {
  std::mt19937_64 rng(777);
  std::uniform_int_distribution<int> entry(-2, 2);  // few values: many tied optima
  for (int n = 1; n <= 7; ++n) {
    for (int trial = 0; trial < 60; ++trial) {
      MatrixD c(n, n);
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) c(i, j) = entry(rng);
      }
      const Assignment a = solveMinCostAssignment(c);
      ASSERT_TRUE(isPermutation(a.rowToCol, n));
      EXPECT_EQ(a.total, bruteForceMinCost(c)) << "n=" << n << "\n" << c;
    }
  }
}

TEST(LinearAssignment, ConstantMatrixGivesAnyPermutationAtTheCommonCost) {
  const MatrixD c = MatrixD::Constant(5, 5, 2.0);
  const Assignment a = solveMinCostAssignment(c);
  EXPECT_TRUE(isPermutation(a.rowToCol, 5));
  EXPECT_EQ(a.total, 10.0);
}

TEST(LinearAssignment, MaxSimilarityEqualsMinCostOfNegation) {
  std::mt19937_64 rng(99);
  std::normal_distribution<double> entry(0.0, 1.0);
  for (int trial = 0; trial < 50; ++trial) {
    const int n = 1 + trial % 7;
    MatrixD s(n, n);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) s(i, j) = entry(rng);
    }
    const Assignment a = solveMaxSimilarityAssignment(s);
    ASSERT_TRUE(isPermutation(a.rowToCol, n));
    EXPECT_NEAR(a.total, costOf(s, a.rowToCol), kCostTolerance);
    EXPECT_NEAR(a.total, -bruteForceMinCost(-s), kCostTolerance);
  }
}

TEST(LinearAssignment, RecoversHiddenPermutationAtLargeSize) {
  // Cost 0 on a planted permutation, positive elsewhere: the optimum is unique and known.
  constexpr int kN = 1024;
  std::mt19937_64 rng(2024);
  std::vector<int> planted(kN);
  std::iota(planted.begin(), planted.end(), 0);
  std::shuffle(planted.begin(), planted.end(), rng);  // any permutation will do here
  std::uniform_real_distribution<double> entry(0.5, 10.0);
  MatrixD c(kN, kN);
  for (int j = 0; j < kN; ++j) {
    for (int i = 0; i < kN; ++i) c(i, j) = entry(rng);
  }
  for (int i = 0; i < kN; ++i) c(i, planted[static_cast<std::size_t>(i)]) = 0.0;
  const Assignment a = solveMinCostAssignment(c);
  EXPECT_EQ(a.rowToCol, planted);
  EXPECT_EQ(a.total, 0.0);
}

TEST(LinearAssignment, RandomLargeMatrixGivesPermutationNoWorseThanIdentityOrGreedy) {
  constexpr int kN = 300;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> entry(-1.0, 1.0);
  MatrixD c(kN, kN);
  for (int j = 0; j < kN; ++j) {
    for (int i = 0; i < kN; ++i) c(i, j) = entry(rng);
  }
  const Assignment a = solveMinCostAssignment(c);
  ASSERT_TRUE(isPermutation(a.rowToCol, kN));
  std::vector<int> id(kN);
  std::iota(id.begin(), id.end(), 0);
  EXPECT_LE(a.total, costOf(c, id));
  // Greedy: each row takes its cheapest free column.
  std::vector<char> taken(kN, 0);
  std::vector<int> greedy(kN);
  for (int i = 0; i < kN; ++i) {
    int best = -1;
    for (int j = 0; j < kN; ++j) {
      if (!taken[static_cast<std::size_t>(j)] && (best < 0 || c(i, j) < c(i, best))) best = j;
    }
    taken[static_cast<std::size_t>(best)] = 1;
    greedy[static_cast<std::size_t>(i)] = best;
  }
  EXPECT_LE(a.total, costOf(c, greedy));
}

}  // namespace
}  // namespace driftscope
