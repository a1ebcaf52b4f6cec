#include "core/analysis/linear_assignment.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace driftscope {

namespace {

// Core solver on a row-major n x n buffer a (a[i * n + j]); sign = +1 minimises a,
// -1 minimises -a (i.e. maximises a) without materialising the negated copy.
// 1-based internal indexing: column 0 and row 0 are the virtual source of each
// augmentation. Classical formulation with potentials u (rows), v (columns): reduced
// costs a(i,j) - u_i - v_j stay >= 0 on all edges and == 0 on matched ones.
std::vector<int> solveRowMajor(const std::vector<double>& a, int n, double sign) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const std::size_t m = static_cast<std::size_t>(n) + 1;
  std::vector<double> u(m, 0.0), v(m, 0.0), minv(m);
  std::vector<int> colToRow(m, 0), way(m, 0);  // colToRow[j]: 1-based row, 0 = free
  std::vector<char> used(m);
  for (int i = 1; i <= n; ++i) {
    colToRow[0] = i;
    int j0 = 0;
    std::fill(minv.begin(), minv.end(), kInf);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[j0] = 1;
      const int i0 = colToRow[j0];
      const double* row = a.data() + static_cast<std::size_t>(i0 - 1) * n - 1;  // row[j], j>=1
      const double ui0 = u[i0];
      double delta = kInf;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = sign * row[j] - ui0 - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      assert(j1 != 0 && "non-finite cost in linear assignment");
      for (int j = 0; j <= n; ++j) {
        if (used[j]) {
          u[colToRow[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (colToRow[j0] != 0);
    do {  // augment along the alternating path back to the virtual column 0
      const int j1 = way[j0];
      colToRow[j0] = colToRow[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> rowToCol(static_cast<std::size_t>(n), -1);
  for (int j = 1; j <= n; ++j) rowToCol[static_cast<std::size_t>(colToRow[j] - 1)] = j - 1;
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
