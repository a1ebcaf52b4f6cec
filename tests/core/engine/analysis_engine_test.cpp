#include "core/engine/analysis_engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "core/analysis/distance.h"
#include "core/analysis/function_distance.h"

namespace driftscope {
namespace {

constexpr double kDistanceRelTol = 1e-9;  // double sums of exact float differences
constexpr double kAlignedSlack = 1e-9;    // d_align <= d up to rounding
constexpr double kPathRelTol = 1e-6;
constexpr auto kPollTimeout = std::chrono::seconds(10);

struct Fixture {
  Mlp mlp{MlpLayout({6, 8, 5, 3}), Activation::kRelu, LossKind::kCrossEntropy};
  RowMatrix inputs;
  std::vector<std::uint8_t> labels;
  std::vector<Vector> snapshots;  // a random walk
  std::vector<SnapshotMeta> metas;

  explicit Fixture(int count) {
    std::mt19937_64 rng(42);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    inputs.resize(40, 6);
    for (Eigen::Index k = 0; k < inputs.size(); ++k) inputs.data()[k] = normal(rng);
    for (int i = 0; i < 40; ++i) labels.push_back(static_cast<std::uint8_t>(rng() % 3));
    Vector w = mlp.initialParams(7);
    for (int k = 0; k < count; ++k) {
      snapshots.push_back(w);
      SnapshotMeta m;
      m.index = k;
      m.step = 100 + 10 * k;
      m.epoch = 2.0 + 0.1 * k;
      m.lr = 0.05f;
      metas.push_back(m);
      for (Eigen::Index p = 0; p < w.size(); ++p) w[p] += 0.05f * normal(rng);
    }
  }

  AnalysisOptions options(int capacity) const {
    AnalysisOptions o;
    o.capacity = capacity;
    o.baselineSamples = 16;
    o.seed = 3;
    o.alignEvery = 3;
    o.pathPoints = 5;
    o.recordEvery = 10;
    o.threads = 1;
    return o;
  }

  double distance(int a, int b) const {
    return l2Distance(snapshots[static_cast<std::size_t>(a)].data(),
                      snapshots[static_cast<std::size_t>(b)].data(),
                      static_cast<std::size_t>(snapshots[0].size()));
  }

  // state.function against the direct computation from snapshot 0, bit for bit.
  void expectFunctionSeries(const AnalysisState& state) const {
    ASSERT_EQ(state.function.size(), snapshots.size());
    MlpWorkspace ws;
    const FunctionReference ref = makeFunctionReference(mlp, snapshots[0].data(), inputs, ws);
    for (std::size_t k = 0; k < snapshots.size(); ++k) {
      const FunctionRecord& r = state.function[k];
      EXPECT_EQ(r.meta.index, static_cast<int>(k));
      const FunctionDistance fd = functionDistance(mlp, ref, snapshots[k].data(), inputs, ws);
      EXPECT_EQ(r.disagreement, fd.disagreement) << k;
      EXPECT_EQ(r.kl, fd.kl) << k;
    }
  }

