#include "core/analysis/linear_path.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/analysis/alignment.h"
#include "core/analysis/permutation.h"

namespace driftscope {
namespace {

constexpr double kHandTol = 1e-12;
constexpr double kEndpointRelTol = 1e-5;  // w_ref + 1 * (w_M - w_ref) != w_M in float
constexpr double kAlignedRelTol = 1e-5;   // permuted float sums

Vector randomParams(const MlpLayout& layout, std::uint64_t seed, float scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  Vector w(static_cast<Eigen::Index>(layout.paramCount()));
  for (Eigen::Index k = 0; k < w.size(); ++k) w[k] = normal(rng);
  return w;
}

struct EvalSet {
  RowMatrix x;
  std::vector<std::uint8_t> y;
};

EvalSet randomEvalSet(int rows, int cols, int classes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  EvalSet s{RowMatrix(rows, cols), std::vector<std::uint8_t>(static_cast<std::size_t>(rows))};
  for (Eigen::Index k = 0; k < s.x.size(); ++k) s.x.data()[k] = normal(rng);
  for (auto& label : s.y) label = static_cast<std::uint8_t>(rng() % classes);
  return s;
}

double meanLoss(const Mlp& mlp, const Vector& w, const EvalSet& s) {
  MlpWorkspace ws;
  const LossStats st = mlp.evaluate(w.data(), s.x, s.y, ws);
  return st.lossSum / st.count;
}

std::vector<double> evenT(int n) {
  std::vector<double> t(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) t[static_cast<std::size_t>(k)] = double(k) / (n - 1);
  return t;
}

TEST(PathBarrier, StraightLineHasZeroBarrier) {
  const std::vector<double> t = evenT(11);
  std::vector<double> loss;
  for (double tk : t) loss.push_back(2.0 - 1.5 * tk);
  EXPECT_NEAR(pathBarrier(t, loss), 0.0, kHandTol);
}

TEST(PathBarrier, BumpOnARampGivesItsHeight) {
  const std::vector<double> t = evenT(11);
  constexpr double kHeight = 0.37;
  std::vector<double> loss;
  for (double tk : t) loss.push_back(0.5 + 2.0 * tk);
  loss[5] += kHeight;
  EXPECT_NEAR(pathBarrier(t, loss), kHeight, kHandTol);
  // A smaller second bump does not change the maximum.
  loss[8] += 0.5 * kHeight;
  EXPECT_NEAR(pathBarrier(t, loss), kHeight, kHandTol);
}

TEST(PathBarrier, ValleyBelowTheLineGivesZero) {
  const std::vector<double> t = evenT(5);
  const std::vector<double> loss = {1.0, 0.6, 0.4, 0.6, 1.0};
  EXPECT_NEAR(pathBarrier(t, loss), 0.0, kHandTol);
}

TEST(LinearPath, EndpointsEqualLossesOfBothNetworks) {
  const Mlp mlp(MlpLayout({6, 10, 4}), Activation::kRelu, LossKind::kCrossEntropy);
  const EvalSet s = randomEvalSet(80, 6, 4, 1);
  const Vector wRef = randomParams(mlp.layout(), 2, 0.5f);
  const Vector wM = randomParams(mlp.layout(), 3, 0.5f);
  ParallelContext parallel(1);
  const PathResult r = linearPath(mlp, wRef.data(), wM.data(), nullptr, s.x, s.y, 7, parallel);
  ASSERT_EQ(r.t.size(), 7u);
  ASSERT_EQ(r.lossRaw.size(), 7u);
  EXPECT_TRUE(r.lossAligned.empty());
  EXPECT_EQ(r.t.front(), 0.0);
  EXPECT_EQ(r.t.back(), 1.0);
  EXPECT_DOUBLE_EQ(r.t[3], 0.5);
  const double l0 = meanLoss(mlp, wRef, s);
  const double l1 = meanLoss(mlp, wM, s);
  ASSERT_GT(std::abs(l1 - l0), 1e-3) << "endpoints must differ for the test to mean something";
  EXPECT_DOUBLE_EQ(r.lossRaw.front(), l0);
  EXPECT_NEAR(r.lossRaw.back(), l1, kEndpointRelTol * l1);
  EXPECT_NEAR(r.barrierRaw, pathBarrier(r.t, r.lossRaw), kHandTol);
  // Mid point: the loss of the averaged network.
  const Vector mid = wRef + 0.5f * (wM - wRef);
  EXPECT_NEAR(r.lossRaw[3], meanLoss(mlp, mid, s), kEndpointRelTol * r.lossRaw[3]);
}

TEST(LinearPath, AlignedPathToPermutedCopyIsFlat) {
  const Mlp mlp(MlpLayout({6, 12, 8, 3}), Activation::kRelu, LossKind::kCrossEntropy);
  const EvalSet s = randomEvalSet(60, 6, 3, 4);
  const Vector wRef = randomParams(mlp.layout(), 5, 0.6f);
  std::mt19937_64 rng(6);
  const Vector wM = apply(mlp.layout(), random(mlp.layout(), rng), wRef);
  const AlignmentResult a = alignWeights(mlp.layout(), wRef.data(), wM.data());
  const Vector wAligned = apply(mlp.layout(), a.perm, wM);
  ParallelContext parallel(2);
  const PathResult r =
      linearPath(mlp, wRef.data(), wM.data(), wAligned.data(), s.x, s.y, 9, parallel);
  const double lRef = meanLoss(mlp, wRef, s);
  ASSERT_EQ(r.lossAligned.size(), 9u);
  for (std::size_t k = 0; k < r.lossAligned.size(); ++k) {
    EXPECT_NEAR(r.lossAligned[k], lRef, kAlignedRelTol * lRef) << "t = " << r.t[k];
  }
  EXPECT_NEAR(r.barrierAligned, 0.0, kAlignedRelTol * lRef);
  // The raw path's endpoints are the same function, so its ends agree too.
  EXPECT_NEAR(r.lossRaw.back(), lRef, kAlignedRelTol * lRef);
}

TEST(LinearPath, SerialAndParallelGiveIdenticalLosses) {
  const Mlp mlp(MlpLayout({5, 9, 3}), Activation::kTanh, LossKind::kMse);
  const EvalSet s = randomEvalSet(30, 5, 3, 7);
  const Vector wRef = randomParams(mlp.layout(), 8, 0.5f);
  const Vector wM = randomParams(mlp.layout(), 9, 0.5f);
  ParallelContext one(1), two(2);
  const PathResult a = linearPath(mlp, wRef.data(), wM.data(), wM.data(), s.x, s.y, 11, one);
  const PathResult b = linearPath(mlp, wRef.data(), wM.data(), wM.data(), s.x, s.y, 11, two);
  EXPECT_EQ(a.lossRaw, b.lossRaw);
  EXPECT_EQ(a.lossAligned, b.lossAligned);
}

TEST(LinearPath, FewerThanTwoPointsBecomeTheEndpoints) {
  const Mlp mlp(MlpLayout({3, 4, 2}), Activation::kRelu, LossKind::kCrossEntropy);
  const EvalSet s = randomEvalSet(10, 3, 2, 10);
  const Vector w = randomParams(mlp.layout(), 11, 0.5f);
  ParallelContext parallel(1);
  const PathResult r = linearPath(mlp, w.data(), w.data(), nullptr, s.x, s.y, 1, parallel);
  EXPECT_EQ(r.t, (std::vector<double>{0.0, 1.0}));
}

}  // namespace
}  // namespace driftscope
