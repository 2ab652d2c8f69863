// Forward DIRECT: direct loops over the filter window, one output row at a time. No workspace, no
// data reorganisation; the choice for depthwise and other thin convolutions where a GEMM has
// nothing to work with.
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
  const int64_t O2 = g.out[2], s2 = g.str[2], x2 = g.xs[4];
  // One task per output row (n, k, o0, o1): the row is accumulated in a small buffer, one filter
  // tap at a time, so the innermost loop runs along W over the columns that tap keeps inside the
  // input (no per-element bounds tests; contiguous and vectorisable for unit strides).
  parallelFor(*a.handle, g.N * g.K * g.out[0] * g.out[1], [&](int64_t task) {
    const int64_t o1 = task % g.out[1], o0 = task / g.out[1] % g.out[0], nk = task / (g.out[1] * g.out[0]);
    const int64_t n = nk / g.K, k = nk % g.K, grp = k / g.Kg;
    const T *xn = x + n * g.xs[0] + grp * g.Cg * g.xs[1];
    const T *wk = w + k * g.ws[0];
    A accBuf[256];
    for (int64_t q0 = 0; q0 < O2; q0 += 256) { // row pieces of at most 256 columns
      const int64_t q1 = std::min(O2, q0 + 256);
      for (int64_t o2 = q0; o2 < q1; ++o2)
        accBuf[o2 - q0] = 0;
      for (int64_t c = 0; c < g.Cg; ++c)
        for (int64_t f0 = 0; f0 < g.filt[0]; ++f0) {
          const int64_t i0 = inCoord(g, 0, o0, f0);
          if (i0 < 0 || i0 >= g.in[0])
            continue;
          for (int64_t f1 = 0; f1 < g.filt[1]; ++f1) {
            const int64_t i1 = inCoord(g, 1, o1, f1);
            if (i1 < 0 || i1 >= g.in[1])
              continue;
            const T *row = xn + c * g.xs[1] + i0 * g.xs[2] + i1 * g.xs[3];
            const T *wr = wk + c * g.ws[1] + f0 * g.ws[2] + f1 * g.ws[3];
            for (int64_t f2 = 0; f2 < g.filt[2]; ++f2) {
              const A wv = ld(wr + f2 * g.ws[4]);
              const int64_t base = f2 * g.dil[2] - g.pad[2]; // input column of o2 = 0
              // o2 with 0 <= o2 * s2 + base < in
              const int64_t lo = std::max(q0, base >= 0 ? 0 : (-base + s2 - 1) / s2);
              const int64_t hi = std::min(q1, g.in[2] - base <= 0 ? 0 : (g.in[2] - base + s2 - 1) / s2);
              if (s2 == 1 && x2 == 1) {
                const T *r = row + base;
                for (int64_t o2 = lo; o2 < hi; ++o2)
                  accBuf[o2 - q0] += wv * ld(r + o2);
              } else {
                for (int64_t o2 = lo; o2 < hi; ++o2)
                  accBuf[o2 - q0] += wv * ld(row + (o2 * s2 + base) * x2);
              }
            }
          }
        }
      T *yr = y + n * g.ys[0] + k * g.ys[1] + o0 * g.ys[2] + o1 * g.ys[3];
      for (int64_t o2 = q0; o2 < q1; ++o2)
        storeScaled(yr + o2 * g.ys[4], accBuf[o2 - q0], alpha, beta);
    }
  });
}

std::string whyNot(const ConvProblem &) { return {}; }
size_t workspace(const ConvProblem &) { return 0; }
double estimate(const ConvProblem &p) {
  // Row-at-a-time loops: ~8 GFLOP/s per core on long rows, overhead-bound on short ones.
  double row = double(p.out[p.spatialDims - 1]);
  double rate = kThreads * 8.0 * std::min(1.0, row / 64.0) * typeFactor(p);
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
