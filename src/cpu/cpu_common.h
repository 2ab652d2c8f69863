// Shared helpers of the CPU backend: threading, strided iteration, BLAS.
#pragma once

#include "core/descriptors.h"
#include "core/dtype.h"
#include "core/handle.h"

#include <cstdint>

namespace lamina::cpu {

// Threads a call of this handle may use (handle setting, else all cores).
int threads(const laminaContext &h);

// OpenBLAS keeps one global thread count; our parallel regions call BLAS single-threaded, so it is
// set to 1 once before a region rather than by each thread inside it (that would race).
void blasSingleThreaded();

// Calls f(i) for i in [0, n) on the handle's threads (static schedule; f must be thread-safe).
template <class F> void parallelFor(const laminaContext &h, int64_t n, F &&f) {
  int nt = threads(h);
  if (nt > 1 && n > 1)
    blasSingleThreaded();
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && n > 1)
  for (int64_t i = 0; i < n; ++i)
    f(i);
}

// Offset (in elements) of linear index `i` of t's dims in row-major dims order.
inline int64_t offsetOf(const TensorDesc &t, int64_t i) {
  int64_t off = 0;
  for (int d = t.nbDims - 1; d >= 0; --d) {
    off += (i % t.dims[d]) * t.strides[d];
    i /= t.dims[d];
  }
  return off;
}

// Row-major single-batch GEMM on host memory through the system BLAS (OpenBLAS), float or double:
// C[m x n] = alpha * op(A) * op(B) + beta * C, row strides lda/ldb/ldc. Runs single-threaded in
// BLAS when called from inside parallelFor; otherwise uses the handle's threads.
void gemm(const laminaContext &h, bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha,
          const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
void gemm(const laminaContext &h, bool transA, bool transB, int64_t m, int64_t n, int64_t k, double alpha,
          const double *A, int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc);

} // namespace lamina::cpu
