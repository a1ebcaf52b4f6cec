// Eigen aliases used across Driftscope. One place, so every module agrees on
// storage order: weight matrices are row-major [out, in] like torch.nn.Linear.weight,
// data batches are row-major [samples, features].
#pragma once

#include <Eigen/Core>

namespace driftscope {

using Vector = Eigen::VectorXf;
using VectorD = Eigen::VectorXd;
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixD = Eigen::MatrixXd;

using VectorMap = Eigen::Map<Vector>;
using ConstVectorMap = Eigen::Map<const Vector>;
using RowMatrixMap = Eigen::Map<RowMatrix>;
using ConstRowMatrixMap = Eigen::Map<const RowMatrix>;

}  // namespace driftscope
