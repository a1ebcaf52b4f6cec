#include "fuzz/fuzz_entries.h"

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/config/run_config.h"
#include "core/data/idx.h"
#include "core/io/run_writer.h"
#include "core/io/session.h"
#include "core/model/mlp_layout.h"

namespace driftscope::fuzz {
namespace {

// A broken property is a finding: abort so that libFuzzer keeps the input.
void require(bool property, const char* what) {
  if (!property) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

Outcome runIdxInput(std::span<const std::uint8_t> data, const std::string& name) {
  auto bytes = maybeGunzip(data, name);
  if (!bytes) return {false, bytes.message()};
  auto images = parseIdxImages(*bytes, name);
  if (images) {
    require(images->pixels.size() ==
                static_cast<std::size_t>(images->count) * images->rows * images->cols,
            "IDX images: pixel count matches count x rows x cols");
    return {true, {}};
  }
  auto labels = parseIdxLabels(*bytes, name);
  if (labels) {
    for (std::uint8_t l : labels->labels) require(l < 10, "IDX labels: every label < 10");
    return {true, {}};
  }
  return {false, images.message() + "; " + labels.message()};
}

Outcome runConfigInput(std::span<const std::uint8_t> data, const std::string& name) {
  const nlohmann::json j = nlohmann::json::parse(data.begin(), data.end(), nullptr,
                                                 /*allow_exceptions=*/false,
                                                 /*ignore_comments=*/true);
  if (j.is_discarded()) return {false, name + ": not valid JSON"};
  auto parsed = configFromJson(j);
  if (!parsed) return {false, name + ": " + parsed.message()};
  const Status valid = validateConfig(parsed->config, 784, 10);
  if (!valid) return {false, name + ": " + valid.message()};
  // Property: config.json written for a valid configuration reads back to the same one.
  const nlohmann::json written = configToJson(parsed->config);
  auto reread = configFromJson(written);
  require(reread.isOk(), "config: configToJson output parses");
  require(reread->warnings.empty(), "config: configToJson writes only known fields");
  require(validateConfig(reread->config, 784, 10).isOk(), "config: round trip stays valid");
  require(configToJson(reread->config) == written, "config: JSON round trip is exact");
  return {true, {}};
}

std::string sessionPath() {
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("driftscope-fuzz-" + std::to_string(::getpid()) + ".dsession"))
                                      .string();
  return path;
}

Outcome runSessionInput(std::span<const std::uint8_t> data) {
  const std::string path = sessionPath();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
    const auto crc = static_cast<std::uint32_t>(
        crc32(crc32(0L, Z_NULL, 0), data.data(), static_cast<uInt>(data.size())));
    out.write(reinterpret_cast<const char*>(&crc), sizeof crc);
  }
  auto session = loadSession(path);
  if (!session) return {false, session.message()};
  // A session that loads must be exportable (File > Export all on a reopened session).
  const AnalysisState& s = *session->state;
  const MlpLayout layout(session->config.layers);
  std::size_t total = 0;
  for (const std::string& text :
       {metricsCsv(s), distanceCsv(s, layout.numLayers()), baselineCsv(s), heatmapCsv(s), pcaCsv(s),
        pcaVarianceCsv(s), msdCsv(s, session->config.recordEvery), pathCsv(s), functionCsv(s),
        agingCsv(s), summaryJson(s, session->info).dump(), configToJson(session->config).dump()}) {
    total += text.size();
  }
  require(total > 0, "session: exports are not empty");
  const RowMatrix snapshots = session->ring->chronologicalMatrix();
  require(snapshots.rows() == session->ring->size(), "session: ring rows match its size");
  return {true, {}};
}

}  // namespace driftscope::fuzz
