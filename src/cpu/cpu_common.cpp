#include "cpu/cpu_common.h"

#include <cblas.h>
#include <omp.h>

namespace lamina::cpu {

int threads(const laminaContext &h) { return h.threads > 0 ? h.threads : omp_get_num_procs(); }

void blasSingleThreaded() { openblas_set_num_threads(1); }

namespace {
// Outside our parallel regions BLAS may use the handle's threads; inside, parallelFor already set 1.
void setBlasThreads(const laminaContext &h) {
  if (!omp_in_parallel()) openblas_set_num_threads(threads(h));
}
} // namespace

void gemm(const laminaContext &h, bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha,
          const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  setBlasThreads(h);
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, blasint(m),
              blasint(n), blasint(k), alpha, A, blasint(lda), B, blasint(ldb), beta, C, blasint(ldc));
}

void gemm(const laminaContext &h, bool transA, bool transB, int64_t m, int64_t n, int64_t k, double alpha,
          const double *A, int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc) {
  setBlasThreads(h);
  cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, blasint(m),
              blasint(n), blasint(k), alpha, A, blasint(lda), B, blasint(ldb), beta, C, blasint(ldc));
}

} // namespace lamina::cpu
