// Forward IMPLICIT_PRECOMP_GEMM: like IMPLICIT_GEMM, but the reduction index j = (c, taps) is
// decoded once into a table in the workspace (input offset, filter offset, tap displacement per
// spatial dim), so the inner loop is a flat loop over j with table lookups and bounds tests only.
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

namespace lamina::cpu {
namespace {

constexpr int64_t TP = 32, TK = 16;

struct Entry {
  int64_t xOff, wOff;
  int64_t d[3]; // displacement of the tap from the window origin
};

template <class T> void run(const ConvArgs &a) {
  using A = compute_t<T>;
  const ConvGeom g = makeGeom(*a.p);
  const T *x = static_cast<const T *>(a.x);
  const T *w = static_cast<const T *>(a.w) + g.wOff;
  T *y = static_cast<T *>(a.y);
  const A alpha = A(a.alpha), beta = A(a.beta);
  Entry *table = static_cast<Entry *>(a.workspace);
  const int64_t J = g.CgF();
  for (int64_t c = 0, j = 0; c < g.Cg; ++c)
    for (int64_t f0 = 0; f0 < g.filt[0]; ++f0)
      for (int64_t f1 = 0; f1 < g.filt[1]; ++f1)
        for (int64_t f2 = 0; f2 < g.filt[2]; ++f2, ++j) {
          Entry &e = table[j];
          e.d[0] = f0 * g.dil[0], e.d[1] = f1 * g.dil[1], e.d[2] = f2 * g.dil[2];
          e.xOff = c * g.xs[1] + e.d[0] * g.xs[2] + e.d[1] * g.xs[3] + e.d[2] * g.xs[4];
          e.wOff = c * g.ws[1] + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4];
        }
  const int64_t tiles = (g.P + TP - 1) / TP;
  parallelFor(*a.handle, g.N * g.G * tiles, [&](int64_t task) {
    int64_t t = task % tiles, ng = task / tiles, grp = ng % g.G, n = ng / g.G;
    int64_t p0 = t * TP, np = std::min(TP, g.P - p0);
    int64_t ib[3][TP], base[TP], yOff[TP];
    bool interior[TP]; // whole window inside the input: no bounds tests needed
    for (int64_t j = 0; j < np; ++j) {
      int64_t pp = p0 + j, o2 = pp % g.out[2], o1 = (pp / g.out[2]) % g.out[1], o0 = pp / (g.out[2] * g.out[1]);
      int64_t o[3] = {o0, o1, o2};
      interior[j] = true;
      base[j] = 0;
      for (int d = 0; d < 3; ++d) {
        ib[d][j] = o[d] * g.str[d] - g.pad[d];
        interior[j] = interior[j] && ib[d][j] >= 0 && ib[d][j] + (g.filt[d] - 1) * g.dil[d] < g.in[d];
        base[j] += ib[d][j] * g.xs[2 + d];
      }
      yOff[j] = o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4];
    }
    const T *xg = x + n * g.xs[0] + grp * g.Cg * g.xs[1];
    T *yn = y + n * g.ys[0];
    for (int64_t k0 = grp * g.Kg; k0 < (grp + 1) * g.Kg; k0 += TK) {
      int64_t nk = std::min(TK, (grp + 1) * g.Kg - k0);
      A acc[TK][TP] = {};
      A xv[TP] = {}, wv[TK] = {};
      for (int64_t jj = 0; jj < J; ++jj) {
        const Entry &e = table[jj];
        for (int64_t j = 0; j < np; ++j) {
          bool in =
              interior[j] || (ib[0][j] + e.d[0] >= 0 && ib[0][j] + e.d[0] < g.in[0] && ib[1][j] + e.d[1] >= 0 &&
                              ib[1][j] + e.d[1] < g.in[1] && ib[2][j] + e.d[2] >= 0 && ib[2][j] + e.d[2] < g.in[2]);
          xv[j] = in ? ld(xg + base[j] + e.xOff) : A(0);
        }
        for (int64_t kk = 0; kk < nk; ++kk)
          wv[kk] = ld(w + (k0 + kk) * g.ws[0] + e.wOff);
        for (int64_t kk = 0; kk < nk; ++kk)
          for (int64_t j = 0; j < TP; ++j)
            acc[kk][j] += wv[kk] * xv[j];
      }
      for (int64_t kk = 0; kk < nk; ++kk)
        for (int64_t j = 0; j < np; ++j)
          storeScaled(yn + (k0 + kk) * g.ys[1] + yOff[j], acc[kk][j], alpha, beta);
    }
  });
}

std::string whyNot(const ConvProblem &) { return {}; }
size_t workspace(const ConvProblem &p) { return size_t(p.Cg() * p.filtSize()) * sizeof(Entry); }
double estimate(const ConvProblem &p) {
  // ~12 GFLOP/s per core when the 16-channel register tile is full (no index decoding).
  double rate = kThreads * 12.0 * std::min(1.0, double(p.Kg()) / 16.0) * typeFactor(p);
  return kCallOverheadMs + p.flops() / (rate * 1e6);
}
void runAny(const ConvArgs &a) {
  runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, run, b); });
}

} // namespace

const ConvAlgorithm kConvFwdImplicitPrecompGemm = {ConvDirection::Forward,
                                                   LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
                                                   "IMPLICIT_PRECOMP_GEMM",
                                                   LAMINA_DETERMINISTIC,
                                                   whyNot,
                                                   workspace,
                                                   estimate,
                                                   runAny};

} // namespace lamina::cpu
