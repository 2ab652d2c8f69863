// TF32 backward-filter on Hopper (sm_90a): float under TENSOR_OP math, 2-D, ungrouped, stride 1, x and
// dy with their pixels contiguous along W (NCHW-style). Per filter tap (r, s) one GEMM
//
//   dw[k][c][r][s] = sum over images n and flattened pixels m of dyS[n][k][m] * xS[n][c][m + r*dil*Wp + s*dil]
//
// over planes flattened with one row pitch Wp (W + 2 pad_w rounded up to 4): xS is x zero-padded
// (Hp = H + 2 pad_h rows), dyS is dy with its rows re-pitched to Wp (zeros past Q). A tap is then a
// plain offset into the flattened plane, so both operands are K-major along the pixels (TF32 wgmma
// reads K-major operands only): TMA boxes of 32 pixels (one 128-byte row) x BM output channels (dyS)
// or BN input channels (xS), multiplied by the warp-specialized tile of conv_tc_common.cuh. A TMA box
// must start on 16 bytes (4 floats; a misaligned start is an illegal instruction on the H200), so a
// tap whose column offset s * dil_w is not a multiple of 4 reads xS at the offset rounded down by
// j = s * dil_w % 4 and a copy of dyS shifted by j pixels (dyS_j[m] = dyS[m - j]): the same products.
// One dyS copy per distinct j (3x3: three). The reduction (images x
// 32-pixel chunks) is split over blocks; each writes fp32 partials [split][tap][K][C] (chunks of images
// after the first add to them), and a second kernel sums them in split order and applies alpha/beta
// through dw's strides (deterministic). The 16-bit backward-filter (conv_tc_tma_bwd_filter.cu) reads
// NHWC operands MN-major, which TF32 wgmma has no form for. The zero columns of dyS (Q to Wp) meet
// real x pixels, so an Inf or NaN in x reaches taps that never read it (NaN in dw where other
// algorithms stay finite). Runs only when forced (LAMINA_TC_TILE=TMA):
// slower than the default picks so far (pickTf32 in conv_tc_bwd_filter.cu has the figures).
#include "cuda/conv_tc.h"
#include "cuda/conv_tc_common.cuh"
#include "cuda/conv_tc_tma.cuh"

#include "core/conv_geom.h"

#include <algorithm>
#include <climits>
#include <cmath>

