#include "cpu/cpu_common.h"

#include <cblas.h>
#include <omp.h>

namespace lamina::cpu {

int threads(const laminaContext &h) { return h.threads > 0 ? h.threads : omp_get_num_procs(); }

namespace {
// OpenBLAS keeps one global thread count: set it per call (1 inside our own parallel regions).
void setBlasThreads(const laminaContext &h) { openblas_set_num_threads(omp_in_parallel() ? 1 : threads(h)); }
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
