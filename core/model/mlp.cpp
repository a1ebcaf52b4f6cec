#include "core/model/mlp.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/random.h"

namespace driftscope {

std::string toString(Activation a) { return a == Activation::kRelu ? "relu" : "tanh"; }
std::string toString(LossKind k) { return k == LossKind::kCrossEntropy ? "ce" : "mse"; }

Result<Activation> parseActivation(const std::string& text) {
  if (text == "relu") return Activation::kRelu;
  if (text == "tanh") return Activation::kTanh;
  return Status::error("activation: \"" + text + "\" is not one of relu, tanh");
}

Result<LossKind> parseLoss(const std::string& text) {
  if (text == "ce" || text == "cross-entropy") return LossKind::kCrossEntropy;
  if (text == "mse") return LossKind::kMse;
  return Status::error("loss: \"" + text + "\" is not one of ce, mse");
}

Vector Mlp::initialParams(std::uint64_t seed) const {
  Vector w = Vector::Zero(static_cast<Eigen::Index>(m_layout.paramCount()));
  Rng rng(deriveSeed(seed, /*stream=*/0));
  for (int l = 0; l < m_layout.numLayers(); ++l) {
    RowMatrixMap W = m_layout.weights(w.data(), l);
    const auto in = static_cast<double>(W.cols());
    const auto out = static_cast<double>(W.rows());
    if (m_activation == Activation::kRelu) {
      // He et al. 2015: N(0, 2 / fan_in).
      const double sd = std::sqrt(2.0 / in);
      for (Eigen::Index i = 0; i < W.size(); ++i) {
        W.data()[i] = static_cast<float>(sd * standardNormal(rng));
      }
    } else {
      // Glorot & Bengio 2010: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
      const double a = std::sqrt(6.0 / (in + out));
      for (Eigen::Index i = 0; i < W.size(); ++i) {
        W.data()[i] = static_cast<float>(a * (2.0 * uniform01(rng) - 1.0));
      }
    }
  }
  return w;
}

RowMatrix softmaxRows(const RowMatrix& logits) {
  RowMatrix p(logits.rows(), logits.cols());
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    const double m = logits.row(i).maxCoeff();
    double sum = 0.0;
    for (Eigen::Index k = 0; k < logits.cols(); ++k) sum += std::exp(logits(i, k) - m);
    for (Eigen::Index k = 0; k < logits.cols(); ++k) {
      p(i, k) = static_cast<float>(std::exp(logits(i, k) - m) / sum);
    }
  }
  return p;
}

