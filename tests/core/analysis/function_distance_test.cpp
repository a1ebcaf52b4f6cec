#include "core/analysis/function_distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/analysis/permutation.h"
#include "tests/eigen_matchers.h"
#include "tests/test_support.h"

namespace driftscope {
namespace {

constexpr double kExactTol = 1e-12;      // same float logits on both sides
constexpr double kKlRelativeTol = 1e-4;  // float forward vs the double oracle
constexpr double kPermutedKlTol = 1e-9;  // reassociated float sums after permuting
constexpr double kLogSoftmaxTol = 1e-12;

using testing::randomInputs;
using testing::randomParams;

// Independent forward pass in double (ReLU hidden, linear output).
RowMatrixD forwardDouble(const MlpLayout& layout, const Vector& w, const RowMatrix& x) {
  RowMatrixD a = x.cast<double>();
  for (int l = 0; l < layout.numLayers(); ++l) {
    RowMatrixD z = a * layout.weights(w.data(), l).cast<double>().transpose();
    z.rowwise() += layout.bias(w.data(), l).cast<double>().transpose();
    if (l + 1 < layout.numLayers()) z = z.cwiseMax(0.0);
    a = z;
  }
  return a;
}

// Brute force: softmax by definition, then mean_i sum_k p_k (log p_k - log q_k).
FunctionDistance bruteForce(const MlpLayout& layout, const Vector& wRef, const Vector& wM,
                            const RowMatrix& x) {
  const RowMatrixD zr = forwardDouble(layout, wRef, x);
  const RowMatrixD zm = forwardDouble(layout, wM, x);
  FunctionDistance d;
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const VectorD p = (zr.row(i).array().exp() / zr.row(i).array().exp().sum()).transpose();
    const VectorD q = (zm.row(i).array().exp() / zm.row(i).array().exp().sum()).transpose();
    Eigen::Index ar = 0, am = 0;
    zr.row(i).maxCoeff(&ar);
    zm.row(i).maxCoeff(&am);
    if (ar != am) d.disagreement += 1.0;
    for (Eigen::Index k = 0; k < p.size(); ++k) d.kl += p[k] * std::log(p[k] / q[k]);
  }
  d.disagreement /= static_cast<double>(x.rows());
  d.kl /= static_cast<double>(x.rows());
  return d;
}

TEST(FunctionDistance, IdenticalWeightsGiveZero) {
  const Mlp mlp(MlpLayout({6, 8, 4}), Activation::kRelu, LossKind::kCrossEntropy);
  const Vector w = randomParams(mlp.layout(), 1, 0.7f);
  const RowMatrix x = randomInputs(50, 6, 2);
  MlpWorkspace ws;
  const FunctionReference ref = makeFunctionReference(mlp, w.data(), x, ws);
  const FunctionDistance d = functionDistance(mlp, ref, w.data(), x, ws);
  EXPECT_EQ(d.disagreement, 0.0);
  EXPECT_NEAR(d.kl, 0.0, kExactTol);
}

TEST(FunctionDistance, MatchesBruteForceOnTinyNet) {
  const Mlp mlp(MlpLayout({5, 7, 3}), Activation::kRelu, LossKind::kCrossEntropy);
  const RowMatrix x = randomInputs(40, 5, 3);
  const Vector wRef = randomParams(mlp.layout(), 4, 0.8f);
  MlpWorkspace ws;
  const FunctionReference ref = makeFunctionReference(mlp, wRef.data(), x, ws);
  for (std::uint64_t seed : {5, 6, 7}) {
    // Nearby (perturbed) and unrelated networks.
    const Vector wM = seed == 7 ? randomParams(mlp.layout(), seed, 0.8f)
                                : Vector(wRef + randomParams(mlp.layout(), seed, 0.3f));
    const FunctionDistance expected = bruteForce(mlp.layout(), wRef, wM, x);
    const FunctionDistance d = functionDistance(mlp, ref, wM.data(), x, ws);
    SCOPED_TRACE("seed " + std::to_string(seed));
    ASSERT_GT(expected.kl, 1e-3) << "the oracle case must be non-trivial";
    EXPECT_NEAR(d.kl, expected.kl, kKlRelativeTol * expected.kl);
    EXPECT_DOUBLE_EQ(d.disagreement, expected.disagreement);
  }
}

TEST(FunctionDistance, DisagreementCountsDifferingPredictions) {
  // Two inputs, one-layer net with hand-made logits: wM flips the second input only.
  const Mlp mlp(MlpLayout({2, 2}), Activation::kRelu, LossKind::kCrossEntropy);
  // W = I, b = 0: logits = x. wM: W = [[1, 0], [0, 1]], b = (0, 2).
  Vector wRef(6), wM(6);
  wRef << 1, 0, 0, 1, 0, 0;
  wM << 1, 0, 0, 1, 0, 2;
  RowMatrix x(2, 2);
  x << 5, 0,  // class 0 under both (5 vs 0, 5 vs 2)
      1, 0;   // class 0 under ref, class 1 under wM (1 vs 2)
  MlpWorkspace ws;
  const FunctionReference ref = makeFunctionReference(mlp, wRef.data(), x, ws);
  EXPECT_EQ(ref.predictions, (std::vector<int>{0, 0}));
  const FunctionDistance d = functionDistance(mlp, ref, wM.data(), x, ws);
  EXPECT_DOUBLE_EQ(d.disagreement, 0.5);
  EXPECT_GT(d.kl, 0.0);
}

TEST(FunctionDistance, PermutedNetworkHasZeroDistance) {
  const Mlp mlp(MlpLayout({6, 9, 7, 4}), Activation::kRelu, LossKind::kCrossEntropy);
  const Vector w = randomParams(mlp.layout(), 8, 0.6f);
  const RowMatrix x = randomInputs(64, 6, 9);
  std::mt19937_64 rng(10);
  MlpWorkspace ws;
  const FunctionReference ref = makeFunctionReference(mlp, w.data(), x, ws);
  for (int trial = 0; trial < 5; ++trial) {
    const NetworkPermutation pi = random(mlp.layout(), rng);
    ASSERT_FALSE(isIdentity(pi));
    const Vector wp = apply(mlp.layout(), pi, w);
    ASSERT_GT((wp - w).norm(), 1.0f) << "the permutation must move the weights";
    const FunctionDistance d = functionDistance(mlp, ref, wp.data(), x, ws);
    EXPECT_EQ(d.disagreement, 0.0);
    EXPECT_NEAR(d.kl, 0.0, kPermutedKlTol);
  }
}

TEST(FunctionDistance, LogSoftmaxRowsNormalisesAndSurvivesLargeLogits) {
  RowMatrix logits(3, 3);
  logits << 1, 2, 3,    //
      1000, 1000, 999,  // would overflow exp without the max shift
      -1000, -1001, -1002;
  const RowMatrixD ls = logSoftmaxRows(logits);
  for (Eigen::Index i = 0; i < 3; ++i) {
    EXPECT_NEAR(ls.row(i).array().exp().sum(), 1.0, kLogSoftmaxTol) << i;
  }
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  RowMatrixD expected(1, 3);
  expected << 1 - lse, 2 - lse, 3 - lse;
  EXPECT_EIGEN_NEAR(RowMatrixD(ls.topRows(1)), expected, kLogSoftmaxTol);
  EXPECT_NEAR(ls(1, 2) - ls(1, 0), -1.0, kLogSoftmaxTol);
}

}  // namespace
}  // namespace driftscope
