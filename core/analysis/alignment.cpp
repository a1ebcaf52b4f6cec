#include "core/analysis/alignment.h"

#include <cassert>
#include <cmath>

#include "core/analysis/linear_assignment.h"

namespace driftscope {

namespace {

// Relative slack before a new assignment counts as an improvement: guards against
// cycling between tied optima (coordinate descent must be monotone to terminate).
constexpr double kImprovementTolerance = 1e-12;

// Similarity S(i, k) = <r_i(a), r_k(b~)> for hidden layer h (see alignWeights).
MatrixD layerSimilarity(const MlpLayout& layout, const float* a, const float* b,
                        const NetworkPermutation& perm, int h) {
  const ConstRowMatrixMap aIn = layout.weights(a, h);
  const ConstRowMatrixMap bIn = layout.weights(b, h);
  const ConstRowMatrixMap aOut = layout.weights(a, h + 1);
  const ConstRowMatrixMap bOut = layout.weights(b, h + 1);
  const int n = static_cast<int>(aIn.rows());

  // b's W_h with columns permuted by perm_{h-1} (identity for the input layer).
  RowMatrixD bInPermuted(n, bIn.cols());
  if (h == 0) {
    bInPermuted = bIn.cast<double>();
  } else {
    const std::vector<int>& prev = perm.hidden[static_cast<std::size_t>(h - 1)];
    for (int j = 0; j < bIn.cols(); ++j) bInPermuted.col(j) = bIn.col(prev[j]).cast<double>();
  }
  // b's W_{h+1} with rows permuted by perm_{h+1} (identity for the output layer).
  RowMatrixD bOutPermuted(bOut.rows(), n);
  if (h + 1 == layout.numLayers() - 1) {
    bOutPermuted = bOut.cast<double>();
  } else {
    const std::vector<int>& next = perm.hidden[static_cast<std::size_t>(h) + 1];
    for (int i = 0; i < bOut.rows(); ++i) bOutPermuted.row(i) = bOut.row(next[i]).cast<double>();
  }

  MatrixD s = aIn.cast<double>() * bInPermuted.transpose();
  s.noalias() += aOut.cast<double>().transpose() * bOutPermuted;
  s.noalias() += layout.bias(a, h).cast<double>() * layout.bias(b, h).cast<double>().transpose();
  return s;
}

double assignmentValue(const MatrixD& s, const std::vector<int>& p) {
  double v = 0.0;
  for (int i = 0; i < s.rows(); ++i) v += s(i, p[static_cast<std::size_t>(i)]);
  return v;
}

}  // namespace

AlignmentResult alignWeights(const MlpLayout& layout, const float* a, const float* b,
                             const AlignmentOptions& options) {
  assert(options.maxSweeps >= 1);
  AlignmentResult result;
  result.perm = identity(layout);
  const int hiddenLayers = layout.numHiddenLayers();
  for (int sweep = 0; sweep < options.maxSweeps && hiddenLayers > 0; ++sweep) {
    ++result.sweeps;
    bool changed = false;
    for (int h = 0; h < hiddenLayers; ++h) {
      const MatrixD s = layerSimilarity(layout, a, b, result.perm, h);
      Assignment best = solveMaxSimilarityAssignment(s);
      std::vector<int>& current = result.perm.hidden[static_cast<std::size_t>(h)];
      const double currentValue = assignmentValue(s, current);
      const double scale = s.cwiseAbs().sum() + 1.0;
      if (best.rowToCol != current && best.total > currentValue + kImprovementTolerance * scale) {
        current = std::move(best.rowToCol);
        changed = true;
      }
    }
    if (!changed) break;
  }

  result.distance = std::sqrt(permutedSquaredDistance(layout, a, b, result.perm));
  std::size_t fixedUnits = 0;
  std::size_t units = 0;
  for (const std::vector<int>& p : result.perm.hidden) {
    for (std::size_t i = 0; i < p.size(); ++i) fixedUnits += p[i] == static_cast<int>(i);
    units += p.size();
  }
  result.identityFraction =
      units ? static_cast<double>(fixedUnits) / static_cast<double>(units) : 1.0;
  return result;
}

double unalignedDistance(const MlpLayout& layout, const float* a, const float* b) {
  double sum = 0.0;
  for (std::size_t k = 0; k < layout.paramCount(); ++k) {
    const double d = static_cast<double>(a[k]) - b[k];
    sum += d * d;
  }
  return std::sqrt(sum);
}

}  // namespace driftscope
