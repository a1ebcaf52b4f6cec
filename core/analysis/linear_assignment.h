// Square linear assignment: find the permutation sigma minimising sum_i C(i, sigma(i))
// (or maximising a similarity). Shortest augmenting path with row/column potentials
// (Kuhn-Munkres in the Jonker-Volgenant formulation; R. Jonker, A. Volgenant, "A shortest
// augmenting path algorithm for dense and sparse linear assignment problems", Computing
// 38, 1987). O(n^3) time, O(n^2) memory for a row-major copy of the matrix, no recursion.
// Pure functions: thread-safe.
#pragma once

#include <vector>

#include "core/eigen_types.h"

namespace driftscope {

// Result of a linear assignment. Invariant: rowToCol is a permutation of 0..n-1;
// total = sum_i M(i, rowToCol[i]) of the matrix M that was passed in (cost or similarity),
// summed in double from the original entries (not from the potentials).
struct Assignment {
  std::vector<int> rowToCol;
  double total = 0.0;
};

// Minimum-cost assignment. cost must be square with finite entries (asserted); negative
// entries and ties are fine. n = 0 gives an empty assignment with total 0.
Assignment solveMinCostAssignment(const Eigen::Ref<const MatrixD>& cost);

// Maximum-similarity assignment: solveMinCostAssignment(-similarity), total reported as
// the similarity sum.
Assignment solveMaxSimilarityAssignment(const Eigen::Ref<const MatrixD>& similarity);

}  // namespace driftscope
