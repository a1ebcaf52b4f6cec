// Centred moving average: out[i] = mean of values[i-h .. i+h] clipped to the series
// (h = window / 2), so the smoothed curve has no lag behind the data, unlike an
// exponential average. Used for the noisy mini-batch loss. Pure function.
#pragma once

#include <vector>

namespace driftscope {

std::vector<double> centredMovingAverage(const std::vector<double>& values, int window);

}  // namespace driftscope
