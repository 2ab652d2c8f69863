// fp64 reference GEMM on raw row-major memory images (values at their element offsets).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ref {

// C_b = alpha * op(A_b) * op(B_b) + beta * C_b for every batch entry; C is updated in place and
// only the m x n entries of each batch are touched. beta == 0 ignores C's old values.
void matmul(bool transA, bool transB, int64_t m, int64_t n, int64_t k, double alpha, const std::vector<double> &A,
            int64_t lda, int64_t strideA, const std::vector<double> &B, int64_t ldb, int64_t strideB, double beta,
            std::vector<double> &C, int64_t ldc, int64_t strideC, int64_t batch);

} // namespace ref
