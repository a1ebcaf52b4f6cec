// Reader for the IDX format of MNIST (plain or gzip), with strict validation: magic
// number, dimensions, declared counts against the actual byte count (checked BEFORE
// allocating the declared size), labels in range, truncated or corrupt files. Every
// failure is a Status whose message names the file (or the given source name) and the
// problem; nothing is half-loaded. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace driftscope {

struct IdxImages {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<std::uint8_t> pixels;  // count * rows * cols, row-major per image
};

struct IdxLabels {
  std::vector<std::uint8_t> labels;
};

// Largest decompressed IDX file accepted (protects against gzip bombs): 4 GiB.
inline constexpr std::uint64_t kMaxIdxBytes = 4ull << 30;

// Reads a whole file, transparently gunzipping when it starts with the gzip magic.
Result<std::vector<std::uint8_t>> readMaybeGzipFile(const std::string& path);
// Same for bytes already in memory; `name` is used in messages.
Result<std::vector<std::uint8_t>> maybeGunzip(std::span<const std::uint8_t> bytes,
                                              const std::string& name);

// Parse already-decompressed IDX bytes. `name` appears in every message.
Result<IdxImages> parseIdxImages(std::span<const std::uint8_t> bytes, const std::string& name);
Result<IdxLabels> parseIdxLabels(std::span<const std::uint8_t> bytes, const std::string& name,
                                 int numClasses = 10);

Result<IdxImages> readIdxImages(const std::string& path);
Result<IdxLabels> readIdxLabels(const std::string& path, int numClasses = 10);

}  // namespace driftscope
