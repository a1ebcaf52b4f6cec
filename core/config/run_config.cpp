#include "core/config/run_config.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/data/dataset.h"
#include "core/model/mlp_layout.h"

namespace driftscope {

using nlohmann::json;

namespace {

std::string describe(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return std::string(v.type_name()) + " " + s;
}

Status typeError(const std::string& key, const char* expected, const json& v) {
  return Status::error("config field \"" + key + "\": expected " + expected + ", got " +
                       describe(v));
}

Status readInt(const json& j, const std::string& key, int& out) {
  if (!j.contains(key)) return Status::ok();
  const json& v = j.at(key);
  if (v.is_number_integer() || v.is_number_unsigned()) {
    const auto x = v.get<std::int64_t>();
    if (x < INT32_MIN || x > INT32_MAX) return typeError(key, "a 32-bit integer", v);
    out = static_cast<int>(x);
    return Status::ok();
  }
  if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
      std::abs(v.get<double>()) < 2e9) {
    out = static_cast<int>(v.get<double>());
    return Status::ok();
  }
  return typeError(key, "an integer", v);
}

Status readFloat(const json& j, const std::string& key, float& out) {
  if (!j.contains(key)) return Status::ok();
  const json& v = j.at(key);
  if (!v.is_number()) return typeError(key, "a number", v);
  out = v.get<float>();
  return Status::ok();
}

Status readDouble(const json& j, const std::string& key, double& out) {
  if (!j.contains(key)) return Status::ok();
  const json& v = j.at(key);
  if (!v.is_number()) return typeError(key, "a number", v);
  out = v.get<double>();
  return Status::ok();
}

Status readBool(const json& j, const std::string& key, bool& out) {
  if (!j.contains(key)) return Status::ok();
  const json& v = j.at(key);
  if (!v.is_boolean()) return typeError(key, "true or false", v);
  out = v.get<bool>();
  return Status::ok();
}

Status readString(const json& j, const std::string& key, std::string& out) {
  if (!j.contains(key)) return Status::ok();
  const json& v = j.at(key);
  if (!v.is_string()) return typeError(key, "a string", v);
  out = v.get<std::string>();
  return Status::ok();
}

const std::set<std::string>& knownKeys() {
  static const std::set<std::string> keys = {"format_version",
                                             "dataset",
                                             "standardize",
                                             "layers",
                                             "activation",
                                             "loss",
                                             "lr",
                                             "batch",
                                             "momentum",
                                             "weight_decay",
                                             "sampling",
                                             "seed",
                                             "threads",
                                             "burn_in",
                                             "burn_in_patience",
                                             "burn_in_improvement",
                                             "epochs",
                                             "record_every",
                                             "capacity",
                                             "memory_limit_mb",
                                             "baseline_samples",
                                             "align_every",
                                             "path_points",
                                             "eval_subset",
                                             "msd_lag_min",
                                             "msd_lag_max",
                                             "live_analysis_share",
                                             "lr_history",
                                             "pin_after_steps"};
  return keys;
}

// A float as the shortest decimal that reads back to it (0.05f -> 0.05, not
// 0.05000000074505806), so config.json shows what the user typed.
double decimal(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  for (int digits = 1; digits <= 9; ++digits) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", digits, static_cast<double>(v));
    if (std::strtof(shorter, nullptr) == v) return std::strtod(shorter, nullptr);
  }
  return std::strtod(buf, nullptr);
}

}  // namespace

