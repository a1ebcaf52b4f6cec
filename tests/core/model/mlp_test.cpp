#include "core/model/mlp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/random.h"
#include "tests/eigen_matchers.h"
#include "tests/test_support.h"

namespace driftscope {
namespace {

constexpr double kGradRelTol = 2e-3;  // central differences in double around float weights
// Whether the packets' multiply-add rounds once, like std::fma in the kernels' scalar edges
// (builds for a CPU with FMA: -march=native on AVX2/AVX-512). A portable build (x86-64
// baseline, the .deb) multiplies and adds with two roundings in its packets, so a sum an
// edge computes with std::fma differs in the last bit from the same sum in a packet.
#if defined(__FMA__)
constexpr bool kPacketFma = true;
#else
constexpr bool kPacketFma = false;
#endif
constexpr double kForwardTol = 1e-6;

// Loss of the whole batch in double precision (parameters perturbed in double).
double meanLossDouble(const Mlp& mlp, const Eigen::VectorXd& w, const RowMatrixD& x,
                      const std::vector<std::uint8_t>& y) {
  const MlpLayout& lay = mlp.layout();
  RowMatrixD a = x;
  for (int l = 0; l < lay.numLayers(); ++l) {
    const LayerSlice& s = lay.layer(l);
    Eigen::Map<const RowMatrixD> W(w.data() + s.wOffset, s.out, s.in);
    Eigen::Map<const Eigen::VectorXd> b(w.data() + s.bOffset, s.out);
    RowMatrixD z = a * W.transpose();
    z.rowwise() += b.transpose();
    if (l + 1 < lay.numLayers()) {
      if (mlp.activation() == Activation::kRelu) {
        z = z.cwiseMax(0.0);
      } else {
        z = z.array().tanh();
      }
    }
    a = z;
  }
  double loss = 0.0;
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    const int t = y[static_cast<std::size_t>(i)];
    if (mlp.loss() == LossKind::kCrossEntropy) {
      const double m = a.row(i).maxCoeff();
      loss += m + std::log((a.row(i).array() - m).exp().sum()) - a(i, t);
    } else {
      for (Eigen::Index k = 0; k < a.cols(); ++k) {
        const double d = a(i, k) - (k == t ? 1.0 : 0.0);
        loss += 0.5 * d * d;
      }
    }
  }
  return loss / static_cast<double>(a.rows());
}

struct GradCase {
  Activation activation;
  LossKind loss;
  std::vector<int> sizes;
};

class MlpGradientTest : public ::testing::TestWithParam<GradCase> {};

TEST_P(MlpGradientTest, AnalyticGradientMatchesFiniteDifferences) {
  const GradCase c = GetParam();
  const Mlp mlp(MlpLayout(c.sizes), c.activation, c.loss);
  Rng rng(7);
  Vector w = mlp.initialParams(3);
  // Non-zero biases so every bias gradient is exercised.
  for (int l = 0; l < mlp.layout().numLayers(); ++l) {
    VectorMap b = mlp.layout().bias(w.data(), l);
    for (Eigen::Index i = 0; i < b.size(); ++i)
      b[i] = 0.1f * static_cast<float>(standardNormal(rng));
  }
  const int batch = 5;
  RowMatrix x(batch, c.sizes.front());
  std::vector<std::uint8_t> y(batch);
  for (int i = 0; i < batch; ++i) {
    for (int j = 0; j < x.cols(); ++j) x(i, j) = static_cast<float>(standardNormal(rng));
    y[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(uniformIndex(rng, c.sizes.back()));
  }
  Vector grad = Vector::Zero(w.size());
  MlpWorkspace ws;
  const LossStats st = mlp.lossAndGradient(w.data(), x, y, grad.data(), 1.0f / batch, ws);

  const Eigen::VectorXd wd = w.cast<double>();
  const RowMatrixD xd = x.cast<double>();
  EXPECT_NEAR(st.lossSum / batch, meanLossDouble(mlp, wd, xd, y), 1e-5);

  const double h = 1e-4;
  for (Eigen::Index i = 0; i < w.size(); ++i) {
    Eigen::VectorXd plus = wd, minus = wd;
    plus[i] += h;
    minus[i] -= h;
    const double numeric =
        (meanLossDouble(mlp, plus, xd, y) - meanLossDouble(mlp, minus, xd, y)) / (2 * h);
    const double scale = std::max(1e-2, std::abs(numeric));
    EXPECT_NEAR(grad[i], numeric, kGradRelTol * scale) << "parameter " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryActivationAndLoss, MlpGradientTest,
    ::testing::Values(GradCase{Activation::kRelu, LossKind::kCrossEntropy, {4, 5, 3}},
                      GradCase{Activation::kTanh, LossKind::kCrossEntropy, {4, 5, 3}},
                      GradCase{Activation::kRelu, LossKind::kMse, {4, 5, 3}},
                      GradCase{Activation::kTanh, LossKind::kMse, {4, 5, 3}},
                      GradCase{Activation::kRelu, LossKind::kCrossEntropy, {3, 4, 4, 3}},
                      GradCase{Activation::kTanh, LossKind::kMse, {3, 4, 4, 3}},
                      GradCase{Activation::kRelu, LossKind::kCrossEntropy, {6, 3}}),
    [](const ::testing::TestParamInfo<GradCase>& param) {
      std::string name = toString(param.param.activation) + "_" + toString(param.param.loss);
      for (int n : param.param.sizes) name += "_" + std::to_string(n);
      return name;
    });

// Forward passes of up to 16 rows run as register-tiled dot products, the rest as Eigen
// GEMMs: both against a double-precision forward computed entry by entry, on widths that
// leave partial tiles and k not a multiple of a packet; the same bits with 2 threads
// (split products, blocks of 16-aligned rows) as without a context.
TEST(Mlp, ForwardOfSmallAndLargeBatchesMatchesADoubleReference) {
  Rng rng(8);
  for (const std::vector<int>& sizes :
       {std::vector<int>{50, 19, 13, 3}, std::vector<int>{784, 1000, 10}}) {
    const Mlp mlp(MlpLayout(sizes), Activation::kRelu, LossKind::kCrossEntropy);
    const MlpLayout& layout = mlp.layout();
    const Vector w = testing::randomParams(layout, 3, 0.1f);
    for (int batch : {1, 2, 3, 5, 16, 17}) {
      RowMatrix x(batch, sizes.front());
      for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(uniform01(rng));
      Eigen::MatrixXd a = x.cast<double>();
      for (int l = 0; l < layout.numLayers(); ++l) {
        const Eigen::MatrixXd W = layout.weights(w.data(), l).cast<double>();
        const Eigen::VectorXd b = layout.bias(w.data(), l).cast<double>();
        Eigen::MatrixXd z = (a * W.transpose()).rowwise() + b.transpose();
        if (l + 1 < layout.numLayers()) z = z.cwiseMax(0.0);
        a = z;
      }
      MlpWorkspace ws;
      const RowMatrix z = mlp.forward(w.data(), x, ws);
      const std::string what = layout.toString() + ", batch " + std::to_string(batch);
      EXPECT_LT((z.cast<double>() - a).cwiseAbs().maxCoeff(), 1e-4 * (1.0 + a.cwiseAbs().maxCoeff()))
          << what;
      ParallelContext parallel(2);
      const RowMatrix z2 = mlp.forward(w.data(), x, ws, &parallel);
      EXPECT_TRUE((z.array() == z2.array()).all()) << what;
    }
  }
  EXPECT_GT(gemmBlockCount(16, 1000, 784), 1) << "the 16-row product of the large layer is split";
}

// The dense products of batches above 16 (Eigen's GEMM kernels with a depth block fixed
// by the depth alone): the gradient against a double-precision backward pass, and the
// same bits whole (no context) as split over 2 threads, for the gradient, the logits and
// the fused SGD step. Widths leave column blocks that end inside Eigen's micro-panels
// (1000 and 1100 are not multiples of 48) and a depth above 1024 (two depth blocks);
// batch 40 also runs the fused update kernel, 100 and 300 the GEMM update.
TEST(Mlp, DenseProductsMatchADoubleBackwardAndGiveTheSameBitsWholeOrSplit) {
  Rng rng(41);
  const Mlp mlp(MlpLayout({1100, 1000, 130, 10}), Activation::kRelu, LossKind::kCrossEntropy);
  const MlpLayout& layout = mlp.layout();
  const Vector w = mlp.initialParams(6);
  for (int batch : {40, 100, 300}) {
    RowMatrix x(batch, 1100);
    for (Eigen::Index i = 0; i < x.size(); ++i)
      x.data()[i] = static_cast<float>(standardNormal(rng));
    std::vector<std::uint8_t> y(static_cast<std::size_t>(batch));
    for (auto& label : y) label = static_cast<std::uint8_t>(uniformIndex(rng, 10));
    const float scale = 1.0f / static_cast<float>(batch);
    const std::string what = "batch " + std::to_string(batch);

    // Double-precision reference: forward, softmax - onehot, backward.
    std::vector<RowMatrixD> acts{x.cast<double>()};
    for (int l = 0; l < layout.numLayers(); ++l) {
      RowMatrixD z = acts.back() * layout.weights(w.data(), l).cast<double>().transpose();
      z.rowwise() += layout.bias(w.data(), l).cast<double>().transpose();
      if (l + 1 < layout.numLayers()) z = z.cwiseMax(0.0);
      acts.push_back(z);
    }
    RowMatrixD delta = acts.back();
    for (Eigen::Index i = 0; i < delta.rows(); ++i) {
      delta.row(i) = (delta.row(i).array() - delta.row(i).maxCoeff()).exp();
      delta.row(i) /= delta.row(i).sum();
      delta(i, y[static_cast<std::size_t>(i)]) -= 1.0;
    }
    delta *= scale;
    Eigen::VectorXd expected(w.size());
    for (int l = layout.numLayers() - 1; l >= 0; --l) {
      const LayerSlice& s = layout.layer(l);
      Eigen::Map<RowMatrixD>(expected.data() + s.wOffset, s.out, s.in) =
          delta.transpose() * acts[static_cast<std::size_t>(l)];
      expected.segment(s.bOffset, s.out) = delta.colwise().sum().transpose();
      if (l == 0) break;
      delta = (delta * layout.weights(w.data(), l).cast<double>()).array() *
              (acts[static_cast<std::size_t>(l)].array() > 0.0).cast<double>();
    }

    MlpWorkspace ws;
    Vector whole(w.size());
    const LossStats a = mlp.lossAndGradient(w.data(), x, y, whole.data(), scale, ws, nullptr,
                                            GradientMode::kOverwrite);
    EXPECT_LT((whole.cast<double>() - expected).cwiseAbs().maxCoeff(),
              2e-4 * expected.cwiseAbs().maxCoeff())
        << what;
    ParallelContext parallel(2);
    Vector split(w.size());
    const LossStats b = mlp.lossAndGradient(w.data(), x, y, split.data(), scale, ws, &parallel,
                                            GradientMode::kOverwrite);
    EXPECT_EQ(a.lossSum, b.lossSum) << what;
    EXPECT_TRUE((whole.array() == split.array()).all()) << what << ", gradient";
    const RowMatrix logits = mlp.forward(w.data(), x, ws);
    EXPECT_TRUE((logits.array() == mlp.forward(w.data(), x, ws, &parallel).array()).all()) << what;

    std::atomic<bool> finite{true};
    FusedSgd sgd;
    sgd.lr = 0.1f;
    sgd.decay = 1.0f;
    sgd.finite = &finite;
    Vector nextWhole = w;
    Vector nextSplit = w;
    sgd.next = nextWhole.data();
    mlp.lossAndSgdUpdate(nextWhole.data(), x, y, scale, sgd, ws, nullptr);
    sgd.next = nextSplit.data();
    mlp.lossAndSgdUpdate(nextSplit.data(), x, y, scale, sgd, ws, &parallel);
    EXPECT_TRUE(finite.load()) << what;
    EXPECT_TRUE((nextWhole.array() == nextSplit.array()).all()) << what << ", SGD step";
    EXPECT_LT((nextWhole - (w - 0.1f * whole)).cwiseAbs().maxCoeff(), 1e-6f) << what;
  }
  // On 2 threads these products are cut into column blocks (their larger dimension).
  EXPECT_GT(gemmBlockCount(40, 1000, 1100), 1) << "forward of the first layer";
  EXPECT_GT(gemmBlockCount(100, 1000, 130), 1) << "input gradient of the second layer";
  EXPECT_GT(gemmBlockCount(1000, 1100, 300), 1) << "weight gradient of the first layer";
}

TEST(Mlp, ForwardMatchesHandComputedValues) {
  // 2-2-2 network, ReLU. W1 = [[1, -1], [0.5, 2]], b1 = [0, -1];
  // W2 = [[1, 1], [-1, 0.5]], b2 = [0.25, 0].
  const Mlp mlp(MlpLayout({2, 2, 2}), Activation::kRelu, LossKind::kCrossEntropy);
  Vector w(12);
  w << 1, -1, 0.5, 2, 0, -1, 1, 1, -1, 0.5, 0.25, 0;
  RowMatrix x(2, 2);
  x << 1, 2,  // h = relu([1-2, 0.5+4-1]) = [0, 3.5]; z = [3.5+0.25, 1.75] = [3.75, 1.75]
      3, 1;   // h = relu([2, 1.5+2-1]) = [2, 2.5];   z = [4.5+0.25, -2+1.25] = [4.75, -0.75]
  MlpWorkspace ws;
  const RowMatrix z = mlp.forward(w.data(), x, ws);
  RowMatrix expected(2, 2);
  expected << 3.75, 1.75, 4.75, -0.75;
  EXPECT_EIGEN_NEAR(z, expected, kForwardTol);

  // CE of row 0 with label 1: log(1 + e^2) = 2.126928; row 1 label 0: log(1 + e^-5.5).
  const std::vector<std::uint8_t> y = {1, 0};
  const LossStats st = mlp.lossOfLogits(z, y);
  EXPECT_NEAR(st.lossSum, std::log1p(std::exp(2.0)) + std::log1p(std::exp(-5.5)), 1e-6);
  EXPECT_EQ(st.correct, 1);

  const Mlp tanhMlp(MlpLayout({2, 2, 2}), Activation::kTanh, LossKind::kMse);
  const RowMatrix zt = tanhMlp.forward(w.data(), x.topRows(1), ws);
  // h = tanh([-1, 3.5]); z0 = h0 + h1 + 0.25; z1 = -h0 + 0.5 h1.
  const double h0 = std::tanh(-1.0), h1 = std::tanh(3.5);
  EXPECT_NEAR(zt(0, 0), h0 + h1 + 0.25, kForwardTol);
  EXPECT_NEAR(zt(0, 1), -h0 + 0.5 * h1, kForwardTol);
  // MSE with label 0: 0.5 * ((z0 - 1)^2 + z1^2).
  const std::vector<std::uint8_t> y0 = {0};
  const double mse = 0.5 * (std::pow(h0 + h1 + 0.25 - 1, 2) + std::pow(-h0 + 0.5 * h1, 2));
  EXPECT_NEAR(tanhMlp.lossOfLogits(zt, y0).lossSum, mse, 1e-6);
}

TEST(Mlp, InitialisationFollowsHeAndGlorotScales) {
  const Mlp relu(MlpLayout({400, 300, 10}), Activation::kRelu, LossKind::kCrossEntropy);
  const Vector w = relu.initialParams(11);
  const ConstRowMatrixMap W1 = relu.layout().weights(w.data(), 0);
  const double var = W1.cast<double>().array().square().mean();
  EXPECT_NEAR(var, 2.0 / 400.0, 0.05 * 2.0 / 400.0);
  EXPECT_EQ(relu.layout().bias(w.data(), 0).cwiseAbs().maxCoeff(), 0.0f);

  const Mlp tanhNet(MlpLayout({400, 300, 10}), Activation::kTanh, LossKind::kCrossEntropy);
  const Vector wt = tanhNet.initialParams(11);
  const double a = std::sqrt(6.0 / 700.0);
  const ConstRowMatrixMap T1 = tanhNet.layout().weights(wt.data(), 0);
  EXPECT_LE(T1.cwiseAbs().maxCoeff(), a);
  EXPECT_NEAR(T1.cast<double>().array().square().mean(), a * a / 3.0, 0.05 * a * a / 3.0);
  EXPECT_EQ(relu.initialParams(11), w) << "same seed, same weights";
  EXPECT_NE(relu.initialParams(12), w);
}

TEST(MlpLayout, OffsetsFollowTorchParameterOrder) {
  const MlpLayout lay({784, 256, 256, 10});
  EXPECT_EQ(lay.numLayers(), 3);
  EXPECT_EQ(lay.layer(0).wOffset, 0u);
  EXPECT_EQ(lay.layer(0).bOffset, 784u * 256u);
  EXPECT_EQ(lay.layer(1).wOffset, 784u * 256u + 256u);
  EXPECT_EQ(lay.layer(2).bOffset, 784u * 256u + 256u + 256u * 256u + 256u + 256u * 10u);
  EXPECT_EQ(lay.paramCount(), 784u * 256u + 256u + 256u * 256u + 256u + 2560u + 10u);
  EXPECT_EQ(lay.toString(), "784-256-256-10");
}

TEST(MlpLayout, ParsingRejectsBadEntriesWithTheirText) {
  EXPECT_EQ(*parseLayerSizes("784,128,10"), (std::vector<int>{784, 128, 10}));
  EXPECT_EQ(*parseLayerSizes("784-128-10"), (std::vector<int>{784, 128, 10}));
  EXPECT_EQ(*parseHiddenSizes(" 256, 256 "), (std::vector<int>{256, 256}));
  EXPECT_TRUE(parseHiddenSizes("")->empty());
  auto bad = parseHiddenSizes("128,x");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("\"x\""), std::string::npos) << bad.message();
  EXPECT_FALSE(parseHiddenSizes("128,,10"));
  EXPECT_FALSE(parseHiddenSizes("0"));
  EXPECT_FALSE(MlpLayout::fromSizes({784}));
}

}  // namespace
}  // namespace driftscope

