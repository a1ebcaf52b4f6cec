#include "core/analysis/distance_matrix.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/analysis/distance.h"
#include "tests/eigen_matchers.h"

namespace driftscope {
namespace {

constexpr double kRelTol = 1e-6;  // the contract: incremental == direct to 1e-6 relative

// Snapshots of norm ~1e3 whose mutual distances are ~0.1 (ratio 1e4), stored in float as in
// the app: base + small random walk steps.
class NearbySnapshots {
 public:
  NearbySnapshots(std::size_t p, std::uint64_t seed) : m_rng(seed), m_current(p) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const float baseScale = 1000.0f / std::sqrt(static_cast<float>(p));
    for (float& x : m_current) x = baseScale * normal(m_rng);
    m_stepScale = 0.1f / std::sqrt(static_cast<float>(p));
  }
  const std::vector<float>& next() {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& x : m_current) x += m_stepScale * normal(m_rng);
    return m_current;
  }

 private:
  std::mt19937_64 m_rng;
  std::vector<float> m_current;
  float m_stepScale = 0.0f;
};

// Minimal ring as the app's RingBuffer: C x P block, slot = index % C.
struct Ring {
  Ring(int capacity, std::size_t p) : capacity(capacity), p(p), block(capacity * p) {}
  int push(const std::vector<float>& snapshot) {
    const int slot = static_cast<int>(count % static_cast<std::size_t>(capacity));
    std::memcpy(block.data() + slot * p, snapshot.data(), p * sizeof(float));
    ++count;
    return slot;
  }
  std::vector<int> slotsInOrder() const {
    std::vector<int> slots;
    const std::size_t n = std::min<std::size_t>(count, capacity);
    for (std::size_t k = count - n; k < count; ++k) slots.push_back(int(k % capacity));
    return slots;
  }
  const float* row(int slot) const { return block.data() + slot * p; }

  int capacity;
  std::size_t p;
  std::vector<float> block;
  std::size_t count = 0;
};

RowMatrixD directDistances(const Ring& ring, const std::vector<int>& slots) {
  const auto n = static_cast<Eigen::Index>(slots.size());
  RowMatrixD d(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      d(i, j) = l2Distance(ring.row(slots[i]), ring.row(slots[j]), ring.p);
    }
  }
  return d;
}

double maxRelativeError(const RowMatrixD& got, const RowMatrixD& expected) {
  double worst = 0.0;
  for (Eigen::Index i = 0; i < got.rows(); ++i) {
    for (Eigen::Index j = 0; j < got.cols(); ++j) {
      if (i == j) continue;
      worst = std::max(worst, std::abs(got(i, j) - expected(i, j)) / expected(i, j));
    }
  }
  return worst;
}

TEST(DistanceMatrix, IncrementalMatchesDirectThroughRingWrapAround) {
  constexpr int kCapacity = 8;
  constexpr std::size_t kParams = 3000;
  NearbySnapshots walk(kParams, 7);
  Ring ring(kCapacity, kParams);
  const std::vector<float> anchor = walk.next();  // the pinned reference
  DistanceMatrix dm(kCapacity);
  dm.setAnchor(anchor.data(), kParams);
  for (int s = 0; s < 3 * kCapacity + 3; ++s) {
    const int slot = ring.push(walk.next());
    dm.addSnapshot(slot, ring.block.data());
    const std::vector<int> order = ring.slotsInOrder();
    const RowMatrixD expected = directDistances(ring, order);
    const RowMatrixD got = dm.distances(order);
    ASSERT_EQ(got.rows(), static_cast<Eigen::Index>(order.size()));
    if (order.size() > 1) {
      EXPECT_LT(maxRelativeError(got, expected), kRelTol) << "snapshot " << s;
    }
    EXPECT_EQ(got.diagonal().cwiseAbs().maxCoeff(), 0.0);
    EXPECT_TRUE(got.isApprox(got.transpose(), 0.0));
  }
}

