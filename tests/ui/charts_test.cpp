// Offscreen tests of the plot widgets in ui/charts: point counts after setState, log axes
// dropping non-positive points, the heatmap's click -> snapshot index, viridis endpoints,
// and a render of every chart to /tmp/driftscope_charts/*.png that must not be blank.
#include <gtest/gtest.h>

#include <QAbstractAxis>
#include <QApplication>
#include <QAreaSeries>
#include <QBarSet>
#include <QDir>
#include <QGraphicsScene>
#include <QGraphicsTextItem>
#include <QImage>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPainter>
#include <QPalette>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QTest>
#include <QValueAxis>
#include <QWheelEvent>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "core/analysis/msd.h"
#include "core/analysis/pca.h"
#include "core/engine/analysis_state.h"
#include "ui/charts/chart_legend.h"
#include "ui/charts/colormap.h"
#include "ui/charts/distance_chart.h"
#include "ui/charts/heatmap_view.h"
#include "ui/charts/msd_chart.h"
#include "ui/charts/pca_chart.h"
#include "ui/charts/plot_export.h"
#include "ui/charts/training_chart.h"

namespace driftscope::ui {
namespace {

constexpr int kEpochs = 20;
constexpr int kStepsPerEpoch = 100;
constexpr int kRecordEvery = 10;
constexpr int kSnapshots = 40;  // recorded in total
constexpr int kRing = 30;       // the last kRing are in the ring (indices 10..39)
constexpr int kDims = 50;
constexpr int kAlignedEvery = 5;
constexpr int kPathPoints = 21;
constexpr int kMaxLag = 15;
constexpr std::int64_t kRecordingStart = 500;
constexpr std::int64_t kLrChangeStep = 700;
const QString kOutDir = QStringLiteral("/tmp/driftscope_charts");

PlotContext context() {
  PlotContext ctx;
  ctx.stepsPerEpoch = kStepsPerEpoch;
  ctx.recordEvery = kRecordEvery;
  return ctx;
}

// A random walk of kSnapshots points in kDims dimensions, offset from the origin so that
// ||w|| and the radial part are meaningful, with every analysis computed directly.
AnalysisState syntheticState() {
  AnalysisState s;
  for (int e = 0; e <= kEpochs; ++e) {
    EpochMetrics m;
    m.epoch = e;
    m.step = static_cast<std::int64_t>(e) * kStepsPerEpoch;
    m.lr = e * kStepsPerEpoch < kLrChangeStep ? 0.1f : 0.05f;
    m.trainLoss = 2.3 * std::exp(-0.35 * e) + 0.02;
    m.testLoss = 2.3 * std::exp(-0.3 * e) + 0.08 + 0.002 * e;
    m.testAcc = 0.1 + 0.87 * (1.0 - std::exp(-0.4 * e));
    m.trainAcc = std::min(1.0, m.testAcc + 0.02);
    s.metrics.push_back(m);
  }
  s.lrHistory = {{0, 0.1f}, {kLrChangeStep, 0.05f}};
  s.recordingStartStep = kRecordingStart;
  // Raw batch losses: a noisy decay, one block per tenth of an epoch.
  std::mt19937_64 lossRng(7);
  std::normal_distribution<double> lossNoise(0.0, 0.05);
  for (int b = 1; b <= kEpochs * 10; ++b) {
    const double epoch = b / 10.0;
    s.batchLoss.push_back({static_cast<std::int64_t>(epoch * kStepsPerEpoch),
                           2.3 * std::exp(-0.35 * epoch) + 0.02 + std::abs(lossNoise(lossRng))});
  }

  std::mt19937_64 rng(12345);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd w(kSnapshots, kDims);
  Eigen::RowVectorXd cur = Eigen::RowVectorXd::Constant(kDims, 1.0);
  for (int i = 0; i < kSnapshots; ++i) {
    for (int k = 0; k < kDims; ++k) cur(k) += 0.05 * normal(rng);
    w.row(i) = cur;
  }
  std::vector<SnapshotMeta> metas;
  for (int i = 0; i < kSnapshots; ++i) {
    SnapshotMeta m;
    m.index = i;
    m.step = kRecordingStart + static_cast<std::int64_t>(i) * kRecordEvery;
    m.epoch = static_cast<double>(m.step) / kStepsPerEpoch;
    m.lr = m.step < kLrChangeStep ? 0.1f : 0.05f;
    metas.push_back(m);
  }
  s.reference = metas[0];
  const Eigen::RowVectorXd ref = w.row(0);
  const double refNorm = ref.norm();
  for (int i = 0; i < kSnapshots; ++i) {
    DistanceRecord r;
    r.meta = metas[static_cast<std::size_t>(i)];
    const Eigen::RowVectorXd diff = w.row(i) - ref;
    r.d.distance = diff.norm();
    r.d.referenceNorm = refNorm;
    r.d.weightNorm = w.row(i).norm();
    r.d.radial = diff.dot(ref) / refNorm;
    r.d.tangential = (diff - r.d.radial * ref / refNorm).norm();
    r.d.relative = r.d.distance / refNorm;
    if (i % kAlignedEvery == 0) r.aligned = 0.8 * r.d.distance;
    s.distances.push_back(r);
  }
  auto band = std::make_shared<BaselineBand>();
  band->mean = 2.0;
  band->p05 = 1.7;
  band->p50 = 2.0;
  band->p95 = 2.3;
  band->exactRms = 2.01;
  band->nearestTransposition = 0.6;
  s.baseline = band;

  auto ring = std::make_shared<RingAnalysis>();
  const int first = kSnapshots - kRing;
  const Eigen::MatrixXd rw = w.bottomRows(kRing);
  ring->snapshots.assign(metas.begin() + first, metas.end());
  ring->distances.resize(kRing, kRing);
  for (int i = 0; i < kRing; ++i) {
    for (int j = 0; j < kRing; ++j) ring->distances(i, j) = (rw.row(i) - rw.row(j)).norm();
  }
  const Eigen::MatrixXd centred = rw.rowwise() - rw.row(0);
  const MatrixD gram = centred * centred.transpose();
  ring->pca = pcaFromGram(gram, 3);
  ring->msd = msdFromDistances(ring->distances, kMaxLag);
  ring->fit = fitPowerLaw(ring->msd, 1, 10);
  for (int i = 0; i < kPathPoints; ++i) {
    const double t = i / static_cast<double>(kPathPoints - 1);
    ring->path.t.push_back(t);
    ring->path.lossRaw.push_back(0.1 + 0.3 * std::sin(M_PI * t));
    ring->path.lossAligned.push_back(0.1 + 0.05 * std::sin(M_PI * t));
  }
  ring->path.barrierRaw = 0.3;
  ring->path.barrierAligned = 0.05;
  ring->pathSnapshot = kSnapshots - 1;
  s.ring = ring;
  s.snapshotsTaken = kSnapshots;
  s.snapshotsInRing = kRing;
  return s;
}

// Legend items only become visible once the view is shown.
int visibleLegendMarkers(ChartView& view) {
  view.resize(900, 600);
  view.show();
  EXPECT_TRUE(QTest::qWaitForWindowExposed(&view));
  QApplication::processEvents();
  QChart* chart = view.chart();
  int n = 0;
  for (QLegendMarker* m : chart->legend()->markers()) n += m->isVisible() ? 1 : 0;
  return n;
}

bool allPositive(const QXYSeries* s, bool checkX, bool checkY) {
  for (const QPointF& p : s->points()) {
    if ((checkX && p.x() <= 0.0) || (checkY && p.y() <= 0.0)) return false;
  }
  return true;
}

struct PixelCount {
  int nonBackground = 0;
  int coloured = 0;  // saturated pixels: series, not just black text and grey grid
};

PixelCount countPixels(const QImage& img) {
  PixelCount c;
  const QRgb bg = img.pixel(2, 2);
  for (int y = 0; y < img.height(); ++y) {
    for (int x = 0; x < img.width(); ++x) {
      const QRgb px = img.pixel(x, y);
      if (px != bg) ++c.nonBackground;
      if (QColor(px).hsvSaturation() > 80 && QColor(px).value() > 40) ++c.coloured;
    }
  }
  return c;
}

// Shows the view at `size` (900 x 600: a maximised plot or an export; 330 x 370: one cell of
// the dashboard at the window's default size), renders its scene like the PNG exporter will,
// saves it.
QImage renderChart(ChartView& view, const QString& name, QSize size = QSize(900, 600)) {
  view.resize(size);
  view.show();
  EXPECT_TRUE(QTest::qWaitForWindowExposed(&view));
  QApplication::processEvents();
  QImage img(size, QImage::Format_ARGB32_Premultiplied);
  img.fill(Qt::white);
  {
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setRenderHint(QPainter::TextAntialiasing);
    QGraphicsScene* scene = view.exportScene();
    scene->render(&p, QRectF(img.rect()), scene->sceneRect());
  }
  QDir().mkpath(kOutDir);
  EXPECT_TRUE(img.save(kOutDir + QLatin1Char('/') + name + QStringLiteral(".png")));
  return img;
}

void expectNotBlank(const QImage& img) {
  const PixelCount c = countPixels(img);
  const int total = img.width() * img.height();
  EXPECT_GT(c.nonBackground, total / 100) << "image is (almost) blank";
  EXPECT_GT(c.coloured, 200) << "no coloured series drawn";
}

TEST(Colormap, ViridisEndpointsMatchMatplotlib) {
  EXPECT_EQ(viridis(0.0).name(), QStringLiteral("#440154"));
  EXPECT_EQ(viridis(1.0).name(), QStringLiteral("#fde725"));
  EXPECT_EQ(viridis(-1.0).name(), QStringLiteral("#440154"));
  EXPECT_EQ(viridis(2.0).name(), QStringLiteral("#fde725"));
  EXPECT_EQ(viridis(std::nan("")).name(), QStringLiteral("#440154"));
  // matplotlib viridis(0.5) = #21918c; the anchors are interpolated linearly.
  const QColor mid = viridis(0.5);
  EXPECT_NEAR(mid.red(), 0x21, 2);
  EXPECT_NEAR(mid.green(), 0x91, 2);
  EXPECT_NEAR(mid.blue(), 0x8c, 2);
}

TEST(Colormap, ViridisLightnessIncreasesMonotonically) {
  double last = -1.0;
  for (int i = 0; i <= 100; ++i) {
    const QColor c = viridis(i / 100.0);
    const double luma = 0.2126 * c.redF() + 0.7152 * c.greenF() + 0.0722 * c.blueF();
    EXPECT_GT(luma, last - 1e-3) << "at t = " << i / 100.0;
    last = luma;
  }
}

TEST(TrainingChart, ShowsOnePointPerEpochAndEventLines) {
  TrainingChart chart;
  const AnalysisState s = syntheticState();
  chart.setState(s, context());
  EXPECT_EQ(chart.trainLossSeries()->count(), kEpochs + 1);
  EXPECT_EQ(chart.testLossSeries()->count(), kEpochs + 1);
  EXPECT_EQ(chart.testAccuracySeries()->count(), kEpochs + 1);
  EXPECT_EQ(chart.trainLossSeries()->name(), QStringLiteral("train loss (epoch)"));
  // Raw batch loss and its centred average: one point per block, the average lag-free.
  EXPECT_EQ(chart.batchLossSeries()->count(), kEpochs * 10);
  EXPECT_EQ(chart.batchAverageSeries()->count(), kEpochs * 10);
  EXPECT_DOUBLE_EQ(chart.batchLossSeries()->at(0).x(), 0.1);
  EXPECT_DOUBLE_EQ(chart.batchAverageSeries()->at(20).x(), chart.batchLossSeries()->at(20).x());
  EXPECT_EQ(chart.testLossSeries()->name(), QStringLiteral("test loss"));
  EXPECT_EQ(chart.testAccuracySeries()->name(), QStringLiteral("test acc. (right)"));
  EXPECT_DOUBLE_EQ(chart.testAccuracySeries()->at(kEpochs).y(), 100.0 * s.metrics.back().testAcc);
  // Burn-in boundary + one learning-rate change (the first entry is the initial rate).
  EXPECT_EQ(chart.eventLineCount(), 2);
  // Five legend entries: the event lines have none.
  EXPECT_EQ(visibleLegendMarkers(chart), 5);
}

TEST(TrainingChart, LogAxisDropsNonPositiveLossesOnly) {
  TrainingChart chart;
  AnalysisState s = syntheticState();
  s.metrics[3].trainLoss = 0.0;
  s.metrics[4].trainLoss = -1.0;
  chart.setState(s, context());
  EXPECT_EQ(chart.trainLossSeries()->count(), kEpochs + 1);
  chart.setLogY(true);
  EXPECT_TRUE(qobject_cast<QLogValueAxis*>(chart.trainLossSeries()->attachedAxes().at(1)) ||
              qobject_cast<QLogValueAxis*>(chart.trainLossSeries()->attachedAxes().at(0)));
  EXPECT_EQ(chart.trainLossSeries()->count(), kEpochs + 1 - 2);
  EXPECT_TRUE(allPositive(chart.trainLossSeries(), false, true));
  EXPECT_EQ(chart.testAccuracySeries()->count(), kEpochs + 1);  // right axis stays linear
  chart.setLogY(false);
  EXPECT_EQ(chart.trainLossSeries()->count(), kEpochs + 1);
}

TEST(DistanceChart, SeriesHaveOnePointPerSnapshotAndTheBand) {
  DistanceChart chart;
  const AnalysisState s = syntheticState();
  chart.setState(s, context());
  EXPECT_EQ(chart.distanceSeries()->count(), kSnapshots);
  EXPECT_EQ(chart.alignedSeries()->count(), kSnapshots / kAlignedEvery);
  EXPECT_EQ(chart.radialSeries()->count(), kSnapshots);
  EXPECT_EQ(chart.tangentialSeries()->count(), kSnapshots);
  EXPECT_EQ(chart.weightNormSeries()->count(), kSnapshots);
  EXPECT_EQ(chart.baselineBand()->upperSeries()->count(), 2);
  EXPECT_EQ(chart.baselineBand()->lowerSeries()->count(), 2);
  EXPECT_DOUBLE_EQ(chart.baselineBand()->upperSeries()->at(0).y(), 2.3);
  EXPECT_DOUBLE_EQ(chart.baselineBand()->lowerSeries()->at(1).y(), 1.7);
  EXPECT_DOUBLE_EQ(chart.baselineMeanSeries()->at(0).y(), 2.0);
  EXPECT_DOUBLE_EQ(chart.nearestTranspositionSeries()->at(0).y(), 0.6);
  // x is the step; the band spans the recorded steps.
  EXPECT_DOUBLE_EQ(chart.distanceSeries()->at(1).x(), kRecordingStart + kRecordEvery);
  EXPECT_DOUBLE_EQ(chart.baselineBand()->upperSeries()->at(1).x(),
                   kRecordingStart + (kSnapshots - 1) * kRecordEvery);
  EXPECT_EQ(chart.eventLineCount(), 1);

  PlotContext epochs = context();
  epochs.timeInEpochs = true;
  chart.setState(s, epochs);
  EXPECT_DOUBLE_EQ(chart.distanceSeries()->at(1).x(), s.distances[1].meta.epoch);
}

TEST(DistanceChart, LogAxisDropsTheZeroDistanceAtTheReference) {
  DistanceChart chart;
  const AnalysisState s = syntheticState();
  chart.setState(s, context());
  chart.setLogY(true);
  EXPECT_TRUE(chart.logY());
  EXPECT_EQ(chart.distanceSeries()->count(), kSnapshots - 1);  // d(w_ref, w_ref) = 0
  EXPECT_EQ(chart.alignedSeries()->count(), kSnapshots / kAlignedEvery - 1);
  EXPECT_TRUE(allPositive(chart.distanceSeries(), false, true));
  EXPECT_TRUE(allPositive(chart.radialSeries(), false, true));
  EXPECT_TRUE(allPositive(chart.tangentialSeries(), false, true));
  EXPECT_EQ(chart.weightNormSeries()->count(), kSnapshots);  // right axis: linear
  EXPECT_EQ(chart.baselineBand()->upperSeries()->count(), 2);
  // New data while logarithmic is filtered too.
  chart.setState(s, context());
  EXPECT_EQ(chart.distanceSeries()->count(), kSnapshots - 1);
  chart.setLogY(false);
  EXPECT_EQ(chart.distanceSeries()->count(), kSnapshots);
}

TEST(DistanceChart, ExtraCurvesAreCappedAtFour) {
  DistanceChart chart;
  chart.setState(syntheticState(), context());
  const QList<QPointF> pts = {{10, 0.1}, {20, 0.2}, {30, 0.25}};
  chart.setExtraCurves({{QStringLiteral("ref 5"), pts}, {QStringLiteral("ref 9"), pts.mid(1)}});
  ASSERT_EQ(chart.extraCurves().size(), 2u);
  EXPECT_EQ(chart.extraCurves()[0]->count(), 3);
  EXPECT_EQ(chart.extraCurves()[1]->count(), 2);
  EXPECT_EQ(chart.extraCurves()[1]->name(), QStringLiteral("ref 9"));
  std::vector<std::pair<QString, QList<QPointF>>> many(6, {QStringLiteral("r"), pts});
  chart.setExtraCurves(many);
  EXPECT_EQ(chart.extraCurves().size(), static_cast<std::size_t>(DistanceChart::kMaxExtraCurves));
  chart.setExtraCurves({});
  EXPECT_TRUE(chart.extraCurves().empty());
}

TEST(ChartView, WheelZoomsAndDoubleClickResets) {
  DistanceChart chart;
  chart.setState(syntheticState(), context());
  chart.resize(900, 600);
  chart.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&chart));
  auto* x = qobject_cast<QValueAxis*>(chart.distanceSeries()->attachedAxes().at(0));
  ASSERT_NE(x, nullptr);
  const double span = x->max() - x->min();
  const QPoint centre = chart.viewport()->rect().center();
  QWheelEvent wheel(centre, chart.viewport()->mapToGlobal(centre), QPoint(), QPoint(0, 120),
                    Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(chart.viewport(), &wheel);
  EXPECT_TRUE(chart.chart()->isZoomed());
  EXPECT_LT(x->max() - x->min(), span * 0.9);

  // New data does not undo the user's zoom.
  const double zoomedSpan = x->max() - x->min();
  chart.setState(syntheticState(), context());
  EXPECT_DOUBLE_EQ(x->max() - x->min(), zoomedSpan);

  QTest::mouseDClick(chart.viewport(), Qt::LeftButton, Qt::NoModifier, centre);
  EXPECT_FALSE(chart.chart()->isZoomed());
  EXPECT_DOUBLE_EQ(x->max() - x->min(), span);
}

TEST(ChartView, HoverReadoutShowsValuesUnderTheCursor) {
  TrainingChart chart;
  chart.setState(syntheticState(), context());
  chart.resize(900, 600);
  chart.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&chart));
  const QPointF plotCentre = chart.chart()->plotArea().center();
  const QPoint pos = chart.mapFromScene(chart.chart()->mapToScene(plotCentre));
  QMouseEvent move(QEvent::MouseMove, QPointF(pos), chart.viewport()->mapToGlobal(QPointF(pos)),
                   Qt::NoButton, Qt::NoButton, Qt::NoModifier);
  QApplication::sendEvent(chart.viewport(), &move);
  const QString text = chart.hoverText();
  EXPECT_TRUE(text.startsWith(QStringLiteral("epoch = "))) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("loss = "))) << text.toStdString();
}

