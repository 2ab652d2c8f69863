// Backward-filter GEMM: per image and group, im2col of x into the workspace, then
// dW_g[Kg x Cg*F] += dy_g[Kg x P] * cols^T through BLAS into a per-slot accumulator. The slots'
// partial sums are added in a fixed order (deterministic) and scaled into dw.
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

#include <climits>

namespace lamina::cpu {
namespace {

bool sameStorage(const ConvProblem &p) { return p.dataType == LAMINA_DATA_FLOAT || p.dataType == LAMINA_DATA_DOUBLE; }
bool dyDirect(const ConvProblem &p) { return sameStorage(p) && packedImage(p.y, p.spatialDims, p.outSize()); }
bool xIsColumns(const ConvProblem &p) {
  for (int i = 0; i < 3; ++i)
    if (p.filt[i] != 1 || p.stride[i] != 1 || p.pad[i] != 0)
      return false;
  return sameStorage(p) && packedImage(p.x, p.spatialDims, p.inSize());
}
size_t slotBytes(const ConvProblem &p) {
  size_t a = computeSize(p);
  return (dyDirect(p) ? 0 : alignUp(a * p.Kg() * p.outSize())) +
         (xIsColumns(p) ? 0 : alignUp(a * p.Cg() * p.filtSize() * p.outSize())) +
         alignUp(a * p.K * p.Cg() * p.filtSize());
}
size_t workspace(const ConvProblem &p) { return size_t(convSlots(p)) * slotBytes(p); }

template <class T> void run(const ConvArgs &a) {
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const ConvGeom g = makeGeom(p);
  const T *x = static_cast<const T *>(a.x);
  const T *dy = static_cast<const T *>(a.dy);
  const bool dyDir = dyDirect(p), xDir = xIsColumns(p);
  const int64_t S = convSlots(p), CgF = g.CgF();
  char *base = static_cast<char *>(a.workspace);
  const size_t sb = slotBytes(p);
  auto slotAcc = [&](int64_t s) {
    WsCarver sw{base + s * sb};
    if (!dyDir)
      sw.take<A>(g.Kg * g.P);
    if (!xDir)
      sw.take<A>(CgF * g.P);
    return sw.take<A>(g.K * CgF);
  };
  parallelFor(*a.handle, S, [&](int64_t s) {
    WsCarver sw{base + s * sb};
    A *dyBuf = dyDir ? nullptr : sw.take<A>(g.Kg * g.P);
    A *cols = xDir ? nullptr : sw.take<A>(CgF * g.P);
    A *acc = sw.take<A>(g.K * CgF);
    for (int64_t n = s; n < g.N; n += S)
      for (int64_t grp = 0; grp < g.G; ++grp) {
        const T *xc = x + n * g.xs[0] + grp * g.Cg * g.xs[1];
        const A *B = xDir ? reinterpret_cast<const A *>(xc) : cols;
        if (!xDir)
          im2col(g, xc, cols);
        const A *D = reinterpret_cast<const A *>(dy + n * g.ys[0] + grp * g.Kg * g.ys[1]);
        if (!dyDir) {
          loadOutBlock(g, dy + n * g.ys[0], grp * g.Kg, g.Kg, dyBuf);
          D = dyBuf;
        }
        gemm(*a.handle, false, true, g.Kg, CgF, g.P, A(1), D, g.P, B, g.P, n == s ? A(0) : A(1), acc + grp * g.Kg * CgF,
             CgF);
      }
  });
  A *total = slotAcc(0);
  for (int64_t s = 1; s < S; ++s) {
    const A *part = slotAcc(s);
    for (int64_t i = 0; i < g.K * CgF; ++i)
      total[i] += part[i];
  }
  T *dw = static_cast<T *>(a.dw) + g.wOff;
  const compute_t<T> alpha = compute_t<T>(a.alpha), beta = compute_t<T>(a.beta);
  parallelFor(*a.handle, g.K, [&](int64_t k) {
    const A *t = total + k * CgF;
    for (int64_t c = 0; c < g.Cg; ++c)
      for (int64_t f0 = 0; f0 < g.filt[0]; ++f0)
        for (int64_t f1 = 0; f1 < g.filt[1]; ++f1)
          for (int64_t f2 = 0; f2 < g.filt[2]; ++f2)
            storeScaled(dw + k * g.ws[0] + c * g.ws[1] + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4], compute_t<T>(*t++),
                        alpha, beta);
  });
}

std::string whyNot(const ConvProblem &p) {
  if (p.Cg() * p.filtSize() * p.outSize() > INT_MAX || p.Kg() * p.outSize() > INT_MAX)
    return "the column matrix exceeds the 32-bit sizes of the BLAS interface";
  return {};
}
double estimate(const ConvProblem &p) {
  double gemmMs = p.flops() / (kBlasGflops * 1e6);
  double colBytes = xIsColumns(p) ? 0.0 : double(computeSize(p)) * p.N * p.C * p.filtSize() * p.outSize() * 2.0;
  return kCallOverheadMs + gemmMs + colBytes / (kMemGBps * 1e6 * 4);
}
void runAny(const ConvArgs &a) {
  runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, run, b); });
}

} // namespace

const ConvAlgorithm kConvBwdFilterGemm = {ConvDirection::BackwardFilter,
                                          LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM,
                                          "GEMM",
                                          LAMINA_DETERMINISTIC,
                                          whyNot,
                                          workspace,
                                          estimate,
                                          runAny};

} // namespace lamina::cpu
