// Data sets for training: images as rows of a float matrix scaled to [0, 1] (optionally
// standardised with the training set's mean and standard deviation), labels 0..9.
// DataSource names where a split comes from: the embedded MNIST subset, Debian's
// Fashion-MNIST, or four user IDX files. Loading validates everything up front and
// either returns a complete DataSplit or a Status naming the file and the problem.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/eigen_types.h"
#include "core/status.h"

namespace driftscope {

struct Dataset {
  RowMatrix images;  // [count, rows*cols]
  std::vector<std::uint8_t> labels;
  int rows = 0;
  int cols = 0;
  int numClasses = 10;
  int size() const { return static_cast<int>(labels.size()); }
  int features() const { return rows * cols; }
};

struct DataSplit {
  std::string name;  // e.g. "mnist-embedded"
  Dataset train;
  Dataset test;
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct DataSource {
  enum class Kind { kEmbeddedMnist, kFashionMnist, kIdxFiles };
  Kind kind = Kind::kEmbeddedMnist;
  // For kIdxFiles: train images, train labels, test images, test labels.
  std::array<std::string, 4> paths;

  // "mnist-embedded" | "fashion-mnist" | "idx:TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,TEST_LABELS"
  static Result<DataSource> parse(const std::string& spec);
  std::string toString() const;
};

struct DataOptions {
  // (x - mean) / std with the training set's scalar moments. On by default: with raw
  // [0, 1] pixels 784-128-10 at lr 0.1 reaches ~96.5% train accuracy in 10 epochs on the
  // embedded set, standardised 99.8% (measured, seeds 1-3).
  bool standardize = true;
};

bool fashionMnistInstalled();

Result<DataSplit> loadDataSplit(const DataSource& source, const DataOptions& options = {});

// Builds a Dataset from IDX images and labels (checks that counts agree); `what` names
// the pair in messages.
struct IdxImages;
struct IdxLabels;
Result<Dataset> makeDataset(IdxImages images, IdxLabels labels, const std::string& imagesName,
                            const std::string& labelsName);

}  // namespace driftscope