namespace driftscope {
namespace {

// The fused SGD update against its definition: next = decay * w - lr * gradient, for one
// sample (outer-product path), small batches (the one-pass register-tiled kernel, up to 16
// with the input gradient in the same pass, on layers whose widths leave partial tiles,
// single packets and scalar columns, and a hidden layer with more rows than columns) and a
// batch of 100 (Eigen's GEMM), split products on 2 threads; the update in place gives the
// same bits; a non-finite weight is flagged wherever it sits (inside a tile, or in the
// scalar tail of the last row).
TEST(Mlp, FusedSgdUpdateEqualsGradientStepAndFlagsNonFiniteWeights) {
  Rng rng(21);
  for (const std::vector<int>& sizes : {std::vector<int>{784, 96, 80, 10},
                                        std::vector<int>{50, 19, 13, 3},
                                        std::vector<int>{30, 13, 40, 3}}) {
    const Mlp mlp(MlpLayout(sizes), Activation::kTanh, LossKind::kCrossEntropy);
    const Vector w = mlp.initialParams(5);
    for (int batch : {1, 2, 5, 16, 32, 64, 100}) {
      RowMatrix x(batch, sizes.front());
      std::vector<std::uint8_t> y(static_cast<std::size_t>(batch));
      for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(uniform01(rng));
      for (auto& label : y) label = static_cast<std::uint8_t>(uniformIndex(rng, sizes.back()));
      const float scale = 1.0f / static_cast<float>(batch);
      Vector grad = Vector::Constant(w.size(), 123.0f);  // overwritten, not added to
      MlpWorkspace ws;
      ParallelContext parallel(2);
      const LossStats plain = mlp.lossAndGradient(w.data(), x, y, grad.data(), scale, ws,
                                                  &parallel, GradientMode::kOverwrite);
      std::atomic<bool> finite{true};
      Vector next = Vector::Constant(w.size(), std::nanf(""));  // every entry must be written
      FusedSgd sgd;
      sgd.lr = 0.5f;
      sgd.decay = 0.99f;
      sgd.next = next.data();
      sgd.finite = &finite;
      const LossStats fused = mlp.lossAndSgdUpdate(w.data(), x, y, scale, sgd, ws, &parallel);
      const std::string what = mlp.layout().toString() + ", batch " + std::to_string(batch);
      EXPECT_EQ(fused.lossSum, plain.lossSum) << what;
      EXPECT_TRUE(finite.load()) << what;
      const Vector expected = 0.99f * w - 0.5f * grad;
      EXPECT_LT((next - expected).cwiseAbs().maxCoeff(), 1e-5f) << what;
      Vector inPlace = w;
      sgd.next = inPlace.data();
      mlp.lossAndSgdUpdate(inPlace.data(), x, y, scale, sgd, ws, &parallel);
      EXPECT_TRUE((inPlace.array() == next.array()).all()) << what << ", in place";
      sgd.next = next.data();

      const std::size_t lastOfFirstLayer =
          static_cast<std::size_t>(sizes[0]) * static_cast<std::size_t>(sizes[1]) - 1;
      for (std::size_t at : {std::size_t{7}, lastOfFirstLayer}) {
        Vector broken = w;
        broken[static_cast<Eigen::Index>(at)] = std::numeric_limits<float>::infinity();
        finite.store(true);
        mlp.lossAndSgdUpdate(broken.data(), x, y, scale, sgd, ws, &parallel);
        EXPECT_FALSE(finite.load()) << what << ", infinite weight " << at;
      }
    }
  }
}

// Networks whose first layers leave partial tiles of the sparse kernels (13, 40, 96 and
// 232 units with 16 floats a packet; 30 inputs); 232 units take the sparse update's passes
// of 8, 4 and 2 packets on one thread, blocks of 48 and 40 units on two.
const std::vector<std::vector<int>> kTileShapes = {
    {784, 96, 80, 10}, {30, 13, 40, 3}, {100, 40, 5}, {784, 232, 10}};

// An MNIST-like batch: every entry `background`, except a fraction `offBackground` (in
// expectation) at background + U(0, 1).
RowMatrix backgroundBatch(Rng& rng, int rows, int inputs, float background, double offBackground) {
  RowMatrix x = RowMatrix::Constant(rows, inputs, background);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if (uniform01(rng) < offBackground)
      x.data()[i] = background + static_cast<float>(uniform01(rng));
  }
  return x;
}

std::vector<std::uint8_t> randomLabels(Rng& rng, int rows, int classes) {
  std::vector<std::uint8_t> y(static_cast<std::size_t>(rows));
  for (auto& label : y) label = static_cast<std::uint8_t>(uniformIndex(rng, classes));
  return y;
}

// One fused SGD step on the batch's mean loss from `from` into `to` (may be the same
// buffer); whether every new weight is finite.
bool fusedSgdStep(const Mlp& mlp, const RowMatrix& x, const std::vector<std::uint8_t>& y, float lr,
                  float decay, MlpWorkspace& ws, ParallelContext* threads, const float* from,
                  float* to) {
  std::atomic<bool> finite{true};
  FusedSgd sgd;
  sgd.lr = lr;
  sgd.decay = decay;
  sgd.next = to;
  sgd.finite = &finite;
  mlp.lossAndSgdUpdate(from, x, y, 1.0f / static_cast<float>(x.rows()), sgd, ws, threads);
  return finite.load();
}

// The same weights trained side by side: `a` on a workspace without keepTiles, `b` on one
// with it (the Trainer's).
struct KeptAndFresh {
  explicit KeptAndFresh(const Vector& w0) : a(w0), b(w0), aOut(w0.size()), bOut(w0.size()) {
    kept.keepTiles = true;
  }
  // One step of both through step(workspace, from, to): in place, or out of place and on
  // from the new buffers; succeeds when both steps do and give the same bits.
  template <typename Step>
  ::testing::AssertionResult step(const Step& f, bool inPlace = true) {
    Vector& aTo = inPlace ? a : aOut;
    Vector& bTo = inPlace ? b : bOut;
    if (!f(fresh, a.data(), aTo.data())) return ::testing::AssertionFailure() << "fresh step";
    if (!f(kept, b.data(), bTo.data())) return ::testing::AssertionFailure() << "kept step";
    if (!inPlace) {
      a = aOut;
      std::swap(b, bOut);
    }
    if (!(a.array() == b.array()).all()) {
      return ::testing::AssertionFailure() << "kept and fresh workspaces differ";
    }
    return ::testing::AssertionSuccess();
  }
  MlpWorkspace fresh;
  MlpWorkspace kept;
  Vector a;  // trained with `fresh`
  Vector b;  // with `kept`
  Vector aOut;
  Vector bOut;
};

// MNIST-like batches (most entries one background value: 0, or a negative constant once
// standardized) run the first layer over the other entries only. Against the dense
// kernels of the same Mlp (the workspace switches): the forward within float rounding, the
// fused update bit for bit where the dense path is the one-pass kernel (batches up to 64),
// the background is 0 (the zero terms left out add +-0) and the build has FMA
// (kPacketFma), else within rounding; both together against the sparse forward product
// with the dense update by the same rule; the
// same bits on 2 threads as on one and in place as out of place; an infinite first-layer
// weight still flagged. Widths leave partial tiles (13, 40, 96 and 232 units; 30 inputs).
TEST(Mlp, SparseInputKernelsMatchTheDenseOnes) {
  Rng rng(31);
  for (const std::vector<int>& sizes : kTileShapes) {
    const Mlp mlp(MlpLayout(sizes), Activation::kRelu, LossKind::kCrossEntropy);
    const MlpLayout& layout = mlp.layout();
    const Vector w = mlp.initialParams(9);
    for (const float background : {0.0f, -0.4242f}) {
      for (int batch : {63, 64, 100, 256}) {
        const RowMatrix x = backgroundBatch(rng, batch, sizes.front(), background, 0.2);
        const std::vector<std::uint8_t> y = randomLabels(rng, batch, sizes.back());
        const std::string what = layout.toString() + ", batch " + std::to_string(batch) +
                                 ", background " + std::to_string(background);
        ParallelContext parallel(2);

        MlpWorkspace dense;
        dense.sparseForward = false;
        dense.sparseUpdate = false;
        MlpWorkspace sparse;
        const RowMatrix zDense = mlp.forward(w.data(), x, dense);
        const RowMatrix zSparse = mlp.forward(w.data(), x, sparse);
        EXPECT_FALSE(dense.sparse.describes(x)) << what;
        ASSERT_EQ(sparse.sparse.describes(x), batch >= 64) << what;
        {  // a dense batch keeps the dense kernels
          MlpWorkspace ws;
          RowMatrix full(x.rows(), x.cols());  // no value repeats: no background
          for (Eigen::Index i = 0; i < full.size(); ++i) {
            full.data()[i] = 1.0f + static_cast<float>(uniform01(rng));
          }
          mlp.forward(w.data(), full, ws);
          EXPECT_FALSE(ws.sparse.describes(full)) << what << ", dense batch";
        }
        EXPECT_LT((zSparse - zDense).cwiseAbs().maxCoeff(),
                  2e-5f * (1.0f + zDense.cwiseAbs().maxCoeff()))
            << what;
        EXPECT_TRUE((mlp.forward(w.data(), x, sparse, &parallel).array() == zSparse.array()).all())
            << what << ", 2 threads";

        auto step = [&](MlpWorkspace& ws, ParallelContext* threads, const float* from, float* to) {
          return fusedSgdStep(mlp, x, y, 0.5f, 0.99f, ws, threads, from, to);
        };
        Vector nextDense = Vector::Constant(w.size(), std::nanf(""));
        ASSERT_TRUE(step(dense, &parallel, w.data(), nextDense.data())) << what;
        // The sparse update alone, from the same (dense) forward pass and deltas.
        MlpWorkspace updateOnly;
        updateOnly.sparseForward = false;
        Vector nextUpdateOnly = Vector::Constant(w.size(), std::nanf(""));
        ASSERT_TRUE(step(updateOnly, &parallel, w.data(), nextUpdateOnly.data())) << what;
        if (batch <= 64 && background == 0.0f && kPacketFma) {
          EXPECT_TRUE((nextUpdateOnly.array() == nextDense.array()).all()) << what;
        } else {
          EXPECT_LT((nextUpdateOnly - nextDense).cwiseAbs().maxCoeff(), 1e-6f) << what;
        }
        // Both sparse kernels: one step, against the sparse forward product with the dense
        // update (the same deltas, so the same rule as above; against the dense step the
        // result would turn on rounding at ReLU kinks: here one pre-activation of 784-232-10
        // lies 2e-7 from 0, and the forward products' rounding switches its unit on or off);
        // thread counts; in place.
        MlpWorkspace forwardOnly;
        forwardOnly.sparseUpdate = false;
        Vector nextForwardOnly = Vector::Constant(w.size(), std::nanf(""));
        ASSERT_TRUE(step(forwardOnly, &parallel, w.data(), nextForwardOnly.data())) << what;
        Vector next = Vector::Constant(w.size(), std::nanf(""));
        ASSERT_TRUE(step(sparse, nullptr, w.data(), next.data())) << what;
        if (batch <= 64 && background == 0.0f && kPacketFma) {
          EXPECT_TRUE((next.array() == nextForwardOnly.array()).all()) << what;
        } else {
          EXPECT_LT((next - nextForwardOnly).cwiseAbs().maxCoeff(), 1e-6f) << what;
        }
        Vector next2 = Vector::Constant(w.size(), std::nanf(""));
        ASSERT_TRUE(step(sparse, &parallel, w.data(), next2.data())) << what;
        EXPECT_TRUE((next2.array() == next.array()).all()) << what << ", 2 threads";
        Vector inPlace = w;
        ASSERT_TRUE(step(sparse, &parallel, inPlace.data(), inPlace.data())) << what;
        EXPECT_TRUE((inPlace.array() == next.array()).all()) << what << ", in place";

        Vector broken = w;
        broken[static_cast<Eigen::Index>(layout.layer(0).out * layout.layer(0).in - 1)] =
            std::numeric_limits<float>::infinity();
        EXPECT_FALSE(step(sparse, &parallel, broken.data(), next.data()))
            << what << ", infinite weight";
      }
    }
  }
}

// A workspace with keepTiles (the Trainer's) starts each step's first-layer product from
// the transposed weights the last update left instead of transposing them again. Over a
// run of in-place and out-of-place steps on 1 and 2 threads (the 784-input layer splits
// into 2 blocks), with an evaluation of other weights on the same workspace and an
// in-place step on a dense batch (dense kernels: the tiles go stale) in between, it gives
// the same bits as a workspace without it; first layers of 96, 13, 40 and 232 units (with
// 16 floats a packet: whole tiles only, one partial tile, two whole and one partial,
// fourteen whole and one partial; 13 leaves a partial tile with any packet size). Weights written
// behind the workspace's back are caught by the check every reuse makes in builds with assertions;
// forgetTiles() makes such a write safe.
TEST(Mlp, KeptFirstLayerTilesGiveTheSameSteps) {
  Rng rng(47);
  for (const std::vector<int>& sizes : kTileShapes) {
    const Mlp mlp(MlpLayout(sizes), Activation::kRelu, LossKind::kCrossEntropy);
    const Vector w0 = mlp.initialParams(5);
    const Vector other = mlp.initialParams(6);
    for (const float background : {0.0f, -0.4242f}) {
      const int batch = sizes.front() == 784 ? 256 : 64;
      std::vector<RowMatrix> xs;
      std::vector<std::vector<std::uint8_t>> ys;
      for (int k = 0; k < 7; ++k) {  // 6 sparse batches, then a dense one (60% off c)
        xs.push_back(backgroundBatch(rng, batch, sizes.front(), background, k < 6 ? 0.2 : 0.6));
        ys.push_back(randomLabels(rng, batch, sizes.back()));
      }
      const std::string what =
          mlp.layout().toString() + ", background " + std::to_string(background);
      ParallelContext parallel(2);
      auto stepOn = [&](int k) {  // batch k, on 2 threads for odd k
        return [&, k](MlpWorkspace& ws, const float* from, float* to) {
          const auto at = static_cast<std::size_t>(k);
          return fusedSgdStep(mlp, xs[at], ys[at], 0.1f, 1.0f, ws, k % 2 == 0 ? nullptr : &parallel,
                              from, to);
        };
      };
      KeptAndFresh run(w0);
      for (int k = 0; k < 6; ++k) {
        ASSERT_TRUE(run.step(stepOn(k), /*inPlace=*/k != 3)) << what << ", step " << k;
        ASSERT_TRUE(run.kept.sparse.describes(xs[static_cast<std::size_t>(k)])) << what;
        EXPECT_EQ(run.kept.sparse.tilesOf, run.b.data()) << what << ", step " << k;  // kept
        if (k == 1) mlp.forward(other.data(), xs[0], run.kept);  // the tiles now hold `other`
        if (k == 2) {  // the dense kernels, in place: the kept tiles no longer match
          ASSERT_TRUE(run.step(stepOn(6))) << what << ", dense step";
          ASSERT_FALSE(run.kept.sparse.describes(xs[6])) << what << ": a dense batch";
        }
      }
      // Written behind the workspace's back: forgetTiles() first keeps the steps right.
      run.a[0] += 0.25f;
      run.b[0] += 0.25f;
      run.kept.forgetTiles();
      EXPECT_TRUE(run.step(stepOn(0))) << what << ", after forgetTiles";
#ifndef NDEBUG
      // Without it, the next reuse stops the program (where it reuses: whole tiles only).
      if (sizes[1] >= 16) {
        run.b[0] += 0.25f;
        GTEST_FLAG_SET(death_test_style, "threadsafe");
        EXPECT_DEATH(stepOn(1)(run.kept, run.b.data(), run.b.data()),
                     "nothing but lossAndSgdUpdate")
            << what;
      }
#endif
    }
  }
}

// With keepTiles, the fused update of batches 17-64 also writes the new weights of the
// layers after the first packed the way the input-gradient product reads them
// (PackedWeights), and the next step's product starts from them. Over steps of batches
// 64, 40 and 33, 16 (the input gradient fused: none read or written) and 100 (Eigen's
// update: none written), in place and out of place (one reading packed weights, one
// written without them), on 1 and 2 threads, the same bits as a workspace without
// keepTiles. Packed: layers of 400 x 1,024 (2 blocks on 2 threads), 400 x 656 and
// 1,100 x 272 (1,100 units: two depth blocks); with AVX-512 (mr = 48) their last panels
// are 16, 32 and 32 inputs wide. Not packed: 13 inputs (not whole packets), the small
// output layers. Weights written behind the workspace's back are caught by the check of
// every reuse in builds with assertions; forgetTiles() makes such a write safe.
TEST(Mlp, PackedWeightsGiveTheSameSteps) {
  Rng rng(53);
  const std::vector<std::vector<int>> shapes = {
      {40, 1024, 400, 10}, {20, 656, 400, 7}, {24, 272, 1100, 5}, {30, 13, 40, 3}};
  EXPECT_TRUE(packsWeights(400, 1024));
  EXPECT_TRUE(packsWeights(400, 656));
  EXPECT_TRUE(packsWeights(1100, 272));
  EXPECT_FALSE(packsWeights(10, 400));
  EXPECT_FALSE(packsWeights(256, 256));
  const std::vector<int> batches = {64, 40, 64, 16, 64, 100, 64, 33};
  const std::vector<std::size_t> outOfPlace = {2, 5};  // after a packing step; a non-packing one
  for (const std::vector<int>& sizes : shapes) {
    const Mlp mlp(MlpLayout(sizes), Activation::kRelu, LossKind::kCrossEntropy);
    const MlpLayout& layout = mlp.layout();
    const Vector w0 = mlp.initialParams(3);
    ParallelContext parallel(2);
    RowMatrix x;
    std::vector<std::uint8_t> y;
    ParallelContext* threads = nullptr;
    auto step = [&](MlpWorkspace& ws, const float* from, float* to) {
      return fusedSgdStep(mlp, x, y, 0.2f, 0.999f, ws, threads, from, to);
    };
    KeptAndFresh run(w0);
    for (std::size_t k = 0; k < batches.size(); ++k) {
      const int batch = batches[k];
      const std::string what = layout.toString() + ", step " + std::to_string(k) + ", batch " +
                               std::to_string(batch);
      x = backgroundBatch(rng, batch, sizes.front(), 0.0f, 1.0);  // dense: no sparse layer
      y = randomLabels(rng, batch, sizes.back());
      threads = k % 2 == 0 ? nullptr : &parallel;
      const bool inPlace = std::find(outOfPlace.begin(), outOfPlace.end(), k) == outOfPlace.end();
      ASSERT_TRUE(run.step(step, inPlace)) << what;
      ASSERT_EQ(run.kept.packedWeights.size(), sizes.size() - 1) << what;
      for (int l = 1; l < layout.numLayers(); ++l) {
        const bool packed =
            batch > 16 && batch <= 64 && packsWeights(layout.layer(l).out, layout.layer(l).in);
        const float* of = run.kept.packedWeights[static_cast<std::size_t>(l)].of;
        if (packed) {
          EXPECT_EQ(of, layout.weights(run.b.data(), l).data()) << what << ", layer " << l;
        } else {
          EXPECT_NE(of, layout.weights(run.b.data(), l).data()) << what << ", layer " << l;
        }
      }
      EXPECT_EQ(run.kept.packedWeights[0].of, nullptr) << what;
    }
    // Written behind the workspace's back: forgetTiles() first keeps the steps right.
    x = backgroundBatch(rng, 64, sizes.front(), 0.0f, 1.0);
    y = randomLabels(rng, 64, sizes.back());
    threads = nullptr;
    const auto second = static_cast<Eigen::Index>(layout.layer(1).wOffset);  // layer 1's W
    run.a[second + 1] += 0.25f;
    run.b[second + 1] += 0.25f;
    run.kept.forgetTiles();
    EXPECT_TRUE(run.step(step)) << layout.toString() << ", after forgetTiles";
#ifndef NDEBUG
    // Without it, the next reuse stops the program.
    if (packsWeights(sizes[2], sizes[1])) {
      run.b[second + sizes[1]] += 0.25f;
      GTEST_FLAG_SET(death_test_style, "threadsafe");
      EXPECT_DEATH(step(run.kept, run.b.data(), run.b.data()), "nothing but lossAndSgdUpdate")
          << layout.toString();
    }
#endif
  }
}

}  // namespace
}  // namespace driftscope
