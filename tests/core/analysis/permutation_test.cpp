#include "core/analysis/permutation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "core/model/mlp.h"
#include "tests/eigen_matchers.h"
#include "tests/test_support.h"

namespace driftscope {
namespace {

constexpr double kForwardRelativeTolerance = 1e-5;  // float forward, reassociated sums
constexpr double kDistanceRelativeTolerance = 1e-12;

using testing::randomInputs;
using testing::randomParams;

// Independent reference forward pass in double (ReLU or tanh hidden, linear output).
RowMatrixD referenceForward(const MlpLayout& layout, const Vector& w, const RowMatrix& x,
                            bool relu) {
  RowMatrixD a = x.cast<double>();
  for (int l = 0; l < layout.numLayers(); ++l) {
    const RowMatrixD wl = layout.weights(w.data(), l).cast<double>();
    const VectorD bl = layout.bias(w.data(), l).cast<double>();
    RowMatrixD z = a * wl.transpose();
    z.rowwise() += bl.transpose();
    if (l + 1 < layout.numLayers()) {
      z = relu ? RowMatrixD(z.cwiseMax(0.0)) : RowMatrixD(z.array().tanh().matrix());
    }
    a = z;
  }
  return a;
}

// Explicit permutation matrix with P(i, perm[i]) = 1 (the documented convention).
MatrixD permutationMatrix(const std::vector<int>& perm) {
  const int n = static_cast<int>(perm.size());
  MatrixD p = MatrixD::Zero(n, n);
  for (int i = 0; i < n; ++i) p(i, perm[static_cast<std::size_t>(i)]) = 1.0;
  return p;
}

bool bitwiseEqual(const Vector& a, const Vector& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

TEST(Permutation, IdentityIsValidAndLeavesParamsBitwiseUnchanged) {
  const MlpLayout layout({4, 5, 3, 2});
  const Vector w = randomParams(layout, 1);
  const NetworkPermutation id = identity(layout);
  EXPECT_TRUE(isValid(layout, id));
  EXPECT_TRUE(isIdentity(id));
  EXPECT_TRUE(bitwiseEqual(apply(layout, id, w), w));
}

TEST(Permutation, NoHiddenLayerGivesEmptyPermutation) {
  const MlpLayout layout({3, 2});
  std::mt19937_64 rng(3);
  const NetworkPermutation pi = random(layout, rng);
  EXPECT_TRUE(pi.hidden.empty());
  const Vector w = randomParams(layout, 2);
  EXPECT_TRUE(bitwiseEqual(apply(layout, pi, w), w));
}

TEST(Permutation, RandomIsValidAndReproducibleForASeed) {
  const MlpLayout layout({3, 17, 9, 2});
  std::mt19937_64 rng1(42), rng2(42);
  for (int k = 0; k < 20; ++k) {
    const NetworkPermutation p1 = random(layout, rng1);
    EXPECT_TRUE(isValid(layout, p1));
    EXPECT_EQ(p1, random(layout, rng2));
  }
}

TEST(Permutation, RandomIsUniformOverAllOrderingsOfFourUnits) {
  const MlpLayout layout({2, 4, 1});
  constexpr int kDraws = 24000;
  constexpr double kExpected = kDraws / 24.0;
  std::mt19937_64 rng(7);
  std::map<std::vector<int>, int> counts;
  for (int k = 0; k < kDraws; ++k) ++counts[random(layout, rng).hidden[0]];
  ASSERT_EQ(counts.size(), 24u);
  // Pearson chi-square with 23 degrees of freedom; P(chi2 > 60) ~ 4e-5.
  double chi2 = 0.0;
  for (const auto& [perm, count] : counts)
    chi2 += (count - kExpected) * (count - kExpected) / kExpected;
  EXPECT_LT(chi2, 60.0);
}

TEST(Permutation, UniformBelowStaysInRangeAndHitsEveryValue) {
  std::mt19937_64 rng(11);
  std::vector<int> hits(7, 0);
  for (int k = 0; k < 7000; ++k) {
    const std::uint64_t v = uniformBelow(rng, 7);
    ASSERT_LT(v, 7u);
    ++hits[static_cast<std::size_t>(v)];
  }
  for (int h : hits) EXPECT_GT(h, 800);
  EXPECT_EQ(uniformBelow(rng, 1), 0u);
}

TEST(Permutation, ApplyMatchesMatrixDefinitionOnEveryLayer) {
  const MlpLayout layout({3, 4, 5, 2});
  const Vector w = randomParams(layout, 5);
  std::mt19937_64 rng(6);
  const NetworkPermutation pi = random(layout, rng);
  const Vector pw = apply(layout, pi, w);
  // W_l <- P_l W_l P_{l-1}^T, b_l <- P_l b_l with P_0 = P_L = I (design.md).
  std::vector<MatrixD> p;
  p.push_back(MatrixD::Identity(3, 3));
  for (const std::vector<int>& h : pi.hidden) p.push_back(permutationMatrix(h));
  p.push_back(MatrixD::Identity(2, 2));
  for (int l = 0; l < layout.numLayers(); ++l) {
    const MatrixD wl = layout.weights(w.data(), l).cast<double>();
    const MatrixD expectedW = p[l + 1] * wl * p[l].transpose();
    const VectorD expectedB = p[l + 1] * layout.bias(w.data(), l).cast<double>();
    EXPECT_EIGEN_NEAR(layout.weights(pw.data(), l).cast<double>(), expectedW, 0.0);
    EXPECT_EIGEN_NEAR(layout.bias(pw.data(), l).cast<double>(), expectedB, 0.0);
  }
}

TEST(Permutation, ApplyThenInverseRestoresParamsBitwise) {
  const MlpLayout layout({6, 8, 7, 5, 3});
  const Vector w = randomParams(layout, 8);
  std::mt19937_64 rng(9);
  for (int k = 0; k < 10; ++k) {
    const NetworkPermutation pi = random(layout, rng);
    EXPECT_TRUE(bitwiseEqual(apply(layout, inverse(pi), apply(layout, pi, w)), w));
    EXPECT_TRUE(bitwiseEqual(apply(layout, pi, apply(layout, inverse(pi), w)), w));
    EXPECT_TRUE(isIdentity(compose(pi, inverse(pi))));
    EXPECT_TRUE(isIdentity(compose(inverse(pi), pi)));
  }
}

TEST(Permutation, ComposeEqualsApplyingInnerThenOuter) {
  const MlpLayout layout({4, 6, 5, 3});
  const Vector w = randomParams(layout, 10);
  std::mt19937_64 rng(11);
  for (int k = 0; k < 10; ++k) {
    const NetworkPermutation outer = random(layout, rng);
    const NetworkPermutation inner = random(layout, rng);
    EXPECT_TRUE(bitwiseEqual(apply(layout, compose(outer, inner), w),
                             apply(layout, outer, apply(layout, inner, w))));
  }
}

TEST(Permutation, PermutedNetworkComputesSameFunctionInDoubleReference) {
  const MlpLayout layout({5, 8, 6, 3});
  const Vector w = randomParams(layout, 12);
  const RowMatrix x = randomInputs(32, 5, 13);
  std::mt19937_64 rng(14);
  for (bool relu : {true, false}) {
    const RowMatrixD y = referenceForward(layout, w, x, relu);
    for (int k = 0; k < 5; ++k) {
      const Vector pw = apply(layout, random(layout, rng), w);
      const RowMatrixD py = referenceForward(layout, pw, x, relu);
      EXPECT_EIGEN_NEAR(py, y, kForwardRelativeTolerance * (1.0 + y.cwiseAbs().maxCoeff()));
    }
  }
}

TEST(Permutation, PermutedNetworkGivesSameMlpForwardOutputs) {
  const MlpLayout layout({5, 16, 12, 4});
  const Vector w = randomParams(layout, 15);
  const RowMatrix x = randomInputs(64, 5, 16);
  std::mt19937_64 rng(17);
  for (Activation act : {Activation::kRelu, Activation::kTanh}) {
    const Mlp mlp(layout, act, LossKind::kCrossEntropy);
    MlpWorkspace ws;
    const RowMatrix y = mlp.forward(w.data(), x, ws);
    const RowMatrixD yRef = referenceForward(layout, w, x, act == Activation::kRelu);
    const double scale = 1.0 + yRef.cwiseAbs().maxCoeff();
    EXPECT_EIGEN_NEAR(y, yRef, kForwardRelativeTolerance * scale);  // reference is faithful
    for (int k = 0; k < 5; ++k) {
      const Vector pw = apply(layout, random(layout, rng), w);
      EXPECT_EIGEN_NEAR(mlp.forward(pw.data(), x, ws), y, kForwardRelativeTolerance * scale);
    }
  }
}

TEST(Permutation, PermutedSquaredDistanceEqualsMaterialisedDistance) {
  const MlpLayout layout({7, 9, 4, 3});
  const Vector a = randomParams(layout, 18);
  const Vector b = randomParams(layout, 19);
  std::mt19937_64 rng(20);
  for (int k = 0; k < 10; ++k) {
    const NetworkPermutation pi = random(layout, rng);
    const double expected = (a.cast<double>() - apply(layout, pi, b).cast<double>()).squaredNorm();
    EXPECT_NEAR(permutedSquaredDistance(layout, a.data(), b.data(), pi), expected,
                kDistanceRelativeTolerance * expected);
  }
  EXPECT_EQ(permutedSquaredDistance(layout, a.data(), a.data(), identity(layout)), 0.0);
}

TEST(Permutation, IsValidRejectsWrongSizesAndRepeats) {
  const MlpLayout layout({2, 3, 2});
  EXPECT_FALSE(isValid(layout, NetworkPermutation{}));
  EXPECT_FALSE(isValid(layout, NetworkPermutation{{{0, 1}}}));
  EXPECT_FALSE(isValid(layout, NetworkPermutation{{{0, 1, 1}}}));
  EXPECT_FALSE(isValid(layout, NetworkPermutation{{{0, 1, 3}}}));
  EXPECT_TRUE(isValid(layout, NetworkPermutation{{{2, 0, 1}}}));
}

}  // namespace
}  // namespace driftscope
