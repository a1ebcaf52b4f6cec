// Aligned distance by weight matching (design.md "Aligned distance"; S. Ainsworth,
// J. Hayase, S. Srinivasa, "Git Re-Basin: Merging Models modulo Permutation Symmetries",
// ICLR 2023, arXiv:2209.04836, Algorithm 1): find the hidden-unit permutation pi that
// brings b closest to a, d_align(a, b) = min_pi ||a - pi(b)||, by coordinate descent over
// hidden layers, each step an exact linear assignment. Oracles: d_align(w, pi(w)) = 0,
// d_align <= d. Pure functions; thread-safe.
#pragma once

#include "core/analysis/permutation.h"
#include "core/model/mlp_layout.h"

namespace driftscope {

struct AlignmentOptions {
  int maxSweeps = 50;  // full passes over the hidden layers (>= 1)
};

// Invariants: perm is valid for the layout; distance == ||a - apply(perm, b)|| (double);
// distance <= ||a - b|| because descent starts at the identity and only accepts strict
// improvements of the objective.
struct AlignmentResult {
  NetworkPermutation perm;        // pi such that pi(b) is closest to a found
  double distance = 0.0;          // ||a - pi(b)||
  double identityFraction = 1.0;  // fraction of hidden units with perm[i] == i (1 if none)
  int sweeps = 0;                 // sweeps run; the last one changed nothing unless == maxSweeps
};

// Weight matching. For hidden layer h (the output of layer h), with the other layers'
// permutations fixed, maximise sum_i <r_i(a), r_{perm(i)}(b~)> where r_i joins row i of
// W_h (b's columns permuted by perm_{h-1}), b_h[i] and column i of W_{h+1} (b's rows
// permuted by perm_{h+1}); since ||a||, ||pi(b)|| are pi-invariant, this minimises
// ||a - pi(b)||^2 over perm_h exactly. Layers are visited in order 0..L-2 per sweep; stops
// after a sweep in which no permutation changed, or after maxSweeps.
AlignmentResult alignWeights(const MlpLayout& layout, const float* a, const float* b,
                             const AlignmentOptions& options = {});

// ||a - b|| accumulated in double (the unaligned distance d).
double unalignedDistance(const MlpLayout& layout, const float* a, const float* b);

}  // namespace driftscope
