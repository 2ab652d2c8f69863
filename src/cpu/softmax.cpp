// Softmax as a set of independent groups (n for INSTANCE, (n, spatial position) for CHANNEL), each
// a vector of K elements at per-tensor offsets. A group is read fully before it is written, so x and
// y (or dy and dx) may share memory with one layout.
#include "cpu/softmax.h"

#include "cpu/cpu_common.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lamina::cpu {
namespace {

// Runs f(begin, end) over [0, n) in chunks of about kGrain units of work (costPerItem each):
// small problems stay on the calling thread, where a parallel region would cost more than it saves.
constexpr int64_t kGrain = 16384;
template <class F> void parallelChunks(const laminaContext &h, int64_t n, int64_t costPerItem, F &&f) {
  const int64_t per = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, costPerItem));
  parallelFor(h, (n + per - 1) / per, [&](int64_t c) { f(c * per, std::min(n, (c + 1) * per)); });
}

// Group g, element k of tensor t lives at base(g) + inner[k].
struct GroupMap {
  int64_t groups = 0, K = 0, spatial = 1;
  bool instance = true;
  std::vector<int64_t> inner;
  const TensorDesc *t = nullptr;

  GroupMap(const TensorDesc &td, laminaSoftmaxMode_t mode) : t(&td) {
    instance = mode == LAMINA_SOFTMAX_MODE_INSTANCE;
    for (int d = 2; d < td.nbDims; ++d)
      spatial *= td.dims[d];
    if (instance) {
      groups = td.dims[0];
      K = td.dims[1] * spatial;
      inner.resize(size_t(K));
      // offsets of dims[1..] in row-major order
      TensorDesc sub;
      sub.nbDims = td.nbDims - 1;
      std::copy(td.dims + 1, td.dims + td.nbDims, sub.dims);
      std::copy(td.strides + 1, td.strides + td.nbDims, sub.strides);
      for (int64_t k = 0; k < K; ++k)
        inner[size_t(k)] = offsetOf(sub, k);
    } else {
      groups = td.dims[0] * spatial;
      K = td.dims[1];
      inner.resize(size_t(K));
      for (int64_t k = 0; k < K; ++k)
        inner[size_t(k)] = k * td.strides[1];
    }
  }
  int64_t base(int64_t g) const {
    if (instance)
      return g * t->strides[0];
    int64_t n = g / spatial, s = g % spatial, off = n * t->strides[0];
    for (int d = t->nbDims - 1; d >= 2; --d) {
      off += (s % t->dims[d]) * t->strides[d];
      s /= t->dims[d];
    }
    return off;
  }
};

// Runs body(g, buffer) over groups in chunks, with a per-chunk scratch vector of K compute values.
template <class C, class Body> void forGroups(const laminaContext &h, int64_t groups, int64_t K, Body &&body) {
  parallelChunks(h, groups, K, [&](int64_t begin, int64_t end) {
    std::vector<C> buf(static_cast<size_t>(K));
    for (int64_t g = begin; g < end; ++g)
      body(g, buf.data());
  });
}

template <class T>
void forwardT(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
              const TensorDesc &x, const void *xData, double beta, const TensorDesc &y, void *yData) {
  using C = compute_t<T>;
  const T *X = static_cast<const T *>(xData);
  T *Y = static_cast<T *>(yData);
  const C a = C(alpha), b = C(beta);
  GroupMap gx(x, mode), gy(y, mode);
  const int64_t K = gx.K;
  forGroups<C>(h, gx.groups, K, [&](int64_t g, C *v) {
    const T *xg = X + gx.base(g);
    T *yg = Y + gy.base(g);
    for (int64_t k = 0; k < K; ++k)
      v[k] = C(toFloat(xg[gx.inner[size_t(k)]]));
    C m = C(0);
    if (algo != LAMINA_SOFTMAX_FAST) {
      m = v[0];
      for (int64_t k = 1; k < K; ++k)
        m = std::max(m, v[k]);
      if (std::isinf(m))
        m = C(0); // all -inf, or +inf present: no shift (gives NaN, as the math does)
    }
    C sum = C(0);
    if (algo == LAMINA_SOFTMAX_LOG) {
      for (int64_t k = 0; k < K; ++k)
        sum += std::exp(v[k] - m);
      const C lse = m + std::log(sum);
      for (int64_t k = 0; k < K; ++k)
        storeScaled(yg + gy.inner[size_t(k)], v[k] - lse, a, b);
    } else {
      for (int64_t k = 0; k < K; ++k)
        sum += (v[k] = std::exp(v[k] - m));
      const C inv = C(1) / sum;
      for (int64_t k = 0; k < K; ++k)
        storeScaled(yg + gy.inner[size_t(k)], v[k] * inv, a, b);
    }
  });
}

template <class T>
void backwardT(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
               const TensorDesc &y, const void *yData, const TensorDesc &dy, const void *dyData, double beta,
               const TensorDesc &dx, void *dxData) {
  using C = compute_t<T>;
  const T *Y = static_cast<const T *>(yData), *DY = static_cast<const T *>(dyData);
  T *DX = static_cast<T *>(dxData);
  const C a = C(alpha), b = C(beta);
  GroupMap gy(y, mode), gdy(dy, mode), gdx(dx, mode);
  const int64_t K = gy.K;
  forGroups<C>(h, gy.groups, 2 * K, [&](int64_t g, C *v) {
    const T *yg = Y + gy.base(g), *dyg = DY + gdy.base(g);
    T *dxg = DX + gdx.base(g);
    C *yv = v, *dv = v + K;
    C s = C(0);
    for (int64_t k = 0; k < K; ++k) {
      yv[k] = C(toFloat(yg[gy.inner[size_t(k)]]));
      dv[k] = C(toFloat(dyg[gdy.inner[size_t(k)]]));
    }
    if (algo == LAMINA_SOFTMAX_LOG) {
      for (int64_t k = 0; k < K; ++k)
        s += dv[k];
      for (int64_t k = 0; k < K; ++k)
        storeScaled(dxg + gdx.inner[size_t(k)], dv[k] - std::exp(yv[k]) * s, a, b);
    } else {
      for (int64_t k = 0; k < K; ++k)
        s += dv[k] * yv[k];
      for (int64_t k = 0; k < K; ++k)
        storeScaled(dxg + gdx.inner[size_t(k)], yv[k] * (dv[k] - s), a, b);
    }
  });
}

} // namespace

void softmaxForward(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
                    const TensorDesc &x, const void *xData, double beta, const TensorDesc &y, void *yData) {
  LAMINA_DISPATCH_FLOAT_TYPES(x.dataType, forwardT, h, algo, mode, alpha, x, xData, beta, y, yData);
}

void softmaxBackward(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
                     const TensorDesc &y, const void *yData, const TensorDesc &dy, const void *dyData, double beta,
                     const TensorDesc &dx, void *dxData) {
  LAMINA_DISPATCH_FLOAT_TYPES(y.dataType, backwardT, h, algo, mode, alpha, y, yData, dy, dyData, beta, dx, dxData);
}

} // namespace lamina::cpu
