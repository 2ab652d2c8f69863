// One column-major strided-batched GEMM through cuBLAS on the handle's stream, with Lamina's math
// types mapped to cuBLAS compute types. Shared by laminaMatmul and the GEMM convolution algorithms.
#pragma once

#include "cuda/cuda_common.h"

#include <cstdint>

namespace lamina::cuda {

// Column-major, per batch entry b: C_b = alpha * op(A_b) op(B_b) + beta * C_b with C_b m x n,
// op(A_b) m x k, op(B_b) k x n (cuBLAS conventions). A and B hold abType, C holds cType (cType may be
// float when abType is half/bfloat16: the result is kept in float). Compute type:
//   double: 64F (64F_PEDANTIC for FMA math);
//   float: 32F exact (DEFAULT), 32F_FAST_TF32 (TENSOR_OP), 32F_PEDANTIC (FMA);
//   half/bfloat16: 32F accumulation on tensor cores, 32F_PEDANTIC for FMA math.
// alpha/beta are given in double and passed as the compute type's scalar. cuBLAS does not read C
// when beta == 0. Sizes beyond cuBLAS's int range give NOT_SUPPORTED; large batches run in chunks.
struct GemmCall {
  laminaDataType_t abType = LAMINA_DATA_FLOAT, cType = LAMINA_DATA_FLOAT;
  laminaMathType_t math = LAMINA_DEFAULT_MATH;
  bool transA = false, transB = false;
  int64_t m = 0, n = 0, k = 0;
  double alpha = 1.0, beta = 0.0;
  const void *A = nullptr;
  int64_t lda = 0, strideA = 0;
  const void *B = nullptr;
  int64_t ldb = 0, strideB = 0;
  void *C = nullptr;
  int64_t ldc = 0, strideC = 0;
  int64_t batch = 1;
};

void gemmStridedBatched(const laminaContext &h, const GemmCall &g);

// Column-major complex GEMM (interleaved re/im, float or double), per batch entry b:
// C_b = op(A_b) op(B_b) + beta * C_b, op 'N', 'T' or 'C' (conjugate transpose); plain FP32/FP64
// arithmetic, or with tf32 (float only) TF32 tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32). Strides and
// leading dimensions in complex elements.
struct ComplexGemmCall {
  bool dbl = false;
  bool tf32 = false;
  char opA = 'N', opB = 'N';
  int64_t m = 0, n = 0, k = 0;
  double beta = 0.0;
  const void *A = nullptr;
  int64_t lda = 0, strideA = 0;
  const void *B = nullptr;
  int64_t ldb = 0, strideB = 0;
  void *C = nullptr;
  int64_t ldc = 0, strideC = 0;
  int64_t batch = 1;
};

void complexGemmStridedBatched(const laminaContext &h, const ComplexGemmCall &g);

// True when every size of the call fits cuBLAS's int arguments (batch excepted: it is chunked).
bool gemmFitsInt(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc);

} // namespace lamina::cuda
