// Winograd F(4x4, 3x3) and F(2x2, 5x5) (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks"), shared by the CPU and CUDA WINOGRAD_NONFUSED algorithms: a 4x4 tile of a 3x3
// cross-correlation (or a 2x2 tile of a 5x5 one) from a 6x6 input tile with 36 multiplies per (input,
// output) channel pair instead of 144 (100). Both use the points 0, +-1, +-2 and infinity, so they
// share B (the input transform); F43 and F25 below hold the rest. Nonfused: the filter
// and the input are transformed into the workspace, 36 GEMMs (one per transform point) multiply them,
// and an output transform writes y:
//   U[g][point][o][c] = (G w G^T)                      filter of output channel o, reduction channel c
//   V[g][point][c][t] = (B^T d B)                      6x6 input tile of tile t, channel c
//   M[g][point][o][t] = sum_c U[..][o][c] V[..][c][t]  (the GEMMs)
//   y tile t, channel o = A^T M A                      4x4 outputs, alpha/beta applied
// Backward-data (stride 1) is the same with dy as the source, the filter turned by 180 degrees and
// its K and C swapped, and an input offset of pad - (r - 1). Backward-filter is the forward's adjoint in w:
//   V[g][point][c][t] = (B^T d B)                      x tiles, as the forward
//   Z[g][point][o][t] = (A dy A^T)                     4x4 dy tile t of output channel o (0 outside)
//   M[g][point][o][c] = sum_t Z[..][o][t] V[..][c][t]  (the GEMMs, reducing over all tiles)
//   dw of (o, c) = G^T M G                             3x3 taps, alpha/beta applied The transform points are 0, +-1,
//   +-2 and
// infinity; float keeps ~1e-6 relative error on unit-scale data (the tests' tolerance holds).
#pragma once

#include "core/conv_geom.h"
#include "core/conv_problem.h"

#include <cstdint>
#include <string>

#ifdef __CUDACC__
#define LAMINA_HD __host__ __device__ __forceinline__
#else
#define LAMINA_HD inline
#endif

