// Forward convolution on Hopper with TMA loads (sm_90a; half / bfloat16, stride 1, ungrouped, NHWC-style
// activations and KRSC-style filters with channels contiguous, cross-correlation).
//
// The warp-specialized tile of conv_tc_common.cuh (TileWs: two consumer warpgroups on wgmma, an
// 8-stage mbarrier pipeline), with the producer reduced to one thread issuing two tensor-memory-access
// copies per slice: since the stride is 1, the A tile of one tap (r, s) and channel slice is a
// rectangular box of the input, x[n0 .. n0+NB)[p0+r*dil-pad ..+BH)[q0+s*dil-pad ..+BW)[c0 ..+32),
// which TMA copies with its 64-byte swizzle (the layout wgmma reads) and zero-fills where the box leaves
// the tensor (the padding, the channel tail). The block's output rows are that box of output pixels
// (BW x BH x NB <= BM rows; the rest of the tile idles). 1x1 convolutions without padding over densely
// packed pixels read A as the plain [N*H*W][C] matrix instead. B is the box w[k0 ..+BN)[r][s][c0 ..+32).
// The cp.async producer needed ~360 instructions per slice and starved the consumers (ncu on the
// H200, docs/perf_notes.md); here it is ~20.
#include "cuda/conv_tc.h"
#include "cuda/conv_tc_common.cuh"

#include "core/conv_geom.h"

#include <cuda.h>
#include <cudaTypedefs.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace lamina::cuda::tc {
namespace {

struct TmaParams {
  int flat;           // A as the [N*H*W][C] matrix (1x1, no padding, packed pixels)
  int BW, BH, NB;     // the output box of one block (flat: BW = BM, BH = NB = 1)
  int tilesQ, tilesP; // boxes along Q and P (flat: tilesQ = row tiles, tilesP = 1)
  int tilesN;         // boxes along the batch
  int N, P, Q, K;
  int S, kChunks, iters; // filter width, channel slices per tap, slices
  int pad[2], dil[2];    // h, w
  int64_t ys[4];         // y strides: n, k, h, w
  void *y;
  float alpha, beta;
  bool vec2;
};

// ---- TMA (PTX) --------------------------------------------------------------------------------------
__device__ __forceinline__ void mbarExpectTx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void tmaLoad2d(uint32_t dst, const CUtensorMap *map, int c0, int c1, uint32_t bar) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, "
               "%3}], [%4];\n" ::"r"(dst),
               "l"(map), "r"(c0), "r"(c1), "r"(bar)
               : "memory");
}
__device__ __forceinline__ void tmaLoad4d(uint32_t dst, const CUtensorMap *map, int c0, int c1, int c2, int c3,
                                          uint32_t bar) {
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, "
               "%3, %4, %5}], [%6];\n" ::"r"(dst),
               "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar)
               : "memory");
}

