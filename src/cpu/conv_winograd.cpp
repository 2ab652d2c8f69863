// WINOGRAD_NONFUSED, forward and backward-data: F(4x4, 3x3) or F(2x2, 5x5) (core/winograd.h) with the transformed
// filter U, a chunk of transformed input tiles V and the products M in the workspace; the 36 GEMMs
// per group run through BLAS, one per thread. Tiles are processed in chunks of about kChunkBytes so
// the GEMMs stay efficient and V and M stay bounded. Backward-filter (the forward's adjoint) keeps M
// for the whole filter and transforms chunks of x tiles (V) and dy tiles (Z) into it.
#include "core/winograd.h"
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

#include <climits>
#include <cstdlib>

namespace lamina::cpu {
namespace {

namespace wg = lamina::winograd;
using wg::kPoints;

constexpr int64_t kChunkBytes = int64_t(16) << 20; // V and M of one chunk of tiles

// Tiles per chunk; LAMINA_CPU_WINOGRAD_CHUNK sets it (the tests' small problems then span chunks).
int64_t chunkTiles(const ConvProblem &p, const wg::View &v) {
  if (const char *e = std::getenv("LAMINA_CPU_WINOGRAD_CHUNK"); e && std::atoll(e) > 0)
    return std::min(v.T, int64_t(std::atoll(e)));
  const int64_t perTile = kPoints * v.G * (v.RCg + v.NCg) * int64_t(computeSize(p));
  return std::min(v.T, std::max<int64_t>(256, kChunkBytes / perTile));
}

size_t workspaceOf(const ConvProblem &p, bool bwd) {
  const wg::View v = wg::makeView(p, bwd);
  const int64_t tc = chunkTiles(p, v), a = int64_t(computeSize(p)), b = v.G * kPoints;
  return alignUp(size_t(a * b * v.NCg * v.RCg)) + alignUp(size_t(a * b * v.RCg * tc)) +
         alignUp(size_t(a * b * v.NCg * tc));
}

// V[g][point][c][t] for tiles t0 .. t0 + nt of the source (x, or dy for backward-data).
template <class T, class A>
void transformInputs(const laminaContext &h, const wg::View &v, const T *src, int64_t t0, int64_t nt, int64_t tc,
                     A *V) {
  parallelFor(h, v.G * v.RCg, [&](int64_t i) {
    const int64_t g = i / v.RCg, c = i % v.RCg;
    for (int64_t t = 0; t < nt; ++t) {
      const wg::TilePos tp = wg::tilePos(v, t0 + t);
      const T *sc = src + tp.n * v.ss[0] + (g * v.RCg + c) * v.ss[1];
      A d[kPoints], vt[kPoints];
      for (int ii = 0; ii < wg::kIn; ++ii) {
        const int64_t hh = tp.h0 + v.off[0] + ii;
        for (int jj = 0; jj < wg::kIn; ++jj) {
          const int64_t ww = tp.w0 + v.off[1] + jj;
          const bool in = hh >= 0 && hh < v.srcH && ww >= 0 && ww < v.srcW;
          d[ii * wg::kIn + jj] = in ? A(ld(sc + hh * v.ss[2] + ww * v.ss[3])) : A(0);
        }
      }
      wg::inputTransform(d, vt);
      for (int pt = 0; pt < kPoints; ++pt)
        V[((g * kPoints + pt) * v.RCg + c) * tc + t] = vt[pt];
    }
  });
}

template <class T, class W> void run(const ConvArgs &a, bool bwd) {
  constexpr int R = W::kR, E = W::kTile; // taps, output tile edge
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const wg::View v = wg::makeView(p, bwd);
  const T *src = static_cast<const T *>(bwd ? a.dy : a.x);
  const T *w = static_cast<const T *>(a.w);
  T *out = static_cast<T *>(bwd ? a.dx : a.y);
  const int64_t tc = chunkTiles(p, v), batches = v.G * kPoints;
  WsCarver ws{static_cast<char *>(a.workspace)};
  A *U = ws.take<A>(batches * v.NCg * v.RCg); // [g][point][o][c]
  A *V = ws.take<A>(batches * v.RCg * tc);    // [g][point][c][t - t0]
  A *M = ws.take<A>(batches * v.NCg * tc);    // [g][point][o][t - t0]
  const laminaContext &h = *a.handle;

  parallelFor(h, v.G * v.NCg, [&](int64_t i) {
    const int64_t g = i / v.NCg, o = i % v.NCg;
    const T *wo = w + v.wOff + g * v.wsGroup + o * v.wsOut;
    for (int64_t c = 0; c < v.RCg; ++c) {
      A f[R * R], u[kPoints];
      for (int r = 0; r < R; ++r)
        for (int s = 0; s < R; ++s)
          f[r * R + s] = A(ld(wo + c * v.wsRed + r * v.wsR + s * v.wsS));
      W::filter(f, u);
      for (int pt = 0; pt < kPoints; ++pt)
        U[((g * kPoints + pt) * v.NCg + o) * v.RCg + c] = u[pt];
    }
  });

  const A alpha = A(a.alpha), beta = A(a.beta);
  for (int64_t t0 = 0; t0 < v.T; t0 += tc) {
    const int64_t nt = std::min(tc, v.T - t0);
    transformInputs(h, v, src, t0, nt, tc, V);
    parallelFor(h, batches, [&](int64_t b) {
      gemm(h, false, false, v.NCg, nt, v.RCg, A(1), U + b * v.NCg * v.RCg, v.RCg, V + b * v.RCg * tc, tc, A(0),
           M + b * v.NCg * tc, tc);
    });
    parallelFor(h, v.G * v.NCg, [&](int64_t i) {
      const int64_t g = i / v.NCg, o = i % v.NCg;
      for (int64_t t = 0; t < nt; ++t) {
        const wg::TilePos tp = wg::tilePos(v, t0 + t);
        A m[kPoints], y[E * E];
        for (int pt = 0; pt < kPoints; ++pt)
          m[pt] = M[((g * kPoints + pt) * v.NCg + o) * tc + t];
        W::output(m, y);
        T *yo = out + tp.n * v.os[0] + (g * v.NCg + o) * v.os[1];
        for (int ii = 0; ii < E && tp.h0 + ii < v.outH; ++ii)
          for (int jj = 0; jj < E && tp.w0 + jj < v.outW; ++jj)
            storeScaled(yo + (tp.h0 + ii) * v.os[2] + (tp.w0 + jj) * v.os[3], compute_t<T>(y[ii * E + jj]),
                        compute_t<T>(alpha), compute_t<T>(beta));
      }
    });
  }
}

// Backward-filter: M[g][point][o][c] = sum over all tiles of Z (dy) times V (x), then dw = G^T M G.
template <class T, class W> void runFilter(const ConvArgs &a) {
  constexpr int R = W::kR, E = W::kTile; // taps, output tile edge
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const wg::View v = wg::makeView(p, false);
  const T *x = static_cast<const T *>(a.x), *dy = static_cast<const T *>(a.dy);
  T *dw = static_cast<T *>(a.dw);
  const int64_t tc = chunkTiles(p, v), batches = v.G * kPoints;
  WsCarver ws{static_cast<char *>(a.workspace)};
  A *M = ws.take<A>(batches * v.NCg * v.RCg); // [g][point][o][c]
  A *V = ws.take<A>(batches * v.RCg * tc);    // [g][point][c][t - t0]
  A *Z = ws.take<A>(batches * v.NCg * tc);    // [g][point][o][t - t0]
  const laminaContext &h = *a.handle;
  for (int64_t t0 = 0; t0 < v.T; t0 += tc) {
    const int64_t nt = std::min(tc, v.T - t0);
    transformInputs(h, v, x, t0, nt, tc, V);
    parallelFor(h, v.G * v.NCg, [&](int64_t i) {
      const int64_t g = i / v.NCg, o = i % v.NCg;
      for (int64_t t = 0; t < nt; ++t) {
        const wg::TilePos tp = wg::tilePos(v, t0 + t);
        const T *yo = dy + tp.n * v.os[0] + (g * v.NCg + o) * v.os[1];
        A d[E * E], z[kPoints];
        for (int ii = 0; ii < E; ++ii)
          for (int jj = 0; jj < E; ++jj) {
            const bool in = tp.h0 + ii < v.outH && tp.w0 + jj < v.outW;
            d[ii * E + jj] = in ? A(ld(yo + (tp.h0 + ii) * v.os[2] + (tp.w0 + jj) * v.os[3])) : A(0);
          }
        W::outputAdj(d, z);
        for (int pt = 0; pt < kPoints; ++pt)
          Z[((g * kPoints + pt) * v.NCg + o) * tc + t] = z[pt];
      }
    });
    parallelFor(h, batches, [&](int64_t b) {
      gemm(h, false, true, v.NCg, v.RCg, nt, A(1), Z + b * v.NCg * tc, tc, V + b * v.RCg * tc, tc, A(t0 == 0 ? 0 : 1),
           M + b * v.NCg * v.RCg, v.RCg);
    });
  }
  const compute_t<T> alpha = compute_t<T>(a.alpha), beta = compute_t<T>(a.beta);
  parallelFor(h, v.G * v.NCg, [&](int64_t i) {
    const int64_t g = i / v.NCg, o = i % v.NCg;
    T *wo = dw + v.wOff + g * v.wsGroup + o * v.wsOut;
    for (int64_t c = 0; c < v.RCg; ++c) {
      A m[kPoints], f[R * R];
      for (int pt = 0; pt < kPoints; ++pt)
        m[pt] = M[((g * kPoints + pt) * v.NCg + o) * v.RCg + c];
      W::filterAdj(m, f);
      for (int r = 0; r < R; ++r)
        for (int s = 0; s < R; ++s)
          storeScaled(wo + c * v.wsRed + r * v.wsR + s * v.wsS, compute_t<T>(f[r * R + s]), alpha, beta);
    }
  });
}

std::string whyNotAny(const ConvProblem &p, bool bwd) {
  if (std::string why = wg::whyNot(p); !why.empty())
    return why;
  const wg::View v = wg::makeView(p, bwd);
  if (v.NCg > INT_MAX || v.RCg > INT_MAX || v.T > INT_MAX)
    return "WINOGRAD_NONFUSED: sizes beyond the 32-bit BLAS interface";
  return {};
}
double estimateAny(const ConvProblem &p, bool bwd) {
  // The GEMMs do 36 / (16 * 9) of the direct multiplies (4x fewer), but the transforms are scalar code
  // over scattered tiles: ~100 ns per (tile, channel) of input and output and per filter pair, fitted
  // on the 2-core machine (Winograd ahead of GEMM on vgg16/resnet 3x3 layers with 128 channels and
  // more tiles than channels, behind at 64 or 512 channels and few tiles).
  const wg::View v = wg::makeView(p, bwd);
  const double gemmMs = 2.0 * kPoints * v.G * v.NCg * v.RCg * double(v.T) / (kBlasGflops * 1e6);
  const double transformMs =
      1e-4 * v.G * (double(v.T) * (v.RCg + v.NCg) + double(v.RCg) * v.NCg) * (double(computeSize(p)) / 4.0);
  // F(2x2, 5x5) has 4x the tiles per output and generic (matrix-loop) transforms: it ran 1.0-1.6x
  // GEMM's time on 5x5 layers here (GEMM already does 25 taps per column), so it is ranked after it.
  const double variant = p.filt[0] == 5 ? 2.0 : 1.0;
  return 4 * kCallOverheadMs + (gemmMs + transformMs / typeFactor(p)) * variant;
}

// The variant by filter size (whyNot admits 3x3 and 5x5 only).
template <class T> void runFwd(const ConvArgs &a) {
  a.p->filt[0] == 5 ? run<T, wg::F25>(a, false) : run<T, wg::F43>(a, false);
}
template <class T> void runBwd(const ConvArgs &a) {
  a.p->filt[0] == 5 ? run<T, wg::F25>(a, true) : run<T, wg::F43>(a, true);
}
template <class T> void runWgrad(const ConvArgs &a) { runFilter<T, wg::F43>(a); } // 3x3 only (wg::whyNotFilter)

} // namespace

const ConvAlgorithm kConvFwdWinogradNonfused = {
    ConvDirection::Forward,
    LAMINA_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED,
    "WINOGRAD_NONFUSED",
    LAMINA_DETERMINISTIC,
    [](const ConvProblem &p) { return whyNotAny(p, false); },
    [](const ConvProblem &p) { return workspaceOf(p, false); },
    [](const ConvProblem &p) { return estimateAny(p, false); },
    [](const ConvArgs &a) {
      runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, runFwd, b); });
    }};

const ConvAlgorithm kConvBwdDataWinogradNonfused = {
    ConvDirection::BackwardData,
    LAMINA_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED,
    "WINOGRAD_NONFUSED",
    LAMINA_DETERMINISTIC,
    [](const ConvProblem &p) { return whyNotAny(p, true); },
    [](const ConvProblem &p) { return workspaceOf(p, true); },
    [](const ConvProblem &p) { return estimateAny(p, true); },
    [](const ConvArgs &a) {
      runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, runBwd, b); });
    }};

const ConvAlgorithm kConvBwdFilterWinogradNonfused = {
    ConvDirection::BackwardFilter,
    LAMINA_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED,
    "WINOGRAD_NONFUSED",
    LAMINA_DETERMINISTIC,
    [](const ConvProblem &p) {
      const std::string why = wg::whyNotFilter(p);
      return why.empty() ? whyNotAny(p, false) : why;
    },
    [](const ConvProblem &p) { return workspaceOf(p, false); },
    [](const ConvProblem &p) { return estimateAny(p, false); },
    [](const ConvArgs &a) {
      runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, runWgrad, b); });
    }};

} // namespace lamina::cpu
