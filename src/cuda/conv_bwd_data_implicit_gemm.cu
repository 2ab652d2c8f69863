// Backward-data IMPLICIT_GEMM on the GPU, no workspace: per group, dx[m = (n, i)][c] =
// sum over r = (k, tap) of dy(n, k, o(i, tap)) * w(k, c, tap): input position i receives from output
// position o = (i + pad - tap*dil) / stride when that is a non-negative multiple of the stride below
// out (else the term is 0).
// dy is gathered on the fly into the shared A tile, w into the B tile (conv_bwd_common.cuh).
#include "cuda/conv_algorithms.h"
#include "cuda/conv_bwd_common.cuh"
#include "cuda/conv_tc.h"

namespace lamina::cuda {
namespace {

using convbwd::Geom;
using convbwd::outFor;

template <class T> struct BwdDataGemm {
  using A = acc_t<T>;
  Geom g;
  const T *dy;
  const T *w; // already offset by g.wOff
  T *dx;
  A alpha, beta;
  int64_t M, Ncols, R, G; // M = N * I, Ncols = Cg, R = Kg * F

  struct Row { // a dx position: dy's image and group base, input coordinates
    int64_t dyBase;
    int i[3];
  };
  struct Col { // an input channel of the group: w's base
    int64_t wBase;
  };
  struct Red { // (k, tap): dy's channel offset, w's offset, dilated tap offsets
    int64_t dyK, wOff;
    int fd[3];
  };
  struct OutRow {
    int64_t dxBase;
  };

  __device__ void position(int64_t m, int64_t &n, int i[3]) const {
    n = m / g.I;
    int64_t s = m - n * g.I; // 64-bit: a 3-D image may pass 2^31 positions
    i[2] = int(s % g.in[2]);
    s /= g.in[2];
    i[1] = int(s % g.in[1]);
    i[0] = int(s / g.in[1]);
  }
  __device__ Row row(int64_t grp, int64_t m) const {
    Row r;
    int64_t n;
    position(m, n, r.i);
    r.dyBase = n * g.ys[0] + grp * g.Kg * g.ys[1];
    return r;
  }
  __device__ Col col(int64_t grp, int64_t c) const { return {grp * g.Kg * g.ws[0] + c * g.ws[1]}; }
  __device__ Red red(int64_t r) const {
    Red d;
    const int64_t k = r / g.F;
    int tap = int(r - k * g.F); // F < 2^31 (whyNotGeom)
    const int f2 = tap % g.filt[2];
    tap /= g.filt[2];
    const int f1 = tap % g.filt[1], f0 = tap / g.filt[1];
    d.dyK = k * g.ys[1];
    d.wOff = k * g.ws[0] + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4];
    d.fd[0] = f0 * g.dil[0], d.fd[1] = f1 * g.dil[1], d.fd[2] = f2 * g.dil[2];
    return d;
  }
  __device__ A loadA(const Row &r, const Red &d) const {
    const int o0 = outFor(r.i[0], g.pad[0], d.fd[0], g.str[0], g.out[0]);
    const int o1 = outFor(r.i[1], g.pad[1], d.fd[1], g.str[1], g.out[1]);
    const int o2 = outFor(r.i[2], g.pad[2], d.fd[2], g.str[2], g.out[2]);
    if (o0 < 0 || o1 < 0 || o2 < 0)
      return A(0);
    return toAcc(dy[r.dyBase + d.dyK + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4]]);
  }
  __device__ A loadB(const Col &c, const Red &d) const { return toAcc(w[c.wBase + d.wOff]); }
  __device__ OutRow outRow(int64_t grp, int64_t m) const {
    int64_t n;
    int i[3];
    position(m, n, i);
    return {n * g.xs[0] + grp * g.Cg * g.xs[1] + i[0] * g.xs[2] + i[1] * g.xs[3] + i[2] * g.xs[4]};
  }
  __device__ void store(const OutRow &o, int64_t, int64_t c, A v) const {
    storeScaled(dx + o.dxBase + c * g.xs[1], v, alpha, beta);
  }
};

