#include "core/analysis/pca.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "core/analysis/distance_matrix.h"
#include "core/parallel.h"
#include "tests/eigen_matchers.h"

namespace driftscope {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRandomWalkTol = 0.02;  // sampling spread of 1000 steps in 10,000 dims
constexpr double kExactTol = 1e-9;       // eigen-decomposition round-off

MatrixD gramOf(const RowMatrixD& points, const VectorD& anchor) {
  const RowMatrixD centred = points.rowwise() - anchor.transpose();
  return centred * centred.transpose();
}

MatrixD doubleCentred(const MatrixD& g) {
  const auto n = g.rows();
  const MatrixD j = MatrixD::Identity(n, n) - MatrixD::Constant(n, n, 1.0 / n);
  return j * g * j;
}

TEST(Pca, RandomWalkSpectrumMatchesAntogniniSohlDickstein) {
  constexpr int kSteps = 1000;
  constexpr int kDims = 10000;
  std::mt19937_64 rng(2018);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  RowMatrix walk(kSteps, kDims);  // float storage, as the ring
  walk.row(0).setZero();
  for (int t = 1; t < kSteps; ++t) {
    for (int k = 0; k < kDims; ++k) walk(t, k) = walk(t - 1, k) + normal(rng);
  }
  ParallelContext parallel(1);
  const MatrixD gram = anchoredGram(walk.data(), kSteps, kDims, walk.row(0).data(), parallel);
  const PcaResult pca = pcaFromGram(gram, 3);

  // C = 1000 > fullSolveMaxSnapshots: the leading spectrum by subspace iteration.
  EXPECT_TRUE(pca.partial);
  ASSERT_EQ(pca.explainedRatio.size(), static_cast<std::size_t>(PcaOptions{}.spectrumComponents));
  ASSERT_EQ(pca.randomWalkRatio.size(), pca.explainedRatio.size());
  EXPECT_NEAR(pca.explainedRatio[0], 6.0 / (kPi * kPi), kRandomWalkTol);        // 0.608
  EXPECT_NEAR(pca.explainedRatio[1], 6.0 / (4.0 * kPi * kPi), kRandomWalkTol);  // 0.152
  EXPECT_NEAR(pca.explainedRatio[2], 6.0 / (9.0 * kPi * kPi), kRandomWalkTol);  // 0.068
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(pca.explainedRatio[k], pca.randomWalkRatio[k], kRandomWalkTol) << "PC" << k + 1;
  }
  // PC1 of a random walk is close to a half cosine: it crosses zero once, mid-way.
  const VectorD pc1 = pca.projections.col(0);
  EXPECT_LE(pc1(0), 0.0);
  EXPECT_GT(pc1(kSteps - 1), 0.0);
}

TEST(Pca, RandomWalkReferenceIsNormalisedInverseSquare) {
  const std::vector<double> ratio = randomWalkExplainedRatio(5);
  ASSERT_EQ(ratio.size(), 5u);
  const double sum = 1.0 + 1.0 / 4 + 1.0 / 9 + 1.0 / 16;
  EXPECT_NEAR(ratio[0], 1.0 / sum, 1e-15);
  EXPECT_NEAR(ratio[3], 1.0 / 16 / sum, 1e-15);
  EXPECT_EQ(ratio[4], 0.0);
  EXPECT_NEAR(std::accumulate(ratio.begin(), ratio.end(), 0.0), 1.0, 1e-15);
  // Long trajectories approach the asymptotic 6/(pi^2 k^2).
  EXPECT_NEAR(randomWalkExplainedRatio(100000)[0], 6.0 / (kPi * kPi), 1e-5);
}

