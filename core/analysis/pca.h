// PCA of the ring of snapshots from their C x C Gram matrix (design.md, "PCA of the ring"),
// never from the C x P data: centre, eigen-decompose, project.
// Up to PcaOptions::fullSolveMaxSnapshots snapshots the centred Gram is fully
// eigen-decomposed (O(C^3), ~50 ms at C = 500); above, only the leading eigenpairs are
// computed by block subspace iteration with Rayleigh-Ritz (O(C^2) per iteration; ~0.1-0.3 s
// at C = 2000 instead of ~5 s), and the variance ratios use the exact total variance, the
// trace of the centred Gram, which needs no eigen-solve. If the iteration does not
// converge to its tolerance, the full solver runs instead: the result is never approximate
// beyond that tolerance.
// Pure functions; safe to call from any thread.
#pragma once

#include <vector>

#include "core/eigen_types.h"

namespace driftscope {

struct PcaResult {
  // C x k coordinates of the snapshots on the first k principal components, rows in the
  // order of the Gram matrix (chronological). Sign convention: in every column the first
  // (oldest) snapshot has a coordinate <= 0, so PC1 runs from left to right in time; when
  // that coordinate is zero to rounding, the largest-magnitude entry is made positive.
  RowMatrixD projections;
  // lambda_i / sum_j lambda_j of the centred Gram's eigenvalues, descending; negative
  // eigenvalues (rounding) clamped to 0. Full solve: ALL C eigenvalues, summing to 1 (all 0
  // if every snapshot is equal). Partial solve (C > fullSolveMaxSnapshots): the leading
  // max(components, spectrumComponents) only, over the exact total trace(G_c); their sum
  // is the share of variance they explain (< 1).
  std::vector<double> explainedRatio;
  // Reference spectrum of a random walk of the same length, same size as explainedRatio:
  // the asymptotic (many steps, many dimensions) result of Antognini & Sohl-Dickstein 2018,
  // "PCA of high dimensional random walks with comparison to neural network training",
  // ratio_k = 6 / (pi^2 k^2), renormalised to sum to 1 over the C-1 components a C-point
  // trajectory can have (the centred Gram has rank <= C-1); the last entry is 0.
  // Truncated to the length of explainedRatio (the normalisation stays over C-1).
  std::vector<double> randomWalkRatio;
  bool partial = false;  // true: leading eigenpairs by subspace iteration (see above)
};

struct PcaOptions {
  // C up to this: full dense eigen-decomposition.
  int fullSolveMaxSnapshots = 512;
  // Partial solve: eigenvalues resolved at least (the variance chart shows 10).
  int spectrumComponents = 20;
  // Partial solve: stop when every wanted Ritz pair has ||G_c x - theta x|| <= tolerance *
  // theta_1; after maxIterations without that, fall back to the full solver.
  double tolerance = 1e-11;
  int maxIterations = 300;
};

// gram: C x C, G_ij = <s_i - a, s_j - a> for any anchor a (the centring removes it).
// Centres as G_c = J G J with J = I - 11^T/C (classical MDS / Gram-matrix PCA), takes the
// eigen-decomposition G_c = U Lambda U^T and returns projections U_k Lambda_k^{1/2}, so that
// projections * projections^T == G_c when components == C. components is clamped to [0, C].
PcaResult pcaFromGram(const MatrixD& gram, int components, const PcaOptions& options = {});

// The random-walk reference above for a trajectory of `snapshots` points.
std::vector<double> randomWalkExplainedRatio(int snapshots);

}  // namespace driftscope
