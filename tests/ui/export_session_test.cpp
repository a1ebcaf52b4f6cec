// Export and sessions through the real window (offscreen): Export all writes decodable
// PNGs, valid SVGs and CSVs with the columns of design.md; a failing export says so and
// leaves nothing; a session saved mid-run reopens with the same series and reference and
// exports the same data files.
#include <gtest/gtest.h>

#include <QFile>
#include <QImage>
#include <QLabel>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTest>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "core/config/run_config.h"
#include "tests/ui/widget_test_support.h"
#include "ui/app_settings.h"
#include "ui/charts/distance_chart.h"
#include "ui/control_panel.h"
#include "ui/figure_export.h"
#include "ui/main_window.h"
#include "ui/plot_exporter.h"
#include "ui/run_controller.h"
namespace driftscope::ui {
namespace {

namespace fs = std::filesystem;
constexpr int kTimeoutMs = 60000;

RunConfig smallConfig(int epochs) {
  RunConfig c;
  c.layers = {784, 16, 10};
  c.epochs = epochs;
  c.burnInEpochs = 1;
  c.recordEvery = 10;
  c.capacity = 40;
  c.baselineSamples = 20;
  c.evalSubset = 300;
  return c;
}

template <typename Pred>
bool waitFor(Pred pred, int timeoutMs = kTimeoutMs) {
  return ui::testing::waitFor(pred, timeoutMs);
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string firstDataLine(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') return line;
  }
  return {};
}

// Pixels that differ from the corner (background) colour.
int inkPixels(const QImage& image) {
  const QRgb background = image.pixel(0, 0);
  int n = 0;
  for (int y = 0; y < image.height(); y += 3) {
    for (int x = 0; x < image.width(); x += 3) n += image.pixel(x, y) != background;
  }
  return n;
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() /
            ("driftscope_export_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  void runToEnd(MainWindow& w, const RunConfig& c) {
    w.setConfig(c);
    w.startRun();
    ASSERT_TRUE(waitFor([&] { return w.controller()->isRunning(); }));
    ASSERT_TRUE(waitFor([&] { return !w.controller()->isRunning(); }));
  }

  bool exportAll(MainWindow& w, const fs::path& dir) {
    QSignalSpy done(w.exporter(), &PlotExporter::allExported);
    w.exporter()->exportAllTo(QString::fromStdString(dir.string()));
    return done.wait(kTimeoutMs);
  }

  fs::path m_dir;
};

TEST_F(ExportTest, ExportAllWritesDecodablePngsValidSvgsAndContractCsvs) {
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  runToEnd(w, smallConfig(3));
  const fs::path out = m_dir / "all";
  ASSERT_TRUE(exportAll(w, out)) << w.errorBanner()->text().toStdString();

  for (const QString& stem : figureNames()) {
    const QString png = QString::fromStdString((out / (stem.toStdString() + ".png")).string());
    QImage image(png);
    ASSERT_FALSE(image.isNull()) << png.toStdString();
    EXPECT_EQ(image.size(), QSize(1800, 1200)) << png.toStdString();
    EXPECT_GT(inkPixels(image), 2000) << png.toStdString() << " looks blank";
    const QString svg = QString::fromStdString((out / (stem.toStdString() + ".svg")).string());
    QSvgRenderer renderer(svg);
    EXPECT_TRUE(renderer.isValid()) << svg.toStdString();
  }
  const std::map<std::string, std::string> headers = {
      {"metrics.csv", "epoch,step,lr,train_loss,train_acc,test_loss,test_acc,weight_norm,seconds"},
      {"distance.csv",
       "snapshot,step,epoch,lr,d_ref,d_rel,d_radial,d_tangential,d_aligned,"
       "aligned_identity_fraction,weight_norm,d_layer_1,d_layer_2"},
      {"baseline.csv", "sample,d"},
      {"pca.csv", "snapshot,step,pc1,pc2,pc3"},
      {"pca_variance.csv", "component,explained_ratio,random_walk_ratio"},
      {"msd.csv", "lag_snapshots,lag_steps,msd,fit"},
      {"path.csv", "t,loss_raw,loss_aligned"},
      {"function.csv", "snapshot,step,disagreement,kl"},
  };
  for (const auto& [file, header] : headers) {
    EXPECT_EQ(firstDataLine(out / file), header) << file;
  }
  for (const char* file : {"config.json", "summary.json", "layout.json", "heatmap.csv",
                           "snapshots.npy", "reference.npy"}) {
    EXPECT_TRUE(fs::exists(out / file)) << file;
  }

  // Per-plot export at 300 dpi: 300/96 times the on-screen size, with the resolution set.
  const QString dpiPath = QString::fromStdString((m_dir / "distance300.png").string());
  ASSERT_TRUE(w.exporter()->exportTo(QStringLiteral("distance"), ExportKind::kPng300Dpi, dpiPath));
  QImage dpi(dpiPath);
  ASSERT_FALSE(dpi.isNull());
  EXPECT_NEAR(dpi.dotsPerMeterX(), 300 / 0.0254, 2);
  EXPECT_GT(dpi.width(), 2 * w.distanceChart()->width());
  const QString csvPath = QString::fromStdString((m_dir / "msd.csv").string());
  ASSERT_TRUE(w.exporter()->exportTo(QStringLiteral("msd"), ExportKind::kCsv, csvPath));
  EXPECT_EQ(firstDataLine(m_dir / "msd.csv"), "lag_snapshots,lag_steps,msd,fit");
}

TEST_F(ExportTest, ExportIntoAnUnwritableFolderReportsItAndLeavesNothing) {
  MainWindow w;
  w.show();
  runToEnd(w, smallConfig(2));
  // A folder path that runs through a regular file cannot be created.
  const fs::path blocker = m_dir / "not-a-folder";
  std::ofstream(blocker) << "x";
  const fs::path target = blocker / "export";
  QSignalSpy failed(w.controller(), &RunController::fileWorkFailed);
  w.exporter()->exportAllTo(QString::fromStdString(target.string()));
  ASSERT_TRUE(failed.wait(kTimeoutMs));
  EXPECT_TRUE(failed.at(0).at(0).toString().contains(QString::fromStdString(target.string())))
      << failed.at(0).at(0).toString().toStdString();
  EXPECT_TRUE(w.errorBanner()->isVisible());
  EXPECT_EQ(readFile(blocker), "x");

  // Per-plot: the error names the path, and no file (nor temporary) is left.
  const fs::path missing = m_dir / "missing-folder" / "distance.png";
  const Status s = w.exporter()->exportTo(QStringLiteral("distance"), ExportKind::kPng1x,
                                          QString::fromStdString(missing.string()));
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(missing.string()), std::string::npos) << s.message();
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(m_dir)) ++entries;
  EXPECT_EQ(entries, 1) << "only the blocker file may exist";
}

