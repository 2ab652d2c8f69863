// cuBLAS strided-batched GEMM with Lamina's math types (see blas.h).
#include "cuda/blas.h"

#include "core/dtype.h"

#include <algorithm>
#include <climits>

namespace lamina::cuda {

namespace {

cudaDataType_t cudaTypeOf(laminaDataType_t t) {
  switch (t) {
  case LAMINA_DATA_FLOAT: return CUDA_R_32F;
  case LAMINA_DATA_DOUBLE: return CUDA_R_64F;
  case LAMINA_DATA_HALF: return CUDA_R_16F;
  case LAMINA_DATA_BFLOAT16: return CUDA_R_16BF;
  default: fail(LAMINA_STATUS_NOT_SUPPORTED, "data type %s has no cuBLAS GEMM", dataTypeName(t));
  }
}

cublasComputeType_t computeTypeOf(laminaDataType_t abType, laminaMathType_t math) {
  switch (abType) {
  case LAMINA_DATA_DOUBLE: return math == LAMINA_FMA_MATH ? CUBLAS_COMPUTE_64F_PEDANTIC : CUBLAS_COMPUTE_64F;
  case LAMINA_DATA_FLOAT:
    // Plain 32F with the handle in CUBLAS_DEFAULT_MATH never uses TF32; only TENSOR_OP asks for it.
    return math == LAMINA_TENSOR_OP_MATH ? CUBLAS_COMPUTE_32F_FAST_TF32
           : math == LAMINA_FMA_MATH     ? CUBLAS_COMPUTE_32F_PEDANTIC
                                         : CUBLAS_COMPUTE_32F;
  default: return math == LAMINA_FMA_MATH ? CUBLAS_COMPUTE_32F_PEDANTIC : CUBLAS_COMPUTE_32F;
  }
}

// Puts the shared cuBLAS handle in host pointer mode and default math for one call and restores what
// was there (another caller may have changed them).
class BlasModeGuard {
public:
  explicit BlasModeGuard(cublasHandle_t b) : blas_(b) {
    LAMINA_CUBLAS_CALL(cublasGetMathMode(blas_, &math_));
    LAMINA_CUBLAS_CALL(cublasGetPointerMode(blas_, &ptr_));
    LAMINA_CUBLAS_CALL(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH));
    setMath_ = true;
    LAMINA_CUBLAS_CALL(cublasSetPointerMode(blas_, CUBLAS_POINTER_MODE_HOST));
    setPtr_ = true;
  }
  ~BlasModeGuard() {
    if (setMath_)
      (void)cublasSetMathMode(blas_, math_);
    if (setPtr_)
      (void)cublasSetPointerMode(blas_, ptr_);
  }
  BlasModeGuard(const BlasModeGuard &) = delete;
  BlasModeGuard &operator=(const BlasModeGuard &) = delete;

private:
  cublasHandle_t blas_;
  cublasMath_t math_ = CUBLAS_DEFAULT_MATH;
  cublasPointerMode_t ptr_ = CUBLAS_POINTER_MODE_HOST;
  bool setMath_ = false, setPtr_ = false;
};

// Largest batch count handed to one cuBLAS call (the grid's z extent in some kernels).
constexpr int64_t kMaxBatchPerCall = 65535;

} // namespace

bool gemmFitsInt(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc) {
  for (int64_t v : {m, n, k, lda, ldb, ldc})
    if (v > INT_MAX)
      return false;
  return true;
}

