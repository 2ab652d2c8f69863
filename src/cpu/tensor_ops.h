// CPU tensor operations (add with broadcast, set, scale, transform, op-tensor) and the strided
// element walker the other elementwise CPU ops (dropout) share.
#pragma once

#include "cpu/cpu_common.h"

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

namespace lamina::cpu {

// Row-major walk over `dims` for K tensors given their strides (0 = broadcast). Size-1 dims are
// dropped and adjacent dims merged when every tensor is contiguous across them, so packed tensors
// of one layout become a single long row (the fast path) and odd strides still work.
template <size_t K> struct Walk {
  int nb = 0;
  int64_t dims[LAMINA_DIM_MAX] = {};
  int64_t st[K][LAMINA_DIM_MAX] = {};
};

template <size_t K> Walk<K> makeWalk(int nbDims, const int64_t *dims, const std::array<const int64_t *, K> &strides) {
  Walk<K> w;
  for (int d = 0; d < nbDims; ++d) {
    if (dims[d] == 1)
      continue;
    bool merge = w.nb > 0;
    for (size_t k = 0; k < K && merge; ++k)
      merge = w.st[k][w.nb - 1] == strides[k][d] * dims[d];
    if (merge) {
      w.dims[w.nb - 1] *= dims[d];
      for (size_t k = 0; k < K; ++k)
        w.st[k][w.nb - 1] = strides[k][d];
      continue;
    }
    w.dims[w.nb] = dims[d];
    for (size_t k = 0; k < K; ++k)
      w.st[k][w.nb] = strides[k][d];
    ++w.nb;
  }
  if (w.nb == 0) { // a single element
    w.nb = 1;
    w.dims[0] = 1;
  }
  return w;
}

// Calls f(linearStart, len, off[K], inc[K]) in parallel on pieces of the innermost walk dim:
// elements linearStart + j (row-major over dims) of tensor k sit at off[k] + j * inc[k].
template <size_t K, class F>
void forEachChunk(const laminaContext &h, int nbDims, const int64_t *dims,
                  const std::array<const int64_t *, K> &strides, F &&f) {
  const Walk<K> w = makeWalk<K>(nbDims, dims, strides);
  const int last = w.nb - 1;
  const int64_t inner = w.dims[last];
  int64_t rows = 1;
  for (int d = 0; d < last; ++d)
    rows *= w.dims[d];
  constexpr int64_t kChunk = 16384; // elements per task: amortises the index math and threading
  const int64_t per = (inner + kChunk - 1) / kChunk;
  parallelFor(h, rows * per, [&](int64_t t) {
    int64_t row = t / per, start = (t % per) * kChunk;
    int64_t len = std::min(kChunk, inner - start);
    int64_t off[K] = {}, inc[K];
    int64_t r = row;
    for (int d = last - 1; d >= 0; --d) {
      int64_t i = r % w.dims[d];
      r /= w.dims[d];
      for (size_t k = 0; k < K; ++k)
        off[k] += i * w.st[k][d];
    }
    for (size_t k = 0; k < K; ++k) {
      inc[k] = w.st[k][last];
      off[k] += start * inc[k];
    }
    f(row * inner + start, len, static_cast<const int64_t *>(off), static_cast<const int64_t *>(inc));
  });
}

// Calls f with the chunk's K strides, as compile-time 1s when all are 1: the packed fast path, whose
// loops the compiler can vectorise; otherwise as the runtime values.
using UnitStride = std::integral_constant<int64_t, 1>;
template <class F> inline void withStrides(const int64_t *inc, F &&f, std::integral_constant<size_t, 1>) {
  if (inc[0] == 1)
    f(UnitStride{});
  else
    f(inc[0]);
}
template <class F> inline void withStrides(const int64_t *inc, F &&f, std::integral_constant<size_t, 2>) {
  if (inc[0] == 1 && inc[1] == 1)
    f(UnitStride{}, UnitStride{});
  else
    f(inc[0], inc[1]);
}
template <class F> inline void withStrides(const int64_t *inc, F &&f, std::integral_constant<size_t, 3>) {
  if (inc[0] == 1 && inc[1] == 1 && inc[2] == 1)
    f(UnitStride{}, UnitStride{}, UnitStride{});
  else
    f(inc[0], inc[1], inc[2]);
}
template <size_t K, class F> inline void withStrides(const int64_t *inc, F &&f) {
  withStrides(inc, std::forward<F>(f), std::integral_constant<size_t, K>{});
}

// a's strides seen with c's dims: 0 where a has extent 1 (broadcast), a's stride elsewhere.
inline void broadcastStrides(const TensorDesc &a, const TensorDesc &c, int64_t *out) {
  for (int d = 0; d < c.nbDims; ++d)
    out[d] = (a.dims[d] == 1 && c.dims[d] != 1) ? 0 : a.strides[d];
}

void addTensor(const laminaContext &h, double alpha, const TensorDesc &a, const void *aData, double beta,
               const TensorDesc &c, void *cData);
void setTensor(const laminaContext &h, const TensorDesc &y, void *yData, double value);
void scaleTensor(const laminaContext &h, const TensorDesc &y, void *yData, double alpha);
void transformTensor(const laminaContext &h, double alpha, const TensorDesc &x, const void *xData, double beta,
                     const TensorDesc &y, void *yData);
// b may be null for the unary ops.
void opTensor(const laminaContext &h, const OpTensorDesc &op, double alpha1, const TensorDesc &a, const void *aData,
              double alpha2, const TensorDesc *b, const void *bData, double beta, const TensorDesc &c, void *cData);

} // namespace lamina::cpu
