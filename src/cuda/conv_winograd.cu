// WINOGRAD_NONFUSED on the GPU, all three directions (2-D 3x3 or 5x5, stride 1, dilation 1): the
// F(4x4, 3x3) or F(2x2, 5x5) transforms of core/winograd.h (the CPU algorithm's, tested there) around one cuBLAS
// strided-batched GEMM over the 36 transform points x groups per chunk of tiles:
//   U[g][pt][o][c]  filter transform                     (once per call)
//   V[g][pt][c][t]  input transform of a chunk of tiles  (threads over t: coalesced stores)
//   M[g][pt][o][t] = U[g][pt] (NCg x RCg) * V[g][pt] (RCg x tiles)   cuBLAS, batch G * 36
//   y               output transform with alpha/beta     (threads over t: coalesced loads)
// Backward-filter (the adjoint): V of x and Z[g][pt][o][t] = A dy A^T per chunk, M[g][pt][o][c] +=
// Z[g][pt] (NCg x tiles) * V[g][pt]^T (tiles x RCg) accumulated over the chunks by cuBLAS, then
// dw = G^T M G with alpha/beta.
// in the accumulation type (float; double for double). Float under TENSOR_OP math keeps float's
// accuracy: a single TF32 GEMM was 3x faster than FP32 but the transforms amplify its rounding (8e-3 of
// max |y| against cuDNN on vgg16.conv4_2, past TF32's 5e-3 bound). Its backward-filter runs 3xTF32
// where that measured faster (splitTf32): U and V stored split, x = hi + lo with hi rounded to TF32,
// M = Vlo Uhi + Vhi Ulo + Vhi Uhi; everything else runs exact FP32 GEMMs, which beat 3xTF32 on 50 of
// the 54 forward and backward-data rows of the H200 run v7 (up to 2.2x). Half/bfloat16: float GEMMs.
#include "core/winograd.h"

#include "cuda/blas.h"
#include "cuda/conv_algorithms.h"
#include "cuda/conv_gemm_common.cuh"

#include <cstdlib>

