// LRN. scale = k + alpha/size * (window sum of x^2), y = x * scale^-beta; the gradient is
//   dx_j = dy_j * scale_j^-beta - 2*beta*alpha/size * x_j * sum over windows containing j of
//          dy_i * x_i * scale_i^(-beta-1),
// and since windows are centred (n odd) "windows containing j" is the window of j. Window sums are
// direct (n <= 15) so rounding does not drift as a sliding sum would. Any strides.
#include "cpu/lrn.h"

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

// Offset of spatial position s (row-major over dims[2..]) in t.
int64_t spatialOffset(const TensorDesc &t, int64_t s) {
  int64_t off = 0;
  for (int d = t.nbDims - 1; d >= 2; --d) {
    off += (s % t.dims[d]) * t.strides[d];
    s /= t.dims[d];
  }
  return off;
}

int64_t spatialSize(const TensorDesc &t) {
  int64_t s = 1;
  for (int d = 2; d < t.nbDims; ++d)
    s *= t.dims[d];
  return s;
}

// out[i] = sum of in[j] for j in [i - r, i + r] clipped to [0, n), for a strided 1-D view.
template <class C> void windowSum1d(const C *in, int64_t inStep, C *out, int64_t outStep, int64_t n, int64_t r) {
  for (int64_t i = 0; i < n; ++i) {
    C s = C(0);
    for (int64_t j = std::max<int64_t>(0, i - r); j <= std::min(n - 1, i + r); ++j)
      s += in[j * inStep];
    out[i * outStep] = s;
  }
}

// Cross channel, channels-last (C contiguous): one spatial position at a time, its C values read as
// one contiguous vector.
template <class T>
void crossChannelsLastT(const laminaContext &h, const LRNDesc &p, double alpha, const TensorDesc &x, const T *X,
                        const TensorDesc *dy, const T *DY, double beta, const TensorDesc &out, T *OUT) {
  using C = compute_t<T>;
  const int64_t N = x.dims[0], Ch = x.dims[1], S = spatialSize(x), r = int64_t(p.n / 2);
  const C a = C(alpha), b = C(beta), k = C(p.k), an = C(p.alpha / p.n), pb = C(p.beta);
  auto group = [&](int64_t g, std::vector<C> &v) {
    C *xv = v.data(), *sq = xv + Ch, *scale = sq + Ch, *t = scale + Ch, *ws = t + Ch;
    const int64_t n = g / S, s = g % S;
    const T *xg = X + n * x.strides[0] + spatialOffset(x, s);
    T *og = OUT + n * out.strides[0] + spatialOffset(out, s);
    for (int64_t c = 0; c < Ch; ++c) {
      xv[c] = C(toFloat(xg[c * x.strides[1]]));
      sq[c] = xv[c] * xv[c];
    }
    windowSum1d(sq, 1, ws, 1, Ch, r);
    for (int64_t c = 0; c < Ch; ++c)
      scale[c] = k + an * ws[c];
    if (!dy) {
      for (int64_t c = 0; c < Ch; ++c)
        storeScaled(og + c * out.strides[1], xv[c] * std::pow(scale[c], -pb), a, b);
      return;
    }
    const T *dg = DY + n * dy->strides[0] + spatialOffset(*dy, s);
    for (int64_t c = 0; c < Ch; ++c) {
      const C d = C(toFloat(dg[c * dy->strides[1]])), pw = std::pow(scale[c], -pb);
      sq[c] = d * pw;                   // the direct term
      t[c] = d * xv[c] * pw / scale[c]; // d * x * scale^(-beta-1)
    }
    windowSum1d(t, 1, ws, 1, Ch, r);
    for (int64_t c = 0; c < Ch; ++c)
      storeScaled(og + c * out.strides[1], sq[c] - C(2) * pb * an * xv[c] * ws[c], a, b);
  };
  parallelChunks(h, N * S, Ch * int64_t(p.n), [&](int64_t begin, int64_t end) {
    std::vector<C> v(size_t(5 * Ch));
    for (int64_t g = begin; g < end; ++g)
      group(g, v);
  });
}