namespace lamina::cuda::tc {
namespace {

constexpr int kChunk = 32; // pixels per slice: one 128-byte row of floats

// The tiles: rows = output channels K, columns = input channels C, 128-byte slices.
using TileG = TileWs<128, 128, 6, 128>;  // default
using TileGN = TileWs<128, 64, 8, 128>;  // C <= 64
using TileGM = TileWs<256, 128, 4, 128>; // K >= 256 (TileW64's shape)
enum class WgTile { G, GN, GM };

struct WgParams {
  int K, C, taps, S;
  int dil[2], Wp;
  int chunksPerImage; // ceil(Ly / 32)
  int nb;             // images of this launch's staged chunk
  int shiftCopy[4];   // dyS copy of shift j (see above); -1: none
  int iters;          // slices of this launch: images x chunksPerImage
  int splits, itersPerSplit;
  int tilesK, tilesC;
  int accumulate; // add to the partials (image chunks after the first)
  float *partial; // [splits][taps][K][C]
};

template <class Cfg>
__global__ void __launch_bounds__(Cfg::THREADS, 1)
    wgradTf32Kernel(const __grid_constant__ CUtensorMap mapDy, const __grid_constant__ CUtensorMap mapX,
                    const WgParams p) {
  extern __shared__ __align__(1024) uint8_t smem[];
  // Block -> (c tile, k tile, tap, split); the c tile varies fastest, so neighbours share the dy box.
  unsigned b = blockIdx.x;
  const int ct = int(b % unsigned(p.tilesC));
  b /= unsigned(p.tilesC);
  const int kt = int(b % unsigned(p.tilesK));
  b /= unsigned(p.tilesK);
  const int tap = int(b % unsigned(p.taps)), split = int(b / unsigned(p.taps));
  const int r = tap / p.S, s = tap - r * p.S;
  const int j = (s * p.dil[1]) & 3, copy = p.shiftCopy[j];
  const int off = r * p.dil[0] * p.Wp + s * p.dil[1] - j; // a multiple of 4 (Wp is)
  const int k0 = kt * Cfg::BM, c0 = ct * Cfg::BN;
  const int it0 = split * p.itersPerSplit, iters = min(p.itersPerSplit, p.iters - it0);
  int n = it0 / p.chunksPerImage, ch = it0 - n * p.chunksPerImage; // the producer's position
  constexpr uint32_t kTx = (Cfg::BM + Cfg::BN) * Cfg::ROW_BYTES;
  auto produce = [&](uint32_t sA, uint32_t sB, uint32_t bar, int) {
    mbarExpectTx(bar, kTx);
    const int m0 = ch * kChunk;
    tmaLoad3d(sA, &mapDy, m0, k0, copy * p.nb + n, bar);
    tmaLoad3d(sB, &mapX, m0 + off, c0, n, bar);
    if (++ch == p.chunksPerImage)
      ch = 0, ++n;
  };
  float acc[Cfg::MI][Cfg::NI][4];
  if (!mainLoopWs<Cfg, float, 1, 1, false, false, 1>(smem, iters, acc, produce))
    return;
  // Through shared memory (the idle pipeline stages): each consumer warpgroup stages its BM / 2 rows,
  // then writes them to the partials row by row (neighbouring threads, neighbouring channels).
  constexpr int LD = Cfg::BN + 4, ROWS = Cfg::BM / 2;
  const int row0 = (threadIdx.x / kThreads - 1) * ROWS, t = threadIdx.x % kThreads;
  const float *st = stageAccumulators<Cfg, LD>(acc, smem);
  float *part = p.partial + (int64_t(split) * p.taps + tap) * p.K * p.C;
  for (int i = t; i < ROWS * Cfg::BN; i += kThreads) {
    const int r = i / Cfg::BN, c = i - r * Cfg::BN, k = k0 + row0 + r, cc = c0 + c;
    if (k >= p.K || cc >= p.C)
      continue;
    float *at = part + int64_t(k) * p.C + cc;
    const float v = st[r * LD + c];
    *at = p.accumulate ? *at + v : v;
  }
}

// dw = alpha * (the splits' partials summed in split order) + beta * dw, through dw's strides (k, c, r,
// s; the flip folded in).
__global__ void wgradTf32Reduce(const float *__restrict__ part, int splits, int taps, int K, int C, int S, int64_t w0,
                                int64_t w1, int64_t w2, int64_t w3, float alpha, float beta, float *__restrict__ dw) {
  const int64_t total = int64_t(taps) * K * C;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    float sum = 0.f;
    for (int q = 0; q < splits; ++q)
      sum += part[q * total + i];
    const int tap = int(i / (int64_t(K) * C));
    const int64_t rem = i - int64_t(tap) * K * C;
    const int k = int(rem / C), c = int(rem - int64_t(k) * C), r = tap / S, s = tap - r * S;
    float *at = dw + k * w0 + c * w1 + r * w2 + s * w3;
    float v = alpha * sum;
    if (beta != 0.f)
      v += beta * *at;
    *at = v;
  }
}

// The staged planes of images n0 .. n0 + nb: xS[n][c][j], j = h' * Wp + w' < Hp * Wp (x zero-padded,
// rounded to TF32), zeros up to the plane's length L (a multiple of 4: TMA strides are 16-byte
// multiples). dyS the same with P rows of Q pixels (src rows = P, pads 0; columns past Q zero).
struct PlaneCopy {
  int64_t n0, nb, ch;     // images, channels
  int rows, cols, L;      // source rows, columns; plane length
  int Wp, padH, padW;     // row pitch; the source's offset inside the plane
  int shift;              // element j holds source position j - shift (dyS copies)
  int64_t s0, s1, s2, s3; // source strides: n, channel, row, column
};
// Blocks walk planes (y) and a plane's elements (x), so the per-element index math is one 32-bit
// division.
__global__ void stagePlaneKernel(const float *__restrict__ src, PlaneCopy pc, float *__restrict__ dst) {
  for (int64_t plane = blockIdx.y; plane < pc.nb * pc.ch; plane += gridDim.y) {
    const int64_t c = plane % pc.ch, n = pc.n0 + plane / pc.ch;
    const float *from = src + n * pc.s0 + c * pc.s1;
    float *to = dst + plane * pc.L;
    for (int j = int(blockIdx.x * blockDim.x + threadIdx.x); j < pc.L; j += int(gridDim.x * blockDim.x)) {
      const int js = j - pc.shift, hp = js / pc.Wp, h = hp - pc.padH, w = js - hp * pc.Wp - pc.padW;
      float v = 0.f;
      if (js >= 0 && h >= 0 && h < pc.rows && w >= 0 && w < pc.cols) {
        v = __uint_as_float(toTf32(__float_as_uint(from[h * pc.s2 + w * pc.s3])));
      }
      to[j] = v;
    }
  }
}
void stagePlanes(const float *src, const PlaneCopy &pc, float *dst, cudaStream_t stream) {
  const dim3 grid(unsigned(std::min<int64_t>(ceilDiv(pc.L, kBlock), 64)),
                  unsigned(std::min<int64_t>(pc.nb * pc.ch, 65535)));
  stagePlaneKernel<<<grid, kBlock, 0, stream>>>(src, pc, dst);
  LAMINA_CUDA_LAUNCHED();
}

// ---- Host side ----------------------------------------------------------------------------------

struct WgPlan {
  WgTile tile = WgTile::G;
  int bm = 128, bn = 128;
  int Wp = 0;
  int64_t Lx = 0, Ly = 0; // plane lengths of xS and dyS
  int shiftCopy[4] = {-1, -1, -1, -1}, copies = 0;
  int chunksPerImage = 0;
  int nb = 0, imageChunks = 0; // images per staged chunk, chunks
  int64_t tiles = 0;
  int splits = 1, itersPerSplit = 0;
  size_t xBytes = 0, dyBytes = 0, partBytes = 0; // each 256-byte aligned
  double ms = 0;
};

constexpr size_t kStageBudget = size_t(256) << 20; // staged planes per image chunk

WgPlan makeWgPlan(const ConvGeom &g) {
  WgPlan pl;
  pl.tile = g.K >= 256 ? WgTile::GM : g.C <= 64 ? WgTile::GN : WgTile::G;
  pl.bm = pl.tile == WgTile::GM ? 256 : 128, pl.bn = pl.tile == WgTile::GN ? 64 : 128;
  pl.Wp = int(roundUp(g.in[2] + 2 * g.pad[2], 4));
  const int64_t Hp = g.in[1] + 2 * g.pad[1];
  int maxShift = 0;
  for (int64_t s = 0; s < g.filt[2]; ++s) {
    const int j = int((s * g.dil[2]) % 4);
    if (pl.shiftCopy[j] < 0)
      pl.shiftCopy[j] = pl.copies++;
    maxShift = std::max(maxShift, j);
  }
  // dyS_j's products reach pixel P * Wp - 1 + j.
  pl.Lx = roundUp(Hp * pl.Wp, 4), pl.Ly = roundUp(g.out[1] * pl.Wp + maxShift, 4);
  pl.chunksPerImage = int(ceilDiv(pl.Ly, kChunk));
  const size_t perImage = size_t(g.C * pl.Lx + g.K * pl.Ly * pl.copies) * 4;
  pl.nb = int(std::clamp<int64_t>(int64_t(kStageBudget / std::max<size_t>(perImage, 1)), 1, g.N));
  pl.imageChunks = int(ceilDiv(g.N, pl.nb));
  pl.tiles = ceilDiv(g.K, pl.bm) * ceilDiv(g.C, pl.bn) * g.F;
  const int64_t iters = int64_t(pl.nb) * pl.chunksPerImage;
  // Splits: at least two waves of blocks, each block at least 8 slices.
  int64_t s = std::clamp<int64_t>(ceilDiv(2 * kPlanSMs, pl.tiles), 1, std::max<int64_t>(1, iters / 8));
  s = std::min<int64_t>(s, 64);
  pl.itersPerSplit = int(ceilDiv(iters, s));
  pl.splits = int(ceilDiv(iters, pl.itersPerSplit));
  pl.xBytes = alignUp(size_t(pl.nb) * size_t(g.C) * size_t(pl.Lx) * 4);
  pl.dyBytes = alignUp(size_t(pl.copies) * size_t(pl.nb) * size_t(g.K) * size_t(pl.Ly) * 4);
  pl.partBytes = alignUp(size_t(pl.splits) * size_t(g.F) * size_t(g.K) * size_t(g.C) * 4);
  // Model: the TMA forward's TF32 rate (400 TFLOP/s scale per full wave), the copies at 2.5 TB/s
  // (read and write), the partials written (and read back by later image chunks and the reduction).
  const double waves = std::ceil(double(pl.tiles * pl.splits) / kPlanSMs);
  const double blockFlops = 2.0 * pl.bm * pl.bn * double(kChunk) * pl.itersPerSplit;
  const double gemmMs = waves * blockFlops / (400e9 / kPlanSMs);
  const double copyBytes = double(g.N) * (double(g.C) * (pl.Lx + g.I) + double(g.K) * (pl.Ly + g.P) * pl.copies) * 4;
  const double partMs = double(pl.partBytes) * (2.0 * pl.imageChunks + 1) / 2.5e9;
  pl.ms = pl.imageChunks * (gemmMs + 0.008) + copyBytes / 2.5e9 + partMs + 0.004;
  return pl;
}

} // namespace

