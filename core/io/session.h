// Session files (.dsession): everything needed to reopen a run and show and export the
// same plots: the resolved configuration (with its learning-rate history), every scalar
// series, the baseline band, the ring analyses, the ring snapshots and the reference.
//
// Format (little-endian): the 16-byte magic "DRIFTSCOPE-SESS\n", a uint32 format version,
// a uint64 header length, a JSON header, then the binary blocks the header lists
// (float32 ring C x P and reference P; float64 heatmap C x C and PCA projections), and
// a trailing uint32 CRC-32 (zlib) of everything before it. A file from a newer format, a
// truncated or corrupt one is refused with a message naming the file; nothing is loaded
// half-way. Writes are atomic.
#pragma once

#include <memory>
#include <string>

#include "core/config/run_config.h"
#include "core/engine/analysis_state.h"
#include "core/io/run_writer.h"
#include "core/record/snapshot_ring.h"

namespace driftscope {

inline constexpr std::uint32_t kSessionFormatVersion = 1;

struct Session {
  RunConfig config;
  std::shared_ptr<const AnalysisState> state;
  std::shared_ptr<const SnapshotRing> ring;  // holds exactly the state's ring snapshots
  RunInfo info;
};

Status saveSession(const std::string& path, const RunConfig& config, const AnalysisState& state,
                   const SnapshotRing& ring, const RunInfo& info);
Result<Session> loadSession(const std::string& path);

}  // namespace driftscope
