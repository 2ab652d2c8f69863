// Shared pieces of the CUDA forward convolutions (IMPLICIT_GEMM, IMPLICIT_PRECOMP_GEMM, DIRECT): a
// normalised 3-slot geometry, the decoding of a reduction index into input/filter offsets, the
// implicit-GEMM kernel (templated on how that decoding is done) and the cost model.
//
// The GEMM, per group grp:  y[m][n] = sum_j A[m][j] * B[j][n]  with
//   m = (image, output position)  in [0, M = N * P)    rows,
//   n = output channel of grp     in [0, Kg)           columns,
//   j = (c, f0, f1, f2)           in [0, Kred = Cg*F)  reduction, f2 fastest,
//   A[m][j] = x[image][grp*Cg + c][o*stride - pad + f*dil] (zero outside the input),
//   B[j][n] = w[grp*Kg + n][c][f] (mirrored in LAMINA_CONVOLUTION mode).
// Tiles of 64 rows x 64 columns, 16-deep reduction slices, 256 threads. Both operands are gathered
// from global memory into registers (the next slice is loaded while the current one is multiplied),
// then stored to shared memory as [j][m] and [j][n]. The product is either 4x4 register blocks per
// thread (FMA) or WMMA fragments (tensor cores), followed by the same strided alpha/beta epilogue.
#pragma once

#include "core/conv_geom.h"
#include "core/conv_problem.h"
#include "cuda/device.cuh"

#include <mma.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace lamina::cuda::igemm {

// The shared geometry (core/conv_geom.h: right-aligned spatial slots, flip folded into the filter
// strides, so the kernels are all cross-correlations) plus the GEMM sizes and tile counts.
struct Geom : ConvGeom {
  int64_t M, Kred; // GEMM rows (N * P) and reduction length (Cg * F)
  int64_t tilesM, tilesN;
};

constexpr int kBM = 64, kBN = 64, kBK = 16, kThreads = 256;

inline Geom makeGeom(const ConvProblem &p) {
  Geom g{};
  static_cast<ConvGeom &>(g) = makeConvGeom(p);
  g.M = g.N * g.P, g.Kred = g.Cg * g.F;
  g.tilesM = (g.M + kBM - 1) / kBM, g.tilesN = (g.Kg + kBN - 1) / kBN;
  return g;
}

// One reduction index decoded: offset of its x element from the row's window origin, offset of its
// w element from the column's filter row, and the tap's displacement d = f * dil per spatial slot.
struct Tap {
  int64_t xOff, wOff;
  int64_t d[3];
};

template <class I> __host__ __device__ __forceinline__ Tap decodeTapAs(const Geom &g, I j) {
  const I F = I(g.F), F1 = I(g.filt[1]), F2 = I(g.filt[2]);
  const I c = j / F;
  I f = j - c * F;
  const I f2 = f % F2;
  f /= F2;
  const I f1 = f % F1, f0 = f / F1;
  Tap t;
  t.d[0] = int64_t(f0) * g.dil[0], t.d[1] = int64_t(f1) * g.dil[1], t.d[2] = int64_t(f2) * g.dil[2];
  t.xOff = int64_t(c) * g.xs[1] + t.d[0] * g.xs[2] + t.d[1] * g.xs[3] + t.d[2] * g.xs[4];
  t.wOff = int64_t(c) * g.ws[1] + int64_t(f0) * g.ws[2] + int64_t(f1) * g.ws[3] + int64_t(f2) * g.ws[4];
  return t;
}
// 32-bit divisions whenever the reduction length allows (they are several times cheaper).
__host__ __device__ __forceinline__ Tap decodeTap(const Geom &g, int64_t j) {
  return g.Kred <= INT32_MAX ? decodeTapAs<uint32_t>(g, uint32_t(j)) : decodeTapAs<uint64_t>(g, uint64_t(j));
}

