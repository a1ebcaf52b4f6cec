// The multi-run report built from hand-written run folders whose every number is known:
// curves are the CSV columns over the baseline mean, the MSD fit is cut to its lag range,
// the headline cells are the formulas of report.h, and two runs that differ only by the
// seed are compared with each other (oracle: a permuted copy has aligned distance 0).
#include "core/report/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/analysis/permutation.h"
#include "core/io/npy.h"
#include "core/io/run_writer.h"
#include "core/report/report_text.h"
#include "core/report/run_folder.h"
#include "tests/test_support.h"

namespace driftscope {
namespace {

namespace fs = std::filesystem;
constexpr double kBaseline = 8.0;

void writeText(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

struct RunSpec {
  std::uint64_t seed = 1;
  double lr = 0.1;
  std::string status = "completed";
  std::vector<float> reference;
  std::vector<float> last;
};

// A run of a 3-4-2 network with three snapshots at steps 20, 30, 40 (reference at 20).
fs::path writeRun(const fs::path& dir, const MlpLayout& layout, const RunSpec& spec) {
  fs::create_directories(dir);
  nlohmann::json config = {{"layers", {3, 4, 2}}, {"lr", spec.lr},   {"seed", spec.seed},
                           {"loss", "ce"},        {"momentum", 0.0}, {"weight_decay", 0.0},
                           {"batch", 8},          {"burn_in", 2},    {"threads", 1}};
  writeText(dir / "config.json", config.dump());
  nlohmann::json summary = {
      {"baseline",
       {{"mean", kBaseline},
        {"p05", 7.5},
        {"p95", 8.5},
        {"exact_rms", 8.1},
        {"nearest_transposition", 2.0}}},
      {"msd", {{"alpha", 1.25}, {"alpha_stderr", 0.05}, {"lag_min", 1}, {"lag_max", 2}}},
      {"verdict", {{"lag_to_baseline_steps", 1234.0}}},
      {"final", {{"train_acc", 1.0}, {"test_acc", 0.95}}},
      {"path", {{"barrier_raw", 0.0}, {"barrier_aligned", 0.0}}},
      {"run",
       {{"steps", 40},
        {"recording_start_step", 20},
        {"reference_snapshot", 0},
        {"snapshots", 3},
        {"status", spec.status},
        {"message", spec.status == "completed" ? "completed" : "diverged at step 41"}}}};
  writeText(dir / "summary.json", summary.dump());
  writeText(dir / "layout.json", layoutJson(layout).dump());
  writeText(
      dir / "metrics.csv",
      "epoch,step,weight_norm,test_acc\n0,0,4,0.1\n1,10,4.5,0.8\n2,20,5,0.9\n4,40,5.2,0.95\n");
  writeText(dir / "distance.csv",
            "snapshot,step,d_ref,d_radial,d_aligned,aligned_identity_fraction,weight_norm\n"
            "0,20,0,0,0,1,5\n1,30,1,0.6,,,5.1\n2,40,2,1.2,1.5,0.5,5.2\n");
  writeText(dir / "msd.csv",
            "lag_snapshots,lag_steps,msd,fit\n1,10,1,1.1\n2,20,4,3.9\n3,30,9,8.5\n");
  writeText(dir / "function.csv",
            "snapshot,step,disagreement,kl\n0,20,0,0\n1,30,0.1,0.01\n2,40,0.2,0.02\n");
  const auto p = static_cast<std::int64_t>(layout.paramCount());
  EXPECT_TRUE(writeNpyFloat32((dir / "reference.npy").string(), {p}, spec.reference.data()));
  std::vector<float> snapshots = spec.reference;
  snapshots.insert(snapshots.end(), spec.reference.begin(), spec.reference.end());
  snapshots.insert(snapshots.end(), spec.last.begin(), spec.last.end());
  EXPECT_TRUE(writeNpyFloat32((dir / "snapshots.npy").string(), {3, p}, snapshots.data()));
  return dir;
}

std::vector<float> toStd(const Vector& v) {
  return std::vector<float>(v.data(), v.data() + v.size());
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_root = fs::temp_directory_path() /
             ("driftscope_report_" +
              std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(m_root);
  }
  void TearDown() override { fs::remove_all(m_root); }

  RunFolder load(const fs::path& dir) {
    auto run = loadRunFolder(dir.string());
    EXPECT_TRUE(run) << run.message();
    return run ? std::move(run).value() : RunFolder{};
  }

  const MlpLayout m_layout{std::vector<int>{3, 4, 2}};
  fs::path m_root;
};

const ReportFigure& figure(const Report& r, const std::string& stem) {
  for (const ReportFigure& f : r.figures) {
    if (f.stem == stem) return f;
  }
  ADD_FAILURE() << "no figure " << stem;
  return r.figures.front();
}

TEST_F(ReportTest, CurvesAreTheRunSeriesOverTheBaselineMean) {
  RunSpec spec;
  spec.reference = toStd(testing::randomParams(m_layout, 1));
  spec.last = toStd(testing::randomParams(m_layout, 2));
  const RunFolder run = load(writeRun(m_root / "r1", m_layout, spec));
  auto report = buildReport({run});
  ASSERT_TRUE(report) << report.message();
  ASSERT_EQ(report->labels, std::vector<std::string>{"r1"});
  EXPECT_TRUE(report->pairs.empty());

  const ReportFigure& ratio = figure(*report, "ratio");
  ASSERT_EQ(ratio.curves.size(), 2u) << "raw and aligned";
  EXPECT_EQ(ratio.curves[0].x, (std::vector<double>{0, 10, 20})) << "steps since w_ref";
  EXPECT_EQ(ratio.curves[0].y, (std::vector<double>{0, 1 / kBaseline, 2 / kBaseline}));
  EXPECT_EQ(ratio.curves[1].style, CurveStyle::kDashed);
  EXPECT_EQ(ratio.curves[1].x, (std::vector<double>{0, 20})) << "only computed points";
  EXPECT_EQ(ratio.curves[1].y, (std::vector<double>{0, 1.5 / kBaseline}));

  const ReportFigure& msd = figure(*report, "msd");
  EXPECT_TRUE(msd.logX && msd.logY);
  ASSERT_EQ(msd.curves.size(), 2u);
  EXPECT_EQ(msd.curves[0].x, (std::vector<double>{10, 20, 30}));
  EXPECT_EQ(msd.curves[1].x, (std::vector<double>{10, 20})) << "fit only over lags 1..2";
  EXPECT_EQ(msd.curves[1].y, (std::vector<double>{1.1, 3.9}));
  EXPECT_NE(msd.curves[1].name.find("1.25"), std::string::npos) << msd.curves[1].name;

  const ReportFigure& aligned = figure(*report, "aligned_vs_raw");
  EXPECT_EQ(aligned.curves[0].x, (std::vector<double>{0, 2 / kBaseline}));
  EXPECT_EQ(aligned.curves[0].y, (std::vector<double>{0, 1.5 / kBaseline}));
  EXPECT_EQ(figure(*report, "weight_norm").curves[0].y, (std::vector<double>{4, 4.5, 5, 5.2}));
  EXPECT_EQ(figure(*report, "function").curves[0].y, (std::vector<double>{0, 0.1, 0.2}));

  ASSERT_GE(report->tables.size(), 2u);
  const ReportTable& headline = report->tables[1];
  ASSERT_EQ(headline.rows.size(), 1u);
  auto cell = [&](const std::string& column) {
    for (std::size_t c = 0; c < headline.header.size(); ++c) {
      if (headline.header[c] == column) return headline.rows[0][c];
    }
    ADD_FAILURE() << "no column " << column;
    return std::string();
  };
  EXPECT_EQ(cell("d(w_ref, w_last)"), "2");
  EXPECT_EQ(cell("d / baseline"), "0.25");
  EXPECT_EQ(cell("d_align / baseline"), "0.188");  // 1.5 / 8 = 0.1875
  EXPECT_EQ(cell("nearest transposition / baseline"), "0.25");
  EXPECT_EQ(cell("radial share of d²"), "0.36");  // (1.2 / 2)^2
  EXPECT_EQ(cell("α ± s.e. (lags)"), "1.25 ± 0.05 (1-2)");
  EXPECT_EQ(cell("‖w_ref‖"), "5");
  EXPECT_EQ(cell("‖w_last‖"), "5.2");
  EXPECT_EQ(cell("baseline exact RMS"), "8.1");
  EXPECT_EQ(cell("min d_align / d"), "0.75");  // the only aligned row with d > 0: 1.5 / 2
  EXPECT_EQ(cell("min identity fraction"), "0.5");
}

TEST_F(ReportTest, ALaterReferenceSetsTimeZeroAndTheReferenceNorm) {
  RunSpec spec;
  spec.reference = toStd(testing::randomParams(m_layout, 1));
  spec.last = spec.reference;
  const fs::path dir = writeRun(m_root / "r", m_layout, spec);
  auto summary = nlohmann::json::parse(std::ifstream(dir / "summary.json"));
  summary["run"]["reference_snapshot"] = 1;  // the user clicked snapshot 1 (step 30)
  writeText(dir / "summary.json", summary.dump());
  // The last snapshot was not aligned (align_every does not divide its index).
  writeText(dir / "distance.csv",
            "snapshot,step,d_ref,d_radial,d_aligned,weight_norm\n"
            "0,20,1,0,1,5\n1,30,0,0,0,5.1\n2,40,2,1.2,,5.2\n");
  auto report = buildReport({load(dir)});
  ASSERT_TRUE(report) << report.message();
  EXPECT_EQ(figure(*report, "ratio").curves[0].x, (std::vector<double>{-10, 0, 10}));
  EXPECT_EQ(figure(*report, "function").curves[0].x, (std::vector<double>{-10, 0, 10}));
  const ReportTable& headline = report->tables[1];
  auto cell = [&](const std::string& column) {
    const auto c = std::find(headline.header.begin(), headline.header.end(), column);
    EXPECT_NE(c, headline.header.end()) << column;
    return c == headline.header.end()
               ? std::string()
               : headline.rows[0][static_cast<std::size_t>(c - headline.header.begin())];
  };
  EXPECT_EQ(cell("‖w_ref‖"), "5.1");
  EXPECT_EQ(cell("d_align / baseline"), "n/a") << "not from another snapshot than d";
  EXPECT_EQ(cell("min identity fraction"), "n/a") << "no such column in this run";
}

TEST_F(ReportTest, ShortAndLongLagExponentsAreFittedOutsideTheEngineFitRange) {
  RunSpec spec;
  spec.reference = toStd(testing::randomParams(m_layout, 1));
  spec.last = spec.reference;
  const fs::path dir = writeRun(m_root / "r", m_layout, spec);
  // Lags 1..20 (engine fit over 1..2): MSD = 3 lag^2 up to lag 2, then 12 (lag/2)^0.5.
  std::string msd = "lag_snapshots,lag_steps,msd,fit\n";
  for (int lag = 1; lag <= 20; ++lag) {
    const double v = lag <= 2 ? 3.0 * lag * lag : 12.0 * std::sqrt(lag / 2.0);
    char line[96];
    std::snprintf(line, sizeof line, "%d,%d,%.17g,\n", lag, 10 * lag, v);
    msd += line;
  }
  writeText(dir / "msd.csv", msd);
  auto report = buildReport({load(dir)});
  ASSERT_TRUE(report) << report.message();
  const ReportTable& headline = report->tables[1];
  const auto column =
      std::find(headline.header.begin(), headline.header.end(), "long-lag α ± s.e. (lags)") -
      headline.header.begin();
  ASSERT_LT(column, static_cast<std::ptrdiff_t>(headline.header.size()));
  const std::string cell = headline.rows[0][static_cast<std::size_t>(column)];
  EXPECT_EQ(cell.rfind("0.5 ± ", 0), 0u) << cell;
  EXPECT_LT(std::stod(cell.substr(std::string("0.5 ± ").size())), 1e-12) << cell;
  EXPECT_EQ(cell.substr(cell.size() - 7), " (2-10)") << cell;
  // Lags 1..4 mix both laws: the OLS slope of log MSD on log lag, by hand.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int lag = 1; lag <= 4; ++lag) {
    const double x = std::log(lag);
    const double y = std::log(lag <= 2 ? 3.0 * lag * lag : 12.0 * std::sqrt(lag / 2.0));
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  const double slope = (4 * sxy - sx * sy) / (4 * sxx - sx * sx);
  const auto shortColumn =
      std::find(headline.header.begin(), headline.header.end(), "short-lag α ± s.e. (lags)") -
      headline.header.begin();
  ASSERT_LT(shortColumn, static_cast<std::ptrdiff_t>(headline.header.size()));
  const std::string shortCell = headline.rows[0][static_cast<std::size_t>(shortColumn)];
  EXPECT_EQ(shortCell.rfind(formatNumber(slope) + " ± ", 0), 0u) << shortCell << " vs " << slope;
  EXPECT_EQ(shortCell.substr(shortCell.size() - 6), " (1-4)") << shortCell;
}

TEST_F(ReportTest, LateGrowthIsTheSlopeOfSquaredDistanceOverTheSecondHalf) {
  RunSpec spec;
  spec.reference = toStd(testing::randomParams(m_layout, 1));
  spec.last = spec.reference;
  const fs::path dir = writeRun(m_root / "r", m_layout, spec);
  // d grows linearly, then as 5 t^0.25 from t = 50: d^2 grows as t^0.5 over the second
  // half (t in [50, 100]), and any window reaching below 50 would give more.
  std::string csv = "snapshot,step,d_ref,d_radial,d_aligned,weight_norm\n";
  for (int i = 0; i <= 100; ++i) {
    const double d = i < 50 ? 0.2 * i : 5.0 * std::pow(i, 0.25);
    char line[128];
    std::snprintf(line, sizeof line, "%d,%d,%.17g,0,,5\n", i, 20 + i, d);
    csv += line;
  }
  writeText(dir / "distance.csv", csv);
  auto report = buildReport({load(dir)});
  ASSERT_TRUE(report) << report.message();
  const ReportTable& headline = report->tables[1];
  const auto column =
      std::find(headline.header.begin(), headline.header.end(), "late growth of d² ± s.e.") -
      headline.header.begin();
  ASSERT_LT(column, static_cast<std::ptrdiff_t>(headline.header.size()));
  const std::string cell = headline.rows[0][static_cast<std::size_t>(column)];
  EXPECT_EQ(cell.rfind("0.5 ± ", 0), 0u) << cell;
}

TEST_F(ReportTest, RunsDifferingOnlyBySeedAreComparedRawAndAligned) {
  std::mt19937_64 rng(7);
  const NetworkPermutation pi = random(m_layout, rng);
  RunSpec a;
  a.reference = toStd(testing::randomParams(m_layout, 1));
  a.last = toStd(testing::randomParams(m_layout, 2));
  RunSpec b = a;
  b.seed = 2;
  b.reference = toStd(testing::randomParams(m_layout, 3));
  b.last.resize(a.last.size());
  apply(m_layout, pi, a.last.data(), b.last.data());  // the same function as a.last
  RunSpec other = a;
  other.seed = 3;
  other.lr = 0.2;  // another configuration: not an independent copy of a
  RunSpec stopped = b;
  stopped.seed = 4;
  stopped.status = "stopped";  // same configuration, but it did not finish: not comparable
  writeRun(m_root / "b", m_layout, b);
  // Execution and analysis settings do not make another configuration.
  auto config = nlohmann::json::parse(std::ifstream(m_root / "b" / "config.json"));
  config["threads"] = 2;
  config["baseline_samples"] = 50;
  writeText(m_root / "b" / "config.json", config.dump());
  const std::vector<RunFolder> runs = {load(writeRun(m_root / "a", m_layout, a)),
                                       load(m_root / "b"),
                                       load(writeRun(m_root / "c", m_layout, other)),
                                       load(writeRun(m_root / "d", m_layout, stopped))};
  EXPECT_TRUE(sameExceptSeed(runs[0], runs[1]));
  EXPECT_FALSE(sameExceptSeed(runs[0], runs[2]));
  EXPECT_FALSE(sameExceptSeed(runs[0], runs[0])) << "a run is not independent of itself";

  auto report = buildReport(runs);
  ASSERT_TRUE(report) << report.message();
  ASSERT_EQ(report->pairs.size(), 1u);
  const IndependentPair& p = report->pairs[0];
  EXPECT_EQ(p.a, 0);
  EXPECT_EQ(p.b, 1);
  double sq = 0.0;
  for (std::size_t i = 0; i < a.last.size(); ++i) {
    const double d = static_cast<double>(a.last[i]) - b.last[i];
    sq += d * d;
  }
  EXPECT_NEAR(p.lastRaw, std::sqrt(sq), 1e-9);
  EXPECT_GT(p.lastRaw, 0.1) << "the permutation moved the weights";
  EXPECT_NEAR(p.lastAligned, 0.0, 1e-6) << "weight matching undoes the permutation";
  EXPECT_LE(p.refAligned, p.refRaw + 1e-12);
  EXPECT_EQ(p.baselineMean, kBaseline);
  ASSERT_EQ(report->tables.size(), 3u);
  EXPECT_EQ(report->tables[2].rows[0][0], "a vs b");
  // The ratio figure shows the independent distance as a grey reference line.
  const ReportFigure& ratio = figure(*report, "ratio");
  EXPECT_EQ(ratio.curves.back().colour, ReportCurve::kNeutral);
  EXPECT_EQ(ratio.curves.back().x, (std::vector<double>{0, 20}));
}

TEST_F(ReportTest, BadFoldersAreRefusedNamingTheFileAndField) {
  RunSpec spec;
  spec.reference = toStd(testing::randomParams(m_layout, 1));
  spec.last = spec.reference;
  auto missing = loadRunFolder((m_root / "nope").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.message(), (m_root / "nope").string() + ": folder not found");

  const fs::path dir = writeRun(m_root / "r", m_layout, spec);
  fs::remove(dir / "msd.csv");
  auto noMsd = loadRunFolder(dir.string());
  ASSERT_FALSE(noMsd);
  EXPECT_EQ(noMsd.message(), (dir / "msd.csv").string() + ": cannot open");

  writeRun(dir, m_layout, spec);
  auto summary = nlohmann::json::parse(std::ifstream(dir / "summary.json"));
  summary["baseline"]["mean"] = nullptr;
  writeText(dir / "summary.json", summary.dump());
  auto noBaseline = loadRunFolder(dir.string());
  ASSERT_FALSE(noBaseline);
  EXPECT_EQ(noBaseline.message(),
            (dir / "summary.json").string() + ": \"baseline.mean\" is null, not a number");

  writeRun(dir, m_layout, spec);
  writeText(dir / "distance.csv", "snapshot,step,d_ref\n0,0,0\n");
  auto noColumn = loadRunFolder(dir.string());
  ASSERT_FALSE(noColumn);
  EXPECT_EQ(noColumn.message(), (dir / "distance.csv").string() + ": no column \"d_radial\"");

  writeRun(dir, m_layout, spec);
  const std::vector<float> shortRow(5, 0.0f);
  ASSERT_TRUE(writeNpyFloat32((dir / "reference.npy").string(), {5}, shortRow.data()));
  RunFolder run = load(dir);
  auto weights = readReferenceWeights(run);
  ASSERT_FALSE(weights);
  EXPECT_EQ(weights.message(),
            (dir / "reference.npy").string() +
                ": shape (5) does not hold 26-parameter snapshots of layout.json");

  writeRun(dir, m_layout, spec);
  writeText(dir / "config.json", "[1, 2]");
  auto notObject = loadRunFolder(dir.string());
  ASSERT_FALSE(notObject);
  EXPECT_EQ(notObject.message(), (dir / "config.json").string() + ": not a JSON object");

  auto labels = buildReport({run}, ReportOptions{"t", {"x", "y"}});
  ASSERT_FALSE(labels);
  EXPECT_EQ(labels.message(), "2 labels for 1 runs");
  EXPECT_FALSE(buildReport({}));
}

TEST_F(ReportTest, TextEscapesLabelsAndNotesUnfinishedRuns) {
  RunSpec spec;
  spec.reference = toStd(testing::randomParams(m_layout, 1));
  spec.last = spec.reference;
  spec.status = "diverged";
  const RunFolder run = load(writeRun(m_root / "r", m_layout, spec));
  auto report = buildReport({run}, ReportOptions{"T & <b>", {"lr|0.1 <x>"}});
  ASSERT_TRUE(report) << report.message();
  ASSERT_EQ(report->notes.size(), 1u);
  EXPECT_NE(report->notes[0].find("diverged at step 41"), std::string::npos);
  const std::string md = reportMarkdown(*report, "test");
  EXPECT_NE(md.find("| lr\\|0.1 &lt;x> |"), std::string::npos) << md;
  EXPECT_NE(md.find("![Distance from w_ref over the permutation baseline](ratio.png)"),
            std::string::npos);
  const std::string html = reportHtml(*report, "test");
  EXPECT_NE(html.find("<title>T &amp; &lt;b&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("<td>lr|0.1 &lt;x&gt;</td>"), std::string::npos);
  EXPECT_NE(html.find("<img src=\"msd.png\""), std::string::npos);
  EXPECT_EQ(html.find("<x>"), std::string::npos) << "nothing unescaped";
  const std::string csv = reportTableCsv(ReportTable{"t", {"a", "b"}, {{"1,5", "say \"hi\""}}});
  EXPECT_EQ(csv, "a,b\n\"1,5\",\"say \"\"hi\"\"\"\n");

  ASSERT_TRUE(writeReportText((m_root / "out").string(), *report, "test"));
  for (const char* f : {"report.md", "report.html", "runs.csv", "headline.csv"}) {
    EXPECT_TRUE(fs::exists(m_root / "out" / f)) << f;
  }
  EXPECT_FALSE(fs::exists(m_root / "out" / "independent.csv")) << "no pairs, no file";
  EXPECT_NE(md.find("ratio.svg"), std::string::npos);
}

TEST_F(ReportTest, LeftOutFiguresAreNeitherLinkedNorLeftOverFromAnEarlierReport) {
  RunSpec spec;
  spec.reference = toStd(testing::randomParams(m_layout, 1));
  spec.last = spec.reference;
  const RunFolder run = load(writeRun(m_root / "r", m_layout, spec));
  const fs::path out = m_root / "out";
  fs::create_directories(out);
  for (const char* f : {"independent.csv", "ratio.svg", "msd.png", "notes.txt"}) {
    writeText(out / f, "from an earlier report");
  }
  ReportOptions pngOnly;
  pngOnly.withSvg = false;
  auto report = buildReport({run}, pngOnly);
  ASSERT_TRUE(report) << report.message();
  const std::string md = reportMarkdown(*report, "test");
  EXPECT_NE(md.find("](ratio.png)"), std::string::npos);
  EXPECT_EQ(md.find(".svg"), std::string::npos);
  EXPECT_EQ(reportHtml(*report, "test").find(".svg"), std::string::npos);
  ASSERT_TRUE(writeReportText(out.string(), *report, "test"));
  EXPECT_FALSE(fs::exists(out / "independent.csv"));
  EXPECT_FALSE(fs::exists(out / "ratio.svg"));
  EXPECT_TRUE(fs::exists(out / "msd.png")) << "PNGs are still part of this report";
  EXPECT_TRUE(fs::exists(out / "notes.txt")) << "files of no report are left alone";

  ReportOptions textOnly;
  textOnly.withFigures = false;
  auto text = buildReport({run}, textOnly);
  ASSERT_TRUE(text) << text.message();
  EXPECT_EQ(reportMarkdown(*text, "test").find("## Figures"), std::string::npos);
  EXPECT_EQ(reportHtml(*text, "test").find("<img"), std::string::npos);
  ASSERT_TRUE(writeReportText(out.string(), *text, "test"));
  EXPECT_FALSE(fs::exists(out / "msd.png"));
}

}  // namespace
}  // namespace driftscope
