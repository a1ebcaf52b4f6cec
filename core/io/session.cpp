#include "core/io/session.h"

#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "core/io/atomic_file.h"
#include "core/model/mlp_layout.h"

namespace driftscope {

using nlohmann::json;

namespace {

constexpr char kMagic[16] = {'D', 'R', 'I', 'F', 'T', 'S', 'C', 'O',
                             'P', 'E', '-', 'S', 'E', 'S', 'S', '\n'};

// Doubles: finite values as JSON numbers (exact round trip), the rest as strings.
json jd(double v) {
  if (std::isfinite(v)) return v;
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}
double dj(const json& j) {
  if (j.is_number()) return j.get<double>();
  const std::string s = j.get<std::string>();
  if (s == "nan") return std::nan("");
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  throw std::runtime_error("bad number \"" + s + "\"");
}
// Integers from the header: an integer JSON number within T's range, otherwise an exception
// that loadSession reports as a corrupt header. (nlohmann's own conversion of 1e300 or -1
// to an integer type is undefined behaviour: fuzz/regressions/session/float-*.)
template <typename T>
T ij(const json& j) {
  if (!j.is_number_integer()) {
    throw std::runtime_error(std::string("expected an integer, got ") + j.type_name());
  }
  bool inRange = false;
  if (j.is_number_unsigned()) {
    inRange = j.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
  } else {
    const auto v = j.get<std::int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      inRange = v >= 0 && static_cast<std::uint64_t>(v) <=
                              static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    } else {
      inRange = v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max();
    }
  }
  if (!inRange) throw std::runtime_error("integer " + j.dump() + " out of range");
  return j.is_number_unsigned() ? static_cast<T>(j.get<std::uint64_t>())
                                : static_cast<T>(j.get<std::int64_t>());
}
template <typename T>
std::vector<T> ijvec(const json& j) {
  std::vector<T> v;
  for (const json& x : j) v.push_back(ij<T>(x));
  return v;
}
json jopt(const std::optional<double>& v) { return v ? jd(*v) : json(nullptr); }
std::optional<double> optj(const json& j) {
  if (j.is_null()) return std::nullopt;
  return dj(j);
}
json jvec(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(jd(x));
  return a;
}
std::vector<double> vecj(const json& j) {
  std::vector<double> v;
  for (const json& x : j) v.push_back(dj(x));
  return v;
}

json metaJson(const SnapshotMeta& m) {
  return {{"index", m.index}, {"step", m.step}, {"epoch", jd(m.epoch)}, {"lr", m.lr}};
}
SnapshotMeta metaFrom(const json& j) {
  SnapshotMeta m;
  m.index = ij<int>(j.at("index"));
  m.step = ij<std::int64_t>(j.at("step"));
  m.epoch = dj(j.at("epoch"));
  m.lr = j.at("lr").get<float>();
  return m;
}

// Writes bytes and keeps a running CRC-32 of everything written.
struct CrcWriter {
  std::ostream& out;
  uLong crc = crc32(0L, Z_NULL, 0);
  void write(const void* data, std::size_t n) {
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
    crc = crc32(crc, static_cast<const Bytef*>(data), static_cast<uInt>(n));
  }
};

json stateJson(const AnalysisState& s) {
  json j;
  j["phase"] = toString(s.phase);
  json metrics = json::array();
  for (const EpochMetrics& m : s.metrics) {
    metrics.push_back({m.epoch, m.step, m.lr, jd(m.trainLoss), jd(m.trainAcc), jd(m.testLoss),
                       jd(m.testAcc), jd(m.weightNorm), jd(m.seconds)});
  }
  j["metrics"] = metrics;
  json lr = json::array();
  for (const LrChange& c : s.lrHistory) lr.push_back({c.step, c.lr});
  j["lr_history"] = lr;
  json batch = json::array();
  for (const BatchLossPoint& p : s.batchLoss) batch.push_back({p.step, jd(p.loss)});
  j["batch_loss"] = batch;
  json distances = json::array();
  for (const DistanceRecord& r : s.distances) {
    distances.push_back({{"meta", metaJson(r.meta)},
                         {"d", jd(r.d.distance)},
                         {"rel", jd(r.d.relative)},
                         {"radial", jd(r.d.radial)},
                         {"tangential", jd(r.d.tangential)},
                         {"norm", jd(r.d.weightNorm)},
                         {"ref_norm", jd(r.d.referenceNorm)},
                         {"layers", jvec(r.d.perLayer)},
                         {"aligned", jopt(r.aligned)},
                         {"identity", jopt(r.alignedIdentity)}});
  }
  j["distances"] = distances;
  json function = json::array();
  for (const FunctionRecord& f : s.function) {
    function.push_back({{"meta", metaJson(f.meta)}, {"dis", jd(f.disagreement)}, {"kl", jd(f.kl)}});
  }
  j["function"] = function;
  j["reference"] = s.reference ? metaJson(*s.reference) : json(nullptr);
  json pinned = json::array();
  for (const PinnedCurve& c : s.pinned) {
    json points = json::array();
    for (const PinnedPoint& p : c.points) points.push_back({p.lagSteps, jd(p.distance)});
    pinned.push_back({{"reference", metaJson(c.reference)}, {"points", points}});
  }
  j["pinned"] = pinned;
  if (s.baseline) {
    const BaselineBand& b = *s.baseline;
    j["baseline"] = {{"samples", jvec(b.samples)},
                     {"mean", jd(b.mean)},
                     {"p05", jd(b.p05)},
                     {"p50", jd(b.p50)},
                     {"p95", jd(b.p95)},
                     {"exact_rms", jd(b.exactRms)},
                     {"nearest", jd(b.nearestTransposition)},
                     {"nearest_at", {b.nearestLayer, b.nearestI, b.nearestJ}}};
  } else {
    j["baseline"] = nullptr;
  }
  j["verdict"] = {{"valid", s.verdict.valid},
                  {"ratio_last", jd(s.verdict.ratioLast)},
                  {"ratio_aligned_last", jopt(s.verdict.ratioAlignedLast)},
                  {"lag_to_baseline_steps", jopt(s.verdict.lagToBaselineSteps)},
                  {"text", s.verdict.text}};
  j["snapshots_taken"] = s.snapshotsTaken;
  j["snapshots_in_ring"] = s.snapshotsInRing;
  j["ring_bytes"] = s.ringBytes;
  j["recording_start_step"] = s.recordingStartStep ? json(*s.recordingStartStep) : json(nullptr);
  j["progress"] = {s.progress.step, s.progress.epoch, jd(s.progress.epochFraction),
                   jd(s.progress.runningLoss), jd(s.progress.stepsPerSecond)};
  j["message"] = s.message;
  return j;
}

json agingJson(const std::vector<AgingFit>& aging) {
  json a = json::array();
  for (const AgingFit& f : aging) {
    a.push_back({f.waitingSnapshots, jd(f.fit.alpha), jd(f.fit.alphaStderr), jd(f.fit.prefactor),
                 f.fit.lagMin, f.fit.lagMax, f.fit.points, f.fit.valid});
  }
  return a;
}

json ringAnalysisJson(const RingAnalysis& r) {
  json snaps = json::array();
  for (const SnapshotMeta& m : r.snapshots) snaps.push_back(metaJson(m));
  return {{"snapshots", snaps},
          {"pca_components", r.pca.projections.cols()},
          {"explained", jvec(r.pca.explainedRatio)},
          {"random_walk", jvec(r.pca.randomWalkRatio)},
          {"msd_lags", r.msd.lags},
          {"msd", jvec(r.msd.msd)},
          {"msd_counts", r.msd.counts},
          {"fit",
           {jd(r.fit.alpha), jd(r.fit.alphaStderr), jd(r.fit.prefactor), r.fit.lagMin, r.fit.lagMax,
            r.fit.points, r.fit.valid}},
          {"aging", agingJson(r.aging)},
          {"path_t", jvec(r.path.t)},
          {"path_raw", jvec(r.path.lossRaw)},
          {"path_aligned", jvec(r.path.lossAligned)},
          {"barrier_raw", jd(r.path.barrierRaw)},
          {"barrier_aligned", jd(r.path.barrierAligned)},
          {"path_snapshot", r.pathSnapshot}};
}

RunPhase phaseFrom(const std::string& s) {
  for (RunPhase p : {RunPhase::kIdle, RunPhase::kBurnIn, RunPhase::kRecording, RunPhase::kPaused,
                     RunPhase::kDiverged, RunPhase::kStopped, RunPhase::kFinished}) {
    if (toString(p) == s) return p;
  }
  throw std::runtime_error("unknown phase \"" + s + "\"");
}

}  // namespace