  void submit(AnalysisEngine& engine, int from, int to) const {
    for (int k = from; k < to; ++k) {
      engine.submitSnapshot(snapshots[static_cast<std::size_t>(k)].data(),
                            metas[static_cast<std::size_t>(k)]);
    }
  }
};

// Bounded polling: true once latest() satisfies pred, false after kPollTimeout.
template <typename Pred>
bool waitFor(const AnalysisEngine& engine, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred(*engine.latest())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(AnalysisEngine, DistanceSeriesHasOneRecordPerSnapshotFromReferenceZero) {
  const Fixture f(9);
  AnalysisEngine engine(f.mlp, f.options(5), f.inputs, f.labels);
  engine.start();
  f.submit(engine, 0, 9);
  engine.finish();
  const auto s = engine.latest();
  ASSERT_EQ(s->distances.size(), 9u);
  ASSERT_EQ(s->function.size(), 9u);
  EXPECT_EQ(s->snapshotsTaken, 9);
  EXPECT_EQ(s->snapshotsInRing, 5);
  ASSERT_TRUE(s->reference.has_value());
  EXPECT_EQ(s->reference->index, 0);
  EXPECT_EQ(s->reference->step, f.metas[0].step);
  EXPECT_EQ(s->distances[0].d.distance, 0.0);
  EXPECT_EQ(s->function[0].disagreement, 0.0);
  EXPECT_NEAR(s->function[0].kl, 0.0, 1e-12);
  for (int k = 0; k < 9; ++k) {
    const DistanceRecord& r = s->distances[static_cast<std::size_t>(k)];
    EXPECT_EQ(r.meta.index, k);
    EXPECT_EQ(r.meta.step, f.metas[static_cast<std::size_t>(k)].step);
    const double expected = f.distance(0, k);
    EXPECT_NEAR(r.d.distance, expected, kDistanceRelTol * (1.0 + expected)) << k;
    // Aligned where index % alignEvery == 0 (and always for the last snapshot).
    EXPECT_EQ(r.aligned.has_value(), k % 3 == 0 || k == 8) << k;
    if (r.aligned) {
      EXPECT_LE(*r.aligned, r.d.distance + kAlignedSlack) << k;
    }
  }
  EXPECT_GT(s->distances.back().d.distance, 0.0);
  EXPECT_GT(s->function.back().kl, 0.0);
}

TEST(AnalysisEngine, HeatmapEqualsDirectDistancesOfSnapshotsInTheRing) {
  const Fixture f(11);
  AnalysisEngine engine(f.mlp, f.options(4), f.inputs, f.labels);
  engine.start();
  f.submit(engine, 0, 11);
  engine.finish();
  const auto s = engine.latest();
  ASSERT_TRUE(s->ring);
  const RingAnalysis& ra = *s->ring;
  ASSERT_EQ(ra.snapshots.size(), 4u);
  for (int r = 0; r < 4; ++r) EXPECT_EQ(ra.snapshots[static_cast<std::size_t>(r)].index, 7 + r);
  ASSERT_EQ(ra.distances.rows(), 4);
  ASSERT_EQ(ra.distances.cols(), 4);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      const double expected = f.distance(7 + i, 7 + j);
      EXPECT_NEAR(ra.distances(i, j), expected, kDistanceRelTol * (1.0 + expected))
          << i << "," << j;
    }
  }
  // The ring itself holds exactly those snapshots, oldest first.
  const RowMatrix m = engine.ring().chronologicalMatrix();
  ASSERT_EQ(m.rows(), 4);
  for (int r = 0; r < 4; ++r) {
    EXPECT_TRUE(
        (m.row(r).transpose().array() == f.snapshots[static_cast<std::size_t>(7 + r)].array())
            .all());
  }
}

TEST(AnalysisEngine, BaselineVerdictAndPathArePresentAfterFinish) {
  const Fixture f(7);
  AnalysisEngine engine(f.mlp, f.options(10), f.inputs, f.labels);
  engine.start();
  f.submit(engine, 0, 7);
  engine.finish();
  const auto s = engine.latest();
  ASSERT_TRUE(s->baseline);
  EXPECT_EQ(s->baseline->samples.size(), 16u);
  EXPECT_GT(s->baseline->mean, 0.0);
  const DistanceRecord& last = s->distances.back();
  ASSERT_TRUE(last.aligned.has_value()) << "the final analysis aligns the last snapshot";
  EXPECT_LE(*last.aligned, last.d.distance + kAlignedSlack);
  EXPECT_TRUE(s->verdict.valid);
  EXPECT_NEAR(s->verdict.ratioLast, last.d.distance / s->baseline->mean, 1e-12);
  ASSERT_TRUE(s->ring);
  EXPECT_EQ(s->ring->pathSnapshot, 6);
  ASSERT_EQ(s->ring->path.lossRaw.size(), 5u);
  MlpWorkspace ws;
  const LossStats l0 = f.mlp.evaluate(f.snapshots[0].data(), f.inputs, f.labels, ws);
  EXPECT_NEAR(s->ring->path.lossRaw.front(), l0.lossSum / l0.count, kPathRelTol);
  EXPECT_EQ(s->ring->path.lossAligned.size(), 5u);
}

TEST(AnalysisEngine, WithoutStartFinishProcessesOnTheCaller) {
  const Fixture f(4);
  AnalysisEngine engine(f.mlp, f.options(10), f.inputs, f.labels);
  f.submit(engine, 0, 4);
  engine.finish();
  const auto s = engine.latest();
  EXPECT_EQ(s->distances.size(), 4u);
  EXPECT_EQ(s->snapshotsInRing, 4);
}

TEST(AnalysisEngine, RequestReferenceMovesTheReference) {
  const Fixture f(9);
  AnalysisEngine engine(f.mlp, f.options(5), f.inputs, f.labels);
  engine.start();
  f.submit(engine, 0, 6);
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) { return s.snapshotsTaken == 6; }));
  engine.requestReference(3);
  // Wait for the change before submitting more, so the ring holds exactly 1..5 at the
  // change (a request and a queued snapshot taken in one wake-up are processed snapshot
  // first).
  ASSERT_TRUE(waitFor(
      engine, [](const AnalysisState& s) { return s.reference && s.reference->index == 3; }));
  f.submit(engine, 6, 9);
  engine.finish();
  const auto s = engine.latest();
  ASSERT_TRUE(s->reference.has_value());
  EXPECT_EQ(s->reference->index, 3);
  EXPECT_NE(s->message.find("reference set to snapshot 3"), std::string::npos) << s->message;
  // The series restart with the ring's snapshots at the change (1..5), then 6..8.
  ASSERT_EQ(s->distances.size(), 8u);
  ASSERT_EQ(s->function.size(), 8u);
  for (std::size_t r = 0; r < s->distances.size(); ++r) {
    const int k = static_cast<int>(r) + 1;
    EXPECT_EQ(s->distances[r].meta.index, k);
    const double expected = f.distance(3, k);
    EXPECT_NEAR(s->distances[r].d.distance, expected, kDistanceRelTol * (1.0 + expected)) << k;
    if (k == 3) {
      EXPECT_EQ(s->distances[r].d.distance, 0.0);
      EXPECT_EQ(s->function[r].disagreement, 0.0);
      EXPECT_NEAR(s->function[r].kl, 0.0, 1e-12);
    } else {
      EXPECT_GT(s->function[r].kl, 0.0) << k;
    }
  }
  // The heatmap and path follow the new reference too. The heatmap's Gram matrix was moved
  // to the new anchor (rows of snapshots 4 and 5 from before the change, 6..8 after it):
  // still the true pairwise distances.
  ASSERT_TRUE(s->ring);
  const auto& snaps = s->ring->snapshots;
  ASSERT_EQ(snaps.size(), 5u);
  for (std::size_t i = 0; i < snaps.size(); ++i) {
    for (std::size_t j = 0; j < snaps.size(); ++j) {
      const double expected = f.distance(snaps[i].index, snaps[j].index);
      EXPECT_NEAR(s->ring->distances(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)),
                  expected, kDistanceRelTol * (1.0 + expected))
          << snaps[i].index << ", " << snaps[j].index;
    }
  }
  MlpWorkspace ws;
  const LossStats l3 = f.mlp.evaluate(f.snapshots[3].data(), f.inputs, f.labels, ws);
  EXPECT_NEAR(s->ring->path.lossRaw.front(), l3.lossSum / l3.count, kPathRelTol);
  ASSERT_TRUE(s->baseline);
  const BaselineBand b3 = computeBaseline(f.mlp.layout(), f.snapshots[3].data(), [] {
    BaselineOptions o;
    o.samples = 16;
    return o;
  }());
  EXPECT_NEAR(s->baseline->exactRms, b3.exactRms, 1e-9 * b3.exactRms);
}

