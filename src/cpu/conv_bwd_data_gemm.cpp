// Backward-data GEMM: per image and group, cols[Cg*F x P] = W_g^T * dy_g through BLAS, then
// col2im adds the columns into a packed dx accumulator in the workspace, which is scaled into dx.
// Images are spread over per-thread workspace slots like the forward GEMM.
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

#include <climits>

namespace lamina::cpu {
namespace {

bool dyDirect(const ConvProblem &p) {
  return (p.dataType == LAMINA_DATA_FLOAT || p.dataType == LAMINA_DATA_DOUBLE) &&
         packedImage(p.y, p.spatialDims, p.outSize());
}
size_t slotBytes(const ConvProblem &p) {
  size_t a = computeSize(p);
  return (dyDirect(p) ? 0 : alignUp(a * p.Kg() * p.outSize())) + alignUp(a * p.Cg() * p.filtSize() * p.outSize()) +
         alignUp(a * p.C * p.inSize());
}
size_t workspace(const ConvProblem &p) {
  return alignUp(computeSize(p) * p.K * p.Cg() * p.filtSize()) + size_t(convSlots(p)) * slotBytes(p);
}

template <class T> void run(const ConvArgs &a) {
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const ConvGeom g = makeGeom(p);
  const T *dy = static_cast<const T *>(a.dy);
  T *dx = static_cast<T *>(a.dx);
  const bool direct = dyDirect(p);
  const int64_t S = convSlots(p), CgF = g.CgF();
  WsCarver ws{static_cast<char *>(a.workspace)};
  A *wpack = ws.take<A>(g.K * CgF);
  packFilter(g, static_cast<const T *>(a.w), wpack);
  char *slotBase = ws.p;
  const size_t sb = slotBytes(p);
  const A alpha = A(a.alpha), beta = A(a.beta);
  parallelFor(*a.handle, S, [&](int64_t s) {
    WsCarver sw{slotBase + s * sb};
    A *dyBuf = direct ? nullptr : sw.take<A>(g.Kg * g.P);
    A *cols = sw.take<A>(CgF * g.P);
    A *acc = sw.take<A>(g.C * g.I);
    for (int64_t n = s; n < g.N; n += S) {
      std::fill(acc, acc + g.C * g.I, A(0));
      for (int64_t grp = 0; grp < g.G; ++grp) {
        const T *dyg = dy + n * g.ys[0] + grp * g.Kg * g.ys[1];
        const A *B = reinterpret_cast<const A *>(dyg);
        if (!direct) {
          loadOutBlock(g, dy + n * g.ys[0], grp * g.Kg, g.Kg, dyBuf);
          B = dyBuf;
        }
        gemm(*a.handle, true, false, CgF, g.P, g.Kg, A(1), wpack + grp * g.Kg * CgF, CgF, B, g.P, A(0), cols, g.P);
        col2im(g, cols, acc + grp * g.Cg * g.I);
      }
      T *dxn = dx + n * g.xs[0];
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t i0 = 0; i0 < g.in[0]; ++i0)
          for (int64_t i1 = 0; i1 < g.in[1]; ++i1)
            for (int64_t i2 = 0; i2 < g.in[2]; ++i2)
              storeScaled(dxn + c * g.xs[1] + i0 * g.xs[2] + i1 * g.xs[3] + i2 * g.xs[4],
                          compute_t<T>(acc[c * g.I + (i0 * g.in[1] + i1) * g.in[2] + i2]), compute_t<T>(alpha),
                          compute_t<T>(beta));
    }
  });
}

std::string whyNot(const ConvProblem &p) {
  if (p.Cg() * p.filtSize() * p.outSize() > INT_MAX || p.Kg() * p.outSize() > INT_MAX)
    return "the column matrix exceeds the 32-bit sizes of the BLAS interface";
  return {};
}
double estimate(const ConvProblem &p) {
  double gemmMs = p.flops() / (kBlasGflops * 1e6);
  double colBytes = double(computeSize(p)) * p.N * p.C * p.filtSize() * p.outSize() * 3.0;
  return kCallOverheadMs + gemmMs + colBytes / (kMemGBps * 1e6 * 4);
}
void runAny(const ConvArgs &a) {
  runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, run, b); });
}

} // namespace

const ConvAlgorithm kConvBwdDataGemm = {ConvDirection::BackwardData,
                                        LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM,
                                        "GEMM",
                                        LAMINA_DETERMINISTIC,
                                        whyNot,
                                        workspace,
                                        estimate,
                                        runAny};

} // namespace lamina::cpu
