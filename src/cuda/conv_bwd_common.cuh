// Shared pieces of the CUDA backward convolution kernels: a normalised 3-D geometry (the CPU's
// ConvGeom convention: 2-D problems get a leading spatial dim of size 1; the filter strides and base
// offset already include the flip of LAMINA_CONVOLUTION mode), and one tiled implicit-GEMM kernel
// that both backward IMPLICIT_GEMM algorithms instantiate with their own gather functors.
//
// The GEMM of one group: Out[m][n] = sum_r A(m, r) * B(r, n). A problem type P supplies
//   M, Ncols, R, G (sizes; G = number of groups, one GEMM each),
//   row(grp, m) / col(grp, n) / red(r): per-index contexts computed once (rows and columns once
//   per tile, reduction indices once per slice, shared by the A and B loads),
//   loadA(row, red), loadB(col, red): the gathered operands in the compute type (0 outside),
//   outRow(grp, m) and store(outRow, grp, n, v): the strided alpha/beta store.
#pragma once

#include "core/conv_geom.h"
#include "core/conv_problem.h"
#include "cuda/device.cuh"

#include <mma.h>

#include <algorithm>
#include <type_traits>

namespace lamina::cuda::convbwd {

struct Geom {
  int64_t N, C, K, G, Cg, Kg;
  int in[3], filt[3], out[3], pad[3], str[3], dil[3];
  int64_t xs[5], ys[5], ws[5]; // strides: n (k for w), c, spatial 0..2 (0 for unused dims)
  int64_t wOff;                // offset of logical filter element (0, 0, 0, 0, 0) (flip applied)
  int64_t F, P, I;             // filter, output and input spatial sizes
};

// The shared geometry (core/conv_geom.h) with per-dim sizes narrowed to 32 bits (whyNotGeom checks
// they fit).
inline Geom makeGeom(const ConvProblem &p) {
  const ConvGeom c = makeConvGeom(p);
  Geom g;
  g.N = c.N, g.C = c.C, g.K = c.K, g.G = c.G, g.Cg = c.Cg, g.Kg = c.Kg;
  for (int i = 0; i < 3; ++i) {
    g.in[i] = int(c.in[i]), g.filt[i] = int(c.filt[i]), g.out[i] = int(c.out[i]);
    g.pad[i] = int(c.pad[i]), g.str[i] = int(c.str[i]), g.dil[i] = int(c.dil[i]);
  }
  for (int i = 0; i < 5; ++i)
    g.xs[i] = c.xs[i], g.ys[i] = c.ys[i], g.ws[i] = c.ws[i];
  g.wOff = c.wOff, g.F = c.F, g.P = c.P, g.I = c.I;
  return g;
}

// The kernels keep per-dim coordinates and filter taps in 32 bits (linear offsets are 64-bit); empty when the
// problem fits that: o * stride + f * dil - pad stays below 2^31 with every term below 2^29.
inline std::string whyNotGeom(const ConvProblem &p) {
  constexpr int64_t kMax = int64_t(1) << 29;
  for (int i = 0; i < p.spatialDims; ++i)
    if (p.in[i] >= kMax || p.out[i] >= kMax || p.pad[i] >= kMax || (p.filt[i] - 1) * p.dil[i] >= kMax ||
        p.stride[i] >= kMax)
      return "a spatial size, padding, stride or dilated filter extent of 2^29 or more";
  if (p.filtSize() >= (int64_t(1) << 31))
    return "a filter of 2^31 or more taps";
  return {};
}

// Output coordinate that input coordinate i receives from through the tap at dilated offset fd
// (f * dil), or -1: (i + pad - fd) must be a non-negative multiple of the stride below out.
__device__ __forceinline__ int outFor(int i, int pad, int fd, int str, int out) {
  int t = i + pad - fd;
  if (t < 0)
    return -1;
  if (str != 1) {
    int q = t / str;
    if (q * str != t)
      return -1;
    t = q;
  }
  return t < out ? t : -1;
}

// ---------------------------------------------------------------- the tiled GEMM kernel

constexpr int kTileM = 64, kTileN = 64, kTileK = 16, kGemmThreads = 256;

// Shared-tile element: the compute type on the FMA path; on the tensor-core path the 16-bit data
// type itself (exact) or float (rounded to TF32 when the fragments are loaded).
template <class T, bool TC> struct SmemOf { using type = acc_t<T>; };
template <> struct SmemOf<__half, true> { using type = __half; };
template <> struct SmemOf<__nv_bfloat16, true> { using type = __nv_bfloat16; };

template <class S> __device__ __forceinline__ S toSmem(acc_t<S> v) { return S(v); }
template <> __device__ __forceinline__ __half toSmem<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 toSmem<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// WMMA shapes: 16x16x16 for 16-bit inputs, 16x16x8 TF32 for float.
template <class S> struct WmmaOf {
  static constexpr int kK = 16;
  using Elem = S;
};
template <> struct WmmaOf<float> {
  static constexpr int kK = 8;
  using Elem = nvcuda::wmma::precision::tf32;
};

// How a launch splits the reduction: splits > 1 gives each block one tile and one chunk of R
// (chunk rows, a multiple of kTileK), its raw sums going to partial[split][grp][m][n] (acc_t<T>) for
// sumSplits to add in split order (deterministic) and store; splits = 1 reduces all of R in the tile's
// block and stores directly.
struct SplitR {
  int64_t splits = 1, chunk = 0;
  void *partial = nullptr;
};

// One block computes one 64x64 output tile at a time (grid-stride over tiles of all groups, times the
// splits) and reduces over all of R (or its split's chunk) itself: deterministic, no atomics. Loads:
// thread t gathers row/column t % 64 of the A/B tile at reduction offsets t / 64 + 4j (consecutive
// threads, consecutive rows). FMA path: thread (tx, ty) = (t % 16, t / 16) owns outputs (ty + 16i,
// tx + 16j). Tensor-core path: warp w owns the 16x16 blocks (w % 4, 2 (w / 4) + {0, 1}); accumulators
// go through shared memory to the same per-thread epilogue.
template <class T, bool TC, class P>
__global__ void __launch_bounds__(kGemmThreads) tiledConvGemm(const P prob, const SplitR split) {
  using A = acc_t<T>;
  using S = typename SmemOf<T, TC>::type;
  constexpr int kPad = 16 / int(sizeof(S)); // keeps WMMA row pitches multiples of 16 bytes
  constexpr int ldA = kTileM + kPad, ldB = kTileN + kPad;
  __shared__ __align__(32) S As[kTileK][ldA]; // As[r][m]: A in column-major order
  __shared__ __align__(32) S Bs[kTileK][ldB]; // Bs[r][n]: B in row-major order

  const int tid = threadIdx.x;
  const int ld = tid % kTileM, ldK = tid / kTileM; // this thread's load row/column and first slice offset
  const int tx = tid % 16, ty = tid / 16;
  const int64_t tilesM = (prob.M + kTileM - 1) / kTileM, tilesN = (prob.Ncols + kTileN - 1) / kTileN;
  const int64_t perGroup = tilesM * tilesN, numTiles = perGroup * prob.G;

  for (int64_t item = blockIdx.x; item < numTiles * split.splits; item += gridDim.x) {
    const int64_t tile = item % numTiles, part = item / numTiles;
    const int64_t rBegin = split.splits > 1 ? part * split.chunk : 0,
                  rEnd = split.splits > 1 ? std::min(prob.R, rBegin + split.chunk) : prob.R;
    const int64_t grp = tile / perGroup, rest = tile % perGroup;
    const int64_t m0 = (rest % tilesM) * kTileM, n0 = (rest / tilesM) * kTileN;
    const bool rowOk = m0 + ld < prob.M, colOk = n0 + ld < prob.Ncols;
    const auto rc = prob.row(grp, rowOk ? m0 + ld : 0);
    const auto cc = prob.col(grp, colOk ? n0 + ld : 0);

    A acc[4][4];
    using namespace nvcuda;
    constexpr int kK = WmmaOf<S>::kK;
    wmma::fragment<wmma::accumulator, 16, 16, kK, float> cf[2];
    const int warp = tid / 32, wm = warp % 4, wn = (warp / 4) * 2;
    if constexpr (TC) {
      wmma::fill_fragment(cf[0], 0.0f);
      wmma::fill_fragment(cf[1], 0.0f);
    } else {
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j)
          acc[i][j] = A(0);
    }

    for (int64_t r0 = rBegin; r0 < rEnd; r0 += kTileK) {
      for (int j = 0; j < kTileK / 4; ++j) {
        const int kl = ldK + 4 * j;
        const int64_t r = r0 + kl;
        A a = A(0), b = A(0);
        if (r < rEnd) {
          const auto rd = prob.red(r);
          if (rowOk)
            a = prob.loadA(rc, rd);
          if (colOk)
            b = prob.loadB(cc, rd);
        }
        As[kl][ld] = toSmem<S>(a);
        Bs[kl][ld] = toSmem<S>(b);
      }
      __syncthreads();
      if constexpr (TC) {
        for (int k = 0; k < kTileK; k += kK) {
          wmma::fragment<wmma::matrix_a, 16, 16, kK, typename WmmaOf<S>::Elem, wmma::col_major> af;
          wmma::load_matrix_sync(af, &As[k][wm * 16], ldA);
          if constexpr (std::is_same<S, float>::value)
            for (int e = 0; e < af.num_elements; ++e)
              af.x[e] = wmma::__float_to_tf32(af.x[e]);
          for (int jj = 0; jj < 2; ++jj) {
            wmma::fragment<wmma::matrix_b, 16, 16, kK, typename WmmaOf<S>::Elem, wmma::row_major> bf;
            wmma::load_matrix_sync(bf, &Bs[k][(wn + jj) * 16], ldB);
            if constexpr (std::is_same<S, float>::value)
              for (int e = 0; e < bf.num_elements; ++e)
                bf.x[e] = wmma::__float_to_tf32(bf.x[e]);
            wmma::mma_sync(cf[jj], af, bf, cf[jj]);
          }
        }
      } else {
#pragma unroll
        for (int k = 0; k < kTileK; ++k) {
          A av[4], bv[4];
          for (int i = 0; i < 4; ++i)
            av[i] = As[k][ty + 16 * i];
          for (int j = 0; j < 4; ++j)
            bv[j] = Bs[k][tx + 16 * j];
          for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j)
              acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
      }
      __syncthreads();
    }

    if constexpr (TC) {
      constexpr int ldC = kTileN + 4;
      __shared__ __align__(32) float Cs[kTileM][ldC];
      for (int jj = 0; jj < 2; ++jj)
        wmma::store_matrix_sync(&Cs[wm * 16][(wn + jj) * 16], cf[jj], ldC, wmma::mem_row_major);
      __syncthreads();
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j)
          acc[i][j] = Cs[ty + 16 * i][tx + 16 * j];
      __syncthreads(); // Cs is rewritten by the next tile
    }
    if (split.splits > 1) {
      A *out = static_cast<A *>(split.partial) + (part * prob.G + grp) * prob.M * prob.Ncols;
      for (int i = 0; i < 4; ++i) {
        const int64_t m = m0 + ty + 16 * i;
        if (m >= prob.M)
          break;
        for (int j = 0; j < 4; ++j) {
          const int64_t n = n0 + tx + 16 * j;
          if (n < prob.Ncols)
            out[m * prob.Ncols + n] = acc[i][j];
        }
      }
      continue;
    }
    for (int i = 0; i < 4; ++i) {
      const int64_t m = m0 + ty + 16 * i;
      if (m >= prob.M)
        break;
      const auto orow = prob.outRow(grp, m);
      for (int j = 0; j < 4; ++j) {
        const int64_t n = n0 + tx + 16 * j;
        if (n < prob.Ncols)
          prob.store(orow, grp, n, acc[i][j]);
      }
    }
  }
}

