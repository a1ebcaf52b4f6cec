#include "core/report/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/analysis/alignment.h"
#include "core/analysis/msd.h"

namespace driftscope {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct RunSeries {
  std::vector<double> t;           // steps since w_ref, per snapshot
  std::vector<double> dRef;        // d(w_ref, w_M)
  std::vector<double> dRadial;     // radial part
  std::vector<double> dAligned;    // NaN where not computed
  std::vector<double> identity;    // aligned_identity_fraction, NaN where not computed
  std::vector<double> normAtSnap;  // ||w_M||
  std::size_t refRow = 0;          // the row of w_ref
  std::vector<double> fnT, disagreement, kl;
  std::vector<double> epoch, weightNorm;  // metrics.csv, whole run
  std::vector<double> lagSteps, lagSnapshots, msd, fit;
  double baselineMean = kNaN;
};

// Reads the named columns of `table` into the given vectors; the first missing one is the
// error. Columns a run folder may lack (older versions) come back as all-NaN when listed in
// `optional`.
Status readColumns(
    const CsvTable& table,
    std::initializer_list<std::pair<const char*, std::vector<double>*>> columns,
    std::initializer_list<std::pair<const char*, std::vector<double>*>> optional = {}) {
  for (const auto& [name, target] : columns) {
    auto values = table.column(name);
    if (!values) return values.status();
    *target = std::move(values).value();
  }
  for (const auto& [name, target] : optional) {
    auto values = table.column(name);
    *target = values ? std::move(values).value() : std::vector<double>(table.rows(), kNaN);
  }
  return Status::ok();
}

Result<RunSeries> seriesOf(const RunFolder& run) {
  RunSeries s;
  std::vector<double> step, snapshot, fnStep;
  if (Status st = readColumns(run.distance,
                              {{"step", &step},
                               {"snapshot", &snapshot},
                               {"d_ref", &s.dRef},
                               {"d_radial", &s.dRadial},
                               {"d_aligned", &s.dAligned},
                               {"weight_norm", &s.normAtSnap}},
                              {{"aligned_identity_fraction", &s.identity}});
      !st) {
    return st;
  }
  if (Status st = readColumns(
          run.function, {{"step", &fnStep}, {"disagreement", &s.disagreement}, {"kl", &s.kl}});
      !st) {
    return st;
  }
  if (Status st = readColumns(run.metrics, {{"epoch", &s.epoch}, {"weight_norm", &s.weightNorm}});
      !st) {
    return st;
  }
  if (Status st = readColumns(run.msd, {{"lag_steps", &s.lagSteps},
                                        {"lag_snapshots", &s.lagSnapshots},
                                        {"msd", &s.msd},
                                        {"fit", &s.fit}});
      !st) {
    return st;
  }
  // The reference is the row of the reference snapshot (0 unless the user picked another).
  const double refSnapshot = jsonNumberOr(run.summary, "run.reference_snapshot");
  for (std::size_t i = 0; i < snapshot.size(); ++i) {
    if (snapshot[i] == refSnapshot) s.refRow = i;
  }
  const double refStep = step[s.refRow];
  s.t.resize(step.size());
  for (std::size_t i = 0; i < step.size(); ++i) s.t[i] = step[i] - refStep;
  s.fnT.resize(fnStep.size());
  for (std::size_t i = 0; i < fnStep.size(); ++i) s.fnT[i] = fnStep[i] - refStep;

  s.baselineMean = jsonNumberOr(run.summary, "baseline.mean");
  if (!(s.baselineMean > 0.0)) {
    return Status::error(run.dir + "/summary.json: baseline.mean is " +
                         formatNumber(s.baselineMean) + ", not a positive distance");
  }
  return s;
}

// Points (x[i], y[i]) where both are finite. (A log axis of the chart drops the
// non-positive ones itself.)
ReportCurve curve(std::string name, const std::vector<double>& x, const std::vector<double>& y,
                  int colour, CurveStyle style, double yScale = 1.0) {
  ReportCurve c;
  c.name = std::move(name);
  c.colour = colour;
  c.style = style;
  const std::size_t n = std::min(x.size(), y.size());
  for (std::size_t i = 0; i < n; ++i) {
    const double v = y[i] * yScale;
    if (std::isfinite(x[i]) && std::isfinite(v)) {
      c.x.push_back(x[i]);
      c.y.push_back(v);
    }
  }
  return c;
}

std::string last(const std::vector<double>& v, double scale = 1.0) {
  return v.empty() ? "n/a" : formatNumber(v.back() * scale);
}

// The smallest finite entry (NaN if none).
double minFinite(const std::vector<double>& v) {
  double m = kNaN;
  for (double x : v) {
    if (std::isfinite(x) && !(x >= m)) m = x;
  }
  return m;
}

// min_i num[i] / den[i] over the rows where both are finite and den > 0 (NaN if none).
double minRatio(const std::vector<double>& num, const std::vector<double>& den) {
  std::vector<double> ratios;
  for (std::size_t i = 0; i < num.size() && i < den.size(); ++i) {
    if (std::isfinite(num[i]) && den[i] > 0.0) ratios.push_back(num[i] / den[i]);
  }
  return minFinite(ratios);
}

// summary.json's run.status ("completed", "diverged", "stopped"); runs written before the
// field existed count as completed.
std::string runStatus(const RunFolder& run) {
  const std::string status = jsonText(run.summary, "run.status");
  return status.empty() ? "completed" : status;
}

// The MSD exponent fitted over lags [lo, hi] (in snapshots) with "± s.e. (lo-hi)", or
// "n/a" when that range holds fewer than 3 lags.
std::string alphaOver(const RunSeries& s, int lo, int hi) {
  if (s.lagSnapshots.empty() || hi - lo < 2) return "n/a";
  std::vector<int> lags;
  for (double l : s.lagSnapshots) lags.push_back(static_cast<int>(l));
  const PowerLawFit fit = fitPowerLaw(lags, s.msd, lo, hi);
  if (!fit.valid) return "n/a";
  return formatNumber(fit.alpha) + " ± " + formatNumber(fit.alphaStderr, 2) + " (" +
         std::to_string(fit.lagMin) + "-" + std::to_string(fit.lagMax) + ")";
}

// Short lags: the first four (the jitter around the current point). Long lags: from the end
// of the engine's fit range to half the longest lag, where at least half of the start times
// still enter every average.
std::string shortLagAlpha(const RunSeries& s) { return alphaOver(s, 1, 4); }
std::string longLagAlpha(const RunSeries& s, double fitEnd) {
  if (s.lagSnapshots.empty() || !std::isfinite(fitEnd)) return "n/a";
  return alphaOver(s, std::max(1, static_cast<int>(fitEnd)),
                   static_cast<int>(s.lagSnapshots.back() / 2));
}

// How d(w_ref, w_M)^2 grows late in the recording: the log-log slope against the steps
// since w_ref over the second half of the recording (0: plateau, 1: diffusion, 2: constant
// velocity). Unlike the MSD, which averages over every start time, this looks at the late
// motion only, so a transient right after the burn-in does not enter it.
std::string lateGrowthExponent(const RunSeries& s) {
  if (s.t.empty()) return "n/a";
  std::vector<int> steps;
  std::vector<double> squared;
  for (std::size_t i = 0; i < s.t.size(); ++i) {
    steps.push_back(static_cast<int>(s.t[i]));
    squared.push_back(s.dRef[i] * s.dRef[i]);
  }
  const int hi = steps.back();
  const PowerLawFit fit = fitPowerLaw(steps, squared, hi / 2, hi);
  if (!fit.valid) return "n/a";
  return formatNumber(fit.alpha) + " ± " + formatNumber(fit.alphaStderr, 2);
}

std::string configText(const nlohmann::json& config, const char* key) {
  if (!config.contains(key)) return "n/a";
  const nlohmann::json& v = config[key];
  if (v.is_number()) return formatNumber(v.get<double>(), 4);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array() && key == std::string("layers")) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : "-") + e.dump();
    return s;
  }
  return v.dump();
}

}  // namespace