// IMPLICIT_GEMM: decodes with divisions in the main loop.
struct DivideDecoder {
  __device__ __forceinline__ Tap operator()(const Geom &g, int64_t j) const { return decodeTap(g, j); }
};
// IMPLICIT_PRECOMP_GEMM: reads the table built at the start of the run (one entry per j).
struct TableDecoder {
  const Tap *__restrict__ table;
  __device__ __forceinline__ Tap operator()(const Geom &, int64_t j) const { return table[j]; }
};

// Output row m -> image index, output coordinates o[3].
__host__ __device__ __forceinline__ int64_t decodeRow(const Geom &g, int64_t m, int64_t o[3]) {
  const int64_t n = m / g.P;
  int64_t p = m - n * g.P;
  o[2] = p % g.out[2];
  p /= g.out[2];
  o[1] = p % g.out[1];
  o[0] = p / g.out[1];
  return n;
}

// The window origin of one GEMM row (a thread's load row for the A tile).
struct RowOrigin {
  int64_t base;  // offset in x of the (possibly outside) input element at the window origin, channel grp*Cg
  int64_t ib[3]; // window origin per slot: o * stride - pad
  bool valid;    // m < M
  bool interior; // the whole window is inside the input: no bounds tests needed
  __host__ __device__ __forceinline__ bool inside(const Geom &g, const Tap &t) const {
    bool in = true;
    for (int d = 0; d < 3; ++d) {
      const int64_t i = ib[d] + t.d[d];
      in = in && i >= 0 && i < g.in[d];
    }
    return in;
  }
};

__host__ __device__ __forceinline__ RowOrigin rowOrigin(const Geom &g, int64_t m, int64_t grp) {
  RowOrigin r;
  r.valid = m < g.M;
  r.base = 0;
  r.interior = false;
  r.ib[0] = r.ib[1] = r.ib[2] = 0;
  if (!r.valid)
    return r;
  int64_t o[3];
  const int64_t n = decodeRow(g, m, o);
  r.base = n * g.xs[0] + grp * g.Cg * g.xs[1];
  r.interior = true;
  for (int d = 0; d < 3; ++d) {
    r.ib[d] = o[d] * g.str[d] - g.pad[d];
    r.base += r.ib[d] * g.xs[2 + d];
    r.interior = r.interior && r.ib[d] >= 0 && r.ib[d] + (g.filt[d] - 1) * g.dil[d] < g.in[d];
  }
  return r;
}

// Storage type T -> shared-memory element type S (the same type, or the compute type).
template <class S, class T> __device__ __forceinline__ S toSmem(T v) {
  if constexpr (std::is_same<S, T>::value)
    return v;
  else
    return S(toAcc(v));
}
template <class S> __device__ __forceinline__ S smemZero() { return fromAcc<S>(acc_t<S>(0)); }

// Shared-memory row lengths: 32 bytes of padding keeps every row 32-byte aligned (WMMA's pointer
// rule) and moves consecutive rows to other banks.
template <class S> constexpr int ldA() { return kBM + int(32 / sizeof(S)); }
template <class S> constexpr int ldB() { return kBN + int(32 / sizeof(S)); }
constexpr int kLdC = kBM + 4; // accumulator staging, column-major [n][m] (floats)

// FMA product: thread (tx, ty) owns rows tx + 16 i and columns ty + 16 j (i, j < 4), so a warp
// reads 16 consecutive A entries and 2 B entries per step (no bank conflicts).
template <class A> struct FmaTile {
  A acc[4][4];
  __device__ __forceinline__ void zero() {
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j)
        acc[i][j] = A(0);
  }
  __device__ __forceinline__ void slice(const A *As, const A *Bs, int tx, int ty) {
#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      A a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i)
        a[i] = As[k * ldA<A>() + tx + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j)
        b[j] = Bs[k * ldB<A>() + ty + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
          acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
  }
};