namespace {

// Below ~4 MFLOP (~40 us) a block does not pay for waking a TBB worker (the trainer's
// former kMinShardFlops); below 64 rows or columns the GEMM kernel loses efficiency; 8
// blocks keep a few cores busy with equal shares.
constexpr double kMinBlockFlops = 4.0e6;
// Small batches on large layers are bound by memory, not FLOPs (batch 1: a step reads each
// weight matrix twice and writes it once): a product whose largest operand (the weight
// matrix) exceeds this is split too, so two cores stream it.
constexpr double kMinBlockBytes = 1.0e6;
constexpr Eigen::Index kMinBlockWidth = 64;
constexpr int kMaxBlocks = 8;
constexpr Eigen::Index kBlockAlign = 16;           // one AVX-512 register of floats
constexpr Eigen::Index kOuterChunkFloats = 16384;  // 64 KB: batch-1 weight-update chunks

namespace ei = Eigen::internal;
using Packet = ei::packet_traits<float>::type;
constexpr int kPacket = ei::packet_traits<float>::size;
// Blocks start at multiples of kBlockAlign: the first layer's tiles (kPacket units each)
// then never straddle two blocks, and every block's update writes its whole tiles.
static_assert(kBlockAlign % kPacket == 0);

// Forward products of at most this many rows (small training batches) run as register-
// tiled dot products (smallBatchProduct) instead of Eigen's GEMM, which packs the whole
// weight block for a few rows of work.
constexpr Eigen::Index kDotKernelMaxRows = 16;
constexpr int kDotTileInputs = kPacket >= 16 ? 4 : 2;  // accumulators fit the registers
constexpr int kDotTileWeights = 4;

// z(i, j) = sum_k x(i, k) w(j, k) for RX rows of x and RW rows of w: kPacket partial sums
// per entry over the whole packets of k, Eigen's fixed predux, then the remaining k with
// std::fma. Every entry gets the same operations whatever tile it falls in.
template <int RX, int RW>
inline void dotTile(const float* x, Eigen::Index ldX, const float* w, Eigen::Index ldW,
                    Eigen::Index K, float* z, Eigen::Index ldZ) {
  Packet acc[RX][RW];
  for (auto& row : acc) {
    for (Packet& p : row) p = ei::pset1<Packet>(0.0f);
  }
  const Eigen::Index whole = K / kPacket * kPacket;
  for (Eigen::Index k = 0; k < whole; k += kPacket) {
    Packet xv[RX];
    Packet wv[RW];
    for (int i = 0; i < RX; ++i) xv[i] = ei::ploadu<Packet>(x + i * ldX + k);
    for (int j = 0; j < RW; ++j) wv[j] = ei::ploadu<Packet>(w + j * ldW + k);
    for (int i = 0; i < RX; ++i) {
      for (int j = 0; j < RW; ++j) acc[i][j] = ei::pmadd(xv[i], wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < RX; ++i) {
    for (int j = 0; j < RW; ++j) {
      float sum = ei::predux(acc[i][j]);
      for (Eigen::Index k = whole; k < K; ++k) sum = std::fma(x[i * ldX + k], w[j * ldW + k], sum);
      z[i * ldZ + j] = sum;
    }
  }
}

// zb = x * wb^T for x [B, K] and wb [n, K] (rows of a weight matrix), zb [B, n] with
// leading dimension ldZ; B <= kDotKernelMaxRows.
void smallBatchProduct(const Eigen::Ref<const RowMatrix>& x, const float* wb, Eigen::Index ldW,
                       Eigen::Index n, float* zb, Eigen::Index ldZ) {
  const Eigen::Index B = x.rows();
  const Eigen::Index K = x.cols();
  const float* xd = x.data();
  const Eigen::Index ldX = x.outerStride();
  auto inputRows = [&]<int RW>(Eigen::Index j) {
    Eigen::Index i = 0;
    for (; i + kDotTileInputs <= B; i += kDotTileInputs) {
      dotTile<kDotTileInputs, RW>(xd + i * ldX, ldX, wb + j * ldW, ldW, K, zb + i * ldZ + j, ldZ);
    }
    for (; i < B; ++i) dotTile<1, RW>(xd + i * ldX, ldX, wb + j * ldW, ldW, K, zb + i * ldZ + j, ldZ);
  };
  Eigen::Index j = 0;
  for (; j + kDotTileWeights <= n; j += kDotTileWeights) {
    inputRows.template operator()<kDotTileWeights>(j);
  }
  for (; j < n; ++j) inputRows.template operator()<1>(j);
}

// ---- Dense products: Eigen's GEMM kernels (packing + gebp) with our cache blocking.
// Eigen's own blocking (computeProductBlockingSizes) sizes its depth block kc from all
// three sizes of a product, so a product cut into blocks may sum an entry differently
// from the whole; the products were therefore cut into fixed blocks (gemmBlockCount),
// even on one thread, and each block packed the batch-side operand again: 8 blocks of a
// 1024 x 1024 layer ran at 0.75-0.97x of the whole product with the blocking below, of a
// 784 x 128 layer at 0.6x (docs/benchmarks.md, session 8).
// Here kc depends on the depth alone (all of it up to kGemmMaxDepthBlock), so every entry
// is summed over k in the same order whatever block it falls in, provided the blocks start
// at multiples of kGemmAlign columns (whole micro-panels of mr rows in Eigen's transposed
// problem: its narrower panels at a block's end sum in another order; the test
// Mlp.DenseProductsMatchADoubleBackwardAndGiveTheSameBitsWholeOrSplit fails with 16).
// So a product may be split by the thread count without changing a bit: one thread runs
// it whole, two threads one block each (Blocks::kPerThread). Eigen computes a row-major
// dst as dst^T = rhs^T lhs^T: the batch side (dst's rows) is packed once and stays in L2
// (up to half of it, then in column panels), the weight side streams through in panels of
// mr rows (mc = mr measured best here: whole 1024 x 1024 products at batch 64-256 ran
// 1.1-1.25x faster than with Eigen's blocking, 1.1-1.3x faster than 8 blocks of it).
using GemmTraits = ei::gebp_traits<float, float>;
constexpr Eigen::Index kGemmMaxDepthBlock = 1024;
constexpr Eigen::Index kGemmAlign = std::lcm(kBlockAlign, Eigen::Index{GemmTraits::mr});

class GemmBlocking : public ei::level3_blocking<float, float> {
 public:
  GemmBlocking(Eigen::Index kc, Eigen::Index mc, Eigen::Index nc) {
    m_kc = kc;
    m_mc = mc;
    m_nc = nc;
  }
};

// Depth blocks of at most kGemmMaxDepthBlock, equal, rounded up to Eigen's peeling of 8.
Eigen::Index gemmDepthBlock(Eigen::Index depth) {
  const Eigen::Index blocks =
      std::max<Eigen::Index>(1, (depth + kGemmMaxDepthBlock - 1) / kGemmMaxDepthBlock);
  return ((depth + blocks - 1) / blocks + 7) / 8 * 8;
}

// The blocking of a product with `rows` rows of dst (the batch side) and inner dimension
// `depth`: kc from the depth alone, mc = mr, nc as many of the rows as fit half of L2 at
// that depth. gemmAccumulate and gemmAccumulatePackedWeights share it (the same blocks,
// the same bits).
GemmBlocking gemmBlocking(Eigen::Index rows, Eigen::Index depth) {
  const Eigen::Index kc = gemmDepthBlock(depth);
  const auto halfL2 = static_cast<Eigen::Index>(Eigen::l2CacheSize() / 2);
  const Eigen::Index fit =
      std::max<Eigen::Index>(GemmTraits::nr, halfL2 / (kc * Eigen::Index{sizeof(float)}) /
                                                 GemmTraits::nr * GemmTraits::nr);
  return {kc, GemmTraits::mr, std::min(rows, fit)};
}

// dst += alpha * lhs * rhs: dst [rows, cols] row-major with leading dimension ldDst; lhs
// [rows, depth] and rhs [depth, cols] stored in LhsOrder / RhsOrder (RowMajor: entry (i, k)
// at p[i * ld + k]; ColMajor: at p[k * ld + i]).
template <int LhsOrder, int RhsOrder>
void gemmAccumulate(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth, const float* lhs,
                    Eigen::Index ldLhs, const float* rhs, Eigen::Index ldRhs, float* dst,
                    Eigen::Index ldDst, float alpha) {
  if (rows == 0 || cols == 0 || depth == 0) return;
  GemmBlocking blocking = gemmBlocking(rows, depth);
  ei::general_matrix_matrix_product<Eigen::Index, float, LhsOrder, false, float, RhsOrder, false,
                                    Eigen::RowMajor, 1>::run(rows, cols, depth, lhs, ldLhs, rhs,
                                                             ldRhs, dst, 1, ldDst, alpha, blocking,
                                                             nullptr);
}

// ---- Packed weights (PackedWeights): the input gradient delta W of a layer after the
// first is computed by Eigen as W^T delta^T, with W^T packed into panels of mr rows (W's
// columns) for every product; its reads of W's columns jump a whole row (4 KB on a
// 1,024-input layer) per unit and missed L2 (784-1024-1024-10, batch 64: ~8% of a step).
// The fused update writes the new weights in this layer as well (packedWeightsOffset), and
// the next step's product runs Eigen's kernel on them (gemmAccumulatePackedWeights).
// Whole packets of W's columns only: inputs a multiple of kPacket, so every panel (mr
// columns, the last one mr, 2 or 1 packets) is packed as unit after unit of its width.
// Only weights of 1 MB or more (half this machine's L2): a 256 x 256 layer (256 KB, its
// columns read from L2) ran 0.98x with them (784-256-256-10, batch 64), 1,024 x 1,024
// 1.05x (docs/benchmarks.md, session 10).
constexpr double kPackedWeightsMinBytes = 1.0e6;

// Where entry (u, k) of W [units, inputs] lies in its packed layout.
Eigen::Index packedWeightsOffset(Eigen::Index u, Eigen::Index k, Eigen::Index units,
                                 Eigen::Index inputs) {
  const Eigen::Index panel = k / GemmTraits::mr * GemmTraits::mr;
  const Eigen::Index width = std::min<Eigen::Index>(GemmTraits::mr, inputs - panel);
  return panel * units + u * width + (k - panel);
}

// dst += alpha * lhs * W for lhs [rows, depth] (row-major, leading dimension ldLhs) and the
// columns [c0, c0 + cols) of W [depth, inputs] given packed (PackedWeights: packed + c0 *
// depth; c0 a multiple of mr): the very calls of gemmAccumulate<RowMajor, RowMajor> but
// the packing of W, so the same bits.
void gemmAccumulatePackedWeights(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth,
                                 const float* lhs, Eigen::Index ldLhs, const float* packed,
                                 float* dst, Eigen::Index ldDst, float alpha) {
  if (rows == 0 || cols == 0 || depth == 0) return;
  // Eigen's transposed problem: dst^T [cols, rows] = W^T [cols, depth] lhs^T [depth, rows]
  // (general_matrix_matrix_product's sequential loop, GeneralMatrixMatrix.h in Eigen 3.4).
  static_assert(EIGEN_VERSION_AT_LEAST(3, 4, 0) && !EIGEN_VERSION_AT_LEAST(3, 4, 1),
                "the loop below repeats Eigen 3.4.0's: check it against the new version");
  const GemmBlocking blocking = gemmBlocking(rows, depth);
  const Eigen::Index kc = blocking.kc();
  const Eigen::Index mc = std::min(cols, blocking.mc());
  const Eigen::Index nc = std::min(rows, blocking.nc());
  using RhsMapper = ei::const_blas_data_mapper<float, Eigen::Index, Eigen::ColMajor>;
  using ResMapper = ei::blas_data_mapper<float, Eigen::Index, Eigen::ColMajor, Eigen::Unaligned, 1>;
  const RhsMapper rhs(lhs, ldLhs);
  const ResMapper res(dst, ldDst, 1);
  ei::gemm_pack_rhs<float, Eigen::Index, RhsMapper, GemmTraits::nr, Eigen::ColMajor> packRhs;
  ei::gebp_kernel<float, float, Eigen::Index, ResMapper, GemmTraits::mr, GemmTraits::nr, false,
                  false>
      gebp;
  const std::unique_ptr<float, decltype(&ei::aligned_free)> packedRhs(
      static_cast<float*>(ei::aligned_malloc(static_cast<std::size_t>(kc * nc) * sizeof(float))),
      &ei::aligned_free);
  float* blockB = packedRhs.get();
  const bool packRhsOnce = mc != cols && kc == depth && nc == rows;
  for (Eigen::Index i2 = 0; i2 < cols; i2 += mc) {
    const Eigen::Index actualMc = std::min(i2 + mc, cols) - i2;
    for (Eigen::Index k2 = 0; k2 < depth; k2 += kc) {
      const Eigen::Index actualKc = std::min(k2 + kc, depth) - k2;
      const float* blockA = packed + i2 * depth + k2 * actualMc;
      for (Eigen::Index j2 = 0; j2 < rows; j2 += nc) {
        const Eigen::Index actualNc = std::min(j2 + nc, rows) - j2;
        if (!packRhsOnce || i2 == 0) packRhs(blockB, rhs.getSubMapper(k2, j2), actualKc, actualNc);
        gebp(res.getSubMapper(i2, j2), blockA, blockB, actualMc, actualKc, actualNc, alpha);
      }
    }
  }
}

#ifndef NDEBUG
// Whether `packed` holds W [units, inputs] (row-major) bit for bit (checks the reuse of
// packed weights across steps in builds with assertions: the tests').
bool packedWeightsHold(const float* packed, const float* w, Eigen::Index units,
                       Eigen::Index inputs) {
  for (Eigen::Index u = 0; u < units; ++u) {
    for (Eigen::Index k = 0; k < inputs; ++k) {
      if (std::bit_cast<std::uint32_t>(packed[packedWeightsOffset(u, k, units, inputs)]) !=
          std::bit_cast<std::uint32_t>(w[u * inputs + k])) {
        return false;
      }
    }
  }
  return true;
}
#endif

// ---- The first layer over the inputs off the background (SparseInput; MNIST: ~19% of
// the pixels). W is [units, inputs] row-major, so an input's weights are a strided
// column: the forward product copies W kPacket rows at a time transposed into
// SparseInput::tiles (inputs x kPacket each, ~50 KB at 784 inputs) and runs over each
// sample's entries from there; the update reads the same tiles and transposes the new
// weights back (docs/benchmarks.md, session 7).
// From 64 rows: with the threshold at 16 these kernels cost batch 16 17-23% (the
// transpositions cost the same at any batch; batches 17-63 were not measured).
// At most a quarter of the entries off the background: a sparse multiply-add costs ~3x a
// dense one inside Eigen's GEMM (three loads each), so at MNIST's 19% the forward product
// is ~1.5x faster than the GEMM, and the break-even is near 30% (Fashion-MNIST, ~50%,
// stays dense).
constexpr Eigen::Index kSparseInputMinRows = 64;
constexpr double kSparseInputMaxDensity = 0.25;
// Packets of units per pass of the sparse update: one multiply-add chain each, the
// entry's value broadcast once for all. 8 (128 units) against 4: 784-1024-1024-10 batch 64
// 1.03x (median of 8 rounds), the other shapes 1.0-1.05x; 16: 0.95x (session 10).
constexpr int kSparseUpdateTilePackets = 8;
// Multiply-add chains per sample in the sparse forward product (the k-th entry into chain
// k % chains; 4 measured the same).
constexpr int kSparseProductChains = 8;

// kPacket packets transposed in registers (Eigen's ptranspose). GCC warns that a template
// argument drops the vector type's alignment attribute; Eigen's own kernels use the same.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
using TransposeBlock = ei::PacketBlock<Packet, kPacket>;
#pragma GCC diagnostic pop

// t(i, r) = w(j + r, i) for i < K and r < n, 0 for n <= r < kPacket (t: K x kPacket).
void transposeRowsIn(const float* w, Eigen::Index ldW, Eigen::Index K, Eigen::Index j, int n,
                     float* t) {
  if (n == kPacket) {
    const float* rows = w + j * ldW;
    const Eigen::Index whole = K / kPacket * kPacket;
    for (Eigen::Index i = 0; i < whole; i += kPacket) {
      TransposeBlock block;
      for (int q = 0; q < kPacket; ++q) block.packet[q] = ei::ploadu<Packet>(rows + q * ldW + i);
      ei::ptranspose(block);
      for (int q = 0; q < kPacket; ++q) ei::pstoreu(t + (i + q) * kPacket, block.packet[q]);
    }
    for (Eigen::Index i = whole; i < K; ++i) {
      for (int q = 0; q < kPacket; ++q) t[i * kPacket + q] = rows[q * ldW + i];
    }
    return;
  }
  for (Eigen::Index i = 0; i < K; ++i) {
    for (int q = 0; q < kPacket; ++q) t[i * kPacket + q] = q < n ? w[(j + q) * ldW + i] : 0.0f;
  }
}

// next(j + r, i) = t(i, r) for i < K and r < kPacket.
void transposeRowsOut(const float* t, Eigen::Index K, float* next, Eigen::Index ldW,
                      Eigen::Index j) {
  float* rows = next + j * ldW;
  const Eigen::Index whole = K / kPacket * kPacket;
  for (Eigen::Index i = 0; i < whole; i += kPacket) {
    TransposeBlock block;
    for (int q = 0; q < kPacket; ++q) block.packet[q] = ei::ploadu<Packet>(t + (i + q) * kPacket);
    ei::ptranspose(block);
    for (int q = 0; q < kPacket; ++q) ei::pstoreu(rows + q * ldW + i, block.packet[q]);
  }
  for (Eigen::Index i = whole; i < K; ++i) {
    for (int q = 0; q < kPacket; ++q) rows[q * ldW + i] = t[i * kPacket + q];
  }
}

// Lists x's entries off the background by sample into s when the batch is sparse enough;
// otherwise s describes no batch. c: 0, or the majority value of the first row (Boyer-Moore
// vote) if more of that row's entries equal it.
void describeSparseInput(const Eigen::Ref<const RowMatrix>& x, SparseInput& s) {
  s.data = nullptr;
  const Eigen::Index B = x.rows();
  const Eigen::Index K = x.cols();
  if (B < kSparseInputMinRows || K == 0) return;
  float majority = x(0, 0);
  Eigen::Index votes = 0;
  for (Eigen::Index i = 0; i < K; ++i) {
    if (votes == 0) {
      majority = x(0, i);
      votes = 1;
    } else {
      votes += x(0, i) == majority ? 1 : -1;
    }
  }
  Eigen::Index zeros = 0;
  Eigen::Index majorities = 0;
  for (Eigen::Index i = 0; i < K; ++i) {
    zeros += x(0, i) == 0.0f ? 1 : 0;
    majorities += x(0, i) == majority ? 1 : 0;
  }
  const float c = majorities > zeros ? majority : 0.0f;
  // kPacket entries of slack: the vector loop below stores whole packets.
  const auto capacity = static_cast<std::size_t>(B * K + kPacket);
  if (s.rowIndex.size() < capacity) {
    s.rowIndex.resize(capacity);
    s.rowValue.resize(capacity);
  }
  s.rowStart.resize(static_cast<std::size_t>(B + 1));
  int* index = s.rowIndex.data();
  float* value = s.rowValue.data();
  int n = 0;
  for (Eigen::Index b = 0; b < B; ++b) {
    s.rowStart[static_cast<std::size_t>(b)] = n;
    const float* row = x.data() + b * x.outerStride();
    Eigen::Index i = 0;
#if defined(__AVX512F__)
    // 16 entries at a time: compare with c, compress the entries off c and their inputs.
    const __m512 cv = _mm512_set1_ps(c);
    __m512i inputs = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i sixteen = _mm512_set1_epi32(16);
    for (; i + 16 <= K; i += 16) {
      const __m512 v = _mm512_loadu_ps(row + i);
      const __mmask16 off = _mm512_cmp_ps_mask(v, cv, _CMP_NEQ_UQ);
      _mm512_storeu_ps(value + n, _mm512_maskz_compress_ps(off, _mm512_sub_ps(v, cv)));
      _mm512_storeu_si512(index + n, _mm512_maskz_compress_epi32(off, inputs));
      n += __builtin_popcount(off);
      inputs = _mm512_add_epi32(inputs, sixteen);
    }
#endif
    for (; i < K; ++i) {  // branch-free: write, then keep if off c
      index[n] = static_cast<int>(i);
      value[n] = row[i] - c;
      n += row[i] != c ? 1 : 0;
    }
    if (!usesSparseInput(B, K, n)) return;  // too dense already: stop listing (n only grows)
  }
  s.rowStart[static_cast<std::size_t>(B)] = n;
  s.background = c;
  s.data = x.data();
  s.rows = B;
}

// The same entries by input (each input's samples in increasing order).
void listSparseInputByColumn(SparseInput& s, Eigen::Index K) {
  const auto B = static_cast<std::size_t>(s.rows);
  const auto n = static_cast<std::size_t>(s.rowStart[B]);
  s.colStart.assign(static_cast<std::size_t>(K + 1), 0);
  for (std::size_t p = 0; p < n; ++p) ++s.colStart[static_cast<std::size_t>(s.rowIndex[p]) + 1];
  for (std::size_t i = 0; i < static_cast<std::size_t>(K); ++i) s.colStart[i + 1] += s.colStart[i];
  s.colIndex.resize(n);
  s.colValue.resize(n);
  s.colFill.assign(s.colStart.begin(), s.colStart.end() - 1);
  for (std::size_t b = 0; b < B; ++b) {
    for (auto p = static_cast<std::size_t>(s.rowStart[b]);
         p < static_cast<std::size_t>(s.rowStart[b + 1]); ++p) {
      const auto q = static_cast<std::size_t>(s.colFill[static_cast<std::size_t>(s.rowIndex[p])]++);
      s.colIndex[q] = static_cast<int>(b);
      s.colValue[q] = s.rowValue[p];
    }
  }
}

// s.tiles sized for a layer of `units` rows of K inputs.
void sizeTiles(SparseInput& s, Eigen::Index units, Eigen::Index K) {
  const Eigen::Index tiles = (units + kPacket - 1) / kPacket;
  s.tiles.resize(static_cast<std::size_t>(tiles * K * kPacket));
}

// Tiles of rows [j0, j0 + count) of w (j0 a multiple of kPacket; `units` rows in all).
void fillTiles(SparseInput& s, const float* w, Eigen::Index ldW, Eigen::Index K, Eigen::Index units,
               Eigen::Index j0, Eigen::Index count) {
  for (Eigen::Index j = j0; j < j0 + count; j += kPacket) {
    const int n = static_cast<int>(std::min<Eigen::Index>(kPacket, units - j));
    transposeRowsIn(w, ldW, K, j, n, s.tiles.data() + j * K);
  }
}

#ifndef NDEBUG
// Whether the tile of rows [j, j + kPacket) holds w's rows bit for bit (checks the reuse of
// the tiles across steps in builds with assertions: the tests').
bool tileHolds(const SparseInput& s, const float* w, Eigen::Index ldW, Eigen::Index K,
               Eigen::Index j) {
  const float* t = s.tiles.data() + j * K;
  for (Eigen::Index i = 0; i < K; ++i) {
    for (int q = 0; q < kPacket; ++q) {
      if (std::bit_cast<std::uint32_t>(t[i * kPacket + q]) !=
          std::bit_cast<std::uint32_t>(w[(j + q) * ldW + i])) {
        return false;
      }
    }
  }
  return true;
}
#endif

// zb = x * wb^T = c * (row sums of wb) + (x - c) * wb^T over the entries off c, for wb =
// rows [j0, j0 + count) of the first layer's weights (s.tiles), zb [B, count] with
// leading dimension ldZ. Per tile: its row sums (c != 0) in four chains over the inputs
// (input i into chain i % 4); then for each sample kSparseProductChains multiply-add
// chains over its entries in order (the k-th into chain k % chains, the first starting
// from c times the row sums), summed pairwise in a fixed order. An entry's operations do
// not depend on the block it falls in.
void sparseInputProduct(const SparseInput& s, Eigen::Index K, Eigen::Index j0, Eigen::Index count,
                        float* zb, Eigen::Index ldZ) {
  const int* index = s.rowIndex.data();
  const float* value = s.rowValue.data();
  for (Eigen::Index j = 0; j < count; j += kPacket) {
    const int n = static_cast<int>(std::min<Eigen::Index>(kPacket, count - j));
    const float* t = s.tiles.data() + (j0 + j) * K;
    Packet base = ei::pset1<Packet>(0.0f);
    if (s.background != 0.0f) {
      Packet r[4] = {base, base, base, base};
      Eigen::Index i = 0;
      for (; i + 4 <= K; i += 4) {
        for (int q = 0; q < 4; ++q)
          r[q] = ei::padd(r[q], ei::ploadu<Packet>(t + (i + q) * kPacket));
      }
      for (int q = 0; i + q < K; ++q)
        r[q] = ei::padd(r[q], ei::ploadu<Packet>(t + (i + q) * kPacket));
      base = ei::pmul(ei::pset1<Packet>(s.background),
                      ei::padd(ei::padd(r[0], r[1]), ei::padd(r[2], r[3])));
    }
    for (Eigen::Index b = 0; b < s.rows; ++b) {
      const int begin = s.rowStart[static_cast<std::size_t>(b)];
      const int end = s.rowStart[static_cast<std::size_t>(b) + 1];
      Packet c[kSparseProductChains];
      c[0] = base;
      for (int q = 1; q < kSparseProductChains; ++q) c[q] = ei::pset1<Packet>(0.0f);
      int p = begin;
      for (; p + kSparseProductChains <= end; p += kSparseProductChains) {
        for (int q = 0; q < kSparseProductChains; ++q) {
          c[q] = ei::pmadd(ei::pset1<Packet>(value[p + q]),
                           ei::ploadu<Packet>(t + Eigen::Index{index[p + q]} * kPacket), c[q]);
        }
      }
      for (int q = 0; p + q < end; ++q) {
        c[q] = ei::pmadd(ei::pset1<Packet>(value[p + q]),
                         ei::ploadu<Packet>(t + Eigen::Index{index[p + q]} * kPacket), c[q]);
      }
      for (int width = kSparseProductChains / 2; width > 0; width /= 2) {  // pairwise, fixed
        for (int q = 0; q < width; ++q) c[q] = ei::padd(c[q], c[q + width]);
      }
      float* out = zb + b * ldZ + j;
      if (n == kPacket) {
        ei::pstoreu(out, c[0]);
      } else {
        alignas(64) float lanes[kPacket];
        ei::pstore(lanes, c[0]);
        std::copy(lanes, lanes + n, out);
      }
    }
  }
}

// The fused SGD update of rows [r0, r0 + nr) of the first layer (all K columns) over the
// entries off the background c: next(r, i) = decay * w(r, i) - lr * g(r, i) with
// g(r, i) = sum_b d(b, r) x(b, i) = c * sum_b d(b, r) + sum_b d(b, r) (x(b, i) - c), the
// last sum over the samples with x(b, i) != c in increasing order. With c = 0 that is
// updateTile's arithmetic with the zero terms left out, which only add +-0 to the sum: the
// same bits as the dense kernel where pmadd is a fused multiply-add (builds for CPUs with
// FMA; in a portable build the scalar edges' std::fma falls on other entries here than
// there, and those differ in the last bit). CT tiles at a time (one multiply-add chain each), from
// s.tiles (w transposed), updated there and transposed out; the rows after the last whole
// tile entry by entry from w (std::fma, as scalarUpdateEntry). In place is safe: the
// tiles hold the old weights. False when an entry is not finite.
template <int CT>
Packet sparseUpdateTiles(SparseInput& s, const float* d, Eigen::Index ldD, float* next,
                         Eigen::Index ldW, Eigen::Index K, Eigen::Index r, float decay, float lr) {
  float* t[CT];
  for (int c = 0; c < CT; ++c) t[c] = s.tiles.data() + (r + Eigen::Index{c} * kPacket) * K;
  const Packet decayv = ei::pset1<Packet>(decay);
  const Packet neglr = ei::pset1<Packet>(-lr);
  Packet check = ei::pset1<Packet>(0.0f);
  Packet base[CT];  // c * sum_b d(b, r), summed over b in order
  for (Packet& p : base) p = ei::pset1<Packet>(0.0f);
  if (s.background != 0.0f) {
    for (Eigen::Index b = 0; b < s.rows; ++b) {
      for (int c = 0; c < CT; ++c) {
        base[c] =
            ei::padd(base[c], ei::ploadu<Packet>(d + b * ldD + r + Eigen::Index{c} * kPacket));
      }
    }
    for (Packet& p : base) p = ei::pmul(ei::pset1<Packet>(s.background), p);
  }
  for (Eigen::Index i = 0; i < K; ++i) {
    Packet acc[CT];
    for (int c = 0; c < CT; ++c) acc[c] = base[c];
    const int end = s.colStart[static_cast<std::size_t>(i) + 1];
    for (int p = s.colStart[static_cast<std::size_t>(i)]; p < end; ++p) {
      const Packet xv = ei::pset1<Packet>(s.colValue[static_cast<std::size_t>(p)]);
      const float* db = d + Eigen::Index{s.colIndex[static_cast<std::size_t>(p)]} * ldD + r;
      for (int c = 0; c < CT; ++c) {
        acc[c] = ei::pmadd(ei::ploadu<Packet>(db + Eigen::Index{c} * kPacket), xv, acc[c]);
      }
    }
    for (int c = 0; c < CT; ++c) {
      float* at = t[c] + i * kPacket;
      const Packet o = ei::pmadd(neglr, acc[c], ei::pmul(decayv, ei::ploadu<Packet>(at)));
      ei::pstoreu(at, o);
      check = ei::padd(check, ei::psub(o, o));
    }
  }
  for (int c = 0; c < CT; ++c) transposeRowsOut(t[c], K, next, ldW, r + Eigen::Index{c} * kPacket);
  return check;
}

bool sparseInputUpdate(SparseInput& s, const float* d, Eigen::Index ldD, const float* w,
                       float* next, Eigen::Index ldW, Eigen::Index K, Eigen::Index r0,
                       Eigen::Index nr, float decay, float lr) {
  constexpr Eigen::Index wide = Eigen::Index{kSparseUpdateTilePackets} * kPacket;
  Packet check = ei::pset1<Packet>(0.0f);
  Eigen::Index r = r0;
  for (; r + wide <= r0 + nr; r += wide) {
    check = ei::padd(
        check, sparseUpdateTiles<kSparseUpdateTilePackets>(s, d, ldD, next, ldW, K, r, decay, lr));
  }
  // The last packets of the block (blocks of 32-112 units on two threads) in passes of 4,
  // 2 and 1: each unit gets the same operations in a pass of any width.
  static_assert(kSparseUpdateTilePackets == 8, "the passes below assume 8 packets");
  if (r + 4 * kPacket <= r0 + nr) {
    check = ei::padd(check, sparseUpdateTiles<4>(s, d, ldD, next, ldW, K, r, decay, lr));
    r += 4 * kPacket;
  }
  if (r + 2 * kPacket <= r0 + nr) {
    check = ei::padd(check, sparseUpdateTiles<2>(s, d, ldD, next, ldW, K, r, decay, lr));
    r += 2 * kPacket;
  }
  if (r + kPacket <= r0 + nr) {
    check = ei::padd(check, sparseUpdateTiles<1>(s, d, ldD, next, ldW, K, r, decay, lr));
    r += kPacket;
  }
  float scalarCheck = 0.0f;
  for (; r < r0 + nr; ++r) {
    float base = 0.0f;
    if (s.background != 0.0f) {
      for (Eigen::Index b = 0; b < s.rows; ++b) base += d[b * ldD + r];
      base *= s.background;
    }
    for (Eigen::Index i = 0; i < K; ++i) {
      float acc = base;
      const int end = s.colStart[static_cast<std::size_t>(i) + 1];
      for (int p = s.colStart[static_cast<std::size_t>(i)]; p < end; ++p) {
        acc = std::fma(d[Eigen::Index{s.colIndex[static_cast<std::size_t>(p)]} * ldD + r],
                       s.colValue[static_cast<std::size_t>(p)], acc);
      }
      const float o = std::fma(-lr, acc, decay * w[r * ldW + i]);
      next[r * ldW + i] = o;
      scalarCheck += o - o;
    }
  }
  return std::isfinite(ei::predux(check) + scalarCheck);
}

template <typename Block>
void applyActivation(Activation a, Block&& z) {
  if (a == Activation::kRelu) {
    z = z.cwiseMax(0.0f);
  } else {
    z = z.array().tanh().matrix();
  }
}

// Calls f(byRows, begin, count) for the blocks of a rows x cols product (inner dimension
// `inner`), split along its larger dimension; on `parallel` if given.
// blocks: kFixed: gemmBlockCount blocks whatever the threads. Otherwise every output
// element is computed on its own whatever the blocks, so the split may depend on the
// threads without changing a bit: one block without a second thread (splitting it only
// cost time there); kAny (outer products, inner == 1; the sparse first layer):
// gemmBlockCount blocks on several threads; kPerThread (gemmAccumulate, which packs the
// batch side again for every block): at most kGemmBlocksPerThread per thread.
// split: along the larger dimension, or along the rows or the columns whatever the shape.
enum class Split { kLarger, kRows, kColumns };
enum class Blocks { kFixed, kAny, kPerThread };
constexpr int kGemmBlocksPerThread = 1;
template <typename F>
void forEachProductBlock(ParallelContext* parallel, Eigen::Index rows, Eigen::Index cols,
                         Eigen::Index inner, const F& f, Blocks blocks = Blocks::kFixed,
                         Split split = Split::kLarger) {
  const bool byRows = split == Split::kRows || (split == Split::kLarger && rows > cols);
  const Eigen::Index n = byRows ? rows : cols;
  const bool serial = parallel == nullptr || parallel->threads() == 1;
  int parts = gemmBlockCount(rows, cols, inner);
  if (blocks != Blocks::kFixed && serial) parts = 1;
  if (blocks == Blocks::kPerThread && !serial) {
    parts = std::min(parts, parallel->threads() * kGemmBlocksPerThread);
  }
  // A GEMM's columns at multiples of kGemmAlign (gemmAccumulate's micro-panels), all other
  // edges at multiples of kBlockAlign.
  const Eigen::Index align = !byRows && blocks == Blocks::kPerThread ? kGemmAlign : kBlockAlign;
  auto edge = [&](int p) -> Eigen::Index {
    if (p >= parts) return n;
    return std::min(n, (n * p / parts + align / 2) / align * align);
  };
  auto run = [&](int p) {
    const Eigen::Index begin = edge(p);
    const Eigen::Index end = edge(p + 1);
    if (end > begin) f(byRows, begin, end - begin);
  };
  if (parallel != nullptr && parts > 1) {
    parallel->forEach(parts, run);
  } else {
    for (int p = 0; p < parts; ++p) run(p);
  }
}

}  // namespace

bool usesSparseInput(Eigen::Index rows, Eigen::Index inputs, std::int64_t nonzeros) {
  return rows >= kSparseInputMinRows &&
         static_cast<double>(nonzeros) <=
             kSparseInputMaxDensity * static_cast<double>(rows) * static_cast<double>(inputs);
}

bool packsWeights(Eigen::Index units, Eigen::Index inputs) {
  return inputs % kPacket == 0 &&
         4.0 * static_cast<double>(units) * static_cast<double>(inputs) >= kPackedWeightsMinBytes;
}

int gemmBlockCount(Eigen::Index rows, Eigen::Index cols, Eigen::Index inner) {
  const double flops =
      2.0 * static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(inner);
  const double largestOperand =
      4.0 * static_cast<double>(std::max({rows * cols, rows * inner, cols * inner}));
  const auto byWork =
      static_cast<Eigen::Index>(std::max(flops / kMinBlockFlops, largestOperand / kMinBlockBytes));
  const Eigen::Index byWidth = std::max(rows, cols) / kMinBlockWidth;
  return static_cast<int>(std::clamp<Eigen::Index>(std::min(byWork, byWidth), 1, kMaxBlocks));
}

RowMatrix Mlp::forward(const float* params, const Eigen::Ref<const RowMatrix>& x, MlpWorkspace& ws,
                       ParallelContext* parallel) const {
  return forwardPass(params, x, ws, parallel, /*reuseTiles=*/false);
}

const RowMatrix& Mlp::forwardPass(const float* params, const Eigen::Ref<const RowMatrix>& x,
                                  MlpWorkspace& ws, ParallelContext* parallel,
                                  bool reuseTiles) const {
  const int L = m_layout.numLayers();
  ws.activations.resize(static_cast<std::size_t>(L));
  const Eigen::Index B = x.rows();
  for (int l = 0; l < L; ++l) {
    const ConstRowMatrixMap W = m_layout.weights(params, l);
    const ConstVectorMap b = m_layout.bias(params, l);
    RowMatrix& z = ws.activations[static_cast<std::size_t>(l)];
    const Eigen::Ref<const RowMatrix> in =
        l == 0 ? x : Eigen::Ref<const RowMatrix>(ws.activations[static_cast<std::size_t>(l - 1)]);
    z.resize(B, W.rows());
    const bool hidden = l + 1 < L;
    if (l == 0) {
      if (ws.sparseForward || ws.sparseUpdate) {
        describeSparseInput(x, ws.sparse);
      } else {
        ws.sparse.data = nullptr;
      }
    }
    const bool sparse = l == 0 && ws.sparseForward && ws.sparse.describes(x);
    // The whole tiles made from `params` by the last update or sparse forward pass on ws
    // (MlpWorkspace::keepTiles); a last partial tile (units not a multiple of kPacket) is
    // always filled again: the update does not write it.
    const bool reuse = sparse && reuseTiles && ws.sparse.tilesOf == params;
    if (sparse) sizeTiles(ws.sparse, W.rows(), W.cols());
    // z = in W^T + b, activation on hidden layers; block by block, while it is in cache.
    // Over the nonzero inputs: blocks of z's columns, each computed on its own.
    forEachProductBlock(
        parallel, B, W.rows(), W.cols(),
        [&](bool byRows, Eigen::Index begin, Eigen::Index count) {
          if (sparse) {
            auto zb = z.middleCols(begin, count);
            // Tile by tile: each is transposed and used while it is in cache.
            for (Eigen::Index j = begin; j < begin + count; j += kPacket) {
              const Eigen::Index n = std::min<Eigen::Index>(kPacket, begin + count - j);
              if (reuse && W.rows() - j >= kPacket) {
                assert(tileHolds(ws.sparse, W.data(), W.cols(), W.cols(), j) &&
                       "nothing but lossAndSgdUpdate wrote weights whose tiles are kept");
              } else {
                fillTiles(ws.sparse, W.data(), W.cols(), W.cols(), W.rows(), j, n);
              }
              sparseInputProduct(ws.sparse, W.cols(), j, n, z.data() + j, z.outerStride());
            }
            zb.rowwise() += b.segment(begin, count).transpose();
            if (hidden) applyActivation(m_activation, zb);
          } else if (byRows) {
            auto zb = z.middleRows(begin, count);
            zb.setZero();
            gemmAccumulate<Eigen::RowMajor, Eigen::ColMajor>(
                count, W.rows(), W.cols(), in.data() + begin * in.outerStride(), in.outerStride(),
                W.data(), W.cols(), zb.data(), z.outerStride(), 1.0f);
            zb.rowwise() += b.transpose();
            if (hidden) applyActivation(m_activation, zb);
          } else {
            auto zb = z.middleCols(begin, count);
            if (B <= kDotKernelMaxRows) {
              smallBatchProduct(in, W.data() + begin * W.cols(), W.cols(), count, z.data() + begin,
                                z.outerStride());
            } else {
              zb.setZero();
              gemmAccumulate<Eigen::RowMajor, Eigen::ColMajor>(
                  B, count, W.cols(), in.data(), in.outerStride(), W.data() + begin * W.cols(),
                  W.cols(), zb.data(), z.outerStride(), 1.0f);
            }
            zb.rowwise() += b.segment(begin, count).transpose();
            if (hidden) applyActivation(m_activation, zb);
          }
        },
        sparse                  ? Blocks::kAny
        : B > kDotKernelMaxRows ? Blocks::kPerThread
                                : Blocks::kFixed,
        sparse ? Split::kColumns : Split::kLarger);
    if (sparse) ws.sparse.tilesOf = params;
  }
  return ws.activations.back();
}

LossStats Mlp::lossOfLogits(const RowMatrix& logits, std::span<const std::uint8_t> labels) const {
  LossStats s;
  s.count = static_cast<int>(logits.rows());
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    const int y = labels[static_cast<std::size_t>(i)];
    Eigen::Index argmax = 0;
    const double m = logits.row(i).maxCoeff(&argmax);
    if (argmax == y) ++s.correct;
    if (m_loss == LossKind::kCrossEntropy) {
      double sum = 0.0;
      for (Eigen::Index k = 0; k < logits.cols(); ++k) sum += std::exp(logits(i, k) - m);
      s.lossSum += m + std::log(sum) - logits(i, y);
    } else {
      double sq = 0.0;
      for (Eigen::Index k = 0; k < logits.cols(); ++k) {
        const double t = (k == y) ? 1.0 : 0.0;
        const double d = logits(i, k) - t;
        sq += d * d;
      }
      s.lossSum += 0.5 * sq;
    }
  }
  return s;
}

RowMatrix Mlp::logitsInChunks(const float* params, const Eigen::Ref<const RowMatrix>& x,
                              MlpWorkspace& ws) const {
  RowMatrix out(x.rows(), m_layout.outputSize());
  for (Eigen::Index begin = 0; begin < x.rows(); begin += kEvalChunkRows) {
    const Eigen::Index rows = std::min<Eigen::Index>(kEvalChunkRows, x.rows() - begin);
    out.middleRows(begin, rows) = forward(params, x.middleRows(begin, rows), ws);
  }
  return out;
}

LossStats Mlp::evaluate(const float* params, const Eigen::Ref<const RowMatrix>& x,
                        std::span<const std::uint8_t> labels, MlpWorkspace& ws) const {
  return lossOfLogits(forward(params, x, ws), labels);
}

namespace {

// The operands of the weight gradient of a layer: block(r, c) = sum_b delta(b, r) in(b, c).
// inputGradient, when set, asks the weight store to also write the columns of delta * W
// its block covers (the input gradient before the activation derivative), from the weights
// before the update: blocks then span all rows of W.
struct GradientOperands {
  const RowMatrix& delta;                 // [B, rows of W]
  const Eigen::Ref<const RowMatrix>& in;  // [B, cols of W]
  RowMatrix* inputGradient = nullptr;     // [B, cols of W]
  // Set on the first layer of a sparse batch (blocks of whole rows of W then): its
  // nonzeros, by input.
  SparseInput* sparse = nullptr;
};

// Rows [r0, r0 + nr) x columns [c0, c0 + nc) of a weight gradient delta^T in (B >= 2), as
// the product the weight stores add into their destination (addTo: dst += alpha * block,
// gemmAccumulate).
struct WeightGradientBlock {
  const RowMatrix& delta;                 // [B, rows of W]
  const Eigen::Ref<const RowMatrix>& in;  // [B, cols of W]
  Eigen::Index r0, nr, c0, nc;