TEST(AnalysisEngine, RequestForSnapshotThatLeftTheRingKeepsTheReference) {
  const Fixture f(8);
  AnalysisEngine engine(f.mlp, f.options(3), f.inputs, f.labels);
  engine.start();
  f.submit(engine, 0, 8);
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) { return s.snapshotsTaken == 8; }));
  engine.requestReference(1);
  engine.finish();
  const auto s = engine.latest();
  ASSERT_TRUE(s->reference.has_value());
  EXPECT_EQ(s->reference->index, 0);
  EXPECT_NE(s->message.find("no longer in the ring"), std::string::npos) << s->message;
  EXPECT_EQ(s->distances.size(), 8u);
}

// After finish() the analysis thread is gone; a pin or a reference change still takes
// effect (served on a short-lived worker) and is published with a fresh final analysis.
TEST(AnalysisEngine, PinAndReferenceAfterFinishAreServed) {
  const Fixture f(9);
  AnalysisEngine engine(f.mlp, f.options(20), f.inputs, f.labels);
  engine.start();
  f.submit(engine, 0, 9);
  engine.finish();
  ASSERT_TRUE(engine.latest()->pinned.empty());
  engine.pinReference(3);
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) { return s.pinned.size() == 1; }));
  const PinnedCurve& curve = engine.latest()->pinned[0];
  EXPECT_EQ(curve.reference.index, 3);
  ASSERT_EQ(curve.points.size(), 6u);  // snapshots 3..8, backfilled from the ring
  EXPECT_NEAR(curve.points.back().distance, f.distance(3, 8), kDistanceRelTol * 10.0);

  engine.requestReference(5);
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) {
    return s.reference.has_value() && s.reference->index == 5;
  }));
  const auto s = engine.latest();
  ASSERT_EQ(s->distances.size(), 9u);  // the series restart with the ring's snapshots
  EXPECT_EQ(s->distances[5].d.distance, 0.0);
  EXPECT_NEAR(s->distances[8].d.distance, f.distance(5, 8), kDistanceRelTol * 10.0);
  ASSERT_TRUE(s->ring);
  ASSERT_EQ(s->ring->distances.rows(), 9);
  EXPECT_NEAR(s->ring->distances(2, 7), f.distance(2, 7), kDistanceRelTol * 10.0);
  engine.pinReference(100);  // never recorded: a message, nothing pinned
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& st) {
    return st.message.find("snapshot 100 is no longer in the ring") != std::string::npos;
  }));
  EXPECT_EQ(engine.latest()->pinned.size(), 1u);
  engine.stop();
  engine.pinReference(4);  // after stop(): dropped, returns at once
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a worker would have served it
  EXPECT_EQ(engine.latest()->pinned.size(), 1u);
}

