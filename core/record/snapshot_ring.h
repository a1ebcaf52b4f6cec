// SnapshotRing: the last C weight snapshots of a run in ONE C x P float block, allocated
// once (taking a snapshot is one memcpy), plus the reference snapshot pinned outside
// the ring so it never falls out. Slots are reused cyclically; chronological() lists
// the occupied slots oldest first. Not synchronised: owned by the analysis thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/eigen_types.h"

namespace driftscope {

struct SnapshotMeta {
  int index = -1;         // recording index: 0 = first snapshot (w_N)
  std::int64_t step = 0;  // SGD steps done when it was taken
  double epoch = 0.0;     // fractional epochs done
  float lr = 0.0f;        // learning rate in force
};

class SnapshotRing {
 public:
  SnapshotRing() = default;
  SnapshotRing(int capacity, std::size_t paramCount);

  int capacity() const { return m_capacity; }
  std::size_t paramCount() const { return m_paramCount; }
  int size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  std::uint64_t bytes() const;  // ring + reference

  // Copies `params` into the next slot (overwriting the oldest when full); returns the slot.
  int push(const float* params, const SnapshotMeta& meta);

  const float* slotData(int slot) const { return m_block.get() + slotOffset(slot); }
  const SnapshotMeta& slotMeta(int slot) const { return m_meta[static_cast<std::size_t>(slot)]; }
  std::vector<int> chronological() const;  // occupied slots, oldest first
  int newestSlot() const;
  int slotOfIndex(int snapshotIndex) const;  // -1 when it has left the ring

  void setReference(const float* params, const SnapshotMeta& meta);
  bool hasReference() const { return m_reference.size() > 0; }
  const Vector& reference() const { return m_reference; }
  const SnapshotMeta& referenceMeta() const { return m_referenceMeta; }

  // The whole ring as a chronological C' x P row-major matrix (a copy, for export).
  RowMatrix chronologicalMatrix() const;

 private:
  std::size_t slotOffset(int slot) const { return static_cast<std::size_t>(slot) * m_paramCount; }

  int m_capacity = 0;
  std::size_t m_paramCount = 0;
  // capacity x P, allocated by the first push (a ring that never records, like that of a
  // session saved before recording, costs nothing) and left uninitialised, so memory
  // pages are only touched (and counted in RSS) as snapshots fill them.
  std::unique_ptr<float[]> m_block;
  std::vector<SnapshotMeta> m_meta;
  int m_next = 0;  // slot the next push writes
  int m_size = 0;
  Vector m_reference;
  SnapshotMeta m_referenceMeta;
};

}  // namespace driftscope