Result<ConfigParse> configFromJson(const json& j, const RunConfig& base) {
  if (!j.is_object()) return Status::error("config: expected a JSON object, got " + describe(j));
  ConfigParse out;
  out.config = base;
  RunConfig& c = out.config;
  for (const auto& item : j.items()) {
    if (!knownKeys().count(item.key())) {
      out.warnings.push_back("config: unknown field \"" + item.key() + "\" ignored");
    }
  }
  int version = kConfigFormatVersion;
  Status s;
  if (!(s = readInt(j, "format_version", version))) return s;
  if (version > kConfigFormatVersion) {
    return Status::error("config field \"format_version\": " + std::to_string(version) +
                         " is newer than this Driftscope understands (" +
                         std::to_string(kConfigFormatVersion) + "); please update Driftscope");
  }
  if (version < 1) {
    return Status::error("config field \"format_version\": " + std::to_string(version) +
                         " is not a valid version");
  }
  if (!(s = readString(j, "dataset", c.dataset))) return s;
  if (!(s = readBool(j, "standardize", c.standardize))) return s;
  if (j.contains("layers")) {
    const json& v = j.at("layers");
    if (v.is_string()) {
      auto parsed = parseLayerSizes(v.get<std::string>());
      if (!parsed) return Status::error("config field \"layers\": " + parsed.message());
      c.layers = *parsed;
    } else if (v.is_array()) {
      c.layers.clear();
      for (const json& e : v) {
        if (!e.is_number_integer()) return typeError("layers", "an array of integers", v);
        c.layers.push_back(e.get<int>());
      }
    } else {
      return typeError("layers", "an array of integers like [784, 128, 10]", v);
    }
  }
  std::string text;
  if (j.contains("activation")) {
    if (!(s = readString(j, "activation", text))) return s;
    auto a = parseActivation(text);
    if (!a) return Status::error("config field \"activation\": " + a.message());
    c.activation = *a;
  }
  if (j.contains("loss")) {
    if (!(s = readString(j, "loss", text))) return s;
    auto l = parseLoss(text);
    if (!l) return Status::error("config field \"loss\": " + l.message());
    c.loss = *l;
  }
  if (!(s = readFloat(j, "lr", c.sgd.learningRate))) return s;
  if (!(s = readInt(j, "batch", c.sgd.batchSize))) return s;
  if (!(s = readFloat(j, "momentum", c.sgd.momentum))) return s;
  if (!(s = readFloat(j, "weight_decay", c.sgd.weightDecay))) return s;
  if (j.contains("sampling")) {
    if (!(s = readString(j, "sampling", text))) return s;
    if (text == "shuffle") {
      c.sgd.withReplacement = false;
    } else if (text == "replacement") {
      c.sgd.withReplacement = true;
    } else {
      return Status::error("config field \"sampling\": \"" + text +
                           "\" is not one of shuffle, replacement");
    }
  }
  if (j.contains("seed")) {
    const json& v = j.at("seed");
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
      return typeError("seed", "a non-negative integer", v);
    }
    c.sgd.seed = v.get<std::uint64_t>();
  }
  if (!(s = readInt(j, "threads", c.sgd.threads))) return s;
  if (j.contains("burn_in")) {
    const json& v = j.at("burn_in");
    if (v.is_string() && v.get<std::string>() == "auto") {
      c.burnInAuto = true;
    } else if (v.is_number_integer()) {
      c.burnInAuto = false;
      c.burnInEpochs = v.get<int>();
    } else {
      return typeError("burn_in", "an integer number of epochs or \"auto\"", v);
    }
  }
  if (!(s = readInt(j, "burn_in_patience", c.burnInPatience))) return s;
  if (!(s = readDouble(j, "burn_in_improvement", c.burnInImprovement))) return s;
  if (!(s = readInt(j, "epochs", c.epochs))) return s;
  if (!(s = readInt(j, "record_every", c.recordEvery))) return s;
  if (!(s = readInt(j, "capacity", c.capacity))) return s;
  if (j.contains("memory_limit_mb")) {
    double mb = 0;
    if (!(s = readDouble(j, "memory_limit_mb", mb))) return s;
    // Bounded before the conversion: a double beyond 2^64 bytes is undefined as uint64.
    if (!(mb >= 0 && mb <= kMaxMemoryLimitMb)) {
      return Status::error(
          "config field \"memory_limit_mb\": " + describe(j.at("memory_limit_mb")) +
          " must be between 0 and 16777216 (16 TiB)");
    }
    c.memoryLimitBytes = static_cast<std::uint64_t>(mb * 1024.0 * 1024.0);
  }
  if (!(s = readInt(j, "baseline_samples", c.baselineSamples))) return s;
  if (!(s = readInt(j, "align_every", c.alignEvery))) return s;
  if (!(s = readInt(j, "path_points", c.pathPoints))) return s;
  if (!(s = readInt(j, "eval_subset", c.evalSubset))) return s;
  if (!(s = readInt(j, "msd_lag_min", c.msdLagMin))) return s;
  if (!(s = readInt(j, "msd_lag_max", c.msdLagMax))) return s;
  if (!(s = readDouble(j, "live_analysis_share", c.liveAnalysisShare))) return s;
  if (j.contains("pin_after_steps")) {
    const json& v = j.at("pin_after_steps");
    if (!v.is_array()) return typeError("pin_after_steps", "an array of step counts", v);
    c.pinAfterSteps.clear();
    for (const json& e : v) {
      if (!e.is_number_integer()) return typeError("pin_after_steps", "an array of integers", v);
      c.pinAfterSteps.push_back(e.get<std::int64_t>());
    }
  }
  if (j.contains("lr_history")) {
    const json& v = j.at("lr_history");
    if (!v.is_array()) return typeError("lr_history", "an array of {step, lr}", v);
    c.lrHistory.clear();
    for (const json& e : v) {
      if (!e.is_object() || !e.contains("step") || !e.contains("lr") ||
          !e.at("step").is_number_integer() || !e.at("lr").is_number()) {
        return typeError("lr_history", "entries like {\"step\": 0, \"lr\": 0.05}", e);
      }
      c.lrHistory.push_back({e.at("step").get<std::int64_t>(), e.at("lr").get<float>()});
    }
  }
  return out;
}