std::string whyNotTf32BwdFilter(const ConvProblem &p) {
  if (p.dataType != LAMINA_DATA_FLOAT)
    return "TF32 backward-filter: float only";
  if (std::string why = whyNotTmaDevice(p); !why.empty())
    return why;
  const ConvGeom g = makeConvGeom(p);
  if (g.G != 1 || p.spatialDims != 2 || g.str[1] != 1 || g.str[2] != 1)
    return "TF32 backward-filter: ungrouped 2-D convolutions with stride 1";
  if (g.xs[4] != 1 || g.ys[4] != 1)
    return "TF32 backward-filter: pixels contiguous along W (NCHW-style x and dy)";
  const WgPlan pl = makeWgPlan(g);
  if (pl.Lx >= INT32_MAX / 2 || pl.Ly >= INT32_MAX / 2 || int64_t(pl.copies) * pl.nb >= INT32_MAX / 2 ||
      g.K > INT32_MAX / 2 || g.C > INT32_MAX / 2 || int64_t(pl.nb) * pl.chunksPerImage >= INT32_MAX / 2 ||
      g.filt[1] * g.dil[1] * pl.Wp >= INT32_MAX / 4 || pl.tiles * pl.splits >= INT32_MAX ||
      pl.Lx * 4 >= (int64_t(1) << 38))
    return "TF32 backward-filter: sizes beyond its 32-bit coordinates";
  return {};
}

