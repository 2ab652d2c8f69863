#include "cpu/cpu_common.h"

#include <cblas.h>
#include <omp.h>

namespace lamina::cpu {

int threads(const laminaContext &h) { return h.threads > 0 ? h.threads : omp_get_num_procs(); }

namespace {
// OpenBLAS comes as a pthread build (its own pool, one global thread count) or an OpenMP build (it
// follows the calling thread's omp_get_max_threads, and openblas_set_num_threads would change the
// caller's OpenMP default for all later code, so that build is never told a count globally).
bool blasUsesOpenMP() {
  static const bool v = openblas_get_parallel() == 2;
  return v;
}

// Sets BLAS to the handle's threads for one call outside our parallel regions, restoring the
// caller's OpenMP default afterwards. Inside a region both builds run single-threaded.
struct BlasThreadScope {
  int previous = 0;
  explicit BlasThreadScope(const laminaContext &h) {
    if (omp_in_parallel())
      return;
    if (blasUsesOpenMP()) {
      previous = omp_get_max_threads();
      omp_set_num_threads(threads(h));
    } else {
      openblas_set_num_threads(threads(h));
    }
  }
  ~BlasThreadScope() {
    if (previous > 0)
      omp_set_num_threads(previous);
  }
};
} // namespace

void blasSingleThreaded() {
  if (!blasUsesOpenMP())
    openblas_set_num_threads(1);
}

void gemm(const laminaContext &h, bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha,
          const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  BlasThreadScope scope(h);
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, blasint(m),
              blasint(n), blasint(k), alpha, A, blasint(lda), B, blasint(ldb), beta, C, blasint(ldc));
}

void gemm(const laminaContext &h, bool transA, bool transB, int64_t m, int64_t n, int64_t k, double alpha,
          const double *A, int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc) {
  BlasThreadScope scope(h);
  cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, blasint(m),
              blasint(n), blasint(k), alpha, A, blasint(lda), B, blasint(ldb), beta, C, blasint(ldc));
}

} // namespace lamina::cpu
