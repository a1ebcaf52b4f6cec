#include "core/analysis/distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace driftscope {
namespace {

constexpr double kRelTol = 1e-12;  // double sums of the same terms in another order

std::vector<float> randomVector(std::size_t n, double scale, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, static_cast<float>(scale));
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

TEST(L2Distance, MatchesDirectDoubleComputation) {
  const auto a = randomVector(1000, 1.0, 1);
  const auto b = randomVector(1000, 1.0, 2);
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - double(b[i]);
    sum += d * d;
  }
  EXPECT_NEAR(l2Distance(a.data(), b.data(), a.size()), std::sqrt(sum), kRelTol * std::sqrt(sum));
  EXPECT_EQ(l2Distance(a.data(), a.data(), a.size()), 0.0);
}

TEST(L2Distance, KeepsSmallDistanceBetweenLargeVectors) {
  // ||w|| ~ 3e3, d ~ 1e-2: squaring before differencing would lose everything in float.
  const auto base = randomVector(10000, 30.0, 3);
  auto moved = base;
  moved[17] = std::nextafter(moved[17], 1e9f);
  const double expected = double(moved[17]) - double(base[17]);
  EXPECT_DOUBLE_EQ(l2Distance(base.data(), moved.data(), base.size()), std::abs(expected));
}

TEST(DistanceBreakdown, MatchesDirectComputationOnMlp) {
  const MlpLayout layout({7, 5, 4, 3});
  const std::size_t p = layout.paramCount();
  const auto ref = randomVector(p, 1.0, 11);
  auto m = ref;
  const auto step = randomVector(p, 0.1, 12);
  for (std::size_t i = 0; i < p; ++i) m[i] += step[i];

  double dSq = 0.0, refSq = 0.0, mSq = 0.0, dot = 0.0;
  for (std::size_t i = 0; i < p; ++i) {
    const double diff = double(m[i]) - double(ref[i]);
    dSq += diff * diff;
    refSq += double(ref[i]) * ref[i];
    mSq += double(m[i]) * m[i];
    dot += diff * ref[i];
  }
  const DistanceBreakdown b = distanceBreakdown(layout, ref.data(), m.data());
  const double d = std::sqrt(dSq);
  EXPECT_NEAR(b.distance, d, kRelTol * d);
  EXPECT_NEAR(b.distance, l2Distance(ref.data(), m.data(), p), kRelTol * d);
  EXPECT_NEAR(b.relative, d / std::sqrt(refSq), kRelTol);
  EXPECT_NEAR(b.radial, dot / std::sqrt(refSq), kRelTol * d);
  EXPECT_NEAR(b.weightNorm, std::sqrt(mSq), kRelTol * std::sqrt(mSq));
  EXPECT_NEAR(b.referenceNorm, std::sqrt(refSq), kRelTol * std::sqrt(refSq));
  EXPECT_NEAR(b.radial * b.radial + b.tangential * b.tangential, dSq, 1e-10 * dSq);

  ASSERT_EQ(b.perLayer.size(), 3u);
  double layerSq = 0.0;
  for (int l = 0; l < layout.numLayers(); ++l) {
    const LayerSlice& s = layout.layer(l);
    const double part = l2Distance(ref.data() + s.wOffset, m.data() + s.wOffset, s.size());
    EXPECT_NEAR(b.perLayer[static_cast<std::size_t>(l)], part, kRelTol * d) << "layer " << l;
    layerSq += b.perLayer[static_cast<std::size_t>(l)] * b.perLayer[static_cast<std::size_t>(l)];
  }
  EXPECT_NEAR(layerSq, dSq, 1e-12 * dSq);
}

TEST(DistanceBreakdown, PureScalingIsRadial) {
  const MlpLayout layout({4, 3, 2});
  const auto ref = randomVector(layout.paramCount(), 1.0, 21);
  std::vector<float> m(ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) m[i] = 2.0f * ref[i];  // exact in float
  const DistanceBreakdown b = distanceBreakdown(layout, ref.data(), m.data());
  EXPECT_NEAR(b.radial, b.distance, 1e-12 * b.distance);
  EXPECT_NEAR(b.weightNorm, 2.0 * b.referenceNorm, 1e-12 * b.weightNorm);
  EXPECT_NEAR(b.relative, 1.0, 1e-12);
  // The robust residual gives ~0; sqrt(d^2 - radial^2) would be up to sqrt(eps) * d.
  EXPECT_LT(b.tangential, 1e-12 * b.distance);

  for (float& x : m) x = 0.5f * x;  // m = ref: no motion
  const DistanceBreakdown zero = distanceBreakdown(layout, ref.data(), m.data());
  EXPECT_EQ(zero.distance, 0.0);
  EXPECT_EQ(zero.tangential, 0.0);
}

TEST(DistanceBreakdown, OrthogonalMoveIsTangentialAndShrinkingIsNegativeRadial) {
  const MlpLayout layout({1, 1});  // W (1x1) then b: P = 2
  const float ref[2] = {3.0f, 4.0f};
  const float ortho[2] = {3.0f - 4.0f, 4.0f + 3.0f};  // ref + (-4, 3)
  const DistanceBreakdown t = distanceBreakdown(layout, ref, ortho);
  EXPECT_DOUBLE_EQ(t.distance, 5.0);
  EXPECT_DOUBLE_EQ(t.radial, 0.0);
  EXPECT_DOUBLE_EQ(t.tangential, 5.0);
  EXPECT_DOUBLE_EQ(t.relative, 1.0);

  const float shrunk[2] = {1.5f, 2.0f};
  const DistanceBreakdown r = distanceBreakdown(layout, ref, shrunk);
  EXPECT_DOUBLE_EQ(r.radial, -2.5);
  EXPECT_DOUBLE_EQ(r.tangential, 0.0);
}

TEST(DistanceBreakdown, ZeroReferenceCountsMotionAsTangential) {
  const MlpLayout layout({1, 1});
  const float ref[2] = {0.0f, 0.0f};
  const float m[2] = {3.0f, 4.0f};
  const DistanceBreakdown b = distanceBreakdown(layout, ref, m);
  EXPECT_DOUBLE_EQ(b.distance, 5.0);
  EXPECT_DOUBLE_EQ(b.radial, 0.0);
  EXPECT_DOUBLE_EQ(b.tangential, 5.0);
  EXPECT_TRUE(std::isinf(b.relative));
}

}  // namespace
}  // namespace driftscope
