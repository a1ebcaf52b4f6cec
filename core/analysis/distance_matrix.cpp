#include "core/analysis/distance_matrix.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <utility>

namespace driftscope {
namespace {

// Fixed work splits (never derived from the thread count).
constexpr int kRowUpdateChunks = 8;            // occupied slots per row update, split in 8 chunks
constexpr int kGramTileRows = 128;             // G is tiled in 128 x 128 blocks for anchoredGram
constexpr std::size_t kPanelColumns = 1024;    // parameters per panel of anchoredGram
constexpr std::size_t kRowColumnBlock = 1024;  // parameters per pass of a row update (8 KB a row)
constexpr std::size_t kMaxBatch = 64;          // new rows per pass of addSnapshots

// The row-update kernel: dot products of a tile of up to kTileFresh new rows x kTileOther
// ring rows over one column block. Each entry keeps kLanes partial sums (Eigen packets of
// doubles: one AVX-512 register, two AVX ones) updated by multiply-adds in column order and
// reduced in a fixed tree, so an entry gets exactly the same operations whatever tile it is
// computed in. The tile reads kTileFresh + kTileOther packets per kTileFresh x kTileOther
// multiply-adds, where one dot at a time read two per one and was bound by loads.
constexpr int kLanes = 8;
using Packet = Eigen::internal::packet_traits<double>::type;
constexpr int kPacket = Eigen::internal::packet_traits<double>::size;
static_assert(kLanes % kPacket == 0, "kLanes must be a whole number of packets");
constexpr int kPacketsPerEntry = kLanes / kPacket;
// Tile shape by vector width, so the accumulators (tile entries x kPacketsPerEntry) and
// the loaded packets fit the register file: AVX-512 2 x 4 (8 + 6 of 32 registers), AVX
// 2 x 2 (8 + 4 of 16), SSE2 or scalar 1 x 2 (8 + 3 of 16). An entry's bits do not depend on
// the shape (each entry is computed alone), only the speed does.
constexpr int kTileFresh = kPacket >= 4 ? 2 : 1;
constexpr int kTileOther = kPacket >= 8 ? 4 : 2;

// out[i * kTileOther + j] = sum_t x[i][t] * y[j][t], t < width (a multiple of kLanes).
template <int RI, int RJ>
void dotTile(const double* const* x, const double* const* y, std::size_t width, double* out) {
  namespace ei = Eigen::internal;
  Packet acc[RI][RJ][kPacketsPerEntry];
  for (auto& byRow : acc) {
    for (auto& byCol : byRow) {
      for (Packet& p : byCol) p = ei::pset1<Packet>(0.0);
    }
  }
  for (std::size_t t = 0; t < width; t += kLanes) {
    for (int q = 0; q < kPacketsPerEntry; ++q) {
      const std::size_t at = t + static_cast<std::size_t>(q * kPacket);
      Packet xv[RI];
      Packet yv[RJ];
      for (int i = 0; i < RI; ++i) xv[i] = ei::ploadu<Packet>(x[i] + at);
      for (int j = 0; j < RJ; ++j) yv[j] = ei::ploadu<Packet>(y[j] + at);
      for (int i = 0; i < RI; ++i) {
        for (int j = 0; j < RJ; ++j) acc[i][j][q] = ei::pmadd(xv[i], yv[j], acc[i][j][q]);
      }
    }
  }
  for (int i = 0; i < RI; ++i) {
    for (int j = 0; j < RJ; ++j) {
      double a[kLanes];
      for (int q = 0; q < kPacketsPerEntry; ++q) {
        ei::pstoreu(a + static_cast<std::ptrdiff_t>(q) * kPacket, acc[i][j][q]);
      }
      out[i * kTileOther + j] = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
    }
  }
}
static_assert(kLanes == 8, "the reduction tree above is written for 8 lanes");

using TileFn = void (*)(const double* const*, const double* const*, std::size_t, double*);
template <int RI, int... RJ>
constexpr std::array<TileFn, sizeof...(RJ)> tileRow(std::integer_sequence<int, RJ...>) {
  return {&dotTile<RI, RJ + 1>...};
}
template <int... RI>
constexpr std::array<std::array<TileFn, kTileOther>, sizeof...(RI)> tileTable(
    std::integer_sequence<int, RI...>) {
  return {tileRow<RI + 1>(std::make_integer_sequence<int, kTileOther>())...};
}
// kTiles[ri - 1][rj - 1] computes an ri x rj tile.
constexpr auto kTiles = tileTable(std::make_integer_sequence<int, kTileFresh>());

// G of rows minus a double anchor. The columns are taken in panels of kPanelColumns: all n
// rows of a panel are converted to double minus the anchor once (parallel over fixed
// groups of rows), then every lower-triangle tile of G (kGramTileRows square) adds the
// product of its two row blocks of the panel (parallel over tiles; Eigen's GEMM inside a
// tile). The tiles and panels are fixed units of work, independent of the thread count,
// and each tile is summed in panel order by one task, so the result is bit-identical for
// any number of threads.
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
  std::vector<MatrixD> acc(tiles.size());
  for (std::size_t t = 0; t < tiles.size(); ++t) {
    const int ni = std::min(kGramTileRows, n - tiles[t].first * kGramTileRows);
    const int nj = std::min(kGramTileRows, n - tiles[t].second * kGramTileRows);
    acc[t] = MatrixD::Zero(ni, nj);
  }
  RowMatrixD panel(n, static_cast<Eigen::Index>(std::min(kPanelColumns, paramCount)));
  for (std::size_t col = 0; col < paramCount; col += kPanelColumns) {
    const auto width = static_cast<Eigen::Index>(std::min(kPanelColumns, paramCount - col));
    const double* a = anchor.data() + col;
    parallel.forEach(blocks, [&](int b) {
      const int end = std::min(n, (b + 1) * kGramTileRows);
      for (int r = b * kGramTileRows; r < end; ++r) {
        const float* src = rows[static_cast<std::size_t>(r)] + col;
        double* dst = panel.row(r).data();
        for (Eigen::Index t = 0; t < width; ++t) dst[t] = static_cast<double>(src[t]) - a[t];
      }
    });
    parallel.forEach(static_cast<int>(tiles.size()), [&](int t) {
      const auto [bi, bj] = tiles[static_cast<std::size_t>(t)];
      MatrixD& tile = acc[static_cast<std::size_t>(t)];
      const auto left = panel.block(Eigen::Index{bi} * kGramTileRows, 0, tile.rows(), width);
      const auto right = panel.block(Eigen::Index{bj} * kGramTileRows, 0, tile.cols(), width);
      tile.noalias() += left * right.transpose();
    });
  }
  for (std::size_t t = 0; t < tiles.size(); ++t) {
    g.block(Eigen::Index{tiles[t].first} * kGramTileRows,
            Eigen::Index{tiles[t].second} * kGramTileRows, acc[t].rows(), acc[t].cols()) = acc[t];
  }
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
// blocks (kRowColumnBlock), in order, of dot(x_i, y_j), where x_i = row i - a and
// y_j = row j - a are formed in double; each block's dot is computed by dotTile (the same
// operations for an entry whatever tile it falls in); the diagonal is ||row i - a||^2 over
// the whole vector. So every entry has the same bits however the snapshots were batched
// and whatever the thread count (the tests check both). One pass over the ring serves the
// whole batch: each snapshot j streams through once per block.
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
    // Differences from the anchor, in double, zero-padded to a multiple of kLanes (a zero
    // term adds exactly nothing).
    const auto W = static_cast<Eigen::Index>(kRowColumnBlock);
    RowMatrixD x(k, W);
    RowMatrixD y(kTileOther, W);
    auto load = [&](double* dst, const float* src, const double* a, std::size_t width,
                    std::size_t padded) {
      for (std::size_t t = 0; t < width; ++t) dst[t] = static_cast<double>(src[t]) - a[t];
      for (std::size_t t = width; t < padded; ++t) dst[t] = 0.0;
    };
    std::array<const double*, kTileFresh> xs{};
    std::array<const double*, kTileOther> ys{};
    std::array<double, static_cast<std::size_t>(kTileFresh) * kTileOther> out{};
    for (std::size_t col = 0; col < P; col += kRowColumnBlock) {
      const std::size_t width = std::min(kRowColumnBlock, P - col);
      const std::size_t padded = (width + kLanes - 1) / kLanes * kLanes;
      const double* a = m_anchor.data() + col;
      for (int i = 0; i < k; ++i) {
        load(x.row(i).data(), row(ringBlock, fresh[static_cast<std::size_t>(i)]) + col, a, width,
             padded);
      }
      for (int cj0 = begin; cj0 < end; cj0 += kTileOther) {
        const int nj = std::min(kTileOther, end - cj0);
        // Fresh row i pairs with column cj iff that slot is older than i (position < i).
        int minPos = k;
        for (int q = 0; q < nj; ++q) {
          const int j = others[static_cast<std::size_t>(cj0) + static_cast<std::size_t>(q)];
          minPos = std::min(minPos, order[static_cast<std::size_t>(j)]);
        }
        if (minPos + 1 >= k) continue;  // only the newest fresh rows: no pair here
        for (int q = 0; q < nj; ++q) {
          const int j = others[static_cast<std::size_t>(cj0) + static_cast<std::size_t>(q)];
          load(y.row(q).data(), row(ringBlock, j) + col, a, width, padded);
          ys[static_cast<std::size_t>(q)] = y.row(q).data();
        }
        for (int i0 = minPos + 1; i0 < k; i0 += kTileFresh) {
          const int ni = std::min(kTileFresh, k - i0);
          for (int p = 0; p < ni; ++p) xs[static_cast<std::size_t>(p)] = x.row(i0 + p).data();
          kTiles[static_cast<std::size_t>(ni - 1)][static_cast<std::size_t>(nj - 1)](
              xs.data(), ys.data(), padded, out.data());
          for (int p = 0; p < ni; ++p) {
            for (int q = 0; q < nj; ++q) {
              const int cj = cj0 + q;
              const int pj = order[static_cast<std::size_t>(others[static_cast<std::size_t>(cj)])];
              if (pj >= i0 + p) continue;  // itself, or a later fresh one (which takes this pair)
              acc(i0 + p, cj) +=
                  out[static_cast<std::size_t>(p) * kTileOther + static_cast<std::size_t>(q)];
            }
          }
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

void DistanceMatrix::moveAnchorToSlot(int slot, const float* ringBlock) {
  assert(hasAnchor() && isOccupied(slot));
  std::vector<Eigen::Index> occ;
  for (int j = 0; j < m_capacity; ++j) {
    if (m_occupied[static_cast<std::size_t>(j)]) occ.push_back(j);
  }
  const VectorD toSlot = m_gram.col(slot);  // G_is before the update
  const double gss = m_gram(slot, slot);
  for (const Eigen::Index j : occ) {
    for (const Eigen::Index i : occ) {
      m_gram(i, j) = (m_gram(i, j) - toSlot(i)) - (toSlot(j) - gss);
    }
  }
  // Exact zeros and symmetry where they hold mathematically.
  for (const Eigen::Index j : occ) {
    for (const Eigen::Index i : occ) {
      if (i > j) m_gram(j, i) = m_gram(i, j);
    }
    m_gram(slot, j) = m_gram(j, slot) = 0.0;
  }
  m_anchor = Eigen::Map<const Vector>(row(ringBlock, slot), m_anchor.size()).cast<double>();
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
