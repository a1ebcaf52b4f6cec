// Mlp: a fully connected network (ReLU or tanh hidden units, linear output) over the
// flat parameter vector described by MlpLayout, with softmax cross-entropy or MSE loss.
// Stateless apart from its shape and choices: the parameters are passed in, so one Mlp
// serves every thread; scratch memory lives in a caller-owned MlpWorkspace.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/eigen_types.h"
#include "core/model/mlp_layout.h"
#include "core/parallel.h"

namespace driftscope {

enum class Activation { kRelu, kTanh };
enum class LossKind { kCrossEntropy, kMse };

std::string toString(Activation a);  // "relu" | "tanh"
std::string toString(LossKind k);    // "ce" | "mse"
Result<Activation> parseActivation(const std::string& text);
Result<LossKind> parseLoss(const std::string& text);

// A batch of inputs as background + sparse: the entries that differ from one background
// value c (0, or the first sample's majority value if more of its entries equal it; NaN
// never: it equals nothing), stored as x - c, by sample (CSR) and by input (CSC), each
// list in increasing order. MNIST images are ~81% blank pixels (0, or one negative value
// once standardized): the first layer's products then run over the other entries only,
// plus c times a row or column sum (see Mlp::forward and lossAndSgdUpdate).
struct SparseInput {
  const float* data = nullptr;  // the batch described (nullptr: none)
  Eigen::Index rows = 0;
  float background = 0.0f;      // c
  std::vector<int> rowStart;    // sample b's entries: [rowStart[b], rowStart[b + 1])
  std::vector<int> rowIndex;    // their inputs
  std::vector<float> rowValue;  // x - c
  // Input i's entries (listed by the update): [colStart[i], colStart[i + 1]).
  std::vector<int> colStart;
  std::vector<int> colIndex;  // their samples
  std::vector<float> colValue;
  std::vector<int> colFill;  // scratch of the by-input listing
  // The first layer's weights, kPacket rows at a time transposed: rows [q kPacket, (q + 1)
  // kPacket) as an inputs x kPacket block (zero-padded), block after block. Filled by the
  // forward product from tilesOf's weights; the update reads them and writes the new
  // weights' whole blocks into them (tilesOf: then the weights it wrote).
  std::vector<float> tiles;
  const float* tilesOf = nullptr;
  bool describes(const Eigen::Ref<const RowMatrix>& x) const {
    return data != nullptr && data == x.data() && rows == x.rows();
  }
};

// A hidden-to-hidden layer's weights W [units, inputs] as the input-gradient product
// delta W reads them (Eigen's GEMM computes it as W^T delta^T and packs W^T into panels of
// mr inputs): panel after panel, inputs [p, p + w) (w = mr, or the rest at the end) as
// `units` runs of w floats, unit after unit. Written by the fused update of batches 17-64
// next to the new weights (packsWeights), so that the next step's product skips the
// packing (its reads of W's columns jump 4 KB per unit on a 1,024-input layer).
struct PackedWeights {
  std::vector<float, Eigen::aligned_allocator<float>> data;
  const float* of = nullptr;  // the weights held (the layer's block in a parameter buffer)
};

// Per-thread scratch: activations of every layer for one batch. Reused across calls.
struct MlpWorkspace {
  std::vector<RowMatrix> activations;  // a_0 = input copy not kept; a_l for l = 1..L
  std::vector<RowMatrix> deltas;
  SparseInput sparse;  // of the last input batch forward() saw, when sparse enough
  // Whether the first layer's forward product and fused SGD update may skip the inputs at
  // the background (when the batch is sparse enough: usesSparseInput). Off: the dense
  // kernels, which the tests compare them with.
  bool sparseForward = true;
  bool sparseUpdate = true;
  // Set by an owner that writes the weights it trains only through lossAndSgdUpdate with
  // this workspace (the Trainer): a step's forward product then starts from the first
  // layer's transposed weights in sparse.tiles when they were made from the same buffer -
  // written by the last update, or transposed by the last sparse forward pass (also an
  // evaluation's) on this workspace - instead of transposing the weights again
  // (784-1024-1024-10 at batch 64: ~4% of a step). Likewise the packed weights of the
  // layers after the first (packedWeights) that the last update wrote. Whoever writes a
  // buffer this workspace has trained or evaluated in any other way must call
  // forgetTiles() first (builds with assertions check every reuse bit for bit).
  bool keepTiles = false;
  std::vector<PackedWeights> packedWeights;  // by layer; only with keepTiles
  void forgetTiles() {
    sparse.tilesOf = nullptr;
    for (PackedWeights& p : packedWeights) p.of = nullptr;
  }
};

// Whether lossAndGradient adds its gradient into `grad` or overwrites it (saves a pass
// that zeroes a P-sized buffer before every step).
enum class GradientMode { kAccumulate, kOverwrite };

// Plain SGD fused into the backward pass (Mlp::lossAndSgdUpdate): instead of a gradient,
// next = decay * w - lr * gradient is written for every parameter, block by block while
// the gradient block is in cache, and `finite` is cleared if any written value is NaN/Inf.
// Saves writing and re-reading a P-sized gradient buffer (batch 1 is memory-bound); for
// batches up to 64 each block is written in one register-tiled pass (up to 16, together
// with the input gradient of the layer). `next` may be the parameters themselves: every
// layer's input gradient is computed from its weights before they are overwritten. In
// place, a step that clears `finite` leaves a mix of old and new weights.
struct FusedSgd {
  float lr = 0.0f;
  float decay = 1.0f;                   // 1 - lr * weight decay
  float* next = nullptr;                // P floats: another buffer, or the parameters
  std::atomic<bool>* finite = nullptr;  // set to true by the caller beforehand
};

struct LossStats {
  double lossSum = 0.0;  // summed over samples (divide by count for the mean)
  int correct = 0;
  int count = 0;
};

class Mlp {
 public:
  Mlp() = default;
  Mlp(MlpLayout layout, Activation activation, LossKind loss)
      : m_layout(std::move(layout)), m_activation(activation), m_loss(loss) {}

