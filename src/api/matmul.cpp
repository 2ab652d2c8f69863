// Entry point: batched row-major matrix multiply.
#include "cpu/matmul.h"
#include "core/checks.h"
#ifdef LAMINA_WITH_CUDA
#include "cuda/ops.h"
#endif

using namespace lamina;

namespace {

void positiveArg(int64_t v, const char *name) {
  if (v < 1)
    fail(LAMINA_STATUS_BAD_PARAM, "argument '%s' is %lld; it must be >= 1", name, (long long)v);
}
void ldArg(int64_t ld, int64_t rowLen, const char *name) {
  if (ld < rowLen)
    fail(LAMINA_STATUS_BAD_PARAM, "argument '%s' is %lld; it must be >= the row length %lld", name, (long long)ld,
         (long long)rowLen);
}
// Span of a rows x cols matrix with row stride ld, in elements (overflow-checked).
int64_t matSpan(int64_t rows, int64_t cols, int64_t ld, const char *what) {
  return checkedAdd(checkedMul(rows - 1, ld, what), cols, what);
}

} // namespace

extern "C" {

laminaStatus_t laminaMatmul(laminaHandle_t handle, laminaDataType_t dataType, laminaMathType_t math,
                            laminaOperation_t transA, laminaOperation_t transB, int64_t m, int64_t n, int64_t k,
                            const void *alpha, const void *A, int64_t lda, int64_t strideA, const void *B, int64_t ldb,
                            int64_t strideB, const void *beta, void *C, int64_t ldc, int64_t strideC, int64_t batch) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    floatTypeArg(dataType, "dataType");
    if (enumValue(math) < LAMINA_DEFAULT_MATH || enumValue(math) > LAMINA_FMA_MATH)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'math' has invalid value %d", enumValue(math));
    if (enumValue(transA) != LAMINA_OP_N && enumValue(transA) != LAMINA_OP_T)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'transA' has invalid value %d", enumValue(transA));
    if (enumValue(transB) != LAMINA_OP_N && enumValue(transB) != LAMINA_OP_T)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'transB' has invalid value %d", enumValue(transB));
    // m, n, k, batch >= 1: an empty product is rejected rather than defined as a no-op.
    positiveArg(m, "m");
    positiveArg(n, "n");
    positiveArg(k, "k");
    positiveArg(batch, "batch");
    const bool ta = transA == LAMINA_OP_T, tb = transB == LAMINA_OP_T;
    const int64_t aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
    ldArg(lda, aCols, "lda");
    ldArg(ldb, bCols, "ldb");
    ldArg(ldc, n, "ldc");
    if (strideA < 0)
      fail(LAMINA_STATUS_BAD_STRIDES, "argument 'strideA' is negative");
    if (strideB < 0)
      fail(LAMINA_STATUS_BAD_STRIDES, "argument 'strideB' is negative");
    const int64_t cSpan = matSpan(m, n, ldc, "the extent of C");
    // Batch entries of C must not overlap (A and B may repeat, e.g. stride 0 to broadcast).
    if (batch > 1 && strideC < cSpan)
      fail(LAMINA_STATUS_BAD_STRIDES, "argument 'strideC' is %lld; batch entries of C (%lld elements) would overlap",
           (long long)strideC, (long long)cSpan);
    checkedAdd(checkedMul(batch - 1, strideA, "the extent of A"), matSpan(aRows, aCols, lda, "the extent of A"),
               "the extent of A");
    checkedAdd(checkedMul(batch - 1, strideB, "the extent of B"), matSpan(bRows, bCols, ldb, "the extent of B"),
               "the extent of B");
    checkedAdd(checkedMul(batch - 1, strideC, "the extent of C"), cSpan, "the extent of C");
    double al = scalarArg(alpha, dataType, "alpha"), be = scalarArg(beta, dataType, "beta");
    dataArg(h, A, "A");
    dataArg(h, B, "B");
    dataArg(h, C, "C");
    MatmulArgs args{dataType, ta, tb, m, n, k, al, be, A, lda, strideA, B, ldb, strideB, C, ldc, strideC, batch};
    args.math = math; // the CPU ignores it
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::matmul(h, args); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::matmul(h, args); break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "laminaMatmul is not implemented on backend %d", int(h.backend));
    }
  });
}

} // extern "C"
