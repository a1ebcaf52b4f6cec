#include "core/analysis/distance_matrix.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace driftscope {
namespace {

// Fixed work splits (never derived from the thread count).
constexpr int kRowUpdateChunks = 8;         // occupied slots per row update, split in 8 chunks
constexpr int kGramTileRows = 64;           // G is tiled in 64 x 64 blocks for anchoredGram
constexpr std::size_t kColumnBlock = 2048;  // parameters converted to double per pass
constexpr std::size_t kMaxBatch = 64;       // new rows per pass of addSnapshots

// G of rows minus a double anchor; tiles of G are the fixed units of parallel work.
MatrixD anchoredGramImpl(const std::vector<const float*>& rows, std::size_t paramCount,
                         const VectorD& anchor, ParallelContext& parallel) {
  const int n = static_cast<int>(rows.size());
  MatrixD g = MatrixD::Zero(n, n);
  if (n == 0) return g;
  const int blocks = (n + kGramTileRows - 1) / kGramTileRows;
  std::vector<std::pair<int, int>> tiles;  // (I, J) with I >= J: lower triangle of blocks
  for (int bi = 0; bi < blocks; ++bi) {
    for (int bj = 0; bj <= bi; ++bj) tiles.emplace_back(bi, bj);
  }
  auto fill = [&](MatrixD& dst, int firstRow, int count, std::size_t col, Eigen::Index width) {
    for (int r = 0; r < count; ++r) {
      const Eigen::Map<const Vector> src(
          rows[static_cast<std::size_t>(firstRow) + static_cast<std::size_t>(r)] + col, width);
      dst.row(r).head(width) =
          (src.cast<double>() - anchor.segment(static_cast<Eigen::Index>(col), width)).transpose();
    }
  };
  parallel.forEach(static_cast<int>(tiles.size()), [&](int t) {
    const auto [bi, bj] = tiles[static_cast<std::size_t>(t)];
    const int i0 = bi * kGramTileRows, ni = std::min(kGramTileRows, n - i0);
    const int j0 = bj * kGramTileRows, nj = std::min(kGramTileRows, n - j0);
    MatrixD tile = MatrixD::Zero(ni, nj);
    MatrixD di(ni, static_cast<Eigen::Index>(kColumnBlock));
    MatrixD dj(nj, static_cast<Eigen::Index>(kColumnBlock));
    for (std::size_t col = 0; col < paramCount; col += kColumnBlock) {
      const auto width = static_cast<Eigen::Index>(std::min(kColumnBlock, paramCount - col));
      fill(di, i0, ni, col, width);
      if (bi != bj) fill(dj, j0, nj, col, width);
      const MatrixD& right = (bi != bj) ? dj : di;
      tile.noalias() += di.leftCols(width) * right.leftCols(width).transpose();
    }
    g.block(i0, j0, ni, nj) = tile;  // tiles are disjoint: no race
  });
  // Mirror the lower triangle (the diagonal tiles' upper parts are overwritten too, so G is
  // exactly symmetric).
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) g(i, j) = g(j, i);
  }
  return g;
}

}  // namespace

DistanceMatrix::DistanceMatrix(int capacity)
    : m_capacity(capacity),
      m_gram(MatrixD::Zero(capacity, capacity)),
      m_occupied(static_cast<std::size_t>(capacity), 0) {
  assert(capacity > 0);
}

bool DistanceMatrix::isOccupied(int slot) const {
  assert(slot >= 0 && slot < m_capacity);
  return m_occupied[static_cast<std::size_t>(slot)] != 0;
}

void DistanceMatrix::setAnchor(const float* anchor, std::size_t paramCount) {
  assert(anchor != nullptr && paramCount > 0);
  m_anchor = Eigen::Map<const Vector>(anchor, static_cast<Eigen::Index>(paramCount)).cast<double>();
  m_gram.setZero();
  std::fill(m_occupied.begin(), m_occupied.end(), 0);
}

const float* DistanceMatrix::row(const float* ringBlock, int slot) const {
  return ringBlock + static_cast<std::size_t>(slot) * static_cast<std::size_t>(m_anchor.size());
}

void DistanceMatrix::addSnapshot(int slot, const float* ringBlock) {
  addRows({slot}, ringBlock, nullptr);
}