TEST(HeatmapView, ClickOnARowEmitsThatSnapshotIndex) {
  HeatmapView view;
  const AnalysisState s = syntheticState();
  view.setState(s, context());
  view.resize(600, 500);
  view.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&view));
  ASSERT_EQ(view.size(), kRing);
  EXPECT_EQ(view.image().size(), QSize(kRing, kRing));
  EXPECT_EQ(QColor(view.image().pixel(3, 3)).name(), QStringLiteral("#440154"));  // diagonal

  const QRect map = view.mapRect(view.rect());
  EXPECT_EQ(map.width(), map.height());
  EXPECT_TRUE(view.rect().contains(map));
  QSignalSpy spy(&view, &HeatmapView::snapshotClicked);
  constexpr int kRow = 7;
  const double cell = static_cast<double>(map.height()) / kRing;
  const QPoint click(map.left() + map.width() / 3,
                     static_cast<int>(map.top() + (kRow + 0.5) * cell));
  EXPECT_EQ(view.rowAt(click), kRow);
  QTest::mouseClick(&view, Qt::LeftButton, Qt::NoModifier, click);
  ASSERT_EQ(spy.count(), 1);
  EXPECT_EQ(spy.at(0).at(0).toInt(), s.ring->snapshots[kRow].index);
  EXPECT_EQ(spy.at(0).at(0).toInt(), kSnapshots - kRing + kRow);

  // Outside the map: nothing.
  QTest::mouseClick(&view, Qt::LeftButton, Qt::NoModifier, QPoint(1, 1));
  EXPECT_EQ(spy.count(), 1);
}

