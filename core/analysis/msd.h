// Mean squared displacement of a trajectory and its power-law fit (design.md, "MSD"):
//   MSD(tau) = mean_{t >= tw, t + tau < C} ||w_{t+tau} - w_t||^2,   MSD ~ c tau^alpha,
// alpha ~ 1 diffusion, < 1 confined/subdiffusive, -> 0 plateau, > 1 directed drift.
// Lags are in snapshots (multiply by the recording interval K for steps). The waiting time
// tw gives the aging MSD (only start times t >= tw); tw = 0 is the plain MSD.
// Pure functions; safe to call from any thread.
#pragma once

#include <vector>

#include "core/eigen_types.h"

namespace driftscope {

struct MsdResult {
  std::vector<int> lags;    // 1, 2, ... (only lags with at least one pair)
  std::vector<double> msd;  // mean ||w_{t+lag} - w_t||^2
  std::vector<int> counts;  // number of start times averaged
};

struct PowerLawFit {
  double alpha = 0.0;        // slope of log MSD against log lag
  double alphaStderr = 0.0;  // OLS slope standard error, sqrt(SSR / (n-2) / Sxx)
  double prefactor = 0.0;    // c = exp(intercept)
  int lagMin = 0;            // lag range actually used (inclusive)
  int lagMax = 0;
  int points = 0;      // number of lags in the fit
  bool valid = false;  // at least 3 usable lags (positive MSD) with distinct values
};

// From a chronological C x C distance matrix (e.g. DistanceMatrix::distances); lags
// 1..min(maxLag, C-1-tw).
MsdResult msdFromDistances(const RowMatrixD& distances, int maxLag);
MsdResult agingMsdFromDistances(const RowMatrixD& distances, int waitingTime, int maxLag);

// Directly from a trajectory, one snapshot per row (C x P); differences in double.
MsdResult msdFromSeries(const RowMatrixD& series, int maxLag, int waitingTime = 0);

// Ordinary least squares of log(msd) on log(lag) over lags in [lagMin, lagMax] with msd > 0.
PowerLawFit fitPowerLaw(const MsdResult& msd, int lagMin, int lagMax);
PowerLawFit fitPowerLaw(const std::vector<int>& lags, const std::vector<double>& msd, int lagMin,
                        int lagMax);

// c lag^alpha (the "fit" column); NaN if the fit is invalid.
double powerLawValue(const PowerLawFit& fit, double lag);
// Lag at which c lag^alpha reaches msdTarget: (msdTarget / c)^(1/alpha); +inf if alpha <= 0
// or the fit is invalid.
double lagToReach(const PowerLawFit& fit, double msdTarget);

}  // namespace driftscope