namespace lamina::cuda {
namespace {

namespace wg = lamina::winograd;
using gemmconv::accSize;
using gemmconv::accType;
using gemmconv::WsCarver;
using wg::kPoints;

// V and M of one chunk of tiles are kept near this.
constexpr size_t kChunkBudget = size_t(256) << 20;

// 3xTF32 (see the top; U and V stored twice, hi and lo): float under TENSOR_OP math, backward-filter,
// at least 128 channels each side, and below 512 channels or in one chunk of tiles. On the H200 (v7,
// batch 64) 3xTF32 ran 1.11-1.27x faster than FP32 on alexnet conv3-5, resnet50 res3-5 and vgg16
// conv2_2, tied on conv3_2, and 1.6-1.9x slower on 64 channels (vgg16 conv1_2, res2_3x3) and 512
// channels over several chunks (conv4_2 2.85 against 1.71 ms, conv5_2 1.03 / 0.61).
bool splitTf32(const ConvProblem &p, bool wgrad) {
  if (p.dataType != LAMINA_DATA_FLOAT || p.math != LAMINA_TENSOR_OP_MATH || !wgrad)
    return false;
  const wg::View v = wg::makeView(p, false);
  if (std::min(v.NCg, v.RCg) < 128)
    return false;
  const int64_t perTile = kPoints * v.G * 2 * (v.RCg + v.NCg) * int64_t(sizeof(float)); // split V and Z
  return std::max(v.NCg, v.RCg) < 512 || v.T <= int64_t(kChunkBudget) / perTile;
}

// wgrad: backward-filter, whose chunks hold V and Z (both split under 3xTF32); else V and M.
// LAMINA_CUDA_WINOGRAD_CHUNK sets the tiles per chunk (the tests' small problems then span chunks).
int64_t chunkTiles(const ConvProblem &p, const wg::View &v, bool wgrad = false) {
  if (const char *e = std::getenv("LAMINA_CUDA_WINOGRAD_CHUNK"); e && std::atoll(e) > 0)
    return std::min(v.T, int64_t(std::atoll(e)));
  const int64_t parts = splitTf32(p, wgrad) ? 2 : 1;
  const int64_t perTile = kPoints * v.G * (parts * v.RCg + (wgrad ? parts : 1) * v.NCg) * int64_t(accSize(p));
  return std::min(v.T, std::max<int64_t>(1, int64_t(kChunkBudget) / perTile));
}

size_t workspaceWgrad(const ConvProblem &p) {
  const wg::View v = wg::makeView(p, false);
  const int64_t tc = chunkTiles(p, v, true), a = int64_t(accSize(p)), b = v.G * kPoints;
  const int64_t parts = splitTf32(p, true) ? 2 : 1;
  return alignUp(size_t(a * b * v.NCg * v.RCg)) + alignUp(size_t(a * b * v.RCg * tc * parts)) +
         alignUp(size_t(a * b * v.NCg * tc * parts));
}

size_t workspaceOf(const ConvProblem &p, bool bwd) {
  const wg::View v = wg::makeView(p, bwd);
  const int64_t tc = chunkTiles(p, v), a = int64_t(accSize(p)), b = v.G * kPoints;
  const int64_t parts = splitTf32(p, false) ? 2 : 1;
  return alignUp(size_t(a * b * v.NCg * v.RCg * parts)) + alignUp(size_t(a * b * v.RCg * tc * parts)) +
         alignUp(size_t(a * b * v.NCg * tc));
}

// Stores x at dst[i], or, with lo, its TF32 part at dst[i] and the remainder at lo[i].
__device__ __forceinline__ void storeSplit(float *dst, float *lo, int64_t i, float x) {
  if (!lo) {
    dst[i] = x;
    return;
  }
  uint32_t hi;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(hi) : "f"(x));
  dst[i] = __uint_as_float(hi);
  lo[i] = x - __uint_as_float(hi);
}
__device__ __forceinline__ void storeSplit(double *dst, double *, int64_t i, double x) { dst[i] = x; }

// The GEMMs run in the accumulation type, on TF32 tensor cores only when split (3xTF32); float under
// FMA math keeps it (cuBLAS's pedantic FP32).
GemmCall gemmOf(const ConvProblem &p, bool split) {
  GemmCall gc;
  gc.abType = gc.cType = accType(p);
  gc.math = split                                                          ? LAMINA_TENSOR_OP_MATH
            : p.dataType == LAMINA_DATA_FLOAT && p.math == LAMINA_FMA_MATH ? LAMINA_FMA_MATH
                                                                           : LAMINA_DEFAULT_MATH;
  return gc;
}

// Runs gc; with the operands' low parts (3xTF32, see the top) as lo * hi + hi * lo + hi * hi, the
// small products first and the large one on top, all accumulating onto gc's beta.
void gemmSplit(const laminaContext &h, GemmCall gc, const void *Alo, const void *Blo) {
  if (Alo) {
    const GemmCall hiHi = gc;
    gc.A = Alo;
    gemmStridedBatched(h, gc);
    gc.A = hiHi.A, gc.B = Blo, gc.beta = 1.0;
    gemmStridedBatched(h, gc);
    gc = hiHi;
    gc.beta = 1.0;
  }
  gemmStridedBatched(h, gc);
}

// U[((g * 36 + pt) * NCg + o) * RCg + c] for every (g, o, c), c fastest.
template <class T, class W>
__global__ void filterTransformKernel(wg::View v, const T *__restrict__ w, acc_t<T> *__restrict__ U,
                                      acc_t<T> *__restrict__ Ulo) {
  using A = acc_t<T>;
  const int64_t total = v.G * v.NCg * v.RCg;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    const int64_t c = i % v.RCg, rest = i / v.RCg, o = rest % v.NCg, g = rest / v.NCg;
    const T *f = w + v.wOff + g * v.wsGroup + o * v.wsOut + c * v.wsRed;
    constexpr int R = W::kR;
    A taps[R * R], u[kPoints];
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int s = 0; s < R; ++s)
        taps[r * R + s] = toAcc(f[r * v.wsR + s * v.wsS]);
    W::filter(taps, u);
#pragma unroll
    for (int pt = 0; pt < kPoints; ++pt)
      storeSplit(U, Ulo, ((g * kPoints + pt) * v.NCg + o) * v.RCg + c, u[pt]);
  }
}