TEST(Pca, ProjectionsReproduceCentredGram) {
  constexpr int kPoints = 12;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(0.0, 1.0);
  RowMatrixD points(kPoints, 5);
  for (Eigen::Index i = 0; i < points.size(); ++i) points.data()[i] = normal(rng);
  VectorD anchor(5);
  for (Eigen::Index i = 0; i < anchor.size(); ++i) anchor(i) = normal(rng);
  const MatrixD gram = gramOf(points, anchor);
  const PcaResult pca = pcaFromGram(gram, kPoints);
  const MatrixD reproduced = pca.projections * pca.projections.transpose();
  EXPECT_EIGEN_NEAR(reproduced, doubleCentred(gram), kExactTol);

  // Only 5 dimensions: ratios beyond PC5 vanish, they sum to 1 and descend.
  EXPECT_NEAR(std::accumulate(pca.explainedRatio.begin(), pca.explainedRatio.end(), 0.0), 1.0,
              kExactTol);
  for (int k = 5; k < kPoints; ++k) EXPECT_NEAR(pca.explainedRatio[k], 0.0, kExactTol);
  for (int k = 1; k < kPoints; ++k) EXPECT_LE(pca.explainedRatio[k], pca.explainedRatio[k - 1]);

  // The anchor drops out: another anchor gives the same PCA.
  const PcaResult other = pcaFromGram(gramOf(points, VectorD::Zero(5)), 3);
  EXPECT_EIGEN_NEAR(other.projections, pca.projections.leftCols(3), kExactTol);

  // The projections are the centred points in an orthonormal basis: distances are kept.
  for (int i = 0; i < kPoints; ++i) {
    for (int j = 0; j < kPoints; ++j) {
      EXPECT_NEAR((pca.projections.row(i) - pca.projections.row(j)).norm(),
                  (points.row(i) - points.row(j)).norm(), kExactTol);
    }
  }
}

TEST(Pca, StraightLineIsAllPc1AndRunsForwardInTime) {
  constexpr int kPoints = 20;
  RowMatrixD points(kPoints, 4);
  const Eigen::RowVector4d direction(1.0, -2.0, 0.5, 3.0);
  for (int t = 0; t < kPoints; ++t)
    points.row(t) = 7.0 * Eigen::RowVector4d::Ones() + t * direction;
  const PcaResult pca = pcaFromGram(gramOf(points, points.row(5).transpose()), 2);
  EXPECT_NEAR(pca.explainedRatio[0], 1.0, kExactTol);
  EXPECT_NEAR(pca.explainedRatio[1], 0.0, kExactTol);
  // Coordinates are (t - mean t) * |direction|, increasing with time (sign convention).
  const double meanT = (kPoints - 1) / 2.0;
  for (int t = 0; t < kPoints; ++t) {
    EXPECT_NEAR(pca.projections(t, 0), (t - meanT) * direction.norm(), 1e-7) << "t=" << t;
    EXPECT_NEAR(pca.projections(t, 1), 0.0, 1e-6);
  }
}

TEST(Pca, SignConventionMakesOldestSnapshotNonPositive) {
  // Reversing time flips the raw eigenvector sign relation; the convention must hold anyway.
  std::mt19937_64 rng(4);
  std::normal_distribution<double> normal(0.0, 1.0);
  RowMatrixD points(15, 6);
  for (Eigen::Index i = 0; i < points.size(); ++i) points.data()[i] = normal(rng);
  const RowMatrixD reversed = points.colwise().reverse();
  for (const RowMatrixD* p : std::vector<const RowMatrixD*>{&points, &reversed}) {
    const PcaResult pca = pcaFromGram(gramOf(*p, VectorD::Zero(6)), 4);
    for (int c = 0; c < 4; ++c) EXPECT_LE(pca.projections(0, c), 0.0) << "PC" << c + 1;
  }
}

