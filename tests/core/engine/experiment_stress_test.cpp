// Experiment under sustained load from other threads: thousands of learning-rate changes
// while it trains (each applied or superseded by a later one, the history consistent),
// and a long run that fills a small ring many times (memory stays bounded). Run under
// the tsan preset these are also the race tests of the engine's publication.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "core/config/run_config.h"
#include "core/engine/experiment.h"
#include "tests/test_support.h"

namespace driftscope {
namespace {

constexpr int kLearningRateChanges = 5000;
constexpr auto kGenerousWait = std::chrono::seconds(120);  // a hang, not a speed goal

// 600 training images in batches of 50: 12 steps per epoch.
RunConfig stressConfig() {
  RunConfig c;
  c.layers = {784, 16, 10};
  c.sgd.learningRate = 0.05f;
  c.sgd.batchSize = 50;
  c.sgd.threads = 2;
  c.sgd.seed = 5;
  c.burnInEpochs = 0;
  c.recordEvery = 1;
  c.baselineSamples = 8;
  c.alignEvery = 0;
  c.pathPoints = 3;
  c.evalSubset = 100;
  return c;
}

template <typename Pred>
bool waitUntil(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + kGenerousWait;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::int64_t publishedStep(const Experiment& e) {
  const auto s = e.latest();
  return s ? s->progress.step : 0;
}

TEST(ExperimentStress, ThousandsOfLearningRateChangesDuringARunKeepAConsistentHistory) {
  RunConfig c = stressConfig();
  c.epochs = 100000;  // stopped below
  c.capacity = 50;
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  std::thread trainer([&] { e->run(); });

  // A reader polls like the window's timer: versions never go back, histories only grow.
  std::atomic<bool> readerDone{false};
  std::atomic<int> readerErrors{0};
  std::thread reader([&] {
    std::uint64_t lastVersion = 0;
    std::size_t lastHistory = 0;
    while (!readerDone.load()) {
      const auto s = e->latest();
      if (!s) continue;
      if (s->version < lastVersion || s->lrHistory.size() < lastHistory) ++readerErrors;
      lastVersion = s->version;
      lastHistory = s->lrHistory.size();
      std::this_thread::yield();
    }
  });

  ASSERT_TRUE(waitUntil([&] { return publishedStep(*e) > 0; }));
  // Distinct rates; every one a float that survives config.json's decimal form.
  std::set<float> used = {c.sgd.learningRate};
  for (int k = 0; k < kLearningRateChanges; ++k) {
    const float lr = 0.01f + 0.0001f * static_cast<float>(k % 97);
    used.insert(lr);
    e->setLearningRate(lr);
    if (k % 50 == 0) std::this_thread::yield();
  }
  const float finalLr = 0.0123f;
  used.insert(finalLr);
  e->setLearningRate(finalLr);
  // The last change must be applied by the steps that follow it (a stop before the next
  // step would legitimately leave it unapplied, so wait for it before stopping).
  ASSERT_TRUE(waitUntil([&] {
    const auto s = e->latest();
    return s && !s->lrHistory.empty() && s->lrHistory.back().lr == finalLr;
  })) << "the last change was never applied";
  e->stop();
  trainer.join();
  readerDone = true;
  reader.join();
  EXPECT_EQ(readerErrors.load(), 0) << "a reader saw a state older than one before it";

  const auto s = e->latest();
  const std::vector<LrChange>& history = s->lrHistory;
  ASSERT_GE(history.size(), 2u) << "no change was applied";
  EXPECT_EQ(history.front().step, 0);
  EXPECT_EQ(history.back().lr, finalLr);
  for (std::size_t k = 0; k < history.size(); ++k) {
    EXPECT_TRUE(used.count(history[k].lr)) << "rate never set: " << history[k].lr;
    if (k > 0) {
      EXPECT_GT(history[k].step, history[k - 1].step) << "two changes for one step";
      EXPECT_NE(history[k].lr, history[k - 1].lr) << "a change that changes nothing";
    }
  }
  // Every snapshot records the rate in force for the step that produced it.
  for (const DistanceRecord& r : s->distances) {
    const std::int64_t stepIndex = std::max<std::int64_t>(0, r.meta.step - 1);
    float expected = 0.0f;
    for (const LrChange& ch : history) {
      if (ch.step <= stepIndex) expected = ch.lr;
    }
    ASSERT_EQ(r.meta.lr, expected) << "snapshot at step " << r.meta.step;
  }
  // config.json of this run is valid and replays the same history.
  const RunConfig resolved = e->resolvedConfig();
  ASSERT_TRUE(validateConfig(resolved, 784, 10)) << validateConfig(resolved, 784, 10).message();
  auto reread = configFromJson(configToJson(resolved));
  ASSERT_TRUE(reread) << reread.message();
  ASSERT_EQ(reread->config.lrHistory.size(), history.size());
  for (std::size_t k = 0; k < history.size(); ++k) {
    EXPECT_EQ(reread->config.lrHistory[k].step, history[k].step);
    EXPECT_EQ(reread->config.lrHistory[k].lr, history[k].lr);
  }
}

// Resident set size in KiB from /proc/self/status ("VmRSS" or the peak "VmHWM").
long procStatusKiB(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizedAllocator = true;  // quarantine / shadow memory distort RSS
#else
constexpr bool kSanitizedAllocator = false;
#endif

TEST(ExperimentStress, RunFillingTheRingManyTimesKeepsMemoryBounded) {
  RunConfig c = stressConfig();
  c.capacity = 20;
  c.epochs = 100;  // 1200 steps, one snapshot each: the ring fills 60 times
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  const std::uint64_t ringBytesNeeded = ringBytes(c);
  const int warmSnapshots = 5 * c.capacity;  // ring, series chunks, workers all allocated
  std::atomic<bool> done{false};
  std::thread trainer([&] {
    e->run();
    done = true;
  });
  long warmRss = -1;
  long maxRssAfterWarm = -1;
  while (!done.load()) {
    const auto s = e->latest();
    const long rss = procStatusKiB("VmRSS");
    if (s && s->snapshotsTaken >= warmSnapshots) {
      if (warmRss < 0) warmRss = rss;
      maxRssAfterWarm = std::max(maxRssAfterWarm, rss);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  trainer.join();
  const auto s = e->latest();
  ASSERT_EQ(e->outcome().reason, StopReason::kCompleted);
  EXPECT_EQ(s->snapshotsTaken, 1 + 100 * 12);
  EXPECT_EQ(s->snapshotsInRing, c.capacity);
  EXPECT_EQ(s->distances.size(), static_cast<std::size_t>(s->snapshotsTaken));

  const long peak = procStatusKiB("VmHWM");
  std::printf(
      "ring %.1f KiB (%d x %zu params); RSS after %d snapshots %ld KiB, max after %ld "
      "KiB, peak (VmHWM) %ld KiB\n",
      static_cast<double>(ringBytesNeeded) / 1024.0, c.capacity, MlpLayout(c.layers).paramCount(),
      warmSnapshots, warmRss, maxRssAfterWarm, peak);
  if (kSanitizedAllocator) GTEST_SKIP() << "RSS is not meaningful under a sanitizer allocator";
  ASSERT_GT(warmRss, 0) << "the run ended before the ring had filled 5 times";
  // 1100 more snapshots of 51 KB pass through the ring after the warm-up: keeping every
  // one would add 55 MB, keeping one in 7 over 8 MiB; the scalar series of a snapshot (its
  // DistanceRecord and FunctionRecord) are ~200 bytes, 0.2 MB for the whole run.
  const long growthKiB = maxRssAfterWarm - warmRss;
  EXPECT_LT(growthKiB, 8 * 1024) << "RSS grew by " << growthKiB << " KiB while the ring refilled";
}

}  // namespace
}  // namespace driftscope
