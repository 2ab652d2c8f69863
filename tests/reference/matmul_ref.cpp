#include "reference/matmul_ref.h"

namespace ref {

void matmul(bool transA, bool transB, int64_t m, int64_t n, int64_t k, double alpha, const std::vector<double> &A,
            int64_t lda, int64_t strideA, const std::vector<double> &B, int64_t ldb, int64_t strideB, double beta,
            std::vector<double> &C, int64_t ldc, int64_t strideC, int64_t batch) {
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p) {
          double av = transA ? A[size_t(b * strideA + p * lda + i)] : A[size_t(b * strideA + i * lda + p)];
          double bv = transB ? B[size_t(b * strideB + j * ldb + p)] : B[size_t(b * strideB + p * ldb + j)];
          s += av * bv;
        }
        double &c = C[size_t(b * strideC + i * ldc + j)];
        c = beta == 0 ? alpha * s : alpha * s + beta * c;
      }
}

} // namespace ref
