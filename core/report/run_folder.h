// RunFolder: one finished run read back from the folder `driftscope run` (or the window's
// "Export all") wrote: config.json, summary.json, layout.json and the CSV series the
// report compares (metrics, distance, msd, function). Weights (reference.npy,
// snapshots.npy) are read only on demand: they can be large. Every error names the file
// and the field. Immutable after loading; safe to share between threads.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/csv_table.h"
#include "core/model/mlp_layout.h"
#include "core/status.h"

namespace driftscope {

struct RunFolder {
  std::string dir;    // as given
  std::string label;  // the folder's name
  nlohmann::json config;
  nlohmann::json summary;
  MlpLayout layout;
  CsvTable metrics;
  CsvTable distance;
  CsvTable msd;
  CsvTable function;
};

Result<RunFolder> loadRunFolder(const std::string& dir);

// A number inside a JSON document by dotted path ("baseline.mean"); `file` names the
// document in the error. Null (e.g. an analysis that was not computed) is an error too.
Result<double> jsonNumber(const nlohmann::json& doc, const std::string& path,
                          const std::string& file);
// As jsonNumber, but NaN where the field is missing or null.
double jsonNumberOr(const nlohmann::json& doc, const std::string& path);
// A string field by dotted path, "" where it is missing or not a string.
std::string jsonText(const nlohmann::json& doc, const std::string& path);

// The run's weights: reference.npy (w_ref, P floats) and the last row of snapshots.npy
// (the last recorded snapshot); both checked against layout.json.
Result<std::vector<float>> readReferenceWeights(const RunFolder& run);
Result<std::vector<float>> readLastSnapshot(const RunFolder& run);

}  // namespace driftscope
