#include "core/io/run_writer.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/analysis/msd.h"
#include "core/io/atomic_file.h"
#include "core/io/npy.h"

namespace driftscope {

using nlohmann::json;

namespace {

// Ten significant digits: plenty for plots and tables (the exact values are in the NPY
// files and sessions); nan/inf spelled as numpy.loadtxt reads them.
std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// Floats (learning rates) with the digits a float holds: 0.05f prints as 0.05.
std::string numf(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", static_cast<double>(v));
  return buf;
}

std::string opt(const std::optional<double>& v) { return v ? num(*v) : std::string(); }

json jnum(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json jopt(const std::optional<double>& v) { return v ? jnum(*v) : json(nullptr); }

}  // namespace

std::string metricsCsv(const AnalysisState& s) {
  std::string out = "epoch,step,lr,train_loss,train_acc,test_loss,test_acc,weight_norm,seconds\n";
  for (const EpochMetrics& m : s.metrics) {
    out += std::to_string(m.epoch) + "," + std::to_string(m.step) + "," + numf(m.lr) + "," +
           num(m.trainLoss) + "," + num(m.trainAcc) + "," + num(m.testLoss) + "," + num(m.testAcc) +
           "," + num(m.weightNorm) + "," + num(m.seconds) + "\n";
  }
  return out;
}

std::string distanceCsv(const AnalysisState& s, int numLayers) {
  std::string out =
      "snapshot,step,epoch,lr,d_ref,d_rel,d_radial,d_tangential,d_aligned,"
      "aligned_identity_fraction,weight_norm";
  for (int l = 1; l <= numLayers; ++l) out += ",d_layer_" + std::to_string(l);
  out += "\n";
  for (const DistanceRecord& r : s.distances) {
    out += std::to_string(r.meta.index) + "," + std::to_string(r.meta.step) + "," +
           num(r.meta.epoch) + "," + numf(r.meta.lr) + "," + num(r.d.distance) + "," +
           num(r.d.relative) + "," + num(r.d.radial) + "," + num(r.d.tangential) + "," +
           opt(r.aligned) + "," + opt(r.alignedIdentity) + "," + num(r.d.weightNorm);
    for (double d : r.d.perLayer) out += "," + num(d);
    out += "\n";
  }
  return out;
}

std::string baselineCsv(const AnalysisState& s) {
  std::string out = "sample,d\n";
  if (!s.baseline) return out;
  for (std::size_t k = 0; k < s.baseline->samples.size(); ++k) {
    out += std::to_string(k) + "," + num(s.baseline->samples[k]) + "\n";
  }
  return out;
}

std::string heatmapCsv(const AnalysisState& s) {
  std::string out = "# snapshots:";
  if (!s.ring) return out + "\n";
  for (const SnapshotMeta& m : s.ring->snapshots) out += " " + std::to_string(m.index);
  out += "\n";
  const RowMatrixD& d = s.ring->distances;
  for (Eigen::Index i = 0; i < d.rows(); ++i) {
    for (Eigen::Index j = 0; j < d.cols(); ++j) {
      if (j) out += ",";
      out += num(d(i, j));
    }
    out += "\n";
  }
  return out;
}

std::string pcaCsv(const AnalysisState& s) {
  std::string out = "snapshot,step,pc1,pc2,pc3\n";
  if (!s.ring) return out;
  const RowMatrixD& p = s.ring->pca.projections;
  for (std::size_t i = 0; i < s.ring->snapshots.size(); ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    out += std::to_string(s.ring->snapshots[i].index) + "," +
           std::to_string(s.ring->snapshots[i].step);
    for (Eigen::Index k = 0; k < 3; ++k) {
      out += "," + (r < p.rows() && k < p.cols() ? num(p(r, k)) : std::string("0"));
    }
    out += "\n";
  }
  return out;
}

std::string pcaVarianceCsv(const AnalysisState& s) {
  std::string out = "component,explained_ratio,random_walk_ratio\n";
  if (!s.ring) return out;
  const auto& e = s.ring->pca.explainedRatio;
  const auto& w = s.ring->pca.randomWalkRatio;
  for (std::size_t k = 0; k < e.size(); ++k) {
    out += std::to_string(k + 1) + "," + num(e[k]) + "," + (k < w.size() ? num(w[k]) : "") + "\n";
  }
  return out;
}

std::string msdCsv(const AnalysisState& s, int recordEvery) {
  std::string out = "lag_snapshots,lag_steps,msd,fit\n";
  if (!s.ring) return out;
  const MsdResult& m = s.ring->msd;
  for (std::size_t k = 0; k < m.lags.size(); ++k) {
    const int lag = m.lags[k];
    out += std::to_string(lag) + "," +
           std::to_string(static_cast<std::int64_t>(lag) * recordEvery) + "," + num(m.msd[k]) +
           "," + (s.ring->fit.valid ? num(powerLawValue(s.ring->fit, lag)) : std::string()) + "\n";
  }
  return out;
}

std::string pathCsv(const AnalysisState& s) {
  std::string out = "t,loss_raw,loss_aligned\n";
  if (!s.ring) return out;
  const PathResult& p = s.ring->path;
  for (std::size_t k = 0; k < p.t.size(); ++k) {
    out += num(p.t[k]) + "," + num(p.lossRaw[k]) + "," +
           (k < p.lossAligned.size() ? num(p.lossAligned[k]) : std::string()) + "\n";
  }
  return out;
}

std::string functionCsv(const AnalysisState& s) {
  std::string out = "snapshot,step,disagreement,kl\n";
  for (const FunctionRecord& f : s.function) {
    out += std::to_string(f.meta.index) + "," + std::to_string(f.meta.step) + "," +
           num(f.disagreement) + "," + num(f.kl) + "\n";
  }
  return out;
}

std::string agingCsv(const AnalysisState& s) {
  std::string out = "reference_snapshot,reference_step,lag_steps,d\n";
  for (const PinnedCurve& c : s.pinned) {
    for (const PinnedPoint& p : c.points) {
      out += std::to_string(c.reference.index) + "," + std::to_string(c.reference.step) + "," +
             std::to_string(p.lagSteps) + "," + num(p.distance) + "\n";
    }
  }
  return out;
}

json layoutJson(const MlpLayout& layout) {
  json layers = json::array();
  for (int l = 0; l < layout.numLayers(); ++l) {
    const LayerSlice& s = layout.layer(l);
    layers.push_back({{"name", "fc" + std::to_string(l + 1)},
                      {"shape", {s.out, s.in}},
                      {"w_offset", s.wOffset},
                      {"b_offset", s.bOffset}});
  }
  return {{"layers", layers}, {"param_count", layout.paramCount()}, {"dtype", "float32"}};
}

json summaryJson(const AnalysisState& s, const RunInfo& info) {
  json j;
  const BaselineBand* b = s.baseline.get();
  j["baseline"] = {{"mean", b ? jnum(b->mean) : json(nullptr)},
                   {"p05", b ? jnum(b->p05) : json(nullptr)},
                   {"p50", b ? jnum(b->p50) : json(nullptr)},
                   {"p95", b ? jnum(b->p95) : json(nullptr)},
                   {"exact_rms", b ? jnum(b->exactRms) : json(nullptr)},
                   {"nearest_transposition", b ? jnum(b->nearestTransposition) : json(nullptr)},
                   {"samples", b ? json(b->samples.size()) : json(0)}};
  const bool fit = s.ring && s.ring->fit.valid;
  json aging = json::array();
  if (s.ring) {
    for (const AgingFit& a : s.ring->aging) {
      aging.push_back(
          {{"waiting_snapshots", a.waitingSnapshots},
           {"waiting_steps",
            s.ring->snapshots.size() > static_cast<std::size_t>(a.waitingSnapshots)
                ? json(s.ring->snapshots[static_cast<std::size_t>(a.waitingSnapshots)].step -
                       s.ring->snapshots.front().step)
                : json(nullptr)},
           {"alpha", a.fit.valid ? jnum(a.fit.alpha) : json(nullptr)},
           {"alpha_stderr", a.fit.valid ? jnum(a.fit.alphaStderr) : json(nullptr)}});
    }
  }
  j["msd"] = {{"alpha", fit ? jnum(s.ring->fit.alpha) : json(nullptr)},
              {"alpha_stderr", fit ? jnum(s.ring->fit.alphaStderr) : json(nullptr)},
              {"lag_min", fit ? json(s.ring->fit.lagMin) : json(nullptr)},
              {"lag_max", fit ? json(s.ring->fit.lagMax) : json(nullptr)},
              {"aging", aging}};
  j["verdict"] = {{"ratio_last", s.verdict.valid ? jnum(s.verdict.ratioLast) : json(nullptr)},
                  {"ratio_aligned_last", jopt(s.verdict.ratioAlignedLast)},
                  {"lag_to_baseline_steps", jopt(s.verdict.lagToBaselineSteps)},
                  {"text", s.verdict.text}};
  if (s.ring) {
    j["path"] = {
        {"barrier_raw", jnum(s.ring->path.barrierRaw)},
        {"barrier_aligned",
         s.ring->path.lossAligned.empty() ? json(nullptr) : jnum(s.ring->path.barrierAligned)},
        {"snapshot", s.ring->pathSnapshot}};
  }
  if (!s.metrics.empty()) {
    const EpochMetrics& m = s.metrics.back();
    j["final"] = {{"train_loss", jnum(m.trainLoss)},   {"train_acc", jnum(m.trainAcc)},
                  {"test_loss", jnum(m.testLoss)},     {"test_acc", jnum(m.testAcc)},
                  {"weight_norm", jnum(m.weightNorm)}, {"epoch", m.epoch}};
  } else {
    j["final"] = {{"train_loss", nullptr},
                  {"train_acc", nullptr},
                  {"test_loss", nullptr},
                  {"test_acc", nullptr}};
  }
  const char* status = info.outcome.reason == StopReason::kCompleted  ? "completed"
                       : info.outcome.reason == StopReason::kDiverged ? "diverged"
                                                                      : "stopped";
  j["run"] = {
      {"steps", info.steps},
      {"epochs", info.epochs},
      {"snapshots", s.snapshotsTaken},
      {"snapshots_in_ring", s.snapshotsInRing},
      {"seconds", jnum(info.seconds)},
      {"threads", info.threads},
      {"steps_per_epoch", info.stepsPerEpoch},
      {"version", info.version},
      {"status", status},
      {"message", info.outcome.message},
      {"reference_snapshot", s.reference ? json(s.reference->index) : json(nullptr)},
      {"recording_start_step", s.recordingStartStep ? json(*s.recordingStartStep) : json(nullptr)}};
  if (info.outcome.reason == StopReason::kDiverged) {
    j["run"]["diverged_step"] = info.outcome.step;
    j["run"]["diverged_epoch"] = info.outcome.epoch;
  }
  return j;
}

Status writeRunOutputs(const std::string& dir, const RunConfig& config, const MlpLayout& layout,
                       const AnalysisState& state, const SnapshotRing& ring, const RunInfo& info) {
  if (Status s = ensureDirectory(dir); !s) return s;
  auto file = [&](const char* name) { return dir + "/" + name; };
  struct Text {
    const char* name;
    std::string content;
  };
  const std::vector<Text> texts = {
      {"config.json", configToJson(config).dump(2) + "\n"},
      {"metrics.csv", metricsCsv(state)},
      {"distance.csv", distanceCsv(state, layout.numLayers())},
      {"baseline.csv", baselineCsv(state)},
      {"heatmap.csv", heatmapCsv(state)},
      {"pca.csv", pcaCsv(state)},
      {"pca_variance.csv", pcaVarianceCsv(state)},
      {"msd.csv", msdCsv(state, config.recordEvery)},
      {"path.csv", pathCsv(state)},
      {"function.csv", functionCsv(state)},
      {"aging.csv", agingCsv(state)},
      {"layout.json", layoutJson(layout).dump(2) + "\n"},
      {"summary.json", summaryJson(state, info).dump(2) + "\n"},
  };
  for (const Text& t : texts) {
    if (Status s = writeTextFileAtomically(file(t.name), t.content); !s) return s;
  }
  const std::size_t P = layout.paramCount();
  const std::vector<int> slots = ring.chronological();
  Status s = writeFileAtomically(file("snapshots.npy"), [&](std::ostream& out) {
    writeNpyHeader(out, {static_cast<std::int64_t>(slots.size()), static_cast<std::int64_t>(P)});
    for (int slot : slots) {
      out.write(reinterpret_cast<const char*>(ring.slotData(slot)),
                static_cast<std::streamsize>(P * sizeof(float)));
    }
    return Status::ok();
  });
  if (!s) return s;
  if (ring.hasReference()) {
    s = writeNpyFloat32(file("reference.npy"), {static_cast<std::int64_t>(P)},
                        ring.reference().data());
  } else {
    const std::vector<float> zeros;
    s = writeNpyFloat32(file("reference.npy"), {0}, zeros.data());
  }
  return s;
}

}  // namespace driftscope
