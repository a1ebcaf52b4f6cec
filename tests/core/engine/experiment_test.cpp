#include "core/engine/experiment.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "tests/test_support.h"

namespace driftscope {
namespace {

std::shared_ptr<const DataSplit> smallSplit(int trainCount, int testCount) {
  return std::make_shared<const DataSplit>(testing::smallSplit(trainCount, testCount));
}

// 600 training images in batches of 50: 12 steps per epoch.
RunConfig smallConfig() {
  RunConfig c;
  c.layers = {784, 16, 10};
  c.sgd.learningRate = 0.05f;
  c.sgd.batchSize = 50;
  c.sgd.threads = 1;
  c.sgd.seed = 11;
  c.epochs = 4;
  c.burnInEpochs = 2;
  c.recordEvery = 5;
  c.capacity = 50;
  c.baselineSamples = 8;
  c.alignEvery = 0;
  c.pathPoints = 3;
  c.evalSubset = 100;
  return c;
}

TEST(Experiment, FixedBurnInRecordsFromEpochNThenEveryKSteps) {
  const RunConfig c = smallConfig();
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->stepsPerEpoch(), 12);
  const TrainOutcome out = e->run();
  ASSERT_EQ(out.reason, StopReason::kCompleted);
  const auto s = e->latest();
  EXPECT_EQ(s->phase, RunPhase::kFinished);
  ASSERT_TRUE(s->recordingStartStep.has_value());
  EXPECT_EQ(*s->recordingStartStep, 24);
  // Steps 24, 29, ..., 44 (48 steps in all).
  ASSERT_EQ(s->distances.size(), 5u);
  for (std::size_t k = 0; k < s->distances.size(); ++k) {
    const SnapshotMeta& m = s->distances[k].meta;
    EXPECT_EQ(m.index, static_cast<int>(k));
    EXPECT_EQ(m.step, 24 + 5 * static_cast<std::int64_t>(k));
    EXPECT_DOUBLE_EQ(m.epoch, static_cast<double>(m.step) / 12.0);
    EXPECT_EQ(m.lr, 0.05f);
  }
  EXPECT_EQ(s->distances[0].d.distance, 0.0);
  ASSERT_TRUE(s->reference.has_value());
  EXPECT_EQ(s->reference->step, 24);
  // Epoch metrics: epoch 0 (before training) and 1..4.
  ASSERT_EQ(s->metrics.size(), 5u);
  for (std::size_t k = 0; k < s->metrics.size(); ++k) {
    EXPECT_EQ(s->metrics[k].epoch, static_cast<int>(k));
  }
  // The reference snapshot is the trainer's weights at step 24: the ring's oldest entry.
  EXPECT_EQ(e->engine().ring().slotMeta(e->engine().ring().chronological().front()).step, 24);
}

TEST(Experiment, ZeroBurnInRecordsTheInitialWeights) {
  RunConfig c = smallConfig();
  c.burnInEpochs = 0;
  c.epochs = 1;
  c.recordEvery = 4;
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  const Vector initial = e->trainer().params();
  e->run();
  const auto s = e->latest();
  ASSERT_EQ(s->distances.size(), 4u);  // steps 0, 4, 8, 12
  for (std::size_t k = 0; k < 4; ++k)
    EXPECT_EQ(s->distances[k].meta.step, 4 * static_cast<std::int64_t>(k));
  EXPECT_TRUE((e->engine().ring().reference().array() == initial.array()).all());
}

// A snapshot at the end of an epoch gets its function distance from the logits of the
// trainer's evaluation of the same weights (no forward pass of the evaluation subset);
// the others (mid-epoch) from a forward pass; both equal the direct computation, bit for bit.
TEST(Experiment, SnapshotsAtEpochEndsReuseTheEvaluationsLogits) {
  RunConfig c = smallConfig();
  c.burnInEpochs = 0;
  c.epochs = 3;
  c.recordEvery = 6;  // half an epoch: steps 0, 6, ..., 36; 0, 12, 24, 36 end an epoch
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->run().reason, StopReason::kCompleted);
  const auto s = e->latest();
  ASSERT_EQ(s->function.size(), 7u);
  EXPECT_EQ(e->engine().functionForwardPasses(), 1 + 3) << "the reference and steps 6, 18, 30";
  const DataSplit data = testing::smallSplit(600, 200);
  const RowMatrix inputs = data.test.images.topRows(c.evalSubset);
  const SnapshotRing& ring = e->engine().ring();
  const std::vector<int> slots = ring.chronological();
  ASSERT_EQ(slots.size(), 7u);
  MlpWorkspace ws;
  const Mlp& mlp = e->engine().mlp();
  const FunctionReference ref = makeFunctionReference(mlp, ring.reference().data(), inputs, ws);
  for (std::size_t k = 0; k < slots.size(); ++k) {
    const FunctionRecord& r = s->function[k];
    EXPECT_EQ(r.meta.step, 6 * static_cast<std::int64_t>(k));
    const FunctionDistance fd = functionDistance(mlp, ref, ring.slotData(slots[k]), inputs, ws);
    EXPECT_EQ(r.disagreement, fd.disagreement) << k;
    EXPECT_EQ(r.kl, fd.kl) << k;
  }
  EXPECT_GT(s->function.back().kl, 0.0);

