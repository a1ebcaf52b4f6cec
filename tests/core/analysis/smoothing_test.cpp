#include "core/analysis/smoothing.h"

#include <gtest/gtest.h>

namespace driftscope {
namespace {

TEST(CentredMovingAverage, MatchesHandValuesWithClippedEnds) {
  const std::vector<double> v = {1, 2, 3, 10, 5};
  const std::vector<double> m = centredMovingAverage(v, 3);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_DOUBLE_EQ(m[0], 1.5);  // (1 + 2) / 2
  EXPECT_DOUBLE_EQ(m[1], 2.0);  // (1 + 2 + 3) / 3
  EXPECT_DOUBLE_EQ(m[2], 5.0);  // (2 + 3 + 10) / 3
  EXPECT_DOUBLE_EQ(m[3], 6.0);  // (3 + 10 + 5) / 3
  EXPECT_DOUBLE_EQ(m[4], 7.5);  // (10 + 5) / 2
}

TEST(CentredMovingAverage, KeepsALinearTrendWithoutLag) {
  std::vector<double> v;
  for (int i = 0; i < 50; ++i) v.push_back(3.0 * i + 1.0);
  const std::vector<double> m = centredMovingAverage(v, 9);
  for (int i = 4; i < 46; ++i)
    EXPECT_NEAR(m[static_cast<std::size_t>(i)], v[static_cast<std::size_t>(i)], 1e-12) << i;
}

TEST(CentredMovingAverage, WindowOneIsTheIdentityAndEmptyStaysEmpty) {
  const std::vector<double> v = {4, -1, 7};
  EXPECT_EQ(centredMovingAverage(v, 1), v);
  EXPECT_TRUE(centredMovingAverage({}, 5).empty());
}

}  // namespace
}  // namespace driftscope
