#include "core/analysis/function_distance.h"

#include <cassert>
#include <cmath>

namespace driftscope {

RowMatrixD logSoftmaxRows(const RowMatrix& logits) {
  RowMatrixD out(logits.rows(), logits.cols());
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    const double m = logits.row(i).maxCoeff();
    double sum = 0.0;
    for (Eigen::Index k = 0; k < logits.cols(); ++k) sum += std::exp(logits(i, k) - m);
    const double lse = m + std::log(sum);
    for (Eigen::Index k = 0; k < logits.cols(); ++k) out(i, k) = logits(i, k) - lse;
  }
  return out;
}

namespace {
std::vector<int> argmaxRows(const RowMatrix& logits) {
  std::vector<int> out(static_cast<std::size_t>(logits.rows()));
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    Eigen::Index k = 0;
    logits.row(i).maxCoeff(&k);
    out[static_cast<std::size_t>(i)] = static_cast<int>(k);
  }
  return out;
}
}  // namespace

FunctionReference makeFunctionReference(const Mlp& mlp, const float* wRef,
                                        const Eigen::Ref<const RowMatrix>& inputs,
                                        MlpWorkspace& ws) {
  const RowMatrix logits = mlp.logitsInChunks(wRef, inputs, ws);
  return {logSoftmaxRows(logits), argmaxRows(logits)};
}

FunctionDistance functionDistance(const Mlp& mlp, const FunctionReference& ref, const float* wM,
                                  const Eigen::Ref<const RowMatrix>& inputs, MlpWorkspace& ws) {
  return functionDistanceOfLogits(ref, mlp.logitsInChunks(wM, inputs, ws));
}

FunctionDistance functionDistanceOfLogits(const FunctionReference& ref, const RowMatrix& logits) {
  assert(logits.rows() == ref.logProbs.rows() && logits.cols() == ref.logProbs.cols());
  const RowMatrixD logQ = logSoftmaxRows(logits);
  const std::vector<int> pred = argmaxRows(logits);
  FunctionDistance d;
  const Eigen::Index n = logits.rows();
  if (n == 0) return d;
  int differ = 0;
  double kl = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (pred[static_cast<std::size_t>(i)] != ref.predictions[static_cast<std::size_t>(i)]) ++differ;
    for (Eigen::Index k = 0; k < logits.cols(); ++k) {
      const double lp = ref.logProbs(i, k);
      kl += std::exp(lp) * (lp - logQ(i, k));
    }
  }
  d.disagreement = static_cast<double>(differ) / static_cast<double>(n);
  d.kl = std::max(0.0, kl / static_cast<double>(n));
  return d;
}

}  // namespace driftscope
