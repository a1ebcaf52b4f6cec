// The GEMM limit of training: the matrix products of ONE SGD step of an MLP, timed alone,
// so every training figure can be read as a fraction of what this machine's SGEMM reaches
// at exactly those shapes (issue 6, "The limit").
//
// Per layer l (in -> out, batch B, row-major as in core/model/mlp.cpp):
//   forward        Z[B, out]   = A[B, in] * W[out, in]^T
//   weight grad    gW[out, in] += D[B, out]^T * A[B, in]
//   input grad     D'[B, in]   = D[B, out] * W[out, in]        (not for the first layer)
// 2·B·in·out FLOPs each; the bias terms, activations and loss are left out. The sum over
// layers is ~6·P·B FLOPs, the count BM_TrainEpoch uses, so `samples/s` here is the rate
// training would reach if it did nothing but these GEMMs at this speed.
//
//  BM_StepGemms/<shape>/batch:<B>/impl:0   Eigen 3.4 (single thread, -march=native) with
//                                          its own blocking; the trainer runs the same
//                                          kernels with its own (gemmAccumulate in
//                                          core/model/mlp.cpp, session 8).
//  BM_StepGemms/<shape>/batch:<B>/impl:1   OpenBLAS sgemm_ (Debian's serial build,
//                                          linked by path), when built with
//                                          DRIFTSCOPE_BENCH_OPENBLAS.
//  BM_Sgemm/n:<n>/impl:<i>                 square n x n x n SGEMM: the machine's peak.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/eigen_types.h"
#include "core/model/mlp_layout.h"

#ifdef DRIFTSCOPE_BENCH_OPENBLAS
extern "C" {
// Fortran BLAS interface (column-major), as exported by every BLAS.
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc);
int openblas_get_parallel(void);  // 0: sequential build
}
#endif

