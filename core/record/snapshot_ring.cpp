#include "core/record/snapshot_ring.h"

#include <cassert>
#include <cstring>

namespace driftscope {

SnapshotRing::SnapshotRing(int capacity, std::size_t paramCount)
    : m_capacity(capacity), m_paramCount(paramCount), m_meta(static_cast<std::size_t>(capacity)) {
  assert(capacity >= 1);
}

std::uint64_t SnapshotRing::bytes() const {
  return (static_cast<std::size_t>(m_capacity) * m_paramCount +
          static_cast<std::size_t>(m_reference.size())) *
         sizeof(float);
}

int SnapshotRing::push(const float* params, const SnapshotMeta& meta) {
  const int slot = m_next;
  if (!m_block) m_block.reset(new float[static_cast<std::size_t>(m_capacity) * m_paramCount]);
  std::memcpy(m_block.get() + slotOffset(slot), params, m_paramCount * sizeof(float));
  m_meta[static_cast<std::size_t>(slot)] = meta;
  m_next = (m_next + 1) % m_capacity;
  if (m_size < m_capacity) ++m_size;
  return slot;
}

std::vector<int> SnapshotRing::chronological() const {
  std::vector<int> slots;
  slots.reserve(static_cast<std::size_t>(m_size));
  const int first = m_size < m_capacity ? 0 : m_next;
  for (int k = 0; k < m_size; ++k) slots.push_back((first + k) % m_capacity);
  return slots;
}

int SnapshotRing::newestSlot() const {
  assert(m_size > 0);
  return (m_next + m_capacity - 1) % m_capacity;
}

int SnapshotRing::slotOfIndex(int snapshotIndex) const {
  for (int slot : chronological()) {
    if (m_meta[static_cast<std::size_t>(slot)].index == snapshotIndex) return slot;
  }
  return -1;
}

void SnapshotRing::setReference(const float* params, const SnapshotMeta& meta) {
  m_reference = ConstVectorMap(params, static_cast<Eigen::Index>(m_paramCount));
  m_referenceMeta = meta;
}

RowMatrix SnapshotRing::chronologicalMatrix() const {
  const std::vector<int> slots = chronological();
  RowMatrix m(static_cast<Eigen::Index>(slots.size()), static_cast<Eigen::Index>(m_paramCount));
  for (std::size_t k = 0; k < slots.size(); ++k) {
    std::memcpy(m.row(static_cast<Eigen::Index>(k)).data(), slotData(slots[k]),
                m_paramCount * sizeof(float));
  }
  return m;
}

}  // namespace driftscope