template <class T, class Cfg>
__global__ void __launch_bounds__(Cfg::THREADS, 1)
    convTmaKernel(const __grid_constant__ CUtensorMap mapX, const __grid_constant__ CUtensorMap mapW,
                  const TmaParams p) {
  extern __shared__ __align__(1024) uint8_t smem[];
  // Block -> (k tile, q box, p box, n box); the k tile varies fastest, so neighbouring blocks share A.
  unsigned b = blockIdx.x;
  const int tilesK = (p.K + Cfg::BN - 1) / Cfg::BN;
  const int kt = int(b % unsigned(tilesK));
  b /= unsigned(tilesK);
  const int qt = int(b % unsigned(p.tilesQ));
  b /= unsigned(p.tilesQ);
  const int pt = int(b % unsigned(p.tilesP));
  const int nt = int(b / unsigned(p.tilesP));
  const int q0 = qt * p.BW, p0 = pt * p.BH, n0 = nt * p.NB, k0 = kt * Cfg::BN;
  const uint32_t rowsA = uint32_t(p.BW * p.BH * p.NB);
  const uint32_t txBytes = (rowsA + Cfg::BN) * kRowBytes;

  int tap = 0, kc = 0; // the producer's running position (one thread)
  auto produce = [&](uint32_t sA, uint32_t sB, uint32_t fullBar, int) {
    const int r = tap / p.S, s = tap - r * p.S, c0 = kc * kBK<T>;
    mbarExpectTx(fullBar, txBytes);
    if (p.flat)
      tmaLoad2d(sA, &mapX, c0, q0, fullBar);
    else
      tmaLoad4d(sA, &mapX, c0, q0 + s * p.dil[1] - p.pad[1], p0 + r * p.dil[0] - p.pad[0], n0, fullBar);
    tmaLoad4d(sB, &mapW, c0, s, r, k0, fullBar);
    if (++kc == p.kChunks)
      kc = 0, ++tap;
  };
  float acc[Cfg::MI][Cfg::NI][4];
  if (!mainLoopWs<Cfg, T, 1, 1>(smem, p.iters, acc, produce))
    return; // the producer warpgroup

  T *y = static_cast<T *>(p.y);
  int64_t rowOff = 0;
  forEachRowPair<Cfg, true>(
      acc,
      [&](int row) {
        if (uint32_t(row) >= rowsA)
          return false;
        int n, h, w;
        if (p.flat) { // row q0 + row of the [N*P*Q] pixels
          const int64_t m = int64_t(q0) + row;
          if (m >= int64_t(p.N) * p.P * p.Q)
            return false;
          w = int(m % p.Q);
          const int64_t t = m / p.Q;
          h = int(t % p.P), n = int(t / p.P);
        } else {
          w = q0 + row % p.BW;
          const int t = row / p.BW;
          h = p0 + t % p.BH, n = n0 + t / p.BH;
          if (w >= p.Q || h >= p.P || n >= p.N)
            return false;
        }
        rowOff = int64_t(n) * p.ys[0] + int64_t(h) * p.ys[2] + int64_t(w) * p.ys[3];
        return true;
      },
      [&](int col, float v0, float v1) {
        const int k = k0 + col;
        if (k >= p.K)
          return;
        storeScaledPair(y + rowOff + int64_t(k) * p.ys[1], p.ys[1], k + 1 < p.K, p.vec2, p.alpha, p.beta, v0, v1);
      });
}

// ---- Host side ----------------------------------------------------------------------------------

PFN_cuTensorMapEncodeTiled_v12000 encodeTiled() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    void *f = nullptr;
    cudaDriverEntryPointQueryResult q{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000, cudaEnableDefault, &q) == cudaSuccess &&
        q == cudaDriverEntryPointSuccess)
      fn = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(f);
  });
  return fn;
}

// The output box per block: the fewest idle rows over the whole output (ties: larger boxes).
struct Box {
  int BW = 0, BH = 1, NB = 1;
  int64_t tiles = 0;
};
Box chooseBox(int64_t N, int64_t P, int64_t Q, int bm) {
  Box best;
  double bestWaste = 2;
  for (int bw : {int(std::min<int64_t>(Q, bm)), 256, 128, 64, 32, 16, 8}) {
    if (bw > bm || bw > Q)
      continue;
    const int bh = int(std::min<int64_t>(P, bm / bw));
    const int nb = bh == P ? int(std::min<int64_t>({N, int64_t(bm / (bw * bh)), 256})) : 1;
    const int64_t tiles = ceilDiv(Q, bw) * ceilDiv(P, bh) * ceilDiv(N, nb);
    const double waste = 1.0 - double(N * P * Q) / (double(tiles) * bm);
    if (waste < bestWaste - 1e-9) {
      bestWaste = waste;
      best.BW = bw, best.BH = bh, best.NB = nb, best.tiles = tiles;
    }
  }
  return best;
}

bool flatOk(const ConvGeom &g) {
  return g.filt[1] == 1 && g.filt[2] == 1 && g.pad[1] == 0 && g.pad[2] == 0 && g.xs[3] == g.in[2] * g.xs[4] &&
         g.xs[0] == g.in[1] * g.xs[3];
}

} // namespace

