#include "core/analysis/smoothing.h"

#include <algorithm>

namespace driftscope {

std::vector<double> centredMovingAverage(const std::vector<double>& values, int window) {
  const auto n = static_cast<long>(values.size());
  const long h = std::max(0, window / 2);
  // Prefix sums in double: each output is one subtraction.
  std::vector<double> prefix(values.size() + 1, 0.0);
  for (long i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + values[i];
  std::vector<double> out(values.size());
  for (long i = 0; i < n; ++i) {
    const long lo = std::max(0L, i - h);
    const long hi = std::min(n - 1, i + h);
    out[i] = (prefix[hi + 1] - prefix[lo]) / static_cast<double>(hi - lo + 1);
  }
  return out;
}

}  // namespace driftscope