// V[((g * 36 + pt) * RCg + c) * tc + t] for tiles t0 .. t0 + nt, t fastest.
template <class T>
__global__ void inputTransformKernel(wg::View v, const T *__restrict__ src, int64_t t0, int64_t nt, int64_t tc,
                                     acc_t<T> *__restrict__ V, acc_t<T> *__restrict__ Vlo) {
  using A = acc_t<T>;
  const int64_t total = v.G * v.RCg * nt;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    const int64_t t = i % nt, gc = i / nt, c = gc % v.RCg, g = gc / v.RCg;
    const wg::TilePos tp = wg::tilePos(v, t0 + t);
    const T *sc = src + tp.n * v.ss[0] + (g * v.RCg + c) * v.ss[1];
    A d[kPoints], vt[kPoints];
#pragma unroll
    for (int ii = 0; ii < wg::kIn; ++ii) {
      const int64_t hh = tp.h0 + v.off[0] + ii;
      const bool rowIn = hh >= 0 && hh < v.srcH;
#pragma unroll
      for (int jj = 0; jj < wg::kIn; ++jj) {
        const int64_t ww = tp.w0 + v.off[1] + jj;
        d[ii * wg::kIn + jj] = rowIn && ww >= 0 && ww < v.srcW ? toAcc(sc[hh * v.ss[2] + ww * v.ss[3]]) : A(0);
      }
    }
    wg::inputTransform(d, vt);
#pragma unroll
    for (int pt = 0; pt < kPoints; ++pt)
      storeSplit(V, Vlo, ((g * kPoints + pt) * v.RCg + c) * tc + t, vt[pt]);
  }
}

// out tile t of channel o = A^T M A, stored as alpha * value + beta * out (out unread when beta == 0).
template <class T, class W>
__global__ void outputTransformKernel(wg::View v, const acc_t<T> *__restrict__ M, int64_t t0, int64_t nt, int64_t tc,
                                      acc_t<T> alpha, acc_t<T> beta, T *__restrict__ out) {
  using A = acc_t<T>;
  const int64_t total = v.G * v.NCg * nt;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    const int64_t t = i % nt, go = i / nt, o = go % v.NCg, g = go / v.NCg;
    constexpr int E = W::kTile;
    A m[kPoints], y[E * E];
#pragma unroll
    for (int pt = 0; pt < kPoints; ++pt)
      m[pt] = M[((g * kPoints + pt) * v.NCg + o) * tc + t];
    W::output(m, y);
    const wg::TilePos tp = wg::tilePos(v, t0 + t);
    T *yo = out + tp.n * v.os[0] + (g * v.NCg + o) * v.os[1];
#pragma unroll
    for (int ii = 0; ii < E; ++ii)
#pragma unroll
      for (int jj = 0; jj < E; ++jj)
        if (tp.h0 + ii < v.outH && tp.w0 + jj < v.outW)
          storeScaled(yo + (tp.h0 + ii) * v.os[2] + (tp.w0 + jj) * v.os[3], y[ii * E + jj], alpha, beta);
  }
}

// Z[((g * 36 + pt) * NCg + o) * tc + t] = A dy A^T of dy tile t0 + t of output channel o (0 outside dy).
template <class T, class W>
__global__ void dyTransformKernel(wg::View v, const T *__restrict__ dy, int64_t t0, int64_t nt, int64_t tc,
                                  acc_t<T> *__restrict__ Z, acc_t<T> *__restrict__ Zlo) {
  using A = acc_t<T>;
  const int64_t total = v.G * v.NCg * nt;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    const int64_t t = i % nt, go = i / nt, o = go % v.NCg, g = go / v.NCg;
    const wg::TilePos tp = wg::tilePos(v, t0 + t);
    const T *yo = dy + tp.n * v.os[0] + (g * v.NCg + o) * v.os[1];
    constexpr int M = W::kTile;
    A d[M * M], z[kPoints];
#pragma unroll
    for (int ii = 0; ii < M; ++ii)
#pragma unroll
      for (int jj = 0; jj < M; ++jj) {
        const bool in = tp.h0 + ii < v.outH && tp.w0 + jj < v.outW;
        d[ii * M + jj] = in ? toAcc(yo[(tp.h0 + ii) * v.os[2] + (tp.w0 + jj) * v.os[3]]) : A(0);
      }
    W::outputAdj(d, z);
#pragma unroll
    for (int pt = 0; pt < kPoints; ++pt)
      storeSplit(Z, Zlo, ((g * kPoints + pt) * v.NCg + o) * tc + t, z[pt]);
  }
}

