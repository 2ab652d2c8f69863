// Shared pieces of the CUDA GEMM convolution algorithms (conv_gemm.cu, conv_bwd_data_gemm.cu,
// conv_bwd_filter_gemm.cu): the geometry in a kernel-friendly form, the batch-chunk plan, and the
// gather kernels that build GEMM operands in the workspace (filter pack, im2col, output-shaped pack).
//
// Workspace matrices, row-major, for a chunk of nb images (j = image in chunk) and np output
// positions p0 .. p0+np-1 of each (np < P only when nb == 1):
//   wpack [K][Cg*F]           filter, flip applied (rows of group g: g*Kg ..)
//   cols  [C*F][nb*np]        im2col; row c*F + f, column j*np + q (a group's rows are contiguous)
//   opack [K][nb*np]          an output-shaped tensor (y or dy); row k, column j*np + q
// so every GEMM of a chunk is one cuBLAS call strided-batched over the G groups.
#pragma once

#include "core/conv_geom.h"
#include "core/conv_problem.h"
#include "core/dtype.h"
#include "cuda/blas.h"
#include "cuda/device.cuh"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>

namespace lamina::cuda::gemmconv {

// The shared geometry (core/conv_geom.h): flip folded into the filter strides, so everything below is a
// cross-correlation.
using Geom = ConvGeom;
inline Geom makeGeom(const ConvProblem &p) { return makeConvGeom(p); }

// Element size of the storage type and of the GEMM result / accumulator type (float, double for double).
inline size_t storageSize(const ConvProblem &p) { return dataTypeSize(p.dataType); }
inline size_t accSize(const ConvProblem &p) { return p.dataType == LAMINA_DATA_DOUBLE ? 8 : 4; }
inline laminaDataType_t accType(const ConvProblem &p) {
  return p.dataType == LAMINA_DATA_DOUBLE ? LAMINA_DATA_DOUBLE : LAMINA_DATA_FLOAT;
}

// Whether cuBLAS runs p's GEMMs on tensor cores (blas.cu's compute types): float under TENSOR_OP
// (TF32), half and bfloat16 unless FMA.
inline bool tensorCoreGemms(const ConvProblem &p) {
  return p.dataType == LAMINA_DATA_FLOAT ? p.math == LAMINA_TENSOR_OP_MATH
                                         : p.dataType != LAMINA_DATA_DOUBLE && p.math != LAMINA_FMA_MATH;
}

struct WsCarver {
  char *p;
  template <class A> A *take(int64_t n) {
    A *r = reinterpret_cast<A *>(p);
    p += alignUp(size_t(n) * sizeof(A));
    return r;
  }
};

// Workspace per chunk is kept near this (at least one image, or one output position, is always taken).
constexpr size_t kChunkBudget = size_t(256) << 20;

struct Plan {
  int64_t nb;     // images per chunk
  int64_t np;     // output positions per chunk (P unless nb == 1)
  int64_t chunks; // ceil(N / nb) * ceil(P / np)
  int64_t cols() const { return nb * np; }
};

// bytesPerPos: workspace bytes per (image, output position) of a chunk. wholeImages: never split
// an image's positions (backward data gathers whole images).
inline Plan makePlan(const ConvProblem &p, size_t bytesPerPos, bool wholeImages) {
  const int64_t P = p.outSize(), N = p.N;
  const double perImage = double(bytesPerPos) * double(P);
  Plan pl;
  // The GEMM's column count nb * np is a cuBLAS int: keep it below 2^30.
  constexpr int64_t kMaxCols = int64_t(1) << 30;
  if (perImage <= double(kChunkBudget) || wholeImages) {
    pl.np = P;
    int64_t nb = std::max<int64_t>(1, int64_t(double(kChunkBudget) / std::max(perImage, 1.0)));
    nb = std::min<int64_t>(nb, std::max<int64_t>(1, kMaxCols / std::max<int64_t>(P, 1)));
    pl.nb = std::min(N, nb);
  } else {
    pl.nb = 1;
    int64_t np = int64_t(kChunkBudget / std::max<size_t>(bytesPerPos, 1));
    pl.np = std::min(P, std::min(kMaxCols, std::max<int64_t>(np, 1)));
  }
  pl.chunks = (N + pl.nb - 1) / pl.nb * ((P + pl.np - 1) / pl.np);
  return pl;
}

// The chunk number c of a plan: images n0 .. n0+nb-1, positions p0 .. p0+np-1.
struct Chunk {
  int64_t n0, nb, p0, np;
};
inline Chunk chunkOf(const ConvProblem &p, const Plan &pl, int64_t c) {
  const int64_t perImage = (p.outSize() + pl.np - 1) / pl.np;
  Chunk ch;
  ch.n0 = c / perImage * pl.nb;
  ch.nb = std::min(pl.nb, p.N - ch.n0);
  ch.p0 = c % perImage * pl.np;
  ch.np = std::min(pl.np, p.outSize() - ch.p0);
  return ch;
}

// The GEMM sizes of one group must fit cuBLAS's int arguments.
inline std::string whyNotGemm(const ConvProblem &p) {
  const int64_t CgF = p.Cg() * p.filtSize();
  if (CgF > INT_MAX || p.Kg() > INT_MAX)
    return "a GEMM dimension (C/G * filter size or K/G) exceeds the 32-bit range of cuBLAS";
  return {};
}

// Rough cost: the GEMM at a rate for the math type plus the workspace traffic at 3 TB/s and a fixed
// cost per kernel launch (kernelsPerChunk of them, plus the GEMM, per chunk). gemmTiles (0: not
// counted): the GEMM's output tiles, of which fewer than a wave run it slower (see below).
inline double estimateMs(const ConvProblem &p, double bytesMoved, int64_t chunks, int kernelsPerChunk,
                         double gemmTiles = 0) {
  double tflops;
  switch (p.dataType) {
  case LAMINA_DATA_DOUBLE: tflops = 50; break;
  // Tensor-op rates as measured for this path on the H200 (im2col chunks + cuBLAS + epilogue pass:
  // at most ~90 TFLOP/s half and ~56 TF32 over the benchmark layers), not cuBLAS's peak: with the
  // peak the heuristic picked GEMM over the tensor-core implicit GEMM that ran twice as fast.
  case LAMINA_DATA_FLOAT: tflops = p.math == LAMINA_TENSOR_OP_MATH ? 120 : 40; break;
  default: tflops = p.math == LAMINA_FMA_MATH ? 40 : p.math == LAMINA_TENSOR_OP_MATH ? 150 : 500; break;
  }
  // Thin GEMMs (depthwise: Kg = 1, few taps) run far below peak.
  const double small = std::min(1.0, double(p.Kg()) / 64.0) * std::min(1.0, double(p.Cg() * p.filtSize()) / 64.0);
  // Under a wave of tiles cuBLAS leaves SMs idle (split-K recovers part): batch-1 3x3 layers ran at
  // 0.25-0.6 of the rate (TF32 alexnet conv4 0.050 ms, vgg16 conv5_2 0.067, H200), which made GEMM
  // the pick over the implicit GEMM that ran them in 0.038 / 0.051.
  const double fill = gemmTiles > 0 ? std::min(1.0, std::max(0.25, gemmTiles / 132.0)) : 1.0;
  const double gemmMs = p.flops() / (tflops * 1e9 * fill * std::max(small, 0.02));
  // Measured on the H200: 20-40 us for the smallest layers at batch 1 (im2col, cuBLAS, epilogue).
  const double launchMs = 0.008 * double(chunks) * (kernelsPerChunk + 1);
  return gemmMs + bytesMoved / 3e9 + launchMs;
}

// ---------------------------------------------------------------- kernels

// Output position pp (row-major over out[0..2]) as coordinates.
__device__ __forceinline__ void outCoords(const Geom &g, int64_t pp, int64_t o[3]) {
  o[2] = pp % g.out[2];
  pp /= g.out[2];
  o[1] = pp % g.out[1];
  o[0] = pp / g.out[1];
}

// wpack[k][c*F + f] = w(k, c, f) with the flip applied (storage type kept).
template <class T> __global__ void packFilterKernel(Geom g, const T *__restrict__ w, T *__restrict__ wpack) {
  const int64_t CgF = g.Cg * g.F, total = g.K * CgF;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    const int64_t k = i / CgF, r = i % CgF, c = r / g.F, f = r % g.F;
    const int64_t f2 = f % g.filt[2], f1 = (f / g.filt[2]) % g.filt[1], f0 = f / (g.filt[2] * g.filt[1]);
    wpack[i] = w[g.wOff + k * g.ws[0] + c * g.ws[1] + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4]];
  }
}

