// Pooling with every spatial problem normalised to 3 dims (leading dims of size 1). Any strides:
// each element is addressed through the tensor's own strides, so packed NCHW, NHWC and odd strides
// take the same path. Forward runs over output rows; backward over (n, c) planes, accumulating in
// a plane-sized buffer so that overlapping windows need no atomics.
#include "cpu/pooling.h"

#include "cpu/cpu_common.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
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

struct Geom {
  int64_t N = 0, C = 0;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t win[3] = {1, 1, 1}, pad[3] = {}, str[3] = {1, 1, 1};
  // per dim and output index: in-image range [lo, hi) and the clipped window size (Caffe's divisor)
  std::vector<int64_t> lo[3], hi[3], clip[3];
};

// Strides of a tensor in the normalised N, C, d0, d1, d2 order.
struct Strides {
  int64_t n, c, s[3] = {0, 0, 0};
  explicit Strides(const TensorDesc &t) : n(t.strides[0]), c(t.strides[1]) {
    int sd = t.nbDims - 2;
    for (int i = 0; i < sd; ++i)
      s[3 - sd + i] = t.strides[2 + i];
  }
};

Geom makeGeom(const PoolingDesc &p, const TensorDesc &x, const TensorDesc &y) {
  Geom g;
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
  for (int i = 0; i < 3; ++i) {
    for (int64_t q = 0; q < g.out[i]; ++q) {
      int64_t start = q * g.str[i] - g.pad[i];
      int64_t end = std::min(start + g.win[i], g.in[i] + g.pad[i]); // clipped to the padded input
      g.clip[i].push_back(end - start);
      g.lo[i].push_back(std::max<int64_t>(start, 0));
      g.hi[i].push_back(std::min(end, g.in[i]));
    }
  }
  return g;
}

// Running max with the descriptor's NaN rule; `take` says whether v replaces the current best m.
// PROPAGATE: the first NaN wins and stays. NOT_PROPAGATE: NaN is skipped (a NaN-only window is NaN).
template <class C> inline bool takes(C v, C m, bool propagate) {
  if (propagate)
    return !std::isnan(m) && (std::isnan(v) || v > m);
  return v > m || (std::isnan(m) && !std::isnan(v));
}

// Channels-last fast path (C contiguous in every tensor, e.g. packed NHWC): the innermost loop runs
// over channels, so each window element is one contiguous, vectorisable load of all C values.
template <class T>
void forwardChannelsLastT(const laminaContext &h, const PoolingDesc &p, double alpha, const TensorDesc &x,
                          const void *xData, double beta, const TensorDesc &y, void *yData) {
  using C = compute_t<T>;
  const T *X = static_cast<const T *>(xData);
  T *Y = static_cast<T *>(yData);
  const C a = C(alpha), b = C(beta);
  const Geom g = makeGeom(p, x, y);
  const Strides xs(x), ys(y);
  const bool isMax = p.mode == LAMINA_POOLING_MAX, include = p.mode == LAMINA_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
  const bool prop = p.nan == LAMINA_PROPAGATE_NAN;
  const int64_t Cn = g.C, rows = g.N * g.out[0] * g.out[1], winSize = g.win[0] * g.win[1] * g.win[2];
  parallelChunks(h, rows, g.out[2] * winSize * Cn, [&](int64_t begin, int64_t end) {
    std::vector<C> acc(static_cast<size_t>(Cn));
    for (int64_t r = begin; r < end; ++r) {
      const int64_t q1 = r % g.out[1], q0 = (r / g.out[1]) % g.out[0], n = r / (g.out[1] * g.out[0]);
      const T *xp = X + n * xs.n;
      T *yp = Y + n * ys.n + q0 * ys.s[0] + q1 * ys.s[1];
      const int64_t lo0 = g.lo[0][q0], hi0 = g.hi[0][q0], lo1 = g.lo[1][q1], hi1 = g.hi[1][q1];
      for (int64_t q2 = 0; q2 < g.out[2]; ++q2) {
        const int64_t lo2 = g.lo[2][q2], hi2 = g.hi[2][q2];
        if (isMax) { // seed with the window's first element; revisiting it below changes nothing
          const T *first = xp + lo0 * xs.s[0] + lo1 * xs.s[1] + lo2 * xs.s[2];
          for (int64_t c = 0; c < Cn; ++c)
            acc[size_t(c)] = C(toFloat(first[c]));
        } else {
          std::fill(acc.begin(), acc.end(), C(0));
        }
        for (int64_t i0 = lo0; i0 < hi0; ++i0)
          for (int64_t i1 = lo1; i1 < hi1; ++i1)
            for (int64_t i2 = lo2; i2 < hi2; ++i2) {
              const T *v = xp + i0 * xs.s[0] + i1 * xs.s[1] + i2 * xs.s[2];
              if (isMax) {
                for (int64_t c = 0; c < Cn; ++c) {
                  const C e = C(toFloat(v[c]));
                  if (takes(e, acc[size_t(c)], prop))
                    acc[size_t(c)] = e;
                }
              } else {
                for (int64_t c = 0; c < Cn; ++c)
                  acc[size_t(c)] += C(toFloat(v[c]));
              }
            }
        C scale = C(1);
        if (!isMax)
          scale = C(1) /
                  C(include ? g.clip[0][q0] * g.clip[1][q1] * g.clip[2][q2] : (hi0 - lo0) * (hi1 - lo1) * (hi2 - lo2));
        T *yq = yp + q2 * ys.s[2];
        for (int64_t c = 0; c < Cn; ++c)
          storeScaled(yq + c, acc[size_t(c)] * scale, a, b);
      }
    }
  });
}

