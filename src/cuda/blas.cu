// cuBLAS strided-batched GEMM with Lamina's math types (see blas.h).
#include "cuda/blas.h"

#include "core/dtype.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <tuple>

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

// ---- cuBLASLt with memoised plans (on by default; LAMINA_CUDA_BLASLT=0: cublasGemmStridedBatchedEx) ---
// A cublasGemmStridedBatchedEx call issued in 9-14 us on the H200's host (the 1x1 layers at batch 1 and
// 8; cuDNN's whole call 5-8 us), which chooses its kernel per call. Here the matmul descriptor, the
// layouts and the heuristic's algorithm are made once per shape (per thread: no lock) and each call is
// one cublasLtMatmul. Non-pedantic float compute only (FP32, TF32, and 16-bit inputs); elsewhere, and
// where the heuristic finds nothing, the cublasGemmStridedBatchedEx path. H200 (v18, the 1x1 layers'
// GEMM rows, four configs): 1.06x over all 84 rows, fp32 at batch 1 1.55x (res2_1x1a 0.0178 -> 0.0090 ms).
// Any value of LAMINA_CUDA_BLASLT starting with '0' turns it off; anything else (or unset) leaves it on.

bool blasLtEnabled() {
  static const bool on = [] {
    const char *e = std::getenv("LAMINA_CUDA_BLASLT");
    return !(e && e[0] == '0');
  }();
  return on;
}

// The largest of 16, 8, 4, 2 bytes dividing every batch entry's address.
uint32_t alignmentOf(const void *p, int64_t stride, size_t elem, int64_t batch) {
  uint64_t v = uint64_t(reinterpret_cast<uintptr_t>(p));
  if (batch > 1)
    v |= uint64_t(stride) * elem;
  for (uint32_t a : {16u, 8u, 4u})
    if (v % a == 0)
      return a;
  return 2;
}

struct LtKey {
  int device;
  cudaDataType_t abT, cT;
  cublasComputeType_t ct;
  bool transA, transB;
  int64_t m, n, k, lda, ldb, ldc, strideA, strideB, strideC, batch;
  uint32_t alignA, alignB, alignC;
  auto tie() const {
    return std::tie(device, abT, cT, ct, transA, transB, m, n, k, lda, ldb, ldc, strideA, strideB, strideC, batch,
                    alignA, alignB, alignC);
  }
  bool operator<(const LtKey &o) const { return tie() < o.tie(); }
};

struct LtPlan {
  bool ok = false; // false: the heuristic found nothing (the Ex path runs it)
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

bool makeLayout(cublasLtMatrixLayout_t *l, cudaDataType_t t, int64_t rows, int64_t cols, int64_t ld, int64_t batch,
                int64_t stride) {
  if (cublasLtMatrixLayoutCreate(l, t, uint64_t(rows), uint64_t(cols), ld) != CUBLAS_STATUS_SUCCESS)
    return false;
  if (batch <= 1)
    return true;
  const int32_t count = int32_t(batch);
  return cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count) ==
             CUBLAS_STATUS_SUCCESS &&
         cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride) ==
             CUBLAS_STATUS_SUCCESS;
}

constexpr size_t kMaxLtPlans = 256; // per thread

void destroyLtPlan(LtPlan &pl) {
  if (pl.a)
    (void)cublasLtMatrixLayoutDestroy(pl.a);
  if (pl.b)
    (void)cublasLtMatrixLayoutDestroy(pl.b);
  if (pl.c)
    (void)cublasLtMatrixLayoutDestroy(pl.c);
  if (pl.desc)
    (void)cublasLtMatmulDescDestroy(pl.desc);
  pl = LtPlan{};
}

// A thread's plans; the descriptors are host objects, destroyed with the map.
struct LtPlans {
  std::map<LtKey, LtPlan> map;
  void clear() {
    for (auto &kv : map)
      destroyLtPlan(kv.second);
    map.clear();
  }
  LtPlans() = default;
  LtPlans(const LtPlans &) = delete;
  LtPlans &operator=(const LtPlans &) = delete;
  ~LtPlans() { clear(); }
};