  template <typename Dst>
  void addTo(Dst&& dst, float alpha) const {
    gemmAccumulate<Eigen::ColMajor, Eigen::RowMajor>(
        nr, nc, delta.rows(), delta.data() + r0, delta.outerStride(), in.data() + c0,
        in.outerStride(), dst.data(), dst.outerStride(), alpha);
  }
};

template <typename T>
constexpr bool kIsWeightGradientBlock = std::is_same_v<std::decay_t<T>, WeightGradientBlock>;

// Batches up to 64: the fused update of a weight block runs as one pass of a
// register-tiled kernel (below) instead of three passes over the block (Eigen's copy, GEMM
// or outer-product accumulate, finite check): the training rate rose 1.23-1.74x at batch
// 1, 1.25x at batch 16 and 1.13x at batch 64 on 784-1024-1024-10; neutral at 256, where
// Eigen's GEMM is kept (docs/benchmarks.md, session 5). On layers after the first the same
// pass also computes the input gradient delta * W from the weight tile in registers,
// instead of a second pass over W (Eigen's GEMM, which packs W for a few rows of delta).
constexpr int kFusedKernelMaxBatch = 64;
// Up to this batch the input gradient joins the pass (batch 16: 1.2-1.27x with the update
// in place; batch 64: 0.84-0.9x, where Eigen's GEMM with its packed W is faster).
constexpr int kFusedInputGradientMaxBatch = 16;
// Rows per tile: 4, and 6 from batch 8 (6 x 4 accumulators on AVX-512 with the batch
// row's 4 packets and the broadcast still fit the 32 registers): batch 16 on
// 784-1024-1024-10 1.11x (1 thread) and 1.09x (2), batch 64 1.03x, the smaller shapes
// unchanged; at batch 1 six rows cost 784-128-10 11-15% (3 rounds each, session 8).
constexpr int kUpdateWideTileRows = 6;
constexpr int kUpdateWideTileMinBatch = 8;
constexpr int kUpdateTilePackets = kPacket >= 16 ? 4 : 2;  // accumulators fit the registers
// With the input gradient the weight tile stays in registers as well.
constexpr int kBackpropTilePackets = kPacket >= 16 ? 2 : 1;
constexpr Eigen::Index kUpdateColumnChunk = 256;  // in's rows over a chunk stay in L1
// With the input gradient, in's and the gradient's rows over a chunk (B x chunk each) stay
// in L1: at most this many floats each.
constexpr Eigen::Index kBackpropChunkFloats = 4096;

// Where the fused update also writes the new weights packed (PackedWeights; nullptr: not).
struct PackedOut {
  float* data = nullptr;
  Eigen::Index units = 0;
  Eigen::Index inputs = 0;
};

// next(r, c) = decay * w(r, c) - lr * sum_b d(b, r) * x(b, c) for RT rows x CT packets
// from (r, c), also into packed.data if set; returns the sum of (next - next) (NaN iff
// some entry is not finite). With
// g (Backprop): g(b, c) += d(b, r + i) * w(r + i, c) for i = 0..RT-1 in order, from the
// weights before the update.
// An entry in a packet gets the same operations whatever tile it falls in (multiply-adds
// over b in order from 0, then one with -lr; the gradient's multiply-adds over the rows in
// order); the columns after a row's last whole packet go through scalarUpdateEntry (the
// same with std::fma, which equals pmadd where the CPU has FMA). Which entries those are
// does not depend on the blocks (they start at multiples of 16 columns), so the result
// does not depend on the thread count.
template <int RT, int CT, bool Backprop>
inline Packet updateTile(const float* d, Eigen::Index ldD, const float* x, Eigen::Index ldX,
                         int B, const float* w, float* next, Eigen::Index ldW, Eigen::Index r,
                         Eigen::Index c, float decay, float lr, float* g, Eigen::Index ldG,
                         const PackedOut& packed) {
  Packet acc[RT][CT];
  for (auto& row : acc) {
    for (Packet& p : row) p = ei::pset1<Packet>(0.0f);
  }
  const float* wt = w + r * ldW + c;
  [[maybe_unused]] Packet wv[RT][CT];  // the weight tile, held with Backprop
  if constexpr (Backprop) {
    for (int i = 0; i < RT; ++i) {
      for (int j = 0; j < CT; ++j) wv[i][j] = ei::ploadu<Packet>(wt + i * ldW + Eigen::Index{j} * kPacket);
    }
  }
  for (int b = 0; b < B; ++b) {
    const float* xb = x + b * ldX + c;
    Packet xv[CT];
    for (int j = 0; j < CT; ++j) xv[j] = ei::ploadu<Packet>(xb + Eigen::Index{j} * kPacket);
    [[maybe_unused]] Packet gv[CT];
    if constexpr (Backprop) {
      for (int j = 0; j < CT; ++j) gv[j] = ei::ploadu<Packet>(g + b * ldG + c + Eigen::Index{j} * kPacket);
    }
    for (int i = 0; i < RT; ++i) {
      const Packet dv = ei::pset1<Packet>(d[b * ldD + r + i]);
      for (int j = 0; j < CT; ++j) {
        acc[i][j] = ei::pmadd(dv, xv[j], acc[i][j]);
        if constexpr (Backprop) gv[j] = ei::pmadd(dv, wv[i][j], gv[j]);
      }
    }
    if constexpr (Backprop) {
      for (int j = 0; j < CT; ++j) ei::pstoreu(g + b * ldG + c + Eigen::Index{j} * kPacket, gv[j]);
    }
  }
  const Packet decayv = ei::pset1<Packet>(decay);
  const Packet neglr = ei::pset1<Packet>(-lr);
  Packet check = ei::pset1<Packet>(0.0f);
  for (int i = 0; i < RT; ++i) {
    for (int j = 0; j < CT; ++j) {
      const Eigen::Index at = i * ldW + Eigen::Index{j} * kPacket;
      Packet old;
      if constexpr (Backprop) {
        old = wv[i][j];
      } else {
        old = ei::ploadu<Packet>(wt + at);
      }
      const Packet o = ei::pmadd(neglr, acc[i][j], ei::pmul(decayv, old));
      ei::pstoreu(next + r * ldW + c + at, o);
      if (packed.data != nullptr) {
        float* to = packed.data + packedWeightsOffset(r + i, c + Eigen::Index{j} * kPacket,
                                                      packed.units, packed.inputs);
        ei::pstore(to, o);
      }
      check = ei::padd(check, ei::psub(o, o));
    }
  }
  return check;
}

inline float scalarUpdateEntry(const float* d, Eigen::Index ldD, const float* x,
                               Eigen::Index ldX, int B, float w, Eigen::Index r,
                               Eigen::Index c, float decay, float lr) {
  float acc = 0.0f;
  for (int b = 0; b < B; ++b) acc = std::fma(d[b * ldD + r], x[b * ldX + c], acc);
  return std::fma(-lr, acc, decay * w);
}

// The fused SGD update of rows [r0, r0 + nr) x columns [c0, c0 + nc) of a layer whose
// weights are w (row-major, leading dimension ldW), in one pass: each entry of next is
// written once, from registers; false when one is not finite. With g (then the block spans
// all rows of W): g's columns [c0, c0 + nc) = d * w over them, accumulated over the rows
// in order, from the weights before the update. packed: also write the new weights
// there (PackedWeights: whole packets of columns only).
template <bool Backprop>
bool fusedBlockUpdate(const GradientOperands& ops, const float* w, float* next,
                      Eigen::Index ldW, Eigen::Index r0, Eigen::Index nr, Eigen::Index c0,
                      Eigen::Index nc, float decay, float lr, const PackedOut& packed = {}) {
  const float* d = ops.delta.data();
  const Eigen::Index ldD = ops.delta.outerStride();
  const float* x = ops.in.data();
  const Eigen::Index ldX = ops.in.outerStride();
  const int B = static_cast<int>(ops.delta.rows());
  constexpr int tilePackets = Backprop ? kBackpropTilePackets : kUpdateTilePackets;
  constexpr Eigen::Index tileCols = Eigen::Index{tilePackets} * kPacket;
  float* g = nullptr;
  Eigen::Index ldG = 0;
  Eigen::Index chunk = kUpdateColumnChunk;
  if constexpr (Backprop) {
    g = ops.inputGradient->data();
    ldG = ops.inputGradient->outerStride();
    ops.inputGradient->middleCols(c0, nc).setZero();
    chunk = std::clamp<Eigen::Index>(kBackpropChunkFloats / B / tileCols * tileCols, tileCols,
                                     kUpdateColumnChunk);
  }
  Packet check = ei::pset1<Packet>(0.0f);
  float scalarCheck = 0.0f;
  for (Eigen::Index cc = c0; cc < c0 + nc; cc += chunk) {
    const Eigen::Index cend = std::min(c0 + nc, cc + chunk);
    Eigen::Index r = r0;
    auto rowsOf = [&]<int RT>(Eigen::Index row) {
      Eigen::Index c = cc;
      for (; c + tileCols <= cend; c += tileCols) {
        check = ei::padd(check, updateTile<RT, tilePackets, Backprop>(d, ldD, x, ldX, B, w, next,
                                                                      ldW, row, c, decay, lr, g,
                                                                      ldG, packed));
      }
      for (; c + kPacket <= cend; c += kPacket) {
        check = ei::padd(check, updateTile<RT, 1, Backprop>(d, ldD, x, ldX, B, w, next, ldW, row,
                                                            c, decay, lr, g, ldG, packed));
      }
      assert((c == cend || packed.data == nullptr) && "packed weights: whole packets only");
      for (; c < cend; ++c) {
        for (int i = 0; i < RT; ++i) {
          const Eigen::Index at = (row + i) * ldW + c;
          if constexpr (Backprop) {
            for (int b = 0; b < B; ++b) {
              g[b * ldG + c] = std::fma(d[b * ldD + row + i], w[at], g[b * ldG + c]);
            }
          }
          const float o = scalarUpdateEntry(d, ldD, x, ldX, B, w[at], row + i, c, decay, lr);
          next[at] = o;
          scalarCheck += o - o;
        }
      }
    };
    if (B >= kUpdateWideTileMinBatch) {
      for (; r + kUpdateWideTileRows <= r0 + nr; r += kUpdateWideTileRows) {
        rowsOf.template operator()<kUpdateWideTileRows>(r);
      }
    }
    // The last rows (fewer than a tile) in tiles of 4, 2 and 1.
    for (; r + 4 <= r0 + nr; r += 4) {
      rowsOf.template operator()<4>(r);
    }
    if (r + 2 <= r0 + nr) {
      rowsOf.template operator()<2>(r);
      r += 2;
    }
    for (; r < r0 + nr; ++r) rowsOf.template operator()<1>(r);
  }
  return std::isfinite(ei::predux(check) + scalarCheck);
}

// Backward pass shared by lossAndGradient and lossAndSgdUpdate: for every layer (last to
// first) calls storeW(l, row0, rows, col0, cols, product, operands) for the blocks of the
// weight gradient (product = that block of delta^T a: a WeightGradientBlock from two
// samples on, unless the input gradient is fused, else an Eigen expression; operands:
// delta and a themselves) and
// storeB(l, colsum) for the bias gradient; propagates delta through W and the activation
// derivative. fuseInputGradient: on layers after the first, storeW also writes the input
// gradient of its block (operands.inputGradient; blocks of whole columns of W).
// sparseInput (x's nonzeros, listed by input): the first layer's blocks are whole rows of
// W and carry it in operands.sparse. gemmWeightGradient: storeW computes the product with
// WeightGradientBlock::addTo (split-invariant: one block on one thread); otherwise (the
// fused kernel of small batches) the blocks are fixed by the shape. packedWeights (empty,
// or one per layer, nullptr where none): layer l's weights packed (PackedWeights), from
// which its input gradient is computed without packing them again.
template <typename StoreW, typename StoreB>
void backward(const MlpLayout& layout, Activation activation, const float* params,
              const Eigen::Ref<const RowMatrix>& x, MlpWorkspace& ws, ParallelContext* parallel,
              bool fuseInputGradient, SparseInput* sparseInput, bool gemmWeightGradient,
              std::span<const float* const> packedWeights, const StoreW& storeW,
              const StoreB& storeB) {
  const int L = layout.numLayers();
  RowMatrix& delta = ws.deltas[0];
  RowMatrix& next = ws.deltas[1];
  const Eigen::Index B = x.rows();
  for (int l = L - 1; l >= 0; --l) {
    const ConstRowMatrixMap W = layout.weights(params, l);
    const Eigen::Ref<const RowMatrix> in =
        l == 0 ? x : Eigen::Ref<const RowMatrix>(ws.activations[static_cast<std::size_t>(l - 1)]);
    const bool fused = fuseInputGradient && l > 0;
    if (l > 0) next.resize(B, W.cols());
    const bool sparse = l == 0 && sparseInput != nullptr;
    const GradientOperands operands{delta, in, fused ? &next : nullptr,
                                    sparse ? sparseInput : nullptr};
    // next = next * f'(a), in place, over a block of next's rows or columns.
    auto backprop = [&](auto&& nb, const auto& ab) {
      if (activation == Activation::kRelu) {
        nb = (ab.array() > 0.0f).select(nb, 0.0f);
      } else {
        nb.array() *= 1.0f - ab.array().square();
      }
    };
    if (l > 0 && !fused) {
      // next = (delta W) * f'(a), block by block, from the weights before the update
      // (lossAndSgdUpdate may update them in place).
      const float* packed =
          packedWeights.empty() ? nullptr : packedWeights[static_cast<std::size_t>(l)];
      forEachProductBlock(
          parallel, B, W.cols(), W.rows(),
          [&](bool byRows, Eigen::Index begin, Eigen::Index count) {
            if (byRows) {
              auto nb = next.middleRows(begin, count);
              nb.setZero();
              const float* rows = delta.data() + begin * delta.outerStride();
              if (packed != nullptr) {
                gemmAccumulatePackedWeights(count, W.cols(), W.rows(), rows, delta.outerStride(),
                                            packed, nb.data(), next.outerStride(), 1.0f);
              } else {
                gemmAccumulate<Eigen::RowMajor, Eigen::RowMajor>(count, W.cols(), W.rows(), rows,
                                                                 delta.outerStride(), W.data(),
                                                                 W.cols(), nb.data(),
                                                                 next.outerStride(), 1.0f);
              }
              backprop(nb, in.middleRows(begin, count));
            } else {
              auto nb = next.middleCols(begin, count);
              nb.setZero();
              if (packed != nullptr) {
                assert(begin % GemmTraits::mr == 0);
                gemmAccumulatePackedWeights(B, count, W.rows(), delta.data(), delta.outerStride(),
                                            packed + begin * W.rows(), nb.data(),
                                            next.outerStride(), 1.0f);
              } else {
                gemmAccumulate<Eigen::RowMajor, Eigen::RowMajor>(
                    B, count, W.rows(), delta.data(), delta.outerStride(), W.data() + begin,
                    W.cols(), nb.data(), next.outerStride(), 1.0f);
              }
              backprop(nb, in.middleCols(begin, count));
            }
          },
          Blocks::kPerThread);
    }
    // Weight gradient delta^T in: blocks of rows (output units) or columns (inputs). One
    // sample: an outer product with compile-time inner size 1, written directly (Eigen's
    // GEMM would zero the block and pack both operands for a product of depth 1), in
    // chunks of ~64 KB of whole row segments, so that the store's passes run in cache
    // instead of streaming a large block from L3 several times (the fused update of
    // batches up to 64 makes one pass: fusedBlockUpdate). Elementwise: the chunks change
    // no bit. With the fused input gradient, blocks of whole columns: each column of the
    // input gradient is then summed in one block, the same whatever the split.
    forEachProductBlock(
        parallel, W.rows(), W.cols(), B,
        [&](bool byRows, Eigen::Index begin, Eigen::Index count) {
          const Eigen::Index r0 = byRows ? begin : 0;
          const Eigen::Index nr = byRows ? count : W.rows();
          const Eigen::Index c0 = byRows ? 0 : begin;
          const Eigen::Index nc = byRows ? W.cols() : count;
          // A sparse first layer (64 rows or more) takes the byRows branch: whole rows.
          if (fused) {
            storeW(l, r0, nr, c0, nc, delta.transpose() * in.middleCols(begin, count), operands);
            backprop(next.middleCols(c0, nc), in.middleCols(c0, nc));
          } else if (B == 1) {
            const Eigen::Index step = std::max<Eigen::Index>(1, kOuterChunkFloats / nc);
            for (Eigen::Index r = r0; r < r0 + nr; r += step) {
              const Eigen::Index n = std::min(step, r0 + nr - r);
              storeW(l, r, n, c0, nc,
                     delta.row(0).segment(r, n).transpose() * in.row(0).segment(c0, nc),
                     operands);
            }
          } else {
            storeW(l, r0, nr, c0, nc, WeightGradientBlock{delta, in, r0, nr, c0, nc}, operands);
          }
        },
        B == 1 || fused || sparse ? Blocks::kAny
        : gemmWeightGradient      ? Blocks::kPerThread
                                  : Blocks::kFixed,
        sparse ? Split::kRows : (fused ? Split::kColumns : Split::kLarger));
    storeB(l, delta.colwise().sum().transpose());
    if (l == 0) break;
    std::swap(delta, next);
  }
}

}  // namespace

LossStats Mlp::startBackward(const float* params, const Eigen::Ref<const RowMatrix>& x,
                             std::span<const std::uint8_t> labels, float scale, MlpWorkspace& ws,
                             ParallelContext* parallel, bool reuseTiles) const {
  forwardPass(params, x, ws, parallel, reuseTiles);
  const RowMatrix& logits = ws.activations.back();
  const LossStats stats = lossOfLogits(logits, labels);
  ws.deltas.resize(2);
  RowMatrix& delta = ws.deltas[0];
  // dLoss/dz of the summed loss: CE: softmax(z) - onehot; MSE: z - onehot.
  if (m_loss == LossKind::kCrossEntropy) {
    delta = softmaxRows(logits);
  } else {
    delta = logits;
  }
  for (Eigen::Index i = 0; i < delta.rows(); ++i) {
    delta(i, labels[static_cast<std::size_t>(i)]) -= 1.0f;
  }
  delta *= scale;
  return stats;
}

LossStats Mlp::lossAndGradient(const float* params, const Eigen::Ref<const RowMatrix>& x,
                               std::span<const std::uint8_t> labels, float* grad, float scale,
                               MlpWorkspace& ws, ParallelContext* parallel,
                               GradientMode mode) const {
  const LossStats stats =
      startBackward(params, x, labels, scale, ws, parallel, /*reuseTiles=*/false);
  const bool overwrite = mode == GradientMode::kOverwrite;
  auto store = [overwrite](auto&& dst, const auto& product) {
    if constexpr (kIsWeightGradientBlock<decltype(product)>) {
      if (overwrite) dst.setZero();
      product.addTo(dst, 1.0f);
    } else if (overwrite) {
      dst.noalias() = product;
    } else {
      dst.noalias() += product;
    }
  };
  backward(
      m_layout, m_activation, params, x, ws, parallel, /*fuseInputGradient=*/false,
      /*sparseInput=*/nullptr, /*gemmWeightGradient=*/true, /*packedWeights=*/{},
      [&](int l, Eigen::Index r0, Eigen::Index nr, Eigen::Index c0, Eigen::Index nc,
          const auto& product, const GradientOperands& /*operands*/) {
        RowMatrixMap gW = m_layout.weights(grad, l);
        store(gW.block(r0, c0, nr, nc), product);
      },
      [&](int l, const auto& colsum) { store(m_layout.bias(grad, l), colsum); });
  return stats;
}

LossStats Mlp::lossAndSgdUpdate(const float* params, const Eigen::Ref<const RowMatrix>& x,
                                std::span<const std::uint8_t> labels, float scale,
                                const FusedSgd& sgd, MlpWorkspace& ws,
                                ParallelContext* parallel) const {
  assert(sgd.next != nullptr && sgd.finite != nullptr);
  const LossStats stats = startBackward(params, x, labels, scale, ws, parallel, ws.keepTiles);
  const float lr = sgd.lr;
  const float decay = sgd.decay;
  const bool fusedKernel = x.rows() <= kFusedKernelMaxBatch;
  const bool fusedInputGradient = x.rows() <= kFusedInputGradientMaxBatch;
  // next = decay * w - lr * grad, then the NaN/Inf check of the block while it is in cache.
  auto update = [&](auto&& nb, const auto& wb, const auto& product) {
    if (decay != 1.0f || nb.data() != wb.data()) nb = decay * wb;  // else in place already
    if constexpr (kIsWeightGradientBlock<decltype(product)>) {
      product.addTo(nb, -lr);
    } else {
      nb.noalias() -= lr * product;
    }
    if (!std::isfinite((nb - nb).sum())) sgd.finite->store(false, std::memory_order_relaxed);
  };
  SparseInput* sparseInput = nullptr;
  if (ws.sparseUpdate && ws.sparse.describes(x)) {
    listSparseInputByColumn(ws.sparse, x.cols());
    // Filled (or checked) by the forward product unless it was dense; else kept from an
    // earlier call only with keepTiles (otherwise someone may have written the weights).
    if (ws.sparse.tilesOf != params || !(ws.sparseForward || ws.keepTiles)) {
      const ConstRowMatrixMap W = m_layout.weights(params, 0);
      sizeTiles(ws.sparse, W.rows(), W.cols());
      fillTiles(ws.sparse, W.data(), W.cols(), W.cols(), W.rows(), 0, W.rows());
    }
#ifndef NDEBUG
    else if (!ws.sparseForward) {  // kept from the last update: check the whole tiles
      const ConstRowMatrixMap W = m_layout.weights(params, 0);
      for (Eigen::Index j = 0; j + kPacket <= W.rows(); j += kPacket) {
        assert(tileHolds(ws.sparse, W.data(), W.cols(), W.cols(), j) &&
               "nothing but lossAndSgdUpdate wrote weights whose tiles are kept");
      }
    }
#endif
    ws.sparse.tilesOf = nullptr;  // the update overwrites them
    sparseInput = &ws.sparse;
  }
  // With keepTiles, the layers after the first whose input gradient is a GEMM (batches
  // 17-64; the fused update's) start it from the packed weights the last update wrote, and
  // the update writes the new ones (PackedWeights).
  const int L = m_layout.numLayers();
  std::vector<const float*> packedIn;
  auto writesPacked = [&](int l) {
    const ConstRowMatrixMap W = m_layout.weights(params, l);
    return ws.keepTiles && l > 0 && fusedKernel && !fusedInputGradient &&
           packsWeights(W.rows(), W.cols());
  };
  if (ws.keepTiles) {
    ws.packedWeights.resize(static_cast<std::size_t>(L));
    packedIn.assign(static_cast<std::size_t>(L), nullptr);
    for (int l = 1; l < L; ++l) {
      PackedWeights& p = ws.packedWeights[static_cast<std::size_t>(l)];
      const ConstRowMatrixMap W = m_layout.weights(params, l);
      if (p.data.size() != static_cast<std::size_t>(W.size())) {  // another network's
        p.of = nullptr;
        if (writesPacked(l)) p.data.resize(static_cast<std::size_t>(W.size()));
      }
      if (p.of == W.data() && !fusedInputGradient) {
        assert(packedWeightsHold(p.data.data(), W.data(), W.rows(), W.cols()) &&
               "nothing but lossAndSgdUpdate wrote weights whose packed copy is kept");
        packedIn[static_cast<std::size_t>(l)] = p.data.data();
      }
    }
  }
  backward(
      m_layout, m_activation, params, x, ws, parallel, /*fuseInputGradient=*/fusedInputGradient,
      sparseInput, /*gemmWeightGradient=*/!fusedKernel, packedIn,
      [&](int l, Eigen::Index r0, Eigen::Index nr, Eigen::Index c0, Eigen::Index nc,
          const auto& product, const GradientOperands& operands) {
        RowMatrixMap nW = m_layout.weights(sgd.next, l);
        const ConstRowMatrixMap W = m_layout.weights(params, l);
        if (operands.sparse != nullptr) {
          if (!sparseInputUpdate(*operands.sparse, operands.delta.data(),
                                 operands.delta.outerStride(), W.data(), nW.data(), W.cols(),
                                 W.cols(), r0, nr, decay, lr)) {
            sgd.finite->store(false, std::memory_order_relaxed);
          }
        } else if (fusedKernel) {
          const bool finite =
              operands.inputGradient != nullptr
                  ? fusedBlockUpdate<true>(operands, W.data(), nW.data(), W.cols(), r0, nr, c0,
                                           nc, decay, lr)
                  : fusedBlockUpdate<false>(
                        operands, W.data(), nW.data(), W.cols(), r0, nr, c0, nc, decay, lr,
                        writesPacked(l) ? PackedOut{ws.packedWeights[static_cast<std::size_t>(l)]
                                                        .data.data(),
                                                    W.rows(), W.cols()}
                                        : PackedOut{});
          if (!finite) {
            sgd.finite->store(false, std::memory_order_relaxed);
          }
        } else {
          update(nW.block(r0, c0, nr, nc), W.block(r0, c0, nr, nc), product);
        }
      },
      [&](int l, const auto& colsum) {
        update(m_layout.bias(sgd.next, l), m_layout.bias(params, l), colsum);
      });
  if (sparseInput != nullptr) {
    // The update wrote the new weights' whole tiles (the rows of a last partial tile went
    // entry by entry from w): the next step's forward product may start from them.
    ws.sparse.tilesOf = sgd.next;
  } else if (ws.sparse.tilesOf == sgd.next) {
    ws.sparse.tilesOf = nullptr;  // written in place by the dense update
  }
  for (int l = 1; l < L && ws.keepTiles; ++l) {
    PackedWeights& p = ws.packedWeights[static_cast<std::size_t>(l)];
    const float* written = m_layout.weights(sgd.next, l).data();
    if (writesPacked(l)) {
      p.of = written;
    } else if (p.of == written) {
      p.of = nullptr;  // written without them
    }
  }
  return stats;
}

}  // namespace driftscope