// dw of (g, o, c) = alpha * G^T M G + beta * dw (dw unread when beta == 0); threads over c.
template <class T, class W>
__global__ void filterAdjointKernel(wg::View v, const acc_t<T> *__restrict__ M, acc_t<T> alpha, acc_t<T> beta,
                                    T *__restrict__ dw) {
  using A = acc_t<T>;
  const int64_t total = v.G * v.NCg * v.RCg;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    const int64_t c = i % v.RCg, go = i / v.RCg, o = go % v.NCg, g = go / v.NCg;
    constexpr int R = W::kR;
    A m[kPoints], f[R * R];
#pragma unroll
    for (int pt = 0; pt < kPoints; ++pt)
      m[pt] = M[((g * kPoints + pt) * v.NCg + o) * v.RCg + c];
    W::filterAdj(m, f);
    T *wo = dw + v.wOff + g * v.wsGroup + o * v.wsOut + c * v.wsRed;
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int s = 0; s < R; ++s)
        storeScaled(wo + r * v.wsR + s * v.wsS, f[r * R + s], alpha, beta);
  }
}

template <class T, class W> void run(const ConvArgs &a, bool bwd) {
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const laminaContext &h = *a.handle;
  const cudaStream_t stream = streamOf(h);
  const wg::View v = wg::makeView(p, bwd);
  const T *src = static_cast<const T *>(bwd ? a.dy : a.x);
  T *out = static_cast<T *>(bwd ? a.dx : a.y);
  const int64_t tc = chunkTiles(p, v), batches = v.G * kPoints;
  WsCarver ws{static_cast<char *>(a.workspace)};
  const bool split = splitTf32(p, false);
  A *U = ws.take<A>(batches * v.NCg * v.RCg * (split ? 2 : 1));
  A *V = ws.take<A>(batches * v.RCg * tc * (split ? 2 : 1));
  A *M = ws.take<A>(batches * v.NCg * tc);
  A *Ulo = split ? U + batches * v.NCg * v.RCg : nullptr;
  A *Vlo = split ? V + batches * v.RCg * tc : nullptr;
  filterTransformKernel<T, W>
      <<<gridFor(v.G * v.NCg * v.RCg), kBlock, 0, stream>>>(v, static_cast<const T *>(a.w), U, Ulo);
  LAMINA_CUDA_LAUNCHED();
  for (int64_t t0 = 0; t0 < v.T; t0 += tc) {
    const int64_t nt = std::min(tc, v.T - t0);
    inputTransformKernel<T><<<gridFor(v.G * v.RCg * nt), kBlock, 0, stream>>>(v, src, t0, nt, tc, V, Vlo);
    LAMINA_CUDA_LAUNCHED();
    // Column-major view of M_b[NCg x nt] = U_b[NCg x RCg] * V_b[RCg x nt] (row-major, ld tc):
    // M_b^T[nt x NCg] = V_b^T[nt x RCg] * U_b^T[RCg x NCg].
    GemmCall gc = gemmOf(p, split);
    gc.m = nt, gc.n = v.NCg, gc.k = v.RCg;
    gc.A = V, gc.lda = tc, gc.strideA = v.RCg * tc;
    gc.B = U, gc.ldb = v.RCg, gc.strideB = v.NCg * v.RCg;
    gc.C = M, gc.ldc = tc, gc.strideC = v.NCg * tc;
    gc.batch = batches;
    gemmSplit(h, gc, Vlo, Ulo);
    outputTransformKernel<T, W>
        <<<gridFor(v.G * v.NCg * nt), kBlock, 0, stream>>>(v, M, t0, nt, tc, A(a.alpha), A(a.beta), out);
    LAMINA_CUDA_LAUNCHED();
  }
}