// WMMA fragment types per storage type: half and bf16 16x16x16, float as TF32 16x16x8 (inputs
// rounded to TF32 after the fragment load); fp32 accumulation in all cases.
namespace wmma = nvcuda::wmma;
template <class T> struct WmmaTypes;
template <> struct WmmaTypes<__half> {
  static constexpr int kK = 16;
  using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::col_major>;
  using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major>;
  using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;
  template <class Frag> __device__ static void round(Frag &) {}
};
template <> struct WmmaTypes<__nv_bfloat16> {
  static constexpr int kK = 16;
  using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::col_major>;
  using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major>;
  using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;
  template <class Frag> __device__ static void round(Frag &) {}
};
template <> struct WmmaTypes<float> {
  static constexpr int kK = 8;
  using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major>;
  using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major>;
  using FragC = wmma::fragment<wmma::accumulator, 16, 16, 8, float>;
  template <class Frag> __device__ static void round(Frag &f) {
#pragma unroll
    for (int e = 0; e < f.num_elements; ++e)
      f.x[e] = wmma::__float_to_tf32(f.x[e]);
  }
};

// Tensor-core product: warp w (of 8) owns rows 16 * (w % 4) .. +16 and columns 32 * (w / 4) .. +32
// (two accumulator fragments).
template <class T> struct WmmaTile {
  using W = WmmaTypes<T>;
  typename W::FragC acc[2];
  __device__ __forceinline__ void zero() {
    wmma::fill_fragment(acc[0], 0.0f);
    wmma::fill_fragment(acc[1], 0.0f);
  }
  __device__ __forceinline__ void slice(const T *As, const T *Bs, int warp) {
    const int wm = 16 * (warp % 4), wn = 32 * (warp / 4);
#pragma unroll
    for (int k = 0; k < kBK; k += W::kK) {
      typename W::FragA a;
      wmma::load_matrix_sync(a, As + k * ldA<T>() + wm, ldA<T>());
      W::round(a);
#pragma unroll
      for (int f = 0; f < 2; ++f) {
        typename W::FragB b;
        wmma::load_matrix_sync(b, Bs + k * ldB<T>() + wn + 16 * f, ldB<T>());
        W::round(b);
        wmma::mma_sync(acc[f], a, b, acc[f]);
      }
    }
  }
  // To Cs[n][m] (column-major, kLdC), so each thread can then read its 4x4 like the FMA layout.
  __device__ __forceinline__ void store(float *Cs, int warp) const {
    const int wm = 16 * (warp % 4), wn = 32 * (warp / 4);
    wmma::store_matrix_sync(Cs + wn * kLdC + wm, acc[0], kLdC, wmma::mem_col_major);
    wmma::store_matrix_sync(Cs + (wn + 16) * kLdC + wm, acc[1], kLdC, wmma::mem_col_major);
  }
};

// y[rows tx + 16 i][columns ty + 16 j] of the tile = alpha * get(i, j) + beta * y, through y's strides.
template <class T, class Get>
__device__ __forceinline__ void storeTile(const Geom &g, T *y, int64_t m0, int64_t n0, int64_t grp, int tx, int ty,
                                          acc_t<T> alpha, acc_t<T> beta, Get get) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t m = m0 + tx + 16 * i;
    if (m >= g.M)
      continue;
    int64_t o[3];
    const int64_t n = decodeRow(g, m, o);
    T *yRow = y + n * g.ys[0] + o[0] * g.ys[2] + o[1] * g.ys[3] + o[2] * g.ys[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t k = n0 + ty + 16 * j;
      if (k < g.Kg)
        storeScaled(yRow + (grp * g.Kg + k) * g.ys[1], acc_t<T>(get(i, j)), alpha, beta);
    }
  }
}