Result<ConfigParse> loadConfigFile(const std::string& path, const RunConfig& base) {
  std::ifstream in(path);
  if (!in) return Status::error(path + ": cannot open the config file");
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (j.is_discarded()) return Status::error(path + ": not valid JSON");
  auto r = configFromJson(j, base);
  if (!r) return Status::error(path + ": " + r.message());
  return r;
}

json configToJson(const RunConfig& c) {
  json j;
  j["format_version"] = kConfigFormatVersion;
  j["dataset"] = c.dataset;
  j["standardize"] = c.standardize;
  j["layers"] = c.layers;
  j["activation"] = toString(c.activation);
  j["loss"] = toString(c.loss);
  j["lr"] = decimal(c.sgd.learningRate);
  j["batch"] = c.sgd.batchSize;
  j["momentum"] = decimal(c.sgd.momentum);
  j["weight_decay"] = decimal(c.sgd.weightDecay);
  j["sampling"] = c.sgd.withReplacement ? "replacement" : "shuffle";
  j["seed"] = c.sgd.seed;
  j["threads"] = c.sgd.threads;
  if (c.burnInAuto) {
    j["burn_in"] = "auto";
  } else {
    j["burn_in"] = c.burnInEpochs;
  }
  j["burn_in_patience"] = c.burnInPatience;
  j["burn_in_improvement"] = c.burnInImprovement;
  j["epochs"] = c.epochs;
  j["record_every"] = c.recordEvery;
  j["capacity"] = c.capacity;
  j["memory_limit_mb"] = static_cast<double>(c.memoryLimitBytes) / (1024.0 * 1024.0);
  j["baseline_samples"] = c.baselineSamples;
  j["align_every"] = c.alignEvery;
  j["path_points"] = c.pathPoints;
  j["eval_subset"] = c.evalSubset;
  j["msd_lag_min"] = c.msdLagMin;
  j["msd_lag_max"] = c.msdLagMax;
  j["live_analysis_share"] = c.liveAnalysisShare;
  j["pin_after_steps"] = c.pinAfterSteps;
  json hist = json::array();
  for (const LrChange& ch : c.lrHistory)
    hist.push_back({{"step", ch.step}, {"lr", decimal(ch.lr)}});
  j["lr_history"] = hist;
  return j;
}