TEST_F(ExportTest, SessionSavedMidRunReopensWithTheSameSeriesAndExportsTheSameData) {
  MainWindow w;
  w.show();
  RunConfig c = smallConfig(400);
  w.setConfig(c);
  w.startRun();
  RunController* rc = w.controller();
  ASSERT_TRUE(waitFor([&] {
    auto s = rc->latest();
    return s && s->snapshotsTaken > 20 && s->ring;
  }));
  w.togglePause();
  // Let the queue drain: the state stops changing once training is paused.
  std::uint64_t version = 0;
  ASSERT_TRUE(waitFor([&] {
    const std::uint64_t v = rc->latest()->version;
    const bool still = v == version;
    version = v;
    QTest::qWait(150);
    return still && rc->latest()->version == v;
  }));
  const fs::path original = m_dir / "original";
  ASSERT_TRUE(exportAll(w, original)) << w.errorBanner()->text().toStdString();
  const auto before = rc->latest();

  const QString session = QString::fromStdString((m_dir / "mid.dsession").string());
  QSignalSpy saved(rc, &RunController::sessionSaved);
  w.saveSession(session);
  ASSERT_TRUE(saved.wait(kTimeoutMs)) << w.errorBanner()->text().toStdString();
  w.resetRun();
  ASSERT_FALSE(rc->latest());

  QSignalSpy opened(rc, &RunController::sessionOpened);
  w.openSession(session);
  ASSERT_TRUE(opened.wait(kTimeoutMs)) << w.errorBanner()->text().toStdString();
  const auto after = rc->latest();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->distances.size(), before->distances.size());
  ASSERT_TRUE(after->reference && before->reference);
  EXPECT_EQ(after->reference->index, before->reference->index);
  EXPECT_EQ(after->metrics.size(), before->metrics.size());
  EXPECT_EQ(after->distances.back().d.distance, before->distances.back().d.distance);

  const fs::path reopened = m_dir / "reopened";
  ASSERT_TRUE(exportAll(w, reopened)) << w.errorBanner()->text().toStdString();
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(original)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".csv" && ext != ".json" && ext != ".npy") continue;
    EXPECT_EQ(readFile(entry.path()), readFile(reopened / entry.path().filename()))
        << entry.path().filename();
    ++compared;
  }
  EXPECT_EQ(compared, 15);
}