  const MlpLayout& layout() const { return m_layout; }
  Activation activation() const { return m_activation; }
  LossKind loss() const { return m_loss; }

  // He (ReLU) or Glorot-uniform (tanh) initialisation from the seed; biases zero.
  Vector initialParams(std::uint64_t seed) const;

  // Output logits [batch, outputs] for inputs x [batch, inputs]. Up to 16 rows the products
  // are register-tiled dot products (no packing of the weights), above it Eigen's GEMM.
  // The first layer's product runs over the inputs off the background only when the batch
  // is sparse enough (usesSparseInput; equal to the dense product up to rounding).
  // With `parallel` a matrix product is split into blocks of output rows or columns that
  // run on its threads (gemmBlockCount: from the shape; GEMMs: at most one per thread),
  // without it the products run inline (GEMMs whole, the register-tiled ones in the same
  // fixed blocks). Each block is an independent product (no reduction) whose entries are
  // summed the same way whatever the blocks, so the result is bit-identical with any thread
  // count or without a context.
  RowMatrix forward(const float* params, const Eigen::Ref<const RowMatrix>& x, MlpWorkspace& ws,
                    ParallelContext* parallel = nullptr) const;

  // Mean loss over the batch and its gradient (ADDED into grad, or written over it with
  // GradientMode::kOverwrite, scaled by `scale`, so shards can accumulate into one buffer).
  // Loss definitions:
  //   CE:  mean_i -log softmax(z_i)[y_i]
  //   MSE: mean_i 1/2 ||z_i - onehot(y_i)||^2
  // `scale` multiplies the gradient of the SUM over samples (pass 1/batch for the mean).
  // `parallel`: as in forward(); must not be a context whose forEach is running this call.
  LossStats lossAndGradient(const float* params, const Eigen::Ref<const RowMatrix>& x,
                            std::span<const std::uint8_t> labels, float* grad, float scale,
                            MlpWorkspace& ws, ParallelContext* parallel = nullptr,
                            GradientMode mode = GradientMode::kAccumulate) const;