// Cross channel, other layouts: work items are (n, tile of spatial positions); within a tile the
// loops run over channels outside and positions inside, so NCHW-like layouts read contiguous rows.
template <class T>
void crossT(const laminaContext &h, const LRNDesc &p, double alpha, const TensorDesc &x, const T *X,
            const TensorDesc *dy, const T *DY, double beta, const TensorDesc &out, T *OUT) {
  using C = compute_t<T>;
  const int64_t N = x.dims[0], Ch = x.dims[1], S = spatialSize(x), r = int64_t(p.n / 2);
  const C a = C(alpha), b = C(beta), k = C(p.k), an = C(p.alpha / p.n), pb = C(p.beta);
  if (x.strides[1] == 1 && out.strides[1] == 1 && (!dy || dy->strides[1] == 1))
    return crossChannelsLastT<T>(h, p, alpha, x, X, dy, DY, beta, out, OUT);
  constexpr int64_t tile = 64;
  const int64_t tiles = (S + tile - 1) / tile;
  const int64_t xc = x.strides[1], oc = out.strides[1], dc = dy ? dy->strides[1] : 0;
  parallelChunks(h, N * tiles, Ch * int64_t(p.n) * tile, [&](int64_t begin, int64_t end) {
    std::vector<C> buf(static_cast<size_t>(5 * Ch * tile));
    std::vector<int64_t> offs(static_cast<size_t>(3 * tile));
    C *xv = buf.data(), *sc = xv + Ch * tile, *t = sc + Ch * tile, *ws = t + Ch * tile, *dir = ws + Ch * tile;
    int64_t *ox = offs.data(), *oo = ox + tile, *od = oo + tile;
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / tiles, s0 = (item % tiles) * tile, tl = std::min(tile, S - s0);
      for (int64_t j = 0; j < tl; ++j) {
        ox[j] = n * x.strides[0] + spatialOffset(x, s0 + j);
        oo[j] = n * out.strides[0] + spatialOffset(out, s0 + j);
        if (dy)
          od[j] = n * dy->strides[0] + spatialOffset(*dy, s0 + j);
      }
      for (int64_t c = 0; c < Ch; ++c)
        for (int64_t j = 0; j < tl; ++j)
          xv[c * tl + j] = C(toFloat(X[ox[j] + c * xc]));
      // sc = k + alpha/n * (sum of x^2 over the channel window), summed directly (n <= 15)
      for (int64_t c = 0; c < Ch; ++c) {
        C *row = sc + c * tl;
        std::fill(row, row + tl, C(0));
        for (int64_t c2 = std::max<int64_t>(0, c - r); c2 <= std::min(Ch - 1, c + r); ++c2)
          for (int64_t j = 0; j < tl; ++j)
            row[j] += xv[c2 * tl + j] * xv[c2 * tl + j];
        for (int64_t j = 0; j < tl; ++j)
          row[j] = k + an * row[j];
      }
      if (!dy) {
        for (int64_t c = 0; c < Ch; ++c)
          for (int64_t j = 0; j < tl; ++j)
            storeScaled(OUT + oo[j] + c * oc, xv[c * tl + j] * std::pow(sc[c * tl + j], -pb), a, b);
        continue;
      }
      for (int64_t c = 0; c < Ch; ++c)
        for (int64_t j = 0; j < tl; ++j) {
          const int64_t e = c * tl + j;
          const C d = C(toFloat(DY[od[j] + c * dc]));
          const C pw = std::pow(sc[e], -pb);
          dir[e] = d * pw;               // the direct term
          t[e] = d * xv[e] * pw / sc[e]; // d * x * scale^(-beta-1)
        }
      for (int64_t c = 0; c < Ch; ++c) {
        C *row = ws + c * tl;
        std::fill(row, row + tl, C(0));
        for (int64_t c2 = std::max<int64_t>(0, c - r); c2 <= std::min(Ch - 1, c + r); ++c2)
          for (int64_t j = 0; j < tl; ++j)
            row[j] += t[c2 * tl + j];
      }
      for (int64_t c = 0; c < Ch; ++c)
        for (int64_t j = 0; j < tl; ++j) {
          const int64_t e = c * tl + j;
          storeScaled(OUT + oo[j] + c * oc, dir[e] - C(2) * pb * an * xv[e] * ws[e], a, b);
        }
    }
  });
}