// The split partials of tiledConvGemm added in split order, then stored (alpha / beta) as the
// unsplit kernel would.
template <class T, class P> __global__ void sumSplits(const P prob, const SplitR split) {
  using A = acc_t<T>;
  const A *partial = static_cast<const A *>(split.partial);
  const int64_t total = prob.G * prob.M * prob.Ncols;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    A v = A(0);
    for (int64_t s = 0; s < split.splits; ++s)
      v += partial[s * total + i];
    const int64_t n = i % prob.Ncols, gm = i / prob.Ncols, m = gm % prob.M, grp = gm / prob.M;
    prob.store(prob.outRow(grp, m), grp, n, v);
  }
}

// Launches the tiled kernel on `stream`: tensor cores when asked for (never for double); with a
// split (split.partial sized splits x G x M x Ncols of acc_t<T>), then the sum of the splits.
template <class T, class P>
void launchTiledConvGemm(const P &prob, bool tensorOps, cudaStream_t stream, const SplitR &split = {}) {
  const int64_t tiles = (prob.M + kTileM - 1) / kTileM * ((prob.Ncols + kTileN - 1) / kTileN) * prob.G;
  if (tiles <= 0)
    return;
  // The kernel loops past 2^20 blocks.
  const unsigned grid = unsigned(std::min<int64_t>(tiles * split.splits, int64_t(1) << 20));
  bool launched = false;
  if constexpr (!std::is_same<T, double>::value) {
    if (tensorOps) {
      tiledConvGemm<T, true, P><<<grid, kGemmThreads, 0, stream>>>(prob, split);
      LAMINA_CUDA_LAUNCHED();
      launched = true;
    }
  }
  if (!launched) {
    tiledConvGemm<T, false, P><<<grid, kGemmThreads, 0, stream>>>(prob, split);
    LAMINA_CUDA_LAUNCHED();
  }
  if (split.splits > 1) {
    sumSplits<T, P><<<gridFor(prob.G * prob.M * prob.Ncols), kBlock, 0, stream>>>(prob, split);
    LAMINA_CUDA_LAUNCHED();
  }
}

// Tiles of the GEMM of a problem (all groups), for the cost models.
inline double gemmTiles(int64_t M, int64_t Ncols, int64_t G) {
  return double((M + kTileM - 1) / kTileM) * double((Ncols + kTileN - 1) / kTileN) * double(G);
}

// tiledConvGemm's instances for T and the problem type P (tensor cores or not), loaded now.
template <class T, class P> void preloadTiledConvGemm() {
  if constexpr (!std::is_same<T, double>::value)
    preloadKernel(tiledConvGemm<T, true, P>);
  preloadKernel(tiledConvGemm<T, false, P>);
  preloadKernel(sumSplits<T, P>);
}

} // namespace lamina::cuda::convbwd