// Oracle for the partial (subspace-iteration) solver: the full dense solver on the same
// Gram matrix, at sizes where both run quickly.
TEST(Pca, PartialSolverMatchesFullSolverOnRandomWalk) {
  constexpr int kSteps = 300;
  constexpr int kDims = 2000;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  RowMatrixD walk(kSteps, kDims);
  walk.row(0).setZero();
  for (int t = 1; t < kSteps; ++t) {
    for (int k = 0; k < kDims; ++k) walk(t, k) = walk(t - 1, k) + normal(rng);
  }
  const MatrixD gram = gramOf(walk, VectorD::Zero(kDims));
  PcaOptions partialOnly;
  partialOnly.fullSolveMaxSnapshots = 0;
  const PcaResult partial = pcaFromGram(gram, 3, partialOnly);
  const PcaResult full = pcaFromGram(gram, 3);
  ASSERT_TRUE(partial.partial);
  ASSERT_FALSE(full.partial);
  ASSERT_EQ(full.explainedRatio.size(), static_cast<std::size_t>(kSteps));
  ASSERT_EQ(partial.explainedRatio.size(),
            static_cast<std::size_t>(partialOnly.spectrumComponents));
  for (std::size_t i = 0; i < partial.explainedRatio.size(); ++i) {
    EXPECT_NEAR(partial.explainedRatio[i], full.explainedRatio[i], kExactTol) << "PC" << i + 1;
    EXPECT_EQ(partial.randomWalkRatio[i], full.randomWalkRatio[i]);
  }
  const double scale = full.projections.cwiseAbs().maxCoeff();
  EXPECT_EIGEN_NEAR(partial.projections / scale, full.projections / scale, 1e-8);
}

TEST(Pca, PartialSolverResolvesLowRankSpectrumExactly) {
  constexpr int kPoints = 60;
  std::mt19937_64 rng(12);
  std::normal_distribution<double> normal(0.0, 1.0);
  RowMatrixD points(kPoints, 5);  // rank <= 5 after centring
  for (Eigen::Index i = 0; i < points.size(); ++i) points.data()[i] = normal(rng);
  PcaOptions partialOnly;
  partialOnly.fullSolveMaxSnapshots = 0;
  partialOnly.spectrumComponents = 8;
  const PcaResult pca = pcaFromGram(gramOf(points, VectorD::Zero(5)), 5, partialOnly);
  ASSERT_TRUE(pca.partial);
  ASSERT_EQ(pca.explainedRatio.size(), 8u);
  // The five non-zero eigenvalues carry all the variance (trace); the rest vanish.
  EXPECT_NEAR(std::accumulate(pca.explainedRatio.begin(), pca.explainedRatio.begin() + 5, 0.0), 1.0,
              kExactTol);
  for (int k = 5; k < 8; ++k) EXPECT_NEAR(pca.explainedRatio[k], 0.0, kExactTol);
  const MatrixD reproduced = pca.projections * pca.projections.transpose();
  EXPECT_EIGEN_NEAR(reproduced, doubleCentred(gramOf(points, VectorD::Zero(5))), 1e-8);
}

TEST(Pca, PartialSolverFallsBackToFullSolveWhenNotConverged) {
  std::mt19937_64 rng(13);
  std::normal_distribution<double> normal(0.0, 1.0);
  RowMatrixD points(40, 30);
  for (Eigen::Index i = 0; i < points.size(); ++i) points.data()[i] = normal(rng);
  PcaOptions impossible;
  impossible.fullSolveMaxSnapshots = 0;
  impossible.tolerance = 0.0;
  impossible.maxIterations = 1;
  const PcaResult pca = pcaFromGram(gramOf(points, VectorD::Zero(30)), 2, impossible);
  EXPECT_FALSE(pca.partial);
  EXPECT_EQ(pca.explainedRatio.size(), 40u);
  EXPECT_EIGEN_NEAR(pca.projections, pcaFromGram(gramOf(points, VectorD::Zero(30)), 2).projections,
                    kExactTol);
}

TEST(Pca, IdenticalSnapshotsGiveZeroSpectrum) {
  const MatrixD gram = MatrixD::Constant(4, 4, 2.5);  // four copies of one point
  const PcaResult pca = pcaFromGram(gram, 2);
  for (double r : pca.explainedRatio) EXPECT_EQ(r, 0.0);
  EXPECT_EIGEN_NEAR(pca.projections, RowMatrixD::Zero(4, 2), kExactTol);
}

}  // namespace
}  // namespace driftscope