// Batches of new snapshots (sizes 1..9, some larger than the ring so a slot is written
// twice before its row is computed) through several wrap-arounds: the same distances as
// the direct computation, exactly symmetric, and bitwise equal with 1 or 2 threads.
TEST(DistanceMatrix, BatchedRowsMatchDirectThroughRingWrapAround) {
  constexpr int kCapacity = 70;  // 8 chunks of ~9 ring rows: full and partial tiles
  constexpr std::size_t kParams = 2500;
  NearbySnapshots walk(kParams, 21);
  Ring ring(kCapacity, kParams);
  const std::vector<float> anchor = walk.next();
  ParallelContext serial(1);
  ParallelContext two(2);
  DistanceMatrix a(kCapacity), b(kCapacity);
  a.setAnchor(anchor.data(), kParams);
  b.setAnchor(anchor.data(), kParams);
  int batch = 1;
  for (int round = 0; round < 40; ++round) {
    std::vector<int> written;
    const int size = (round % 7 == 6) ? kCapacity + 3 : batch;
    for (int k = 0; k < size; ++k) written.push_back(ring.push(walk.next()));
    batch = batch % 9 + 1;
    a.addSnapshots(written, ring.block.data(), serial);
    b.addSnapshots(written, ring.block.data(), two);
    const std::vector<int> order = ring.slotsInOrder();
    const RowMatrixD got = a.distances(order);
    if (order.size() > 1) {
      EXPECT_LT(maxRelativeError(got, directDistances(ring, order)), kRelTol) << round;
    }
    const MatrixD g = a.gram(order);
    EXPECT_TRUE(g == g.transpose()) << round;
    EXPECT_TRUE(g == b.gram(order)) << round;
  }
}

// Every entry has the same bits however the snapshots were batched: one addSnapshot() per
// snapshot, and batches of varying size (a slot written twice within a batch included),
// give bitwise the same G at every point where both have seen the same snapshots.
TEST(DistanceMatrix, BatchingDoesNotChangeASingleBit) {
  // 40 slots: chunks of 5 ring rows, i.e. full 4-row tiles and remainders; 5001 params:
  // several column blocks, the last one padded to the kernel's 8 lanes.
  constexpr int kCapacity = 40;
  constexpr std::size_t kParams = 5001;
  NearbySnapshots walk(kParams, 5);
  Ring ring(kCapacity, kParams);
  const std::vector<float> anchor = walk.next();
  ParallelContext two(2);
  DistanceMatrix single(kCapacity), batched(kCapacity);
  single.setAnchor(anchor.data(), kParams);
  batched.setAnchor(anchor.data(), kParams);
  std::vector<int> pending;
  const int sizes[] = {1, 3, 7, 2, 45, 5, 1, 11, 30};
  for (int size : sizes) {
    for (int k = 0; k < size; ++k) {
      const int slot = ring.push(walk.next());
      single.addSnapshot(slot, ring.block.data());
      pending.push_back(slot);
    }
    batched.addSnapshots(pending, ring.block.data(), two);
    pending.clear();
    const std::vector<int> order = ring.slotsInOrder();
    const MatrixD a = single.gram(order);
    const MatrixD b = batched.gram(order);
    EXPECT_TRUE(a == b) << "batch of " << size << ": max diff " << (a - b).cwiseAbs().maxCoeff();
  }
}

TEST(DistanceMatrix, NaiveFloatGramOfRawWeightsFailsOnTheSameData) {
  // Guards the test above: on these snapshots the raw Gram in float is useless, so passing
  // there really needs the anchor subtraction and double accumulation.
  constexpr std::size_t kParams = 3000;
  NearbySnapshots walk(kParams, 7);
  RowMatrix raw(6, kParams);
  for (int i = 0; i < 6; ++i) raw.row(i) = ConstVectorMap(walk.next().data(), kParams);
  const RowMatrix g = raw * raw.transpose();
  double worst = 0.0;
  for (int i = 0; i < 6; ++i) {
    for (int j = i + 1; j < 6; ++j) {
      const double naive = std::sqrt(std::max(0.0f, g(i, i) + g(j, j) - 2.0f * g(i, j)));
      const double exact = l2Distance(raw.row(i).data(), raw.row(j).data(), kParams);
      worst = std::max(worst, std::abs(naive - exact) / exact);
    }
  }
  EXPECT_GT(worst, 0.1);
}