std::string whyNotTma(const ConvProblem &p) {
  if (p.dataType != LAMINA_DATA_HALF && p.dataType != LAMINA_DATA_BFLOAT16)
    return "TMA path: half or bfloat16 only";
  if (p.math != LAMINA_TENSOR_OP_MATH)
    return "TMA path: needs TENSOR_OP math";
  if (!wgmmaReady() || !encodeTiled())
    return "TMA path: needs the sm_90a kernels and the driver's tensor-map encoder";
  const ConvGeom g = makeConvGeom(p);
  if (g.G != 1 || p.spatialDims != 2 || g.str[1] != 1 || g.str[2] != 1)
    return "TMA path: ungrouped 2-D convolutions with stride 1";
  if (g.xs[1] != 1 || g.ws[1] != 1 || g.C % 8 != 0)
    return "TMA path: channels contiguous, a multiple of 8";
  // Strides of W, H, N (slots 2, 1 of ConvGeom's right-aligned spatial dims).
  const int64_t xsTail[3] = {g.xs[4], g.xs[3], g.xs[0]}, wsTail[3] = {g.ws[4], g.ws[3], g.ws[0]};
  for (int i = 0; i < 3; ++i)
    if (xsTail[i] <= 0 || xsTail[i] % 8 != 0 || wsTail[i] <= 0 || wsTail[i] % 8 != 0)
      return "TMA path: positive strides of whole 16-byte chunks (cross-correlation, NHWC-style)";
  if (g.N * g.P >= INT32_MAX / 2 || g.in[1] > INT32_MAX / 4 || g.in[2] > INT32_MAX / 4 || g.K > INT32_MAX / 2 ||
      g.filt[1] * g.dil[1] > 65535 || g.filt[2] * g.dil[2] > 65535 || g.pad[1] > 65535 || g.pad[2] > 65535 ||
      g.F * ceilDiv(g.C, 32) > INT32_MAX / 2)
    return "TMA path: sizes beyond its 32-bit coordinates";
  return {};
}

double tmaEstimateMs(const ConvProblem &p) {
  const ConvGeom g = makeConvGeom(p);
  const int bm = 256, bn = g.K <= 64 ? 64 : 128;
  const int64_t tiles =
      (flatOk(g) ? ceilDiv(g.N * g.P, bm) : chooseBox(g.N, g.out[1], g.out[2], bm).tiles) * ceilDiv(g.K, bn);
  const double waves = std::ceil(double(tiles) / kPlanSMs);
  const double blockFlops = 2.0 * bm * bn * double(g.F * ceilDiv(g.C, 32) * 32);
  // 800 against the cp.async tiles' 600: the ratio measured on the H200 (TMA 1.25-1.55x TileL on six
  // layers, bench/sandbox), the scale the other paths' models share.
  const double bytes = double(p.x.numel() + p.w.numel() + p.y.numel()) * 2;
  return 0.004 + waves * blockFlops / (800e9 / kPlanSMs) + bytes / 3.0e9;
}

