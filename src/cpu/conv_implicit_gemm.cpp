// Forward IMPLICIT_GEMM: y_g[Kg x P] = W_g[Kg x Cg*F] * X_g[Cg*F x P] as a blocked GEMM whose B
// operand is gathered from x on the fly (channel and filter tap decoded by the loop nest, padding
// as zeros). Register-sized tiles of TK output channels x TP positions; no workspace.
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

namespace lamina::cpu {
namespace {

constexpr int64_t TP = 32, TK = 16;

template <class T> void run(const ConvArgs &a) {
  using A = compute_t<T>;
  const ConvGeom g = makeGeom(*a.p);
  const T *x = static_cast<const T *>(a.x);
  const T *w = static_cast<const T *>(a.w) + g.wOff;
  T *y = static_cast<T *>(a.y);
  const A alpha = A(a.alpha), beta = A(a.beta);
  const int64_t tiles = (g.P + TP - 1) / TP;
  parallelFor(*a.handle, g.N * g.G * tiles, [&](int64_t task) {
    int64_t t = task % tiles, ng = task / tiles, grp = ng % g.G, n = ng / g.G;
    int64_t p0 = t * TP, np = std::min(TP, g.P - p0);
    int64_t ib[3][TP]; // window origin of each position of the tile
    for (int64_t j = 0; j < np; ++j) {
      int64_t pp = p0 + j, o2 = pp % g.out[2], o1 = (pp / g.out[2]) % g.out[1], o0 = pp / (g.out[2] * g.out[1]);
      ib[0][j] = o0 * g.str[0] - g.pad[0], ib[1][j] = o1 * g.str[1] - g.pad[1], ib[2][j] = o2 * g.str[2] - g.pad[2];
    }
    const T *xg = x + n * g.xs[0] + grp * g.Cg * g.xs[1];
    T *yn = y + n * g.ys[0];
    for (int64_t k0 = grp * g.Kg; k0 < (grp + 1) * g.Kg; k0 += TK) {
      int64_t nk = std::min(TK, (grp + 1) * g.Kg - k0);
      A acc[TK][TP] = {};
      A xv[TP] = {}, wv[TK] = {};
      for (int64_t c = 0; c < g.Cg; ++c)
        for (int64_t f0 = 0; f0 < g.filt[0]; ++f0)
          for (int64_t f1 = 0; f1 < g.filt[1]; ++f1)
            for (int64_t f2 = 0; f2 < g.filt[2]; ++f2) {
              for (int64_t j = 0; j < np; ++j) {
                int64_t i0 = ib[0][j] + f0 * g.dil[0], i1 = ib[1][j] + f1 * g.dil[1], i2 = ib[2][j] + f2 * g.dil[2];
                bool in = i0 >= 0 && i0 < g.in[0] && i1 >= 0 && i1 < g.in[1] && i2 >= 0 && i2 < g.in[2];
                xv[j] = in ? ld(xg + c * g.xs[1] + i0 * g.xs[2] + i1 * g.xs[3] + i2 * g.xs[4]) : A(0);
              }
              const T *wc = w + c * g.ws[1] + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4];
              for (int64_t kk = 0; kk < nk; ++kk)
                wv[kk] = ld(wc + (k0 + kk) * g.ws[0]);
              for (int64_t kk = 0; kk < nk; ++kk)
                for (int64_t j = 0; j < TP; ++j)
                  acc[kk][j] += wv[kk] * xv[j];
            }
      for (int64_t kk = 0; kk < nk; ++kk) {
        T *yk = yn + (k0 + kk) * g.ys[1];
        for (int64_t j = 0; j < np; ++j) {
          int64_t pp = p0 + j, o2 = pp % g.out[2], o1 = (pp / g.out[2]) % g.out[1], o0 = pp / (g.out[2] * g.out[1]);
          storeScaled(yk + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4], acc[kk][j], alpha, beta);
        }
      }
    }
  });
}

std::string whyNot(const ConvProblem &) { return {}; }
size_t workspace(const ConvProblem &) { return 0; }
double estimate(const ConvProblem &p) {
  // ~7.5 GFLOP/s per core when the 16-channel register tile is full.
  double rate = kThreads * 7.5 * std::min(1.0, double(p.Kg()) / 16.0) * typeFactor(p);
  return kCallOverheadMs + p.flops() / (rate * 1e6);
}
void runAny(const ConvArgs &a) {
  runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, run, b); });
}

} // namespace

const ConvAlgorithm kConvFwdImplicitGemm = {ConvDirection::Forward,
                                            LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                            "IMPLICIT_GEMM",
                                            LAMINA_DETERMINISTIC,
                                            whyNot,
                                            workspace,
                                            estimate,
                                            runAny};

} // namespace lamina::cpu