namespace driftscope {
namespace {

enum Impl { kEigen = 0, kOpenBlas = 1 };

// C[M, N] (row-major) = alpha * op(A) * op(B) + beta * C with row-major operands. A
// row-major X is the column-major X^T, so C^T = op(B)^T op(A)^T is computed in BLAS terms.
void gemmRowMajor(Impl impl, bool transA, bool transB, int m, int n, int k, const float* a, int lda,
                  const float* b, int ldb, float beta, float* c, int ldc) {
#ifdef DRIFTSCOPE_BENCH_OPENBLAS
  if (impl == kOpenBlas) {
    const float alpha = 1.0f;
    const char ta = transA ? 'T' : 'N';
    const char tb = transB ? 'T' : 'N';
    sgemm_(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
    return;
  }
#endif
  using Stride = Eigen::OuterStride<>;
  using CMap = Eigen::Map<const RowMatrix, 0, Stride>;
  Eigen::Map<RowMatrix, 0, Stride> C(c, m, n, Stride(ldc));
  const CMap A(a, transA ? k : m, transA ? m : k, Stride(lda));
  const CMap B(b, transB ? n : k, transB ? k : n, Stride(ldb));
  if (beta == 0.0f) C.setZero();
  if (!transA && !transB) C.noalias() += A * B;
  if (!transA && transB) C.noalias() += A * B.transpose();
  if (transA && !transB) C.noalias() += A.transpose() * B;
  if (transA && transB) C.noalias() += A.transpose() * B.transpose();
}

struct LayerBuffers {
  int in = 0, out = 0;
  RowMatrix a, w, z, d, gw, dIn;
};

void stepGemms(benchmark::State& state, const MlpLayout& layout) {
  const int batch = static_cast<int>(state.range(0));
  const Impl impl = static_cast<Impl>(state.range(1));
#ifndef DRIFTSCOPE_BENCH_OPENBLAS
  if (impl == kOpenBlas) {
    state.SkipWithError("built without DRIFTSCOPE_BENCH_OPENBLAS");
    return;
  }
#endif
  std::vector<LayerBuffers> layers;
  double flops = 0.0;
  for (int l = 0; l < layout.numLayers(); ++l) {
    LayerBuffers b;
    b.in = layout.sizes()[static_cast<std::size_t>(l)];
    b.out = layout.sizes()[static_cast<std::size_t>(l) + 1];
    b.a = RowMatrix::Random(batch, b.in);
    b.w = RowMatrix::Random(b.out, b.in);
    b.z.resize(batch, b.out);
    b.d = RowMatrix::Random(batch, b.out);
    b.gw = RowMatrix::Zero(b.out, b.in);
    b.dIn.resize(batch, b.in);
    flops += (l == 0 ? 4.0 : 6.0) * batch * b.in * b.out;
    layers.push_back(std::move(b));
  }
  for (auto _ : state) {
    for (LayerBuffers& b : layers) {  // forward: Z = A W^T
      gemmRowMajor(impl, false, true, batch, b.out, b.in, b.a.data(), b.in, b.w.data(), b.in, 0.0f,
                   b.z.data(), b.out);
    }
    for (int l = layout.numLayers() - 1; l >= 0; --l) {
      LayerBuffers& b = layers[static_cast<std::size_t>(l)];
      // gW += D^T A
      gemmRowMajor(impl, true, false, b.out, b.in, batch, b.d.data(), b.out, b.a.data(), b.in, 1.0f,
                   b.gw.data(), b.in);
      if (l > 0) {  // D' = D W
        gemmRowMajor(impl, false, false, batch, b.in, b.out, b.d.data(), b.out, b.w.data(), b.in,
                     0.0f, b.dIn.data(), b.in);
      }
    }
    benchmark::ClobberMemory();
  }
  const double steps = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(flops * steps * 1e-9, benchmark::Counter::kIsRate);
  // samples/s above = steps * (GEMM FLOPs / 6P) per step, i.e. the training rate at which
  // 6·P FLOPs per sample would take exactly this GEMM time.
  state.counters["samples/s"] =
      benchmark::Counter(flops * steps / (6.0 * static_cast<double>(layout.paramCount())),
                         benchmark::Counter::kIsRate);
}

void squareSgemm(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Impl impl = static_cast<Impl>(state.range(1));
#ifndef DRIFTSCOPE_BENCH_OPENBLAS
  if (impl == kOpenBlas) {
    state.SkipWithError("built without DRIFTSCOPE_BENCH_OPENBLAS");
    return;
  }
#endif
  const RowMatrix a = RowMatrix::Random(n, n);
  const RowMatrix b = RowMatrix::Random(n, n);
  RowMatrix c(n, n);
  for (auto _ : state) {
    gemmRowMajor(impl, false, false, n, n, n, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * n * n * n * static_cast<double>(state.iterations()) * 1e-9,
                         benchmark::Counter::kIsRate);
}

}  // namespace

void registerGemmBenchmarks() {
#ifdef DRIFTSCOPE_BENCH_OPENBLAS
  // Fail loudly if the pthreads/OpenMP build was picked up at run time: this bench
  // measures the single-threaded kernel that would run inside a TBB task.
  if (openblas_get_parallel() != 0) {
    std::fprintf(stderr, "driftscope_bench: OpenBLAS is not the sequential build\n");
  }
  const std::vector<long> impls = {kEigen, kOpenBlas};
#else
  const std::vector<long> impls = {kEigen};
#endif
  for (const std::vector<int>& sizes :
       std::vector<std::vector<int>>{{784, 128, 10}, {784, 256, 256, 10}, {784, 1024, 1024, 10}}) {
    const MlpLayout layout(sizes);
    const std::string name = "BM_StepGemms/" + layout.toString();
    benchmark::RegisterBenchmark(name.c_str(),
                                 [layout](benchmark::State& st) { stepGemms(st, layout); })
        ->ArgNames({"batch", "impl"})
        ->ArgsProduct({{1, 16, 64, 256}, impls})
        ->MinTime(0.2)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_Sgemm", squareSgemm)
      ->ArgNames({"n", "impl"})
      ->ArgsProduct({{256, 1024}, impls})
      ->MinTime(0.2)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace driftscope