// A plan whose descriptors fail part way is kept with ok false (the Ex path runs that shape).
LtPlan makeLtPlan(cublasLtHandle_t lt, const LtKey &k, size_t workspaceBytes) {
  LtPlan pl;
  if (cublasLtMatmulDescCreate(&pl.desc, k.ct, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS)
    return pl;
  const cublasOperation_t ta = k.transA ? CUBLAS_OP_T : CUBLAS_OP_N, tb = k.transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (cublasLtMatmulDescSetAttribute(pl.desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute(pl.desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb) != CUBLAS_STATUS_SUCCESS)
    return pl;
  if (!makeLayout(&pl.a, k.abT, k.transA ? k.k : k.m, k.transA ? k.m : k.k, k.lda, k.batch, k.strideA) ||
      !makeLayout(&pl.b, k.abT, k.transB ? k.n : k.k, k.transB ? k.k : k.n, k.ldb, k.batch, k.strideB) ||
      !makeLayout(&pl.c, k.cT, k.m, k.n, k.ldc, k.batch, k.strideC))
    return pl;
  cublasLtMatmulPreference_t pref = nullptr;
  if (cublasLtMatmulPreferenceCreate(&pref) != CUBLAS_STATUS_SUCCESS)
    return pl;
  const uint64_t ws = workspaceBytes;
  bool set = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws) ==
             CUBLAS_STATUS_SUCCESS;
  const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> aligns[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, k.alignA},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, k.alignB},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, k.alignC},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, k.alignC}};
  for (const auto &[attr, value] : aligns)
    set = set && cublasLtMatmulPreferenceSetAttribute(pref, attr, &value, sizeof value) == CUBLAS_STATUS_SUCCESS;
  cublasLtMatmulHeuristicResult_t r{};
  int found = 0;
  if (set &&
      cublasLtMatmulAlgoGetHeuristic(lt, pl.desc, pl.a, pl.b, pl.c, pl.c, pref, 1, &r, &found) ==
          CUBLAS_STATUS_SUCCESS &&
      found > 0 && r.state == CUBLAS_STATUS_SUCCESS && r.workspaceSize <= workspaceBytes) {
    pl.algo = r.algo;
    pl.ok = true;
  }
  (void)cublasLtMatmulPreferenceDestroy(pref);
  return pl;
}

// One chunk of the call through cuBLASLt; false where it does not take it (the caller runs Ex).
bool ltGemm(const laminaContext &h, const GemmCall &g, cudaDataType_t abT, cudaDataType_t cT, cublasComputeType_t ct,
            const void *alpha, const void *beta, const void *A, const void *B, void *C, int64_t batch) {
  if (!blasLtEnabled() || (ct != CUBLAS_COMPUTE_32F && ct != CUBLAS_COMPUTE_32F_FAST_TF32) || g.m <= 0 || g.n <= 0 ||
      g.k <= 0)
    return false;
  const size_t abSize = dataTypeSize(g.abType), cSize = dataTypeSize(g.cType);
  CudaState &st = stateOf(h);
  const LtKey key{h.device,
                  abT,
                  cT,
                  ct,
                  g.transA,
                  g.transB,
                  g.m,
                  g.n,
                  g.k,
                  g.lda,
                  g.ldb,
                  g.ldc,
                  batch > 1 ? g.strideA : 0,
                  batch > 1 ? g.strideB : 0,
                  batch > 1 ? g.strideC : 0,
                  batch,
                  alignmentOf(A, g.strideA, abSize, batch),
                  alignmentOf(B, g.strideB, abSize, batch),
                  alignmentOf(C, g.strideC, cSize, batch)};
  thread_local LtPlans plans; // host-side descriptors, freed when the thread exits
  auto it = plans.map.find(key);
  if (it == plans.map.end()) {
    if (plans.map.size() >= kMaxLtPlans) // many shapes (chunk tails, batch sizes): start over
      plans.clear();
    it = plans.map.emplace(key, makeLtPlan(st.blasLt, key, st.blasWorkspaceBytes)).first;
  }
  LtPlan &pl = it->second;
  if (!pl.ok)
    return false;
  const cublasStatus_t r = cublasLtMatmul(st.blasLt, pl.desc, alpha, A, pl.a, B, pl.b, beta, C, pl.c, C, pl.c, &pl.algo,
                                          st.blasWorkspace, st.blasWorkspaceBytes, streamOf(h));
  if (r == CUBLAS_STATUS_SUCCESS)
    return true;
  if (r == CUBLAS_STATUS_EXECUTION_FAILED)
    checkCublas(r, "cublasLtMatmul");
  pl.ok = false; // refused (not supported, bad value): this shape runs on the Ex path from now on
  return false;
}

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
  std::optional<BlasModeGuard> guard; // the Ex path's handle settings (cuBLASLt calls need none)
  for (int64_t b0 = 0; b0 < g.batch; b0 += kMaxBatchPerCall) {
    const int64_t nb = std::min(kMaxBatchPerCall, g.batch - b0);
    const char *A = static_cast<const char *>(g.A) + size_t(b0 * g.strideA) * abSize;
    const char *B = static_cast<const char *>(g.B) + size_t(b0 * g.strideB) * abSize;
    char *C = static_cast<char *>(g.C) + size_t(b0 * g.strideC) * cSize;
    if (ltGemm(h, g, abT, cT, ct, alpha, beta, A, B, C, nb))
      continue;
    if (!guard)
      guard.emplace(blas);
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
