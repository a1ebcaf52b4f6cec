#include "core/analysis/permutation.h"

#include <cassert>
#include <cstring>
#include <limits>
#include <numeric>

namespace driftscope {

namespace {

// Index map of layer l's inputs (perm of hidden layer l-1) or outputs (hidden layer l);
// nullptr stands for the identity (P_0 = P_L = I).
const int* inputPerm(const NetworkPermutation& perm, int l) {
  return l == 0 ? nullptr : perm.hidden[static_cast<std::size_t>(l - 1)].data();
}
const int* outputPerm(const MlpLayout& layout, const NetworkPermutation& perm, int l) {
  return l == layout.numLayers() - 1 ? nullptr : perm.hidden[static_cast<std::size_t>(l)].data();
}

}  // namespace

bool isValid(const MlpLayout& layout, const NetworkPermutation& perm) {
  if (static_cast<int>(perm.hidden.size()) != layout.numHiddenLayers()) return false;
  for (int h = 0; h < layout.numHiddenLayers(); ++h) {
    const std::vector<int>& p = perm.hidden[static_cast<std::size_t>(h)];
    const int n = layout.sizes()[static_cast<std::size_t>(h) + 1];
    if (static_cast<int>(p.size()) != n) return false;
    std::vector<char> seen(static_cast<std::size_t>(n), 0);
    for (int k : p) {
      if (k < 0 || k >= n || seen[static_cast<std::size_t>(k)]) return false;
      seen[static_cast<std::size_t>(k)] = 1;
    }
  }
  return true;
}

NetworkPermutation identity(const MlpLayout& layout) {
  NetworkPermutation perm;
  for (int h = 0; h < layout.numHiddenLayers(); ++h) {
    std::vector<int> p(static_cast<std::size_t>(layout.sizes()[static_cast<std::size_t>(h) + 1]));
    std::iota(p.begin(), p.end(), 0);
    perm.hidden.push_back(std::move(p));
  }
  return perm;
}

bool isIdentity(const NetworkPermutation& perm) {
  for (const std::vector<int>& p : perm.hidden) {
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (p[i] != static_cast<int>(i)) return false;
    }
  }
  return true;
}

std::uint64_t uniformBelow(std::mt19937_64& rng, std::uint64_t n) {
  assert(n >= 1);
  // Reject the top partial block of 2^64 so every residue is equally likely.
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % n;
}

NetworkPermutation random(const MlpLayout& layout, std::mt19937_64& rng) {
  NetworkPermutation perm = identity(layout);
  for (std::vector<int>& p : perm.hidden) {
    for (std::size_t i = p.size(); i > 1; --i) {  // Fisher-Yates (Knuth, TAOCP 3.4.2 P)
      const std::size_t j = static_cast<std::size_t>(uniformBelow(rng, i));
      std::swap(p[i - 1], p[j]);
    }
  }
  return perm;
}

NetworkPermutation inverse(const NetworkPermutation& perm) {
  NetworkPermutation inv;
  for (const std::vector<int>& p : perm.hidden) {
    std::vector<int> q(p.size());
    for (std::size_t i = 0; i < p.size(); ++i)
      q[static_cast<std::size_t>(p[i])] = static_cast<int>(i);
    inv.hidden.push_back(std::move(q));
  }
  return inv;
}

NetworkPermutation compose(const NetworkPermutation& outer, const NetworkPermutation& inner) {
  assert(outer.hidden.size() == inner.hidden.size());
  NetworkPermutation result;
  for (std::size_t h = 0; h < outer.hidden.size(); ++h) {
    const std::vector<int>& o = outer.hidden[h];
    const std::vector<int>& in = inner.hidden[h];
    assert(o.size() == in.size());
    std::vector<int> r(o.size());
    for (std::size_t i = 0; i < o.size(); ++i) r[i] = in[static_cast<std::size_t>(o[i])];
    result.hidden.push_back(std::move(r));
  }
  return result;
}

void apply(const MlpLayout& layout, const NetworkPermutation& perm, const float* paramsIn,
           float* paramsOut) {
  assert(isValid(layout, perm));
  assert(paramsIn + layout.paramCount() <= paramsOut ||
         paramsOut + layout.paramCount() <= paramsIn);
  for (int l = 0; l < layout.numLayers(); ++l) {
    const LayerSlice& s = layout.layer(l);
    const int* rows = outputPerm(layout, perm, l);
    const int* cols = inputPerm(perm, l);
    const float* w = paramsIn + s.wOffset;
    float* wOut = paramsOut + s.wOffset;
    for (int i = 0; i < s.out; ++i) {
      const float* src = w + static_cast<std::size_t>(rows ? rows[i] : i) * s.in;
      float* dst = wOut + static_cast<std::size_t>(i) * s.in;
      if (cols) {
        for (int j = 0; j < s.in; ++j) dst[j] = src[cols[j]];
      } else {
        std::memcpy(dst, src, sizeof(float) * static_cast<std::size_t>(s.in));
      }
      paramsOut[s.bOffset + i] = paramsIn[s.bOffset + (rows ? rows[i] : i)];
    }
  }
}

Vector apply(const MlpLayout& layout, const NetworkPermutation& perm, const Vector& params) {
  assert(static_cast<std::size_t>(params.size()) == layout.paramCount());
  Vector out(params.size());
  apply(layout, perm, params.data(), out.data());
  return out;
}

double permutedSquaredDistance(const MlpLayout& layout, const float* a, const float* b,
                               const NetworkPermutation& perm) {
  assert(isValid(layout, perm));
  double sum = 0.0;
  for (int l = 0; l < layout.numLayers(); ++l) {
    const LayerSlice& s = layout.layer(l);
    const int* rows = outputPerm(layout, perm, l);
    const int* cols = inputPerm(perm, l);
    for (int i = 0; i < s.out; ++i) {
      const int src = rows ? rows[i] : i;
      const float* ra = a + s.wOffset + static_cast<std::size_t>(i) * s.in;
      const float* rb = b + s.wOffset + static_cast<std::size_t>(src) * s.in;
      double rowSum = 0.0;
      if (cols) {
        for (int j = 0; j < s.in; ++j) {
          const double d = static_cast<double>(ra[j]) - rb[cols[j]];
          rowSum += d * d;
        }
      } else {
        for (int j = 0; j < s.in; ++j) {
          const double d = static_cast<double>(ra[j]) - rb[j];
          rowSum += d * d;
        }
      }
      const double db = static_cast<double>(a[s.bOffset + i]) - b[s.bOffset + src];
      sum += rowSum + db * db;
    }
  }
  return sum;
}

}  // namespace driftscope