TEST(DistanceMatrix, RebuildAndFreeFunctionMatchIncremental) {
  constexpr int kCapacity = 10;
  constexpr std::size_t kParams = 2500;
  NearbySnapshots walk(kParams, 9);
  Ring ring(kCapacity, kParams);
  const std::vector<float> anchor = walk.next();
  DistanceMatrix dm(kCapacity);
  dm.setAnchor(anchor.data(), kParams);
  for (int s = 0; s < 14; ++s) dm.addSnapshot(ring.push(walk.next()), ring.block.data());
  const std::vector<int> order = ring.slotsInOrder();
  const RowMatrixD incremental = dm.distances(order);

  ParallelContext serial(1);
  std::vector<const float*> rows;
  for (int s : order) rows.push_back(ring.row(s));
  const MatrixD fresh = anchoredGram(rows, kParams, anchor.data(), serial);
  EXPECT_LT(maxRelativeError(distancesFromGram(fresh), incremental), kRelTol);
  EXPECT_LT(maxRelativeError(distancesFromGram(fresh), directDistances(ring, order)), kRelTol);

  // A new anchor (the user clicked another snapshot): rebuild gives the same distances.
  dm.setAnchor(ring.row(order[3]), kParams);
  EXPECT_FALSE(dm.isOccupied(order[0]));
  dm.rebuild(ring.block.data(), order, serial);
  EXPECT_LT(maxRelativeError(dm.distances(order), incremental), kRelTol);
  // With the anchor one of the snapshots, its Gram row is exactly zero.
  const MatrixD g = dm.gram(order);
  EXPECT_EQ(g.row(3).cwiseAbs().maxCoeff(), 0.0);
}