TEST(HeatmapView, KeepsASquareMapAtAnySize) {
  HeatmapView view;
  view.setState(syntheticState(), context());
  for (const QSize size : {QSize(300, 700), QSize(900, 300), QSize(240, 200)}) {
    const QRect target(QPoint(0, 0), size);
    const QRect map = view.mapRect(target);
    EXPECT_EQ(map.width(), map.height());
    EXPECT_TRUE(target.contains(map)) << size.width() << "x" << size.height();
  }
}

TEST(PcaChart, TrajectoryCoversEveryRingSnapshot) {
  PcaChart chart;
  const AnalysisState s = syntheticState();
  chart.setState(s, context());
  EXPECT_EQ(chart.trajectoryPointCount(), kRing);
  int total = 0;
  for (QLineSeries* seg : chart.segments()) total += seg->count();
  EXPECT_EQ(total, kRing + PcaChart::kSegments - 1);  // neighbours share a boundary point
  ASSERT_EQ(chart.startSeries()->count(), 1);
  ASSERT_EQ(chart.endSeries()->count(), 1);
  EXPECT_DOUBLE_EQ(chart.startSeries()->at(0).x(), s.ring->pca.projections(0, 0));
  EXPECT_DOUBLE_EQ(chart.endSeries()->at(0).y(), s.ring->pca.projections(kRing - 1, 1));
  const QString title = chart.startSeries()->attachedAxes().at(0)->titleText();
  EXPECT_TRUE(title.startsWith(QStringLiteral("PC1 ("))) << title.toStdString();
  EXPECT_TRUE(title.endsWith(QStringLiteral("% of variance)"))) << title.toStdString();

  chart.setSecondComponent(3);
  EXPECT_EQ(chart.secondComponent(), 3);
  EXPECT_DOUBLE_EQ(chart.endSeries()->at(0).y(), s.ring->pca.projections(kRing - 1, 2));
  EXPECT_TRUE(
      chart.startSeries()->attachedAxes().at(1)->titleText().startsWith(QStringLiteral("PC3 (")));
  // Legend: trajectory, start, end.
  EXPECT_EQ(visibleLegendMarkers(chart), 3);
}

