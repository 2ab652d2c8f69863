// CPU batched row-major GEMM: float/double through OpenBLAS, half/bfloat16 converted to float.
#pragma once

#include "cpu/cpu_common.h"

namespace lamina::cpu {

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
};

void matmul(const laminaContext &h, const MatmulArgs &a);

} // namespace lamina::cpu
