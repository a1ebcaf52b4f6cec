// End-to-end: two real `driftscope run`s that differ only by the seed, then
// `driftscope report` over them: every file of the report, the headline numbers against
// each run's own summary.json, and bad arguments that must write nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/io/npy.h"
#include "tests/app/cli_support.h"

namespace driftscope {
namespace {

namespace fs = std::filesystem;
using testing::runDriftscopeCli;

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One CSV line; cells may be quoted ("a, b") with "" for a quote.
std::vector<std::string> splitCsvRow(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
      cell.push_back('"');
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell.push_back(c);
    }
  }
  cells.push_back(cell);
  return cells;
}

// The two runs are shared by the tests of this suite (each takes a few seconds).
class ReportCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One folder per process: ctest runs the tests of this suite in parallel processes.
    s_root = fs::temp_directory_path() / ("driftscope_report_e2e_" + std::to_string(::getpid()));
    fs::remove_all(s_root);
    for (int seed : {1, 2}) {
      const fs::path dir = s_root / ("seed" + std::to_string(seed));
      const auto r = runDriftscopeCli(
          "run --out " + dir.string() + " --seed " + std::to_string(seed) +
          " --layers 784,16,10 --burn-in 1 --epochs 3 --record-every 25 --baseline-samples 20"
          " --align-every 2 --eval-subset 200 --threads 1 --no-figures -q");
      ASSERT_EQ(r.exitCode, 0) << r.output;
    }
  }
  static void TearDownTestSuite() { fs::remove_all(s_root); }
  static fs::path s_root;
};
fs::path ReportCommand::s_root;

TEST_F(ReportCommand, WritesTextTablesAndFiguresConsistentWithTheRuns) {
  const fs::path out = s_root / "report";
  const auto r = runDriftscopeCli("report --runs " + (s_root / "seed1").string() + " " +
                                  (s_root / "seed2").string() + " --out " + out.string() +
                                  " --title 'Two seeds'");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("2 runs, 1 independent pairs"), std::string::npos) << r.output;

  const std::string md = readFile(out / "report.md");
  EXPECT_EQ(md.rfind("# Two seeds\n", 0), 0u) << md.substr(0, 80);
  EXPECT_NE(md.find("| seed1 vs seed2 |"), std::string::npos);
  const std::string html = readFile(out / "report.html");
  EXPECT_NE(html.find("<h1>Two seeds</h1>"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
#ifdef DRIFTSCOPE_TEST_FIGURES
  for (const char* stem : {"ratio", "msd", "aligned_vs_raw", "weight_norm", "function"}) {
    const std::string png = readFile(out / (std::string(stem) + ".png"));
    ASSERT_GT(png.size(), 8u) << stem;
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << stem;
    EXPECT_NE(md.find(std::string("](") + stem + ".png)"), std::string::npos) << stem;
    const std::string svg = readFile(out / (std::string(stem) + ".svg"));
    EXPECT_NE(svg.find("<svg"), std::string::npos) << stem;
  }
#endif

  // The headline d / baseline equals each run's own verdict (3 significant digits).
  std::istringstream lines(readFile(out / "headline.csv"));
  std::string row;
  std::getline(lines, row);
  const std::vector<std::string> header = splitCsvRow(row);
  const auto column = std::find(header.begin(), header.end(), "d / baseline") - header.begin();
  ASSERT_LT(column, static_cast<std::ptrdiff_t>(header.size())) << row;
  for (const char* run : {"seed1", "seed2"}) {
    ASSERT_TRUE(std::getline(lines, row));
    const std::vector<std::string> cells = splitCsvRow(row);
    ASSERT_EQ(cells.size(), header.size()) << row;
    EXPECT_EQ(cells[0], run);
    const auto summary = nlohmann::json::parse(readFile(s_root / run / "summary.json"));
    const double ratio = summary["verdict"]["ratio_last"];
    EXPECT_NEAR(std::stod(cells[static_cast<std::size_t>(column)]), ratio, 0.0051 * ratio) << run;
  }
  // The independent pair: the raw distance between the two reference weights, recomputed
  // from reference.npy, and an aligned distance no larger.
  std::istringstream pairLines(readFile(out / "independent.csv"));
  std::getline(pairLines, row);
  const std::vector<std::string> pairHeader = splitCsvRow(row);
  ASSERT_TRUE(std::getline(pairLines, row));
  const std::vector<std::string> pair = splitCsvRow(row);
  ASSERT_EQ(pair.size(), pairHeader.size()) << row;
  EXPECT_EQ(pair[0], "seed1 vs seed2");
  auto cellOf = [&](const std::string& name) {
    const auto c = std::find(pairHeader.begin(), pairHeader.end(), name);
    EXPECT_NE(c, pairHeader.end()) << name;
    return std::stod(pair.at(static_cast<std::size_t>(c - pairHeader.begin())));
  };
  auto refA = readNpyFloat32((s_root / "seed1" / "reference.npy").string());
  auto refB = readNpyFloat32((s_root / "seed2" / "reference.npy").string());
  ASSERT_TRUE(refA && refB);
  ASSERT_EQ(refA->data.size(), refB->data.size());
  double sq = 0.0;
  for (std::size_t i = 0; i < refA->data.size(); ++i) {
    const double d = static_cast<double>(refA->data[i]) - refB->data[i];
    sq += d * d;
  }
  const double raw = cellOf("d(w_ref) raw");
  EXPECT_NEAR(raw, std::sqrt(sq), 0.0051 * std::sqrt(sq));
  EXPECT_LE(cellOf("d(w_ref) aligned"), raw);
  EXPECT_LE(cellOf("d(w_last) aligned"), cellOf("d(w_last) raw"));
}

TEST_F(ReportCommand, NoSvgWritesPngFiguresOnly) {
  const fs::path out = s_root / "png-only";
  const auto r = runDriftscopeCli("report --runs " + (s_root / "seed1").string() + " --out " +
                                  out.string() + " --no-svg -q");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(r.output, "") << "quiet";
  EXPECT_EQ(readFile(out / "report.md").find(".svg"), std::string::npos);
  EXPECT_FALSE(fs::exists(out / "ratio.svg"));
#ifdef DRIFTSCOPE_TEST_FIGURES
  EXPECT_TRUE(fs::exists(out / "ratio.png"));
#endif
}

TEST_F(ReportCommand, BadArgumentsExitTwoNamingTheProblemAndWriteNothing) {
  const fs::path out = s_root / "never";
  const std::string good = (s_root / "seed1").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--runs " + good + " /nonexistent/run7", "/nonexistent/run7: folder not found"},
      {"--runs " + good + " --labels a,b", "2 labels for 1 runs"},
      {"--title x", "--runs is required"},
      {"--runs " + good + " --bogus", "--bogus"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = runDriftscopeCli("report " + args + " --out " + out.string());
    EXPECT_EQ(r.exitCode, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << args << "\n" << r.output;
    EXPECT_FALSE(fs::exists(out)) << args << ": nothing may be written";
  }
  const fs::path file = s_root / "a-file";
  std::ofstream(file) << "x";
  const auto r = runDriftscopeCli("report --runs " + good + " --out " + file.string());
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("exists and is not a folder"), std::string::npos) << r.output;
  EXPECT_EQ(readFile(file), "x");
}

}  // namespace
}  // namespace driftscope