TEST(VarianceChart, ShowsTenComponentsBesideTheRandomWalk) {
  VarianceChart chart;
  const AnalysisState s = syntheticState();
  chart.setState(s, context());
  ASSERT_EQ(chart.trajectorySet()->count(), VarianceChart::kComponents);
  ASSERT_EQ(chart.randomWalkSet()->count(), VarianceChart::kComponents);
  EXPECT_NEAR(chart.trajectorySet()->at(0), 100.0 * s.ring->pca.explainedRatio[0], 1e-9);
  EXPECT_NEAR(chart.randomWalkSet()->at(1), 100.0 * s.ring->pca.randomWalkRatio[1], 1e-9);
  EXPECT_EQ(chart.randomWalkSet()->label(), QStringLiteral("random walk"));
  chart.setState(s, context());  // again: replaced, not appended
  EXPECT_EQ(chart.trajectorySet()->count(), VarianceChart::kComponents);
}

TEST(MsdChart, PointsAndFitOnLogLogAxes) {
  MsdChart chart;
  const AnalysisState s = syntheticState();
  chart.setState(s, context());
  EXPECT_TRUE(chart.logX());
  EXPECT_TRUE(chart.logY());
  ASSERT_EQ(chart.msdSeries()->count(), static_cast<int>(s.ring->msd.lags.size()));
  EXPECT_EQ(chart.msdSeries()->count(), kMaxLag);
  EXPECT_DOUBLE_EQ(chart.msdSeries()->at(2).x(), 3.0 * kRecordEvery);  // lag in steps
  EXPECT_EQ(chart.fitSeries()->count(), MsdChart::kFitPoints);
  EXPECT_DOUBLE_EQ(chart.fitSeries()->at(0).x(), s.ring->fit.lagMin * kRecordEvery);
  EXPECT_NEAR(chart.fitSeries()->at(MsdChart::kFitPoints - 1).x(),
              s.ring->fit.lagMax * kRecordEvery, 1e-9);
  const QString expected = QStringLiteral("fit: \u03b1 = %1 \u00b1 %2")
                               .arg(QString::number(s.ring->fit.alpha, 'f', 2),
                                    QString::number(s.ring->fit.alphaStderr, 'f', 2));
  EXPECT_EQ(chart.fitSeries()->name(), expected);
  EXPECT_EQ(chart.baselineSeries()->count(), 2);
  EXPECT_TRUE(allPositive(chart.msdSeries(), true, true));
}