std::string formatNumber(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

bool sameExceptSeed(const RunFolder& a, const RunFolder& b) {
  if (!a.config.is_object() || !b.config.is_object()) return false;
  nlohmann::json ca = a.config;
  nlohmann::json cb = b.config;
  // Settings that change neither the trajectory nor the recorded time: execution and the
  // analyses' own parameters.
  for (const char* key :
       {"seed", "threads", "memory_limit_mb", "baseline_samples", "align_every", "eval_subset",
        "path_points", "msd_lag_min", "msd_lag_max", "pin_after_steps", "capacity",
        "live_analysis_share"}) {
    ca.erase(key);
    cb.erase(key);
  }
  return ca == cb &&
         a.config.value("seed", nlohmann::json()) != b.config.value("seed", nlohmann::json());
}

Result<Report> buildReport(const std::vector<RunFolder>& runs, const ReportOptions& options) {
  if (runs.empty()) return Status::error("no runs to compare");
  if (!options.labels.empty() && options.labels.size() != runs.size()) {
    return Status::error(std::to_string(options.labels.size()) + " labels for " +
                         std::to_string(runs.size()) + " runs");
  }
  Report report;
  report.title = options.title;
  report.withFigures = options.withFigures;
  report.withSvg = options.withFigures && options.withSvg;
  std::vector<RunSeries> series;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    auto s = seriesOf(runs[r]);
    if (!s) return s.status();
    series.push_back(std::move(s).value());
    report.labels.push_back(options.labels.empty() ? runs[r].label : options.labels[r]);
    report.dirs.push_back(runs[r].dir);
    const std::string status = runStatus(runs[r]);
    if (status != "completed") {
      report.notes.push_back(report.labels[r] + ": the run " + status + " (" +
                             jsonText(runs[r].summary, "run.message") +
                             "); its numbers cover the recorded part only.");
    }
  }

  // Independent solutions: pairs that differ only by the seed.
  for (std::size_t a = 0; a < runs.size(); ++a) {
    for (std::size_t b = a + 1; b < runs.size(); ++b) {
      // Two finished runs of the same length, so that both "last" snapshots are at one step.
      if (!sameExceptSeed(runs[a], runs[b])) continue;
      if (runs[a].layout.sizes() != runs[b].layout.sizes()) continue;
      if (runStatus(runs[a]) != "completed" || runStatus(runs[b]) != "completed") continue;
      if (jsonNumberOr(runs[a].summary, "run.steps") !=
          jsonNumberOr(runs[b].summary, "run.steps")) {
        continue;
      }
      auto refA = readReferenceWeights(runs[a]);
      if (!refA) return refA.status();
      auto refB = readReferenceWeights(runs[b]);
      if (!refB) return refB.status();
      auto lastA = readLastSnapshot(runs[a]);
      if (!lastA) return lastA.status();
      auto lastB = readLastSnapshot(runs[b]);
      if (!lastB) return lastB.status();
      const MlpLayout& layout = runs[a].layout;
      IndependentPair pair;
      pair.a = static_cast<int>(a);
      pair.b = static_cast<int>(b);
      pair.refRaw = unalignedDistance(layout, refA->data(), refB->data());
      pair.refAligned = alignWeights(layout, refA->data(), refB->data()).distance;
      pair.lastRaw = unalignedDistance(layout, lastA->data(), lastB->data());
      pair.lastAligned = alignWeights(layout, lastA->data(), lastB->data()).distance;
      pair.baselineMean = 0.5 * (series[a].baselineMean + series[b].baselineMean);
      report.pairs.push_back(pair);
    }
  }

  // Tables.
  ReportTable runsTable;
  runsTable.title = "Runs";
  runsTable.header = {"run",
                      "layers",
                      "loss",
                      "lr",
                      "momentum",
                      "weight decay",
                      "batch",
                      "seed",
                      "burn-in (epochs)",
                      "recorded steps",
                      "snapshots",
                      "status",
                      "train acc",
                      "test acc"};
  ReportTable headline;
  headline.title = "Headline numbers (at the last snapshot)";
  headline.header = {"run",
                     "‖w_ref‖",
                     "‖w_last‖",
                     "d(w_ref, w_last)",
                     "baseline mean [p05, p95]",
                     "baseline exact RMS",
                     "d / baseline",
                     "d_align / baseline",
                     "min d_align / d",
                     "min identity fraction",
                     "nearest transposition / baseline",
                     "radial share of d²",
                     "short-lag α ± s.e. (lags)",
                     "α ± s.e. (lags)",
                     "long-lag α ± s.e. (lags)",
                     "late growth of d² ± s.e.",
                     "lag to baseline (steps)",
                     "disagreement",
                     "KL",
                     "barrier raw / aligned"};
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const RunFolder& run = runs[r];
    const RunSeries& s = series[r];
    const nlohmann::json& sum = run.summary;
    const double recorded =
        jsonNumberOr(sum, "run.steps") - jsonNumberOr(sum, "run.recording_start_step");
    runsTable.rows.push_back(
        {report.labels[r], configText(run.config, "layers"), configText(run.config, "loss"),
         configText(run.config, "lr"), configText(run.config, "momentum"),
         configText(run.config, "weight_decay"), configText(run.config, "batch"),
         configText(run.config, "seed"), configText(run.config, "burn_in"),
         formatNumber(recorded, 6), formatNumber(jsonNumberOr(sum, "run.snapshots"), 6),
         runStatus(run), formatNumber(jsonNumberOr(sum, "final.train_acc"), 4),
         formatNumber(jsonNumberOr(sum, "final.test_acc"), 4)});
    const double dLast = s.dRef.back();
    const double radial = s.dRadial.back();
    const double b = s.baselineMean;
    headline.rows.push_back({report.labels[r],
                             formatNumber(s.normAtSnap[s.refRow]),
                             last(s.normAtSnap),
                             last(s.dRef),
                             formatNumber(b) + " [" +
                                 formatNumber(jsonNumberOr(sum, "baseline.p05")) + ", " +
                                 formatNumber(jsonNumberOr(sum, "baseline.p95")) + "]",
                             formatNumber(jsonNumberOr(sum, "baseline.exact_rms")),
                             formatNumber(dLast / b),
                             formatNumber(s.dAligned.back() / b),
                             formatNumber(minRatio(s.dAligned, s.dRef), 4),
                             formatNumber(minFinite(s.identity), 4),
                             formatNumber(jsonNumberOr(sum, "baseline.nearest_transposition") / b),
                             formatNumber(dLast > 0.0 ? radial * radial / (dLast * dLast) : kNaN),
                             shortLagAlpha(s),
                             formatNumber(jsonNumberOr(sum, "msd.alpha")) + " ± " +
                                 formatNumber(jsonNumberOr(sum, "msd.alpha_stderr"), 2) + " (" +
                                 formatNumber(jsonNumberOr(sum, "msd.lag_min")) + "-" +
                                 formatNumber(jsonNumberOr(sum, "msd.lag_max")) + ")",
                             longLagAlpha(s, jsonNumberOr(sum, "msd.lag_max")),
                             lateGrowthExponent(s),
                             formatNumber(jsonNumberOr(sum, "verdict.lag_to_baseline_steps")),
                             last(s.disagreement),
                             last(s.kl),
                             formatNumber(jsonNumberOr(sum, "path.barrier_raw")) + " / " +
                                 formatNumber(jsonNumberOr(sum, "path.barrier_aligned"))});
  }
  report.tables.push_back(std::move(runsTable));
  report.tables.push_back(std::move(headline));
  if (!report.pairs.empty()) {
    ReportTable pairs;
    pairs.title = "Independent solutions (same configuration, another seed)";
    pairs.header = {"runs",
                    "d(w_ref) raw",
                    "d(w_ref) aligned",
                    "d(w_last) raw",
                    "d(w_last) aligned",
                    "d(w_last) raw / baseline",
                    "d(w_last) aligned / baseline",
                    "drift of each run / aligned d(w_last)"};
    for (const IndependentPair& p : report.pairs) {
      const double driftA = series[static_cast<std::size_t>(p.a)].dRef.back();
      const double driftB = series[static_cast<std::size_t>(p.b)].dRef.back();
      pairs.rows.push_back(
          {report.labels[static_cast<std::size_t>(p.a)] + " vs " +
               report.labels[static_cast<std::size_t>(p.b)],
           formatNumber(p.refRaw), formatNumber(p.refAligned), formatNumber(p.lastRaw),
           formatNumber(p.lastAligned), formatNumber(p.lastRaw / p.baselineMean),
           formatNumber(p.lastAligned / p.baselineMean),
           formatNumber(driftA / p.lastAligned) + ", " + formatNumber(driftB / p.lastAligned)});
    }
    report.tables.push_back(std::move(pairs));
  }

  // Figures.
  const auto n = static_cast<int>(runs.size());
  double tMax = 0.0;
  for (const RunSeries& s : series) tMax = std::max(tMax, s.t.back());

  ReportFigure ratio;
  ratio.stem = "ratio";
  ratio.title = "Distance from w_ref over the permutation baseline";
  ratio.xLabel = "steps since w_ref";
  ratio.yLabel = "d / baseline mean";
  ratio.caption =
      "d(w_ref, w_M) divided by the run's permutation-baseline mean (1 = as far as a random "
      "relabelling of the hidden neurons); dashed: the aligned distance (weight matching) "
      "where it was computed.";
  for (int r = 0; r < n; ++r) {
    const RunSeries& s = series[static_cast<std::size_t>(r)];
    const std::string& label = report.labels[static_cast<std::size_t>(r)];
    ratio.curves.push_back(curve(label, s.t, s.dRef, r, CurveStyle::kLine, 1.0 / s.baselineMean));
    ReportCurve aligned =
        curve(label + " aligned", s.t, s.dAligned, r, CurveStyle::kDashed, 1.0 / s.baselineMean);
    if (aligned.x.size() >= 2) ratio.curves.push_back(std::move(aligned));
  }
  for (const IndependentPair& p : report.pairs) {
    const std::string who = report.labels[static_cast<std::size_t>(p.a)] + " vs " +
                            report.labels[static_cast<std::size_t>(p.b)];
    ratio.curves.push_back(curve("independent run, aligned (" + who + ")", {0.0, tMax},
                                 {p.lastAligned, p.lastAligned}, ReportCurve::kNeutral,
                                 CurveStyle::kDotted, 1.0 / p.baselineMean));
  }
  if (!report.pairs.empty()) {
    ratio.caption +=
        " Dotted grey: the aligned distance between the last weights of two "
        "independent runs (another seed).";
  }
  report.figures.push_back(std::move(ratio));

  ReportFigure msd;
  msd.stem = "msd";
  msd.title = "Mean squared displacement against lag";
  msd.xLabel = "lag (steps)";
  msd.yLabel = "MSD";
  msd.logX = msd.logY = true;
  msd.caption =
      "MSD(τ) = mean_t ‖w_{t+τ} − w_t‖² over the recorded snapshots (points) and the fitted "
      "power law MSD ∝ τ^α over the fit range (dashed). α ≈ 1: diffusion; α < 1: confined; "
      "α > 1: directed drift.";
  for (int r = 0; r < n; ++r) {
    const RunSeries& s = series[static_cast<std::size_t>(r)];
    const RunFolder& run = runs[static_cast<std::size_t>(r)];
    const std::string& label = report.labels[static_cast<std::size_t>(r)];
    msd.curves.push_back(curve(label, s.lagSteps, s.msd, r, CurveStyle::kPoints));
    const double lo = jsonNumberOr(run.summary, "msd.lag_min");
    const double hi = jsonNumberOr(run.summary, "msd.lag_max");
    std::vector<double> fx, fy;
    for (std::size_t i = 0; i < s.lagSteps.size(); ++i) {
      if (s.lagSnapshots[i] >= lo && s.lagSnapshots[i] <= hi) {
        fx.push_back(s.lagSteps[i]);
        fy.push_back(s.fit[i]);
      }
    }
    ReportCurve fit =
        curve(label + ": α = " + formatNumber(jsonNumberOr(run.summary, "msd.alpha")) + " ± " +
                  formatNumber(jsonNumberOr(run.summary, "msd.alpha_stderr"), 2),
              fx, fy, r, CurveStyle::kDashed);
    if (fit.x.size() >= 2) msd.curves.push_back(std::move(fit));
  }
  report.figures.push_back(std::move(msd));

  ReportFigure aligned;
  aligned.stem = "aligned_vs_raw";
  aligned.title = "Aligned against raw distance";
  aligned.xLabel = "d / baseline mean";
  aligned.yLabel = "d_align / baseline mean";
  aligned.caption =
      "Each point one snapshot where the aligned distance was computed. On the diagonal "
      "(dotted) weight matching finds no permutation that brings w_M closer to w_ref: the "
      "run has not swapped hidden neurons.";
  double dMax = 0.0;
  for (int r = 0; r < n; ++r) {
    const RunSeries& s = series[static_cast<std::size_t>(r)];
    ReportCurve pts = curve(report.labels[static_cast<std::size_t>(r)], s.dRef, s.dAligned, r,
                            CurveStyle::kPoints, 1.0 / s.baselineMean);
    for (double& x : pts.x) x /= s.baselineMean;
    for (double x : pts.x) dMax = std::max(dMax, x);
    aligned.curves.push_back(std::move(pts));
  }
  aligned.curves.push_back(
      curve("d_align = d", {0.0, dMax}, {0.0, dMax}, ReportCurve::kNeutral, CurveStyle::kDotted));
  report.figures.push_back(std::move(aligned));

  ReportFigure norm;
  norm.stem = "weight_norm";
  norm.title = "Weight norm during the whole run";
  norm.xLabel = "epoch";
  norm.yLabel = "‖w‖";
  norm.caption =
      "‖w‖ after every epoch, burn-in included. With cross-entropy and no weight decay the norm "
      "keeps growing once the training set is fitted (Soudry et al. 2018).";
  for (int r = 0; r < n; ++r) {
    const RunSeries& s = series[static_cast<std::size_t>(r)];
    norm.curves.push_back(curve(report.labels[static_cast<std::size_t>(r)], s.epoch, s.weightNorm,
                                r, CurveStyle::kLine));
  }
  report.figures.push_back(std::move(norm));

  ReportFigure fn;
  fn.stem = "function";
  fn.title = "Function-space disagreement with w_ref";
  fn.xLabel = "steps since w_ref";
  fn.yLabel = "fraction of test inputs";
  fn.caption =
      "Fraction of the evaluation subset of test inputs on which w_M and w_ref predict "
      "different classes (symmetry-free: a permutation changes nothing here).";
  for (int r = 0; r < n; ++r) {
    const RunSeries& s = series[static_cast<std::size_t>(r)];
    fn.curves.push_back(curve(report.labels[static_cast<std::size_t>(r)], s.fnT, s.disagreement, r,
                              CurveStyle::kLine));
  }
  report.figures.push_back(std::move(fn));
  return report;
}

}  // namespace driftscope