TEST_F(ExportTest, CorruptSessionIsRefusedAndTheWindowStaysUsable) {
  MainWindow w;
  w.show();
  const fs::path bad = m_dir / "bad.dsession";
  std::ofstream(bad) << "DRIFTSCOPE-SESS\nbut then garbage";
  QSignalSpy failed(w.controller(), &RunController::fileWorkFailed);
  w.openSession(QString::fromStdString(bad.string()));
  ASSERT_TRUE(failed.wait(kTimeoutMs));
  EXPECT_TRUE(w.errorBanner()->text().contains(QString::fromStdString(bad.string())));
  runToEnd(w, smallConfig(2));
  EXPECT_GT(w.controller()->latest()->snapshotsTaken, 0);
}

TEST_F(ExportTest, SettingsRememberConfigExportFolderFormatAndRecentSessions) {
  const QString folder = QString::fromStdString(m_dir.string());
  {
    MainWindow w;
    w.show();
    RunConfig c = smallConfig(2);
    c.sgd.batchSize = 48;
    c.layers = {784, 24, 10};
    w.setConfig(c);
    w.exporter()->setLastDirectory(folder);
    w.exporter()->setLastKind(ExportKind::kSvg);
    w.close();
  }
  MainWindow again;
  EXPECT_EQ(again.exporter()->lastDirectory(), folder);
  EXPECT_EQ(again.exporter()->lastKind(), ExportKind::kSvg);
  const RunConfig restored = again.controlPanel()->config();
  EXPECT_EQ(restored.sgd.batchSize, 48);
  EXPECT_EQ(restored.layers, (std::vector<int>{784, 24, 10}));
  // Quick export: last format into the last folder, no dialog.
  again.show();
  runToEnd(again, smallConfig(2));
  again.exporter()->quickExport(QStringLiteral("pca"));
  QSvgRenderer svg(QString::fromStdString((m_dir / "pca.svg").string()));
  EXPECT_TRUE(svg.isValid());
  // Recent sessions: newest first, files that no longer exist dropped.
  const fs::path a = m_dir / "a.dsession", b = m_dir / "b.dsession";
  std::ofstream(a) << "a";
  std::ofstream(b) << "b";
  AppSettings::addRecentSession(QString::fromStdString(a.string()));
  AppSettings::addRecentSession(QString::fromStdString(b.string()));
  fs::remove(a);
  const QStringList recent = AppSettings::recentSessions();
  ASSERT_FALSE(recent.isEmpty());
  EXPECT_EQ(recent.first(), QString::fromStdString(b.string()));
  EXPECT_FALSE(recent.contains(QString::fromStdString(a.string())));
}

}  // namespace
}  // namespace driftscope::ui
