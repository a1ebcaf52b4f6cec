// PCA of the ring of snapshots from their C x C Gram matrix (design.md, "PCA of the ring"),
// never from the C x P data: centre, eigen-decompose, project.
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
  // lambda_i / sum_j lambda_j for ALL C eigenvalues of the centred Gram, descending;
  // negative eigenvalues (rounding) clamped to 0. Sums to 1 (all 0 if every snapshot is equal).
  std::vector<double> explainedRatio;
  // Reference spectrum of a random walk of the same length, same size as explainedRatio:
  // the asymptotic (many steps, many dimensions) result of Antognini & Sohl-Dickstein 2018,
  // "PCA of high dimensional random walks with comparison to neural network training",
  // ratio_k = 6 / (pi^2 k^2), renormalised to sum to 1 over the C-1 components a C-point
  // trajectory can have (the centred Gram has rank <= C-1); the last entry is 0.
  std::vector<double> randomWalkRatio;
};

// gram: C x C, G_ij = <s_i - a, s_j - a> for any anchor a (the centring removes it).
// Centres as G_c = J G J with J = I - 11^T/C (classical MDS / Gram-matrix PCA), takes the
// eigen-decomposition G_c = U Lambda U^T and returns projections U_k Lambda_k^{1/2}, so that
// projections * projections^T == G_c when components == C. components is clamped to [0, C].
PcaResult pcaFromGram(const MatrixD& gram, int components);

// The random-walk reference above for a trajectory of `snapshots` points.
std::vector<double> randomWalkExplainedRatio(int snapshots);

}  // namespace driftscope