  // Burn-in ending at an epoch (the snapshot taken in onEpoch) and a snapshot every epoch:
  // only the reference needs a forward pass.
  c.burnInEpochs = 1;
  c.recordEvery = 12;
  auto e2 = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e2);
  ASSERT_EQ(e2->run().reason, StopReason::kCompleted);
  EXPECT_EQ(e2->latest()->function.size(), 3u);  // steps 12, 24, 36
  EXPECT_EQ(e2->engine().functionForwardPasses(), 1);
}

TEST(Experiment, AutoBurnInStartsWhenTestLossStopsImproving) {
  RunConfig c = smallConfig();
  c.burnInAuto = true;
  c.burnInPatience = 2;
  c.burnInImprovement = 0.005;
  c.sgd.learningRate = 1e-6f;  // the test loss barely moves: no epoch improves by 0.5%
  c.epochs = 5;
  c.recordEvery = 6;
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->run().reason, StopReason::kCompleted);
  const auto s = e->latest();
  // Oracle: replay the rule on the published epoch metrics; the evaluation before training
  // (epoch 0) sets the first best loss.
  ASSERT_FALSE(s->metrics.empty());
  double best = s->metrics.front().testLoss;
  int without = 0;
  int startEpoch = -1;
  for (const EpochMetrics& m : s->metrics) {
    if (m.epoch == 0) continue;
    if (m.testLoss < best * (1.0 - c.burnInImprovement)) {
      best = m.testLoss;
      without = 0;
    } else {
      ++without;
    }
    if (without >= c.burnInPatience) {
      startEpoch = m.epoch;
      break;
    }
  }
  EXPECT_EQ(startEpoch, c.burnInPatience) << "tiny lr: no epoch improves by 0.5%";
  ASSERT_FALSE(s->distances.empty());
  EXPECT_EQ(s->distances.front().meta.step, startEpoch * 12);
  ASSERT_TRUE(s->recordingStartStep.has_value());
  EXPECT_EQ(*s->recordingStartStep, startEpoch * 12);
  for (std::size_t k = 1; k < s->distances.size(); ++k) {
    EXPECT_EQ(s->distances[k].meta.step - s->distances[k - 1].meta.step, 6);
  }
}

TEST(Experiment, AutoBurnInWaitsWhileTheLossImproves) {
  RunConfig c = smallConfig();
  c.burnInAuto = true;
  c.burnInPatience = 2;
  c.sgd.learningRate = 0.05f;  // improves by far more than 0.5% per epoch early on
  c.epochs = 3;
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  e->run();
  const auto s = e->latest();
  ASSERT_GE(s->metrics.size(), 4u);
  ASSERT_LT(s->metrics[2].testLoss, 0.995 * s->metrics[1].testLoss);
  EXPECT_TRUE(s->distances.empty())
      << "recording started at step " << s->distances.front().meta.step;
  EXPECT_FALSE(s->recordingStartStep.has_value());
}

TEST(Experiment, LearningRateHistoryIsReplayed) {
  RunConfig c = smallConfig();
  c.burnInEpochs = 0;
  c.epochs = 3;
  c.recordEvery = 1;
  c.lrHistory = {{0, 0.05f}, {7, 0.02f}, {20, 0.1f}};
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->run().reason, StopReason::kCompleted);
  const RunConfig resolved = e->resolvedConfig();
  ASSERT_EQ(resolved.lrHistory.size(), c.lrHistory.size());
  for (std::size_t k = 0; k < c.lrHistory.size(); ++k) {
    EXPECT_EQ(resolved.lrHistory[k].step, c.lrHistory[k].step) << k;
    EXPECT_EQ(resolved.lrHistory[k].lr, c.lrHistory[k].lr) << k;
  }
  EXPECT_EQ(resolved.sgd.learningRate, 0.05f);
  const auto s = e->latest();
  ASSERT_EQ(s->distances.size(), 37u);  // steps 0..36
  // The snapshot after step s (s steps done) was made by step index s-1, which used the
  // last change with change.step <= s - 1.
  for (const DistanceRecord& r : s->distances) {
    const std::int64_t stepIndex = std::max<std::int64_t>(0, r.meta.step - 1);
    float expected = 0.0f;
    for (const LrChange& ch : c.lrHistory) {
      if (ch.step <= stepIndex) expected = ch.lr;
    }
    EXPECT_EQ(r.meta.lr, expected) << "snapshot at step " << r.meta.step;
  }
  EXPECT_EQ(s->lrHistory.size(), 3u);
}