void DistanceMatrix::addSnapshot(int slot, const float* ringBlock, ParallelContext& parallel) {
  addRows({slot}, ringBlock, &parallel);
}

void DistanceMatrix::addSnapshots(const std::vector<int>& slots, const float* ringBlock,
                                  ParallelContext& parallel) {
  // A slot written twice counts at its last position (its data is the later snapshot).
  std::vector<int> fresh;
  for (int s : slots) {
    assert(s >= 0 && s < m_capacity);
    std::erase(fresh, s);
    fresh.push_back(s);
  }
  // Batches of kMaxBatch bound the memory; entries do not depend on the batching.
  for (std::size_t b = 0; b < fresh.size(); b += kMaxBatch) {
    const auto end = std::min(fresh.size(), b + kMaxBatch);
    addRows(std::vector<int>(fresh.begin() + static_cast<std::ptrdiff_t>(b),
                             fresh.begin() + static_cast<std::ptrdiff_t>(end)),
            ringBlock, &parallel);
  }
}

// The one kernel behind addSnapshot() and addSnapshots(). Entry (i, j) of a new slot i and
// an older snapshot j (occupied before, or earlier in `fresh`) is the sum over fixed column
// blocks, in order, of dot(x_i, y_j - a), where x_i = (row i - a) and y_j = row j, both
// converted to double into 64-byte aligned buffers of the same layout; the diagonal is
// ||row i - a||^2 over the whole vector. So every entry has the same bits however the
// snapshots were batched and whatever the thread count (the tests check both). One pass
// over the ring serves the whole batch: each snapshot j streams through once per block.
void DistanceMatrix::addRows(const std::vector<int>& fresh, const float* ringBlock,
                             ParallelContext* parallel) {
  assert(hasAnchor() && "setAnchor() before adding snapshots");
  assert(ringBlock != nullptr);
  if (fresh.empty()) return;
  std::vector<int> order(static_cast<std::size_t>(m_capacity), -1);  // position in fresh
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    order[static_cast<std::size_t>(fresh[i])] = static_cast<int>(i);
    m_occupied[static_cast<std::size_t>(fresh[i])] = 1;
  }
  std::vector<int> others;  // every occupied slot, the fresh ones included
  others.reserve(static_cast<std::size_t>(m_capacity));
  for (int j = 0; j < m_capacity; ++j) {
    if (m_occupied[static_cast<std::size_t>(j)]) others.push_back(j);
  }
  const int k = static_cast<int>(fresh.size());
  const int n = static_cast<int>(others.size());
  const int chunks = std::min(kRowUpdateChunks, n);
  const std::size_t P = paramCount();
  // acc(i, c) for fresh row i and occupied column c (only the pairs computed here).
  MatrixD acc = MatrixD::Zero(k, n);
  auto chunkFn = [&](int c) {
    const int begin = static_cast<int>(static_cast<long long>(n) * c / chunks);
    const int end = static_cast<int>(static_cast<long long>(n) * (c + 1) / chunks);
    RowMatrixD x(k, static_cast<Eigen::Index>(kColumnBlock));
    VectorD y(static_cast<Eigen::Index>(kColumnBlock));
    for (std::size_t col = 0; col < P; col += kColumnBlock) {
      const auto width = static_cast<Eigen::Index>(std::min(kColumnBlock, P - col));
      const auto a = m_anchor.segment(static_cast<Eigen::Index>(col), width);
      for (int i = 0; i < k; ++i) {
        const float* src = row(ringBlock, fresh[static_cast<std::size_t>(i)]) + col;
        double* dst = x.row(i).data();
        for (Eigen::Index t = 0; t < width; ++t) dst[t] = static_cast<double>(src[t]);
        x.row(i).head(width) -= a.transpose();
      }
      for (int cj = begin; cj < end; ++cj) {
        const int j = others[static_cast<std::size_t>(cj)];
        const int pj = order[static_cast<std::size_t>(j)];  // -1: an older snapshot
        // float -> double in a plain loop (vectorised by the compiler; Eigen's mixed-type
        // cast inside a dot product falls back to scalar code), then vectorised dots.
        const float* src = row(ringBlock, j) + col;
        double* dst = y.data();
        for (Eigen::Index t = 0; t < width; ++t) dst[t] = static_cast<double>(src[t]);
        const auto yj = y.head(width) - a;
        for (int i = 0; i < k; ++i) {
          if (pj >= i) continue;  // itself, or a later fresh one (which takes this pair)
          acc(i, cj) += x.row(i).head(width).dot(yj.transpose());
        }
      }
    }
  };
  if (parallel && chunks > 1) {
    parallel->forEach(chunks, chunkFn);
  } else {
    for (int c = 0; c < chunks; ++c) chunkFn(c);
  }
  for (int i = 0; i < k; ++i) {
    const int si = fresh[static_cast<std::size_t>(i)];
    for (int cj = 0; cj < n; ++cj) {
      const int j = others[static_cast<std::size_t>(cj)];
      const int pj = order[static_cast<std::size_t>(j)];
      if (pj >= i) continue;
      m_gram(si, j) = m_gram(j, si) = acc(i, cj);
    }
    const Eigen::Map<const Vector> r(row(ringBlock, si), m_anchor.size());
    const VectorD diff = r.cast<double>() - m_anchor;
    m_gram(si, si) = diff.squaredNorm();
  }
}