  // lossAndGradient(..., kOverwrite) followed by next = decay * w - lr * grad, fused (see
  // FusedSgd); bit-identical for any thread count, like lossAndGradient. On a sparse batch
  // the first layer's update sums over the inputs off the background only, in the dense
  // kernel's order: with a zero background bit-identical to it up to batch 64 (where that
  // kernel is used) on CPUs with FMA (else the two kernels' scalar edges, std::fma, fall on
  // different entries), otherwise equal up to rounding.
  LossStats lossAndSgdUpdate(const float* params, const Eigen::Ref<const RowMatrix>& x,
                             std::span<const std::uint8_t> labels, float scale, const FusedSgd& sgd,
                             MlpWorkspace& ws, ParallelContext* parallel = nullptr) const;

  // Logits of x by forward() over consecutive chunks of kEvalChunkRows rows from row 0
  // (the last one shorter). A chunk's logits depend only on the weights and that chunk's
  // rows, so two passes that cut the same rows into the same chunks give the same bits:
  // the trainer's per-epoch evaluation hands the function-space distance the logits it
  // computed this way (Trainer::testLogits) instead of a second forward pass.
  static constexpr int kEvalChunkRows = 256;
  RowMatrix logitsInChunks(const float* params, const Eigen::Ref<const RowMatrix>& x,
                           MlpWorkspace& ws) const;

  // Loss (summed) and accuracy without gradient.
  LossStats evaluate(const float* params, const Eigen::Ref<const RowMatrix>& x,
                     std::span<const std::uint8_t> labels, MlpWorkspace& ws) const;

  // Per-sample loss of logits z against labels (summed) and number correct.
  LossStats lossOfLogits(const RowMatrix& logits, std::span<const std::uint8_t> labels) const;

 private:
  // forward(); reuseTiles: the whole tiles of the first layer's transposed weights already
  // in ws.sparse.tiles if they were made from `params` (by the last update or sparse
  // forward pass on ws; MlpWorkspace::keepTiles). forward() never reuses them.
  const RowMatrix& forwardPass(const float* params, const Eigen::Ref<const RowMatrix>& x,
                               MlpWorkspace& ws, ParallelContext* parallel, bool reuseTiles) const;
  // Forward pass, loss, and the output layer's delta (scaled) in ws.deltas[0].
  LossStats startBackward(const float* params, const Eigen::Ref<const RowMatrix>& x,
                          std::span<const std::uint8_t> labels, float scale, MlpWorkspace& ws,
                          ParallelContext* parallel, bool reuseTiles) const;

  MlpLayout m_layout;
  Activation m_activation = Activation::kRelu;
  LossKind m_loss = LossKind::kCrossEntropy;
};

// Blocks a rows x cols product with inner dimension `inner` is split into, along its
// larger output dimension: >= ~4 MFLOP (or >= ~1 MB of its largest operand: small
// batches on large layers are memory-bound) and >= 64 rows/columns per block, at most 8.
int gemmBlockCount(Eigen::Index rows, Eigen::Index cols, Eigen::Index inner);

// Whether a batch of `rows` samples with `nonzeros` entries off the background (see
// SparseInput) out of rows * inputs runs the first layer's products over those entries:
// from 64 rows, at most a quarter of the entries (docs/benchmarks.md, session 7).
bool usesSparseInput(Eigen::Index rows, Eigen::Index inputs, std::int64_t nonzeros);

// Whether the fused update of batches 17-64 writes a layer's new weights packed as well
// (PackedWeights, with MlpWorkspace::keepTiles; layers after the first): inputs a multiple
// of the packet size (16 floats with AVX-512) and weights of at least 1 MB.
bool packsWeights(Eigen::Index units, Eigen::Index inputs);

// Softmax of each row, computed stably (row max subtracted), in double then stored float.
RowMatrix softmaxRows(const RowMatrix& logits);

}  // namespace driftscope
