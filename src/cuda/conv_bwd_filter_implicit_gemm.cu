// Backward-filter IMPLICIT_GEMM on the GPU (the general kernel needs no workspace unless split): per
// group, dw[k][col = (c, tap)] = sum over r = (n, o) of dy(n, k, o) * x(n, c, o*stride - pad +
// tap*dil) (0 in the padding). dy is gathered into the shared A tile, the im2col view of x into the
// B tile (conv_bwd_common.cuh).
// One block owns a dw tile and reduces over all N * outSpatial itself (deterministic). Slow when
// N * outSpatial is large and dw has few 64x64 tiles (few blocks busy: lenet.conv1 at batch 64 6.9 ms,
// one tile reducing 36864 rows). The split form gives each block a chunk of the reduction, its partial
// tile to the workspace, and sums the chunks in order in a second kernel (deterministic too): H200,
// fp32, chunks of at least 1024 rows, lenet.conv1 at batch 64 6.9 -> 0.20 ms, resnet50.conv1 187 -> 2.6,
// alexnet.conv1 46 -> 2.5 (bench/sandbox/conv_bwd_filter_sandbox.cu, perf_notes v21).
#include "cuda/conv_algorithms.h"
#include "cuda/conv_bwd_common.cuh"
#include "cuda/conv_tc.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace lamina::cuda {
namespace {

using convbwd::Geom;

template <class T> struct BwdFilterGemm {
  using A = acc_t<T>;
  Geom g;
  const T *x;
  const T *dy;
  T *dw; // already offset by g.wOff
  A alpha, beta;
  int64_t M, Ncols, R, G; // M = Kg, Ncols = Cg * F, R = N * P

  struct Row { // an output channel: dy's channel offset
    int64_t dyK;
  };
  struct Col { // (c, tap): x's channel offset, input offset of the tap per dim (f*dil - pad)
    int64_t xC;
    int base[3];
  };
  struct Red { // (n, o): dy's offset, x's image offset, o*stride per dim
    int64_t dyOff, xN;
    int os[3];
  };
  struct OutRow {
    int64_t dwK;
  };

  __device__ void colIndex(int64_t col, int64_t &c, int f[3]) const {
    c = col / g.F;
    int tap = int(col - c * g.F); // F < 2^31 (whyNotGeom)
    f[2] = tap % g.filt[2];
    tap /= g.filt[2];
    f[1] = tap % g.filt[1];
    f[0] = tap / g.filt[1];
  }
  __device__ Row row(int64_t grp, int64_t k) const { return {(grp * g.Kg + k) * g.ys[1]}; }
  __device__ Col col(int64_t grp, int64_t colIdx) const {
    Col r;
    int64_t c;
    int f[3];
    colIndex(colIdx, c, f);
    r.xC = (grp * g.Cg + c) * g.xs[1];
    for (int d = 0; d < 3; ++d)
      r.base[d] = f[d] * g.dil[d] - g.pad[d];
    return r;
  }
  __device__ Red red(int64_t r) const {
    Red d;
    const int64_t n = r / g.P;
    int64_t s = r - n * g.P; // 64-bit: a 3-D output may pass 2^31 positions
    const int o2 = int(s % g.out[2]);
    s /= g.out[2];
    const int o1 = int(s % g.out[1]), o0 = int(s / g.out[1]);
    d.dyOff = n * g.ys[0] + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4];
    d.xN = n * g.xs[0];
    d.os[0] = o0 * g.str[0], d.os[1] = o1 * g.str[1], d.os[2] = o2 * g.str[2];
    return d;
  }
  __device__ A loadA(const Row &k, const Red &d) const { return toAcc(dy[k.dyK + d.dyOff]); }
  __device__ A loadB(const Col &c, const Red &d) const {
    const int i0 = d.os[0] + c.base[0], i1 = d.os[1] + c.base[1], i2 = d.os[2] + c.base[2];
    if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2])
      return A(0);
    return toAcc(x[c.xC + d.xN + i0 * g.xs[2] + i1 * g.xs[3] + i2 * g.xs[4]]);
  }
  __device__ OutRow outRow(int64_t grp, int64_t k) const { return {(grp * g.Kg + k) * g.ws[0]}; }
  __device__ void store(const OutRow &o, int64_t, int64_t colIdx, A v) const {
    int64_t c;
    int f[3];
    colIndex(colIdx, c, f);
    storeScaled(dw + o.dwK + c * g.ws[1] + f[0] * g.ws[2] + f[1] * g.ws[3] + f[2] * g.ws[4], v, alpha, beta);
  }
};

template <class T> BwdFilterGemm<T> makeGemm(const ConvArgs &a) {
  const ConvProblem &p = *a.p;
  BwdFilterGemm<T> prob;
  prob.g = convbwd::makeGeom(p);
  prob.x = static_cast<const T *>(a.x);
  prob.dy = static_cast<const T *>(a.dy);
  prob.dw = static_cast<T *>(a.dw) + prob.g.wOff;
  prob.alpha = acc_t<T>(a.alpha), prob.beta = acc_t<T>(a.beta);
  prob.M = p.Kg(), prob.Ncols = p.Cg() * p.filtSize(), prob.R = p.N * p.outSize(), prob.G = p.G;
  return prob;
}

