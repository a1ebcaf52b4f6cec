#include "core/analysis/msd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/analysis/distance_matrix.h"
#include "tests/eigen_matchers.h"

namespace driftscope {
namespace {

constexpr double kSimulationRelTol = 0.03;  // "within a few %" for the long simulations
constexpr double kExactTol = 1e-12;

// SGD on the quadratic f(x) = a x^2 / 2 per coordinate with additive gradient noise s xi,
// optionally heavy-ball momentum: v <- beta v + (a x + s xi), x <- x - eta v
// (beta = 0 is plain SGD, x <- x - eta (a x + s xi)). Returns `steps` rows after `burnIn`.
RowMatrixD simulateQuadraticSgd(int dims, int burnIn, int steps, double eta, double beta,
                                std::uint64_t seed) {
  constexpr double kCurvature = 1.0;
  constexpr double kNoise = 1.0;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  VectorD x = VectorD::Zero(dims);
  VectorD v = VectorD::Zero(dims);
  RowMatrixD out(steps, dims);
  for (int t = 0; t < burnIn + steps; ++t) {
    for (int k = 0; k < dims; ++k) {
      v(k) = beta * v(k) + (kCurvature * x(k) + kNoise * normal(rng));
      x(k) -= eta * v(k);
    }
    if (t >= burnIn) out.row(t - burnIn) = x.transpose();
  }
  return out;
}

double meanOverLags(const MsdResult& msd, int lagMin, int lagMax) {
  double sum = 0.0;
  int n = 0;
  for (std::size_t i = 0; i < msd.lags.size(); ++i) {
    if (msd.lags[i] >= lagMin && msd.lags[i] <= lagMax) {
      sum += msd.msd[i];
      ++n;
    }
  }
  return sum / n;
}

RowMatrixD distancesOf(const RowMatrixD& series) {
  const auto n = series.rows();
  RowMatrixD d(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) d(i, j) = (series.row(i) - series.row(j)).norm();
  }
  return d;
}

TEST(Msd, SgdOnQuadraticPlateausAtTwiceStationaryVariance) {
  constexpr int kDims = 200;
  constexpr double kEta = 0.1;
  // Mandt et al. 2017, exact discrete form: eta s^2 / (a (2 - eta a)) with a = s = 1.
  const double stationaryVariance = kEta / (2.0 - kEta);  // 0.05263
  const RowMatrixD series = simulateQuadraticSgd(kDims, 500, 4000, kEta, 0.0, 42);
  EXPECT_NEAR(series.squaredNorm() / series.size(), stationaryVariance,
              kSimulationRelTol * stationaryVariance);
  const MsdResult msd = msdFromSeries(series, 300);
  ASSERT_EQ(msd.lags.size(), 300u);
  // Correlation decays as (1 - eta a)^tau: gone by tau = 150.
  const double plateau = 2.0 * stationaryVariance * kDims;
  EXPECT_NEAR(meanOverLags(msd, 150, 300), plateau, kSimulationRelTol * plateau);
  // Short lags are far below the plateau: MSD(1) = 2 var (1 - (1 - eta a)) per coordinate.
  EXPECT_NEAR(msd.msd[0], plateau * kEta, kSimulationRelTol * plateau * kEta);
}

TEST(Msd, HeavyBallMomentumMatchesStationaryVarianceFormula) {
  constexpr int kDims = 100;
  constexpr double kEta = 0.1;
  constexpr double kBeta = 0.9;
  // Stationary variance of x for heavy ball on a quadratic (a = s = 1):
  // eta s^2 (1 + beta) / (a (1 - beta) (2 (1 + beta) - eta a)) = 0.51351.
  const double stationaryVariance =
      kEta * (1.0 + kBeta) / ((1.0 - kBeta) * (2.0 * (1.0 + kBeta) - kEta));
  ASSERT_NEAR(stationaryVariance, 0.51351, 1e-5);
  const RowMatrixD series = simulateQuadraticSgd(kDims, 2000, 20000, kEta, kBeta, 43);
  EXPECT_NEAR(series.squaredNorm() / series.size(), stationaryVariance,
              kSimulationRelTol * stationaryVariance);
  // Modulus of the characteristic roots sqrt(beta) = 0.949: correlations gone by tau = 250.
  const MsdResult msd = msdFromSeries(series.topRows(5000), 400);
  const double plateau = 2.0 * stationaryVariance * kDims;
  EXPECT_NEAR(meanOverLags(msd, 250, 400), plateau, kSimulationRelTol * plateau);
}

TEST(Msd, RandomWalkIsDiffusiveWithAlphaOne) {
  constexpr int kDims = 1000;
  constexpr int kSteps = 1000;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  RowMatrixD walk(kSteps, kDims);
  walk.row(0).setZero();
  for (int t = 1; t < kSteps; ++t) {
    for (int k = 0; k < kDims; ++k) walk(t, k) = walk(t - 1, k) + normal(rng);
  }
  const MsdResult msd = msdFromSeries(walk, 100);
  const PowerLawFit fit = fitPowerLaw(msd, 1, 100);
  ASSERT_TRUE(fit.valid);
  EXPECT_NEAR(fit.alpha, 1.0, 0.05);
  EXPECT_NEAR(fit.prefactor, kDims, 0.1 * kDims);  // E MSD(tau) = tau * dims
  EXPECT_GT(fit.alphaStderr, 0.0);
  EXPECT_EQ(fit.lagMin, 1);
  EXPECT_EQ(fit.lagMax, 100);
  EXPECT_EQ(fit.points, 100);
}

TEST(Msd, FromDistancesEqualsFromSeries) {
  const RowMatrixD series = simulateQuadraticSgd(7, 10, 60, 0.1, 0.5, 3);
  const RowMatrixD d = distancesOf(series);
  for (int tw : {0, 5, 40}) {
    const MsdResult a = agingMsdFromDistances(d, tw, 30);
    const MsdResult b = msdFromSeries(series, 30, tw);
    ASSERT_EQ(a.lags, b.lags);
    ASSERT_EQ(a.counts, b.counts);
    for (std::size_t i = 0; i < a.msd.size(); ++i) {
      EXPECT_NEAR(a.msd[i], b.msd[i], 1e-10 * b.msd[i]) << "tw " << tw << " lag " << a.lags[i];
    }
  }
  const MsdResult plain = msdFromDistances(d, 30);
  EXPECT_EQ(plain.msd, agingMsdFromDistances(d, 0, 30).msd);
}

TEST(Msd, AgingMsdAveragesOnlyStartTimesAfterWaitingTime) {
  // Brute force on a small trajectory that moves for 10 snapshots and then freezes.
  constexpr int kSnapshots = 20;
  RowMatrixD series = RowMatrixD::Zero(kSnapshots, 2);
  for (int t = 0; t < kSnapshots; ++t) series(t, 0) = std::min(t, 10);
  const MsdResult early = msdFromSeries(series, 19, 0);
  ASSERT_EQ(early.lags.size(), 19u);
  for (std::size_t i = 0; i < early.lags.size(); ++i) {
    const int lag = early.lags[i];
    double sum = 0.0;
    for (int t = 0; t + lag < kSnapshots; ++t) {
      const double dx = std::min(t + lag, 10) - std::min(t, 10);
      sum += dx * dx;
    }
    EXPECT_EQ(early.counts[i], kSnapshots - lag);
    EXPECT_NEAR(early.msd[i], sum / (kSnapshots - lag), kExactTol);
  }
  const MsdResult late = msdFromSeries(series, 19, 10);  // waiting time 10: frozen
  ASSERT_EQ(late.lags.size(), 9u);                       // lags 1..C-1-tw
  for (std::size_t i = 0; i < late.lags.size(); ++i) {
    EXPECT_EQ(late.counts[i], kSnapshots - 10 - late.lags[i]);
    EXPECT_EQ(late.msd[i], 0.0);
  }
}

TEST(PowerLawFit, RecoversExactPowerLawWithZeroStderr) {
  std::vector<int> lags;
  std::vector<double> msd;
  for (int lag = 1; lag <= 50; ++lag) {
    lags.push_back(lag);
    msd.push_back(3.0 * std::pow(lag, 0.7));
  }
  const PowerLawFit fit = fitPowerLaw(lags, msd, 1, 50);
  ASSERT_TRUE(fit.valid);
  EXPECT_NEAR(fit.alpha, 0.7, kExactTol);
  EXPECT_NEAR(fit.prefactor, 3.0, kExactTol);
  EXPECT_LT(fit.alphaStderr, 1e-12);
  EXPECT_NEAR(powerLawValue(fit, 10.0), 3.0 * std::pow(10.0, 0.7), 1e-10);
  // lag^0.7 = 100/3 at lag = (100/3)^(1/0.7).
  EXPECT_NEAR(lagToReach(fit, 100.0), std::pow(100.0 / 3.0, 1.0 / 0.7), 1e-8);
}

TEST(PowerLawFit, UsesOnlyTheChosenLagRange) {
  // Subdiffusive alpha = 0.5 up to lag 10, then directed alpha = 1.5 (continuous at 10).
  std::vector<int> lags;
  std::vector<double> msd;
  for (int lag = 1; lag <= 50; ++lag) {
    lags.push_back(lag);
    msd.push_back(lag <= 10 ? std::sqrt(lag) : std::sqrt(10.0) * std::pow(lag / 10.0, 1.5));
  }
  const PowerLawFit longLags = fitPowerLaw(lags, msd, 20, 50);
  EXPECT_NEAR(longLags.alpha, 1.5, kExactTol);
  EXPECT_EQ(longLags.lagMin, 20);
  EXPECT_EQ(longLags.lagMax, 50);
  EXPECT_EQ(longLags.points, 31);
  const PowerLawFit shortLags = fitPowerLaw(lags, msd, 1, 10);
  EXPECT_NEAR(shortLags.alpha, 0.5, kExactTol);
  const PowerLawFit both = fitPowerLaw(lags, msd, 1, 50);
  EXPECT_GT(both.alphaStderr, 0.01);  // a kinked curve is not one power law
}

TEST(PowerLawFit, NoisyDataHasPositiveStderrCoveringTheTruth) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0.0, 0.1);
  std::vector<int> lags;
  std::vector<double> msd;
  for (int lag = 1; lag <= 200; ++lag) {
    lags.push_back(lag);
    msd.push_back(2.0 * std::pow(lag, 0.8) * std::exp(normal(rng)));
  }
  const PowerLawFit fit = fitPowerLaw(lags, msd, 1, 200);
  ASSERT_TRUE(fit.valid);
  EXPECT_GT(fit.alphaStderr, 0.0);
  // log-noise sd 0.1 over log-lags 0..5.3: stderr = 0.1/sqrt(Sxx) ~ 0.0085.
  EXPECT_NEAR(fit.alphaStderr, 0.0085, 0.003);
  EXPECT_NEAR(fit.alpha, 0.8, 4.0 * fit.alphaStderr);
}

TEST(PowerLawFit, TooFewUsablePointsIsInvalid) {
  const std::vector<int> lags = {1, 2, 3, 4};
  const std::vector<double> msd = {1.0, 0.0, 3.0, -1.0};  // only lags 1 and 3 are usable
  const PowerLawFit fit = fitPowerLaw(lags, msd, 1, 4);
  EXPECT_FALSE(fit.valid);
  EXPECT_EQ(fit.points, 2);
  EXPECT_TRUE(std::isnan(powerLawValue(fit, 2.0)));
  EXPECT_TRUE(std::isinf(lagToReach(fit, 2.0)));
  EXPECT_FALSE(fitPowerLaw(lags, {1.0, 2.0, 3.0, 4.0}, 5, 9).valid);  // empty range
}

}  // namespace
}  // namespace driftscope
