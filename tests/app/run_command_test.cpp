// End-to-end: runs the real `driftscope run` binary on a small network and reads every
// output file back: shapes, headers, and that summary.json agrees with the CSVs and
// with snapshots.npy / reference.npy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/io/npy.h"
#include "tests/app/cli_support.h"

namespace driftscope {
namespace {

namespace fs = std::filesystem;
constexpr double kCsvTol = 1e-6;  // CSVs print 10 significant digits

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int column(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
  double at(std::size_t row, const std::string& name) const {
    return std::stod(rows.at(row).at(static_cast<std::size_t>(column(name))));
  }
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

Csv readCsv(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in) << p;
  Csv c;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (c.header.empty()) {
      c.header = split(line);
    } else {
      c.rows.push_back(split(line));
      EXPECT_EQ(c.rows.back().size(), c.header.size()) << p << ": " << line;
    }
  }
  return c;
}

nlohmann::json readJson(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

using testing::ProcessResult;

ProcessResult runDriftscope(const std::string& args) {
  return testing::runDriftscopeCli("run " + args);
}

class RunCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() /
            ("driftscope_e2e_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  fs::path m_dir;
};

TEST_F(RunCommand, WritesEveryOutputFileConsistently) {
  // 784-24-16-10: two hidden layers; a ring of 8 holds fewer than the 11 snapshots taken,
  // so the reference (snapshot 0) survives only because it is pinned outside the ring.
  const ProcessResult r =
      runDriftscope("--out " + m_dir.string() +
                    " --layers 784,24,16,10 --epochs 4 --burn-in 2 --record-every 25"
                    " --capacity 8 --baseline-samples 50 --align-every 5 --seed 3"
                    " --threads 2 --eval-subset 500");
  ASSERT_EQ(r.exitCode, 0) << r.output;

  const Csv metrics = readCsv(m_dir / "metrics.csv");
  const Csv distance = readCsv(m_dir / "distance.csv");
  const Csv baseline = readCsv(m_dir / "baseline.csv");
  const Csv pca = readCsv(m_dir / "pca.csv");
  const Csv variance = readCsv(m_dir / "pca_variance.csv");
  const Csv msd = readCsv(m_dir / "msd.csv");
  const Csv path = readCsv(m_dir / "path.csv");
  const Csv function = readCsv(m_dir / "function.csv");
  const auto summary = readJson(m_dir / "summary.json");
  const auto layout = readJson(m_dir / "layout.json");
  const auto config = readJson(m_dir / "config.json");

  // metrics: epochs 0..4; 125 steps per epoch at batch 64 on 8000 digits.
  ASSERT_EQ(metrics.rows.size(), 5u);
  EXPECT_EQ(metrics.at(4, "step"), 500);
  EXPECT_NEAR(summary["final"]["test_acc"].get<double>(), metrics.at(4, "test_acc"), kCsvTol);
  EXPECT_NEAR(summary["final"]["train_loss"].get<double>(), metrics.at(4, "train_loss"), kCsvTol);

  // distance: snapshot 0 at the end of burn-in (step 250), then every 25 steps to 500.
  ASSERT_EQ(distance.rows.size(), 11u);
  EXPECT_EQ(summary["run"]["snapshots"].get<int>(), 11);
  EXPECT_EQ(distance.at(0, "step"), 250);
  EXPECT_EQ(distance.at(10, "step"), 500);
  EXPECT_EQ(distance.at(0, "d_ref"), 0.0);
  EXPECT_EQ(distance.header.back(), "d_layer_3");
  for (std::size_t i = 0; i < distance.rows.size(); ++i) {
    const double d = distance.at(i, "d_ref");
    const double rad = distance.at(i, "d_radial"), tan = distance.at(i, "d_tangential");
    EXPECT_NEAR(rad * rad + tan * tan, d * d, 1e-6 * (1 + d * d));
    double layers = 0;
    for (int l = 1; l <= 3; ++l)
      layers += std::pow(distance.at(i, "d_layer_" + std::to_string(l)), 2);
    EXPECT_NEAR(layers, d * d, 1e-6 * (1 + d * d));
    const std::string& aligned =
        distance.rows[i][static_cast<std::size_t>(distance.column("d_aligned"))];
    if (i % 5 == 0 || i == 10) {
      ASSERT_FALSE(aligned.empty()) << "snapshot " << i << " should be aligned";
      EXPECT_LE(std::stod(aligned), d + 1e-6);
    } else {
      EXPECT_TRUE(aligned.empty()) << "snapshot " << i;
    }
  }

  // snapshots.npy: the last 8 snapshots (3..10), chronological.
  auto snaps = readNpyFloat32((m_dir / "snapshots.npy").string());
  auto ref = readNpyFloat32((m_dir / "reference.npy").string());
  ASSERT_TRUE(snaps) << snaps.message();
  ASSERT_TRUE(ref) << ref.message();
  std::size_t P = 0;
  for (const auto& l : layout["layers"]) {
    const int out = l["shape"][0], in = l["shape"][1];
    EXPECT_EQ(l["w_offset"].get<std::size_t>(), P);
    EXPECT_EQ(l["b_offset"].get<std::size_t>(), P + static_cast<std::size_t>(out * in));
    P += static_cast<std::size_t>(out * in + out);
  }
  EXPECT_EQ(P, 784u * 24 + 24 + 24 * 16 + 16 + 16 * 10 + 10);
  ASSERT_EQ(snaps->shape, (std::vector<std::int64_t>{8, static_cast<std::int64_t>(P)}));
  ASSERT_EQ(ref->shape, (std::vector<std::int64_t>{static_cast<std::int64_t>(P)}));
  // d_ref recomputed from the npy files, in double.
  auto npyDistance = [&](std::size_t a, const float* b) {
    double sq = 0;
    for (std::size_t k = 0; k < P; ++k) {
      const double diff = double(snaps->data[a * P + k]) - double(b[k]);
      sq += diff * diff;
    }
    return std::sqrt(sq);
  };
  for (std::size_t i = 0; i < 8; ++i) {
    const double d = npyDistance(i, ref->data.data());
    EXPECT_NEAR(d, distance.at(i + 3, "d_ref"), 1e-6 * (1 + d)) << "snapshot " << i + 3;
  }

  // heatmap: the ring's snapshots 3..10; entries equal the npy distances.
  std::ifstream hin(m_dir / "heatmap.csv");
  std::string first;
  std::getline(hin, first);
  EXPECT_EQ(first, "# snapshots: 3 4 5 6 7 8 9 10");
  for (std::size_t i = 0; i < 8; ++i) {
    std::string row;
    std::getline(hin, row);
    const auto cells = split(row);
    ASSERT_EQ(cells.size(), 8u);
    for (std::size_t j = 0; j < 8; ++j) {
      const double d = npyDistance(i, snaps->data.data() + j * P);
      EXPECT_NEAR(std::stod(cells[j]), d, 1e-6 * (1 + d)) << i << "," << j;
    }
  }

  // baseline.csv agrees with the summary's band.
  ASSERT_EQ(baseline.rows.size(), 50u);
  double mean = 0;
  for (std::size_t i = 0; i < 50; ++i) mean += baseline.at(i, "d") / 50;
  EXPECT_NEAR(summary["baseline"]["mean"].get<double>(), mean, 1e-6 * mean);
  EXPECT_LE(summary["baseline"]["p05"].get<double>(), summary["baseline"]["p50"].get<double>());
  EXPECT_LE(summary["baseline"]["p50"].get<double>(), summary["baseline"]["p95"].get<double>());
  // verdict = last distance / baseline mean.
  EXPECT_NEAR(summary["verdict"]["ratio_last"].get<double>(), distance.at(10, "d_ref") / mean,
              1e-6);

  EXPECT_EQ(pca.rows.size(), 8u);
  EXPECT_EQ(variance.rows.size(), 8u);
  EXPECT_EQ(msd.rows.size(), 7u);
  EXPECT_EQ(msd.at(0, "lag_steps"), 25);
  EXPECT_EQ(function.rows.size(), 11u);
  EXPECT_EQ(function.at(0, "disagreement"), 0.0);
  EXPECT_EQ(path.rows.size(), 21u);
  EXPECT_EQ(path.at(0, "t"), 0.0);
  EXPECT_EQ(path.at(20, "t"), 1.0);

  // config.json reloads and reproduces the run's settings.
  EXPECT_EQ(config["layers"], nlohmann::json({784, 24, 16, 10}));
  EXPECT_EQ(config["record_every"], 25);
  EXPECT_EQ(config["lr"].get<double>(), 0.05);
  const fs::path again = m_dir / "again";
  const ProcessResult r2 = runDriftscope("--config " + (m_dir / "config.json").string() +
                                         " --out " + again.string() + " -q");
  ASSERT_EQ(r2.exitCode, 0) << r2.output;
  const Csv distance2 = readCsv(again / "distance.csv");
  ASSERT_EQ(distance2.rows.size(), distance.rows.size());
  EXPECT_EQ(distance2.rows.back(), distance.rows.back()) << "same config, same seed, same numbers";
}

TEST_F(RunCommand, BadFlagsExitTwoNamingTheValueAndWriteNothing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--lr -1", "\"lr\": -1"},
      {"--batch 0", "\"batch\": 0"},
      {"--layers 784,128,9", "output size 9"},
      {"--layers 100,10", "input size 100"},
      {"--dataset idx:/nonexistent/a,b,c,d", "/nonexistent/a: file not found"},
      {"--burn-in soon", "--burn-in: \"soon\""},
      {"--activation gelu", "\"gelu\""},
  };
  for (const auto& [flags, fragment] : cases) {
    const ProcessResult r = runDriftscope("--out " + m_dir.string() + " " + flags);
    EXPECT_EQ(r.exitCode, 2) << flags << "\n" << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << flags << "\n" << r.output;
    EXPECT_FALSE(fs::exists(m_dir)) << flags << ": nothing may be written";
  }
}