TEST(MsdChart, LogAxesDropNonPositiveMsd) {
  MsdChart chart;
  AnalysisState s = syntheticState();
  auto ring = std::make_shared<RingAnalysis>(*s.ring);
  ring->msd.msd[0] = 0.0;
  ring->msd.lags.insert(ring->msd.lags.begin(), 0);  // lag 0: not on a log axis
  ring->msd.msd.insert(ring->msd.msd.begin(), 0.0);
  s.ring = ring;
  chart.setState(s, context());
  EXPECT_EQ(chart.msdSeries()->count(), kMaxLag - 1);
  EXPECT_TRUE(allPositive(chart.msdSeries(), true, true));
}

TEST(PathChart, RawAndAlignedWithBarriersInTheLegend) {
  PathChart chart;
  chart.setState(syntheticState(), context());
  EXPECT_EQ(chart.rawSeries()->count(), kPathPoints);
  EXPECT_EQ(chart.alignedSeries()->count(), kPathPoints);
  EXPECT_TRUE(chart.rawSeries()->name().contains(QStringLiteral("barrier = 0.3")));
  EXPECT_TRUE(chart.alignedSeries()->name().contains(QStringLiteral("barrier = 0.05")));
}

TEST(Charts, EmptyStateIsHarmless) {
  const AnalysisState empty;
  TrainingChart training;
  training.setState(empty, context());
  EXPECT_EQ(training.trainLossSeries()->count(), 0);
  DistanceChart distance;
  distance.setState(empty, context());
  distance.setLogY(true);
  EXPECT_EQ(distance.distanceSeries()->count(), 0);
  PcaChart pca;
  pca.setState(empty, context());
  EXPECT_EQ(pca.trajectoryPointCount(), 0);
  VarianceChart variance;
  variance.setState(empty, context());
  EXPECT_EQ(variance.trajectorySet()->count(), 0);
  MsdChart msd;
  msd.setState(empty, context());
  EXPECT_EQ(msd.msdSeries()->count(), 0);
  PathChart path;
  path.setState(empty, context());
  EXPECT_EQ(path.rawSeries()->count(), 0);
  HeatmapView heatmap;
  heatmap.setState(empty, context());
  EXPECT_EQ(heatmap.size(), 0);
  QImage img(400, 300, QImage::Format_ARGB32_Premultiplied);
  QPainter p(&img);
  heatmap.paintTo(p, img.rect());  // "no snapshots" text, no crash
}

