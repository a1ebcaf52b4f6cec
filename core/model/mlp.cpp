#include "core/model/mlp.h"

#include <cmath>

#include "core/random.h"

namespace driftscope {

std::string toString(Activation a) { return a == Activation::kRelu ? "relu" : "tanh"; }
std::string toString(LossKind k) { return k == LossKind::kCrossEntropy ? "ce" : "mse"; }

Result<Activation> parseActivation(const std::string& text) {
  if (text == "relu") return Activation::kRelu;
  if (text == "tanh") return Activation::kTanh;
  return Status::error("activation: \"" + text + "\" is not one of relu, tanh");
}

Result<LossKind> parseLoss(const std::string& text) {
  if (text == "ce" || text == "cross-entropy") return LossKind::kCrossEntropy;
  if (text == "mse") return LossKind::kMse;
  return Status::error("loss: \"" + text + "\" is not one of ce, mse");
}

Vector Mlp::initialParams(std::uint64_t seed) const {
  Vector w = Vector::Zero(static_cast<Eigen::Index>(m_layout.paramCount()));
  Rng rng(deriveSeed(seed, /*stream=*/0));
  for (int l = 0; l < m_layout.numLayers(); ++l) {
    RowMatrixMap W = m_layout.weights(w.data(), l);
    const double in = W.cols();
    const double out = W.rows();
    if (m_activation == Activation::kRelu) {
      // He et al. 2015: N(0, 2 / fan_in).
      const double sd = std::sqrt(2.0 / in);
      for (Eigen::Index i = 0; i < W.size(); ++i) {
        W.data()[i] = static_cast<float>(sd * standardNormal(rng));
      }
    } else {
      // Glorot & Bengio 2010: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
      const double a = std::sqrt(6.0 / (in + out));
      for (Eigen::Index i = 0; i < W.size(); ++i) {
        W.data()[i] = static_cast<float>(a * (2.0 * uniform01(rng) - 1.0));
      }
    }
  }
  return w;
}

RowMatrix softmaxRows(const RowMatrix& logits) {
  RowMatrix p(logits.rows(), logits.cols());
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    const double m = logits.row(i).maxCoeff();
    double sum = 0.0;
    for (Eigen::Index k = 0; k < logits.cols(); ++k) sum += std::exp(logits(i, k) - m);
    for (Eigen::Index k = 0; k < logits.cols(); ++k) {
      p(i, k) = static_cast<float>(std::exp(logits(i, k) - m) / sum);
    }
  }
  return p;
}

namespace {

void applyActivation(Activation a, RowMatrix& z) {
  if (a == Activation::kRelu) {
    z = z.cwiseMax(0.0f);
  } else {
    z = z.array().tanh();
  }
}

}  // namespace

RowMatrix Mlp::forward(const float* params, const Eigen::Ref<const RowMatrix>& x,
                       MlpWorkspace& ws) const {
  const int L = m_layout.numLayers();
  ws.activations.resize(static_cast<std::size_t>(L));
  for (int l = 0; l < L; ++l) {
    const ConstRowMatrixMap W = m_layout.weights(params, l);
    const ConstVectorMap b = m_layout.bias(params, l);
    RowMatrix& z = ws.activations[static_cast<std::size_t>(l)];
    if (l == 0) {
      z.noalias() = x * W.transpose();
    } else {
      z.noalias() = ws.activations[static_cast<std::size_t>(l - 1)] * W.transpose();
    }
    z.rowwise() += b.transpose();
    if (l + 1 < L) applyActivation(m_activation, z);
  }
  return ws.activations.back();
}

LossStats Mlp::lossOfLogits(const RowMatrix& logits, std::span<const std::uint8_t> labels) const {
  LossStats s;
  s.count = static_cast<int>(logits.rows());
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    const int y = labels[static_cast<std::size_t>(i)];
    Eigen::Index argmax = 0;
    const double m = logits.row(i).maxCoeff(&argmax);
    if (argmax == y) ++s.correct;
    if (m_loss == LossKind::kCrossEntropy) {
      double sum = 0.0;
      for (Eigen::Index k = 0; k < logits.cols(); ++k) sum += std::exp(logits(i, k) - m);
      s.lossSum += m + std::log(sum) - logits(i, y);
    } else {
      double sq = 0.0;
      for (Eigen::Index k = 0; k < logits.cols(); ++k) {
        const double t = (k == y) ? 1.0 : 0.0;
        const double d = logits(i, k) - t;
        sq += d * d;
      }
      s.lossSum += 0.5 * sq;
    }
  }
  return s;
}

LossStats Mlp::evaluate(const float* params, const Eigen::Ref<const RowMatrix>& x,
                        std::span<const std::uint8_t> labels, MlpWorkspace& ws) const {
  return lossOfLogits(forward(params, x, ws), labels);
}

LossStats Mlp::lossAndGradient(const float* params, const Eigen::Ref<const RowMatrix>& x,
                               std::span<const std::uint8_t> labels, float* grad, float scale,
                               MlpWorkspace& ws) const {
  const int L = m_layout.numLayers();
  forward(params, x, ws);
  const RowMatrix& logits = ws.activations.back();
  const LossStats stats = lossOfLogits(logits, labels);

  ws.deltas.resize(2);
  RowMatrix& delta = ws.deltas[0];
  RowMatrix& next = ws.deltas[1];
  // dLoss/dz of the summed loss: CE: softmax(z) - onehot; MSE: z - onehot.
  if (m_loss == LossKind::kCrossEntropy) {
    delta = softmaxRows(logits);
  } else {
    delta = logits;
  }
  for (Eigen::Index i = 0; i < delta.rows(); ++i) {
    delta(i, labels[static_cast<std::size_t>(i)]) -= 1.0f;
  }
  delta *= scale;

  for (int l = L - 1; l >= 0; --l) {
    RowMatrixMap gW = m_layout.weights(grad, l);
    VectorMap gb = m_layout.bias(grad, l);
    if (l == 0) {
      gW.noalias() += delta.transpose() * x;
    } else {
      gW.noalias() += delta.transpose() * ws.activations[static_cast<std::size_t>(l - 1)];
    }
    gb.noalias() += delta.colwise().sum().transpose();
    if (l == 0) break;
    const ConstRowMatrixMap W = m_layout.weights(params, l);
    next.noalias() = delta * W;
    const RowMatrix& a = ws.activations[static_cast<std::size_t>(l - 1)];
    if (m_activation == Activation::kRelu) {
      next = (a.array() > 0.0f).select(next, 0.0f);
    } else {
      next.array() *= 1.0f - a.array().square();
    }
    std::swap(delta, next);
  }
  return stats;
}

}  // namespace driftscope