TEST(AnalysisEngine, StopWithoutFinishJoinsPromptly) {
  const Fixture f(6);
  AnalysisEngine engine(f.mlp, f.options(10), f.inputs, f.labels);
  engine.start();
  f.submit(engine, 0, 6);
  engine.stop();
  // After stop, submissions are ignored and do not block.
  f.submit(engine, 0, 6);
  EXPECT_LE(engine.latest()->snapshotsTaken, 6);
}

TEST(AnalysisEngine, PinnedReferencesRecordTheirOwnDistanceAgainstLag) {
  const Fixture f(14);
  AnalysisOptions o = f.options(20);
  o.pinAfterSteps = {30};  // snapshot 3 (step 130 = 30 steps after snapshot 0)
  AnalysisEngine engine(f.mlp, o, f.inputs, f.labels);
  engine.start();
  f.submit(engine, 0, 8);
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) { return s.snapshotsTaken == 8; }));
  engine.pinReference(5);  // by hand (a heatmap click), backfilled from the ring
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) { return s.pinned.size() == 2; }));
  f.submit(engine, 8, 14);
  engine.finish();
  const auto s = engine.latest();
  ASSERT_EQ(s->pinned.size(), 2u);
  const std::vector<int> pinnedAt = {3, 5};
  for (std::size_t c = 0; c < 2; ++c) {
    const PinnedCurve& curve = s->pinned[c];
    const int ref = pinnedAt[c];
    EXPECT_EQ(curve.reference.index, ref);
    ASSERT_EQ(curve.points.size(), static_cast<std::size_t>(14 - ref));
    for (std::size_t k = 0; k < curve.points.size(); ++k) {
      const int m = ref + static_cast<int>(k);
      EXPECT_EQ(curve.points[k].lagSteps, 10 * (m - ref));
      const double expected = f.distance(ref, m);
      EXPECT_NEAR(curve.points[k].distance, expected, kDistanceRelTol * (1.0 + expected));
    }
  }
  EXPECT_EQ(s->pinned[0].points[0].distance, 0.0);
}

