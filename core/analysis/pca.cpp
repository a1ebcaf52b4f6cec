#include "core/analysis/pca.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cassert>
#include <cmath>

namespace driftscope {
namespace {

// Below this fraction of a column's largest entry the first coordinate counts as zero for
// the sign convention.
constexpr double kSignTieFraction = 1e-9;

}  // namespace

std::vector<double> randomWalkExplainedRatio(int snapshots) {
  assert(snapshots >= 0);
  std::vector<double> ratio(static_cast<std::size_t>(snapshots), 0.0);
  const int rank = snapshots - 1;
  double sum = 0.0;
  for (int k = 1; k <= rank; ++k) sum += 1.0 / (static_cast<double>(k) * k);
  // 6/(pi^2 k^2) normalised over k = 1..C-1: the 6/pi^2 factor cancels.
  for (int k = 1; k <= rank; ++k) {
    ratio[static_cast<std::size_t>(k - 1)] = 1.0 / (static_cast<double>(k) * k) / sum;
  }
  return ratio;
}

PcaResult pcaFromGram(const MatrixD& gram, int components) {
  assert(gram.rows() == gram.cols());
  const Eigen::Index n = gram.rows();
  PcaResult out;
  out.randomWalkRatio = randomWalkExplainedRatio(static_cast<int>(n));
  const Eigen::Index k = std::clamp<Eigen::Index>(components, 0, n);
  out.projections = RowMatrixD::Zero(n, k);
  out.explainedRatio.assign(static_cast<std::size_t>(n), 0.0);
  if (n == 0) return out;

  // J G J without forming J: subtract row and column means, add back the grand mean.
  const VectorD rowMean = gram.rowwise().mean();
  const VectorD colMean = gram.colwise().mean().transpose();
  const double grandMean = gram.mean();
  MatrixD centred = gram;
  centred.colwise() -= rowMean;
  centred.rowwise() -= colMean.transpose();
  centred.array() += grandMean;
  centred = (0.5 * (centred + centred.transpose())).eval();  // exact symmetry for the solver

  const Eigen::SelfAdjointEigenSolver<MatrixD> solver(centred);
  assert(solver.info() == Eigen::Success);
  const VectorD& values = solver.eigenvalues();  // ascending
  const MatrixD& vectors = solver.eigenvectors();

  double total = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) total += std::max(0.0, values(i));
  for (Eigen::Index i = 0; i < n; ++i) {
    const double lambda = std::max(0.0, values(n - 1 - i));
    out.explainedRatio[static_cast<std::size_t>(i)] = total > 0.0 ? lambda / total : 0.0;
  }

  for (Eigen::Index c = 0; c < k; ++c) {
    const Eigen::Index src = n - 1 - c;
    const double scale = std::sqrt(std::max(0.0, values(src)));
    VectorD column = vectors.col(src) * scale;
    Eigen::Index largest = 0;
    const double maxAbs = column.cwiseAbs().maxCoeff(&largest);
    const bool firstIsZero = std::abs(column(0)) <= kSignTieFraction * maxAbs;
    const bool flip = firstIsZero ? column(largest) < 0.0 : column(0) > 0.0;
    if (flip) column = -column;
    out.projections.col(c) = column;
  }
  return out;
}

}  // namespace driftscope