// cols[(c*F + f) * (nb*np) + j*np + q] = x(n0 + j, c, input position of output p0 + q under tap f),
// zero in the padding. One thread per element; consecutive threads walk q (coalesced writes).
template <class T>
__global__ void im2colKernel(Geom g, const T *__restrict__ x, int64_t n0, int64_t nb, int64_t p0, int64_t np,
                             T *__restrict__ cols) {
  const int64_t ncols = nb * np, total = g.C * g.F * ncols;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    const int64_t row = i / ncols, col = i % ncols;
    const int64_t c = row / g.F, f = row % g.F, j = col / np, q = col % np;
    const int64_t f2 = f % g.filt[2], f1 = (f / g.filt[2]) % g.filt[1], f0 = f / (g.filt[2] * g.filt[1]);
    int64_t o[3];
    outCoords(g, p0 + q, o);
    const int64_t i0 = o[0] * g.str[0] - g.pad[0] + f0 * g.dil[0];
    const int64_t i1 = o[1] * g.str[1] - g.pad[1] + f1 * g.dil[1];
    const int64_t i2 = o[2] * g.str[2] - g.pad[2] + f2 * g.dil[2];
    T v = fromAcc<T>(acc_t<T>(0));
    if (i0 >= 0 && i0 < g.in[0] && i1 >= 0 && i1 < g.in[1] && i2 >= 0 && i2 < g.in[2])
      v = x[(n0 + j) * g.xs[0] + c * g.xs[1] + i0 * g.xs[2] + i1 * g.xs[3] + i2 * g.xs[4]];
    cols[i] = v;
  }
}

