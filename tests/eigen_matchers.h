// Test helpers shared by the GoogleTest suites: EXPECT_EIGEN_NEAR prints both sides
// and the largest absolute difference when two Eigen objects differ by more than tol.
#pragma once

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <sstream>

namespace driftscope::testing {

template <typename A, typename B>
::testing::AssertionResult eigenNear(const char* aExpr, const char* bExpr, const char*, const A& a,
                                     const B& b, double tol) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    return ::testing::AssertionFailure()
           << aExpr << " is " << a.rows() << "x" << a.cols() << " but " << bExpr << " is "
           << b.rows() << "x" << b.cols();
  }
  const auto diff = (a.template cast<double>() - b.template cast<double>()).eval();
  const double maxDiff = diff.size() ? diff.cwiseAbs().maxCoeff() : 0.0;
  if (maxDiff <= tol) return ::testing::AssertionSuccess();
  std::ostringstream os;
  Eigen::IOFormat fmt(8, 0, ", ", "\n", "[", "]");
  os << aExpr << " and " << bExpr << " differ by " << maxDiff << " > tol " << tol << "\n"
     << aExpr << " =\n"
     << a.format(fmt) << "\n"
     << bExpr << " =\n"
     << b.format(fmt);
  return ::testing::AssertionFailure() << os.str();
}

}  // namespace driftscope::testing

#define EXPECT_EIGEN_NEAR(a, b, tol) \
  EXPECT_PRED_FORMAT3(::driftscope::testing::eigenNear, a, b, tol)
#define ASSERT_EIGEN_NEAR(a, b, tol) \
  ASSERT_PRED_FORMAT3(::driftscope::testing::eigenNear, a, b, tol)
