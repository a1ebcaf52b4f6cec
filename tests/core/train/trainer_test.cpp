#include "core/train/trainer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "core/random.h"
#include "tests/test_support.h"

namespace driftscope {
namespace {

using testing::smallSplit;
const DataSplit& embedded() { return testing::embeddedSplit(); }

Vector trainWeights(const DataSplit& data, SgdOptions o, int epochs, std::vector<int> sizes) {
  Trainer t(Mlp(MlpLayout(std::move(sizes)), Activation::kRelu, LossKind::kCrossEntropy), data, o);
  const TrainOutcome out = t.train(epochs, {});
  EXPECT_EQ(out.reason, StopReason::kCompleted);
  return t.params();
}

TEST(Trainer, SameSeedGivesBitIdenticalWeights) {
  const DataSplit data = smallSplit(600, 100);
  SgdOptions o;
  o.batchSize = 32;
  o.seed = 5;
  o.momentum = 0.9f;
  o.weightDecay = 1e-4f;
  o.learningRate = 0.05f;
  const Vector a = trainWeights(data, o, 2, {784, 32, 10});
  const Vector b = trainWeights(data, o, 2, {784, 32, 10});
  EXPECT_TRUE((a.array() == b.array()).all());
  o.seed = 6;
  const Vector c = trainWeights(data, o, 2, {784, 32, 10});
  EXPECT_FALSE((a.array() == c.array()).all());
}

TEST(Trainer, OneAndTwoThreadsGiveBitIdenticalWeights) {
  const DataSplit data = smallSplit(1000, 100);
  // Batch 2048 (> the 1000 samples: one batch of 1000 rows) is the sharded path.
  for (int batch : {1, 16, 64, 256, 2048}) {
    SgdOptions o;
    o.batchSize = batch;
    o.seed = 9;
    o.learningRate = 0.05f;
    o.threads = 1;
    const Vector one = trainWeights(data, o, 1, {784, 64, 32, 10});
    o.threads = 2;
    const Vector two = trainWeights(data, o, 1, {784, 64, 32, 10});
    EXPECT_TRUE((one.array() == two.array()).all()) << "batch " << batch;
  }
  // The test must exercise split matrix products (threads share one batch's products)
  // and several data shards (threads share the batch).
  EXPECT_GT(gemmBlockCount(256, 64, 784), 1) << "first layer, batch 256";
  EXPECT_GT(gemmBlockCount(64, 784, 256), 1) << "weight gradient of the first layer";
  EXPECT_GT(chooseShardCount(2048, MlpLayout({784, 64, 32, 10}).paramCount()), 1);
}

// Batch 1 on layers of >= 2 MB: the products are split by bytes (memory-bound), and the
// weight update's split depends on the thread count (elementwise, so it may). The second
// layer of 784-1000-600-10 (600 x 1000) is split by columns at boundaries that are not
// 64-byte aligned within a row; momentum 0.9 takes the unfused gradient path. Batch 16:
// the fused small-batch update kernel on split blocks.
TEST(Trainer, OneAndTwoThreadsGiveBitIdenticalWeightsAtBatchOneOnLargeLayers) {
  const DataSplit data = smallSplit(150, 50);
  for (const auto& [batch, momentum] : {std::pair{1, 0.0f}, {1, 0.9f}, {16, 0.0f}}) {
    SgdOptions o;
    o.batchSize = batch;
    o.seed = 4;
    o.learningRate = 0.01f;
    o.momentum = momentum;
    o.threads = 1;
    const Vector one = trainWeights(data, o, 1, {784, 1000, 600, 10});
    o.threads = 2;
    const Vector two = trainWeights(data, o, 1, {784, 1000, 600, 10});
    EXPECT_TRUE((one.array() == two.array()).all()) << "batch " << batch << ", momentum " << momentum;
  }
  EXPECT_GT(gemmBlockCount(1000, 784, 16), 1) << "weight gradient of the first layer, batch 16";
  EXPECT_GT(gemmBlockCount(1, 1000, 784), 1) << "forward of the first layer";
  EXPECT_GT(gemmBlockCount(1000, 784, 1), 1) << "weight gradient of the first layer";
  EXPECT_GT(gemmBlockCount(600, 1000, 1), 1) << "weight gradient of the second layer";
}

// The logits kept for the function-space distance are, bit for bit, those
// Mlp::logitsInChunks gives for the first test inputs (so the analysis engine may use
// either), and the test loss and accuracy stay those of the whole test set.
TEST(Trainer, CapturedTestLogitsAreTheChunkedLogitsOfTheFirstTestInputs) {
  const DataSplit data = smallSplit(200, 700);
  SgdOptions o;
  o.batchSize = 20;
  o.threads = 2;
  o.learningRate = 0.05f;
  Trainer t(Mlp(MlpLayout({784, 32, 10}), Activation::kRelu, LossKind::kCrossEntropy), data, o);
  ASSERT_EQ(t.train(1, {}).reason, StopReason::kCompleted);
  MlpWorkspace ws;
  // Brute force: the loss of every test input on its own.
  double lossSum = 0.0;
  int correct = 0;
  for (int i = 0; i < data.test.size(); ++i) {
    const LossStats st = t.mlp().evaluate(
        t.params().data(), data.test.images.middleRows(i, 1),
        std::span<const std::uint8_t>(data.test.labels).subspan(static_cast<std::size_t>(i), 1),
        ws);
    lossSum += st.lossSum;
    correct += st.correct;
  }
  EXPECT_EQ(t.testLogits().rows(), 0) << "nothing kept before captureTestLogits";
  for (int rows : {300, 256, 1, 700, 5000}) {
    t.captureTestLogits(rows);
    const EpochMetrics m = t.evaluateNow();
    const int n = std::min(rows, data.test.size());
    const RowMatrix expected =
        t.mlp().logitsInChunks(t.params().data(), data.test.images.topRows(n), ws);
    ASSERT_EQ(t.testLogits().rows(), n) << rows;
    ASSERT_EQ(t.testLogits().cols(), 10) << rows;
    EXPECT_TRUE((t.testLogits().array() == expected.array()).all()) << rows;
    EXPECT_NEAR(m.testLoss, lossSum / data.test.size(), 1e-6 * m.testLoss) << rows;
    EXPECT_EQ(m.testAcc, static_cast<double>(correct) / data.test.size()) << rows;
  }
}

TEST(Trainer, LearnsEmbeddedMnistTo97TrainAnd90TestWithin10Epochs) {
  SgdOptions o;
  o.learningRate = 0.1f;
  o.batchSize = 64;
  o.seed = 1;
  o.threads = 2;
  Trainer t(Mlp(MlpLayout({784, 128, 10}), Activation::kRelu, LossKind::kCrossEntropy), embedded(),
            o);
  EpochMetrics last;
  int epochs = 0;
  Trainer::Callbacks cb;
  cb.onEpoch = [&](const EpochMetrics& m) {
    last = m;
    epochs = m.epoch;
  };
  const TrainOutcome out = t.train(10, cb);
  ASSERT_EQ(out.reason, StopReason::kCompleted);
  EXPECT_EQ(epochs, 10);
  EXPECT_EQ(last.step, 10 * t.stepsPerEpoch());
  EXPECT_GE(last.trainAcc, 0.97);
  EXPECT_GE(last.testAcc, 0.90);
  EXPECT_LT(last.trainLoss, 0.15);
}

TEST(Trainer, HugeLearningRateIsReportedAsDivergenceWithFiniteWeightsKept) {
  const DataSplit data = smallSplit(500, 100);
  SgdOptions o;
  o.learningRate = 1e6f;
  o.batchSize = 16;
  Trainer t(Mlp(MlpLayout({784, 32, 10}), Activation::kRelu, LossKind::kMse), data, o);
  const TrainOutcome out = t.train(5, {});
  ASSERT_EQ(out.reason, StopReason::kDiverged);
  EXPECT_GE(out.step, 1);
  EXPECT_NE(out.message.find("diverged at step " + std::to_string(out.step)), std::string::npos)
      << out.message;
  EXPECT_TRUE(t.params().allFinite());
  EXPECT_EQ(t.step(), out.step - 1) << "the diverging step is not applied";
}

// Plain SGD updates the weights in place; a diverging step restores the epoch's (or the
// train() call's) checkpoint and replays the steps since. The weights kept must be, bit for
// bit, those of a run stopped just before the diverging step: the replay follows the
// recorded learning rates (changed mid-epoch), across a stop and resume in the middle of
// the epoch, for the three update paths (batch 1; 16: input gradient fused into the
// update; 64: Eigen's input gradient, then the update) and with 2 threads.
TEST(Trainer, DivergenceMidEpochKeepsTheWeightsOfTheStepBefore) {
  const DataSplit data = smallSplit(320, 50);
  for (const auto& [batch, threads] : {std::pair{1, 1}, {16, 1}, {16, 2}, {64, 1}}) {
    SgdOptions o;
    o.batchSize = batch;
    o.learningRate = 0.05f;
    o.weightDecay = 1e-3f;
    o.seed = 12;
    o.threads = threads;
    const Mlp mlp(MlpLayout({784, 64, 32, 10}), Activation::kRelu, LossKind::kCrossEntropy);
    const std::int64_t perEpoch = (320 + batch - 1) / batch;
    // Epoch 2: a new rate after 2 steps, a huge one after 3 (weights ~1e29: the loss
    // overflows at the step after at the latest).
    auto schedule = [&](Trainer& t, std::int64_t step) {
      if (step == perEpoch + 2) t.setLearningRate(0.02f);
      if (step == perEpoch + 3) t.setLearningRate(1e30f);
    };
    Trainer diverging(mlp, data, o);
    Trainer::Callbacks cb;
    cb.onStep = [&](const StepInfo& s, const Vector&) {
      schedule(diverging, s.step);
      if (s.step == perEpoch + 1) diverging.requestStop();
    };
    ASSERT_EQ(diverging.train(5, cb).reason, StopReason::kStopped);
    diverging.clearStop();
    const TrainOutcome out = diverging.train(5, cb);
    const std::string what = "batch " + std::to_string(batch) + ", " +
                             std::to_string(threads) + " thread(s)";
    ASSERT_EQ(out.reason, StopReason::kDiverged) << what;
    ASSERT_GT(out.step, perEpoch + 3) << what << ": " << out.message;
    EXPECT_EQ(diverging.step(), out.step - 1) << what;

    Trainer reference(mlp, data, o);
    Trainer::Callbacks refCb;
    refCb.onStep = [&](const StepInfo& s, const Vector&) {
      schedule(reference, s.step);
      if (s.step == out.step - 1) reference.requestStop();
    };
    ASSERT_EQ(reference.train(5, refCb).reason, StopReason::kStopped) << what;
    ASSERT_EQ(reference.step(), out.step - 1) << what;
    EXPECT_TRUE(diverging.params().allFinite()) << what;
    EXPECT_TRUE((diverging.params().array() == reference.params().array()).all()) << what;
  }
}

// setParams mid-run: the steps after it are those of the weights it set, whatever the
// weights before (the shuffled order does not depend on them). At batch 64 the first
// layer runs sparse on MNIST and its transposed weights are kept from step to step
// (MlpWorkspace::keepTiles): setParams must drop them (builds with assertions also check
// every reuse bit for bit).
TEST(Trainer, SetParamsMidRunGivesTheStepsOfTheWeightsSet) {
  const DataSplit data = smallSplit(320, 50);
  for (const int threads : {1, 2}) {
    SgdOptions o;
    o.batchSize = 64;
    o.learningRate = 0.05f;
    o.seed = 3;
    o.threads = threads;
    const Mlp mlp(MlpLayout({784, 64, 10}), Activation::kRelu, LossKind::kCrossEntropy);
    const Vector set = mlp.initialParams(21);
    Trainer a(mlp, data, o);
    ASSERT_EQ(a.train(1, {}).reason, StopReason::kCompleted);
    a.setParams(set);
    ASSERT_EQ(a.train(3, {}).reason, StopReason::kCompleted);
    Trainer b(mlp, data, o);
    b.setParams(mlp.initialParams(22));
    ASSERT_EQ(b.train(1, {}).reason, StopReason::kCompleted);
    b.setParams(set);
    ASSERT_EQ(b.train(3, {}).reason, StopReason::kCompleted);
    EXPECT_FALSE((a.params().array() == set.array()).all());
    EXPECT_TRUE((a.params().array() == b.params().array()).all()) << threads << " thread(s)";
  }
}

TEST(Trainer, LearningRateChangeAppliesFromNextStepAndIsRecorded) {
  const DataSplit data = smallSplit(320, 50);
  SgdOptions o;
  o.learningRate = 0.1f;
  o.batchSize = 32;
  Trainer t(Mlp(MlpLayout({784, 16, 10}), Activation::kRelu, LossKind::kCrossEntropy), data, o);
  std::vector<float> used;
  Trainer::Callbacks cb;
  cb.onStep = [&](const StepInfo& s, const Vector&) {
    used.push_back(s.lr);
    if (s.step == 3) t.setLearningRate(0.02f);
  };
  ASSERT_EQ(t.train(1, cb).reason, StopReason::kCompleted);
  ASSERT_EQ(used.size(), 10u);
  EXPECT_EQ(used[2], 0.1f);
  EXPECT_EQ(used[3], 0.02f);
  ASSERT_EQ(t.learningRateHistory().size(), 2u);
  EXPECT_EQ(t.learningRateHistory()[1].step, 3);
  EXPECT_EQ(t.learningRateHistory()[1].lr, 0.02f);
}

TEST(Trainer, SgdStepMatchesTheUpdateFormulaWithMomentumAndWeightDecay) {
  // One full-batch step from known weights: w1 = w0 - lr (g + wd w0) (v0 = 0).
  const DataSplit data = smallSplit(64, 10);
  SgdOptions o;
  o.learningRate = 0.5f;
  o.batchSize = 64;
  o.momentum = 0.9f;
  o.weightDecay = 0.01f;
  Trainer t(Mlp(MlpLayout({784, 8, 10}), Activation::kTanh, LossKind::kCrossEntropy), data, o);
  const Vector w0 = t.params();
  Vector g = Vector::Zero(w0.size());
  MlpWorkspace ws;
  t.mlp().lossAndGradient(w0.data(), data.train.images, data.train.labels, g.data(), 1.0f / 64, ws);
  Trainer::Callbacks cb;
  std::vector<Vector> after;
  cb.onStep = [&](const StepInfo&, const Vector& w) { after.push_back(w); };
  ASSERT_EQ(t.train(2, cb).reason, StopReason::kCompleted);
  const Vector expected1 = w0 - 0.5f * (g + 0.01f * w0);
  EXPECT_LT((after[0] - expected1).cwiseAbs().maxCoeff(), 1e-5f);
  // Second step: v1 = 0.9 v0 + g1 + wd w1, w2 = w1 - lr v1.
  Vector g1 = Vector::Zero(w0.size());
  t.mlp().lossAndGradient(after[0].data(), data.train.images, data.train.labels, g1.data(),
                          1.0f / 64, ws);
  const Vector v0 = g + 0.01f * w0;
  const Vector v1 = 0.9f * v0 + g1 + 0.01f * after[0];
  EXPECT_LT((after[1] - (after[0] - 0.5f * v1)).cwiseAbs().maxCoeff(), 1e-5f);
}

TEST(Trainer, StopAndPauseAnswerPromptlyFromAnotherThread) {
  SgdOptions o;
  o.batchSize = 8;
  Trainer t(Mlp(MlpLayout({784, 64, 10}), Activation::kRelu, LossKind::kCrossEntropy), embedded(),
            o);
  std::atomic<std::int64_t> steps{0};
  Trainer::Callbacks cb;
  cb.onStep = [&](const StepInfo& s, const Vector&) { steps.store(s.step); };
  TrainOutcome out;
  std::thread worker([&] { out = t.train(1000, cb); });
  while (steps.load() < 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  t.setPaused(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::int64_t atPause = steps.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LE(steps.load(), atPause + 1) << "training went on while paused";
  t.setPaused(false);
  while (steps.load() < atPause + 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  t.requestStop();
  worker.join();
  EXPECT_EQ(out.reason, StopReason::kStopped);
}

}  // namespace
}  // namespace driftscope
