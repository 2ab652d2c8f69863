// CUDA LRN, with the CPU's definitions (src/cpu/lrn.cpp):
//   scale = k + alpha/size * (window sum of x^2), y = x * scale^-beta,
//   dx_j = dy_j * scale_j^-beta - 2*beta*alpha/size * x_j * sum over the window of j of
//          dy_i * x_i * scale_i^(-beta-1)
// (size = n across channels, n*n within a channel; windows are centred, n odd, n <= 15).
// Cross channel: one thread per (image, spatial position) walks the channels in order, keeping the
// values it still needs in small ring buffers; it reads channel c + 2r before it writes channel c,
// so in-place calls are safe, and neighbouring threads read neighbouring positions (coalesced NCHW).
// Within channel: one thread per element, window sums direct (separable order as on the CPU); when
// the output shares memory with an input, the input planes are first copied, a chunk at a time, to
// the handle's scratch (the cuBLAS workspace, free between calls on this stream).
#include "cuda/device.cuh"
#include "cuda/ops.h"

#include <algorithm>

namespace lamina::cuda {
namespace {

__device__ __forceinline__ float powAcc(float b, float e) { return powf(b, e); }
__device__ __forceinline__ double powAcc(double b, double e) { return pow(b, e); }

// Ring size: holds 2r + 1 <= 15 consecutive channels (n <= 15).
constexpr int kRing = 16;

template <class A> struct LrnConsts {
  A alpha, beta; // output scaling
  A k, an, pb;   // LRN k, alpha/size, beta
  int64_t r;     // window radius
};

// Cross channel forward. Tensors of `pos`: 0 = x, 1 = y. xc, yc: channel strides.
template <class T>
__global__ void crossForwardKernel(Shape<2> pos, int64_t C, int64_t xc, int64_t yc, const T *X, T *Y,
                                   LrnConsts<acc_t<T>> q) {
  using A = acc_t<T>;
  LAMINA_GRID_STRIDE_LOOP(p, pos.numel) {
    int64_t base[2];
    pos.offsets(p, base);
    const T *xp = X + base[0];
    T *yp = Y + base[1];
    A xr[kRing];
    int64_t loaded = 0;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t hi = min(C - 1, c + q.r);
      for (; loaded <= hi; ++loaded)
        xr[loaded % kRing] = toAcc(xp[loaded * xc]);
      A s = A(0);
      for (int64_t j = max(int64_t(0), c - q.r); j <= hi; ++j)
        s += xr[j % kRing] * xr[j % kRing];
      const A scale = q.k + q.an * s;
      storeScaled(yp + c * yc, xr[c % kRing] * powAcc(scale, -q.pb), q.alpha, q.beta);
    }
  }
}

// Cross channel backward. Tensors of `pos`: 0 = x, 1 = dy, 2 = dx. At output channel c the thread has
// loaded x up to c + 2r and computed t (= dy x scale^(-beta-1)) up to c + r.
template <class T>
__global__ void crossBackwardKernel(Shape<3> pos, int64_t C, int64_t xc, int64_t dyc, int64_t dxc, const T *X,
                                    const T *DY, T *DX, LrnConsts<acc_t<T>> q) {
  using A = acc_t<T>;
  LAMINA_GRID_STRIDE_LOOP(p, pos.numel) {
    int64_t base[3];
    pos.offsets(p, base);
    const T *xp = X + base[0], *dyp = DY + base[1];
    T *dxp = DX + base[2];
    A xr[kRing], tr[kRing], dir[kRing]; // x; t; the direct term dy * scale^-beta
    int64_t loaded = 0, done = 0;       // x loaded below `loaded`; t, dir computed below `done`
    for (int64_t c = 0; c < C; ++c) {
      const int64_t tHi = min(C - 1, c + q.r);
      for (; done <= tHi; ++done) {
        const int64_t xHi = min(C - 1, done + q.r);
        for (; loaded <= xHi; ++loaded)
          xr[loaded % kRing] = toAcc(xp[loaded * xc]);
        A s = A(0);
        for (int64_t j = max(int64_t(0), done - q.r); j <= xHi; ++j)
          s += xr[j % kRing] * xr[j % kRing];
        const A scale = q.k + q.an * s, pw = powAcc(scale, -q.pb);
        const A d = toAcc(dyp[done * dyc]);
        dir[done % kRing] = d * pw;
        tr[done % kRing] = d * xr[done % kRing] * pw / scale;
      }
      A ws = A(0);
      for (int64_t j = max(int64_t(0), c - q.r); j <= tHi; ++j)
        ws += tr[j % kRing];
      storeScaled(dxp + c * dxc, dir[c % kRing] - A(2) * q.pb * q.an * xr[c % kRing] * ws, q.alpha, q.beta);
    }
  }
}

// A 4-D N x C x H x W source: either its own strides, or packed planes staged in scratch from plane
// `first` on (element (plane, i, j) at ((plane - first) * H + i) * W + j).
template <class T> struct PlaneSrc {
  const T *p;
  bool staged;
  int64_t sn, sc, sh, sw;
  int64_t first;
  __device__ __forceinline__ T at(int64_t n, int64_t c, int64_t C, int64_t H, int64_t W, int64_t i, int64_t j) const {
    if (staged)
      return p[((n * C + c - first) * H + i) * W + j];
    return p[n * sn + c * sc + i * sh + j * sw];
  }
};

template <class T> PlaneSrc<T> ownSrc(const TensorDesc &t, const void *data) {
  return PlaneSrc<T>{static_cast<const T *>(data), false, t.strides[0], t.strides[1], t.strides[2], t.strides[3], 0};
}

// Copies planes [first, first + count) of t to packed scratch.
template <class T>
__global__ void stagePlanesKernel(const T *src, int64_t C, int64_t H, int64_t W, int64_t sn, int64_t sc, int64_t sh,
                                  int64_t sw, int64_t first, int64_t total, T *dst) {
  LAMINA_GRID_STRIDE_LOOP(e, total) {
    const int64_t j = e % W, i = (e / W) % H, plane = first + e / (W * H);
    dst[e] = src[(plane / C) * sn + (plane % C) * sc + i * sh + j * sw];
  }
}

// Sum of v(i2, j2) over the n x n window of (i, j) clipped to the plane: per-row sums added row by row,
// the CPU's separable order.
template <class A, class F>
__device__ __forceinline__ A boxSum(int64_t i, int64_t j, int64_t H, int64_t W, int64_t r, F &&v) {
  A s = A(0);
  for (int64_t i2 = max(int64_t(0), i - r); i2 <= min(H - 1, i + r); ++i2) {
    A row = A(0);
    for (int64_t j2 = max(int64_t(0), j - r); j2 <= min(W - 1, j + r); ++j2)
      row += v(i2, j2);
    s += row;
  }
  return s;
}

// Within channel, the `total` elements of planes first, first + 1, ...: y (forward) or dx (backward).
template <class T>
__global__ void withinKernel(int64_t C, int64_t H, int64_t W, int64_t first, int64_t total, PlaneSrc<T> x,
                             PlaneSrc<T> dy, bool backward, T *OUT, int64_t on, int64_t oc, int64_t oh, int64_t ow,
                             LrnConsts<acc_t<T>> q) {
  using A = acc_t<T>;
  LAMINA_GRID_STRIDE_LOOP(e, total) {
    const int64_t j = e % W, i = (e / W) % H, plane = first + e / (W * H);
    const int64_t n = plane / C, c = plane % C;
    auto xv = [&](int64_t a, int64_t b) { return toAcc(x.at(n, c, C, H, W, a, b)); };
    auto scaleAt = [&](int64_t a, int64_t b) {
      return q.k + q.an * boxSum<A>(a, b, H, W, q.r, [&](int64_t u, int64_t v) {
                     const A t = xv(u, v);
                     return t * t;
                   });
    };
    const A xe = xv(i, j), sc = scaleAt(i, j);
    A res;
    if (!backward) {
      res = xe * powAcc(sc, -q.pb);
    } else {
      // window sum of t = dy * x * scale^(-beta-1); every neighbour's scale is recomputed (no scratch)
      const A ws = boxSum<A>(i, j, H, W, q.r, [&](int64_t u, int64_t v) {
        const A s2 = scaleAt(u, v);
        return toAcc(dy.at(n, c, C, H, W, u, v)) * xv(u, v) * powAcc(s2, -q.pb) / s2;
      });
      const A d = toAcc(dy.at(n, c, C, H, W, i, j));
      res = d * powAcc(sc, -q.pb) - A(2) * q.pb * q.an * xe * ws;
    }
    storeScaled(OUT + n * on + c * oc + i * oh + j * ow, res, q.alpha, q.beta);
  }
}

template <class T> LrnConsts<acc_t<T>> consts(const LRNDesc &p, laminaLRNMode_t mode, double alpha, double beta) {
  using A = acc_t<T>;
  const double size = mode == LAMINA_LRN_CROSS_CHANNEL ? double(p.n) : double(p.n) * p.n;
  return LrnConsts<A>{A(alpha), A(beta), A(p.k), A(p.alpha / size), A(p.beta), int64_t(p.n / 2)};
}

// Positions (image, spatial...) of the tensors ts, row-major.
template <int K> Shape<K> positions(const TensorDesc *const ts[K]) {
  const TensorDesc &t0 = *ts[0];
  int64_t dims[LAMINA_DIM_MAX], strides[K][LAMINA_DIM_MAX];
  int nb = 0;
  dims[nb++] = t0.dims[0];
  for (int d = 2; d < t0.nbDims; ++d)
    dims[nb++] = t0.dims[d];
  const int64_t *st[K];
  for (int k = 0; k < K; ++k) {
    strides[k][0] = ts[k]->strides[0];
    for (int d = 2; d < t0.nbDims; ++d)
      strides[k][d - 1] = ts[k]->strides[d];
    st[k] = strides[k];
  }
  return makeShape<K>(nb, dims, st);
}

template <class T>
void withinT(const laminaContext &h, const LrnConsts<acc_t<T>> &q, const TensorDesc &x, const void *xData,
             const TensorDesc *dy, const void *dyData, const TensorDesc &out, void *outData) {
  const int64_t N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3], plane = H * W, planes = N * C;
  if (planes == 0 || plane == 0)
    return;
  cudaStream_t s = streamOf(h);
  // Inputs the output overwrites are staged (identical descriptors: the API checks in-place calls).
  const bool stageX = xData == outData, stageDy = dy && dyData == outData;
  const int nStaged = int(stageX) + int(stageDy);
  int64_t chunk = planes;
  T *scratchX = nullptr, *scratchDy = nullptr;
  if (nStaged) {
    const CudaState &st = stateOf(h);
    const int64_t perPlane = plane * int64_t(sizeof(T)) * nStaged;
    chunk = std::min<int64_t>(planes, int64_t(st.blasWorkspaceBytes) / perPlane);
    if (chunk < 1)
      fail(LAMINA_STATUS_NOT_SUPPORTED,
           "in-place within-channel LRN needs %lld bytes of scratch per plane; the "
           "handle has %zu",
           (long long)perPlane, st.blasWorkspaceBytes);
    T *ws = static_cast<T *>(st.blasWorkspace);
    if (stageX) {
      scratchX = ws;
      ws += chunk * plane;
    }
    if (stageDy)
      scratchDy = ws;
  }
  for (int64_t first = 0; first < planes; first += chunk) {
    const int64_t count = std::min(chunk, planes - first), total = count * plane;
    PlaneSrc<T> xs = ownSrc<T>(x, xData);
    PlaneSrc<T> ds = dy ? ownSrc<T>(*dy, dyData) : xs;
    if (stageX) {
      stagePlanesKernel<T><<<gridFor(total), kBlock, 0, s>>>(static_cast<const T *>(xData), C, H, W, x.strides[0],
                                                             x.strides[1], x.strides[2], x.strides[3], first, total,
                                                             scratchX);
      LAMINA_CUDA_LAUNCHED();
      xs = PlaneSrc<T>{scratchX, true, 0, 0, 0, 0, first};
    }
    if (stageDy) {
      stagePlanesKernel<T><<<gridFor(total), kBlock, 0, s>>>(static_cast<const T *>(dyData), C, H, W, dy->strides[0],
                                                             dy->strides[1], dy->strides[2], dy->strides[3], first,
                                                             total, scratchDy);
      LAMINA_CUDA_LAUNCHED();
      ds = PlaneSrc<T>{scratchDy, true, 0, 0, 0, 0, first};
    }
    withinKernel<T><<<gridFor(total), kBlock, 0, s>>>(C, H, W, first, total, xs, ds, dy != nullptr,
                                                      static_cast<T *>(outData), out.strides[0], out.strides[1],
                                                      out.strides[2], out.strides[3], q);
    LAMINA_CUDA_LAUNCHED();
  }
}