TEST_F(RunCommand, DivergenceExitsThreeAndKeepsWhatWasRecorded) {
  const ProcessResult r = runDriftscope("--out " + m_dir.string() +
                                        " --layers 784,16,10 --loss mse --burn-in 0 --epochs 3"
                                        " --record-every 1 --lr 60 --baseline-samples 10 -q");
  ASSERT_EQ(r.exitCode, 3) << r.output;
  EXPECT_NE(r.output.find("diverged at step "), std::string::npos) << r.output;
  const auto summary = readJson(m_dir / "summary.json");
  EXPECT_EQ(summary["run"]["status"], "diverged");
  const int step = summary["run"]["diverged_step"];
  EXPECT_GE(step, 1);
  const Csv distance = readCsv(m_dir / "distance.csv");
  ASSERT_FALSE(distance.rows.empty());
  // Snapshot 0 is the initial weights (burn-in 0); one per finite step after that.
  EXPECT_EQ(distance.rows.size(), static_cast<std::size_t>(step));
  auto snaps = readNpyFloat32((m_dir / "snapshots.npy").string());
  ASSERT_TRUE(snaps);
  for (float v : snaps->data) ASSERT_TRUE(std::isfinite(v));
}

#ifdef DRIFTSCOPE_TEST_FIGURES
std::string fileText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The window (`--start --export DIR`, offscreen) runs the same engine as `driftscope run`
// and writes the same folder: the same files, and for the same config the same weights
// and the same recorded series byte for byte, although the window's live analyses ran
// under the live budget and caught up at the end (timing must not change the outputs).
TEST_F(RunCommand, WindowExportWritesTheSameFilesAsTheHeadlessRun) {
  const fs::path headless = m_dir / "headless";
  const fs::path window = m_dir / "window";
  const ProcessResult r = runDriftscope(
      "--out " + headless.string() +
      " --layers 784,24,10 --epochs 4 --burn-in 1 --record-every 10 --capacity 12"
      " --baseline-samples 20 --align-every 3 --eval-subset 300 --live-share 0 -q");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const ProcessResult g = testing::runDriftscopeCli(
      "--config " + (headless / "config.json").string() + " --start --export " +
      window.string() + " -platform offscreen");
  ASSERT_EQ(g.exitCode, 0) << g.output;
  std::vector<std::string> a, b;
  for (const auto& e : fs::directory_iterator(headless)) a.push_back(e.path().filename());
  for (const auto& e : fs::directory_iterator(window)) b.push_back(e.path().filename());
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
  for (const char* same : {"reference.npy", "snapshots.npy", "distance.csv", "function.csv",
                           "heatmap.csv", "pca.csv", "msd.csv", "path.csv", "baseline.csv"}) {
    EXPECT_EQ(fileText(headless / same), fileText(window / same)) << same;
  }
  EXPECT_EQ(readCsv(window / "function.csv").rows.size(),
            readCsv(window / "distance.csv").rows.size());
}
#endif

}  // namespace
}  // namespace driftscope