// Texts Qt Charts elided to fit ("1...", "baseline 5-9..."): axis labels and titles are
// QGraphicsTextItems in the scene; the chart title too.
QStringList truncatedTexts(ChartView& view) {
  QStringList out;
  const auto items = view.exportScene()->items();
  for (QGraphicsItem* item : items) {
    if (!item->isVisible()) continue;
    QString text;
    if (auto* t = dynamic_cast<QGraphicsTextItem*>(item)) text = t->toPlainText();
    if (auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(item)) text = t->text();
    if (text.contains(QStringLiteral("...")) || text.contains(QChar(0x2026))) out.append(text);
  }
  return out;
}

// A dashboard cell at the window's default size (1500 x 950) is about 330 x 370 pixels.
constexpr QSize kDashboardCell(330, 370);

TEST(ChartRender, EveryLabelFitsInADashboardCell) {
  const AnalysisState s = syntheticState();
  const PlotContext ctx = context();
  auto check = [](ChartView& c, const QString& name, int maxLegendRows) {
    SCOPED_TRACE(name.toStdString());
    expectNotBlank(renderChart(c, name + QStringLiteral("_small"), kDashboardCell));
    EXPECT_EQ(truncatedTexts(c), QStringList());
    const ChartLegend* legend = c.chartLegend();
    EXPECT_FALSE(legend->elided()) << legend->labels().join(QStringLiteral(", ")).toStdString();
    EXPECT_LE(legend->rowCount(), maxLegendRows);
    // The legend lies inside the chart, below the plot area.
    const QRectF box = legend->mapRectToItem(c.chart(), legend->boundingRect());
    EXPECT_TRUE(QRectF(QPointF(0, 0), c.chart()->size()).contains(box));
    EXPECT_GE(box.top(), c.chart()->plotArea().bottom());
    // The title is the frame's business in the dashboard.
    EXPECT_FALSE(c.titleVisible());
    EXPECT_TRUE(c.chart()->title().isEmpty());
  };
  {
    TrainingChart c;
    c.setState(s, ctx);
    check(c, QStringLiteral("training"), 2);
  }
  {
    DistanceChart c;
    c.setState(s, ctx);
    // Eight entries, and two pinned references on top: three rows at most.
    c.setExtraCurves({{QStringLiteral("ref 5"), {{600, 0.1}, {700, 0.2}}},
                      {QStringLiteral("ref 9"), {{600, 0.1}, {800, 0.3}}}});
    check(c, QStringLiteral("distance"), 4);
    c.setLogY(true);
    check(c, QStringLiteral("distance_log"), 4);
  }
  {
    PcaChart c;
    c.setState(s, ctx);
    check(c, QStringLiteral("pca"), 1);
  }
  {
    VarianceChart c;
    c.setState(s, ctx);
    check(c, QStringLiteral("pca_variance"), 1);
  }
  {
    MsdChart c;
    c.setState(s, ctx);
    check(c, QStringLiteral("msd"), 2);
  }
  {
    PathChart c;
    c.setState(s, ctx);
    check(c, QStringLiteral("path"), 2);
  }
}