void DistanceMatrix::removeSnapshot(int slot) {
  assert(slot >= 0 && slot < m_capacity);
  m_occupied[static_cast<std::size_t>(slot)] = 0;
  m_gram.row(slot).setZero();
  m_gram.col(slot).setZero();
}

void DistanceMatrix::rebuild(const float* ringBlock, const std::vector<int>& slots,
                             ParallelContext& parallel) {
  assert(hasAnchor());
  m_gram.setZero();
  std::fill(m_occupied.begin(), m_occupied.end(), 0);
  std::vector<const float*> rows;
  rows.reserve(slots.size());
  for (int s : slots) {
    assert(s >= 0 && s < m_capacity);
    rows.push_back(row(ringBlock, s));
  }
  const MatrixD g = anchoredGramImpl(rows, paramCount(), m_anchor, parallel);
  for (std::size_t a = 0; a < slots.size(); ++a) {
    m_occupied[static_cast<std::size_t>(slots[a])] = 1;
    for (std::size_t b = 0; b < slots.size(); ++b) {
      m_gram(slots[a], slots[b]) = g(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b));
    }
  }
}

MatrixD DistanceMatrix::gram(const std::vector<int>& slotsInOrder) const {
  const auto n = static_cast<Eigen::Index>(slotsInOrder.size());
  MatrixD g(n, n);
  for (Eigen::Index a = 0; a < n; ++a) {
    assert(isOccupied(slotsInOrder[static_cast<std::size_t>(a)]));
    for (Eigen::Index b = 0; b < n; ++b) {
      g(a, b) = m_gram(slotsInOrder[static_cast<std::size_t>(a)],
                       slotsInOrder[static_cast<std::size_t>(b)]);
    }
  }
  return g;
}

RowMatrixD DistanceMatrix::distances(const std::vector<int>& slotsInOrder) const {
  return distancesFromGram(gram(slotsInOrder));
}

RowMatrixD distancesFromGram(const MatrixD& gram) {
  assert(gram.rows() == gram.cols());
  const Eigen::Index n = gram.rows();
  RowMatrixD d = RowMatrixD::Zero(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = i + 1; j < n; ++j) {
      const double sq = gram(i, i) + gram(j, j) - 2.0 * gram(i, j);
      d(i, j) = d(j, i) = std::sqrt(std::max(0.0, sq));
    }
  }
  return d;
}

MatrixD anchoredGram(const std::vector<const float*>& rows, std::size_t paramCount,
                     const float* anchor, ParallelContext& parallel) {
  assert(anchor != nullptr);
  const VectorD a =
      Eigen::Map<const Vector>(anchor, static_cast<Eigen::Index>(paramCount)).cast<double>();
  return anchoredGramImpl(rows, paramCount, a, parallel);
}

MatrixD anchoredGram(const float* block, int rows, std::size_t paramCount, const float* anchor,
                     ParallelContext& parallel) {
  std::vector<const float*> ptrs(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) ptrs[static_cast<std::size_t>(i)] = block + i * paramCount;
  return anchoredGram(ptrs, paramCount, anchor, parallel);
}

}  // namespace driftscope
