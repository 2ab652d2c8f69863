// Softmax as a set of independent groups (n for INSTANCE, (n, spatial position) for CHANNEL), each
// a vector of K elements at per-tensor offsets. A group is read fully before it is written, so x and
// y (or dy and dx) may share memory with one layout.
#include "cpu/softmax.h"

#include "cpu/cpu_common.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
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

// Group g, element k of tensor t lives at base(g) + off(k).
struct GroupMap {
  int64_t groups = 0, K = 0, spatial = 1;
  bool instance = true;
  bool memoryOrder = false; // off(k) = k: see instanceInMemoryOrder
  std::vector<int64_t> inner;
  const TensorDesc *t = nullptr;

  GroupMap(const TensorDesc &td, laminaSoftmaxMode_t mode, bool inMemoryOrder) : t(&td) {
    instance = mode == LAMINA_SOFTMAX_MODE_INSTANCE;
    for (int d = 2; d < td.nbDims; ++d)
      spatial *= td.dims[d];
    if (instance) {
      groups = td.dims[0];
      K = td.dims[1] * spatial;
      memoryOrder = inMemoryOrder;
      if (memoryOrder)
        return;
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
  int64_t off(int64_t k) const { return memoryOrder ? k : inner[size_t(k)]; }
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

// INSTANCE mode treats a group as a set: the result does not depend on the order its elements are
// visited in. When every tensor has one layout whose per-n block is dense (packed NCHW, NHWC or any
// other permutation), element k can be memory offset k of the block in all of them: no offset table.
bool instanceInMemoryOrder(laminaSoftmaxMode_t mode, std::initializer_list<const TensorDesc *> ts) {
  if (mode != LAMINA_SOFTMAX_MODE_INSTANCE)
    return false;
  const TensorDesc &t0 = **ts.begin();
  TensorDesc sub;
  sub.nbDims = t0.nbDims - 1;
  std::copy(t0.dims + 1, t0.dims + t0.nbDims, sub.dims);
  std::copy(t0.strides + 1, t0.strides + t0.nbDims, sub.strides);
  if (sub.spanElements() != sub.numel() || sub.hasOverlap())
    return false;
  for (const TensorDesc *t : ts)
    if (!t->sameLayout(t0))
      return false;
  return true;
}

// Runs body(g, buffer) over groups in chunks, with a per-chunk scratch vector of K compute values.
template <class C, class Body> void forGroups(const laminaContext &h, int64_t groups, int64_t K, Body &&body) {
  parallelChunks(h, groups, K, [&](int64_t begin, int64_t end) {
    std::vector<C> buf(static_cast<size_t>(K));
    for (int64_t g = begin; g < end; ++g)
      body(g, buf.data());
  });
}

// CHANNEL mode on packed NCHW-like tensors (element (n, c, s) at (n*C + c)*S + s): tiles of
// spatial positions, channels in the outer loop, so every pass reads contiguous memory.
constexpr int64_t kTile = 64;

template <class T>
void forwardChannelPackedT(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, compute_t<T> a, compute_t<T> b,
                           int64_t N, int64_t Ch, int64_t S, const T *X, T *Y) {
  using C = compute_t<T>;
  const int64_t tiles = (S + kTile - 1) / kTile;
  parallelChunks(h, N * tiles, Ch * kTile, [&](int64_t begin, int64_t end) {
    C m[kTile], sum[kTile];
    std::vector<C> ex(static_cast<size_t>(Ch * kTile)); // exp(x - max) of the tile, computed once
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / tiles, s0 = (item % tiles) * kTile, sl = std::min(kTile, S - s0);
      const T *xb = X + n * Ch * S + s0;
      T *yb = Y + n * Ch * S + s0;
      for (int64_t s = 0; s < sl; ++s) {
        m[s] = algo == LAMINA_SOFTMAX_FAST ? C(0) : C(toFloat(xb[s]));
        sum[s] = C(0);
      }
      if (algo != LAMINA_SOFTMAX_FAST) {
        for (int64_t c = 1; c < Ch; ++c)
          for (int64_t s = 0; s < sl; ++s)
            m[s] = std::max(m[s], C(toFloat(xb[c * S + s])));
        for (int64_t s = 0; s < sl; ++s)
          if (std::isinf(m[s]))
            m[s] = C(0); // as in the generic path
      }
      for (int64_t c = 0; c < Ch; ++c)
        for (int64_t s = 0; s < sl; ++s)
          sum[s] += (ex[size_t(c * kTile + s)] = std::exp(C(toFloat(xb[c * S + s])) - m[s]));
      if (algo == LAMINA_SOFTMAX_LOG) {
        for (int64_t s = 0; s < sl; ++s)
          m[s] += std::log(sum[s]);
        for (int64_t c = 0; c < Ch; ++c)
          for (int64_t s = 0; s < sl; ++s)
            storeScaled(yb + c * S + s, C(toFloat(xb[c * S + s])) - m[s], a, b);
      } else {
        for (int64_t s = 0; s < sl; ++s)
          sum[s] = C(1) / sum[s];
        for (int64_t c = 0; c < Ch; ++c)
          for (int64_t s = 0; s < sl; ++s)
            storeScaled(yb + c * S + s, ex[size_t(c * kTile + s)] * sum[s], a, b);
      }
    }
  });
}

template <class T>
void backwardChannelPackedT(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, compute_t<T> a, compute_t<T> b,
                            int64_t N, int64_t Ch, int64_t S, const T *Y, const T *DY, T *DX) {
  using C = compute_t<T>;
  const int64_t tiles = (S + kTile - 1) / kTile;
  const bool log = algo == LAMINA_SOFTMAX_LOG;
  parallelChunks(h, N * tiles, Ch * kTile, [&](int64_t begin, int64_t end) {
    C sum[kTile];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / tiles, s0 = (item % tiles) * kTile, sl = std::min(kTile, S - s0);
      const int64_t base = n * Ch * S + s0;
      const T *yb = Y + base, *db = DY + base;
      T *ob = DX + base;
      for (int64_t s = 0; s < sl; ++s)
        sum[s] = C(0);
      for (int64_t c = 0; c < Ch; ++c)
        for (int64_t s = 0; s < sl; ++s) {
          const C d = C(toFloat(db[c * S + s]));
          sum[s] += log ? d : d * C(toFloat(yb[c * S + s]));
        }
      for (int64_t c = 0; c < Ch; ++c)
        for (int64_t s = 0; s < sl; ++s) {
          const C yv = C(toFloat(yb[c * S + s])), d = C(toFloat(db[c * S + s]));
          storeScaled(ob + c * S + s, log ? d - std::exp(yv) * sum[s] : yv * (d - sum[s]), a, b);
        }
    }
  });
}

// True when t is N x C x spatial... packed in that order (spatial non-empty), so CHANNEL mode can tile.
bool channelPackable(const TensorDesc &t) { return t.nbDims > 2 && t.isPackedNCHW(); }

template <class T>
void forwardT(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
              const TensorDesc &x, const void *xData, double beta, const TensorDesc &y, void *yData) {
  using C = compute_t<T>;
  const T *X = static_cast<const T *>(xData);
  T *Y = static_cast<T *>(yData);
  const C a = C(alpha), b = C(beta);
  if (mode == LAMINA_SOFTMAX_MODE_CHANNEL && channelPackable(x) && channelPackable(y))
    return forwardChannelPackedT<T>(h, algo, a, b, x.dims[0], x.dims[1], x.numel() / (x.dims[0] * x.dims[1]), X, Y);
  const bool mo = instanceInMemoryOrder(mode, {&x, &y});
  GroupMap gx(x, mode, mo), gy(y, mode, mo);
  const int64_t K = gx.K;
  forGroups<C>(h, gx.groups, K, [&](int64_t g, C *v) {
    const T *xg = X + gx.base(g);
    T *yg = Y + gy.base(g);
    for (int64_t k = 0; k < K; ++k)
      v[k] = C(toFloat(xg[gx.off(k)]));
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
        storeScaled(yg + gy.off(k), v[k] - lse, a, b);
    } else {
      for (int64_t k = 0; k < K; ++k)
        sum += (v[k] = std::exp(v[k] - m));
      const C inv = C(1) / sum;
      for (int64_t k = 0; k < K; ++k)
        storeScaled(yg + gy.off(k), v[k] * inv, a, b);
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
  if (mode == LAMINA_SOFTMAX_MODE_CHANNEL && channelPackable(y) && channelPackable(dy) && channelPackable(dx))
    return backwardChannelPackedT<T>(h, algo, a, b, y.dims[0], y.dims[1], y.numel() / (y.dims[0] * y.dims[1]), Y, DY,
                                     DX);
  const bool mo = instanceInMemoryOrder(mode, {&y, &dy, &dx});
  GroupMap gy(y, mode, mo), gdy(dy, mode, mo), gdx(dx, mode, mo);
  const int64_t K = gy.K;
  forGroups<C>(h, gy.groups, 2 * K, [&](int64_t g, C *v) {
    const T *yg = Y + gy.base(g), *dyg = DY + gdy.base(g);
    T *dxg = DX + gdx.base(g);
    C *yv = v, *dv = v + K;
    C s = C(0);
    for (int64_t k = 0; k < K; ++k) {
      yv[k] = C(toFloat(yg[gy.off(k)]));
      dv[k] = C(toFloat(dyg[gdy.off(k)]));
    }
    if (algo == LAMINA_SOFTMAX_LOG) {
      for (int64_t k = 0; k < K; ++k)
        s += dv[k];
      for (int64_t k = 0; k < K; ++k)
        storeScaled(dxg + gdx.off(k), dv[k] - std::exp(yv[k]) * s, a, b);
    } else {
      for (int64_t k = 0; k < K; ++k)
        s += dv[k] * yv[k];
      for (int64_t k = 0; k < K; ++k)
        storeScaled(dxg + gdx.off(k), yv[k] * (dv[k] - s), a, b);
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