template <class T>
void forwardT(const laminaContext &h, const LRNDesc &p, laminaLRNMode_t mode, double alpha, const TensorDesc &x,
              const void *xData, double beta, const TensorDesc &y, void *yData) {
  const auto q = consts<T>(p, mode, alpha, beta);
  if (mode == LAMINA_LRN_WITHIN_CHANNEL)
    return withinT<T>(h, q, x, xData, nullptr, nullptr, y, yData);
  const TensorDesc *ts[2] = {&x, &y};
  const Shape<2> pos = positions<2>(ts);
  if (pos.numel == 0 || x.dims[1] == 0)
    return;
  crossForwardKernel<T><<<gridFor(pos.numel), kBlock, 0, streamOf(h)>>>(
      pos, x.dims[1], x.strides[1], y.strides[1], static_cast<const T *>(xData), static_cast<T *>(yData), q);
  LAMINA_CUDA_LAUNCHED();
}

template <class T>
void backwardT(const laminaContext &h, const LRNDesc &p, laminaLRNMode_t mode, double alpha, const TensorDesc &dy,
               const void *dyData, const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx,
               void *dxData) {
  const auto q = consts<T>(p, mode, alpha, beta);
  if (mode == LAMINA_LRN_WITHIN_CHANNEL)
    return withinT<T>(h, q, x, xData, &dy, dyData, dx, dxData);
  const TensorDesc *ts[3] = {&x, &dy, &dx};
  const Shape<3> pos = positions<3>(ts);
  if (pos.numel == 0 || x.dims[1] == 0)
    return;
  crossBackwardKernel<T><<<gridFor(pos.numel), kBlock, 0, streamOf(h)>>>(
      pos, x.dims[1], x.strides[1], dy.strides[1], dx.strides[1], static_cast<const T *>(xData),
      static_cast<const T *>(dyData), static_cast<T *>(dxData), q);
  LAMINA_CUDA_LAUNCHED();
}

} // namespace

void lrnForward(const laminaContext &h, const LRNDesc &lrn, laminaLRNMode_t mode, double alpha, const TensorDesc &x,
                const void *xData, double beta, const TensorDesc &y, void *yData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(x.dataType, forwardT, h, lrn, mode, alpha, x, xData, beta, y, yData);
}

void lrnBackward(const laminaContext &h, const LRNDesc &lrn, laminaLRNMode_t mode, double alpha, const TensorDesc &dy,
                 const void *dyData, const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx,
                 void *dxData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(x.dataType, backwardT, h, lrn, mode, alpha, dy, dyData, x, xData, beta, dx, dxData);
}

} // namespace lamina::cuda
