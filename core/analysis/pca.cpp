#include "core/analysis/pca.h"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "core/random.h"

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

namespace {

// Leading eigenpairs of a symmetric matrix, descending.
struct EigenPairs {
  VectorD values;   // descending
  MatrixD vectors;  // columns, orthonormal
};

EigenPairs fullSolve(const MatrixD& a, Eigen::Index keepVectors) {
  const Eigen::SelfAdjointEigenSolver<MatrixD> solver(a);
  assert(solver.info() == Eigen::Success);
  EigenPairs out;
  out.values = solver.eigenvalues().reverse();
  out.vectors = solver.eigenvectors().rightCols(keepVectors).rowwise().reverse();
  return out;
}

// Block subspace iteration with Rayleigh-Ritz (e.g. Saad, "Numerical Methods for Large
// Eigenvalue Problems", 2nd ed., 2011, sec. 5.2; Halko, Martinsson & Tropp 2011 for the
// oversampled random start): Q <- orth(A Q) with a block of `wanted` + oversampling
// columns; eigenvalue i converges like (lambda_{b+1} / lambda_i)^iterations. For a
// trajectory (spectrum ~ 1/k^2) and b = 2 * wanted that is ~0.25 per iteration.
// Returns false if the residuals did not reach the tolerance.
bool subspaceSolve(const MatrixD& a, Eigen::Index wanted, const PcaOptions& options,
                   EigenPairs& out) {
  const Eigen::Index n = a.rows();
  const Eigen::Index block = std::min<Eigen::Index>(n, 2 * wanted + 8);
  Rng rng(deriveSeed(0x5ca1ab1e, 0));  // fixed start: deterministic results
  MatrixD q(n, block);
  for (Eigen::Index i = 0; i < q.size(); ++i) q.data()[i] = standardNormal(rng);
  q = Eigen::HouseholderQR<MatrixD>(q).householderQ() * MatrixD::Identity(n, block);
  MatrixD y(n, block);
  for (int it = 0; it < options.maxIterations; ++it) {
    y.noalias() = a * q;
    MatrixD h = q.transpose() * y;
    h = (0.5 * (h + h.transpose())).eval();
    const Eigen::SelfAdjointEigenSolver<MatrixD> small(h);
    if (small.info() != Eigen::Success) return false;
    // Ritz pairs, descending: x = Q s, A x = Y s.
    const MatrixD s = small.eigenvectors().rowwise().reverse().leftCols(wanted);
    const VectorD theta = small.eigenvalues().reverse().head(wanted);
    const MatrixD x = q * s;
    const MatrixD ax = y * s;
    const double scale = std::max(std::abs(theta(0)), std::numeric_limits<double>::min());
    double worst = 0.0;
    for (Eigen::Index c = 0; c < wanted; ++c) {
      worst = std::max(worst, (ax.col(c) - theta(c) * x.col(c)).norm() / scale);
    }
    if (worst <= options.tolerance) {
      out.values = theta;
      out.vectors = x;
      return true;
    }
    q = Eigen::HouseholderQR<MatrixD>(y).householderQ() * MatrixD::Identity(n, block);
  }
  return false;
}

}  // namespace

PcaResult pcaFromGram(const MatrixD& gram, int components, const PcaOptions& options) {
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

  EigenPairs eig;
  double total = 0.0;  // sum of the (clamped) eigenvalues
  const Eigen::Index wanted =
      std::min<Eigen::Index>(n, std::max<Eigen::Index>(k, options.spectrumComponents));
  // Trace = sum of all eigenvalues: the total variance. Nothing to resolve if it is 0.
  const double trace = centred.trace();
  if (n > options.fullSolveMaxSnapshots && trace > 0.0 &&
      subspaceSolve(centred, wanted, options, eig)) {
    out.partial = true;
    total = trace;
    out.explainedRatio.resize(static_cast<std::size_t>(wanted));
    out.randomWalkRatio.resize(static_cast<std::size_t>(wanted));
  } else {
    eig = fullSolve(centred, k);
    for (Eigen::Index i = 0; i < n; ++i) total += std::max(0.0, eig.values(i));
  }
  for (std::size_t i = 0; i < out.explainedRatio.size(); ++i) {
    const double lambda = std::max(0.0, eig.values(static_cast<Eigen::Index>(i)));
    out.explainedRatio[i] = total > 0.0 ? lambda / total : 0.0;
  }

  for (Eigen::Index c = 0; c < k; ++c) {
    const double scale = std::sqrt(std::max(0.0, eig.values(c)));
    VectorD column = eig.vectors.col(c) * scale;
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