// The implicit-GEMM forward kernel. TC: tensor cores (T is float, half or bf16); else FMA in acc_t<T>.
// w points at the logical tap (0, 0, 0, 0, 0), i.e. already offset by g.wOff. Blocks walk the tiles
// (m tile fastest, then n tile, then group) with a block-uniform loop, so grids of any size fit.
template <class T, bool TC, class Decode>
__global__ void __launch_bounds__(kThreads)
    forwardKernel(const Geom g, const T *__restrict__ x, const T *__restrict__ w, T *__restrict__ y, acc_t<T> alpha,
                  acc_t<T> beta, const Decode decode) {
  using A = acc_t<T>;
  using S = std::conditional_t<TC, T, A>; // shared-memory element type
  constexpr int LDA = ldA<S>(), LDB = ldB<S>();
  __shared__ __align__(32) S As[kBK * LDA]; // [j][m]
  __shared__ __align__(32) S Bs[kBK * LDB]; // [j][n]
  const int t = threadIdx.x;
  const int lr = t % kBM; // load: row of A (output position) and column of B (output channel)
  const int lk = t / kBM; // load: reduction indices lk + 4 i of the slice (warp-uniform)
  const int tx = t % 16, ty = t / 16;
  const int64_t tiles = g.tilesM * g.tilesN * g.G;
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int64_t mt = tile % g.tilesM, rest = tile / g.tilesM;
    const int64_t nt = rest % g.tilesN, grp = rest / g.tilesN;
    const int64_t m0 = mt * kBM, n0 = nt * kBN;
    const RowOrigin ro = rowOrigin(g, m0 + lr, grp);
    const bool colValid = n0 + lr < g.Kg;
    const int64_t wRow = colValid ? (grp * g.Kg + n0 + lr) * g.ws[0] : 0;

    S ra[4], rb[4]; // the next slice, gathered into registers
    auto gather = [&](int64_t k0) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int64_t j = k0 + lk + 4 * i;
        S av = smemZero<S>(), bv = smemZero<S>();
        if (j < g.Kred) {
          const Tap tap = decode(g, j);
          if (ro.valid && (ro.interior || ro.inside(g, tap)))
            av = toSmem<S>(x[ro.base + tap.xOff]);
          if (colValid)
            bv = toSmem<S>(w[wRow + tap.wOff]);
        }
        ra[i] = av, rb[i] = bv;
      }
    };

    std::conditional_t<TC, WmmaTile<T>, FmaTile<A>> prod;
    prod.zero();
    gather(0);
    for (int64_t k0 = 0; k0 < g.Kred; k0 += kBK) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        As[(lk + 4 * i) * LDA + lr] = ra[i];
        Bs[(lk + 4 * i) * LDB + lr] = rb[i];
      }
      __syncthreads();
      if (k0 + kBK < g.Kred)
        gather(k0 + kBK); // global loads in flight during the product below
      if constexpr (TC)
        prod.slice(As, Bs, t / 32);
      else
        prod.slice(As, Bs, tx, ty);
      __syncthreads(); // As/Bs are rewritten at the top of the next slice
    }

    if constexpr (TC) {
      // Cs is written only after the main loop's last barrier, and read before the next tile's main
      // loop (Kred >= 1, so that loop has barriers) rewrites it.
      __shared__ __align__(32) float Cs[kBN * kLdC];
      prod.store(Cs, t / 32);
      __syncthreads();
      storeTile(g, y, m0, n0, grp, tx, ty, alpha, beta,
                [&](int i, int j) { return Cs[(ty + 16 * j) * kLdC + tx + 16 * i]; });
    } else {
      storeTile(g, y, m0, n0, grp, tx, ty, alpha, beta, [&](int i, int j) { return prod.acc[i][j]; });
    }
  }
}

// Tensor cores only on request (LAMINA_TENSOR_OP_MATH) and never for double: DEFAULT math is exact
// FMA in the compute type for every dtype, half and bf16 included (as lamina.h documents), so both
// paths of every dtype are exercised by the conformance tests.
inline bool useTensorCores(const ConvProblem &p) {
  return p.math == LAMINA_TENSOR_OP_MATH && p.dataType != LAMINA_DATA_DOUBLE;
}

template <class T, bool TC, class Decode> void launchForwardAs(const ConvArgs &a, const Geom &g, Decode decode) {
  const int64_t tiles = g.tilesM * g.tilesN * g.G;
  if (tiles == 0)
    return;
  const unsigned grid = unsigned(std::min<int64_t>(tiles, INT_MAX));
  forwardKernel<T, TC, Decode>
      <<<grid, kThreads, 0, streamOf(*a.handle)>>>(g, static_cast<const T *>(a.x), static_cast<const T *>(a.w) + g.wOff,
                                                   static_cast<T *>(a.y), acc_t<T>(a.alpha), acc_t<T>(a.beta), decode);
  LAMINA_CUDA_LAUNCHED();
}

