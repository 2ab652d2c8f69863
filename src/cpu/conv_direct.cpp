// Forward DIRECT: for each output element, a plain loop over the input channels of its group and
// the filter window. No workspace; the baseline every other algorithm is checked against in Find.
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

namespace lamina::cpu {
namespace {

template <class T> void run(const ConvArgs &a) {
  using A = compute_t<T>;
  const ConvGeom g = makeGeom(*a.p);
  const T *x = static_cast<const T *>(a.x);
  const T *w = static_cast<const T *>(a.w) + g.wOff;
  T *y = static_cast<T *>(a.y);
  const A alpha = A(a.alpha), beta = A(a.beta);
  parallelFor(*a.handle, g.N * g.K, [&](int64_t nk) {
    int64_t n = nk / g.K, k = nk % g.K, grp = k / g.Kg;
    const T *xn = x + n * g.xs[0] + grp * g.Cg * g.xs[1];
    const T *wk = w + k * g.ws[0];
    T *yk = y + n * g.ys[0] + k * g.ys[1];
    for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
          A acc = 0;
          for (int64_t c = 0; c < g.Cg; ++c)
            for (int64_t f0 = 0; f0 < g.filt[0]; ++f0) {
              int64_t i0 = inCoord(g, 0, o0, f0);
              if (i0 < 0 || i0 >= g.in[0])
                continue;
              for (int64_t f1 = 0; f1 < g.filt[1]; ++f1) {
                int64_t i1 = inCoord(g, 1, o1, f1);
                if (i1 < 0 || i1 >= g.in[1])
                  continue;
                for (int64_t f2 = 0; f2 < g.filt[2]; ++f2) {
                  int64_t i2 = inCoord(g, 2, o2, f2);
                  if (i2 < 0 || i2 >= g.in[2])
                    continue;
                  acc += ld(xn + c * g.xs[1] + i0 * g.xs[2] + i1 * g.xs[3] + i2 * g.xs[4]) *
                         ld(wk + c * g.ws[1] + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4]);
                }
              }
            }
          storeScaled(yk + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4], acc, alpha, beta);
        }
  });
}

std::string whyNot(const ConvProblem &) { return {}; }
size_t workspace(const ConvProblem &) { return 0; }
double estimate(const ConvProblem &p) {
  // Scalar loads with bounds checks: a few GFLOP/s on two cores; 16-bit types convert per load.
  double rate = p.dataType == LAMINA_DATA_HALF || p.dataType == LAMINA_DATA_BFLOAT16 ? 1.0 : 3.0;
  return kCallOverheadMs + p.flops() / (rate * 1e6);
}
void runAny(const ConvArgs &a) {
  runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, run, b); });
}

} // namespace

const ConvAlgorithm kConvFwdDirect = {ConvDirection::Forward,
                                      LAMINA_CONVOLUTION_FWD_ALGO_DIRECT,
                                      "DIRECT",
                                      LAMINA_DETERMINISTIC,
                                      whyNot,
                                      workspace,
                                      estimate,
                                      runAny};

} // namespace lamina::cpu