// Changing the reference moves the anchor in O(C^2): same G as a rebuild over the ring at
// the new anchor, and snapshots added afterwards are measured against the new anchor.
TEST(DistanceMatrix, MovingTheAnchorToASlotMatchesARebuild) {
  constexpr int kCapacity = 12;
  constexpr std::size_t kParams = 2501;  // a last column block that is not a multiple of 8
  NearbySnapshots walk(kParams, 21);
  Ring ring(kCapacity, kParams);
  const std::vector<float> anchor = walk.next();
  ParallelContext serial(1);
  DistanceMatrix moved(kCapacity);
  moved.setAnchor(anchor.data(), kParams);
  for (int s = 0; s < 17; ++s) moved.addSnapshot(ring.push(walk.next()), ring.block.data());
  std::vector<int> order = ring.slotsInOrder();
  const int newAnchor = order[4];
  moved.moveAnchorToSlot(newAnchor, ring.block.data());

  DistanceMatrix rebuilt(kCapacity);
  rebuilt.setAnchor(ring.row(newAnchor), kParams);
  rebuilt.rebuild(ring.block.data(), order, serial);
  const MatrixD gMoved = moved.gram(order);
  const MatrixD gRebuilt = rebuilt.gram(order);
  // Entries are ~1e-2 (squared distances between nearby snapshots); the rounding of the
  // update is ~1e-16 of the old entries, far below this bound.
  EXPECT_LT((gMoved - gRebuilt).cwiseAbs().maxCoeff(), 1e-12 * gRebuilt.cwiseAbs().maxCoeff());
  EXPECT_EQ(gMoved.row(4).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_TRUE(gMoved == gMoved.transpose());
  EXPECT_LT(maxRelativeError(moved.distances(order), directDistances(ring, order)), kRelTol);

  // The ring goes on (the new anchor's slot itself is overwritten eventually).
  for (int s = 0; s < 9; ++s) {
    const int slot = ring.push(walk.next());
    moved.addSnapshot(slot, ring.block.data());
    rebuilt.addSnapshot(slot, ring.block.data());
  }
  order = ring.slotsInOrder();
  EXPECT_LT(maxRelativeError(moved.distances(order), directDistances(ring, order)), kRelTol);
  EXPECT_LT(maxRelativeError(moved.distances(order), rebuilt.distances(order)), 1e-9);
}

TEST(DistanceMatrix, FreeFunctionMatchesBruteForceGramAcrossTiles) {
  // 300 rows: three 128-row tiles, one partial; 5000 params: several column panels, one
  // partial.
  constexpr int kRows = 300;
  constexpr std::size_t kParams = 5000;
  std::mt19937_64 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  RowMatrix block(kRows, kParams);
  for (Eigen::Index i = 0; i < block.size(); ++i) block.data()[i] = normal(rng);
  Vector anchor(kParams);
  for (Eigen::Index i = 0; i < anchor.size(); ++i) anchor(i) = normal(rng);
  const RowMatrixD centred = block.cast<double>().rowwise() - anchor.cast<double>().transpose();
  const MatrixD expected = centred * centred.transpose();
  ParallelContext serial(1);
  const MatrixD got = anchoredGram(block.data(), kRows, kParams, anchor.data(), serial);
  EXPECT_EIGEN_NEAR(got, expected, 1e-9);
  EXPECT_TRUE(got == got.transpose());
}

TEST(DistanceMatrix, SerialAndTwoThreadsAreBitwiseEqual) {
  constexpr int kCapacity = 140;  // > one 128-row tile of anchoredGram
  constexpr std::size_t kParams = 3000;
  NearbySnapshots walk(kParams, 13);
  Ring ring(kCapacity, kParams);
  const std::vector<float> anchor = walk.next();
  ParallelContext serial(1);
  ParallelContext two(2);
  DistanceMatrix a(kCapacity), b(kCapacity);
  a.setAnchor(anchor.data(), kParams);
  b.setAnchor(anchor.data(), kParams);
  for (int s = 0; s < kCapacity + 5; ++s) {
    const int slot = ring.push(walk.next());
    a.addSnapshot(slot, ring.block.data(), serial);
    b.addSnapshot(slot, ring.block.data(), two);
  }
  const std::vector<int> order = ring.slotsInOrder();
  EXPECT_TRUE(a.gram(order) == b.gram(order));
  EXPECT_TRUE(a.distances(order) == b.distances(order));

  std::vector<const float*> rows;
  for (int s : order) rows.push_back(ring.row(s));
  const MatrixD g1 = anchoredGram(rows, kParams, anchor.data(), serial);
  const MatrixD g2 = anchoredGram(rows, kParams, anchor.data(), two);
  EXPECT_TRUE(g1 == g2);
}

TEST(DistanceMatrix, RemovedSlotIsLeftOutAndRefilledSlotIsRecomputed) {
  constexpr std::size_t kParams = 100;
  Ring ring(4, kParams);
  NearbySnapshots walk(kParams, 17);
  const std::vector<float> anchor = walk.next();
  DistanceMatrix dm(4);
  dm.setAnchor(anchor.data(), kParams);
  for (int s = 0; s < 4; ++s) dm.addSnapshot(ring.push(walk.next()), ring.block.data());
  dm.removeSnapshot(2);
  EXPECT_FALSE(dm.isOccupied(2));
  EXPECT_TRUE(dm.isOccupied(1));
  const std::vector<int> rest = {0, 1, 3};
  EXPECT_LT(maxRelativeError(dm.distances(rest), directDistances(ring, rest)), kRelTol);

  // The ring overwrites slot 0 (oldest); stale entries of the old snapshot must not survive.
  const int slot = ring.push(walk.next());
  ASSERT_EQ(slot, 0);
  dm.addSnapshot(slot, ring.block.data());
  const std::vector<int> order = {1, 3, 0};
  EXPECT_LT(maxRelativeError(dm.distances(order), directDistances(ring, order)), kRelTol);
}

}  // namespace
}  // namespace driftscope