template <class T, class Decode> void launchForward(const ConvArgs &a, const Geom &g, Decode decode) {
  if constexpr (std::is_same<T, double>::value)
    launchForwardAs<T, false>(a, g, decode);
  else if (useTensorCores(*a.p))
    launchForwardAs<T, true>(a, g, decode);
  else
    launchForwardAs<T, false>(a, g, decode);
}

// Cost model (H200, rough sustained rates of these kernels in GFLOP/s; only the ranking matters).
constexpr double kLaunchMs = 0.004;
constexpr double kBandwidthGBps = 2500.0;

inline double bytesMs(const ConvProblem &p) {
  const double bytes = double(p.x.numel() + p.w.numel() + p.y.numel()) * double(dataTypeSize(p.dataType));
  return bytes / (kBandwidthGBps * 1e6);
}

// The tiled kernels: FMA or tensor-core rate, scaled by how much of the 64 x 64 tiles is real work
// (thin Kg, e.g. depthwise, wastes most of each tile).
inline double tiledEstimateMs(const ConvProblem &p, double speedup, int launches) {
  double rate;
  // The WMMA tiles ran 1.6-2.0x (TF32) and 2.4-2.8x (16-bit) the time of the former 25000 / 40000 where
  // throughput-bound (H200, v13, batch 8 and 64: tf32 NCHW resnet50 conv1 / res2 / res5, 16-bit C = 3
  // layers), barely past the FMA tiles: kept as rates, so the tensor-core implicit GEMM and staged
  // paths rank above them (lenet.conv1 16-bit: this kernel 0.021 ms against the tap-packed 0.0126).
  if (useTensorCores(p))
    rate = p.dataType == LAMINA_DATA_FLOAT ? 13000.0 : 15500.0;
  else
    rate = p.dataType == LAMINA_DATA_DOUBLE ? 6000.0 : p.dataType == LAMINA_DATA_FLOAT ? 12000.0 : 10000.0;
  const double M = double(p.N * p.outSize()), Kg = double(p.Kg());
  const double fill = (M / (kBM * std::ceil(M / kBM))) * (Kg / (kBN * std::ceil(Kg / kBN)));
  // Fewer tiles than SMs leave the rest idle (one block per tile).
  const double tiles = std::ceil(M / kBM) * std::ceil(Kg / kBN) * double(p.G);
  // Between one and two waves, the SMs given two tiles set the time (resnet50.conv1 fp32 at batch 1, 196
  // tiles: IMPLICIT_GEMM 0.0387 ms, IMPLICIT_PRECOMP 0.036, where the rate over all SMs said 0.025 and
  // 0.029); past two, blocks of unequal finish times fill the tail (alexnet.conv1 at batch 8, 758 tiles,
  // ran within 10% of the rate: counting its last wave gave the pick to FFT, 1.45x slower).
  const double busy = tiles < 132.0 ? tiles / 132.0 : tiles < 264.0 ? tiles / 264.0 : 1.0;
  // No faster than a block's walk down the reduction, ~130 ns an element (H200, batch 1: alexnet.conv5
  // fp32 0.54-0.61 ms for 3456, resnet50 res5_3x3 0.75 for 4608, 16-bit alexnet.conv1 0.053 for 363).
  const double walkMs = double(p.Cg()) * double(p.filtSize()) * 1.3e-4;
  return launches * kLaunchMs + std::max(p.flops() / (rate * speedup * fill * busy * 1e6), walkMs) + bytesMs(p);
}

// forwardKernel's instances for T and Decode (tensor cores or not), loaded now.
template <class T, class Decode> void preloadForward() {
  if constexpr (!std::is_same<T, double>::value)
    preloadKernel(forwardKernel<T, true, Decode>);
  preloadKernel(forwardKernel<T, false, Decode>);
}

} // namespace lamina::cuda::igemm