size_t tf32BwdFilterWorkspace(const ConvProblem &p) {
  const WgPlan pl = makeWgPlan(makeConvGeom(p));
  return pl.xBytes + pl.dyBytes + pl.partBytes + 256;
}

double tf32BwdFilterEstimateMs(const ConvProblem &p) { return makeWgPlan(makeConvGeom(p)).ms; }

bool runTf32BwdFilter(const ConvArgs &a) {
  const ConvProblem &p = *a.p;
  const ConvGeom g = makeConvGeom(p);
  const WgPlan pl = makeWgPlan(g);
  if (a.workspaceBytes < pl.xBytes + pl.dyBytes + pl.partBytes + 256)
    return false;
  char *ws = alignedWorkspace(a.workspace);
  float *xS = reinterpret_cast<float *>(ws), *dyS = reinterpret_cast<float *>(ws + pl.xBytes);
  float *part = reinterpret_cast<float *>(ws + pl.xBytes + pl.dyBytes);
  const auto encode = encodeTiled();
  // dyS: {L_y pixels, K channels, nb images}, boxes of 32 pixels x BM channels; xS: {L_x, C, nb}, 32 x BN.
  CUtensorMap mapDy, mapX;
  const cuuint64_t ydims[3] = {cuuint64_t(pl.Ly), cuuint64_t(g.K), cuuint64_t(pl.copies) * cuuint64_t(pl.nb)};
  const cuuint64_t ystr[2] = {cuuint64_t(pl.Ly * 4), cuuint64_t(pl.Ly * 4 * g.K)};
  const cuuint64_t xdims[3] = {cuuint64_t(pl.Lx), cuuint64_t(g.C), cuuint64_t(pl.nb)};
  const cuuint64_t xstr[2] = {cuuint64_t(pl.Lx * 4), cuuint64_t(pl.Lx * 4 * g.C)};
  const cuuint32_t ybox[3] = {kChunk, cuuint32_t(pl.bm), 1}, xbox[3] = {kChunk, cuuint32_t(pl.bn), 1},
                   es[3] = {1, 1, 1};
  const CUresult ry =
      encode(&mapDy, CU_TENSOR_MAP_DATA_TYPE_FLOAT32, 3, dyS, ydims, ystr, ybox, es, CU_TENSOR_MAP_INTERLEAVE_NONE,
             CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  const CUresult rx =
      encode(&mapX, CU_TENSOR_MAP_DATA_TYPE_FLOAT32, 3, xS, xdims, xstr, xbox, es, CU_TENSOR_MAP_INTERLEAVE_NONE,
             CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (ry != CUDA_SUCCESS || rx != CUDA_SUCCESS)
    return false; // the caller's cp.async path runs instead
  const cudaStream_t stream = streamOf(*a.handle);
  WgParams prm{};
  prm.K = int(g.K), prm.C = int(g.C), prm.taps = int(g.F), prm.S = int(g.filt[2]);
  prm.dil[0] = int(g.dil[1]), prm.dil[1] = int(g.dil[2]), prm.Wp = pl.Wp;
  prm.chunksPerImage = pl.chunksPerImage, prm.nb = pl.nb;
  for (int j = 0; j < 4; ++j)
    prm.shiftCopy[j] = pl.shiftCopy[j];
  prm.splits = pl.splits, prm.itersPerSplit = pl.itersPerSplit;
  prm.tilesK = int(ceilDiv(g.K, pl.bm)), prm.tilesC = int(ceilDiv(g.C, pl.bn));
  prm.partial = part;
  const unsigned blocks = unsigned(pl.tiles * pl.splits);
  for (int chunk = 0; chunk < pl.imageChunks; ++chunk) {
    const int64_t n0 = int64_t(chunk) * pl.nb, nb = std::min<int64_t>(pl.nb, g.N - n0);
    const PlaneCopy xc{n0,         nb,      g.C,           int(g.in[1]),  int(g.in[2]),
                       int(pl.Lx), pl.Wp,   int(g.pad[1]), int(g.pad[2]), 0,
                       g.xs[0],    g.xs[1], g.xs[3],       g.xs[4]};
    stagePlanes(static_cast<const float *>(a.x), xc, xS, stream);
    for (int j = 0; j < 4; ++j)
      if (pl.shiftCopy[j] >= 0) {
        const PlaneCopy yc{n0, nb, g.K, int(g.out[1]), int(g.out[2]), int(pl.Ly), pl.Wp,
                           0,  0,  j,   g.ys[0],       g.ys[1],       g.ys[3],    g.ys[4]};
        stagePlanes(static_cast<const float *>(a.dy), yc, dyS + size_t(pl.shiftCopy[j]) * pl.nb * g.K * pl.Ly, stream);
      }
    // A last chunk of fewer images runs fewer slices (splits past them add nothing).
    prm.iters = int(nb * pl.chunksPerImage);
    prm.accumulate = chunk > 0;
    auto launch = [&](auto cfg) {
      using Cfg = decltype(cfg);
      wgradTf32Kernel<Cfg><<<blocks, Cfg::THREADS, Cfg::SMEM_BYTES, stream>>>(mapDy, mapX, prm);
      LAMINA_CUDA_LAUNCHED();
    };
    switch (pl.tile) {
    case WgTile::GN: launch(TileGN{}); break;
    case WgTile::GM: launch(TileGM{}); break;
    default: launch(TileG{}); break;
    }
  }
  const int64_t total = g.F * g.K * g.C;
  wgradTf32Reduce<<<gridFor(total), kBlock, 0, stream>>>(part, pl.splits, int(g.F), int(g.K), int(g.C), int(g.filt[2]),
                                                         g.ws[0], g.ws[1], g.ws[3], g.ws[4], float(a.alpha),
                                                         float(a.beta), static_cast<float *>(a.dw) + g.wOff);
  LAMINA_CUDA_LAUNCHED();
  return true;
}

void preloadTf32BwdFilterKernels() {
  auto one = [](auto cfg) {
    using Cfg = decltype(cfg);
    LAMINA_CUDA_CALL(
        cudaFuncSetAttribute(wgradTf32Kernel<Cfg>, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::SMEM_BYTES));
  };
  one(TileG{}), one(TileGN{}), one(TileGM{});
  cudaFuncAttributes attr;
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, wgradTf32Reduce));
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, stagePlaneKernel));
}

} // namespace lamina::cuda::tc