template <class T>
void forwardT(const laminaContext &h, const PoolingDesc &p, double alpha, const TensorDesc &x, const void *xData,
              double beta, const TensorDesc &y, void *yData) {
  using C = compute_t<T>;
  const T *X = static_cast<const T *>(xData);
  T *Y = static_cast<T *>(yData);
  const C a = C(alpha), b = C(beta);
  const Geom g = makeGeom(p, x, y);
  const Strides xs(x), ys(y);
  const bool isMax = p.mode == LAMINA_POOLING_MAX, include = p.mode == LAMINA_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
  const bool prop = p.nan == LAMINA_PROPAGATE_NAN;
  if (g.C > 1 && xs.c == 1 && ys.c == 1)
    return forwardChannelsLastT<T>(h, p, alpha, x, xData, beta, y, yData);
  const int64_t rows = g.N * g.C * g.out[0] * g.out[1];
  const int64_t winSize = g.win[0] * g.win[1] * g.win[2];
  // The mode and NaN rule as compile-time constants keep the window loop free of their branches.
  auto run = [&](auto maxTag, auto propTag) {
    constexpr bool kMax = decltype(maxTag)::value;
    [[maybe_unused]] constexpr bool kProp = decltype(propTag)::value;
    parallelChunks(h, rows, g.out[2] * winSize, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t q1 = r % g.out[1], q0 = (r / g.out[1]) % g.out[0], nc = r / (g.out[1] * g.out[0]);
        const int64_t n = nc / g.C, c = nc % g.C;
        const T *xp = X + n * xs.n + c * xs.c;
        T *yp = Y + n * ys.n + c * ys.c + q0 * ys.s[0] + q1 * ys.s[1];
        const int64_t lo0 = g.lo[0][q0], hi0 = g.hi[0][q0], lo1 = g.lo[1][q1], hi1 = g.hi[1][q1];
        for (int64_t q2 = 0; q2 < g.out[2]; ++q2) {
          const int64_t lo2 = g.lo[2][q2], hi2 = g.hi[2][q2];
          // MAX starts from the window's first element (revisiting it changes nothing)
          C acc = kMax ? C(toFloat(xp[lo0 * xs.s[0] + lo1 * xs.s[1] + lo2 * xs.s[2]])) : C(0);
          for (int64_t i0 = lo0; i0 < hi0; ++i0)
            for (int64_t i1 = lo1; i1 < hi1; ++i1) {
              const T *row = xp + i0 * xs.s[0] + i1 * xs.s[1];
              for (int64_t i2 = lo2; i2 < hi2; ++i2) {
                const C v = C(toFloat(row[i2 * xs.s[2]]));
                if constexpr (kMax) {
                  if (takes(v, acc, kProp))
                    acc = v;
                } else {
                  acc += v;
                }
              }
            }
          if constexpr (!kMax) {
            const int64_t div =
                include ? g.clip[0][q0] * g.clip[1][q1] * g.clip[2][q2] : (hi0 - lo0) * (hi1 - lo1) * (hi2 - lo2);
            acc /= C(div);
          }
          storeScaled(yp + q2 * ys.s[2], acc, a, b);
        }
      }
    });
  };
  using T1 = std::true_type;
  using F0 = std::false_type;
  if (!isMax)
    run(F0{}, F0{});
  else if (prop)
    run(T1{}, T1{});
  else
    run(T1{}, F0{});
}

