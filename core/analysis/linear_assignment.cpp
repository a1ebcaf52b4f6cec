#include "core/analysis/linear_assignment.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace driftscope {

namespace {

// Core solver on a row-major n x n buffer a (a[i * n + j]); sign = +1 minimises a,
// -1 minimises -a (i.e. maximises a) without materialising the negated copy.
// Shortest augmenting paths (Jonker & Volgenant 1987) in the form of D. F. Crouse, "On
// implementing 2D rectangular assignment algorithms", IEEE Trans. Aerospace and
// Electronic Systems 52(4), 2016 (also scipy's linear_sum_assignment): one Dijkstra-like
// search per row over reduced costs a(i,j) - u_i - v_j >= 0, scanning only the columns not
// yet reached (a list that shrinks by one per step), and applying the dual updates once
// per augmentation, to the visited rows and columns only. Among equally short paths an
// unassigned column is preferred (ends the search early).
std::vector<int> solveRowMajor(const std::vector<double>& a, int n, double sign) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const auto un = static_cast<std::size_t>(n);
  std::vector<double> u(un, 0.0), v(un, 0.0), shortest(un);
  std::vector<int> path(un, -1), colToRow(un, -1), rowToCol(un, -1), remaining(un);
  std::vector<int> visitedRows, visitedCols;
  visitedRows.reserve(un);
  visitedCols.reserve(un);

  for (int cur = 0; cur < n; ++cur) {
    // Columns in reverse order, as scipy: with ties the search then favours low indices.
    for (int it = 0; it < n; ++it) remaining[static_cast<std::size_t>(it)] = n - 1 - it;
    std::fill(shortest.begin(), shortest.end(), kInf);
    int numRemaining = n;
    double minVal = 0.0;
    int i = cur;
    int sink = -1;
    while (sink < 0) {
      visitedRows.push_back(i);
      const double* row = a.data() + static_cast<std::size_t>(i) * un;
      const double base = minVal - u[static_cast<std::size_t>(i)];
      int index = -1;
      double lowest = kInf;
      for (int it = 0; it < numRemaining; ++it) {
        const int j = remaining[static_cast<std::size_t>(it)];
        const auto uj = static_cast<std::size_t>(j);
        const double r = base + sign * row[uj] - v[uj];
        if (r < shortest[uj]) {
          path[uj] = i;
          shortest[uj] = r;
        }
        if (shortest[uj] < lowest || (shortest[uj] == lowest && colToRow[uj] < 0)) {
          lowest = shortest[uj];
          index = it;
        }
      }
      assert(index >= 0 && lowest < kInf && "non-finite cost in linear assignment");
      minVal = lowest;
      const int j = remaining[static_cast<std::size_t>(index)];
      const auto uj = static_cast<std::size_t>(j);
      if (colToRow[uj] < 0) {
        sink = j;
      } else {
        i = colToRow[uj];
      }
      visitedCols.push_back(j);
      remaining[static_cast<std::size_t>(index)] =
          remaining[static_cast<std::size_t>(--numRemaining)];
    }
    // Dual update on the visited rows and columns only.
    u[static_cast<std::size_t>(cur)] += minVal;
    for (const int r : visitedRows) {
      if (r == cur) continue;
      const auto ur = static_cast<std::size_t>(r);
      u[ur] += minVal - shortest[static_cast<std::size_t>(rowToCol[ur])];
    }
    for (const int c : visitedCols) {
      const auto uc = static_cast<std::size_t>(c);
      v[uc] -= minVal - shortest[uc];
    }
    visitedRows.clear();
    visitedCols.clear();
    // Augment along the alternating path from the sink back to row `cur`.
    int j = sink;
    while (true) {
      const int r = path[static_cast<std::size_t>(j)];
      colToRow[static_cast<std::size_t>(j)] = r;
      std::swap(rowToCol[static_cast<std::size_t>(r)], j);
      if (r == cur) break;
    }
  }
  return rowToCol;
}

Assignment solve(const Eigen::Ref<const MatrixD>& matrix, double sign) {
  assert(matrix.rows() == matrix.cols());
  assert(matrix.allFinite());
  const int n = static_cast<int>(matrix.rows());
  Assignment result;
  if (n == 0) return result;
  // Contiguous row-major copy: the inner loop scans one row.
  std::vector<double> a(static_cast<std::size_t>(n) * n);
  Eigen::Map<RowMatrixD>(a.data(), n, n) = matrix;
  result.rowToCol = solveRowMajor(a, n, sign);
  for (int i = 0; i < n; ++i) result.total += matrix(i, result.rowToCol[i]);
  return result;
}

}  // namespace

Assignment solveMinCostAssignment(const Eigen::Ref<const MatrixD>& cost) {
  return solve(cost, 1.0);
}

Assignment solveMaxSimilarityAssignment(const Eigen::Ref<const MatrixD>& similarity) {
  return solve(similarity, -1.0);
}

}  // namespace driftscope
