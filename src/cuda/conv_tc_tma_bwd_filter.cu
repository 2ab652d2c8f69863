// Backward-filter on Hopper with TMA loads and wgmma (sm_90a; half / bfloat16, ungrouped 2-D,
// channels contiguous in 16-byte chunks, strides up to 8):
//
//   dw[k][r][s][c] = sum over pixels (n, p, q) of x[n][p*str + r*dil - pad][q*str + s*dil - pad][c] * dy[n][p][q][k]
//
// computed transposed, dw^T[(tap, c)][k], so the rows are the filter's taps x channels (many) and the
// columns its output channels (TileW: 128 of them; TileWN: 64), the same tiles as the forward. Rows
// come in 64-row blocks of one tap and 64 channels; the reduction runs over boxes of at most 32 output
// pixels (bw x bh x nb, chosen to waste the fewest): per box, A is one TMA box of x per row block at
// the tap's offset (read every str-th pixel through TMA element strides) and B one box of dy per 64
// columns; both are MN-major in the 128B swizzle (32 pixel rows x 128 bytes per 4 KB block) and feed
// wgmma transposed. TMA zero-fills where a box leaves the tensors (padding, image edges, channel
// tails); rows of a box under 32 pixels stay zero from the start. Where such boxes leave many rows
// idle (13x13 images: 25%) and dy's pixels are packed, the slices are instead 32 consecutive pixels of
// the N*P*Q order: x in TMA im2col mode (one copy per row block, the tap as its offsets), dy as the
// plain [N*P*Q][K] matrix. The slices are split over blocks
// (fp32 partials, summed in a fixed order by a transposing reduction: deterministic).
#include "cuda/conv_tc.h"
#include "cuda/conv_tc_common.cuh"
#include "cuda/conv_tc_tma.cuh"