// Channels-last backward: (n, block of channels) items, each accumulating into a plane x block buffer.
template <class T>
void backwardChannelsLastT(const laminaContext &h, const PoolingDesc &p, double alpha, const TensorDesc &dy,
                           const void *dyData, const TensorDesc &x, const void *xData, double beta,
                           const TensorDesc &dx, void *dxData) {
  using C = compute_t<T>;
  const T *X = static_cast<const T *>(xData), *DY = static_cast<const T *>(dyData);
  T *DX = static_cast<T *>(dxData);
  const C a = C(alpha), b = C(beta);
  const Geom g = makeGeom(p, x, dy);
  const Strides xs(x), dys(dy), dxs(dx);
  const bool isMax = p.mode == LAMINA_POOLING_MAX, include = p.mode == LAMINA_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
  const bool prop = p.nan == LAMINA_PROPAGATE_NAN;
  constexpr int64_t kBlock = 32;
  const int64_t Cn = g.C, blocks = (Cn + kBlock - 1) / kBlock, plane = g.in[0] * g.in[1] * g.in[2];
  const int64_t outPlane = g.out[0] * g.out[1] * g.out[2], winSize = g.win[0] * g.win[1] * g.win[2];
  parallelChunks(h, g.N * blocks, (plane + outPlane * winSize) * kBlock, [&](int64_t begin, int64_t end) {
    std::vector<C> acc(static_cast<size_t>(plane * kBlock)), best(kBlock), share(kBlock);
    std::vector<int64_t> arg(kBlock);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / blocks, c0 = (item % blocks) * kBlock, cb = std::min(kBlock, Cn - c0);
      std::fill(acc.begin(), acc.begin() + plane * cb, C(0));
      const T *xp = X + n * xs.n + c0;
      const T *dyp = DY + n * dys.n + c0;
      for (int64_t q0 = 0; q0 < g.out[0]; ++q0)
        for (int64_t q1 = 0; q1 < g.out[1]; ++q1)
          for (int64_t q2 = 0; q2 < g.out[2]; ++q2) {
            const T *d = dyp + q0 * dys.s[0] + q1 * dys.s[1] + q2 * dys.s[2];
            const int64_t lo0 = g.lo[0][q0], hi0 = g.hi[0][q0], lo1 = g.lo[1][q1], hi1 = g.hi[1][q1];
            const int64_t lo2 = g.lo[2][q2], hi2 = g.hi[2][q2];
            if (isMax) {
              const T *first = xp + lo0 * xs.s[0] + lo1 * xs.s[1] + lo2 * xs.s[2];
              const int64_t firstIdx = (lo0 * g.in[1] + lo1) * g.in[2] + lo2;
              for (int64_t c = 0; c < cb; ++c) {
                best[size_t(c)] = C(toFloat(first[c]));
                arg[size_t(c)] = firstIdx;
              }
              for (int64_t i0 = lo0; i0 < hi0; ++i0)
                for (int64_t i1 = lo1; i1 < hi1; ++i1)
                  for (int64_t i2 = lo2; i2 < hi2; ++i2) {
                    const T *v = xp + i0 * xs.s[0] + i1 * xs.s[1] + i2 * xs.s[2];
                    const int64_t idx = (i0 * g.in[1] + i1) * g.in[2] + i2;
                    for (int64_t c = 0; c < cb; ++c) {
                      const C e = C(toFloat(v[c]));
                      if (takes(e, best[size_t(c)], prop)) {
                        best[size_t(c)] = e;
                        arg[size_t(c)] = idx;
                      }
                    }
                  }
              for (int64_t c = 0; c < cb; ++c)
                acc[size_t(arg[size_t(c)] * cb + c)] += C(toFloat(d[c]));
            } else {
              const int64_t div =
                  include ? g.clip[0][q0] * g.clip[1][q1] * g.clip[2][q2] : (hi0 - lo0) * (hi1 - lo1) * (hi2 - lo2);
              for (int64_t c = 0; c < cb; ++c)
                share[size_t(c)] = C(toFloat(d[c])) / C(div);
              for (int64_t i0 = lo0; i0 < hi0; ++i0)
                for (int64_t i1 = lo1; i1 < hi1; ++i1)
                  for (int64_t i2 = lo2; i2 < hi2; ++i2) {
                    C *ac = acc.data() + ((i0 * g.in[1] + i1) * g.in[2] + i2) * cb;
                    for (int64_t c = 0; c < cb; ++c)
                      ac[c] += share[size_t(c)];
                  }
            }
          }
      T *dxp = DX + n * dxs.n + c0;
      int64_t k = 0;
      for (int64_t i0 = 0; i0 < g.in[0]; ++i0)
        for (int64_t i1 = 0; i1 < g.in[1]; ++i1)
          for (int64_t i2 = 0; i2 < g.in[2]; ++i2, ++k) {
            T *o = dxp + i0 * dxs.s[0] + i1 * dxs.s[1] + i2 * dxs.s[2];
            for (int64_t c = 0; c < cb; ++c)
              storeScaled(o + c, acc[size_t(k * cb + c)], a, b);
          }
    }
  });
}