Status saveSession(const std::string& path, const RunConfig& config, const AnalysisState& state,
                   const SnapshotRing& ring, const RunInfo& info) {
  const std::vector<int> slots = ring.chronological();
  const std::size_t P = ring.paramCount();
  const RingAnalysis* ra = state.ring.get();
  const std::size_t C = slots.size();
  const std::size_t heatmapCount = ra ? static_cast<std::size_t>(ra->distances.size()) : 0;
  const std::size_t pcaCount = ra ? static_cast<std::size_t>(ra->pca.projections.size()) : 0;

  json header;
  header["format_version"] = kSessionFormatVersion;
  header["config"] = configToJson(config);
  header["state"] = stateJson(state);
  header["ring_analysis"] = ra ? ringAnalysisJson(*ra) : json(nullptr);
  json ringMeta = json::array();
  for (int slot : slots) ringMeta.push_back(metaJson(ring.slotMeta(slot)));
  header["ring"] = {
      {"capacity", config.capacity},  // a reopened session's ring holds only its snapshots
      {"params", P},
      {"snapshots", ringMeta},
      {"reference", ring.hasReference() ? metaJson(ring.referenceMeta()) : json(nullptr)}};
  header["info"] = {{"version", info.version},
                    {"threads", info.threads},
                    {"seconds", jd(info.seconds)},
                    {"steps", info.steps},
                    {"epochs", info.epochs},
                    {"steps_per_epoch", info.stepsPerEpoch},
                    {"reason", static_cast<int>(info.outcome.reason)},
                    {"step", info.outcome.step},
                    {"epoch", info.outcome.epoch},
                    {"message", info.outcome.message}};
  // Block sizes in bytes, in file order after the header.
  header["blocks"] = {{"ring", C * P * sizeof(float)},
                      {"reference", ring.hasReference() ? P * sizeof(float) : 0},
                      {"heatmap", heatmapCount * sizeof(double)},
                      {"pca", pcaCount * sizeof(double)}};
  const std::string text = header.dump();

  return writeFileAtomically(path, [&](std::ostream& out) {
    CrcWriter w{out};
    w.write(kMagic, sizeof kMagic);
    const std::uint32_t version = kSessionFormatVersion;
    w.write(&version, sizeof version);
    const std::uint64_t length = text.size();
    w.write(&length, sizeof length);
    w.write(text.data(), text.size());
    for (int slot : slots) w.write(ring.slotData(slot), P * sizeof(float));
    if (ring.hasReference()) w.write(ring.reference().data(), P * sizeof(float));
    if (ra) {
      w.write(ra->distances.data(), heatmapCount * sizeof(double));
      w.write(ra->pca.projections.data(), pcaCount * sizeof(double));
    }
    const std::uint32_t crc = static_cast<std::uint32_t>(w.crc);
    out.write(reinterpret_cast<const char*>(&crc), sizeof crc);
    return Status::ok();
  });
}

