// Batched GEMM on the CPU. Many small matrices: batches in parallel with single-threaded BLAS;
// few large ones: one after another with BLAS using the handle's threads.
#include "cpu/matmul.h"

#include <cblas.h>

#include <climits>
#include <type_traits>
#include <vector>

namespace lamina::cpu {

namespace {

template <class T> void oneBatch(const laminaContext &h, const MatmulArgs &a, int64_t b) {
  const T *A = static_cast<const T *>(a.A) + b * a.strideA;
  const T *B = static_cast<const T *>(a.B) + b * a.strideB;
  T *C = static_cast<T *>(a.C) + b * a.strideC;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    gemm(h, a.transA, a.transB, a.m, a.n, a.k, T(a.alpha), A, a.lda, B, a.ldb, T(a.beta), C, a.ldc);
  } else {
    // 16-bit storage: widen A and B to packed float, multiply in float, round once into C.
    const int64_t ar = a.transA ? a.k : a.m, ac = a.transA ? a.m : a.k;
    const int64_t br = a.transB ? a.n : a.k, bc = a.transB ? a.k : a.n;
    std::vector<float> fa(size_t(ar * ac)), fb(size_t(br * bc)), fc(size_t(a.m * a.n));
    for (int64_t i = 0; i < ar; ++i)
      for (int64_t j = 0; j < ac; ++j)
        fa[size_t(i * ac + j)] = toFloat(A[i * a.lda + j]);
    for (int64_t i = 0; i < br; ++i)
      for (int64_t j = 0; j < bc; ++j)
        fb[size_t(i * bc + j)] = toFloat(B[i * a.ldb + j]);
    gemm(h, a.transA, a.transB, a.m, a.n, a.k, 1.0f, fa.data(), ac, fb.data(), bc, 0.0f, fc.data(), a.n);
    const float al = float(a.alpha), be = float(a.beta);
    for (int64_t i = 0; i < a.m; ++i)
      for (int64_t j = 0; j < a.n; ++j)
        storeScaled(C + i * a.ldc + j, fc[size_t(i * a.n + j)], al, be);
  }
}

template <class T> void matmulImpl(const laminaContext &h, const MatmulArgs &a) {
  if (a.batch >= 2 * threads(h) || (a.batch > 1 && double(a.m) * double(a.n) * double(a.k) < 262144.0))
    parallelFor(h, a.batch, [&](int64_t b) { oneBatch<T>(h, a, b); });
  else
    for (int64_t b = 0; b < a.batch; ++b)
      oneBatch<T>(h, a, b);
}

} // namespace

void matmul(const laminaContext &h, const MatmulArgs &a) {
  // The BLAS interface takes blasint sizes.
  const int64_t lim = sizeof(blasint) >= 8 ? INT64_MAX : INT_MAX;
  if (a.m > lim || a.n > lim || a.k > lim || a.lda > lim || a.ldb > lim || a.ldc > lim)
    fail(LAMINA_STATUS_NOT_SUPPORTED, "a size or leading dimension exceeds the BLAS integer range (%lld)",
         (long long)lim);
  LAMINA_DISPATCH_FLOAT_TYPES(a.dataType, matmulImpl, h, a);
}

} // namespace lamina::cpu
