#include "core/report/run_folder.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/io/npy.h"

namespace driftscope {
namespace {

namespace fs = std::filesystem;

Result<nlohmann::json> readJsonFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return Status::error(path.string() + ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return Status::error(path.string() + ": not valid JSON (" + e.what() + ")");
  }
}

const nlohmann::json* findPath(const nlohmann::json& doc, const std::string& path) {
  const nlohmann::json* node = &doc;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node;
}

// Layers from layout.json: [{"shape": [out, in], ...}, ...] -> {in0, out0, out1, ...}.
Result<MlpLayout> layoutFromJson(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object() || !j.contains("layers") || !j["layers"].is_array() || j["layers"].empty()) {
    return Status::error(file + ": \"layers\" must be a non-empty list");
  }
  std::vector<int> sizes;
  for (std::size_t l = 0; l < j["layers"].size(); ++l) {
    const nlohmann::json& shape = j["layers"][l].value("shape", nlohmann::json());
    if (!shape.is_array() || shape.size() != 2 || !shape[0].is_number_integer() ||
        !shape[1].is_number_integer()) {
      return Status::error(file + ": layers[" + std::to_string(l) +
                           "].shape must be [out, in] integers");
    }
    const int out = shape[0].get<int>();
    const int in = shape[1].get<int>();
    if (l == 0) {
      sizes.push_back(in);
    } else if (in != sizes.back()) {
      return Status::error(file + ": layers[" + std::to_string(l) + "] takes " +
                           std::to_string(in) + " inputs, the layer before gives " +
                           std::to_string(sizes.back()));
    }
    sizes.push_back(out);
  }
  auto layout = MlpLayout::fromSizes(sizes);
  if (!layout) return Status::error(file + ": " + layout.message());
  return std::move(layout).value();
}

Result<CsvTable> readTable(const fs::path& dir, const char* name,
                           std::initializer_list<const char*> columns) {
  auto table = CsvTable::read((dir / name).string());
  if (!table) return table.status();
  for (const char* c : columns) {
    if (!table->hasColumn(c)) {
      return Status::error((dir / name).string() + ": no column \"" + c + "\"");
    }
  }
  return table;
}

}  // namespace

Result<double> jsonNumber(const nlohmann::json& doc, const std::string& path,
                          const std::string& file) {
  const nlohmann::json* node = findPath(doc, path);
  if (node == nullptr) return Status::error(file + ": no field \"" + path + "\"");
  if (!node->is_number()) {
    return Status::error(file + ": \"" + path + "\" is " + node->dump() + ", not a number");
  }
  return node->get<double>();
}

double jsonNumberOr(const nlohmann::json& doc, const std::string& path) {
  const nlohmann::json* node = findPath(doc, path);
  if (node == nullptr || !node->is_number()) return std::numeric_limits<double>::quiet_NaN();
  return node->get<double>();
}

std::string jsonText(const nlohmann::json& doc, const std::string& path) {
  const nlohmann::json* node = findPath(doc, path);
  return node != nullptr && node->is_string() ? node->get<std::string>() : std::string();
}

Result<RunFolder> loadRunFolder(const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return Status::error(dir + (fs::exists(root, ec) ? ": not a folder" : ": folder not found"));
  }
  RunFolder run;
  run.dir = dir;
  run.label = root.filename().string();
  if (run.label.empty() || run.label == ".") run.label = root.parent_path().filename().string();
  if (run.label.empty()) run.label = dir;

  auto config = readJsonFile(root / "config.json");
  if (!config) return config.status();
  run.config = std::move(config).value();
  auto summary = readJsonFile(root / "summary.json");
  if (!summary) return summary.status();
  run.summary = std::move(summary).value();
  const std::string summaryName = (root / "summary.json").string();
  if (!run.config.is_object()) {
    return Status::error((root / "config.json").string() + ": not a JSON object");
  }
  if (!run.summary.is_object()) return Status::error(summaryName + ": not a JSON object");
  for (const char* field : {"baseline.mean", "run.steps", "run.recording_start_step"}) {
    if (auto v = jsonNumber(run.summary, field, summaryName); !v) return v.status();
  }
  auto layoutDoc = readJsonFile(root / "layout.json");
  if (!layoutDoc) return layoutDoc.status();
  auto layout = layoutFromJson(*layoutDoc, (root / "layout.json").string());
  if (!layout) return layout.status();
  run.layout = std::move(layout).value();

  auto metrics = readTable(root, "metrics.csv", {"epoch", "step", "weight_norm", "test_acc"});
  if (!metrics) return metrics.status();
  run.metrics = std::move(metrics).value();
  auto distance = readTable(root, "distance.csv",
                            {"snapshot", "step", "d_ref", "d_radial", "d_aligned", "weight_norm"});
  if (!distance) return distance.status();
  run.distance = std::move(distance).value();
  if (run.distance.rows() == 0) {
    return Status::error((root / "distance.csv").string() + ": no snapshots were recorded");
  }
  auto msd = readTable(root, "msd.csv", {"lag_snapshots", "lag_steps", "msd", "fit"});
  if (!msd) return msd.status();
  run.msd = std::move(msd).value();
  auto function = readTable(root, "function.csv", {"snapshot", "step", "disagreement", "kl"});
  if (!function) return function.status();
  run.function = std::move(function).value();
  return run;
}

namespace {

Result<NpyArray> readWeightsFile(const RunFolder& run, const char* name, std::size_t dims) {
  const std::string path = (fs::path(run.dir) / name).string();
  auto array = readNpyFloat32(path);
  if (!array) return array.status();
  const auto p = static_cast<std::int64_t>(run.layout.paramCount());
  if (array->shape.size() != dims || array->shape.back() != p ||
      (dims == 2 && array->shape[0] < 1)) {
    std::string shape;
    for (std::int64_t s : array->shape) shape += (shape.empty() ? "" : ", ") + std::to_string(s);
    return Status::error(path + ": shape (" + shape + ") does not hold " + std::to_string(p) +
                         "-parameter snapshots of layout.json");
  }
  return array;
}

}  // namespace

Result<std::vector<float>> readReferenceWeights(const RunFolder& run) {
  auto array = readWeightsFile(run, "reference.npy", 1);
  if (!array) return array.status();
  return std::move(array->data);
}

Result<std::vector<float>> readLastSnapshot(const RunFolder& run) {
  auto array = readWeightsFile(run, "snapshots.npy", 2);
  if (!array) return array.status();
  const std::size_t p = run.layout.paramCount();
  const std::size_t rows = static_cast<std::size_t>(array->shape[0]);
  return std::vector<float>(array->data.begin() + static_cast<std::ptrdiff_t>((rows - 1) * p),
                            array->data.end());
}

}  // namespace driftscope
