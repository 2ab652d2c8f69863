// Backward-data DIRECT: the transpose of the forward loops. Each (image, input channel) plane is
// accumulated by scattering dy * w over the window of every output position into a packed plane
// in a per-thread workspace slot, then scaled into dx.
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

namespace lamina::cpu {
namespace {

int64_t slots(const ConvProblem &p) { return std::max<int64_t>(1, std::min<int64_t>(p.N * p.C, omp_get_num_procs())); }

template <class T> void run(const ConvArgs &a) {
  using A = compute_t<T>;
  const ConvGeom g = makeGeom(*a.p);
  const T *dy = static_cast<const T *>(a.dy);
  const T *w = static_cast<const T *>(a.w) + g.wOff;
  T *dx = static_cast<T *>(a.dx);
  const A alpha = A(a.alpha), beta = A(a.beta);
  const int64_t S = slots(*a.p);
  parallelFor(*a.handle, S, [&](int64_t s) {
    A *plane = static_cast<A *>(a.workspace) + s * ((g.I + 15) / 16 * 16);
    for (int64_t nc = s; nc < g.N * g.C; nc += S) {
      int64_t n = nc / g.C, c = nc % g.C, grp = c / g.Cg, cc = c % g.Cg;
      std::fill(plane, plane + g.I, A(0));
      for (int64_t k = grp * g.Kg; k < (grp + 1) * g.Kg; ++k) {
        const T *dyk = dy + n * g.ys[0] + k * g.ys[1];
        const T *wk = w + k * g.ws[0] + cc * g.ws[1];
        for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
          for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
            for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
              A v = ld(dyk + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4]);
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
                    plane[(i0 * g.in[1] + i1) * g.in[2] + i2] +=
                        v * ld(wk + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4]);
                  }
                }
              }
            }
      }
      T *dxc = dx + n * g.xs[0] + c * g.xs[1];
      for (int64_t i0 = 0; i0 < g.in[0]; ++i0)
        for (int64_t i1 = 0; i1 < g.in[1]; ++i1)
          for (int64_t i2 = 0; i2 < g.in[2]; ++i2)
            storeScaled(dxc + i0 * g.xs[2] + i1 * g.xs[3] + i2 * g.xs[4], plane[(i0 * g.in[1] + i1) * g.in[2] + i2],
                        alpha, beta);
    }
  });
}

std::string whyNot(const ConvProblem &) { return {}; }
size_t workspace(const ConvProblem &p) {
  return size_t(slots(p)) * size_t((p.inSize() + 15) / 16 * 16) * computeSize(p);
}
double estimate(const ConvProblem &p) {
  double rate = p.dataType == LAMINA_DATA_HALF || p.dataType == LAMINA_DATA_BFLOAT16 ? 1.0 : 2.5;
  return kCallOverheadMs + p.flops() / (rate * 1e6);
}
void runAny(const ConvArgs &a) {
  runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, run, b); });
}

} // namespace

const ConvAlgorithm kConvBwdDataDirect = {ConvDirection::BackwardData,
                                          LAMINA_CONVOLUTION_BWD_DATA_ALGO_DIRECT,
                                          "DIRECT",
                                          LAMINA_DETERMINISTIC,
                                          whyNot,
                                          workspace,
                                          estimate,
                                          runAny};

} // namespace lamina::cpu
