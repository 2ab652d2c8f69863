// CUDA pooling: MAX (with the NaN rule) and AVERAGE (include/exclude padding) over 1..3 spatial dims,
// any strides. As on the CPU, every problem is normalised to 3 spatial dims (leading dims of size 1)
// and every element is addressed through its tensor's own strides.
// Forward: one thread per output element. Backward: one thread per dx element, gathering from the dy
// windows that cover it (the MAX argmax of each such window is recomputed from x), so there are no
// atomics and the result is deterministic; windows are visited in the CPU's order (q0, q1, q2
// ascending), so the sums round the same way.
#include "cuda/device.cuh"
#include "cuda/ops.h"

namespace lamina::cuda {
namespace {

// Strides of a tensor in the normalised N, C, d0, d1, d2 order.
struct PoolStrides {
  int64_t n = 0, c = 0, s[3] = {0, 0, 0};
};

PoolStrides poolStrides(const TensorDesc &t) {
  PoolStrides r;
  r.n = t.strides[0];
  r.c = t.strides[1];
  const int sd = t.nbDims - 2;
  for (int i = 0; i < sd; ++i)
    r.s[3 - sd + i] = t.strides[2 + i];
  return r;
}

struct PoolGeom {
  int64_t N = 0, C = 0;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t win[3] = {1, 1, 1}, pad[3] = {0, 0, 0}, str[3] = {1, 1, 1};
  bool isMax = true, include = false, propagate = false;
  // Thread order: channels innermost when C is the contiguous dim of the tensor walked (coalesced
  // for NHWC), else the last spatial dim innermost (coalesced for NCHW).
  bool channelsLast = false;
};

PoolGeom makeGeom(const PoolingDesc &p, const TensorDesc &x, const TensorDesc &y, bool channelsLast) {
  PoolGeom g;
  g.N = x.dims[0];
  g.C = x.dims[1];
  const int sd = x.nbDims - 2, o = 3 - sd;
  for (int i = 0; i < sd; ++i) {
    g.in[o + i] = x.dims[2 + i];
    g.out[o + i] = y.dims[2 + i];
    g.win[o + i] = p.window[i];
    g.pad[o + i] = p.pads[i];
    g.str[o + i] = p.strides[i];
  }
  g.isMax = p.mode == LAMINA_POOLING_MAX;
  g.include = p.mode == LAMINA_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
  g.propagate = p.nan == LAMINA_PROPAGATE_NAN;
  g.channelsLast = channelsLast;
  return g;
}

// Splits linear index i over (N, C, e0, e1, e2) in the geometry's thread order.
__device__ __forceinline__ void decode(int64_t i, const PoolGeom &g, const int64_t e[3], int64_t &n, int64_t &c,
                                       int64_t q[3]) {
  if (g.channelsLast) {
    c = i % g.C;
    i /= g.C;
  }
  q[2] = i % e[2];
  i /= e[2];
  q[1] = i % e[1];
  i /= e[1];
  q[0] = i % e[0];
  i /= e[0];
  if (!g.channelsLast) {
    c = i % g.C;
    i /= g.C;
  }
  n = i;
}

// Window of output index q along dim d: in-image range [lo, hi) and the clipped size (Caffe's divisor).
struct Range {
  int64_t lo, hi, clip;
};
__device__ __forceinline__ Range windowOf(const PoolGeom &g, int d, int64_t q) {
  const int64_t start = q * g.str[d] - g.pad[d];
  const int64_t end = min(start + g.win[d], g.in[d] + g.pad[d]); // clipped to the padded input
  return Range{max(start, int64_t(0)), min(end, g.in[d]), end - start};
}

// Running max with the descriptor's NaN rule (as the CPU's `takes`): PROPAGATE: the first NaN wins and
// stays; NOT_PROPAGATE: NaN is skipped (a NaN-only window gives NaN).
template <class A> __device__ __forceinline__ bool takes(A v, A m, bool propagate) {
  if (propagate)
    return !isnan(m) && (isnan(v) || v > m);
  return v > m || (isnan(m) && !isnan(v));
}

// Max of the window (r0, r1, r2) of plane xp and its position; found = false for an empty window.
template <class T>
__device__ __forceinline__ acc_t<T> windowMax(const T *xp, const PoolStrides &xs, const Range r[3], bool propagate,
                                              int64_t arg[3], bool &found) {
  using A = acc_t<T>;
  A m = A(0);
  found = false;
  for (int64_t i0 = r[0].lo; i0 < r[0].hi; ++i0)
    for (int64_t i1 = r[1].lo; i1 < r[1].hi; ++i1)
      for (int64_t i2 = r[2].lo; i2 < r[2].hi; ++i2) {
        const A v = toAcc(xp[i0 * xs.s[0] + i1 * xs.s[1] + i2 * xs.s[2]]);
        if (!found || takes(v, m, propagate)) {
          m = v;
          arg[0] = i0;
          arg[1] = i1;
          arg[2] = i2;
          found = true;
        }
      }
  return m;
}

template <class T>
__global__ void poolForwardKernel(PoolGeom g, PoolStrides xs, PoolStrides ys, const T *__restrict__ X, T *Y,
                                  acc_t<T> alpha, acc_t<T> beta, int64_t total) {
  using A = acc_t<T>;
  LAMINA_GRID_STRIDE_LOOP(idx, total) {
    int64_t n, c, q[3];
    decode(idx, g, g.out, n, c, q);
    const Range r[3] = {windowOf(g, 0, q[0]), windowOf(g, 1, q[1]), windowOf(g, 2, q[2])};
    const T *xp = X + n * xs.n + c * xs.c;
    A acc = A(0);
    if (g.isMax) {
      int64_t arg[3];
      bool found;
      acc = windowMax(xp, xs, r, g.propagate, arg, found);
    } else {
      for (int64_t i0 = r[0].lo; i0 < r[0].hi; ++i0)
        for (int64_t i1 = r[1].lo; i1 < r[1].hi; ++i1)
          for (int64_t i2 = r[2].lo; i2 < r[2].hi; ++i2)
            acc += toAcc(xp[i0 * xs.s[0] + i1 * xs.s[1] + i2 * xs.s[2]]);
      const int64_t div = g.include ? r[0].clip * r[1].clip * r[2].clip
                                    : (r[0].hi - r[0].lo) * (r[1].hi - r[1].lo) * (r[2].hi - r[2].lo);
      acc /= A(div);
    }
    storeScaled(Y + n * ys.n + c * ys.c + q[0] * ys.s[0] + q[1] * ys.s[1] + q[2] * ys.s[2], acc, alpha, beta);
  }
}

// Output indices along dim d whose windows cover input index i: [first, last] (empty when first > last).
__device__ __forceinline__ void coveringOutputs(const PoolGeom &g, int d, int64_t i, int64_t &first, int64_t &last) {
  // q covers i when q*str - pad <= i < q*str - pad + win (the clip to in + pad never excludes i < in)
  const int64_t a = i + g.pad[d] - g.win[d] + 1; // smallest q*str
  first = a <= 0 ? 0 : (a + g.str[d] - 1) / g.str[d];
  last = min((i + g.pad[d]) / g.str[d], g.out[d] - 1);
}

template <class T>
__global__ void poolBackwardKernel(PoolGeom g, PoolStrides xs, PoolStrides dys, PoolStrides dxs,
                                   const T *__restrict__ X, const T *__restrict__ DY, T *DX, acc_t<T> alpha,
                                   acc_t<T> beta, int64_t total) {
  using A = acc_t<T>;
  LAMINA_GRID_STRIDE_LOOP(idx, total) {
    int64_t n, c, i[3];
    decode(idx, g, g.in, n, c, i);
    int64_t f[3], l[3];
    for (int d = 0; d < 3; ++d)
      coveringOutputs(g, d, i[d], f[d], l[d]);
    const T *xp = X + n * xs.n + c * xs.c;
    const T *dyp = DY + n * dys.n + c * dys.c;
    A acc = A(0);
    for (int64_t q0 = f[0]; q0 <= l[0]; ++q0)
      for (int64_t q1 = f[1]; q1 <= l[1]; ++q1)
        for (int64_t q2 = f[2]; q2 <= l[2]; ++q2) {
          const Range r[3] = {windowOf(g, 0, q0), windowOf(g, 1, q1), windowOf(g, 2, q2)};
          const A d = toAcc(dyp[q0 * dys.s[0] + q1 * dys.s[1] + q2 * dys.s[2]]);
          if (g.isMax) {
            int64_t arg[3];
            bool found;
            windowMax(xp, xs, r, g.propagate, arg, found);
            if (found && arg[0] == i[0] && arg[1] == i[1] && arg[2] == i[2])
              acc += d;
          } else {
            const int64_t div = g.include ? r[0].clip * r[1].clip * r[2].clip
                                          : (r[0].hi - r[0].lo) * (r[1].hi - r[1].lo) * (r[2].hi - r[2].lo);
            acc += d / A(div);
          }
        }
    storeScaled(DX + n * dxs.n + c * dxs.c + i[0] * dxs.s[0] + i[1] * dxs.s[1] + i[2] * dxs.s[2], acc, alpha, beta);
  }
}

template <class T>
void forwardT(const laminaContext &h, const PoolingDesc &p, double alpha, const TensorDesc &x, const void *xData,
              double beta, const TensorDesc &y, void *yData) {
  const PoolGeom g = makeGeom(p, x, y, x.dims[1] > 1 && y.strides[1] == 1);
  const int64_t total = y.numel();
  if (total == 0)
    return;
  poolForwardKernel<T>
      <<<gridFor(total), kBlock, 0, streamOf(h)>>>(g, poolStrides(x), poolStrides(y), static_cast<const T *>(xData),
                                                   static_cast<T *>(yData), acc_t<T>(alpha), acc_t<T>(beta), total);
  LAMINA_CUDA_LAUNCHED();
}

template <class T>
void backwardT(const laminaContext &h, const PoolingDesc &p, double alpha, const TensorDesc &dy, const void *dyData,
               const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx, void *dxData) {
  const PoolGeom g = makeGeom(p, x, dy, x.dims[1] > 1 && dx.strides[1] == 1);
  const int64_t total = dx.numel();
  if (total == 0)
    return;
  poolBackwardKernel<T><<<gridFor(total), kBlock, 0, streamOf(h)>>>(
      g, poolStrides(x), poolStrides(dy), poolStrides(dx), static_cast<const T *>(xData),
      static_cast<const T *>(dyData), static_cast<T *>(dxData), acc_t<T>(alpha), acc_t<T>(beta), total);
  LAMINA_CUDA_LAUNCHED();
}

} // namespace

void poolingForward(const laminaContext &h, const PoolingDesc &pool, double alpha, const TensorDesc &x,
                    const void *xData, double beta, const TensorDesc &y, void *yData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(x.dataType, forwardT, h, pool, alpha, x, xData, beta, y, yData);
}

void poolingBackward(const laminaContext &h, const PoolingDesc &pool, double alpha, const TensorDesc &dy,
                     const void *dyData, const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx,
                     void *dxData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(x.dataType, backwardT, h, pool, alpha, dy, dyData, x, xData, beta, dx, dxData);
}

} // namespace lamina::cuda