TEST(AnalysisEngine, AtMostFourReferencesArePinned) {
  const Fixture f(8);
  AnalysisEngine engine(f.mlp, f.options(20), f.inputs, f.labels);
  engine.start();
  f.submit(engine, 0, 8);
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) { return s.snapshotsTaken == 8; }));
  for (int k = 1; k <= 6; ++k) engine.pinReference(k);
  engine.pinReference(2);  // a duplicate is ignored
  engine.finish();
  const auto s = engine.latest();
  ASSERT_EQ(s->pinned.size(), 4u);
  for (int k = 0; k < 4; ++k)
    EXPECT_EQ(s->pinned[static_cast<std::size_t>(k)].reference.index, k + 1);
}

TEST(AnalysisOptions, LiveRateIsTheShareOfTrainingThreadsPlusIdleCores) {
  AnalysisOptions o;
  o.liveShare = 0.03;
  o.threads = 2;
  o.hardwareThreads = 2;
  EXPECT_DOUBLE_EQ(o.liveRate(), 0.06);
  o.threads = 1;
  EXPECT_DOUBLE_EQ(o.liveRate(), 1.03);  // one core idle
  o.threads = 4;
  EXPECT_DOUBLE_EQ(o.liveRate(), 0.12);  // oversubscribed: no idle core
  o.liveShare = 0.0;
  o.threads = 1;
  EXPECT_EQ(o.liveRate(), 0.0) << "0 means none, idle core or not";
  o.liveShare = 1.0;
  EXPECT_EQ(o.liveRate(), std::numeric_limits<double>::infinity());
}