namespace {
Status rangeError(const std::string& field, const std::string& value, const std::string& rule) {
  return Status::error("config field \"" + field + "\": " + value + " " + rule);
}
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

Status validateConfig(const RunConfig& c, int inputSize, int classes) {
  if (auto src = DataSource::parse(c.dataset); !src) {
    return Status::error("config field \"dataset\": " + src.message());
  }
  if (auto lay = MlpLayout::fromSizes(c.layers); !lay) {
    return Status::error("config field \"layers\": " + lay.message());
  }
  if (inputSize > 0 && c.layers.front() != inputSize) {
    return rangeError(
        "layers", "input size " + std::to_string(c.layers.front()),
        "does not match the data (" + std::to_string(inputSize) + " pixels per image)");
  }
  if (classes > 0 && c.layers.back() != classes) {
    return rangeError("layers", "output size " + std::to_string(c.layers.back()),
                      "does not match the data (" + std::to_string(classes) + " classes)");
  }
  const float lr = c.sgd.learningRate;
  if (!(lr > 0.0f) || !std::isfinite(lr) || lr > 100.0f) {
    return rangeError("lr", num(lr), "must be > 0 and <= 100");
  }
  // The replayed history obeys the same range as lr, with steps in increasing order.
  for (std::size_t k = 0; k < c.lrHistory.size(); ++k) {
    const LrChange& ch = c.lrHistory[k];
    const std::string entry = "entry " + std::to_string(k + 1) + " (step " +
                              std::to_string(ch.step) + ", lr " + num(ch.lr) + ")";
    if (ch.step < 0 || (k > 0 && ch.step <= c.lrHistory[k - 1].step)) {
      return rangeError("lr_history", entry, "must have steps >= 0 in increasing order");
    }
    if (!(ch.lr > 0.0f) || !std::isfinite(ch.lr) || ch.lr > 100.0f) {
      return rangeError("lr_history", entry, "must have lr > 0 and <= 100");
    }
  }
  if (c.sgd.batchSize < 1 || c.sgd.batchSize > 65536) {
    return rangeError("batch", std::to_string(c.sgd.batchSize), "must be between 1 and 65536");
  }
  if (!(c.sgd.momentum >= 0.0f && c.sgd.momentum < 1.0f)) {
    return rangeError("momentum", num(c.sgd.momentum), "must be in [0, 1)");
  }
  if (!(c.sgd.weightDecay >= 0.0f && c.sgd.weightDecay <= 1.0f)) {
    return rangeError("weight_decay", num(c.sgd.weightDecay), "must be in [0, 1]");
  }
  if (c.sgd.threads < 1 || c.sgd.threads > 256) {
    return rangeError("threads", std::to_string(c.sgd.threads), "must be between 1 and 256");
  }
  if (c.epochs < 1 || c.epochs > 1000000) {
    return rangeError("epochs", std::to_string(c.epochs), "must be between 1 and 1000000");
  }
  if (!c.burnInAuto && (c.burnInEpochs < 0 || c.burnInEpochs >= c.epochs)) {
    return rangeError("burn_in", std::to_string(c.burnInEpochs),
                      "must be >= 0 and less than epochs (" + std::to_string(c.epochs) + ")");
  }
  if (c.burnInPatience < 1) {
    return rangeError("burn_in_patience", std::to_string(c.burnInPatience), "must be >= 1");
  }
  if (!(c.burnInImprovement >= 0.0 && c.burnInImprovement < 1.0)) {
    return rangeError("burn_in_improvement", num(c.burnInImprovement), "must be in [0, 1)");
  }
  if (c.recordEvery < 1) {
    return rangeError("record_every", std::to_string(c.recordEvery), "must be >= 1 step");
  }
  if (c.capacity < 2 || c.capacity > 100000) {
    return rangeError("capacity", std::to_string(c.capacity), "must be between 2 and 100000");
  }
  if (c.baselineSamples < 2 || c.baselineSamples > 1000000) {
    return rangeError("baseline_samples", std::to_string(c.baselineSamples),
                      "must be between 2 and 1000000");
  }
  if (c.alignEvery < 0) {
    return rangeError("align_every", std::to_string(c.alignEvery), "must be >= 0");
  }
  if (c.pathPoints < 2 || c.pathPoints > 1001) {
    return rangeError("path_points", std::to_string(c.pathPoints), "must be between 2 and 1001");
  }
  if (c.evalSubset < 1) {
    return rangeError("eval_subset", std::to_string(c.evalSubset), "must be >= 1");
  }
  if (c.msdLagMin < 1) {
    return rangeError("msd_lag_min", std::to_string(c.msdLagMin), "must be >= 1");
  }
  if (c.msdLagMax != 0 && c.msdLagMax <= c.msdLagMin) {
    return rangeError("msd_lag_max", std::to_string(c.msdLagMax),
                      "must be 0 (automatic) or greater than msd_lag_min");
  }
  if (!(c.liveAnalysisShare >= 0.0 && c.liveAnalysisShare <= 1.0)) {
    return rangeError("live_analysis_share", num(c.liveAnalysisShare),
                      "must be in [0, 1] (1: no limit)");
  }
  if (c.pinAfterSteps.size() > 4) {
    return rangeError("pin_after_steps", std::to_string(c.pinAfterSteps.size()) + " entries",
                      "is more than the 4 extra references allowed");
  }
  for (std::size_t k = 0; k < c.pinAfterSteps.size(); ++k) {
    if (c.pinAfterSteps[k] < 0 || (k > 0 && c.pinAfterSteps[k] <= c.pinAfterSteps[k - 1])) {
      return rangeError(
          "pin_after_steps",
          "entry " + std::to_string(k + 1) + " (" + std::to_string(c.pinAfterSteps[k]) + ")",
          "must be >= 0 and larger than the one before");
    }
  }
  const std::uint64_t need = ringBytes(c);
  const std::uint64_t limit = effectiveMemoryLimit(c);
  if (need > limit) {
    return rangeError("capacity", std::to_string(c.capacity),
                      "snapshots need " + formatBytes(need) + " for the ring, more than the " +
                          formatBytes(limit) +
                          " allowed (lower capacity or raise memory_limit_mb)");
  }
  return Status::ok();
}

std::uint64_t ringBytes(const RunConfig& c) {
  auto lay = MlpLayout::fromSizes(c.layers);
  if (!lay || c.capacity < 0) return 0;
  // Saturates instead of wrapping: hundreds of layers of 2^20 units overflow 64 bits, and a
  // wrapped size would pass the memory check.
  const std::uint64_t slots = static_cast<std::uint64_t>(c.capacity) + 1;
  const std::uint64_t perSlot = lay->paramCount();
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  if (perSlot > kMax / sizeof(float) / slots) return kMax;
  return slots * perSlot * sizeof(float);
}

std::uint64_t physicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long pageSize = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || pageSize <= 0) return 8ull << 30;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(pageSize);
}

std::uint64_t effectiveMemoryLimit(const RunConfig& c) {
  return c.memoryLimitBytes ? c.memoryLimitBytes : physicalMemoryBytes() / 2;
}

std::string formatBytes(std::uint64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", b / (1024.0 * 1024 * 1024));
  } else if (b >= 1024.0 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024));
  } else if (b >= 1024.0) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

}  // namespace driftscope
