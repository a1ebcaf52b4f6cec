// Pairwise distances between the snapshots of the ring (design.md, "Pairwise distance
// heatmap"), through the Gram matrix of snapshots MINUS an anchor snapshot:
//   G_ij = <s_i - a, s_j - a>,   d_ij = sqrt(max(0, G_ii + G_jj - 2 G_ij)).
// Subtracting a nearby anchor (e.g. the reference w_ref) is what makes this usable: the raw
// Gram has ||w||^2 ~ 1e6 against d^2 ~ 1e-2 and cancels completely in float. Differences
// s - a are formed in double before any product and all sums are in double.
#pragma once

#include <cstddef>
#include <vector>

#include "core/eigen_types.h"
#include "core/parallel.h"

namespace driftscope {

// Gram matrix of the anchored snapshots, for the ring of a RingBuffer: `capacity` slots,
// slot s stored as row s of the caller's C x P float block, slots reused cyclically.
// Updated incrementally: adding a snapshot computes one row of G, O(C·P); a batch of new
// snapshots is added in one pass over the ring. Every entry has the same bits however the
// snapshots were batched and whatever the thread count.
// Invariants: G is symmetric; G(i, j) is meaningful iff both slots are occupied; an entry
// of an occupied slot was computed from the block row as it was when the slot was added,
// so every written slot must be added (addSnapshot or addSnapshots) before G is read.
// Thread-safety: not internally synchronised. Const methods may run concurrently with each
// other; a mutation needs exclusive access (the analysis task owns it).
class DistanceMatrix {
 public:
  explicit DistanceMatrix(int capacity);

  int capacity() const { return m_capacity; }
  std::size_t paramCount() const { return m_anchor.size(); }
  bool hasAnchor() const { return m_anchor.size() > 0; }
  bool isOccupied(int slot) const;

  // Copies the anchor (paramCount floats) and empties every slot: call rebuild() or re-add
  // the snapshots afterwards.
  void setAnchor(const float* anchor, std::size_t paramCount);

  // Slot `slot` of ringBlock (capacity x paramCount floats, row-major) now holds a new
  // snapshot: computes G(slot, j) for every occupied slot j and marks `slot` occupied.
  // Rows of other occupied slots must be unchanged since they were added.
  void addSnapshot(int slot, const float* ringBlock);
  void addSnapshot(int slot, const float* ringBlock, ParallelContext& parallel);

  // Several slots written since their rows were last computed (a batch of new snapshots,
  // in the order they were written; a slot listed twice counts at its last position):
  // marks them occupied and computes their rows of G against every occupied slot in one
  // pass over the ring per 64 new rows, so a batch costs far less memory traffic than
  // one addSnapshot() per slot. Bitwise the same G as those addSnapshot() calls in order.
  void addSnapshots(const std::vector<int>& slots, const float* ringBlock,
                    ParallelContext& parallel);

  // Marks a slot empty (its row of ringBlock is no longer a snapshot).
  void removeSnapshot(int slot);

  // Makes the snapshot in occupied slot `slot` the anchor without a pass over the ring:
  //   G'_ij = G_ij - G_is - G_js + G_ss   (= <r_i - r_s, r_j - r_s>)
  // for every occupied i, j, O(C^2) instead of rebuild()'s O(C^2 P); distances are
  // unchanged up to rounding. Every occupied slot must have been added.
  void moveAnchorToSlot(int slot, const float* ringBlock);

  // Recomputes G from scratch for `slots` (e.g. after setAnchor), marking exactly these
  // occupied. Same numbers as addSnapshot() up to rounding.
  void rebuild(const float* ringBlock, const std::vector<int>& slots, ParallelContext& parallel);

  // G restricted to the given occupied slots, in that (chronological) order.
  MatrixD gram(const std::vector<int>& slotsInOrder) const;
  // d_ij for the given occupied slots, in that order; exact zeros on the diagonal.
  RowMatrixD distances(const std::vector<int>& slotsInOrder) const;

 private:
  const float* row(const float* ringBlock, int slot) const;
  void addRows(const std::vector<int>& fresh, const float* ringBlock, ParallelContext* parallel);

  int m_capacity;
  VectorD m_anchor;  // empty until setAnchor()
  MatrixD m_gram;    // capacity x capacity
  std::vector<char> m_occupied;
};

// G_ij = <r_i - anchor, r_j - anchor> for n = rows.size() rows of paramCount floats, in
// double, from scratch. Parallel over a fixed tiling of G (tiles independent of the thread
// count; every entry is summed by one task in a fixed order), so results are bit-identical
// for any number of threads.
MatrixD anchoredGram(const std::vector<const float*>& rows, std::size_t paramCount,
                     const float* anchor, ParallelContext& parallel);
// Same for a contiguous row-major block of `rows` snapshots.
MatrixD anchoredGram(const float* block, int rows, std::size_t paramCount, const float* anchor,
                     ParallelContext& parallel);

// d_ij = sqrt(max(0, G_ii + G_jj - 2 G_ij)), symmetric with a zero diagonal.
RowMatrixD distancesFromGram(const MatrixD& gram);

}  // namespace driftscope