// While training runs on every core, the live analyses run their loops on the analysis
// and ring threads alone (no TBB arena: it would borrow the trainer's worker); with an
// idle core, in their arenas. The numbers are the same either way: engines of 2 threads on
// machines of 2 and of 4 hardware threads, everything live (liveShare 1), recording; the
// live state once the ring analysis covers the last snapshot (heatmap, PCA, path: all
// computed while recording), and the baseline, distances and function distances, bit for
// bit.
TEST(AnalysisEngine, LiveAnalysesGiveTheSameNumbersWithOrWithoutAnIdleCore) {
  const Fixture f(12);
  std::vector<std::shared_ptr<const AnalysisState>> live;
  for (const int hardware : {2, 4}) {
    AnalysisOptions o = f.options(5);
    o.threads = 2;
    o.hardwareThreads = hardware;
    o.liveShare = 1.0;
    o.fullAnalysisSeconds = 0.0;
    AnalysisEngine engine(f.mlp, o, f.inputs, f.labels);
    engine.setPhase(RunPhase::kRecording);
    engine.start();
    f.submit(engine, 0, 12);
    ASSERT_TRUE(waitFor(engine,
                        [](const AnalysisState& s) {
                          return s.distances.size() == 12 && s.function.size() == 12 && s.ring &&
                                 s.ring->snapshots.back().index == 11 && s.ring->pathSnapshot == 11;
                        }))
        << hardware << " hardware threads";
    live.push_back(engine.latest());
    engine.setPhase(RunPhase::kFinished);
    engine.finish();
  }
  const AnalysisState& a = *live[0];
  const AnalysisState& b = *live[1];
  ASSERT_TRUE(a.baseline && b.baseline);
  EXPECT_EQ(a.baseline->samples, b.baseline->samples);
  for (std::size_t k = 0; k < 12; ++k) {
    EXPECT_EQ(a.distances[k].d.distance, b.distances[k].d.distance) << k;
    EXPECT_EQ(a.distances[k].aligned, b.distances[k].aligned) << k;
    EXPECT_EQ(a.function[k].disagreement, b.function[k].disagreement) << k;
    EXPECT_EQ(a.function[k].kl, b.function[k].kl) << k;
  }
  const RingAnalysis& ra = *a.ring;
  const RingAnalysis& rb = *b.ring;
  EXPECT_TRUE((ra.distances.array() == rb.distances.array()).all());
  EXPECT_TRUE((ra.pca.projections.array() == rb.pca.projections.array()).all());
  EXPECT_EQ(ra.path.lossRaw, rb.path.lossRaw);
  EXPECT_EQ(ra.path.lossAligned, rb.path.lossAligned);
}

// While training within a limited budget, the Gram rows waiting for a ring analysis are
// computed a slice at a time (here two rows, the least), newest first, and the ring job
// waits for the last: the live heatmap is still exactly the distances of the snapshots in
// the ring. All 30 snapshots are queued before start() and a ring analysis is due only
// every second, so the second one finds the 9 rows of the ring of 9 waiting.
TEST(AnalysisEngine, GramRowsInSlicesWhileTrainingGiveTheExactHeatmap) {
  const Fixture f(30);
  AnalysisOptions o = f.options(9);
  o.liveShare = 0.5;
  o.hardwareThreads = 1;
  o.fullAnalysisSeconds = 1.0;
  o.gramRowsPerSlice = 1;  // taken as 2
  ASSERT_LT(o.liveRate(), std::numeric_limits<double>::infinity());
  AnalysisEngine engine(f.mlp, o, f.inputs, f.labels);
  engine.setPhase(RunPhase::kRecording);
  f.submit(engine, 0, 30);
  engine.start();
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) {
    return s.ring && s.ring->snapshots.size() == 9 && s.ring->snapshots.back().index == 29;
  }));
  EXPECT_GE(engine.gramSlices(), 4) << "9 waiting rows: slices of 2 until 1 is left for the job";
  const auto s = engine.latest();
  const RingAnalysis& ring = *s->ring;
  for (int a = 0; a < 9; ++a) {
    EXPECT_EQ(ring.snapshots[static_cast<std::size_t>(a)].index, 21 + a);
    for (int b = 0; b < 9; ++b) {
      const double direct = f.distance(21 + a, 21 + b);
      EXPECT_NEAR(ring.distances(a, b), direct, kDistanceRelTol * (1.0 + direct)) << a << "," << b;
    }
  }
  engine.stop();
}

void zeroBudgetRun(int threads);

// A budget of zero (no share, no idle core) lets nothing optional run while training: the
// function distances wait in their queue (computed only for snapshots about to leave the
// ring) and no ring analysis runs; finish() completes them. Every snapshot ends up with
// its function distance, equal to a direct computation, in snapshot order.
TEST(AnalysisEngine, ZeroLiveBudgetDefersOptionalAnalysesUntilFinish) {
  for (const int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    zeroBudgetRun(threads);
  }
}

