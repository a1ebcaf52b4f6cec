// The comparison report of several runs (`driftscope report`): which figures to draw with
// which curves, and the tables of headline numbers, built from RunFolders only (no
// training). Rendering is elsewhere: the figures by ui/report_figures (Qt Charts), the
// text by report_text (Markdown, HTML, CSV). Pure functions; thread-safe.
//
// Time axes count SGD steps since the run's reference snapshot w_ref (= w_N after the
// burn-in). Distances are divided by the run's own permutation-baseline mean, so runs
// with different weight norms compare on one scale (1 = as far as a random relabelling
// of the hidden neurons).
#pragma once

#include <string>
#include <vector>

#include "core/report/run_folder.h"
#include "core/status.h"

namespace driftscope {

enum class CurveStyle { kLine, kDashed, kDotted, kPoints };

// One curve of a figure: a run's series (colour = the run's index) or a grey reference.
struct ReportCurve {
  static constexpr int kNeutral = -1;  // grey reference lines
  std::string name;                    // legend entry
  std::vector<double> x, y;            // NaN-free, same length
  int colour = 0;                      // run index into the palette, or kNeutral
  CurveStyle style = CurveStyle::kLine;
};

// One figure: its file stem, texts, axes and curves (drawn in order).
struct ReportFigure {
  std::string stem;  // file name without extension
  std::string title, caption, xLabel, yLabel;
  bool logX = false, logY = false;
  std::vector<ReportCurve> curves;
};

// A table of preformatted cells; every row has header.size() cells.
struct ReportTable {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Two runs with the same configuration but for the seed: two independent solutions.
// Distances between their reference weights and between their last snapshots, raw and
// after weight matching (alignWeights), the finer yardstick the drift compares with.
struct IndependentPair {
  int a = 0, b = 0;  // run indices
  double refRaw = 0.0, refAligned = 0.0;
  double lastRaw = 0.0, lastAligned = 0.0;
  double baselineMean = 0.0;  // mean of the two runs' baseline means
};

// Everything the report shows, ready to render. Invariants: labels and dirs have one entry
// per run; every curve's x and y have the same length and hold no NaN; pairs index runs.
struct Report {
  std::string title;
  std::vector<std::string> labels;  // one per run
  std::vector<std::string> dirs;
  std::vector<ReportTable> tables;  // runs, headline numbers, independent solutions
  std::vector<ReportFigure> figures;
  std::vector<IndependentPair> pairs;
  std::vector<std::string> notes;  // e.g. runs that diverged or were interrupted
  bool withFigures = true;         // the figures are written as STEM.png
  bool withSvg = true;             // ... and as STEM.svg
};

struct ReportOptions {
  std::string title = "Driftscope report";
  // Labels for the runs (default: the folder names); must match the number of runs.
  std::vector<std::string> labels;
  bool withFigures = true;  // false: text and tables only (--no-figures, builds without Qt)
  bool withSvg = true;      // false: PNG figures only (--no-svg)
};

// Fails (naming the run and file) when a run lacks what a figure or table needs, when
// labels are given for a different number of runs, or when the list is empty.
Result<Report> buildReport(const std::vector<RunFolder>& runs, const ReportOptions& options = {});

// True when `a` and `b` have the same configuration except for the seed (and the
// settings that cannot change the numbers: threads, memory limit).
bool sameExceptSeed(const RunFolder& a, const RunFolder& b);

// `digits` significant digits ("0.0901", "3.57e+05"); "n/a" for NaN or infinity.
std::string formatNumber(double v, int digits = 3);

}  // namespace driftscope