// opack[k * (nb*np) + j*np + q] = t(n0 + j, k, p0 + q) for an output-shaped tensor t (y's strides).
template <class T>
__global__ void packOutKernel(Geom g, const T *__restrict__ t, int64_t n0, int64_t nb, int64_t p0, int64_t np,
                              T *__restrict__ opack) {
  const int64_t ncols = nb * np, total = g.K * ncols;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    const int64_t k = i / ncols, col = i % ncols, j = col / np, q = col % np;
    int64_t o[3];
    outCoords(g, p0 + q, o);
    opack[i] = t[(n0 + j) * g.ys[0] + k * g.ys[1] + o[0] * g.ys[2] + o[1] * g.ys[3] + o[2] * g.ys[4]];
  }
}

// Launch helpers (on the handle's stream, checked).
template <class T> void packFilter(const laminaContext &h, const Geom &g, const T *w, T *wpack) {
  const int64_t n = g.K * g.Cg * g.F;
  packFilterKernel<T><<<gridFor(n), kBlock, 0, streamOf(h)>>>(g, w, wpack);
  LAMINA_CUDA_LAUNCHED();
}
template <class T> void im2col(const laminaContext &h, const Geom &g, const T *x, const Chunk &ch, T *cols) {
  const int64_t n = g.C * g.F * ch.nb * ch.np;
  im2colKernel<T><<<gridFor(n), kBlock, 0, streamOf(h)>>>(g, x, ch.n0, ch.nb, ch.p0, ch.np, cols);
  LAMINA_CUDA_LAUNCHED();
}
template <class T> void packOut(const laminaContext &h, const Geom &g, const T *t, const Chunk &ch, T *opack) {
  const int64_t n = g.K * ch.nb * ch.np;
  packOutKernel<T><<<gridFor(n), kBlock, 0, streamOf(h)>>>(g, t, ch.n0, ch.nb, ch.p0, ch.np, opack);
  LAMINA_CUDA_LAUNCHED();
}

// The helper kernels above, loaded now (each GEMM algorithm's translation unit has its own copies).
template <class T> void preloadHelpers() {
  preloadKernel(packFilterKernel<T>);
  preloadKernel(im2colKernel<T>);
  preloadKernel(packOutKernel<T>);
}

} // namespace lamina::cuda::gemmconv