bool runTma(const ConvArgs &a) {
  const ConvProblem &p = *a.p;
  const ConvGeom g = makeConvGeom(p);
  const void *w = static_cast<const char *>(a.w) + g.wOff * 2;
  if (!aligned16(a.x) || !aligned16(w))
    return false;
  const auto encode = encodeTiled();
  const CUtensorMapDataType dt =
      p.dataType == LAMINA_DATA_HALF ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
  const bool flat = flatOk(g);
  const bool narrow = g.K <= 64; // TileWN
  const int bm = 256, bn = narrow ? TileWN::BN : TileW::BN;
  TmaParams prm{};
  prm.flat = flat;
  prm.N = int(g.N), prm.P = int(g.out[1]), prm.Q = int(g.out[2]), prm.K = int(g.K);
  prm.S = int(g.filt[2]);
  prm.kChunks = int(ceilDiv(g.C, 32));
  prm.iters = int(g.F) * prm.kChunks;
  prm.pad[0] = int(g.pad[1]), prm.pad[1] = int(g.pad[2]), prm.dil[0] = int(g.dil[1]), prm.dil[1] = int(g.dil[2]);
  prm.ys[0] = g.ys[0], prm.ys[1] = g.ys[1], prm.ys[2] = g.ys[3], prm.ys[3] = g.ys[4];
  prm.y = a.y;
  prm.alpha = float(a.alpha), prm.beta = float(a.beta);
  prm.vec2 = g.ys[1] == 1 && (reinterpret_cast<uintptr_t>(a.y) & 3) == 0;

  CUtensorMap mapX, mapW;
  CUresult rx;
  if (flat) {
    const int64_t M = g.N * g.P;
    prm.BW = bm, prm.BH = 1, prm.NB = 1, prm.tilesQ = int(ceilDiv(M, bm)), prm.tilesP = 1, prm.tilesN = 1;
    const cuuint64_t dims[2] = {cuuint64_t(g.C), cuuint64_t(M)};
    const cuuint64_t strides[1] = {cuuint64_t(g.xs[4] * 2)};
    const cuuint32_t box[2] = {32, cuuint32_t(bm)}, es[2] = {1, 1};
    rx = encode(&mapX, dt, 2, const_cast<void *>(a.x), dims, strides, box, es, CU_TENSOR_MAP_INTERLEAVE_NONE,
                CU_TENSOR_MAP_SWIZZLE_64B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  } else {
    const Box bx = chooseBox(g.N, g.out[1], g.out[2], bm);
    prm.BW = bx.BW, prm.BH = bx.BH, prm.NB = bx.NB;
    prm.tilesQ = int(ceilDiv(g.out[2], bx.BW)), prm.tilesP = int(ceilDiv(g.out[1], bx.BH));
    prm.tilesN = int(ceilDiv(g.N, bx.NB));
    const cuuint64_t dims[4] = {cuuint64_t(g.C), cuuint64_t(g.in[2]), cuuint64_t(g.in[1]), cuuint64_t(g.N)};
    const cuuint64_t strides[3] = {cuuint64_t(g.xs[4] * 2), cuuint64_t(g.xs[3] * 2), cuuint64_t(g.xs[0] * 2)};
    const cuuint32_t box[4] = {32, cuuint32_t(bx.BW), cuuint32_t(bx.BH), cuuint32_t(bx.NB)}, es[4] = {1, 1, 1, 1};
    rx = encode(&mapX, dt, 4, const_cast<void *>(a.x), dims, strides, box, es, CU_TENSOR_MAP_INTERLEAVE_NONE,
                CU_TENSOR_MAP_SWIZZLE_64B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  }
  // The filter as [K][R][S][C] (its own strides).
  const cuuint64_t wdims[4] = {cuuint64_t(g.C), cuuint64_t(g.filt[2]), cuuint64_t(g.filt[1]), cuuint64_t(g.K)};
  const cuuint64_t wstrides[3] = {cuuint64_t(g.ws[4] * 2), cuuint64_t(g.ws[3] * 2), cuuint64_t(g.ws[0] * 2)};
  const cuuint32_t wbox[4] = {32, 1, 1, cuuint32_t(bn)}, wes[4] = {1, 1, 1, 1};
  const CUresult rw =
      encode(&mapW, dt, 4, const_cast<void *>(w), wdims, wstrides, wbox, wes, CU_TENSOR_MAP_INTERLEAVE_NONE,
             CU_TENSOR_MAP_SWIZZLE_64B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (rx != CUDA_SUCCESS || rw != CUDA_SUCCESS)
    return false; // the caller's general path runs instead
  const int64_t blocks = int64_t(prm.tilesQ) * prm.tilesP * prm.tilesN * ceilDiv(g.K, bn);
  if (blocks == 0)
    return true;
  const cudaStream_t stream = streamOf(*a.handle);
  auto launch = [&](auto tag, auto cfg) {
    using T = typename decltype(tag)::type;
    using Cfg = decltype(cfg);
    auto kernel = convTmaKernel<T, Cfg>;
    LAMINA_CUDA_CALL(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::SMEM_BYTES));
    kernel<<<unsigned(blocks), Cfg::THREADS, Cfg::SMEM_BYTES, stream>>>(mapX, mapW, prm);
    LAMINA_CUDA_LAUNCHED();
  };
  if (p.dataType == LAMINA_DATA_HALF)
    narrow ? launch(TypeTag<__half>{}, TileWN{}) : launch(TypeTag<__half>{}, TileW{});
  else
    narrow ? launch(TypeTag<__nv_bfloat16>{}, TileWN{}) : launch(TypeTag<__nv_bfloat16>{}, TileW{});
  return true;
}

void preloadTmaKernels() {
  LAMINA_CUDA_CALL(cudaFuncSetAttribute(convTmaKernel<__half, TileW>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        TileW::SMEM_BYTES));
  LAMINA_CUDA_CALL(cudaFuncSetAttribute(convTmaKernel<__half, TileWN>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        TileWN::SMEM_BYTES));
  LAMINA_CUDA_CALL(cudaFuncSetAttribute(convTmaKernel<__nv_bfloat16, TileW>,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, TileW::SMEM_BYTES));
  LAMINA_CUDA_CALL(cudaFuncSetAttribute(convTmaKernel<__nv_bfloat16, TileWN>,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, TileWN::SMEM_BYTES));
  encodeTiled(); // resolve the driver entry point now, not on the first call
}

} // namespace lamina::cuda::tc