#include "core/conv_geom.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace lamina::cuda::tc {
namespace {

// Pixels per slice: a stage's rows of 128 bytes per 64-wide block. 64 for the deep tiles (TileW64,
// TileWN64: 128-byte "rows" of reduction, i.e. 64 pixels): half the copies and barrier round trips per
// product of the 32-pixel tiles, whose many small copies kept the consumers waiting (ncu, H200: 58% of
// their samples on the full barrier with L2 11% busy).
template <class Cfg> constexpr int kSliceRows = Cfg::ROW_BYTES / 2;

struct BfParams {
  int C, K, S;            // input channels, output channels, filter width
  int cBlocks, rowBlocks; // 64-channel blocks per tap; row blocks F * cBlocks
  int rowTiles, colTiles; // tiles of BM rows and BN columns
  int BW, BH, NB;         // the pixel box
  int tilesQ, tilesP;     // boxes along Q, P (and along N: the rest)
  // 1: slices of 32 consecutive output pixels (0: boxes). P, Q: output rows and columns; lower: x's
  // walk corner (h, w) as the forward's.
  int im2col, P, Q, lower[2];
  int boxes, splits, slicesPerSplit;
  int str[2], dil[2], pad[2]; // h, w
  int64_t ws[4];              // dw strides: k, c, h, w (flip folded in)
  void *dw;                   // at logical tap 0
  float *partial;             // [splits][rowBlocks * 64][K] when splits > 1
  float alpha, beta;
};

// The consumers' accumulators (rows rb0 * 64 .., columns k0 ..) to the split's partials or to dw.
template <class T, class Cfg>
__device__ __forceinline__ void storeBwdFilterTile(const BfParams &p, const float (&acc)[Cfg::MI][Cfg::NI][4],
                                                   int split, int k0, int rb0) {
  const int64_t rowsPad = int64_t(p.rowBlocks) * 64;
  int64_t rowOff = 0;
  if (p.splits > 1) {
    float *part = p.partial + int64_t(split) * rowsPad * p.K;
    forEachRowPair<Cfg, true>(
        acc,
        [&](int row) {
          const int rb = rb0 + row / 64;
          rowOff = int64_t(rb) * 64 + row % 64;
          return rb < p.rowBlocks;
        },
        [&](int col, float v0, float v1) {
          const int k = k0 + col;
          if (k < p.K) // K % 8 == 0: k + 1 too
            *reinterpret_cast<float2 *>(&part[rowOff * p.K + k]) = make_float2(v0, v1);
        });
    return;
  }
  T *dw = static_cast<T *>(p.dw);
  forEachRowPair<Cfg, true>(
      acc,
      [&](int row) {
        const int rb = rb0 + row / 64;
        if (rb >= p.rowBlocks)
          return false;
        const int tap = rb / p.cBlocks, c = (rb - tap * p.cBlocks) * 64 + row % 64;
        const int r = tap / p.S, s = tap - r * p.S;
        rowOff = int64_t(c) * p.ws[1] + int64_t(r) * p.ws[2] + int64_t(s) * p.ws[3];
        return c < p.C;
      },
      [&](int col, float v0, float v1) {
        const int k = k0 + col;
        if (k < p.K)
          storeScaledPair(dw + rowOff + int64_t(k) * p.ws[0], p.ws[0], true, false, p.alpha, p.beta, v0, v1);
      });
}

// CL = 2: the two CTAs of a cluster (neighbouring column tiles: the same rows, split and x boxes)
// each load half of the x blocks and multicast them to both, halving x's traffic from L2.
template <class T, class Cfg, int CL>
__global__ void __launch_bounds__(Cfg::THREADS, 1)
    bwdFilterTmaKernel(const __grid_constant__ CUtensorMap mapX, const __grid_constant__ CUtensorMap mapDy,
                       const BfParams p) {
  extern __shared__ __align__(1024) uint8_t smem[];
  // Block -> (column tile, row tile, split); columns fastest: neighbours share the x boxes.
  unsigned b = blockIdx.x;
  const int kt = int(b % unsigned(p.colTiles));
  b /= unsigned(p.colTiles);
  const int mt = int(b % unsigned(p.rowTiles));
  const int split = int(b / unsigned(p.rowTiles));
  const int k0 = kt * Cfg::BN, rb0 = mt * (Cfg::BM / 64);
  const int boxBegin = split * p.slicesPerSplit;
  const int iters = max(0, min(p.slicesPerSplit, p.boxes - boxBegin));
  constexpr int SR = kSliceRows<Cfg>, BLOCK = SR * 128; // pixels per slice, bytes per 64-wide block
  const uint32_t boxRows = uint32_t(p.BW * p.BH * p.NB);
  const uint32_t txBytes = (Cfg::BM / 64 + Cfg::BN / 64) * boxRows * 128;

  // The rows no box writes must read as zeros (generic writes, then read by TMA / wgmma).
  if (p.im2col == 0 && boxRows < uint32_t(SR)) {
    uint4 *z = reinterpret_cast<uint4 *>(smem);
    for (int i = threadIdx.x; i < Cfg::BAR_OFFSET / 16; i += Cfg::THREADS)
      z[i] = make_uint4(0, 0, 0, 0);
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  }

  // Per row block of this tile: tap (r, s) and channel block; past the end, the last one again (its
  // rows are not stored).
  int tapH[Cfg::BM / 64], tapW[Cfg::BM / 64], cOff[Cfg::BM / 64];
  uint16_t offH[Cfg::BM / 64], offW[Cfg::BM / 64]; // im2col: the tap as x's offsets
#pragma unroll
  for (int j = 0; j < Cfg::BM / 64; ++j) {
    const int rb = min(rb0 + j, p.rowBlocks - 1), tap = rb / p.cBlocks;
    const int r = tap / p.S, s = tap - r * p.S;
    cOff[j] = (rb - tap * p.cBlocks) * 64;
    tapH[j] = r * p.dil[0] - p.pad[0], tapW[j] = s * p.dil[1] - p.pad[1];
    offH[j] = uint16_t(r * p.dil[0]), offW[j] = uint16_t(s * p.dil[1]);
  }
  const int rank = CL > 1 ? int(clusterRank()) : 0;
  auto produce = [&](uint32_t sA, uint32_t sB, uint32_t fullBar, int it) {
    if (p.im2col) { // pixels m0 .. m0 + 32 of N*P*Q
      const int m0 = (boxBegin + it) * SR, pq = p.P * p.Q, n = m0 / pq, rem = m0 - n * pq;
      const int oh = rem / p.Q, ow = rem - oh * p.Q;
      const int xw = ow * p.str[1] + p.lower[1], xh = oh * p.str[0] + p.lower[0];
      mbarExpectTx(fullBar, txBytes);
#pragma unroll
      for (int j = 0; j < Cfg::BM / 64; ++j)
        tmaLoadIm2col4d(sA + j * BLOCK, &mapX, cOff[j], xw, xh, n, offW[j], offH[j], fullBar);
#pragma unroll
      for (int j = 0; j < Cfg::BN / 64; ++j)
        tmaLoad2d(sB + j * BLOCK, &mapDy, k0 + 64 * j, m0, fullBar);
      return;
    }
    int box = boxBegin + it;
    const int qt = box % p.tilesQ;
    box /= p.tilesQ;
    const int pt = box % p.tilesP, nt = box / p.tilesP;
    const int q0 = qt * p.BW, p0 = pt * p.BH, n0 = nt * p.NB;
    mbarExpectTx(fullBar, txBytes);
#pragma unroll
    for (int j = 0; j < Cfg::BM / 64; ++j) {
      const int qx = q0 * p.str[1] + tapW[j], px = p0 * p.str[0] + tapH[j];
      if constexpr (CL == 1)
        tmaLoad4d(sA + j * BLOCK, &mapX, cOff[j], qx, px, n0, fullBar);
      else if (j / (Cfg::BM / 64 / CL) == rank)
        tmaLoad4dMulticast(sA + j * BLOCK, &mapX, cOff[j], qx, px, n0, fullBar, uint16_t((1u << CL) - 1));
    }
#pragma unroll
    for (int j = 0; j < Cfg::BN / 64; ++j)
      tmaLoad4d(sB + j * BLOCK, &mapDy, k0 + 64 * j, q0, p0, n0, fullBar);
  };
  float acc[Cfg::MI][Cfg::NI][4];
  if (mainLoopWs<Cfg, T, 1, 1, true, true, CL>(smem, iters, acc, produce))
    storeBwdFilterTile<T, Cfg>(p, acc, split, k0, rb0);
  if constexpr (CL > 1)
    clusterSync(); // no CTA leaves while its peer may still arrive on its barriers
}

// dw = alpha * (the partials summed in split order) + beta * dw, through a 32 x 32 shared tile: reads
// along k (the partials' rows), writes along c (dw's channels).
template <class T> __global__ void reduceBwdFilterSplits(const BfParams p) {
  __shared__ float tile[32][33];
  const int64_t rowsPad = int64_t(p.rowBlocks) * 64;
  const int row0 = blockIdx.x * 32, k0 = blockIdx.y * 32, tx = threadIdx.x, ty = threadIdx.y;
  for (int i = ty; i < 32; i += blockDim.y) {
    const int k = k0 + tx;
    float s = 0.f;
    if (k < p.K)
      for (int q = 0; q < p.splits; ++q)
        s += p.partial[(q * rowsPad + row0 + i) * p.K + k];
    tile[i][tx] = s;
  }
  __syncthreads();
  const int row = row0 + tx, rb = row / 64, tap = rb / p.cBlocks, c = (rb - tap * p.cBlocks) * 64 + row % 64;
  if (c >= p.C)
    return;
  const int r = tap / p.S, s = tap - r * p.S;
  T *dw = static_cast<T *>(p.dw) + int64_t(c) * p.ws[1] + int64_t(r) * p.ws[2] + int64_t(s) * p.ws[3];
  for (int i = ty; i < 32; i += blockDim.y) {
    const int k = k0 + i;
    if (k >= p.K)
      break;
    T *at = dw + int64_t(k) * p.ws[0];
    float v = p.alpha * tile[tx][i];
    if (p.beta != 0.f)
      v += p.beta * toAcc(*at);
    *at = fromAcc<T>(v);
  }
}

// ---- Host side ----------------------------------------------------------------------------------

struct PixBox {
  int BW = 1, BH = 1, NB = 1;
  int64_t tilesQ = 0, tilesP = 0, boxes = 0;
};
// The box of at most `rows` output pixels (bw x bh x nb) that wastes the fewest rows over the batch.
PixBox choosePixBox(int64_t N, int64_t P, int64_t Q, int rows) {
  PixBox best;
  double bestWaste = 2;
  for (int bw = int(std::min<int64_t>(Q, rows)); bw >= 1; --bw) {
    const int bh = int(std::min<int64_t>(P, rows / bw));
    const int nb = bh == P ? int(std::min<int64_t>(N, rows / (bw * bh))) : 1;
    const int64_t tq = ceilDiv(Q, bw), tp = ceilDiv(P, bh), boxes = tq * tp * ceilDiv(N, nb);
    const double waste = 1.0 - double(N * P * Q) / (double(boxes) * rows);
    if (waste < bestWaste - 1e-9) {
      bestWaste = waste;
      best.BW = bw, best.BH = bh, best.NB = nb, best.tilesQ = tq, best.tilesP = tp, best.boxes = boxes;
    }
  }
  return best;
}

int columnTile(int64_t K) { return K <= 64 ? TileWN::BN : TileW::BN; }
// The deep tiles (64-pixel slices) unless LAMINA_TC_BF_DEEP=0 (measuring) or paired CTAs (TileW only).
bool deepSlices() {
  static const bool off = [] {
    const char *e = std::getenv("LAMINA_TC_BF_DEEP");
    return e && std::strcmp(e, "0") == 0;
  }();
  return !off && !tmaClusters();
}

// X's im2col walk (h, w) as the forward's: corners -pad and (out - 1) * str - pad - (in - 1), which a
// 4-D map holds within [-128, 127]; false where they do not fit.
bool bfIm2colCorners(const ConvGeom &g, int lower[2], int upper[2]) {
  for (int i = 0; i < 2; ++i) {
    const int64_t lo = -g.pad[1 + i], up = (g.out[1 + i] - 1) * g.str[1 + i] + lo - (g.in[1 + i] - 1);
    if (lo < -128 || lo > 127 || up < -128 || up > 127)
      return false;
    lower[i] = int(lo), upper[i] = int(up);
  }
  return true;
}

struct BfPlan {
  int sliceRows = 32; // pixels per slice: 64 on the deep tiles
  PixBox box;
  bool im2col = false; // BfParams::im2col
  int bn = 0;
  int64_t rowBlocks = 0, rowTiles = 0, colTiles = 0;
  int splits = 1, slicesPerSplit = 0;
  double ms = 0;
};

// The split count that finishes soonest: per wave, a block runs slicesPerSplit boxes; the partials
// cost a write and a read of fp32 rows x K each, and the reduction a launch.
BfPlan makeBfPlan(const ConvGeom &g) {
  BfPlan pl;
  pl.sliceRows = deepSlices() ? 64 : 32;
  pl.box = choosePixBox(g.N, g.out[1], g.out[2], pl.sliceRows);
  // Im2col slices where the boxes leave over 4% of the rows idle (its copies cost a few percent more:
  // the forward's measurements, v9) or where forced (LAMINA_TC_IM2COL=1), over packed dy pixels.
  const int forcing = im2colForcing();
  int lower[2], upper[2];
  const int64_t pixels = g.N * g.out[1] * g.out[2], slices = ceilDiv(pixels, pl.sliceRows);
  const bool dyFlat = g.ys[3] == g.out[2] * g.ys[4] && g.ys[0] == g.out[1] * g.ys[3];
  if (forcing != 0 && dyFlat && (encodeIm2col() || planningAssumesHopper()) && !tmaClusters() &&
      bfIm2colCorners(g, lower, upper) && (forcing == 1 || double(slices) < 0.96 * double(pl.box.boxes))) {
    pl.im2col = true;
    pl.box = PixBox{};
    pl.box.BW = pl.sliceRows, pl.box.tilesQ = slices, pl.box.tilesP = 1, pl.box.boxes = slices;
  }
  pl.bn = columnTile(g.K);
  pl.rowBlocks = g.F * ceilDiv(g.C, 64);
  pl.rowTiles = ceilDiv(pl.rowBlocks, TileW::BM / 64), pl.colTiles = ceilDiv(g.K, pl.bn);
  const int64_t tiles = pl.rowTiles * pl.colTiles, boxes = pl.box.boxes;
  // 700 TFLOP/s per the whole card on full tiles: the forward TMA path's 800 less the heavier producer.
  const double sliceMs = 2.0 * TileW::BM * pl.bn * pl.sliceRows / (700e9 / kPlanSMs);
  const double partialBytes = double(pl.rowBlocks) * 64 * g.K * 4 * 2;
  pl.ms = INFINITY;
  for (int waves = 1; waves <= 8; ++waves) {
    int64_t s = std::max<int64_t>(1, int64_t(kPlanSMs) * waves / tiles);
    s = std::min<int64_t>({s, std::max<int64_t>(1, boxes / 4), 65535});
    const int64_t sps = ceilDiv(boxes, s);
    s = ceilDiv(boxes, sps);
    const double ms = std::ceil(double(tiles * s) / kPlanSMs) * double(sps) * sliceMs +
                      (s > 1 ? double(s) * partialBytes / 2.5e9 + 0.004 : 0.0);
    if (ms < pl.ms * 0.97) {
      pl.ms = ms, pl.splits = int(s), pl.slicesPerSplit = int(sps);
    }
  }
  return pl;
}

size_t partialBytes(const ConvGeom &g, const BfPlan &pl) {
  return pl.splits > 1 ? size_t(pl.splits) * size_t(pl.rowBlocks) * 64 * size_t(g.K) * 4 + 256 : 0;
}

} // namespace