TEST(Experiment, LearningRateHistoryStartingLaterUsesTheConfigRateFirst) {
  RunConfig c = smallConfig();
  c.burnInEpochs = 0;
  c.epochs = 1;
  c.recordEvery = 1;
  c.sgd.learningRate = 0.03f;
  c.lrHistory = {{5, 0.01f}};
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  e->run();
  const RunConfig resolved = e->resolvedConfig();
  ASSERT_EQ(resolved.lrHistory.size(), 2u);
  EXPECT_EQ(resolved.lrHistory[0].step, 0);
  EXPECT_EQ(resolved.lrHistory[0].lr, 0.03f);
  EXPECT_EQ(resolved.lrHistory[1].step, 5);
  EXPECT_EQ(resolved.lrHistory[1].lr, 0.01f);
}

TEST(Experiment, DivergingRunEndsDivergedAndKeepsEarlierSnapshots) {
  RunConfig c = smallConfig();
  c.loss = LossKind::kMse;
  c.sgd.learningRate = 100.0f;  // the largest rate the config accepts
  c.burnInEpochs = 0;
  c.epochs = 3;
  c.recordEvery = 1;
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  const TrainOutcome out = e->run();
  ASSERT_EQ(out.reason, StopReason::kDiverged) << out.message;
  const auto s = e->latest();
  EXPECT_EQ(s->phase, RunPhase::kDiverged);
  EXPECT_NE(s->message.find("diverged"), std::string::npos) << s->message;
  // Snapshots at steps 0 .. out.step - 1 (out.step is the step that produced NaN/Inf).
  ASSERT_EQ(s->distances.size(), static_cast<std::size_t>(out.step));
  ASSERT_GE(s->distances.size(), 2u);
  for (std::size_t k = 0; k < s->distances.size(); ++k) {
    EXPECT_EQ(s->distances[k].meta.step, static_cast<std::int64_t>(k));
    EXPECT_TRUE(std::isfinite(s->distances[k].d.distance)) << k;
  }
  EXPECT_EQ(e->engine().ring().size(), static_cast<int>(out.step));
  EXPECT_TRUE(e->engine().ring().chronologicalMatrix().allFinite());
}

TEST(Experiment, ConfigNotMatchingTheDataIsRejected) {
  RunConfig c = smallConfig();
  c.layers = {100, 16, 10};
  auto r = Experiment::create(c, smallSplit(100, 20));
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("layers"), std::string::npos) << r.message();
}

TEST(Experiment, PublishesTheRawBatchLossForEveryBlockOfSteps) {
  RunConfig c = smallConfig();
  c.epochs = 3;
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->run().reason, StopReason::kCompleted);
  const auto s = e->latest();
  // 12 steps per epoch: blocks of max(1, 12 / 25) = 1 step, so one point per step.
  ASSERT_EQ(s->batchLoss.size(), 36u);
  for (std::size_t k = 0; k < s->batchLoss.size(); ++k) {
    EXPECT_EQ(s->batchLoss[k].step, static_cast<std::int64_t>(k + 1));
    EXPECT_TRUE(std::isfinite(s->batchLoss[k].loss) && s->batchLoss[k].loss > 0.0);
  }
}

TEST(Experiment, StopRequestedBeforeTrainingStartsIsHonoured) {
  RunConfig c = smallConfig();
  c.epochs = 1000;  // would run for minutes if the stop were lost
  auto e = testing::makeSmallExperiment(c);
  ASSERT_TRUE(e);
  e->abort();  // as Reset or closing the window does, before run() gets going
  const TrainOutcome out = e->run();
  EXPECT_EQ(out.reason, StopReason::kStopped);
  EXPECT_EQ(e->trainer().step(), 0);

  // Stop (training only; the final analysis still runs) before the start: the run ends
  // stopped, and a late Pause cannot turn the terminal phase back into a running one.
  auto f = testing::makeSmallExperiment(c);
  ASSERT_TRUE(f);
  f->stop();
  EXPECT_EQ(f->run().reason, StopReason::kStopped);
  EXPECT_EQ(f->latest()->phase, RunPhase::kStopped);
  f->setPaused(true);
  EXPECT_EQ(f->latest()->phase, RunPhase::kStopped);
}

}  // namespace
}  // namespace driftscope