namespace lamina::winograd {

constexpr int kIn = 6;      // input tile edge (tile + r - 1 for both variants)
constexpr int kPoints = 36; // transform points (kIn * kIn)

// The operands of one direction: the source (x or dy) with its reduction channels, the output (y or
// dx), and the filter element of (output channel o, reduction channel c, tap r, s) of group 0 at
// w + wOff + o * wsOut + c * wsRed + r * wsR + s * wsS (group g adds g * wsGroup). Plain data.
struct View {
  int64_t N, G, RCg, NCg;         // images, groups, reduction and output channels per group
  int64_t srcH, srcW, outH, outW; // spatial dims
  int64_t off[2];                 // source coordinate of output pixel (0, 0) at tap (0, 0): h, w
  int64_t ss[4], os[4];           // strides of source and output: n, channel, h, w
  int64_t wOff, wsOut, wsRed, wsR, wsS, wsGroup;
  int64_t tilesH, tilesW, T; // output tiles per column and row; T = N * tilesH * tilesW
  int64_t tile;              // output tile edge: 4 (3x3 filters) or 2 (5x5)
};

// The view of a 2-D problem in a direction (forward or backward-data; the caller checked whyNot()).
inline View makeView(const ConvProblem &p, bool backwardData) {
  const ConvGeom g = makeConvGeom(p);
  const int64_t r1 = p.filt[0] - 1; // 2 or 4
  View v;
  v.tile = p.filt[0] == 5 ? 2 : 4;
  v.N = g.N, v.G = g.G;
  v.RCg = backwardData ? g.Kg : g.Cg;
  v.NCg = backwardData ? g.Cg : g.Kg;
  const int64_t *src = backwardData ? g.out : g.in, *dst = backwardData ? g.in : g.out;
  const int64_t *ss = backwardData ? g.ys : g.xs, *os = backwardData ? g.xs : g.ys;
  v.srcH = src[1], v.srcW = src[2], v.outH = dst[1], v.outW = dst[2];
  for (int i = 0; i < 2; ++i)
    v.off[i] = backwardData ? g.pad[1 + i] - r1 : -g.pad[1 + i];
  v.ss[0] = ss[0], v.ss[1] = ss[1], v.ss[2] = ss[3], v.ss[3] = ss[4];
  v.os[0] = os[0], v.os[1] = os[1], v.os[2] = os[3], v.os[3] = os[4];
  // Filter rows are K (of which group g has Kg from g * Kg), columns the Cg channels of a group.
  v.wsGroup = g.Kg * g.ws[0];
  if (backwardData) { // output channel c, reduction channel k, the tap turned: w[k][c][r1 - r][r1 - s]
    v.wOff = g.wOff + r1 * g.ws[3] + r1 * g.ws[4];
    v.wsOut = g.ws[1], v.wsRed = g.ws[0], v.wsR = -g.ws[3], v.wsS = -g.ws[4];
  } else {
    v.wOff = g.wOff;
    v.wsOut = g.ws[0], v.wsRed = g.ws[1], v.wsR = g.ws[3], v.wsS = g.ws[4];
  }
  v.tilesH = (v.outH + v.tile - 1) / v.tile, v.tilesW = (v.outW + v.tile - 1) / v.tile;
  v.T = v.N * v.tilesH * v.tilesW;
  return v;
}

// Empty when a variant applies: 2-D, 3x3 or 5x5 filter, stride 1, dilation 1 (any padding, groups).
inline std::string whyNot(const ConvProblem &p) {
  if (p.spatialDims != 2 || p.filt[0] != p.filt[1] || (p.filt[0] != 3 && p.filt[0] != 5))
    return "WINOGRAD_NONFUSED: 2-D 3x3 and 5x5 filters only";
  if (p.stride[0] != 1 || p.stride[1] != 1 || p.dil[0] != 1 || p.dil[1] != 1)
    return "WINOGRAD_NONFUSED: stride 1 and dilation 1 only";
  return {};
}
// Backward-filter: F(4x4, 3x3) only. F(2x2, 5x5)'s adjoint transforms amplify the rounding of the sum
// over tiles: 1.1e-2 of max |dw| in exact fp32 on alexnet.conv2 at batch 64 (12544 tiles; the H200,
// 2026-12-01), where forward and backward-data stay below 1e-5.
inline std::string whyNotFilter(const ConvProblem &p) {
  if (std::string why = whyNot(p); !why.empty())
    return why;
  if (p.filt[0] != 3)
    return "WINOGRAD_NONFUSED backward-filter: 3x3 filters only (F(2x2, 5x5)'s adjoint amplifies rounding)";
  return {};
}

// v = B^T d B for a 6x6 tile d (row-major). B^T rows: [4 0 -5 0 1 0] [0 -4 -4 1 1 0] [0 4 -4 -1 1 0]
// [0 -2 -1 2 1 0] [0 2 -1 -2 1 0] [0 4 0 -5 0 1].
template <class A> LAMINA_HD void inputTransform(const A (&d)[kPoints], A (&v)[kPoints]) {
  A t[kPoints];
  for (int j = 0; j < kIn; ++j) {
    const A d0 = d[j], d1 = d[6 + j], d2 = d[12 + j], d3 = d[18 + j], d4 = d[24 + j], d5 = d[30 + j];
    t[j] = A(4) * d0 - A(5) * d2 + d4;
    t[6 + j] = -A(4) * (d1 + d2) + d3 + d4;
    t[12 + j] = A(4) * (d1 - d2) - d3 + d4;
    t[18 + j] = A(2) * (d3 - d1) - d2 + d4;
    t[24 + j] = A(2) * (d1 - d3) - d2 + d4;
    t[30 + j] = A(4) * d1 - A(5) * d3 + d5;
  }
  for (int i = 0; i < kIn; ++i) {
    const A *r = t + i * kIn;
    A *o = v + i * kIn;
    o[0] = A(4) * r[0] - A(5) * r[2] + r[4];
    o[1] = -A(4) * (r[1] + r[2]) + r[3] + r[4];
    o[2] = A(4) * (r[1] - r[2]) - r[3] + r[4];
    o[3] = A(2) * (r[3] - r[1]) - r[2] + r[4];
    o[4] = A(2) * (r[1] - r[3]) - r[2] + r[4];
    o[5] = A(4) * r[1] - A(5) * r[3] + r[5];
  }
}

// u = G g G^T for a 3x3 filter g (row-major). G rows: [1/4 0 0] [-1/6 -1/6 -1/6] [-1/6 1/6 -1/6]
// [1/24 1/12 1/6] [1/24 -1/12 1/6] [0 0 1].
template <class A> LAMINA_HD void filterTransform(const A (&g)[9], A (&u)[kPoints]) {
  const A q4 = A(1) / A(4), q6 = A(1) / A(6), q12 = A(1) / A(12), q24 = A(1) / A(24); // constants, no divides
  A t[18];                                                                            // 6 x 3
  for (int j = 0; j < 3; ++j) {
    const A g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
    t[j] = g0 * q4;
    t[3 + j] = -(g0 + g1 + g2) * q6;
    t[6 + j] = -(g0 - g1 + g2) * q6;
    t[9 + j] = g0 * q24 + g1 * q12 + g2 * q6;
    t[12 + j] = g0 * q24 - g1 * q12 + g2 * q6;
    t[15 + j] = g2;
  }
  for (int i = 0; i < kIn; ++i) {
    const A g0 = t[i * 3], g1 = t[i * 3 + 1], g2 = t[i * 3 + 2];
    A *o = u + i * kIn;
    o[0] = g0 * q4;
    o[1] = -(g0 + g1 + g2) * q6;
    o[2] = -(g0 - g1 + g2) * q6;
    o[3] = g0 * q24 + g1 * q12 + g2 * q6;
    o[4] = g0 * q24 - g1 * q12 + g2 * q6;
    o[5] = g2;
  }
}

// y = A^T m A: the 4x4 outputs (row-major) of a 6x6 product m. A^T rows: [1 1 1 1 1 0]
// [0 1 -1 2 -2 0] [0 1 1 4 4 0] [0 1 -1 8 -8 1].
template <class A> LAMINA_HD void outputTransform(const A (&m)[kPoints], A (&y)[16]) {
  A t[24]; // 4 x 6
  for (int j = 0; j < kIn; ++j) {
    const A m0 = m[j], m1 = m[6 + j], m2 = m[12 + j], m3 = m[18 + j], m4 = m[24 + j], m5 = m[30 + j];
    const A s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
    t[j] = m0 + s12 + s34;
    t[6 + j] = d12 + A(2) * d34;
    t[12 + j] = s12 + A(4) * s34;
    t[18 + j] = d12 + A(8) * d34 + m5;
  }
  for (int i = 0; i < 4; ++i) {
    const A *r = t + i * kIn;
    const A s12 = r[1] + r[2], d12 = r[1] - r[2], s34 = r[3] + r[4], d34 = r[3] - r[4];
    A *o = y + i * 4;
    o[0] = r[0] + s12 + s34;
    o[1] = d12 + A(2) * d34;
    o[2] = s12 + A(4) * s34;
    o[3] = d12 + A(8) * d34 + r[5];
  }
}

// z = A y A^T for a 4x4 tile y (row-major): the adjoint of outputTransform (A's rows are A^T's
// columns: [1 0 0 0] [1 1 1 1] [1 -1 1 -1] [1 2 4 8] [1 -2 4 -8] [0 0 0 1]).
template <class A> LAMINA_HD void outputAdjoint(const A (&y)[16], A (&z)[kPoints]) {
  A t[24]; // 6 x 4
  for (int j = 0; j < 4; ++j) {
    const A y0 = y[j], y1 = y[4 + j], y2 = y[8 + j], y3 = y[12 + j];
    const A s02 = y0 + y2, s13 = y1 + y3, f02 = y0 + A(4) * y2, f13 = A(2) * y1 + A(8) * y3;
    t[j] = y0;
    t[4 + j] = s02 + s13;
    t[8 + j] = s02 - s13;
    t[12 + j] = f02 + f13;
    t[16 + j] = f02 - f13;
    t[20 + j] = y3;
  }
  for (int i = 0; i < kIn; ++i) {
    const A *r = t + i * 4;
    const A s02 = r[0] + r[2], s13 = r[1] + r[3], f02 = r[0] + A(4) * r[2], f13 = A(2) * r[1] + A(8) * r[3];
    A *o = z + i * kIn;
    o[0] = r[0];
    o[1] = s02 + s13;
    o[2] = s02 - s13;
    o[3] = f02 + f13;
    o[4] = f02 - f13;
    o[5] = r[3];
  }
}

// g = G^T m G: the 3x3 filter gradient of a 6x6 product m, the adjoint of filterTransform (G^T rows:
// [1/4 -1/6 -1/6 1/24 1/24 0] [0 -1/6 1/6 1/12 -1/12 0] [0 -1/6 -1/6 1/6 1/6 1]).
template <class A> LAMINA_HD void filterAdjoint(const A (&m)[kPoints], A (&g)[9]) {
  const A q4 = A(1) / A(4), q6 = A(1) / A(6), q12 = A(1) / A(12), q24 = A(1) / A(24);
  A t[18]; // 3 x 6
  for (int j = 0; j < kIn; ++j) {
    const A m0 = m[j], m1 = m[6 + j], m2 = m[12 + j], m3 = m[18 + j], m4 = m[24 + j], m5 = m[30 + j];
    t[j] = m0 * q4 - (m1 + m2) * q6 + (m3 + m4) * q24;
    t[6 + j] = (m2 - m1) * q6 + (m3 - m4) * q12;
    t[12 + j] = (m3 + m4 - m1 - m2) * q6 + m5;
  }
  for (int i = 0; i < 3; ++i) {
    const A *r = t + i * kIn;
    A *o = g + i * 3;
    o[0] = r[0] * q4 - (r[1] + r[2]) * q6 + (r[3] + r[4]) * q24;
    o[1] = (r[2] - r[1]) * q6 + (r[3] - r[4]) * q12;
    o[2] = (r[3] + r[4] - r[1] - r[2]) * q6 + r[5];
  }
}

// F(2x2, 5x5): the same B; G (6x5) and A^T (2x6) of the points 0, +-1, +-2, infinity (derived by
// Toom-Cook and checked against the direct sums). Written as small matrix products: the loops unroll
// and the constants fold.
// u = G g G^T for a 5x5 filter g. G rows: [1/4 0 0 0 0] [-1/6 x5] [-1/6 1/6 -1/6 1/6 -1/6]
// [1/24 1/12 1/6 1/3 2/3] [1/24 -1/12 1/6 -1/3 2/3] [0 0 0 0 1].
template <class A> LAMINA_HD void g25(A (&G)[6][5]) {
  const A z = A(0), q4 = A(1) / A(4), q6 = A(1) / A(6), q12 = A(1) / A(12), q24 = A(1) / A(24), q3 = A(1) / A(3);
  const A rows[6][5] = {{q4, z, z, z, z},
                        {-q6, -q6, -q6, -q6, -q6},
                        {-q6, q6, -q6, q6, -q6},
                        {q24, q12, q6, q3, A(2) * q3},
                        {q24, -q12, q6, -q3, A(2) * q3},
                        {z, z, z, z, A(1)}};
  for (int i = 0; i < 6; ++i)
    for (int k = 0; k < 5; ++k)
      G[i][k] = rows[i][k];
}
template <class A> LAMINA_HD void filterTransform25(const A (&g)[25], A (&u)[kPoints]) {
  A G[6][5], t[30]; // t = G g (6 x 5)
  g25(G);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 5; ++j) {
      A acc = A(0);
      for (int k = 0; k < 5; ++k)
        acc += G[i][k] * g[k * 5 + j];
      t[i * 5 + j] = acc;
    }
  for (int i = 0; i < 6; ++i) // u = t G^T
    for (int j = 0; j < 6; ++j) {
      A acc = A(0);
      for (int k = 0; k < 5; ++k)
        acc += t[i * 5 + k] * G[j][k];
      u[i * 6 + j] = acc;
    }
}
// y = A^T m A (2x2). A^T rows: [1 1 1 1 1 0] [0 1 -1 2 -2 1].
template <class A> LAMINA_HD void outputTransform25(const A (&m)[kPoints], A (&y)[4]) {
  A t[12]; // 2 x 6
  for (int j = 0; j < 6; ++j) {
    const A m0 = m[j], m1 = m[6 + j], m2 = m[12 + j], m3 = m[18 + j], m4 = m[24 + j], m5 = m[30 + j];
    t[j] = m0 + m1 + m2 + m3 + m4;
    t[6 + j] = m1 - m2 + A(2) * (m3 - m4) + m5;
  }
  for (int i = 0; i < 2; ++i) {
    const A *r = t + i * 6;
    y[i * 2] = r[0] + r[1] + r[2] + r[3] + r[4];
    y[i * 2 + 1] = r[1] - r[2] + A(2) * (r[3] - r[4]) + r[5];
  }
}

