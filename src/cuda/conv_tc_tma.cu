// Convolutions on Hopper with TMA loads (sm_90a; half / bfloat16, ungrouped 2-D, NHWC-style activations
// and KRSC-style filters with channels contiguous, cross-correlation): forward with strides up to 8,
// backward-data with stride 1.
//
// The warp-specialized tile of conv_tc_common.cuh (TileWs: two consumer warpgroups on wgmma, an
// 8-stage mbarrier pipeline), with the producer reduced to one thread issuing tensor-memory-access
// copies: the A tile of one tap (r, s) and channel slice is a box of the input read every str-th pixel,
// x[n0 .. n0+NB)[p0*str+r*dil-pad ..+BH*str)[q0*str+s*dil-pad ..+BW*str)[c0 ..+32), which TMA copies
// with its 64-byte swizzle (the layout wgmma reads) and zero-fills where the box leaves the tensor (the
// padding, the channel tail). The block's output rows are that box of output pixels (BW x BH x NB <= BM
// rows; the rest of the tile idles: a third of it on 13x13 images). Im2col mode, the default where its
// corners fit, instead copies BM consecutive output pixels of the N*P*Q order, across rows and
// images, for one tap: no idle rows. 1x1 stride-1 convolutions without padding over densely packed
// pixels read A as the plain [N*H*W][C] matrix instead. B is the box w[k0 ..+BN)[r][s][c0 ..+32)
// (backward-data: w[c0 ..+32 filters)[r][s][64-channel blocks], MN-major, multiplied with wgmma's
// transposed B). The cp.async producer needed ~360 instructions per slice and starved the consumers
// (ncu on the H200, docs/perf_notes.md); here it is ~20.
#include "cuda/conv_tc.h"
#include "cuda/conv_tc_common.cuh"
#include "cuda/conv_tc_tma.cuh"
#include "cuda/conv_tc_tma_kernel.cuh"

#include "core/conv_geom.h"
#include "core/plan_memo.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#ifdef LAMINA_TC_TRACE
#include <cstdio>
#include <vector>
#endif
#include <memory>
#include <mutex>
#include <type_traits>

namespace lamina::cuda::tc {

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

PFN_cuTensorMapEncodeIm2col_v12000 encodeIm2col() {
  static PFN_cuTensorMapEncodeIm2col_v12000 fn = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    void *f = nullptr;
    cudaDriverEntryPointQueryResult q{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeIm2col", &f, 12000, cudaEnableDefault, &q) == cudaSuccess &&
        q == cudaDriverEntryPointSuccess)
      fn = reinterpret_cast<PFN_cuTensorMapEncodeIm2col_v12000>(f);
  });
  return fn;
}

int im2colForcing() {
  static const int f = [] {
    const char *e = std::getenv("LAMINA_TC_IM2COL");
    return !e ? -1 : std::strcmp(e, "0") == 0 ? 0 : std::strcmp(e, "1") == 0 ? 1 : -1;
  }();
  return f;
}

bool tmaClusters() {
  static const bool on = [] {
    const char *e = std::getenv("LAMINA_TC_CLUSTER");
    return e && std::strcmp(e, "1") == 0;
  }();
  return on;
}

// LAMINA_TC_SPLIT_FUSED=1 (measuring, tests): split-K partials summed by each tile's last block in the
// one launch (finishSplits) instead of the second kernel. Off by default: it saves the second launch's
// ~3.3 us of host time, but one SM summing a tile's partials is bound by the L2's latency; H200, fp16,
// with 16-byte loads, two rounds of every split's in flight: vgg16 conv3_2-conv5_2 at batch 1 0.045-0.048
// ms against 0.017-0.024 with the kernel, res4/res5 3x3 at batch 8 0.042-0.048 against 0.018.
static bool splitFused() {
  static const bool on = [] {
    const char *e = std::getenv("LAMINA_TC_SPLIT_FUSED");
    return e && std::strcmp(e, "1") == 0;
  }();
  return on;
}