template <class T>
void backwardT(const laminaContext &h, const PoolingDesc &p, double alpha, const TensorDesc &dy, const void *dyData,
               const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx, void *dxData) {
  using C = compute_t<T>;
  const T *X = static_cast<const T *>(xData), *DY = static_cast<const T *>(dyData);
  T *DX = static_cast<T *>(dxData);
  const C a = C(alpha), b = C(beta);
  const Geom g = makeGeom(p, x, dy);
  const Strides xs(x), dys(dy), dxs(dx);
  if (g.C > 1 && xs.c == 1 && dys.c == 1 && dxs.c == 1)
    return backwardChannelsLastT<T>(h, p, alpha, dy, dyData, x, xData, beta, dx, dxData);
  const bool isMax = p.mode == LAMINA_POOLING_MAX, include = p.mode == LAMINA_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
  const bool prop = p.nan == LAMINA_PROPAGATE_NAN;
  const int64_t plane = g.in[0] * g.in[1] * g.in[2];
  const int64_t outPlane = g.out[0] * g.out[1] * g.out[2], winSize = g.win[0] * g.win[1] * g.win[2];
  parallelChunks(h, g.N * g.C, plane + outPlane * winSize, [&](int64_t begin, int64_t end) {
    std::vector<C> acc(static_cast<size_t>(plane)); // gradient in packed in0 x in1 x in2 order
    for (int64_t nc = begin; nc < end; ++nc) {
      std::fill(acc.begin(), acc.end(), C(0));
      const int64_t n = nc / g.C, c = nc % g.C;
      const T *xp = X + n * xs.n + c * xs.c;
      const T *dyp = DY + n * dys.n + c * dys.c;
      for (int64_t q0 = 0; q0 < g.out[0]; ++q0)
        for (int64_t q1 = 0; q1 < g.out[1]; ++q1)
          for (int64_t q2 = 0; q2 < g.out[2]; ++q2) {
            const C d = C(toFloat(dyp[q0 * dys.s[0] + q1 * dys.s[1] + q2 * dys.s[2]]));
            const int64_t lo0 = g.lo[0][q0], hi0 = g.hi[0][q0], lo1 = g.lo[1][q1], hi1 = g.hi[1][q1];
            const int64_t lo2 = g.lo[2][q2], hi2 = g.hi[2][q2];
            if (isMax) {
              C m = C(0);
              int64_t best = -1;
              for (int64_t i0 = lo0; i0 < hi0; ++i0)
                for (int64_t i1 = lo1; i1 < hi1; ++i1)
                  for (int64_t i2 = lo2; i2 < hi2; ++i2) {
                    const C v = C(toFloat(xp[i0 * xs.s[0] + i1 * xs.s[1] + i2 * xs.s[2]]));
                    if (best < 0 || takes(v, m, prop)) {
                      m = v;
                      best = (i0 * g.in[1] + i1) * g.in[2] + i2;
                    }
                  }
              if (best >= 0)
                acc[size_t(best)] += d;
            } else {
              const int64_t div =
                  include ? g.clip[0][q0] * g.clip[1][q1] * g.clip[2][q2] : (hi0 - lo0) * (hi1 - lo1) * (hi2 - lo2);
              const C share = d / C(div);
              for (int64_t i0 = lo0; i0 < hi0; ++i0)
                for (int64_t i1 = lo1; i1 < hi1; ++i1)
                  for (int64_t i2 = lo2; i2 < hi2; ++i2)
                    acc[size_t((i0 * g.in[1] + i1) * g.in[2] + i2)] += share;
            }
          }
      T *dxp = DX + n * dxs.n + c * dxs.c;
      int64_t k = 0;
      for (int64_t i0 = 0; i0 < g.in[0]; ++i0)
        for (int64_t i1 = 0; i1 < g.in[1]; ++i1)
          for (int64_t i2 = 0; i2 < g.in[2]; ++i2, ++k)
            storeScaled(dxp + i0 * dxs.s[0] + i1 * dxs.s[1] + i2 * dxs.s[2], acc[size_t(k)], a, b);
    }
  });
}

} // namespace

void poolingForward(const laminaContext &h, const PoolingDesc &pool, double alpha, const TensorDesc &x,
                    const void *xData, double beta, const TensorDesc &y, void *yData) {
  LAMINA_DISPATCH_FLOAT_TYPES(x.dataType, forwardT, h, pool, alpha, x, xData, beta, y, yData);
}

void poolingBackward(const laminaContext &h, const PoolingDesc &pool, double alpha, const TensorDesc &dy,
                     const void *dyData, const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx,
                     void *dxData) {
  LAMINA_DISPATCH_FLOAT_TYPES(x.dataType, backwardT, h, pool, alpha, dy, dyData, x, xData, beta, dx, dxData);
}

} // namespace lamina::cpu
