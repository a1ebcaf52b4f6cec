// Function-space distance between the reference network and a later one, on a fixed set
// of inputs: the fraction of inputs whose predicted class differs, and the mean
// KL(p_ref || p_M) of the softmax outputs. Both are invariant to every weight-space
// symmetry by construction (Fort et al. 2019 use the same measures). FunctionReference
// caches the reference's outputs, so each later snapshot costs one forward pass, or none
// when its logits come from elsewhere (functionDistanceOfLogits: the trainer's per-epoch
// evaluation computes them for a snapshot taken at the end of an epoch). The logits are
// always those of Mlp::logitsInChunks, so both routes give the same bits.
// Pure functions of their inputs; thread-safe with one workspace per thread.
#pragma once

#include <vector>

#include "core/model/mlp.h"

namespace driftscope {

struct FunctionReference {
  RowMatrixD logProbs;           // [inputs, classes], log softmax of the reference
  std::vector<int> predictions;  // argmax per input
};

struct FunctionDistance {
  double disagreement = 0.0;  // fraction of inputs, 0..1
  double kl = 0.0;            // mean KL(p_ref || p_M) in nats
};

FunctionReference makeFunctionReference(const Mlp& mlp, const float* wRef,
                                        const Eigen::Ref<const RowMatrix>& inputs,
                                        MlpWorkspace& ws);
FunctionDistance functionDistance(const Mlp& mlp, const FunctionReference& ref, const float* wM,
                                  const Eigen::Ref<const RowMatrix>& inputs, MlpWorkspace& ws);
// The same from the logits of w_M on the reference's inputs ([inputs, classes]).
FunctionDistance functionDistanceOfLogits(const FunctionReference& ref, const RowMatrix& logits);

// Row-wise log softmax in double (max subtracted first).
RowMatrixD logSoftmaxRows(const RowMatrix& logits);

}  // namespace driftscope
