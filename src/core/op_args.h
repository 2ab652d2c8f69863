// Argument bundles of the ops with many buffers, shared by the backends (src/cpu, src/cuda).
#pragma once

#include "core/descriptors.h"

#include <cstdint>

namespace lamina {

// Batch normalisation. Parameter tensors (scale, bias, means, variances) hold float (double for
// double x); bn describes every one of them.
struct BNArgs {
  laminaBatchNormMode_t mode;
  TensorDesc x, y, bn; // y is dy for backward
  TensorDesc dx;       // backward only
  double epsilon = 0;
};

// Batched row-major GEMM: C = alpha * op(A) op(B) + beta * C, C m x n.
struct MatmulArgs {
  laminaDataType_t dataType;
  bool transA, transB;
  int64_t m, n, k;
  double alpha, beta;
  const void *A;
  int64_t lda, strideA;
  const void *B;
  int64_t ldb, strideB;
  void *C;
  int64_t ldc, strideC;
  int64_t batch;
  laminaMathType_t math = LAMINA_DEFAULT_MATH; // TENSOR_OP: TF32 for float, tensor cores for 16-bit
};

} // namespace lamina