TEST(ChartView, TitleIsHiddenUntilAnExporterAsksForIt) {
  DistanceChart c;
  c.setState(syntheticState(), context());
  c.resize(900, 600);
  c.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&c));
  EXPECT_FALSE(c.title().isEmpty());
  EXPECT_TRUE(c.chart()->title().isEmpty());
  const double top = c.chart()->plotArea().top();
  c.setTitleVisible(true);  // no event loop in between, as in an export
  EXPECT_EQ(c.chart()->title(), c.title());
  EXPECT_GT(c.chart()->plotArea().top(), top + 10.0);
  c.setTitleVisible(false);
  EXPECT_TRUE(c.chart()->title().isEmpty());
}

TEST(ChartLegend, WrapsInsteadOfEliding) {
  DistanceChart c;
  c.setState(syntheticState(), context());
  c.resize(900, 600);
  c.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&c));
  QApplication::processEvents();
  const ChartLegend* legend = c.chartLegend();
  // The measurements first, the yardstick last; event lines have no entry.
  const QStringList labels = legend->labels();
  ASSERT_EQ(labels.size(), 8);
  EXPECT_EQ(labels.front(), c.distanceSeries()->name());
  EXPECT_EQ(labels.back(), c.nearestTranspositionSeries()->name());
  const int wideRows = legend->rowCount();
  c.resize(kDashboardCell);
  QApplication::processEvents();
  EXPECT_GT(legend->rowCount(), wideRows);
  EXPECT_EQ(legend->labels(), labels);  // nothing elided, nothing lost
  EXPECT_FALSE(legend->elided());
}

// The application's dark palette (ui/app_settings.cpp applyTheme), set for one scope.
class DarkApplicationPalette {
 public:
  DarkApplicationPalette() : m_old(QApplication::palette()) {
    QPalette p = m_old;
    p.setColor(QPalette::Window, QColor(45, 45, 48));
    p.setColor(QPalette::WindowText, QColor(220, 220, 220));
    p.setColor(QPalette::Base, QColor(30, 30, 32));
    p.setColor(QPalette::Text, QColor(220, 220, 220));
    QApplication::setPalette(p);
    QApplication::processEvents();  // widgets get their PaletteChange through the event loop
  }
  ~DarkApplicationPalette() {
    QApplication::setPalette(m_old);
    QApplication::processEvents();
  }
  DarkApplicationPalette(const DarkApplicationPalette&) = delete;
  DarkApplicationPalette& operator=(const DarkApplicationPalette&) = delete;

 private:
  QPalette m_old;
};

constexpr int kDarkMax = 90;    // lightness of a "dark" background at most
constexpr int kLightMin = 170;  // lightness of "light" text at least

int countDarkPixels(const QImage& img) {
  int n = 0;
  for (int y = 0; y < img.height(); ++y) {
    for (int x = 0; x < img.width(); ++x) n += QColor(img.pixel(x, y)).lightness() < 100 ? 1 : 0;
  }
  return n;
}

TEST(PlotLook, ReadableLightensOnlyDarkColoursOnADarkBackground) {
  const QColor bandMean(0x3b, 0x5b, 0x80);
  EXPECT_EQ(PlotLook::light().readable(bandMean), bandMean);
  QPalette dark;
  dark.setColor(QPalette::Window, QColor(45, 45, 48));
  dark.setColor(QPalette::WindowText, QColor(220, 220, 220));
  const PlotLook look = PlotLook::forPalette(dark);
  ASSERT_TRUE(look.dark);
  EXPECT_LT(contrastRatio(bandMean, look.background), PlotLook::kLineContrast);
  const QColor lifted = look.readable(bandMean);
  EXPECT_GE(contrastRatio(lifted, look.background), PlotLook::kLineContrast - 1e-3);
  // Just enough, and still blue.
  EXPECT_LT(contrastRatio(lifted, look.background), PlotLook::kLineContrast + 0.1);
  EXPECT_GT(lifted.blue(), lifted.red());
  const QColor yellow(0xfd, 0xe7, 0x25);
  EXPECT_EQ(look.readable(yellow), yellow);
  EXPECT_NEAR(contrastRatio(Qt::white, Qt::black), 21.0, 1e-9);
}

