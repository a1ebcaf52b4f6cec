#include "core/record/snapshot_ring.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/eigen_matchers.h"

namespace driftscope {
namespace {

constexpr std::size_t kParams = 5;

// Snapshot k: every entry encodes (k, position), so a mixed-up slot shows.
std::vector<float> snapshot(int k) {
  std::vector<float> w(kParams);
  for (std::size_t p = 0; p < kParams; ++p) w[p] = 100.0f * static_cast<float>(k) + p;
  return w;
}

SnapshotMeta metaOf(int k) {
  SnapshotMeta m;
  m.index = k;
  m.step = 10 * k + 3;
  m.epoch = 0.5 * k;
  m.lr = 0.01f * static_cast<float>(k + 1);
  return m;
}

void pushRange(SnapshotRing& ring, int from, int to) {
  for (int k = from; k < to; ++k) ring.push(snapshot(k).data(), metaOf(k));
}

void expectSlotHolds(const SnapshotRing& ring, int slot, int k) {
  SCOPED_TRACE("slot " + std::to_string(slot) + " should hold snapshot " + std::to_string(k));
  const std::vector<float> expected = snapshot(k);
  for (std::size_t p = 0; p < kParams; ++p) EXPECT_EQ(ring.slotData(slot)[p], expected[p]);
  const SnapshotMeta& m = ring.slotMeta(slot);
  EXPECT_EQ(m.index, k);
  EXPECT_EQ(m.step, metaOf(k).step);
  EXPECT_EQ(m.epoch, metaOf(k).epoch);
  EXPECT_EQ(m.lr, metaOf(k).lr);
}

TEST(SnapshotRing, BeforeWrapChronologicalIsPushOrder) {
  SnapshotRing ring(3, kParams);
  EXPECT_TRUE(ring.empty());
  EXPECT_TRUE(ring.chronological().empty());
  pushRange(ring, 0, 2);
  EXPECT_EQ(ring.size(), 2);
  EXPECT_EQ(ring.chronological(), (std::vector<int>{0, 1}));
  EXPECT_EQ(ring.newestSlot(), 1);
  expectSlotHolds(ring, 0, 0);
  expectSlotHolds(ring, 1, 1);
}

TEST(SnapshotRing, WrapAroundKeepsLastThreeOldestFirst) {
  SnapshotRing ring(3, kParams);
  pushRange(ring, 0, 7);
  EXPECT_EQ(ring.size(), 3);
  const std::vector<int> slots = ring.chronological();
  ASSERT_EQ(slots.size(), 3u);
  // 7 pushes into 3 slots: snapshot k lives in slot k % 3.
  EXPECT_EQ(slots, (std::vector<int>{1, 2, 0}));
  for (int k = 4; k < 7; ++k) expectSlotHolds(ring, slots[static_cast<std::size_t>(k - 4)], k);
  EXPECT_EQ(ring.newestSlot(), 0);
}

TEST(SnapshotRing, PushReturnsTheSlotWritten) {
  SnapshotRing ring(3, kParams);
  for (int k = 0; k < 8; ++k) {
    EXPECT_EQ(ring.push(snapshot(k).data(), metaOf(k)), k % 3);
    EXPECT_EQ(ring.newestSlot(), k % 3);
  }
}

TEST(SnapshotRing, SlotOfIndexFindsOnlySnapshotsStillInTheRing) {
  SnapshotRing ring(3, kParams);
  pushRange(ring, 0, 7);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(ring.slotOfIndex(k), -1) << k;
  for (int k = 4; k < 7; ++k) {
    const int slot = ring.slotOfIndex(k);
    ASSERT_GE(slot, 0) << k;
    expectSlotHolds(ring, slot, k);
  }
  EXPECT_EQ(ring.slotOfIndex(7), -1);
  // An unoccupied slot's default meta (index -1) is never reported.
  SnapshotRing partial(4, kParams);
  pushRange(partial, 0, 1);
  EXPECT_EQ(partial.slotOfIndex(-1), -1);
}

TEST(SnapshotRing, PinnedReferenceSurvivesOverwrites) {
  SnapshotRing ring(3, kParams);
  pushRange(ring, 0, 1);
  EXPECT_FALSE(ring.hasReference());
  ring.setReference(ring.slotData(0), metaOf(0));
  ASSERT_TRUE(ring.hasReference());
  pushRange(ring, 1, 10);
  EXPECT_EQ(ring.slotOfIndex(0), -1);  // snapshot 0 has left the ring
  const std::vector<float> w0 = snapshot(0);
  const Vector expected = Eigen::Map<const Vector>(w0.data(), kParams);
  EXPECT_EIGEN_NEAR(ring.reference(), expected, 0.0);
  EXPECT_EQ(ring.referenceMeta().index, 0);
  EXPECT_EQ(ring.referenceMeta().step, metaOf(0).step);
}

TEST(SnapshotRing, ChronologicalMatrixListsRowsOldestFirst) {
  SnapshotRing ring(3, kParams);
  pushRange(ring, 0, 5);
  const RowMatrix m = ring.chronologicalMatrix();
  ASSERT_EQ(m.rows(), 3);
  ASSERT_EQ(m.cols(), static_cast<Eigen::Index>(kParams));
  for (int r = 0; r < 3; ++r) {
    const std::vector<float> w = snapshot(2 + r);
    for (std::size_t p = 0; p < kParams; ++p) EXPECT_EQ(m(r, p), w[p]) << r << "," << p;
  }
}

TEST(SnapshotRing, BytesCountRingAndReference) {
  SnapshotRing ring(4, kParams);
  EXPECT_EQ(ring.bytes(), 4 * kParams * sizeof(float));
  pushRange(ring, 0, 1);
  ring.setReference(ring.slotData(0), metaOf(0));
  EXPECT_EQ(ring.bytes(), 5 * kParams * sizeof(float));
}

}  // namespace
}  // namespace driftscope