std::string whyNotTmaBwdFilter(const ConvProblem &p) {
  if (std::string why = whyNotTmaDevice(p); !why.empty())
    return why;
  if (p.dataType == LAMINA_DATA_FLOAT) // it reads both operands MN-major: wgmma has no such TF32 form
    return "TMA backward-filter: half or bfloat16 only";
  const ConvGeom g = makeConvGeom(p);
  if (g.G != 1 || p.spatialDims != 2 || g.str[1] > 8 || g.str[2] > 8)
    return "TMA path: ungrouped 2-D convolutions with strides up to 8";
  if (g.xs[1] != 1 || g.ys[1] != 1 || g.C % 8 != 0 || g.K % 8 != 0)
    return "TMA path: channels contiguous, a multiple of 8";
  const int64_t tails[6] = {g.xs[4], g.xs[3], g.xs[0], g.ys[4], g.ys[3], g.ys[0]};
  for (int64_t s : tails)
    if (s <= 0 || s % 8 != 0 || s >= (int64_t(1) << 38))
      return "TMA path: positive pixel strides of whole 16-byte chunks below 2^39 bytes (NHWC-style)";
  if (g.N > INT32_MAX / 2 || g.in[1] > INT32_MAX / 16 || g.in[2] > INT32_MAX / 16 || g.K > INT32_MAX / 2 ||
      g.filt[1] * g.dil[1] > 65535 || g.filt[2] * g.dil[2] > 65535 || g.pad[1] > 65535 || g.pad[2] > 65535 ||
      g.F * ceilDiv(g.C, 64) * 64 > INT32_MAX / 2 || g.N * g.out[1] * g.out[2] > INT32_MAX / 2)
    return "TMA path: sizes beyond its 32-bit coordinates";
  // The grids: blocks = row tiles x column tiles x splits in x; the reduction's K / 32 in y.
  const BfPlan pl = makeBfPlan(g);
  if (pl.rowTiles * pl.colTiles * pl.splits >= INT32_MAX || ceilDiv(g.K, 32) > 65535)
    return "TMA path: sizes beyond its grid";
  return {};
}