// The reduction split of the general kernel: enough chunks for ~2 blocks an SM (264 on the H200's
// 132), each of at least LAMINA_CUDA_BF_SPLIT_ROWS rows (default 1024, rounded up to a multiple of 16;
// 0 or less: no split; the tests set 16 so their small problems split), none when the tiles alone fill the card (132 or
// more) or past 256 MiB of partials. The workspace holds the partials after the caller's pointer is rounded up to 256
// bytes.
struct SplitPlan {
  int64_t splits = 1, chunk = 0;
  size_t bytes = 0;
};
SplitPlan splitPlan(const ConvProblem &p) {
  static const int64_t minRows = [] {
    const char *e = std::getenv("LAMINA_CUDA_BF_SPLIT_ROWS");
    const int64_t rows = e ? std::atoll(e) : 1024;
    return rows > 0 ? std::max<int64_t>(rows, convbwd::kTileK) : 0;
  }();
  SplitPlan s;
  if (minRows == 0)
    return s;
  const double tiles = convbwd::gemmTiles(p.Kg(), p.Cg() * p.filtSize(), p.G);
  if (tiles >= 132)
    return s;
  const int64_t R = p.N * p.outSize(), want = int64_t(std::ceil(264.0 / tiles));
  const int64_t splits = std::min(want, R / minRows);
  if (splits < 2)
    return s;
  const int64_t k = convbwd::kTileK, chunk = ((R + splits - 1) / splits + k - 1) / k * k;
  const size_t acc = p.dataType == LAMINA_DATA_DOUBLE ? 8 : 4;
  s.splits = (R + chunk - 1) / chunk, s.chunk = chunk;
  s.bytes = size_t(s.splits) * size_t(p.G * p.Kg() * p.Cg() * p.filtSize()) * acc + 256;
  if (s.bytes > (size_t(256) << 20))
    s = SplitPlan{};
  return s;
}

template <class T> void runTyped(const ConvArgs &a) {
  convbwd::SplitR split;
  const SplitPlan s = splitPlan(*a.p);
  if (s.splits > 1 && a.workspace && a.workspaceBytes >= s.bytes)
    split.splits = s.splits, split.chunk = s.chunk, split.partial = alignedWorkspace(a.workspace);
  convbwd::launchTiledConvGemm<T>(makeGemm<T>(a), a.p->math == LAMINA_TENSOR_OP_MATH, streamOf(*a.handle), split);
}

// Half/bf16, or float as TF32, under TENSOR_OP: split-K mma.sync pipeline (conv_tc_bwd_filter.cu); else
// the general kernel.
void run(const ConvArgs &a) {
  if (tc::whyNotBwdFilter(*a.p).empty() && tc::runBwdFilter(a))
    return;
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, runTyped, a);
}

std::string whyNot(const ConvProblem &p) { return convbwd::whyNotGeom(p); }
// The tensor-core path's, or the general kernel's split partials.
size_t workspace(const ConvProblem &p) {
  if (tc::whyNotBwdFilter(p).empty())
    return tc::bwdFilterWorkspace(p);
  return splitPlan(p).bytes;
}
double estimate(const ConvProblem &p) {
  if (tc::whyNotBwdFilter(p).empty())
    return tc::bwdFilterEstimateMs(p);
  // As backward-data IMPLICIT_GEMM; with few dw tiles most SMs idle (one block per tile), unless the
  // reduction is split (a second launch and the partials' round trip). No faster than one block's walk
  // down its rows, ~0.2 us a row (H200, fp32: lenet.conv1 at batch 64 6.9 ms unsplit for 36864 rows,
  // 0.20 in chunks of 1024; resnet50.conv1 at batch 1 0.216 in chunks of 1056).
  const bool tc = p.math == LAMINA_TENSOR_OP_MATH && p.dataType != LAMINA_DATA_DOUBLE;
  const double rate = p.dataType == LAMINA_DATA_DOUBLE ? 1.5e9 : tc ? 8e9 : 4e9; // flop per ms
  const SplitPlan s = splitPlan(p);
  const double blocks = convbwd::gemmTiles(p.Kg(), p.Cg() * p.filtSize(), p.G) * double(s.splits);
  const double fill = std::min(1.0, blocks / 132.0);
  const double splitMs = s.splits > 1 ? 0.004 + 2.0 * double(s.bytes) / 2.5e9 : 0.0;
  const double rows = s.splits > 1 ? double(s.chunk) : double(p.N * p.outSize());
  return 0.01 + std::max(p.flops() / (rate * fill), rows * 2e-4) + splitMs;
}

template <class T> void preloadT() { convbwd::preloadTiledConvGemm<T, BwdFilterGemm<T>>(); }
} // namespace

void preloadConvBwdFilterImplicitGemm() { LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT); }

const ConvAlgorithm kConvBwdFilterImplicitGemm = {ConvDirection::BackwardFilter,
                                                  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM,
                                                  "IMPLICIT_GEMM",
                                                  LAMINA_DETERMINISTIC,
                                                  whyNot,
                                                  workspace,
                                                  estimate,
                                                  run};

} // namespace lamina::cuda