template <class T, class W> void runWgrad(const ConvArgs &a) {
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const laminaContext &h = *a.handle;
  const cudaStream_t stream = streamOf(h);
  const wg::View v = wg::makeView(p, false);
  const int64_t tc = chunkTiles(p, v, true), batches = v.G * kPoints;
  const bool split = splitTf32(p, true);
  WsCarver ws{static_cast<char *>(a.workspace)};
  A *M = ws.take<A>(batches * v.NCg * v.RCg);
  A *V = ws.take<A>(batches * v.RCg * tc * (split ? 2 : 1));
  A *Z = ws.take<A>(batches * v.NCg * tc * (split ? 2 : 1));
  A *Vlo = split ? V + batches * v.RCg * tc : nullptr;
  A *Zlo = split ? Z + batches * v.NCg * tc : nullptr;
  for (int64_t t0 = 0; t0 < v.T; t0 += tc) {
    const int64_t nt = std::min(tc, v.T - t0);
    inputTransformKernel<T>
        <<<gridFor(v.G * v.RCg * nt), kBlock, 0, stream>>>(v, static_cast<const T *>(a.x), t0, nt, tc, V, Vlo);
    LAMINA_CUDA_LAUNCHED();
    dyTransformKernel<T, W>
        <<<gridFor(v.G * v.NCg * nt), kBlock, 0, stream>>>(v, static_cast<const T *>(a.dy), t0, nt, tc, Z, Zlo);
    LAMINA_CUDA_LAUNCHED();
    // Column-major view of M_b[NCg x RCg] += Z_b[NCg x nt] * V_b^T[nt x RCg] (row-major, ld tc):
    // M_b^T[RCg x NCg] = (V_b as nt x RCg)^T * (Z_b as nt x NCg).
    GemmCall gc = gemmOf(p, split);
    gc.m = v.RCg, gc.n = v.NCg, gc.k = nt;
    gc.transA = true, gc.A = V, gc.lda = tc, gc.strideA = v.RCg * tc;
    gc.B = Z, gc.ldb = tc, gc.strideB = v.NCg * tc;
    gc.C = M, gc.ldc = v.RCg, gc.strideC = v.NCg * v.RCg;
    gc.batch = batches;
    gc.beta = t0 == 0 ? 0.0 : 1.0;
    gemmSplit(h, gc, Vlo, Zlo);
  }
  filterAdjointKernel<T, W>
      <<<gridFor(v.G * v.NCg * v.RCg), kBlock, 0, stream>>>(v, M, A(a.alpha), A(a.beta), static_cast<T *>(a.dw));
  LAMINA_CUDA_LAUNCHED();
}

std::string whyNotAny(const ConvProblem &p, bool bwd) {
  if (std::string why = wg::whyNot(p); !why.empty())
    return why;
  const wg::View v = wg::makeView(p, bwd);
  if (!gemmFitsInt(chunkTiles(p, v), v.NCg, v.RCg, chunkTiles(p, v), v.RCg, chunkTiles(p, v)))
    return "WINOGRAD_NONFUSED: a GEMM dimension exceeds the 32-bit range of cuBLAS";
  return {};
}

double estimateAny(const ConvProblem &p, bool bwd, bool wgrad = false) {
  // The GEMMs at cuBLAS's rate for the math (fp32 ~45 TFLOP/s on the H200, 3xTF32 ~300 / 3, fp64 ~50)
  // plus V and M written and read (split: V in two parts read by three GEMMs, M accumulated three
  // times) and the source read at 2.5 TB/s, three launches per chunk.
  const wg::View v = wg::makeView(p, bwd);
  const bool split = splitTf32(p, wgrad);
  const double flops = 2.0 * kPoints * v.G * v.NCg * v.RCg * double(v.T);
  const double tflops = p.dataType == LAMINA_DATA_DOUBLE ? 50 : split ? 100 : 45;
  const double small = std::min(1.0, double(v.NCg) / 64.0) * std::min(1.0, double(v.RCg) / 64.0);
  const double bytes =
      double(accSize(p)) * kPoints * v.G * (split ? 5 * v.RCg + 6 * v.NCg : 2 * (v.RCg + v.NCg)) * double(v.T) +
      double(dataTypeSize(p.dataType)) * double(v.N) * v.G * (v.RCg * v.srcH * v.srcW + v.NCg * v.outH * v.outW);
  const int64_t chunks = (v.T + chunkTiles(p, v, wgrad) - 1) / chunkTiles(p, v, wgrad);
  const double launches = double(1 + 3 * chunks), work = flops / (tflops * 1e9 * std::max(small, 0.02)) + bytes / 2.5e9;
  // Under FP32 math (the rivals: GEMM, FMA implicit GEMM) small problems are bound by the host issuing
  // the launches (cuBLAS's included, ~7 us each on the H200's host), larger ones by the GPU (~3 us a
  // launch back to back): lenet.conv2 fp32 at batch 64 ran 0.0245 ms, modelled 0.048 with 8 us a
  // launch added to the work, so GEMM (0.054) was picked. Against the tensor-core paths the 8 us stay:
  // there the model is optimistic at batch 1 and 8 (TF32 vgg16 conv3_2 at batch 1: 0.073 ms measured).
  if (p.dataType != LAMINA_DATA_HALF && p.dataType != LAMINA_DATA_BFLOAT16 && p.math != LAMINA_TENSOR_OP_MATH)
    return std::max(work + 0.003 * launches, 0.007 * launches);
  return work + 0.008 * launches;
}