TEST(ChartView, FollowsADarkPaletteAndExportsInTheLightLook) {
  DistanceChart c;
  c.setState(syntheticState(), context());
  c.resize(900, 600);
  c.show();  // QApplication::setPalette() reaches top-level widgets through their window
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&c));
  const QColor bandMeanLight = c.baselineMeanSeries()->pen().color();
  ASSERT_EQ(c.chart()->backgroundBrush().color(), QColor(Qt::white));
  {
    DarkApplicationPalette dark;
    EXPECT_TRUE(c.look().dark);
    EXPECT_LE(c.chart()->backgroundBrush().color().lightness(), kDarkMax);
    const auto axes = c.chart()->axes();
    ASSERT_FALSE(axes.isEmpty());
    for (QAbstractAxis* a : axes) {
      EXPECT_GE(a->labelsColor().lightness(), kLightMin);
      EXPECT_GE(a->titleBrush().color().lightness(), kLightMin);
    }
    EXPECT_GE(c.chartLegend()->textColor().lightness(), kLightMin);
    // The dark-blue band mean is lifted to a readable colour on the dark background.
    EXPECT_GE(
        contrastRatio(c.baselineMeanSeries()->pen().color(), c.chart()->backgroundBrush().color()),
        PlotLook::kLineContrast - 1e-3);

    ImageOptions options;
    options.size = QSize(600, 400);
    const QImage img = renderPlotImage(&c, options);
    QDir().mkpath(kOutDir);
    EXPECT_TRUE(img.save(kOutDir + QStringLiteral("/distance_export_from_dark.png")));
    EXPECT_EQ(QColor(img.pixel(3, 3)), QColor(Qt::white));
    EXPECT_EQ(QColor(img.pixel(img.width() - 3, img.height() / 2)), QColor(Qt::white));
    EXPECT_GT(countDarkPixels(img), 100);  // dark text and axes on the white paper
    // Back to the screen's dark look after the export.
    EXPECT_LE(c.chart()->backgroundBrush().color().lightness(), kDarkMax);
    EXPECT_GE(axes.front()->labelsColor().lightness(), kLightMin);
  }
  EXPECT_FALSE(c.look().dark);
  EXPECT_EQ(c.chart()->backgroundBrush().color(), QColor(Qt::white));
  EXPECT_EQ(c.baselineMeanSeries()->pen().color(), bandMeanLight);
  EXPECT_LE(c.chart()->axes().front()->labelsColor().lightness(), kDarkMax);
}

TEST(HeatmapView, FollowsADarkPaletteAndExportsOnWhite) {
  HeatmapView v;
  v.setState(syntheticState(), context());
  v.resize(600, 500);
  v.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
  DarkApplicationPalette dark;
  EXPECT_LE(v.backgroundColor().lightness(), kDarkMax);
  EXPECT_GE(v.textColor().lightness(), kLightMin);
  QImage screen(600, 500, QImage::Format_ARGB32_Premultiplied);
  {
    QPainter p(&screen);
    v.paintTo(p, screen.rect());
  }
  EXPECT_LE(QColor(screen.pixel(2, 2)).lightness(), kDarkMax);

  ImageOptions options;
  options.size = QSize(600, 500);
  const QImage img = renderPlotImage(&v, options);
  QDir().mkpath(kOutDir);
  EXPECT_TRUE(img.save(kOutDir + QStringLiteral("/heatmap_export_from_dark.png")));
  EXPECT_EQ(QColor(img.pixel(2, 2)), QColor(Qt::white));
  EXPECT_GT(countDarkPixels(img), 100);  // dark labels
  EXPECT_FALSE(v.exportLook());
  EXPECT_LE(v.backgroundColor().lightness(), kDarkMax);
}

TEST(ChartRender, EveryChartRendersToANonBlankPng) {
  const AnalysisState s = syntheticState();
  const PlotContext ctx = context();
  {
    TrainingChart c;
    c.setState(s, ctx);
    expectNotBlank(renderChart(c, QStringLiteral("training")));
  }
  {
    DistanceChart c;
    c.setState(s, ctx);
    expectNotBlank(renderChart(c, QStringLiteral("distance")));
    c.setLogY(true);
    expectNotBlank(renderChart(c, QStringLiteral("distance_log")));
  }
  {
    PcaChart c;
    c.setState(s, ctx);
    expectNotBlank(renderChart(c, QStringLiteral("pca")));
  }
  {
    VarianceChart c;
    c.setState(s, ctx);
    expectNotBlank(renderChart(c, QStringLiteral("pca_variance")));
  }
  {
    MsdChart c;
    c.setState(s, ctx);
    expectNotBlank(renderChart(c, QStringLiteral("msd")));
  }
  {
    PathChart c;
    c.setState(s, ctx);
    expectNotBlank(renderChart(c, QStringLiteral("path")));
  }
  {
    HeatmapView v;
    v.setState(s, ctx);
    QPalette light = v.palette();
    light.setColor(QPalette::Window, Qt::white);
    light.setColor(QPalette::WindowText, Qt::black);
    v.setPalette(light);
    QImage img(900, 600, QImage::Format_ARGB32_Premultiplied);
    {
      QPainter p(&img);
      p.setRenderHint(QPainter::Antialiasing);
      v.paintTo(p, img.rect());
    }
    QDir().mkpath(kOutDir);
    EXPECT_TRUE(img.save(kOutDir + QStringLiteral("/heatmap.png")));
    expectNotBlank(img);
    EXPECT_EQ(QColor(img.pixel(2, 2)), QColor(Qt::white));

    QPalette dark = v.palette();
    dark.setColor(QPalette::Window, QColor(0x20, 0x20, 0x24));
    dark.setColor(QPalette::WindowText, QColor(0xee, 0xee, 0xee));
    v.setPalette(dark);
    QImage darkImg(700, 700, QImage::Format_ARGB32_Premultiplied);
    {
      QPainter p(&darkImg);
      v.paintTo(p, darkImg.rect());
    }
    EXPECT_TRUE(darkImg.save(kOutDir + QStringLiteral("/heatmap_dark.png")));
    expectNotBlank(darkImg);
  }
}

}  // namespace
}  // namespace driftscope::ui