size_t tmaBwdFilterWorkspace(const ConvProblem &p) {
  return partialBytes(makeConvGeom(p), makeBfPlan(makeConvGeom(p)));
}

double tmaBwdFilterEstimateMs(const ConvProblem &p) {
  const BfPlan pl = makeBfPlan(makeConvGeom(p));
  const double bytes = double(p.x.numel() + p.w.numel() + p.y.numel()) * 2;
  return 0.004 + pl.ms + bytes / 3.0e9;
}

bool runTmaBwdFilter(const ConvArgs &a) {
  const ConvProblem &p = *a.p;
  const ConvGeom g = makeConvGeom(p);
  if (!aligned16(a.x) || !aligned16(a.dy))
    return false;
  const BfPlan pl = makeBfPlan(g);
  if (a.workspaceBytes < partialBytes(g, pl))
    return false;
  const auto encode = encodeTiled();
  const CUtensorMapDataType dt =
      p.dataType == LAMINA_DATA_HALF ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
  BfParams prm{};
  prm.C = int(g.C), prm.K = int(g.K), prm.S = int(g.filt[2]);
  prm.cBlocks = int(ceilDiv(g.C, 64)), prm.rowBlocks = int(pl.rowBlocks);
  prm.rowTiles = int(pl.rowTiles), prm.colTiles = int(pl.colTiles);
  prm.BW = pl.box.BW, prm.BH = pl.box.BH, prm.NB = pl.box.NB;
  prm.tilesQ = int(pl.box.tilesQ), prm.tilesP = int(pl.box.tilesP), prm.boxes = int(pl.box.boxes);
  prm.im2col = pl.im2col ? 1 : 0, prm.P = int(g.out[1]), prm.Q = int(g.out[2]);
  prm.splits = pl.splits, prm.slicesPerSplit = pl.slicesPerSplit;
  for (int i = 0; i < 2; ++i)
    prm.str[i] = int(g.str[1 + i]), prm.dil[i] = int(g.dil[1 + i]), prm.pad[i] = int(g.pad[1 + i]);
  prm.ws[0] = g.ws[0], prm.ws[1] = g.ws[1], prm.ws[2] = g.ws[3], prm.ws[3] = g.ws[4];
  prm.dw = static_cast<char *>(a.dw) + g.wOff * 2;
  prm.alpha = float(a.alpha), prm.beta = float(a.beta);
  if (pl.splits > 1)
    prm.partial = reinterpret_cast<float *>(alignedWorkspace(a.workspace));

  // x: boxes of 64 channels x (bw x bh x nb) pixels, read every str-th pixel; dy: 64 channels x the
  // same pixels. Both in the 128B swizzle (64 two-byte channels = one 128-byte row).
  CUtensorMap mapX, mapDy;
  const cuuint64_t xdims[4] = {cuuint64_t(g.C), cuuint64_t(g.in[2]), cuuint64_t(g.in[1]), cuuint64_t(g.N)};
  const cuuint64_t xstr[3] = {cuuint64_t(g.xs[4] * 2), cuuint64_t(g.xs[3] * 2), cuuint64_t(g.xs[0] * 2)};
  const cuuint32_t xbox[4] = {64, cuuint32_t(prm.BW * prm.str[1]), cuuint32_t(prm.BH * prm.str[0]), cuuint32_t(prm.NB)};
  const cuuint32_t xes[4] = {1, cuuint32_t(prm.str[1]), cuuint32_t(prm.str[0]), 1};
  const cuuint64_t ydims[4] = {cuuint64_t(g.K), cuuint64_t(g.out[2]), cuuint64_t(g.out[1]), cuuint64_t(g.N)};
  const cuuint64_t ystr[3] = {cuuint64_t(g.ys[4] * 2), cuuint64_t(g.ys[3] * 2), cuuint64_t(g.ys[0] * 2)};
  const cuuint32_t ybox[4] = {64, cuuint32_t(prm.BW), cuuint32_t(prm.BH), cuuint32_t(prm.NB)}, yes[4] = {1, 1, 1, 1};
  CUresult rx, ry;
  if (pl.im2col) {
    // x: 32 pixels x 64 channels per copy, walking every str-th pixel; dy: the [N*P*Q][K] matrix in
    // 32-row boxes.
    int lower[2], upper[2];
    bfIm2colCorners(g, lower, upper);
    prm.lower[0] = lower[0], prm.lower[1] = lower[1];
    const int lowerWH[2] = {lower[1], lower[0]}, upperWH[2] = {upper[1], upper[0]};
    rx = encodeIm2col()(&mapX, dt, 4, const_cast<void *>(a.x), xdims, xstr, lowerWH, upperWH, 64,
                        cuuint32_t(pl.sliceRows), xes, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                        CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    const cuuint64_t dims2[2] = {cuuint64_t(g.K), cuuint64_t(g.N * g.out[1] * g.out[2])};
    const cuuint64_t str2[1] = {cuuint64_t(g.ys[4] * 2)};
    const cuuint32_t box2[2] = {64, cuuint32_t(pl.sliceRows)}, es2[2] = {1, 1};
    ry = encode(&mapDy, dt, 2, const_cast<void *>(a.dy), dims2, str2, box2, es2, CU_TENSOR_MAP_INTERLEAVE_NONE,
                CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  } else {
    rx = encode(&mapX, dt, 4, const_cast<void *>(a.x), xdims, xstr, xbox, xes, CU_TENSOR_MAP_INTERLEAVE_NONE,
                CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    ry = encode(&mapDy, dt, 4, const_cast<void *>(a.dy), ydims, ystr, ybox, yes, CU_TENSOR_MAP_INTERLEAVE_NONE,
                CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  }
  if (rx != CUDA_SUCCESS || ry != CUDA_SUCCESS)
    return false; // the caller's cp.async path runs instead
  const int64_t blocks = pl.rowTiles * pl.colTiles * pl.splits;
  if (blocks == 0)
    return true;
  const cudaStream_t stream = streamOf(*a.handle);
  // Pairs of neighbouring column tiles share their x boxes through multicast when they pair up evenly.
  const bool cluster = pl.colTiles % 2 == 0 && tmaClusters() && !pl.im2col;
  auto launch = [&](auto tag, auto cfg) {
    using T = typename decltype(tag)::type;
    using Cfg = decltype(cfg);
    bool paired = false;
    if constexpr (std::is_same_v<Cfg, TileW>) { // TileWN (K <= 64): one column tile, nothing to pair
      if (cluster) {
        LAMINA_CUDA_CALL(launchClustered(bwdFilterTmaKernel<T, Cfg, 2>, unsigned(blocks), Cfg::THREADS, Cfg::SMEM_BYTES,
                                         stream, 2, mapX, mapDy, prm));
        paired = true;
      }
    }
    if (!paired) {
      bwdFilterTmaKernel<T, Cfg, 1><<<unsigned(blocks), Cfg::THREADS, Cfg::SMEM_BYTES, stream>>>(mapX, mapDy, prm);
      LAMINA_CUDA_LAUNCHED();
    }
    if (prm.splits > 1) {
      const dim3 grid(unsigned(pl.rowBlocks * 2), unsigned(ceilDiv(g.K, 32)));
      reduceBwdFilterSplits<T><<<grid, dim3(32, 8), 0, stream>>>(prm);
      LAMINA_CUDA_LAUNCHED();
    }
  };
  auto withCfg = [&](auto tag) {
    if (pl.sliceRows == 64)
      pl.bn == TileWN::BN ? launch(tag, TileWN64{}) : launch(tag, TileW64{});
    else
      pl.bn == TileWN::BN ? launch(tag, TileWN{}) : launch(tag, TileW{});
  };
  p.dataType == LAMINA_DATA_HALF ? withCfg(TypeTag<__half>{}) : withCfg(TypeTag<__nv_bfloat16>{});
  return true;
}

void preloadTmaBwdFilterKernels() {
  auto one = [](auto kernel, int bytes) {
    LAMINA_CUDA_CALL(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  };
  one(bwdFilterTmaKernel<__half, TileW, 1>, TileW::SMEM_BYTES);
  one(bwdFilterTmaKernel<__half, TileW, 2>, TileW::SMEM_BYTES);
  one(bwdFilterTmaKernel<__half, TileWN, 1>, TileWN::SMEM_BYTES);
  one(bwdFilterTmaKernel<__half, TileW64, 1>, TileW64::SMEM_BYTES);
  one(bwdFilterTmaKernel<__half, TileWN64, 1>, TileWN64::SMEM_BYTES);
  one(bwdFilterTmaKernel<__nv_bfloat16, TileW64, 1>, TileW64::SMEM_BYTES);
  one(bwdFilterTmaKernel<__nv_bfloat16, TileWN64, 1>, TileWN64::SMEM_BYTES);
  one(bwdFilterTmaKernel<__nv_bfloat16, TileW, 1>, TileW::SMEM_BYTES);
  one(bwdFilterTmaKernel<__nv_bfloat16, TileW, 2>, TileW::SMEM_BYTES);
  one(bwdFilterTmaKernel<__nv_bfloat16, TileWN, 1>, TileWN::SMEM_BYTES);
  cudaFuncAttributes attr;
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, reduceBwdFilterSplits<__half>));
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, reduceBwdFilterSplits<__nv_bfloat16>));
}

} // namespace lamina::cuda::tc