Result<Session> loadSession(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::error(path + ": not a session file (missing or not a regular file)");
  }
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) return Status::error(path + ": cannot open the session file");
  const std::uint64_t fixed = sizeof kMagic + 4 + 8 + 4;
  if (size < fixed) return Status::error(path + ": too short for a Driftscope session");

  // Pass 1: the checksum over everything but the trailing CRC.
  {
    uLong crc = crc32(0L, Z_NULL, 0);
    std::vector<char> buf(1 << 20);
    std::uint64_t left = size - 4;
    while (left > 0) {
      const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size()));
      if (!in.read(buf.data(), n)) return Status::error(path + ": read error");
      crc = crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(n));
      left -= static_cast<std::uint64_t>(n);
    }
    std::uint32_t stored = 0;
    in.read(reinterpret_cast<char*>(&stored), sizeof stored);
    char magic[sizeof kMagic];
    std::ifstream head(path, std::ios::binary);
    head.read(magic, sizeof magic);
    if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
      return Status::error(path + ": not a Driftscope session (bad magic)");
    }
    std::uint32_t version = 0;
    head.read(reinterpret_cast<char*>(&version), sizeof version);
    if (version > kSessionFormatVersion) {
      return Status::error(path + ": session format " + std::to_string(version) +
                           " is newer than this Driftscope reads (" +
                           std::to_string(kSessionFormatVersion) + "); please update Driftscope");
    }
    if (stored != static_cast<std::uint32_t>(crc)) {
      return Status::error(path + ": session file is corrupt (checksum mismatch)");
    }
  }

  // Pass 2: header and blocks.
  in.clear();
  in.seekg(static_cast<std::streamoff>(sizeof kMagic + 4));
  std::uint64_t length = 0;
  in.read(reinterpret_cast<char*>(&length), sizeof length);
  if (length > size - fixed) return Status::error(path + ": session header length is corrupt");
  std::string text(static_cast<std::size_t>(length), '\0');
  in.read(text.data(), static_cast<std::streamsize>(length));
  const json header = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return Status::error(path + ": session header is not valid JSON");

  try {
    Session session;
    auto config = configFromJson(header.at("config"));
    if (!config) return Status::error(path + ": " + config.message());
    session.config = config->config;
    if (Status st = validateConfig(session.config); !st) {
      return Status::error(path + ": " + st.message());
    }
    const MlpLayout layout(session.config.layers);
    const json& r = header.at("ring");
    const auto P = ij<std::size_t>(r.at("params"));
    if (P != layout.paramCount()) {
      return Status::error(path + ": ring holds " + std::to_string(P) + " parameters, layers " +
                           layout.toString() + " need " + std::to_string(layout.paramCount()));
    }
    const json& blocks = header.at("blocks");
    const std::size_t C = r.at("snapshots").size();
    const int capacity = ij<int>(r.at("capacity"));
    if (capacity != session.config.capacity || static_cast<int>(C) > capacity) {
      return Status::error(path + ": ring capacity " + std::to_string(capacity) +
                           " is smaller than its " + std::to_string(C) + " snapshots");
    }
    const auto ringBytes = ij<std::uint64_t>(blocks.at("ring"));
    const auto refBytes = ij<std::uint64_t>(blocks.at("reference"));
    const auto heatBytes = ij<std::uint64_t>(blocks.at("heatmap"));
    const auto pcaBytes = ij<std::uint64_t>(blocks.at("pca"));
    // Each block must fit in what is left of the file before the sum is formed (no wrap).
    const std::uint64_t payload = size - (sizeof kMagic + 12 + length + 4);
    const bool fits = ringBytes <= payload && refBytes <= payload && heatBytes <= payload &&
                      pcaBytes <= payload && ringBytes + refBytes + heatBytes + pcaBytes == payload;
    if (!fits || ringBytes != C * P * sizeof(float) ||
        (refBytes != 0 && refBytes != P * sizeof(float))) {
      return Status::error(path + ": session blocks do not match the header (corrupt file)");
    }

    // Sized by what the file holds (C snapshots, checked against its length above), never
    // by the capacity or the network it declares: a 1 KiB file must not allocate gigabytes.
    auto ring = std::make_shared<SnapshotRing>(std::max(static_cast<int>(C), 1), P);
    Vector buffer(static_cast<Eigen::Index>(C > 0 || refBytes ? P : 0));
    for (const json& m : r.at("snapshots")) {
      in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(P * 4));
      ring->push(buffer.data(), metaFrom(m));
    }
    if (refBytes) {
      in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(P * 4));
      ring->setReference(buffer.data(), metaFrom(r.at("reference")));
    }

    auto state = std::make_shared<AnalysisState>();
    const json& s = header.at("state");
    state->phase = phaseFrom(s.at("phase"));
    for (const json& m : s.at("metrics")) {
      EpochMetrics e;
      e.epoch = ij<int>(m.at(0));
      e.step = ij<std::int64_t>(m.at(1));
      e.lr = m.at(2).get<float>();
      e.trainLoss = dj(m.at(3));
      e.trainAcc = dj(m.at(4));
      e.testLoss = dj(m.at(5));
      e.testAcc = dj(m.at(6));
      e.weightNorm = dj(m.at(7));
      e.seconds = dj(m.at(8));
      state->metrics.push_back(e);
    }
    for (const json& p : s.at("batch_loss")) {
      state->batchLoss.push_back({ij<std::int64_t>(p.at(0)), dj(p.at(1))});
    }
    for (const json& c : s.at("lr_history")) {
      state->lrHistory.push_back({ij<std::int64_t>(c.at(0)), c.at(1).get<float>()});
    }
    for (const json& d : s.at("distances")) {
      DistanceRecord rec;
      rec.meta = metaFrom(d.at("meta"));
      rec.d.distance = dj(d.at("d"));
      rec.d.relative = dj(d.at("rel"));
      rec.d.radial = dj(d.at("radial"));
      rec.d.tangential = dj(d.at("tangential"));
      rec.d.weightNorm = dj(d.at("norm"));
      rec.d.referenceNorm = dj(d.at("ref_norm"));
      rec.d.perLayer = vecj(d.at("layers"));
      if (rec.d.perLayer.size() != static_cast<std::size_t>(layout.numLayers())) {
        return Status::error(path + ": session distance record has the wrong layer count");
      }
      rec.aligned = optj(d.at("aligned"));
      rec.alignedIdentity = optj(d.at("identity"));
      state->distances.push_back(std::move(rec));
    }
    for (const json& f : s.at("function")) {
      state->function.push_back({metaFrom(f.at("meta")), dj(f.at("dis")), dj(f.at("kl"))});
    }
    if (!s.at("reference").is_null()) state->reference = metaFrom(s.at("reference"));
    for (const json& c : s.at("pinned")) {
      PinnedCurve curve;
      curve.reference = metaFrom(c.at("reference"));
      for (const json& p : c.at("points")) {
        curve.points.push_back({ij<std::int64_t>(p.at(0)), dj(p.at(1))});
      }
      state->pinned.push_back(std::move(curve));
    }
    if (!s.at("baseline").is_null()) {
      const json& b = s.at("baseline");
      auto band = std::make_shared<BaselineBand>();
      band->samples = vecj(b.at("samples"));
      band->mean = dj(b.at("mean"));
      band->p05 = dj(b.at("p05"));
      band->p50 = dj(b.at("p50"));
      band->p95 = dj(b.at("p95"));
      band->exactRms = dj(b.at("exact_rms"));
      band->nearestTransposition = dj(b.at("nearest"));
      band->nearestLayer = ij<int>(b.at("nearest_at").at(0));
      band->nearestI = ij<int>(b.at("nearest_at").at(1));
      band->nearestJ = ij<int>(b.at("nearest_at").at(2));
      state->baseline = band;
    }
    const json& v = s.at("verdict");
    state->verdict.valid = v.at("valid");
    state->verdict.ratioLast = dj(v.at("ratio_last"));
    state->verdict.ratioAlignedLast = optj(v.at("ratio_aligned_last"));
    state->verdict.lagToBaselineSteps = optj(v.at("lag_to_baseline_steps"));
    state->verdict.text = v.at("text");
    state->snapshotsTaken = ij<int>(s.at("snapshots_taken"));
    state->snapshotsInRing = ij<int>(s.at("snapshots_in_ring"));
    state->ringBytes = ij<std::uint64_t>(s.at("ring_bytes"));
    if (!s.at("recording_start_step").is_null()) {
      state->recordingStartStep = ij<std::int64_t>(s.at("recording_start_step"));
    }
    const json& p = s.at("progress");
    state->progress = {ij<std::int64_t>(p.at(0)), ij<int>(p.at(1)), dj(p.at(2)), dj(p.at(3)),
                       dj(p.at(4))};
    state->message = s.at("message");

    const json& ra = header.at("ring_analysis");
    if (!ra.is_null()) {
      auto analysis = std::make_shared<RingAnalysis>();
      for (const json& m : ra.at("snapshots")) analysis->snapshots.push_back(metaFrom(m));
      const auto n = static_cast<Eigen::Index>(analysis->snapshots.size());
      const auto k = ij<Eigen::Index>(ra.at("pca_components"));
      if (n > static_cast<Eigen::Index>(C) || k < 0 || k > 3) {
        return Status::error(path + ": session analysis shape is corrupt");
      }
      if (heatBytes != static_cast<std::uint64_t>(n * n) * sizeof(double) ||
          pcaBytes != static_cast<std::uint64_t>(n * k) * sizeof(double)) {
        return Status::error(path + ": session analysis blocks do not match (corrupt file)");
      }
      analysis->distances.resize(n, n);
      in.read(reinterpret_cast<char*>(analysis->distances.data()),
              static_cast<std::streamsize>(heatBytes));
      analysis->pca.projections.resize(n, k);
      in.read(reinterpret_cast<char*>(analysis->pca.projections.data()),
              static_cast<std::streamsize>(pcaBytes));
      analysis->pca.explainedRatio = vecj(ra.at("explained"));
      analysis->pca.randomWalkRatio = vecj(ra.at("random_walk"));
      analysis->msd.lags = ijvec<int>(ra.at("msd_lags"));
      analysis->msd.msd = vecj(ra.at("msd"));
      analysis->msd.counts = ijvec<int>(ra.at("msd_counts"));
      const json& fit = ra.at("fit");
      analysis->fit = {dj(fit.at(0)),        dj(fit.at(1)),      dj(fit.at(2)),
                       ij<int>(fit.at(3)),   ij<int>(fit.at(4)), ij<int>(fit.at(5)),
                       fit.at(6).get<bool>()};
      for (const json& a : ra.at("aging")) {
        AgingFit f;
        f.waitingSnapshots = ij<int>(a.at(0));
        f.fit = {dj(a.at(1)),      dj(a.at(2)),      dj(a.at(3)),        ij<int>(a.at(4)),
                 ij<int>(a.at(5)), ij<int>(a.at(6)), a.at(7).get<bool>()};
        analysis->aging.push_back(f);
      }
      analysis->path.t = vecj(ra.at("path_t"));
      analysis->path.lossRaw = vecj(ra.at("path_raw"));
      analysis->path.lossAligned = vecj(ra.at("path_aligned"));
      analysis->path.barrierRaw = dj(ra.at("barrier_raw"));
      analysis->path.barrierAligned = dj(ra.at("barrier_aligned"));
      analysis->pathSnapshot = ij<int>(ra.at("path_snapshot"));
      const bool consistent =
          analysis->msd.msd.size() == analysis->msd.lags.size() &&
          analysis->msd.counts.size() == analysis->msd.lags.size() &&
          analysis->path.lossRaw.size() == analysis->path.t.size() &&
          (analysis->path.lossAligned.empty() ||
           analysis->path.lossAligned.size() == analysis->path.t.size()) &&
          analysis->pca.randomWalkRatio.size() == analysis->pca.explainedRatio.size();
      if (!consistent) return Status::error(path + ": session analysis series are corrupt");
      state->ring = analysis;
    }
    if (!in) return Status::error(path + ": session file is truncated");

    const json& i = header.at("info");
    session.info.version = i.at("version");
    session.info.threads = ij<int>(i.at("threads"));
    session.info.seconds = dj(i.at("seconds"));
    session.info.steps = ij<std::int64_t>(i.at("steps"));
    session.info.epochs = ij<int>(i.at("epochs"));
    session.info.stepsPerEpoch = ij<int>(i.at("steps_per_epoch"));
    const int reason = ij<int>(i.at("reason"));
    if (reason < 0 || reason > 2) throw std::runtime_error("bad stop reason");
    session.info.outcome.reason = static_cast<StopReason>(reason);
    session.info.outcome.step = ij<std::int64_t>(i.at("step"));
    session.info.outcome.epoch = ij<int>(i.at("epoch"));
    session.info.outcome.message = i.at("message");
    session.state = std::move(state);
    session.ring = std::move(ring);
    return session;
  } catch (const std::exception& e) {
    return Status::error(path + ": session header is corrupt (" + e.what() + ")");
  }
}

}  // namespace driftscope
