// Minimal NPY (format version 1.0) support for float32 arrays in C order, enough for
// snapshots.npy (C x P) and reference.npy (P): numpy.load reads them. Reading is used by
// tests and sessions; it validates the header and the byte count.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"

namespace driftscope {

struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

// Writes the NPY header for a little-endian float32 C-order array of `shape`.
void writeNpyHeader(std::ostream& out, const std::vector<std::int64_t>& shape);
Status writeNpyFloat32(const std::string& path, const std::vector<std::int64_t>& shape,
                       const float* data);
Result<NpyArray> readNpyFloat32(const std::string& path);

}  // namespace driftscope
