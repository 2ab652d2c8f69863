// Forward GEMM: explicit im2col of each image and group into the workspace, then
// y_g[Kg x P] = W_g[Kg x Cg*F] * cols[Cg*F x P] through BLAS. Images are spread over per-thread
// workspace slots (single-threaded BLAS inside); one image uses multi-threaded BLAS. Fast paths:
// a 1x1/stride-1/unpadded filter on a packed image is its own column matrix, and a packed float or
// double y is written by the GEMM directly (alpha, beta folded in; BLAS never reads C when beta = 0).
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

#include <climits>

namespace lamina::cpu {
namespace {

bool sameStorage(const ConvProblem &p) { return p.dataType == LAMINA_DATA_FLOAT || p.dataType == LAMINA_DATA_DOUBLE; }
// x itself is the column matrix: 1x1 taps, stride 1, no padding, packed image, no conversion.
bool xIsColumns(const ConvProblem &p) {
  for (int i = 0; i < 3; ++i)
    if (p.filt[i] != 1 || p.stride[i] != 1 || p.pad[i] != 0)
      return false;
  return sameStorage(p) && packedImage(p.x, p.spatialDims, p.inSize());
}
bool yDirect(const ConvProblem &p) { return sameStorage(p) && packedImage(p.y, p.spatialDims, p.outSize()); }

size_t workspace(const ConvProblem &p) {
  size_t a = computeSize(p);
  size_t perSlot = (xIsColumns(p) ? 0 : alignUp(a * p.Cg() * p.filtSize() * p.outSize())) +
                   (yDirect(p) ? 0 : alignUp(a * p.Kg() * p.outSize()));
  return alignUp(a * p.K * p.Cg() * p.filtSize()) + size_t(convSlots(p)) * perSlot;
}

template <class T> void run(const ConvArgs &a) {
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const ConvGeom g = makeGeom(p);
  const T *x = static_cast<const T *>(a.x);
  T *y = static_cast<T *>(a.y);
  const bool direct = xIsColumns(p), yDir = yDirect(p);
  const int64_t S = convSlots(p), CgF = g.CgF();
  WsCarver ws{static_cast<char *>(a.workspace)};
  A *wpack = ws.take<A>(g.K * CgF);
  packFilter(g, static_cast<const T *>(a.w), wpack);
  char *slotBase = ws.p;
  size_t slotBytes = (direct ? 0 : alignUp(sizeof(A) * CgF * g.P)) + (yDir ? 0 : alignUp(sizeof(A) * g.Kg * g.P));
  const A alpha = A(a.alpha), beta = A(a.beta);
  parallelFor(*a.handle, S, [&](int64_t s) {
    WsCarver sw{slotBase + s * slotBytes};
    A *cols = direct ? nullptr : sw.take<A>(CgF * g.P);
    A *out = yDir ? nullptr : sw.take<A>(g.Kg * g.P);
    for (int64_t n = s; n < g.N; n += S)
      for (int64_t grp = 0; grp < g.G; ++grp) {
        const T *xc = x + n * g.xs[0] + grp * g.Cg * g.xs[1];
        const A *B = direct ? reinterpret_cast<const A *>(xc) : cols;
        if (!direct)
          im2col(g, xc, cols);
        const A *W = wpack + grp * g.Kg * CgF;
        if (yDir) {
          A *C = reinterpret_cast<A *>(y + n * g.ys[0] + grp * g.Kg * g.ys[1]);
          gemm(*a.handle, false, false, g.Kg, g.P, CgF, alpha, W, CgF, B, g.P, beta, C, g.P);
        } else {
          gemm(*a.handle, false, false, g.Kg, g.P, CgF, A(1), W, CgF, B, g.P, A(0), out, g.P);
          storeOutBlock(g, y + n * g.ys[0], grp * g.Kg, g.Kg, out, alpha, beta);
        }
      }
  });
}

std::string whyNot(const ConvProblem &p) {
  if (p.Cg() * p.filtSize() > INT_MAX || p.outSize() > INT_MAX || p.Cg() * p.filtSize() * p.outSize() > INT_MAX)
    return "the column matrix exceeds the 32-bit sizes of the BLAS interface";
  return {};
}
double estimate(const ConvProblem &p) {
  // BLAS time, plus writing and re-reading the column matrix, plus a small-GEMM penalty.
  double gemmMs = p.flops() / (kBlasGflops * 1e6);
  double small =
      std::min<double>(1.0, double(p.Kg()) / 64.0) * std::min<double>(1.0, double(p.Cg() * p.filtSize()) / 64.0);
  gemmMs /= std::max(small, 0.05);
  double colBytes = xIsColumns(p) ? 0.0 : double(computeSize(p)) * p.N * p.C * p.filtSize() * p.outSize() * 2.0;
  return kCallOverheadMs + gemmMs + colBytes / (kMemGBps * 1e6 * 4);
}
void runAny(const ConvArgs &a) { LAMINA_DISPATCH_FLOAT_TYPES(a.p->dataType, run, a); }

} // namespace

const ConvAlgorithm kConvFwdGemm = {ConvDirection::Forward,
                                    LAMINA_CONVOLUTION_FWD_ALGO_GEMM,
                                    "GEMM",
                                    LAMINA_DETERMINISTIC,
                                    whyNot,
                                    workspace,
                                    estimate,
                                    runAny};

} // namespace lamina::cpu
