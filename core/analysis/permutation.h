// Hidden-unit permutations of an MLP: the weight-space symmetry of design.md
// ("Permutation action"). pi = (P_1 .. P_{L-1}), one permutation per hidden layer;
// W_l <- P_l W_l P_{l-1}^T, b_l <- P_l b_l with P_0 = P_L = I, so pi(w) computes
// exactly the same function as w.
//
// Convention: hidden[h][i] = the SOURCE unit that lands in slot i of hidden layer h
// (h = 0..L-2 is the output of layer h). As a matrix, P has P(i, perm[i]) = 1, so
// (P x)_i = x_{perm[i]} and (pi w)'s W_l(i, j) = W_l(perm_l[i], perm_{l-1}[j]).
//
// Invariant: each hidden[h] is a permutation of 0..sizes[h+1]-1 (checked by isValid).
// Plain value type; the free functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/model/mlp_layout.h"

namespace driftscope {

struct NetworkPermutation {
  std::vector<std::vector<int>> hidden;

  bool operator==(const NetworkPermutation&) const = default;
};

// True when perm has one permutation of the right size per hidden layer of layout.
bool isValid(const MlpLayout& layout, const NetworkPermutation& perm);
NetworkPermutation identity(const MlpLayout& layout);
bool isIdentity(const NetworkPermutation& perm);
// Uniform random permutation per hidden layer: Fisher-Yates driven by rng() with an
// unbiased bounded draw (rejection sampling), so a seed gives the same permutation with
// any standard library (std::shuffle / uniform_int_distribution are implementation-defined).
NetworkPermutation random(const MlpLayout& layout, std::mt19937_64& rng);
// Uniform integer in [0, n), n >= 1, portable across standard libraries.
std::uint64_t uniformBelow(std::mt19937_64& rng, std::uint64_t n);

// inverse(p) undoes p: apply(inverse(p), apply(p, w)) == w.
NetworkPermutation inverse(const NetworkPermutation& perm);
// compose(outer, inner) applies inner first: apply(compose(outer, inner), w) ==
// apply(outer, apply(inner, w)). Per layer: result[i] = inner[outer[i]].
NetworkPermutation compose(const NetworkPermutation& outer, const NetworkPermutation& inner);

// paramsOut = pi(paramsIn); both hold layout.paramCount() floats and must not overlap.
// Pure data movement: the result is bit-exact (no arithmetic).
void apply(const MlpLayout& layout, const NetworkPermutation& perm, const float* paramsIn,
           float* paramsOut);
Vector apply(const MlpLayout& layout, const NetworkPermutation& perm, const Vector& params);

// ||a - pi(b)||^2 accumulated in double, without materialising pi(b).
double permutedSquaredDistance(const MlpLayout& layout, const float* a, const float* b,
                               const NetworkPermutation& perm);

}  // namespace driftscope
