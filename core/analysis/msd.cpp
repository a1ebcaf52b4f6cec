#include "core/analysis/msd.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace driftscope {
namespace {

template <typename SquaredDistance>
MsdResult computeMsd(int snapshots, int waitingTime, int maxLag, const SquaredDistance& sq) {
  assert(waitingTime >= 0 && maxLag >= 0);
  MsdResult out;
  const int lastLag = std::min(maxLag, snapshots - 1 - waitingTime);
  for (int lag = 1; lag <= lastLag; ++lag) {
    double sum = 0.0;
    int count = 0;
    for (int t = waitingTime; t + lag < snapshots; ++t, ++count) sum += sq(t, t + lag);
    out.lags.push_back(lag);
    out.msd.push_back(sum / count);
    out.counts.push_back(count);
  }
  return out;
}

}  // namespace

MsdResult msdFromDistances(const RowMatrixD& distances, int maxLag) {
  return agingMsdFromDistances(distances, 0, maxLag);
}

MsdResult agingMsdFromDistances(const RowMatrixD& distances, int waitingTime, int maxLag) {
  assert(distances.rows() == distances.cols());
  return computeMsd(static_cast<int>(distances.rows()), waitingTime, maxLag, [&](int a, int b) {
    const double d = distances(a, b);
    return d * d;
  });
}

MsdResult msdFromSeries(const RowMatrixD& series, int maxLag, int waitingTime) {
  return computeMsd(static_cast<int>(series.rows()), waitingTime, maxLag,
                    [&](int a, int b) { return (series.row(b) - series.row(a)).squaredNorm(); });
}

PowerLawFit fitPowerLaw(const MsdResult& msd, int lagMin, int lagMax) {
  return fitPowerLaw(msd.lags, msd.msd, lagMin, lagMax);
}

PowerLawFit fitPowerLaw(const std::vector<int>& lags, const std::vector<double>& msd, int lagMin,
                        int lagMax) {
  assert(lags.size() == msd.size());
  PowerLawFit fit;
  std::vector<double> x;
  std::vector<double> y;
  for (std::size_t i = 0; i < lags.size(); ++i) {
    if (lags[i] < lagMin || lags[i] > lagMax || lags[i] <= 0) continue;
    if (!(msd[i] > 0.0) || !std::isfinite(msd[i])) continue;
    if (x.empty()) fit.lagMin = lags[i];
    fit.lagMin = std::min(fit.lagMin, lags[i]);
    fit.lagMax = std::max(fit.lagMax, lags[i]);
    x.push_back(std::log(static_cast<double>(lags[i])));
    y.push_back(std::log(msd[i]));
  }
  const int n = static_cast<int>(x.size());
  fit.points = n;
  if (n < 3) return fit;

  // Centred sums (numerically stable two-pass OLS).
  double xMean = 0.0, yMean = 0.0;
  for (int i = 0; i < n; ++i) {
    xMean += x[static_cast<std::size_t>(i)];
    yMean += y[static_cast<std::size_t>(i)];
  }
  xMean /= n;
  yMean /= n;
  double sxx = 0.0, sxy = 0.0;
  for (int i = 0; i < n; ++i) {
    const double dx = x[static_cast<std::size_t>(i)] - xMean;
    sxx += dx * dx;
    sxy += dx * (y[static_cast<std::size_t>(i)] - yMean);
  }
  if (!(sxx > 0.0)) return fit;
  fit.alpha = sxy / sxx;
  const double intercept = yMean - fit.alpha * xMean;
  double ssr = 0.0;
  for (int i = 0; i < n; ++i) {
    const double r =
        y[static_cast<std::size_t>(i)] - (intercept + fit.alpha * x[static_cast<std::size_t>(i)]);
    ssr += r * r;
  }
  // Standard error of an OLS slope: sqrt(sigma^2 / Sxx), sigma^2 = SSR / (n - 2).
  fit.alphaStderr = std::sqrt(ssr / (n - 2) / sxx);
  fit.prefactor = std::exp(intercept);
  fit.valid = std::isfinite(fit.alpha) && std::isfinite(fit.alphaStderr);
  return fit;
}

double powerLawValue(const PowerLawFit& fit, double lag) {
  if (!fit.valid) return std::numeric_limits<double>::quiet_NaN();
  return fit.prefactor * std::pow(lag, fit.alpha);
}

double lagToReach(const PowerLawFit& fit, double msdTarget) {
  if (!fit.valid || !(fit.alpha > 0.0) || !(fit.prefactor > 0.0)) {
    return std::numeric_limits<double>::infinity();
  }
  return std::pow(msdTarget / fit.prefactor, 1.0 / fit.alpha);
}

}  // namespace driftscope