// The variant by filter size (whyNot admits 3x3 and 5x5 only).
template <class T> void runFwd(const ConvArgs &a) {
  a.p->filt[0] == 5 ? run<T, wg::F25>(a, false) : run<T, wg::F43>(a, false);
}
template <class T> void runBwd(const ConvArgs &a) {
  a.p->filt[0] == 5 ? run<T, wg::F25>(a, true) : run<T, wg::F43>(a, true);
}
template <class T> void runWgradAny(const ConvArgs &a) {
  runWgrad<T, wg::F43>(a); // 3x3 only (wg::whyNotFilter)
}

std::string whyNotWgrad(const ConvProblem &p) {
  if (std::string why = wg::whyNotFilter(p); !why.empty())
    return why;
  const wg::View v = wg::makeView(p, false);
  const int64_t tc = chunkTiles(p, v, true);
  if (!gemmFitsInt(v.RCg, v.NCg, tc, tc, tc, v.RCg))
    return "WINOGRAD_NONFUSED: a GEMM dimension exceeds the 32-bit range of cuBLAS";
  return {};
}

template <class T, class W> void preloadVariant() {
  preloadKernel(filterTransformKernel<T, W>);
  preloadKernel(outputTransformKernel<T, W>);
}
template <class T> void preloadT() {
  preloadKernel(inputTransformKernel<T>);
  preloadVariant<T, wg::F43>();
  preloadVariant<T, wg::F25>();
  preloadKernel(dyTransformKernel<T, wg::F43>); // backward-filter: F(4x4, 3x3) only
  preloadKernel(filterAdjointKernel<T, wg::F43>);
}

} // namespace

void preloadConvWinograd() { LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT); }

const ConvAlgorithm kConvFwdWinogradNonfused = {
    ConvDirection::Forward,
    LAMINA_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED,
    "WINOGRAD_NONFUSED",
    LAMINA_DETERMINISTIC,
    [](const ConvProblem &p) { return whyNotAny(p, false); },
    [](const ConvProblem &p) { return workspaceOf(p, false); },
    [](const ConvProblem &p) { return estimateAny(p, false); },
    [](const ConvArgs &a) { LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, runFwd, a); },
    prepareByRunning};

const ConvAlgorithm kConvBwdDataWinogradNonfused = {
    ConvDirection::BackwardData,
    LAMINA_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED,
    "WINOGRAD_NONFUSED",
    LAMINA_DETERMINISTIC,
    [](const ConvProblem &p) { return whyNotAny(p, true); },
    [](const ConvProblem &p) { return workspaceOf(p, true); },
    [](const ConvProblem &p) { return estimateAny(p, true); },
    [](const ConvArgs &a) { LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, runBwd, a); },
    prepareByRunning};

const ConvAlgorithm kConvBwdFilterWinogradNonfused = {
    ConvDirection::BackwardFilter, LAMINA_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED, "WINOGRAD_NONFUSED",
    LAMINA_DETERMINISTIC, whyNotWgrad, workspaceWgrad,
    // The forward's work (the same GEMM sizes and transforms); the dy transform replaces U's. The
    // 3xTF32 GEMMs reduce over all tiles (long k) and ran at 0.62x the forward's model on the H200; the
    // FP32 ones at 1.5-1.8x it with 64 channels a side (64 x 64 GEMMs over long k: vgg16 conv1_2 9.52
    // against 5.28 ms, res2_3x3 0.524 / 0.34), at 0.9-1.2x otherwise.
    [](const ConvProblem &p) {
      const wg::View v = wg::makeView(p, false);
      const double scale = splitTf32(p, true) ? 0.65 : std::min(v.NCg, v.RCg) <= 64 ? 1.8 : 1.0;
      return estimateAny(p, false, true) * scale;
    },
    [](const ConvArgs &a) { LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, runWgradAny, a); }, prepareByRunning};

} // namespace lamina::cuda
