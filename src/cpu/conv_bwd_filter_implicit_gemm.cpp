// Backward-filter IMPLICIT_GEMM: each dw element reduces dy * x over N and the output positions,
// gathering x on the fly (padding skipped). No workspace; one task per (k, c) filter slice.
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

namespace lamina::cpu {
namespace {

template <class T> void run(const ConvArgs &a) {
  using A = compute_t<T>;
  const ConvGeom g = makeGeom(*a.p);
  const T *x = static_cast<const T *>(a.x);
  const T *dy = static_cast<const T *>(a.dy);
  T *dw = static_cast<T *>(a.dw) + g.wOff;
  const A alpha = A(a.alpha), beta = A(a.beta);
  parallelFor(*a.handle, g.K * g.Cg, [&](int64_t kc) {
    int64_t k = kc / g.Cg, c = kc % g.Cg, grp = k / g.Kg;
    for (int64_t f0 = 0; f0 < g.filt[0]; ++f0)
      for (int64_t f1 = 0; f1 < g.filt[1]; ++f1)
        for (int64_t f2 = 0; f2 < g.filt[2]; ++f2) {
          A acc = 0;
          for (int64_t n = 0; n < g.N; ++n) {
            const T *dyk = dy + n * g.ys[0] + k * g.ys[1];
            const T *xc = x + n * g.xs[0] + (grp * g.Cg + c) * g.xs[1];
            for (int64_t o0 = 0; o0 < g.out[0]; ++o0) {
              int64_t i0 = inCoord(g, 0, o0, f0);
              if (i0 < 0 || i0 >= g.in[0])
                continue;
              for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
                int64_t i1 = inCoord(g, 1, o1, f1);
                if (i1 < 0 || i1 >= g.in[1])
                  continue;
                // Output columns whose input column lies inside x: [lo, hi); no bounds tests inside.
                const int64_t base = f2 * g.dil[2] - g.pad[2], s2 = g.str[2];
                const int64_t lo = base >= 0 ? 0 : std::min(g.out[2], (-base + s2 - 1) / s2);
                const int64_t hi =
                    std::max(lo, g.in[2] - base <= 0 ? 0 : std::min(g.out[2], (g.in[2] - base + s2 - 1) / s2));
                const T *dyr = dyk + o0 * g.ys[2] + o1 * g.ys[3];
                const T *xr = xc + i0 * g.xs[2] + i1 * g.xs[3];
                for (int64_t o2 = lo; o2 < hi; ++o2)
                  acc += ld(dyr + o2 * g.ys[4]) * ld(xr + (o2 * s2 + base) * g.xs[4]);
              }
            }
          }
          storeScaled(dw + k * g.ws[0] + c * g.ws[1] + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4], acc, alpha, beta);
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

const ConvAlgorithm kConvBwdFilterImplicitGemm = {ConvDirection::BackwardFilter,
                                                  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM,
                                                  "IMPLICIT_GEMM",
                                                  LAMINA_DETERMINISTIC,
                                                  whyNot,
                                                  workspace,
                                                  estimate,
                                                  runAny};

} // namespace lamina::cpu