// Within channel: per (n, c) plane of H x W, a separable n x n window sum (zero padded).
template <class T>
void withinT(const laminaContext &h, const LRNDesc &p, double alpha, const TensorDesc &x, const T *X,
             const TensorDesc *dy, const T *DY, double beta, const TensorDesc &out, T *OUT) {
  using C = compute_t<T>;
  const int64_t N = x.dims[0], Ch = x.dims[1], H = x.dims[2], W = x.dims[3], r = int64_t(p.n / 2), HW = H * W;
  const C a = C(alpha), b = C(beta), k = C(p.k), an = C(p.alpha / (double(p.n) * p.n)), pb = C(p.beta);
  auto plane = [&](int64_t nc, std::vector<C> &v) {
    C *xv = v.data(), *sq = xv + HW, *scale = sq + HW, *t = scale + HW, *tmp = t + HW;
    const int64_t n = nc / Ch, c = nc % Ch;
    const T *xp = X + n * x.strides[0] + c * x.strides[1];
    T *op = OUT + n * out.strides[0] + c * out.strides[1];
    auto boxSum = [&](const C *in, C *res) { // res = n x n window sums of in (packed H x W)
      for (int64_t i = 0; i < H; ++i)
        windowSum1d(in + i * W, 1, tmp + i * W, 1, W, r);
      for (int64_t j = 0; j < W; ++j)
        windowSum1d(tmp + j, W, res + j, W, H, r);
    };
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = 0; j < W; ++j) {
        const C xe = C(toFloat(xp[i * x.strides[2] + j * x.strides[3]]));
        xv[i * W + j] = xe;
        sq[i * W + j] = xe * xe;
      }
    boxSum(sq, scale);
    for (int64_t e = 0; e < HW; ++e)
      scale[e] = k + an * scale[e];
    if (!dy) {
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j)
          storeScaled(op + i * out.strides[2] + j * out.strides[3], xv[i * W + j] * std::pow(scale[i * W + j], -pb), a,
                      b);
      return;
    }
    const T *dp = DY + n * dy->strides[0] + c * dy->strides[1];
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = 0; j < W; ++j) {
        const int64_t e = i * W + j;
        const C d = C(toFloat(dp[i * dy->strides[2] + j * dy->strides[3]]));
        const C pw = std::pow(scale[e], -pb);
        sq[e] = d * pw;
        t[e] = d * xv[e] * pw / scale[e]; // d * x * scale^(-beta-1)
      }
    boxSum(t, scale); // scale is no longer needed: reuse it for the window sums of t
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = 0; j < W; ++j) {
        const int64_t e = i * W + j;
        storeScaled(op + i * out.strides[2] + j * out.strides[3], sq[e] - C(2) * pb * an * xv[e] * scale[e], a, b);
      }
  };
  parallelChunks(h, N * Ch, HW * int64_t(p.n), [&](int64_t begin, int64_t end) {
    std::vector<C> v(size_t(5 * HW));
    for (int64_t nc = begin; nc < end; ++nc)
      plane(nc, v);
  });
}

template <class T>
void runT(const laminaContext &h, const LRNDesc &p, laminaLRNMode_t mode, double alpha, const TensorDesc &x,
          const void *xData, const TensorDesc *dy, const void *dyData, double beta, const TensorDesc &out,
          void *outData) {
  const T *X = static_cast<const T *>(xData), *DY = static_cast<const T *>(dyData);
  T *O = static_cast<T *>(outData);
  if (mode == LAMINA_LRN_CROSS_CHANNEL)
    crossT<T>(h, p, alpha, x, X, dy, DY, beta, out, O);
  else
    withinT<T>(h, p, alpha, x, X, dy, DY, beta, out, O);
}

} // namespace

void lrnForward(const laminaContext &h, const LRNDesc &lrn, laminaLRNMode_t mode, double alpha, const TensorDesc &x,
                const void *xData, double beta, const TensorDesc &y, void *yData) {
  LAMINA_DISPATCH_FLOAT_TYPES(x.dataType, runT, h, lrn, mode, alpha, x, xData, nullptr, nullptr, beta, y, yData);
}

void lrnBackward(const laminaContext &h, const LRNDesc &lrn, laminaLRNMode_t mode, double alpha, const TensorDesc &dy,
                 const void *dyData, const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx,
                 void *dxData) {
  LAMINA_DISPATCH_FLOAT_TYPES(x.dataType, runT, h, lrn, mode, alpha, x, xData, &dy, dyData, beta, dx, dxData);
}

} // namespace lamina::cpu
