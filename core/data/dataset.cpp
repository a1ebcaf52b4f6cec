#include "core/data/dataset.h"

#include <cmath>
#include <filesystem>

#include "core/data/embedded_mnist.h"
#include "core/data/idx.h"

namespace driftscope {

Result<DataSource> DataSource::parse(const std::string& spec) {
  DataSource s;
  if (spec == "mnist-embedded" || spec == "mnist") {
    s.kind = Kind::kEmbeddedMnist;
    return s;
  }
  if (spec == "fashion-mnist") {
    s.kind = Kind::kFashionMnist;
    return s;
  }
  const std::string prefix = "idx:";
  if (spec.rfind(prefix, 0) == 0) {
    s.kind = Kind::kIdxFiles;
    std::string rest = spec.substr(prefix.size());
    std::size_t i = 0;
    std::size_t start = 0;
    while (true) {
      std::size_t comma = rest.find(',', start);
      std::string part = rest.substr(start, comma == std::string::npos ? comma : comma - start);
      if (i >= 4) {
        return Status::error("dataset: \"" + spec + "\" has more than four IDX paths");
      }
      if (part.empty()) {
        return Status::error("dataset: \"" + spec + "\" has an empty path at position " +
                             std::to_string(i + 1));
      }
      s.paths[i++] = part;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (i != 4) {
      return Status::error("dataset: \"" + spec +
                           "\" needs four paths: idx:TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,"
                           "TEST_LABELS");
    }
    return s;
  }
  return Status::error("dataset: unknown data set \"" + spec +
                       "\" (expected mnist-embedded, fashion-mnist or idx:FILE,FILE,FILE,FILE)");
}

std::string DataSource::toString() const {
  switch (kind) {
    case Kind::kEmbeddedMnist:
      return "mnist-embedded";
    case Kind::kFashionMnist:
      return "fashion-mnist";
    case Kind::kIdxFiles:
      return "idx:" + paths[0] + "," + paths[1] + "," + paths[2] + "," + paths[3];
  }
  return {};
}

bool fashionMnistInstalled() {
  std::error_code ec;
  return std::filesystem::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz", ec);
}

Result<Dataset> makeDataset(IdxImages images, IdxLabels labels, const std::string& imagesName,
                            const std::string& labelsName) {
  if (static_cast<std::size_t>(images.count) != labels.labels.size()) {
    return Status::error(imagesName + " holds " + std::to_string(images.count) + " images but " +
                         labelsName + " holds " + std::to_string(labels.labels.size()) + " labels");
  }
  Dataset d;
  d.rows = images.rows;
  d.cols = images.cols;
  d.labels = std::move(labels.labels);
  const int features = images.rows * images.cols;
  d.images.resize(images.count, features);
  const float scale = 1.0f / 255.0f;
  for (int i = 0; i < images.count; ++i) {
    const std::uint8_t* src = images.pixels.data() + static_cast<std::size_t>(i) * features;
    for (int j = 0; j < features; ++j) d.images(i, j) = static_cast<float>(src[j]) * scale;
  }
  return d;
}

namespace {

struct NamedBytes {
  std::string name;
  std::span<const std::uint8_t> bytes;  // gzip or plain
};

Result<Dataset> loadPair(const std::string& imagesPath, const std::string& labelsPath) {
  auto images = readIdxImages(imagesPath);
  if (!images) return images.status();
  auto labels = readIdxLabels(labelsPath);
  if (!labels) return labels.status();
  return makeDataset(std::move(images).value(), std::move(labels).value(), imagesPath, labelsPath);
}

Result<Dataset> loadEmbeddedPair(const NamedBytes& imagesIn, const NamedBytes& labelsIn) {
  auto imageBytes = maybeGunzip(imagesIn.bytes, imagesIn.name);
  if (!imageBytes) return imageBytes.status();
  auto images = parseIdxImages(*imageBytes, imagesIn.name);
  if (!images) return images.status();
  auto labelBytes = maybeGunzip(labelsIn.bytes, labelsIn.name);
  if (!labelBytes) return labelBytes.status();
  auto labels = parseIdxLabels(*labelBytes, labelsIn.name);
  if (!labels) return labels.status();
  return makeDataset(std::move(images).value(), std::move(labels).value(), imagesIn.name,
                     labelsIn.name);
}

void standardize(DataSplit& split) {
  const double n = static_cast<double>(split.train.images.size());
  const double mean = split.train.images.cast<double>().sum() / n;
  const double var = (split.train.images.cast<double>().array() - mean).square().sum() / n;
  const float m = static_cast<float>(mean);
  const float inv = static_cast<float>(1.0 / std::sqrt(std::max(var, 1e-12)));
  split.train.images = (split.train.images.array() - m) * inv;
  split.test.images = (split.test.images.array() - m) * inv;
}

}  // namespace

Result<DataSplit> loadDataSplit(const DataSource& source, const DataOptions& options) {
  DataSplit split;
  split.name = source.toString();
  Result<Dataset> train = Status::error("unset");
  Result<Dataset> test = Status::error("unset");
  switch (source.kind) {
    case DataSource::Kind::kEmbeddedMnist: {
      const EmbeddedIdx e = embeddedMnist();
      train = loadEmbeddedPair({"embedded mnist train images", e.trainImages},
                               {"embedded mnist train labels", e.trainLabels});
      if (train) {
        test = loadEmbeddedPair({"embedded mnist test images", e.testImages},
                                {"embedded mnist test labels", e.testLabels});
      }
      break;
    }
    case DataSource::Kind::kFashionMnist: {
      const std::string dir = kFashionMnistDir;
      if (!fashionMnistInstalled()) {
        return Status::error("dataset fashion-mnist: not installed (" + dir +
                             " missing; apt-get install dataset-fashion-mnist)");
      }
      train = loadPair(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz");
      if (train) {
        test = loadPair(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz");
      }
      break;
    }
    case DataSource::Kind::kIdxFiles:
      train = loadPair(source.paths[0], source.paths[1]);
      if (train) test = loadPair(source.paths[2], source.paths[3]);
      break;
  }
  if (!train) return train.status();
  if (!test) return test.status();
  if (train->rows != test->rows || train->cols != test->cols) {
    return Status::error("dataset " + split.name + ": training images are " +
                         std::to_string(train->rows) + "x" + std::to_string(train->cols) +
                         " but test images are " + std::to_string(test->rows) + "x" +
                         std::to_string(test->cols));
  }
  split.train = std::move(train).value();
  split.test = std::move(test).value();
  if (options.standardize) standardize(split);
  return split;
}

}  // namespace driftscope