// The two variants, for the algorithms' templates: kTile x kTile outputs from kR x kR taps.
struct F43 {
  static constexpr int kTile = 4, kR = 3;
  template <class A> LAMINA_HD static void filter(const A (&g)[9], A (&u)[kPoints]) { filterTransform(g, u); }
  template <class A> LAMINA_HD static void output(const A (&m)[kPoints], A (&y)[16]) { outputTransform(m, y); }
  template <class A> LAMINA_HD static void outputAdj(const A (&y)[16], A (&z)[kPoints]) { outputAdjoint(y, z); }
  template <class A> LAMINA_HD static void filterAdj(const A (&m)[kPoints], A (&g)[9]) { filterAdjoint(m, g); }
};
struct F25 {
  static constexpr int kTile = 2, kR = 5;
  template <class A> LAMINA_HD static void filter(const A (&g)[25], A (&u)[kPoints]) { filterTransform25(g, u); }
  template <class A> LAMINA_HD static void output(const A (&m)[kPoints], A (&y)[4]) { outputTransform25(m, y); }
};

// Tile t's image and top-left output pixel.
struct TilePos {
  int64_t n, h0, w0;
};
LAMINA_HD TilePos tilePos(const View &v, int64_t t) {
  const int64_t tw = t % v.tilesW, rest = t / v.tilesW;
  return {rest / v.tilesH, (rest % v.tilesH) * v.tile, tw * v.tile};
}

} // namespace lamina::winograd
