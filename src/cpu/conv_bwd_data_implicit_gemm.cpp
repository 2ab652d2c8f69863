// Backward-data IMPLICIT_GEMM: each dx element gathers dy over the output channels of its group
// and the filter taps that reach it (o = (i + pad - f*dil) / stride when that divides exactly).
// No workspace; every dx element is written exactly once.
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

namespace lamina::cpu {
namespace {

// Output coordinate along dim d that tap f maps onto input coordinate i, or -1.
inline int64_t outFor(const ConvGeom &g, int d, int64_t i, int64_t f) {
  int64_t t = i + g.pad[d] - f * g.dil[d];
  if (t < 0 || t % g.str[d] != 0)
    return -1;
  t /= g.str[d];
  return t < g.out[d] ? t : -1;
}

template <class T> void run(const ConvArgs &a) {
  using A = compute_t<T>;
  const ConvGeom g = makeGeom(*a.p);
  const T *dy = static_cast<const T *>(a.dy);
  const T *w = static_cast<const T *>(a.w) + g.wOff;
  T *dx = static_cast<T *>(a.dx);
  const A alpha = A(a.alpha), beta = A(a.beta);
  parallelFor(*a.handle, g.N * g.C, [&](int64_t nc) {
    int64_t n = nc / g.C, c = nc % g.C, grp = c / g.Cg, cc = c % g.Cg;
    const T *dyn = dy + n * g.ys[0];
    T *dxc = dx + n * g.xs[0] + c * g.xs[1];
    for (int64_t i0 = 0; i0 < g.in[0]; ++i0)
      for (int64_t i1 = 0; i1 < g.in[1]; ++i1)
        for (int64_t i2 = 0; i2 < g.in[2]; ++i2) {
          A acc = 0;
          for (int64_t f0 = 0; f0 < g.filt[0]; ++f0) {
            int64_t o0 = outFor(g, 0, i0, f0);
            if (o0 < 0)
              continue;
            for (int64_t f1 = 0; f1 < g.filt[1]; ++f1) {
              int64_t o1 = outFor(g, 1, i1, f1);
              if (o1 < 0)
                continue;
              for (int64_t f2 = 0; f2 < g.filt[2]; ++f2) {
                int64_t o2 = outFor(g, 2, i2, f2);
                if (o2 < 0)
                  continue;
                const T *dyo = dyn + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4];
                const T *wf = w + cc * g.ws[1] + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4];
                for (int64_t k = grp * g.Kg; k < (grp + 1) * g.Kg; ++k)
                  acc += ld(dyo + k * g.ys[1]) * ld(wf + k * g.ws[0]);
              }
            }
          }
          storeScaled(dxc + i0 * g.xs[2] + i1 * g.xs[3] + i2 * g.xs[4], acc, alpha, beta);
        }
  });
}

std::string whyNot(const ConvProblem &) { return {}; }
size_t workspace(const ConvProblem &) { return 0; }
double estimate(const ConvProblem &p) {
  double rate = p.dataType == LAMINA_DATA_HALF || p.dataType == LAMINA_DATA_BFLOAT16 ? 1.5 : 4.0;
  return kCallOverheadMs + p.flops() / (rate * 1e6);
}
void runAny(const ConvArgs &a) {
  runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, run, b); });
}

} // namespace

const ConvAlgorithm kConvBwdDataImplicitGemm = {ConvDirection::BackwardData,
                                                LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM,
                                                "IMPLICIT_GEMM",
                                                LAMINA_DETERMINISTIC,
                                                whyNot,
                                                workspace,
                                                estimate,
                                                runAny};

} // namespace lamina::cpu
