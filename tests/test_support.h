// Shared fixtures of the GoogleTest suites: the embedded data set (loaded once), small
// slices of it, an Experiment on such a slice, and seeded random weights and inputs.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>

#include "core/data/dataset.h"
#include "core/engine/experiment.h"
#include "core/model/mlp_layout.h"

namespace driftscope::testing {

inline const DataSplit& embeddedSplit() {
  static const DataSplit split = [] {
    auto r = loadDataSplit(DataSource{});
    EXPECT_TRUE(r) << r.message();
    return std::move(r).value();
  }();
  return split;
}

// The first trainCount / testCount images of the embedded data.
inline DataSplit smallSplit(int trainCount, int testCount) {
  DataSplit s;
  s.name = "small";
  const DataSplit& e = embeddedSplit();
  s.train.rows = s.test.rows = e.train.rows;
  s.train.cols = s.test.cols = e.train.cols;
  s.train.images = e.train.images.topRows(trainCount);
  s.train.labels.assign(e.train.labels.begin(), e.train.labels.begin() + trainCount);
  s.test.images = e.test.images.topRows(testCount);
  s.test.labels.assign(e.test.labels.begin(), e.test.labels.begin() + testCount);
  return s;
}

// An Experiment on the first 600 training / 200 test images (a failure is a test failure
// and gives null).
inline std::unique_ptr<Experiment> makeSmallExperiment(const RunConfig& c) {
  auto r = Experiment::create(c, std::make_shared<const DataSplit>(smallSplit(600, 200)));
  EXPECT_TRUE(r) << r.message();
  return r ? std::move(r).value() : nullptr;
}

inline Vector randomParams(const MlpLayout& layout, std::uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  Vector w(static_cast<Eigen::Index>(layout.paramCount()));
  for (Eigen::Index k = 0; k < w.size(); ++k) w[k] = normal(rng);
  return w;
}

inline RowMatrix randomInputs(int rows, int cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  RowMatrix x(rows, cols);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = normal(rng);
  return x;
}

}  // namespace driftscope::testing
