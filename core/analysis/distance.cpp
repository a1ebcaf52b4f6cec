#include "core/analysis/distance.h"

#include <cassert>
#include <cmath>
#include <limits>

namespace driftscope {

double l2Distance(const float* a, const float* b, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double diff = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    sum += diff * diff;
  }
  return std::sqrt(sum);
}

DistanceBreakdown distanceBreakdown(const MlpLayout& layout, const float* wRef, const float* wM) {
  assert(wRef != nullptr && wM != nullptr);
  DistanceBreakdown out;
  out.perLayer.assign(static_cast<std::size_t>(layout.numLayers()), 0.0);

  // Pass 1: per-layer squared differences, ||w_ref||^2, ||w_M||^2, <w_M - w_ref, w_ref>.
  double refNormSq = 0.0;
  double mNormSq = 0.0;
  double dot = 0.0;
  double distSq = 0.0;
  for (int l = 0; l < layout.numLayers(); ++l) {
    const LayerSlice& s = layout.layer(l);
    // W_l and b_l are contiguous: [wOffset, wOffset + size()).
    assert(s.bOffset == s.wOffset + static_cast<std::size_t>(s.in) * s.out);
    double layerSq = 0.0;
    const std::size_t end = s.wOffset + s.size();
    for (std::size_t i = s.wOffset; i < end; ++i) {
      const double r = wRef[i];
      const double m = wM[i];
      const double diff = m - r;
      layerSq += diff * diff;
      refNormSq += r * r;
      mNormSq += m * m;
      dot += diff * r;
    }
    out.perLayer[static_cast<std::size_t>(l)] = std::sqrt(layerSq);
    distSq += layerSq;
  }
  out.distance = std::sqrt(distSq);
  out.referenceNorm = std::sqrt(refNormSq);
  out.weightNorm = std::sqrt(mNormSq);

  if (refNormSq == 0.0) {
    // No direction to split along: all motion counts as tangential.
    out.relative = distSq == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
    out.radial = 0.0;
    out.tangential = out.distance;
    return out;
  }
  out.relative = out.distance / out.referenceNorm;
  out.radial = dot / out.referenceNorm;

  // Pass 2: the orthogonal residual (w_M - w_ref) - (dot/||w_ref||^2) w_ref, directly.
  const double coef = dot / refNormSq;
  double tangSq = 0.0;
  const std::size_t n = layout.paramCount();
  for (std::size_t i = 0; i < n; ++i) {
    const double r = wRef[i];
    const double residual = (static_cast<double>(wM[i]) - r) - coef * r;
    tangSq += residual * residual;
  }
  out.tangential = std::sqrt(tangSq);
  return out;
}

}  // namespace driftscope