void gemmStridedBatched(const laminaContext &h, const GemmCall &g) {
  if (!gemmFitsInt(g.m, g.n, g.k, g.lda, g.ldb, g.ldc))
    fail(LAMINA_STATUS_NOT_SUPPORTED,
         "GEMM sizes m=%lld n=%lld k=%lld lda=%lld ldb=%lld ldc=%lld exceed the 32-bit range of cuBLAS", (long long)g.m,
         (long long)g.n, (long long)g.k, (long long)g.lda, (long long)g.ldb, (long long)g.ldc);
  const cudaDataType_t abT = cudaTypeOf(g.abType), cT = cudaTypeOf(g.cType);
  const cublasComputeType_t ct = computeTypeOf(g.abType, g.math);
  const bool dbl = ct == CUBLAS_COMPUTE_64F || ct == CUBLAS_COMPUTE_64F_PEDANTIC;
  const double alphaD = g.alpha, betaD = g.beta;
  const float alphaF = float(g.alpha), betaF = float(g.beta);
  const void *alpha = dbl ? static_cast<const void *>(&alphaD) : static_cast<const void *>(&alphaF);
  const void *beta = dbl ? static_cast<const void *>(&betaD) : static_cast<const void *>(&betaF);
  const size_t abSize = dataTypeSize(g.abType), cSize = dataTypeSize(g.cType);
  CudaState &st = stateOf(h);
  cublasHandle_t blas = st.blas;
  BlasModeGuard guard(blas);
  for (int64_t b0 = 0; b0 < g.batch; b0 += kMaxBatchPerCall) {
    const int64_t nb = std::min(kMaxBatchPerCall, g.batch - b0);
    const char *A = static_cast<const char *>(g.A) + size_t(b0 * g.strideA) * abSize;
    const char *B = static_cast<const char *>(g.B) + size_t(b0 * g.strideB) * abSize;
    char *C = static_cast<char *>(g.C) + size_t(b0 * g.strideC) * cSize;
    LAMINA_CUBLAS_CALL(cublasGemmStridedBatchedEx(
        blas, g.transA ? CUBLAS_OP_T : CUBLAS_OP_N, g.transB ? CUBLAS_OP_T : CUBLAS_OP_N, int(g.m), int(g.n), int(g.k),
        alpha, A, abT, int(g.lda), (long long)g.strideA, B, abT, int(g.ldb), (long long)g.strideB, beta, C, cT,
        int(g.ldc), (long long)g.strideC, int(nb), ct, CUBLAS_GEMM_DEFAULT));
  }
}

namespace {
cublasOperation_t opOf(char op) { return op == 'C' ? CUBLAS_OP_C : op == 'T' ? CUBLAS_OP_T : CUBLAS_OP_N; }
} // namespace

void complexGemmStridedBatched(const laminaContext &h, const ComplexGemmCall &g) {
  if (!gemmFitsInt(g.m, g.n, g.k, g.lda, g.ldb, g.ldc))
    fail(LAMINA_STATUS_NOT_SUPPORTED,
         "complex GEMM sizes m=%lld n=%lld k=%lld lda=%lld ldb=%lld ldc=%lld exceed the 32-bit range of cuBLAS",
         (long long)g.m, (long long)g.n, (long long)g.k, (long long)g.lda, (long long)g.ldb, (long long)g.ldc);
  cublasHandle_t blas = stateOf(h).blas;
  BlasModeGuard guard(blas);
  const size_t es = g.dbl ? sizeof(cuDoubleComplex) : sizeof(cuComplex);
  for (int64_t b0 = 0; b0 < g.batch; b0 += kMaxBatchPerCall) {
    const int64_t nb = std::min(kMaxBatchPerCall, g.batch - b0);
    const char *A = static_cast<const char *>(g.A) + size_t(b0 * g.strideA) * es;
    const char *B = static_cast<const char *>(g.B) + size_t(b0 * g.strideB) * es;
    char *C = static_cast<char *>(g.C) + size_t(b0 * g.strideC) * es;
    if (g.dbl) {
      const cuDoubleComplex one = {1.0, 0.0}, beta = {g.beta, 0.0};
      LAMINA_CUBLAS_CALL(cublasZgemmStridedBatched(
          blas, opOf(g.opA), opOf(g.opB), int(g.m), int(g.n), int(g.k), &one,
          reinterpret_cast<const cuDoubleComplex *>(A), int(g.lda), (long long)g.strideA,
          reinterpret_cast<const cuDoubleComplex *>(B), int(g.ldb), (long long)g.strideB, &beta,
          reinterpret_cast<cuDoubleComplex *>(C), int(g.ldc), (long long)g.strideC, int(nb)));
    } else if (g.tf32) {
      const cuComplex one = {1.0f, 0.0f}, beta = {float(g.beta), 0.0f};
      LAMINA_CUBLAS_CALL(cublasGemmStridedBatchedEx(
          blas, opOf(g.opA), opOf(g.opB), int(g.m), int(g.n), int(g.k), &one, A, CUDA_C_32F, int(g.lda),
          (long long)g.strideA, B, CUDA_C_32F, int(g.ldb), (long long)g.strideB, &beta, C, CUDA_C_32F, int(g.ldc),
          (long long)g.strideC, int(nb), CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
    } else {
      const cuComplex one = {1.0f, 0.0f}, beta = {float(g.beta), 0.0f};
      LAMINA_CUBLAS_CALL(cublasCgemmStridedBatched(
          blas, opOf(g.opA), opOf(g.opB), int(g.m), int(g.n), int(g.k), &one, reinterpret_cast<const cuComplex *>(A),
          int(g.lda), (long long)g.strideA, reinterpret_cast<const cuComplex *>(B), int(g.ldb), (long long)g.strideB,
          &beta, reinterpret_cast<cuComplex *>(C), int(g.ldc), (long long)g.strideC, int(nb)));
    }
  }
}

} // namespace lamina::cuda