void zeroBudgetRun(int threads) {
  const Fixture f(10);
  AnalysisOptions o = f.options(6);
  o.liveShare = 0.0;
  o.threads = threads;
  o.hardwareThreads = threads;
  ASSERT_EQ(o.liveRate(), 0.0);
  AnalysisEngine engine(f.mlp, o, f.inputs, f.labels);
  engine.setPhase(RunPhase::kRecording);
  engine.start();
  f.submit(engine, 0, 10);
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) { return s.distances.size() == 10; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a ring job would be due
  {
    const auto s = engine.latest();
    EXPECT_EQ(s->function.size(), 4u) << "only 0..3, which left the ring of 6";
    EXPECT_FALSE(s->ring) << "no ring analysis within a zero budget";
  }
  engine.setPhase(RunPhase::kFinished);
  engine.finish();
  const auto s = engine.latest();
  ASSERT_EQ(s->function.size(), 10u);
  f.expectFunctionSeries(*s);
  ASSERT_TRUE(s->ring);
  EXPECT_EQ(s->ring->pathSnapshot, 9);
}

// Logits handed over by the producer (Experiment: the trainer's evaluation of a snapshot
// taken at the end of an epoch) replace the forward pass of the evaluation inputs and
// give the same function distances, bit for bit; a snapshot whose outputs never come (or
// come in the wrong shape) gets the forward pass, at the latest when training ends.
TEST(AnalysisEngine, SubmittedOutputsReplaceTheForwardPassBitForBit) {
  const Fixture f(10);
  AnalysisEngine engine(f.mlp, f.options(20), f.inputs, f.labels);
  engine.setPhase(RunPhase::kRecording);
  engine.start();
  MlpWorkspace ws;
  for (int k = 0; k < 10; ++k) {
    const Vector& w = f.snapshots[static_cast<std::size_t>(k)];
    const SnapshotMeta& meta = f.metas[static_cast<std::size_t>(k)];
    engine.submitSnapshot(w.data(), meta, /*outputsFollow=*/true);
    if (k % 2 == 0) {
      engine.submitFunctionOutputs(meta.step, f.mlp.logitsInChunks(w.data(), f.inputs, ws));
    } else if (k == 9) {
      engine.submitFunctionOutputs(meta.step, RowMatrix::Zero(f.inputs.rows() - 1, 3));
    }
  }
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) { return s.function.size() == 9; }))
      << "all but the newest, which waits for outputs that never come";
  engine.setPhase(RunPhase::kFinished);
  engine.finish();
  const auto s = engine.latest();
  ASSERT_EQ(s->function.size(), 10u);
  f.expectFunctionSeries(*s);
  EXPECT_EQ(s->function[0].kl, 0.0);
  EXPECT_EQ(engine.functionForwardPasses(), 1 + 5) << "the reference and the odd snapshots";
}

// Paused, the budget does not limit: the skipped function distances are caught up
// without finish(), and the ring analysis (with the path) follows the newest snapshot.
TEST(AnalysisEngine, PausingCatchesUpDeferredAnalyses) {
  const Fixture f(8);
  AnalysisOptions o = f.options(20);
  o.liveShare = 0.0;
  o.hardwareThreads = 1;
  AnalysisEngine engine(f.mlp, o, f.inputs, f.labels);
  engine.setPhase(RunPhase::kRecording);
  engine.start();
  f.submit(engine, 0, 8);
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) { return s.distances.size() == 8; }));
  EXPECT_EQ(engine.latest()->function.size(), 0u);
  engine.setPhase(RunPhase::kPaused);
  ASSERT_TRUE(waitFor(engine, [](const AnalysisState& s) {
    return s.function.size() == 8 && s.ring && s.ring->pathSnapshot == 7;
  }));
  const auto s = engine.latest();
  for (int k = 0; k < 8; ++k) EXPECT_EQ(s->function[static_cast<std::size_t>(k)].meta.index, k);
  EXPECT_EQ(s->function[0].disagreement, 0.0);
  engine.stop();
}

}  // namespace
}  // namespace driftscope