namespace {

// ---- Host side ----------------------------------------------------------------------------------

// The output box per block: the fewest idle rows over the whole output (ties: larger boxes).
struct Box {
  int BW = 0, BH = 1, NB = 1;
  int64_t tiles = 0;
};
// strH, strW: the forward's strides (the input box spans bw * strW x bh * strH pixels, <= 256 each).
Box chooseBox(int64_t N, int64_t P, int64_t Q, int bm, int strH = 1, int strW = 1) {
  Box best;
  double bestWaste = 2;
  for (int bw : {int(std::min<int64_t>(Q, bm)), 256, 128, 64, 32, 16, 8}) {
    if (bw > bm || bw > Q || bw * strW > 256)
      continue;
    const int bh = int(std::min<int64_t>({P, int64_t(bm / bw), int64_t(256 / strH)}));
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

// The operands of one direction as the kernel sees them: the source A (x or dy) with its channel count
// RC and dims, the output (y or dx) with its channel count NC and dims.
struct View {
  bool bwd;
  int64_t RC, NC;                 // reduction channels (C or K), output channels (K or C)
  int64_t srcH, srcW, outH, outW; // source and output spatial dims
  const int64_t *ss, *os;         // strides of source and output (n, channel, d, h, w)
  // The filter read K-major: its reduction channels contiguous (forward: KRSC-style; backward-data: a
  // [C][R][S][K] copy), read as the forward reads it. Else (backward-data, 16-bit): MN-major, the
  // filter's C contiguous, multiplied with wgmma's transposed B.
  bool bK;
  int esize; // bytes per element
};
View viewOf(const ConvGeom &g, Dir dir) {
  View v;
  v.bwd = dir == Dir::BackwardData;
  v.RC = v.bwd ? g.K : g.C, v.NC = v.bwd ? g.C : g.K;
  v.srcH = v.bwd ? g.out[1] : g.in[1], v.srcW = v.bwd ? g.out[2] : g.in[2];
  v.outH = v.bwd ? g.in[1] : g.out[1], v.outW = v.bwd ? g.in[2] : g.out[2];
  v.ss = v.bwd ? g.ys : g.xs, v.os = v.bwd ? g.xs : g.ys;
  v.bK = !v.bwd || g.ws[0] == 1;
  v.esize = 2;
  return v;
}
View viewOf(const ConvGeom &g, Dir dir, laminaDataType_t dt) {
  View v = viewOf(g, dir);
  v.esize = dt == LAMINA_DATA_FLOAT ? 4 : 2;
  return v;
}

// LAMINA_TC_PERSIST (measuring and tests): 0, no persistent launches; N > 0, persistent launches of at
// most N blocks wherever they apply (tests: several tiles per block on small problems); unset: the SMs'
// count of blocks where the tiles take more than one wave. Read once.
int persistForcing() {
  static const int f = [] {
    const char *e = std::getenv("LAMINA_TC_PERSIST");
    return e ? std::max(0, std::atoi(e)) : -1;
  }();
  return f;
}

// The output's pixels as rows of a 2-D map (the TMA-store epilogue of persistent launches): channels
// contiguous, pixels packed, rows a multiple of 16 bytes apart.
bool outputPacked(const View &v) {
  const int64_t *os = v.os;
  return os[1] == 1 && (os[4] * v.esize) % 16 == 0 && os[3] == v.outW * os[4] && os[0] == v.outH * os[3] &&
         os[4] * v.esize < (int64_t(1) << 39);
}

bool flatOk(const ConvGeom &g, const View &v) {
  return g.filt[1] == 1 && g.filt[2] == 1 && g.pad[1] == 0 && g.pad[2] == 0 && g.str[1] == 1 && g.str[2] == 1 &&
         v.ss[3] == v.srcW * v.ss[4] && v.ss[0] == v.srcH * v.ss[3];
}

// Im2col mode's bounding box per spatial dim (h, w), as the tensor map and the kernel take it: the
// walk's corners relative to the source's edges and the offset of the first tap.
struct Im2colBox {
  int lower[2], upper[2], offBase[2];
};
// False where im2col mode does not apply: paired CTAs (they split boxes), no encoder, or corners
// outside a 4-D map's [-128, 127].
bool im2colOf(const ConvGeom &g, const View &v, Im2colBox &b) {
  if (tmaClusters() || (!encodeIm2col() && !planningAssumesHopper()))
    return false;
  for (int i = 0; i < 2; ++i) {
    const int64_t pad = g.pad[1 + i], dil = g.dil[1 + i], str = g.str[1 + i], taps = g.filt[1 + i];
    const int64_t out = i == 0 ? v.outH : v.outW, src = i == 0 ? v.srcH : v.srcW;
    // Output pixel o reads source o * str - pad + tap * dil (forward), o + pad - tap * dil (backward-data,
    // stride 1): the walk starts from the lowest of the taps' coordinates, the offsets are non-negative.
    const int64_t mul = v.bwd ? -dil : dil, first = std::min<int64_t>(0, mul * (taps - 1));
    const int64_t lower = (v.bwd ? pad : -pad) + first, upper = (out - 1) * str + lower - (src - 1);
    if (lower < -128 || lower > 127 || upper < -128 || upper > 127 || (taps - 1) * dil > 65535)
      return false;
    b.lower[i] = int(lower), b.upper[i] = int(upper), b.offBase[i] = int(-first);
  }
  return true;
}

// The TMA tiles: BM output rows x BN output columns, ROW_BYTES of reduction channels per stage and row
// (64: 32 half or 16 float values; 128: 64 half or 32 float). K-major filters take 128-byte slices
// (128B swizzle, 4 stages: half the barrier round trips per flop) when the reduction channels fill
// them; the 16-bit backward-data reads the filter MN-major, 64-byte slices only.
enum class TmaTile { W, WN, WK, W64, WK64, WM, WM64 };
struct TmaShape {
  int bm, bn, rowBytes;
  int depth(int esize) const { return rowBytes / esize; } // reduction channels per slice
};
TmaShape shapeOf(TmaTile t) {
  switch (t) {
  case TmaTile::WN: return {TileWN::BM, TileWN::BN, 64};
  case TmaTile::WK: return {TileWK::BM, TileWK::BN, 64};
  case TmaTile::W64: return {TileW64::BM, TileW64::BN, 128};
  case TmaTile::WK64: return {TileWK64::BM, TileWK64::BN, 128};
  case TmaTile::WM: return {TileWM::BM, TileWM::BN, 64};
  case TmaTile::WM64: return {TileWM64::BM, TileWM64::BN, 128};
  default: return {TileW::BM, TileW::BN, 64};
  }
}

} // namespace

// LAMINA_TC_TILE's names for the TMA paths: TMA (the rule's tile) and the tiles tmaTile parses.
int tmaForcing() {
  const char *e = std::getenv("LAMINA_TC_TILE");
  if (!e)
    return 0;
  for (const char *n : {"TMA", "TMAW", "TMAK", "TMA64", "TMAK64", "TMAM", "TMAM64"})
    if (std::strcmp(e, n) == 0)
      return 1;
  return -1;
}

namespace {
// How the launch reads A (TmaParams::flat) and its row tiles: the flat matrix, im2col or boxes.
struct AMode {
  int kind = 0; // TmaParams::flat
  int64_t rowTiles = 0;
  Box box;
  Im2colBox im2col;
};
// Im2col reads every row of the tile, but its copies are slower than a box's on wide rows (H200,
// fp16: vgg16 conv1_2 and conv2_2, rows of 224 and 112 pixels, 0.93-0.94x), so it is chosen where the
// boxes leave enough rows idle to cost whole waves and their rows are narrow: 1.1-1.3x on vgg16
// conv3_2 / conv4_2 (56 and 28 pixels), 1.65-2x on alexnet's 13x13 (v9, docs/perf_notes.md). Equal
// waves keep the boxes (batch 1 and 8: the im2col copies ran ~5% slower there). Where the tiles take
// more than a wave and the output is packed, im2col's flat rows let the launch be persistent (runTma),
// which outweighs the slower copies: vgg16 conv1_2 / conv2_2 1.4x, resnet50 res3_3x3 1.35x, vgg16
// conv5_2 and alexnet conv2 1.1x (H200, fp16 / bf16, batch 64, v11).
AMode aModeOf(const ConvGeom &g, const View &v, const TmaShape &t) {
  AMode m;
  const int64_t pixels = g.N * v.outH * v.outW, cols = ceilDiv(v.NC, t.bn);
  if (flatOk(g, v)) {
    m.kind = 1, m.rowTiles = ceilDiv(pixels, t.bm);
    return m;
  }
  m.box = chooseBox(g.N, v.outH, v.outW, t.bm, int(g.str[1]), int(g.str[2]));
  m.rowTiles = m.box.tiles;
  const int forcing = im2colForcing();
  if (forcing == 0 || !im2colOf(g, v, m.im2col))
    return m;
  const int64_t tiles = ceilDiv(pixels, t.bm);
  const auto waves = [&](int64_t rowTiles) { return std::ceil(double(rowTiles * cols) / kPlanSMs); };
  const bool persistent = persistForcing() != 0 && outputPacked(v) && tiles * cols > kPlanSMs;
  if (forcing == 1 || persistent || (m.box.BW < 64 && waves(tiles) * 1.04 < waves(m.box.tiles)))
    m.kind = 2, m.rowTiles = tiles;
  return m;
}

// LAMINA_TC_TILE names one TMA tile for measuring and testing: TMAW (256 x 128 or 256 x 64, 32 deep),
// TMAK (128 x 256), TMA64 (256 x 128, 128-byte slices), TMAK64 (128 x 256, 128-byte slices), TMAM
// (128 x 128), TMAM64 (128 x 128, 128-byte slices); TMA and unset: the rule.
TmaTile tmaTile(const ConvGeom &g, const View &v) {
  const char *e = std::getenv("LAMINA_TC_TILE");
  const auto is = [e](const char *n) { return e && std::strcmp(e, n) == 0; };
  const TmaTile narrow = v.NC <= 64 ? TmaTile::WN : TmaTile::W;
  if (is("TMAW"))
    return narrow;
  if (is("TMAK"))
    return TmaTile::WK;
  if (is("TMA64"))
    return TmaTile::W64;
  if (is("TMAK64"))
    return TmaTile::WK64;
  if (is("TMAM"))
    return TmaTile::WM;
  if (is("TMAM64"))
    return TmaTile::WM64;
  // The rule, from the H200 sandbox: 128 x 256 for output channels in whole 256-column tiles with a
  // long reduction (vgg16 conv4_2 1.23x, conv3_2 1.02x; alexnet conv2's 96 channels 0.8x); 64-deep
  // slices where the channels fill them (vgg16 conv3_2 1.07x, resnet50 res3 3x3 1.09x, res4 1x1 1.05x).
  // The 128 x 256 tiles for K-major filters only: the MN-major backward-data's are tested (TMAK,
  // TMAK64) but not yet timed; its 64-deep slices (8 KB filter blocks of 64 k x 64 c) are (v9).
  // The same rule in bytes for float (TF32: 32-channel slices), measured on fp16 only.
  const int per = 64 * 2 / v.esize; // channels of a 128-byte slice
  const bool deep = v.RC % per == 0, wide = v.bK && v.NC % 256 == 0 && v.RC * v.esize >= 512;
  const TmaTile rule = wide ? (deep ? TmaTile::WK64 : TmaTile::WK) : deep && v.NC > 64 ? TmaTile::W64 : narrow;
  // Where 128 x 128 tiles (twice the blocks of 256 x 128 or 128 x 256) still fit one wave, they halve
  // each block's work: batch 1 and 8 (16-bit, H200, v15: 3x3 layers under a wave ran 0.5-0.6x of cuDNN
  // on 25-50 blocks of the larger tiles, split-K's partials and second launch on top).
  if (rule == TmaTile::WN || (e && !is("TMA")))
    return rule;
  const TmaTile half = shapeOf(rule).rowBytes == 128 ? TmaTile::WM64 : TmaTile::WM;
  return aModeOf(g, v, shapeOf(half)).rowTiles * ceilDiv(v.NC, TileWM::BN) <= kPlanSMs ? half : rule;
}

// Blocks of the launch: row tiles (boxes of output pixels, or BM-row slices of the N*P*Q rows) x
// column tiles.
int64_t tmaBlocks(const ConvGeom &g, const View &v) {
  const TmaShape t = shapeOf(tmaTile(g, v));
  return aModeOf(g, v, t).rowTiles * ceilDiv(v.NC, t.bn);
}

} // namespace

std::string whyNotTmaDevice(const ConvProblem &p) {
  if (p.dataType != LAMINA_DATA_HALF && p.dataType != LAMINA_DATA_BFLOAT16 && p.dataType != LAMINA_DATA_FLOAT)
    return "TMA path: half, bfloat16 or float (TF32) only";
  if (p.math != LAMINA_TENSOR_OP_MATH)
    return "TMA path: needs TENSOR_OP math";
  if (!wgmmaReady() || (!encodeTiled() && !planningAssumesHopper()))
    return "TMA path: needs the sm_90a kernels and the driver's tensor-map encoder";
  return {};
}

std::string whyNotTma(const ConvProblem &p, Dir dir) {
  if (std::string why = whyNotTmaDevice(p); !why.empty())
    return why;
  const ConvGeom g = makeConvGeom(p);
  const View v = viewOf(g, dir, p.dataType);
  const int64_t epc = 16 / v.esize; // elements per 16-byte chunk
  // Forward strides up to 8 (TMA's element strides); backward-data stride 1 (strided: phases, later).
  const int64_t maxStr = dir == Dir::Forward ? 8 : 1;
  if (g.G != 1 || p.spatialDims != 2 || g.str[1] > maxStr || g.str[2] > maxStr)
    return "TMA path: ungrouped 2-D convolutions with stride 1 (forward: up to 8)";
  // The filter: channels (forward) contiguous; backward-data: k contiguous (K-major) or, 16-bit, c.
  const bool wOk = v.bwd ? (g.ws[0] == 1 || (g.ws[1] == 1 && v.esize == 2)) : g.ws[1] == 1;
  if (v.ss[1] != 1 || !wOk || g.C % epc != 0 || g.K % epc != 0)
    return v.esize == 2 ? "TMA path: channels contiguous, a multiple of 8"
                        : "TMA path: channels contiguous (backward-data: the filter's k), a multiple of 4";
  // Strides of W, H, N (slots 2, 1 of ConvGeom's right-aligned spatial dims) and of the filter's S, R
  // and outer channel, in whole 16-byte chunks.
  const int64_t ssTail[3] = {v.ss[4], v.ss[3], v.ss[0]},
                wsTail[3] = {g.ws[4], g.ws[3], v.bK && v.bwd ? g.ws[1] : g.ws[0]};
  for (int i = 0; i < 3; ++i)
    if (ssTail[i] <= 0 || ssTail[i] % epc != 0 || wsTail[i] <= 0 || wsTail[i] % epc != 0 ||
        ssTail[i] >= (int64_t(1) << 38) || wsTail[i] >= (int64_t(1) << 38))
      return "TMA path: positive strides of whole 16-byte chunks below 2^39 bytes (cross-correlation, NHWC-style)";
  if (g.N * g.I >= INT32_MAX / 2 || g.N * g.P >= INT32_MAX / 2 || g.in[1] > INT32_MAX / 4 || g.in[2] > INT32_MAX / 4 ||
      g.K > INT32_MAX / 2 || g.C > INT32_MAX / 2 || g.filt[1] * g.dil[1] > 65535 || g.filt[2] * g.dil[2] > 65535 ||
      g.pad[1] > 65535 || g.pad[2] > 65535 || g.F * ceilDiv(v.RC, 16) > INT32_MAX / 2)
    return "TMA path: sizes beyond its 32-bit coordinates";
  if (tmaBlocks(g, v) >= INT32_MAX / 8) // split-K multiplies the blocks by up to 8
    return "TMA path: sizes beyond its grid";
  return {};
}

namespace {
// The launch: output tiles, and the split of their slices over blocks (split-K, kSplitK only: when
// the tiles leave SMs idle, e.g. resnet50 res5's 7x7 images in 52 tiles of 256 x 128).
struct TmaPlan {
  int64_t tiles = 0;
  int iters = 0, splits = 1, itersPerSplit = 0;
  double ms = 0;           // the model's time
  bool persistent = false; // runTma launches it persistent (where beta = 0 and the output is aligned)
};
// Split-K partials up to this size count as staying in L2 (the H200's is 50 MB; the partials share it
// with the operands).
constexpr double kL2PartialBytes = 32e6;
TmaPlan tmaPlanFresh(const ConvProblem &p, Dir dir, unsigned flags) {
  const ConvGeom g = makeConvGeom(p);
  const View v = viewOf(g, dir, p.dataType);
  const TmaShape t = shapeOf(tmaTile(g, v));
  TmaPlan pl;
  pl.tiles = tmaBlocks(g, v);
  const int depth = t.depth(v.esize);
  pl.iters = int(g.F * ceilDiv(v.RC, depth));
  pl.itersPerSplit = pl.iters;
  // 800 against the cp.async tiles' 600: the ratio measured on the H200 (TMA 1.25-1.55x TileL on six
  // layers, bench/sandbox), the scale the other paths' models share. TF32 wgmma: half the rate.
  const double rate = v.esize == 4 ? 400e9 : 800e9;
  const double bytes = double(p.x.numel() + p.w.numel() + p.y.numel()) * v.esize;
  const double outElems = double(g.N) * v.outH * v.outW * v.NC;
  pl.ms = INFINITY;
  // As recipeFresh and runTma decide: flat rows, packed output, more tiles than SMs, unpaired, one split.
  const bool canPersist =
      persistForcing() != 0 && aModeOf(g, v, t).kind >= 1 && outputPacked(v) && !tmaClusters() && pl.tiles > kPlanSMs;
  const int maxSplits = (flags & kSplitK) ? int(std::min<int64_t>(8, pl.iters / 8)) : 1;
  // LAMINA_TC_TMA_SPLITS=S (measuring only): the one split S, where the plan allows that many.
  const char *forced = std::getenv("LAMINA_TC_TMA_SPLITS");
  const int only = forced && std::atoi(forced) > 0 ? std::clamp(std::atoi(forced), 1, std::max(1, maxSplits)) : 0;
  for (int s = only ? only : 1; s <= (only ? only : std::max(1, maxSplits)); ++s) {
    const int ips = int(ceilDiv(pl.iters, s));
    if (!only && s > 1 && ceilDiv(pl.iters, ips) != s)
      continue; // the same split as a smaller s
    const double waves = std::ceil(double(pl.tiles * s) / kPlanSMs);
    const double blockFlops = 2.0 * t.bm * t.bn * double(ips) * depth;
    // Partials written and read back (fp32), plus the reduction's launch. Where they fit in L2 (H200,
    // v18: fp16 at batch 8, 128 x 128 tiles, splits 1/2/4/8: res4_3x3 0.022/-/0.016/-, res5_3x3
    // 0.038/0.026/0.018/0.014 ms) a split cost ~2 us plus the partials at ~9 TB/s; v17's 2.5 TB/s and
    // 4 us kept res4_3x3 on one split.
    const double partialBytes = double(s) * outElems * 4.0;
    const bool inL2 = partialBytes <= kL2PartialBytes;
    const double splitMs = s > 1 ? 2.0 * partialBytes / (inL2 ? 9e9 : 2.5e9) + (inL2 ? 0.002 : 0.004) : 0.0;
    // 8 us fixed: the launch and the host's tensor-map encoding, which the GPU waits for on small
    // problems. fp16 batch 1 on the H200 (v8): 1x1 layers where both paths do the same work ran TMA
    // 0.0106 / cp.async 0.0064 ms (res2_1x1b), 0.0114 / 0.0079 (res3_proj), 0.0137 / 0.0100 (res5_1x1).
    // Persistent launches overlap a tile's loads and stores with the others' math: the longer of the
    // two (H200, v11: vgg16 conv3_2 fp16 0.317 ms measured, 0.307 this way, 0.341 summed; resnet50
    // res2_1x1b 0.040 / 0.051 / 0.059 at batch 64, 0.0092 / 0.0134 / 0.0148 at batch 8).
    const double mathMs = waves * blockFlops / (rate / kPlanSMs), memMs = bytes / 3.0e9;
    const bool persistent = canPersist && s == 1;
    const double ms = 0.008 + (persistent ? std::max(mathMs, memMs) : mathMs + memMs) + splitMs;
    if (ms < pl.ms * 0.97)
      pl.ms = ms, pl.splits = int(ceilDiv(pl.iters, ips)), pl.itersPerSplit = ips, pl.persistent = persistent;
  }
  return pl;
}
// tmaPlanFresh, memoised (the model runs per call otherwise; plan_memo.h).
TmaPlan tmaPlan(const ConvProblem &p, Dir dir, unsigned flags) {
  static PlanMemo<TmaPlan> memo;
  return memo.get(planKey(p, dir, flags), [&] { return tmaPlanFresh(p, dir, flags); });
}
} // namespace

double tmaEstimateMs(const ConvProblem &p, Dir dir, unsigned flags) { return tmaPlan(p, dir, flags).ms; }
bool tmaPersistent(const ConvProblem &p, Dir dir, unsigned flags) { return tmaPlan(p, dir, flags).persistent; }

namespace {
// The split partials' bytes (and alignment slack) of a plan.
size_t splitBytes(const ConvGeom &g, const View &v, const TmaPlan &pl) {
  if (pl.splits == 1)
    return 0;
  return size_t(pl.splits) * size_t(g.N) * size_t(v.outH) * size_t(v.outW) * size_t(v.NC) * 4 + 256;
}
} // namespace

size_t tmaWorkspace(const ConvProblem &p, Dir dir, unsigned flags) {
  const ConvGeom g = makeConvGeom(p);
  return splitBytes(g, viewOf(g, dir, p.dataType), tmaPlan(p, dir, flags));
}

namespace {
#ifdef LAMINA_TC_TRACE
// Prints the launch's gTmaTrace rows (diagnostics builds only; synchronizes the device).
void traceDump(int items, int slices, int splits, int blocks) {
  std::vector<long long> t(size_t(6) * size_t(items));
  if (cudaDeviceSynchronize() != cudaSuccess ||
      cudaMemcpyFromSymbol(t.data(), gTmaTrace, t.size() * sizeof(long long)) != cudaSuccess)
    return;
  long long g0 = t[0];
  for (int i = 0; i < items; ++i)
    g0 = std::min(g0, t[6 * size_t(i)]);
  for (int i = 0; i < items; ++i) {
    const long long *r = &t[6 * size_t(i)];
    std::printf("TMATRACE blocks %d item %d sm %lld start_ns %lld to_item %lld first %lld loop %lld epi %lld "
                "slices %d splits %d\n",
                blocks, i, r[1], r[0] - g0, r[2], r[3], r[4], r[5], slices, splits);
  }
}
#endif
// A tensor map's arguments but the address.
struct MapSpec {
  bool im2col = false;
  cuuint32_t rank = 0;
  cuuint64_t dims[4]{};
  cuuint64_t strides[3]{};
  cuuint32_t box[4]{}, es[4]{}; // im2col: box[0] channels, box[1] pixels
  int lowerWH[2]{}, upperWH[2]{};
  CUtensorMapSwizzle swizzle = CU_TENSOR_MAP_SWIZZLE_NONE;
};

CUresult encodeMap(CUtensorMap *map, CUtensorMapDataType dt, const MapSpec &m, const void *base) {
  void *ptr = const_cast<void *>(base);
  if (m.im2col)
    return encodeIm2col()(map, dt, m.rank, ptr, m.dims, m.strides, m.lowerWH, m.upperWH, m.box[0], m.box[1], m.es,
                          CU_TENSOR_MAP_INTERLEAVE_NONE, m.swizzle, CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
                          CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  return encodeTiled()(map, dt, m.rank, ptr, m.dims, m.strides, m.box, m.es, CU_TENSOR_MAP_INTERLEAVE_NONE, m.swizzle,
                       CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
}

// Everything of a launch that follows from the problem (memoised: ~1 us of host work per call
// otherwise); a run adds the pointers, alpha and beta, and encodes the two tensor maps.
struct TmaRecipe {
  TmaPlan plan;
  size_t splitBytes = 0;
  TmaParams prm{};                 // but y, partial, alpha, beta, vec2, vec8
  bool vec2 = false, vec8 = false; // as the strides allow (the output pointer's alignment at run time)
  bool bwd = false;
  int64_t wOff = 0; // bytes
  CUtensorMapDataType dt = CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
  MapSpec x, w;
  // The output as a [pixels][channels] map for the TMA-store epilogue (persistent launches), where the
  // rows are flat and the pixels packed (persist).
  MapSpec y;
  bool persist = false;
  TmaTile tile = TmaTile::W;
  bool mn = false; // B read MN-major
  int cl = 1;      // CTAs per cluster
  int64_t blocks = 0, reduceItems = 0;
};

std::shared_ptr<const TmaRecipe> recipeFresh(const ConvProblem &p, Dir dir, unsigned flags) {
  auto r = std::make_shared<TmaRecipe>();
  const ConvGeom g = makeConvGeom(p);
  const View v = viewOf(g, dir, p.dataType);
  const TmaPlan plan = tmaPlan(p, dir, flags);
  r->plan = plan;
  r->splitBytes = splitBytes(g, v, plan);
  r->bwd = v.bwd;
  const int es = v.esize;
  r->wOff = g.wOff * es;
  r->dt = p.dataType == LAMINA_DATA_HALF       ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
          : p.dataType == LAMINA_DATA_BFLOAT16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                               : CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
  const TmaTile tile = tmaTile(g, v);
  r->tile = tile;
  const TmaShape shape = shapeOf(tile);
  const AMode am = aModeOf(g, v, shape);
  const bool flat = am.kind == 1;
  const int bm = shape.bm, bn = shape.bn;
  TmaParams &prm = r->prm;
  prm.flat = flat;
  prm.N = int(g.N), prm.P = int(v.outH), prm.Q = int(v.outW), prm.K = int(v.NC);
  prm.S = int(g.filt[2]);
  const int chunk = shape.depth(es); // reduction channels per slice
  const bool deep = shape.rowBytes == 128;
  const CUtensorMapSwizzle kSwizzle = deep ? CU_TENSOR_MAP_SWIZZLE_128B : CU_TENSOR_MAP_SWIZZLE_64B;
  prm.kChunks = int(ceilDiv(v.RC, chunk));
  prm.iters = int(g.F) * prm.kChunks;
  prm.splits = plan.splits, prm.itersPerSplit = plan.itersPerSplit;
  for (int i = 0; i < 2; ++i) { // h, w
    const int pad = int(g.pad[1 + i]), dil = int(g.dil[1 + i]);
    prm.str[i] = int(g.str[1 + i]), prm.base[i] = v.bwd ? pad : -pad, prm.tapMul[i] = v.bwd ? -dil : dil;
  }
  prm.ys[0] = v.os[0], prm.ys[1] = v.os[1], prm.ys[2] = v.os[3], prm.ys[3] = v.os[4];
  r->vec2 = v.os[1] == 1;
  // 8-value chunks of whole 16-byte pieces (float: two), every pixel's row aligned to one.
  const int64_t epc = 16 / es;
  r->vec8 = v.os[1] == 1 && v.os[0] % epc == 0 && v.os[3] % epc == 0 && v.os[4] % epc == 0 && v.NC % 8 == 0;

  // Pairs of neighbouring column tiles (the same A box) load half of it each and multicast it, when
  // the box halves evenly at a swizzle-atom boundary (8 rows of 64 bytes).
  const bool pairs = tile == TmaTile::W && ceilDiv(v.NC, bn) % 2 == 0 && tmaClusters();
  int cl = 1;
  MapSpec &mx = r->x;
  mx.swizzle = kSwizzle;
  if (am.kind == 2) {
    const Im2colBox &ib = am.im2col;
    // Rows over the N*P*Q output pixels as in the flat case, each tap's A slice one im2col copy.
    prm.flat = 2;
    prm.BW = bm, prm.BH = 1, prm.NB = 1, prm.tilesQ = int(ceilDiv(g.N * v.outH * v.outW, bm)), prm.tilesP = 1;
    prm.tilesN = 1;
    for (int i = 0; i < 2; ++i)
      prm.lower[i] = ib.lower[i], prm.offBase[i] = ib.offBase[i];
    mx.im2col = true, mx.rank = 4;
    const cuuint64_t dims[4] = {cuuint64_t(v.RC), cuuint64_t(v.srcW), cuuint64_t(v.srcH), cuuint64_t(g.N)};
    const cuuint64_t strides[3] = {cuuint64_t(v.ss[4] * es), cuuint64_t(v.ss[3] * es), cuuint64_t(v.ss[0] * es)};
    std::copy(dims, dims + 4, mx.dims), std::copy(strides, strides + 3, mx.strides);
    // Corners innermost first (w, h), as the map's dims.
    mx.lowerWH[0] = ib.lower[1], mx.lowerWH[1] = ib.lower[0], mx.upperWH[0] = ib.upper[1], mx.upperWH[1] = ib.upper[0];
    mx.box[0] = cuuint32_t(chunk), mx.box[1] = cuuint32_t(bm);
    mx.es[0] = 1, mx.es[1] = cuuint32_t(prm.str[1]), mx.es[2] = cuuint32_t(prm.str[0]), mx.es[3] = 1;
  } else if (flat) {
    const int64_t M = g.N * v.srcH * v.srcW; // == the output pixels (1x1, stride 1, no padding)
    prm.BW = bm, prm.BH = 1, prm.NB = 1, prm.tilesQ = int(ceilDiv(M, bm)), prm.tilesP = 1, prm.tilesN = 1;
    cl = pairs ? 2 : 1;
    prm.halfRows = bm / 2, prm.halfAxis = 0;
    mx.rank = 2;
    mx.dims[0] = cuuint64_t(v.RC), mx.dims[1] = cuuint64_t(M);
    mx.strides[0] = cuuint64_t(v.ss[4] * es);
    mx.box[0] = cuuint32_t(chunk), mx.box[1] = cuuint32_t(bm / cl), mx.es[0] = mx.es[1] = 1;
  } else {
    const Box &bx = am.box;
    prm.BW = bx.BW, prm.BH = bx.BH, prm.NB = bx.NB;
    prm.tilesQ = int(ceilDiv(v.outW, bx.BW)), prm.tilesP = int(ceilDiv(v.outH, bx.BH));
    prm.tilesN = int(ceilDiv(g.N, bx.NB));
    const int rows = bx.BW * bx.BH * bx.NB;
    prm.halfAxis = bx.NB % 2 == 0 ? 1 : 2;
    cl = pairs && (rows / 2) % 8 == 0 && (bx.NB % 2 == 0 || (bx.NB == 1 && bx.BH % 2 == 0)) ? 2 : 1;
    prm.halfRows = rows / 2;
    const int nb = cl == 2 && prm.halfAxis == 1 ? bx.NB / 2 : bx.NB,
              bh = cl == 2 && prm.halfAxis == 2 ? bx.BH / 2 : bx.BH;
    mx.rank = 4;
    const cuuint64_t dims[4] = {cuuint64_t(v.RC), cuuint64_t(v.srcW), cuuint64_t(v.srcH), cuuint64_t(g.N)};
    const cuuint64_t strides[3] = {cuuint64_t(v.ss[4] * es), cuuint64_t(v.ss[3] * es), cuuint64_t(v.ss[0] * es)};
    std::copy(dims, dims + 4, mx.dims), std::copy(strides, strides + 3, mx.strides);
    // Strided forward: a box of BW * str input columns read every str-th (TMA loads ceil(box / stride)).
    mx.box[0] = cuuint32_t(chunk), mx.box[1] = cuuint32_t(bx.BW * prm.str[1]), mx.box[2] = cuuint32_t(bh * prm.str[0]);
    mx.box[3] = cuuint32_t(nb);
    mx.es[0] = 1, mx.es[1] = cuuint32_t(prm.str[1]), mx.es[2] = cuuint32_t(prm.str[0]), mx.es[3] = 1;
  }
  r->cl = cl;
  // K-major: the filter as [output channel][R][S][reduction channel] (its own strides; forward: w's
  // [K][R][S][C], backward-data: [C][R][S][K]), boxes of `chunk` reduction channels x BN filters.
  // MN-major (16-bit backward-data): w's [K][R][S][C], boxes of 64 channels x 32 filters (128B swizzle).
  const bool mn = !v.bK;
  r->mn = mn;
  MapSpec &mw = r->w;
  mw.rank = 4;
  mw.dims[0] = cuuint64_t(mn ? g.C : v.RC), mw.dims[1] = cuuint64_t(g.filt[2]), mw.dims[2] = cuuint64_t(g.filt[1]);
  mw.dims[3] = cuuint64_t(mn ? g.K : v.NC);
  const int64_t outer = v.bwd && v.bK ? g.ws[1] : g.ws[0];
  mw.strides[0] = cuuint64_t(g.ws[4] * es), mw.strides[1] = cuuint64_t(g.ws[3] * es);
  mw.strides[2] = cuuint64_t(outer * es);
  if (mn)
    mw.box[0] = 64, mw.box[1] = 1, mw.box[2] = 1, mw.box[3] = cuuint32_t(chunk);
  else
    mw.box[0] = cuuint32_t(chunk), mw.box[1] = 1, mw.box[2] = 1, mw.box[3] = cuuint32_t(bn);
  mw.es[0] = mw.es[1] = mw.es[2] = mw.es[3] = 1;
  mw.swizzle = mn ? CU_TENSOR_MAP_SWIZZLE_128B : kSwizzle;
  r->blocks = int64_t(prm.tilesQ) * prm.tilesP * prm.tilesN * ceilDiv(v.NC, bn) * plan.splits;
  prm.items = int(r->blocks);
  // Persistent launches: flat rows (the tile's rows are consecutive pixels), one split, unpaired, and
  // the output's pixels packed rows of 16-byte multiples (a 2-D map over N*P*Q pixels).
  r->persist = prm.flat >= 1 && plan.splits == 1 && cl == 1 && outputPacked(v);
  if (r->persist) {
    const int64_t *os = v.os;
    MapSpec &my = r->y;
    my.rank = 2, my.swizzle = CU_TENSOR_MAP_SWIZZLE_128B;
    my.dims[0] = cuuint64_t(v.NC), my.dims[1] = cuuint64_t(g.N * v.outH * v.outW);
    my.strides[0] = cuuint64_t(os[4] * es);
    my.box[0] = cuuint32_t(128 / es), my.box[1] = 64, my.es[0] = my.es[1] = 1;
  }
  r->reduceItems = int64_t(g.N) * v.outH * v.outW * v.NC;
  return r;
}

std::shared_ptr<const TmaRecipe> recipeFor(const ConvProblem &p, Dir dir, unsigned flags) {
  static PlanMemo<std::shared_ptr<const TmaRecipe>> memo;
  return memo.get(planKey(p, dir, flags), [&] { return recipeFresh(p, dir, flags); });
}
} // namespace

bool runTma(const ConvArgs &a, Dir dir, unsigned flags) {
  const std::shared_ptr<const TmaRecipe> rp = recipeFor(*a.p, dir, flags);
  const TmaRecipe &r = *rp;
  if (a.workspaceBytes < r.splitBytes)
    return false;
  const void *src = r.bwd ? a.dy : a.x;
  void *out = r.bwd ? a.dx : a.y;
  const void *w = static_cast<const char *>(a.w) + r.wOff;
  if (!aligned16(src) || !aligned16(w))
    return false;
  TmaParams prm = r.prm;
  if (r.plan.splits > 1) {
    prm.partial = reinterpret_cast<float *>(alignedWorkspace(a.workspace));
    const CudaState &cs = stateOf(*a.handle);
    prm.counters =
        r.blocks / r.plan.splits <= int64_t(cs.splitCounterCount) && splitFused() ? cs.splitCounters : nullptr;
  }
  prm.y = out;
  prm.alpha = float(a.alpha), prm.beta = float(a.beta);
  prm.vec2 = r.vec2 && (reinterpret_cast<uintptr_t>(out) & 3) == 0;
  prm.vec8 = r.vec8 && aligned16(out);
  CUtensorMap mapX, mapW, mapY;
  if (encodeMap(&mapX, r.dt, r.x, src) != CUDA_SUCCESS || encodeMap(&mapW, r.dt, r.w, w) != CUDA_SUCCESS)
    return false; // the caller's general path runs instead
  if (r.blocks == 0)
    return true;
  // Persistent: one block per SM taking the tiles in turn, the epilogue by TMA stores (beta = 0 only:
  // the stores do not read the old output).
  int64_t blocks = r.blocks;
  const int forcing = persistForcing();
  const int64_t persistBlocks = forcing > 0 ? forcing : stateOf(*a.handle).smCount;
  if (r.persist && forcing != 0 && prm.beta == 0.f && aligned16(out) && persistBlocks > 0 && persistBlocks < blocks &&
      encodeMap(&mapY, r.dt, r.y, out) == CUDA_SUCCESS) {
    blocks = persistBlocks;
    prm.tmaStore = 1;
  } else {
    std::memset(&mapY, 0, sizeof mapY); // not read
    prm.tmaStore = 0;
  }
  const int cl = r.cl;
  const cudaStream_t stream = streamOf(*a.handle);
  auto launch = [&](auto tag, auto cfg, auto bwd) {
    using T = typename decltype(tag)::type;
    using Cfg = decltype(cfg);
    constexpr bool B = decltype(bwd)::value; // B read MN-major (the 16-bit backward-data's own filter)
    if constexpr (sizeof(T) == 4 && B) {
      ::lamina::fail(LAMINA_STATUS_INTERNAL_ERROR, "TMA path: float planned with an MN-major filter");
    } else if constexpr (Cfg::ROW_BYTES != kRowBytes) { // the deep tiles: unpaired
      convTmaKernel<T, Cfg, B, 1>
          <<<unsigned(blocks), Cfg::THREADS, tmaSmemBytes<Cfg>(), stream>>>(mapX, mapW, mapY, prm);
      LAMINA_CUDA_LAUNCHED();
    } else {
      if constexpr (std::is_same_v<Cfg, TileW>) { // only TileW pairs (clusters are opt-in, for measuring)
        if (cl == 2) {
          LAMINA_CUDA_CALL(launchClustered(convTmaKernel<T, Cfg, B, 2>, unsigned(blocks), Cfg::THREADS,
                                           tmaSmemBytes<Cfg>(), stream, 2, mapX, mapW, mapY, prm));
          return;
        }
      }
      convTmaKernel<T, Cfg, B, 1>
          <<<unsigned(blocks), Cfg::THREADS, tmaSmemBytes<Cfg>(), stream>>>(mapX, mapW, mapY, prm);
      LAMINA_CUDA_LAUNCHED();
    }
  };
  auto withDir = [&](auto tag, auto cfg) {
    r.mn ? launch(tag, cfg, std::true_type{}) : launch(tag, cfg, std::false_type{});
  };
  auto withCfg = [&](auto tag) {
    switch (r.tile) {
    case TmaTile::WN: return withDir(tag, TileWN{});
    case TmaTile::WK: return withDir(tag, TileWK{});
    case TmaTile::W64: return withDir(tag, TileW64{});
    case TmaTile::WK64: return withDir(tag, TileWK64{});
    case TmaTile::WM: return withDir(tag, TileWM{});
    case TmaTile::WM64: return withDir(tag, TileWM64{});
    default: return withDir(tag, TileW{});
    }
  };
  auto withType = [&](auto tag) {
    using T = typename decltype(tag)::type;
    withCfg(tag);
#ifdef LAMINA_TC_TRACE
    traceDump(int(std::min<int64_t>(prm.items, kTraceItems)), prm.itersPerSplit, prm.splits, int(blocks));
#endif
    if (r.plan.splits > 1 && !prm.counters) {
      reduceTmaSplits<T><<<gridFor(r.reduceItems), kBlock, 0, stream>>>(prm);
      LAMINA_CUDA_LAUNCHED();
    }
  };
  if (r.dt == CU_TENSOR_MAP_DATA_TYPE_FLOAT16)
    withType(TypeTag<__half>{});
  else if (r.dt == CU_TENSOR_MAP_DATA_TYPE_BFLOAT16)
    withType(TypeTag<__nv_bfloat16>{});
  else
    withType(TypeTag<float>{});
  return true;
}

namespace {
template <class T, class Cfg, bool BWD, int CL> void preloadOne() {
  LAMINA_CUDA_CALL(cudaFuncSetAttribute(convTmaKernel<T, Cfg, BWD, CL>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        tmaSmemBytes<Cfg>()));
}
template <class T> void preloadT() {
  preloadOne<T, TileW, false, 1>(), preloadOne<T, TileWN, false, 1>(), preloadOne<T, TileWK, false, 1>(),
      preloadOne<T, TileW64, false, 1>(), preloadOne<T, TileWK64, false, 1>(), preloadOne<T, TileW, false, 2>(),
      preloadOne<T, TileWM, false, 1>(), preloadOne<T, TileWM64, false, 1>();
  if constexpr (sizeof(T) == 2) // MN-major B: 16-bit only
    preloadOne<T, TileW, true, 1>(), preloadOne<T, TileWN, true, 1>(), preloadOne<T, TileWK, true, 1>(),
        preloadOne<T, TileW, true, 2>(), preloadOne<T, TileW64, true, 1>(), preloadOne<T, TileWK64, true, 1>(),
        preloadOne<T, TileWM, true, 1>(), preloadOne<T, TileWM64, true, 1>();
  cudaFuncAttributes attr;
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, reduceTmaSplits<T>));
}
} // namespace

void preloadTmaKernels() {
  preloadT<__half>();
  preloadT<__nv_bfloat16>();
  preloadT<float>();
  encodeTiled(); // resolve the driver entry points now, not on the first call
  encodeIm2col();
}

} // namespace lamina::cuda::tc