template <class T> BwdDataGemm<T> makeGemm(const ConvArgs &a) {
  const ConvProblem &p = *a.p;
  BwdDataGemm<T> prob;
  prob.g = convbwd::makeGeom(p);
  prob.dy = static_cast<const T *>(a.dy);
  prob.w = static_cast<const T *>(a.w) + prob.g.wOff;
  prob.dx = static_cast<T *>(a.dx);
  prob.alpha = acc_t<T>(a.alpha), prob.beta = acc_t<T>(a.beta);
  prob.M = p.N * p.inSize(), prob.Ncols = p.Cg(), prob.R = p.Kg() * p.filtSize(), prob.G = p.G;
  return prob;
}

template <class T> void runTyped(const ConvArgs &a) {
  convbwd::launchTiledConvGemm<T>(makeGemm<T>(a), a.p->math == LAMINA_TENSOR_OP_MATH, streamOf(*a.handle));
}

// Half/bf16, or float as TF32, under TENSOR_OP: the phase-split mma.sync pipeline (conv_tc_fwd.cu); else
// the general kernel.
void run(const ConvArgs &a) {
  if (tc::runConv(a, tc::Dir::BackwardData, tc::kStage | tc::kSplitK))
    return;
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, runTyped, a);
}

std::string whyNot(const ConvProblem &p) { return convbwd::whyNotGeom(p); }
// The tensor-core path may stage operands (channels padded to 16 bytes) in the workspace; the general
// kernel needs none.
size_t workspace(const ConvProblem &p) { return tc::convWorkspace(p, tc::Dir::BackwardData, tc::kStage | tc::kSplitK); }
double estimate(const ConvProblem &p) {
  if (tc::whyNotConv(p, tc::Dir::BackwardData, tc::kStage | tc::kSplitK).empty()) {
    // Unstrided, dx with under 8 channels a group (one 16-byte chunk of 16-bit, two of float) ran
    // 1.45-2.05x the model on the H200 (lenet.conv1 at batch 64, v17/v18: TF32 0.055 ms modelled 0.038,
    // fp16 / bf16 0.040 modelled 0.019), where GEMM and DIRECT ran 0.026-0.035. Strided ones carry their
    // phases' own factor (cpAsyncEstimateMs) and held it (resnet50.conv1: 1.22 ms, the best measured).
    const double ms = tc::convEstimateMs(p, tc::Dir::BackwardData, tc::kStage | tc::kSplitK);
    return p.Cg() < 8 && !p.strided() ? 2.0 * ms : ms;
  }
  // Gather-bound tile kernel: a few TFLOP/s on the FMA path, more with tensor cores; few tiles
  // leave SMs idle. Only the ranking matters.
  const bool tc = p.math == LAMINA_TENSOR_OP_MATH && p.dataType != LAMINA_DATA_DOUBLE;
  const double rate = p.dataType == LAMINA_DATA_DOUBLE ? 1.5e9 : tc ? 8e9 : 4e9; // flop per ms
  const double fill = std::min(1.0, convbwd::gemmTiles(p.N * p.inSize(), p.Cg(), p.G) / 132.0);
  // Columns are dx's channels per group in tiles of kTileN: with 3 of them (an RGB input) the tiles
  // are 95% idle (resnet50.conv1 in fp32 on the H200: 85 ms, 0.18 TFLOP/s).
  const double columns = std::min(1.0, double(p.Cg()) / convbwd::kTileN);
  return 0.01 + p.flops() / (rate * fill * columns);
}

template <class T> void preloadT() { convbwd::preloadTiledConvGemm<T, BwdDataGemm<T>>(); }
} // namespace

void preloadConvBwdDataImplicitGemm() { LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT); }

const ConvAlgorithm kConvBwdDataImplicitGemm = {ConvDirection::BackwardData,
                                                LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM,
                                                "IMPLICIT_GEMM",
                                                LAMINA_DETERMINISTIC,
                                                whyNot,
                                                workspace,
                                                estimate,
                                                run};

} // namespace lamina::cuda
