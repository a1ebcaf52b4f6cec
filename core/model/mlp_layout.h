// MlpLayout: where every layer of a fully connected network lives inside the ONE flat
// float parameter vector. Public contract (exported snapshots are read by numpy and
// PyTorch): layer by layer, W_l row-major with shape [out, in] as
// torch.nn.Linear.weight, then b_l — the order of torch's parameters_to_vector.
// Immutable after construction; safe to share between threads.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/eigen_types.h"
#include "core/status.h"

namespace driftscope {

struct LayerSlice {
  int in = 0;
  int out = 0;
  std::size_t wOffset = 0;  // W_l: out x in, row-major
  std::size_t bOffset = 0;  // b_l: out
  std::size_t size() const { return static_cast<std::size_t>(in) * out + out; }
};

class MlpLayout {
 public:
  MlpLayout() = default;
  // sizes = {input, hidden..., output}; at least two entries, all positive.
  explicit MlpLayout(std::vector<int> sizes);
  // Validating factory for user input: names the offending entry.
  static Result<MlpLayout> fromSizes(const std::vector<int>& sizes);

  const std::vector<int>& sizes() const { return m_sizes; }
  int numLayers() const { return static_cast<int>(m_layers.size()); }  // L
  int numHiddenLayers() const { return numLayers() - 1; }              // L-1
  int inputSize() const { return m_sizes.front(); }
  int outputSize() const { return m_sizes.back(); }
  std::size_t paramCount() const { return m_paramCount; }  // P
  const LayerSlice& layer(int l) const { return m_layers[static_cast<std::size_t>(l)]; }
  std::string toString() const;  // "784-128-10"

  // Views of layer l (0-based; layer l maps activations of size sizes[l] to sizes[l+1]).
  RowMatrixMap weights(float* params, int l) const;
  ConstRowMatrixMap weights(const float* params, int l) const;
  VectorMap bias(float* params, int l) const;
  ConstVectorMap bias(const float* params, int l) const;

 private:
  std::vector<int> m_sizes;
  std::vector<LayerSlice> m_layers;
  std::size_t m_paramCount = 0;
};

// Parses "784,128,10" or "784-128-10". Whitespace allowed around entries.
Result<std::vector<int>> parseLayerSizes(const std::string& text);
// Parses the hidden part only: "128" or "256,256" (empty string = no hidden layer).
Result<std::vector<int>> parseHiddenSizes(const std::string& text);

}  // namespace driftscope
