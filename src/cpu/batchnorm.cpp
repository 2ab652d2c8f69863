// Batch normalisation on the CPU: one task per parameter (channel, or activation), each reducing its
// group of x (N x spatial, or N) in double with two passes (mean, then centred squares: no
// cancellation). Spatial offsets are tabulated once per tensor, so any strides cost one load.
#include "cpu/batchnorm.h"

#include <cmath>
#include <vector>

namespace lamina::cpu {

namespace {

// Element (n, c, s) of an N x C x spatial... tensor, s the row-major spatial index.
struct Indexer {
  int64_t sn, sc;
  std::vector<int64_t> sp;
  Indexer(const TensorDesc &t) : sn(t.strides[0]), sc(t.strides[1]) {
    int64_t S = 1;
    for (int d = 2; d < t.nbDims; ++d)
      S *= t.dims[d];
    sp.resize(size_t(S));
    for (int64_t s = 0; s < S; ++s) {
      int64_t off = 0, r = s;
      for (int d = t.nbDims - 1; d >= 2; --d) {
        off += (r % t.dims[d]) * t.strides[d];
        r /= t.dims[d];
      }
      sp[size_t(s)] = off;
    }
  }
  int64_t operator()(int64_t n, int64_t c, int64_t s) const { return n * sn + c * sc + sp[size_t(s)]; }
};

struct Groups {
  bool spatial;
  int64_t N, C, S;
  Groups(const BNArgs &a) : spatial(a.mode == LAMINA_BATCHNORM_SPATIAL), N(a.x.dims[0]), C(a.x.dims[1]), S(1) {
    for (int d = 2; d < a.x.nbDims; ++d)
      S *= a.x.dims[d];
  }
  int64_t params() const { return spatial ? C : C * S; }
  int64_t members() const { return spatial ? N * S : N; }
  // f(n, c, s) for every element normalised with parameter p.
  template <class F> void each(int64_t p, F &&f) const {
    if (spatial) {
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s)
          f(n, p, s);
    } else {
      for (int64_t n = 0; n < N; ++n)
        f(n, p / S, p % S);
    }
  }
};

// Mean and biased variance of group p of x.
template <class T>
void groupStats(const Groups &g, const Indexer &ix, const T *X, int64_t p, double &mean, double &var) {
  double sum = 0;
  g.each(p, [&](int64_t n, int64_t c, int64_t s) { sum += double(toFloat(X[ix(n, c, s)])); });
  mean = sum / double(g.members());
  double sq = 0;
  g.each(p, [&](int64_t n, int64_t c, int64_t s) {
    double d = double(toFloat(X[ix(n, c, s)])) - mean;
    sq += d * d;
  });
  var = sq / double(g.members());
}

template <class T>
void trainImpl(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *xData, void *yData,
               const void *scale, const void *bias, double factor, void *runMean, void *runVar, void *saveMean,
               void *saveInvVar) {
  using C = compute_t<T>; // also the parameter type
  const Groups g(a);
  const Indexer ix(a.x), iy(a.y);
  const T *X = static_cast<const T *>(xData);
  T *Y = static_cast<T *>(yData);
  const C *SC = static_cast<const C *>(scale), *BI = static_cast<const C *>(bias);
  C *RM = static_cast<C *>(runMean), *RV = static_cast<C *>(runVar);
  C *SM = static_cast<C *>(saveMean), *SI = static_cast<C *>(saveInvVar);
  const double M = double(g.members());
  const C al = C(alpha), be = C(beta);
  parallelFor(h, g.params(), [&](int64_t p) {
    double mean, var;
    groupStats(g, ix, X, p, mean, var);
    const double inv = 1.0 / std::sqrt(var + a.epsilon);
    const int64_t po = offsetOf(a.bn, p);
    const C sc = SC[po], bi = BI[po], m = C(mean), iv = C(inv);
    g.each(p, [&](int64_t n, int64_t c, int64_t s) {
      C xh = (C(toFloat(X[ix(n, c, s)])) - m) * iv;
      storeScaled(Y + iy(n, c, s), sc * xh + bi, al, be);
    });
    if (RM) {
      // Unbiased variance for the running estimate; a single-element group has none, so 0.
      double unbiased = M > 1 ? var * M / (M - 1) : 0.0;
      RM[po] = C((1 - factor) * double(RM[po]) + factor * mean);
      RV[po] = C((1 - factor) * double(RV[po]) + factor * unbiased);
    }
    if (SM) {
      SM[po] = C(mean);
      SI[po] = C(inv);
    }
  });
}

template <class T>
void inferImpl(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *xData, void *yData,
               const void *scale, const void *bias, const void *meanData, const void *varData) {
  using C = compute_t<T>;
  const Groups g(a);
  const Indexer ix(a.x), iy(a.y);
  const T *X = static_cast<const T *>(xData);
  T *Y = static_cast<T *>(yData);
  const C *SC = static_cast<const C *>(scale), *BI = static_cast<const C *>(bias);
  const C *EM = static_cast<const C *>(meanData), *EV = static_cast<const C *>(varData);
  const C al = C(alpha), be = C(beta);
  parallelFor(h, g.params(), [&](int64_t p) {
    const int64_t po = offsetOf(a.bn, p);
    const C inv = C(1.0 / std::sqrt(double(EV[po]) + a.epsilon));
    // y = k * x + b with k, b folded per parameter.
    const C k = SC[po] * inv, b = BI[po] - SC[po] * inv * EM[po];
    g.each(p, [&](int64_t n, int64_t c, int64_t s) {
      storeScaled(Y + iy(n, c, s), k * C(toFloat(X[ix(n, c, s)])) + b, al, be);
    });
  });
}

template <class T>
void backwardImpl(const laminaContext &h, const BNArgs &a, double alphaData, double betaData, double alphaParam,
                  double betaParam, const void *xData, const void *dyData, void *dxData, const void *scale,
                  void *dScale, void *dBias, const void *savedMean, const void *savedInvVar) {
  using C = compute_t<T>;
  const Groups g(a);
  const Indexer ix(a.x), idy(a.y), idx(a.dx);
  const T *X = static_cast<const T *>(xData), *DY = static_cast<const T *>(dyData);
  T *DX = static_cast<T *>(dxData);
  const C *SC = static_cast<const C *>(scale);
  C *DS = static_cast<C *>(dScale), *DB = static_cast<C *>(dBias);
  const C *SM = static_cast<const C *>(savedMean), *SI = static_cast<const C *>(savedInvVar);
  const double M = double(g.members());
  parallelFor(h, g.params(), [&](int64_t p) {
    const int64_t po = offsetOf(a.bn, p);
    double mean, inv;
    if (SM) {
      mean = double(SM[po]);
      inv = double(SI[po]);
    } else {
      double var;
      groupStats(g, ix, X, p, mean, var);
      inv = 1.0 / std::sqrt(var + a.epsilon);
    }
    double sdy = 0, sdyx = 0; // dBias and dScale
    g.each(p, [&](int64_t n, int64_t c, int64_t s) {
      double dy = double(toFloat(DY[idy(n, c, s)]));
      sdy += dy;
      sdyx += dy * (double(toFloat(X[ix(n, c, s)])) - mean) * inv;
    });
    // dx = scale * inv / M * (M * dy - sum(dy) - xhat * sum(dy * xhat))
    const C k = C(double(SC[po]) * inv / M), mC = C(M), sdyC = C(sdy), sdyxC = C(sdyx), meanC = C(mean), invC = C(inv);
    g.each(p, [&](int64_t n, int64_t c, int64_t s) {
      C xh = (C(toFloat(X[ix(n, c, s)])) - meanC) * invC;
      C v = k * (mC * C(toFloat(DY[idy(n, c, s)])) - sdyC - xh * sdyxC);
      storeScaled(DX + idx(n, c, s), v, C(alphaData), C(betaData));
    });
    storeScaled(DS + po, C(sdyx), C(alphaParam), C(betaParam));
    storeScaled(DB + po, C(sdy), C(alphaParam), C(betaParam));
  });
}

} // namespace

void bnForwardTraining(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *x, void *y,
                       const void *scale, const void *bias, double factor, void *runMean, void *runVar, void *saveMean,
                       void *saveInvVar) {
  LAMINA_DISPATCH_FLOAT_TYPES(a.x.dataType, trainImpl, h, a, alpha, beta, x, y, scale, bias, factor, runMean, runVar,
                              saveMean, saveInvVar);
}
void bnForwardInference(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *x, void *y,
                        const void *scale, const void *bias, const void *mean, const void *var) {
  LAMINA_DISPATCH_FLOAT_TYPES(a.x.dataType, inferImpl, h, a, alpha, beta, x, y, scale, bias, mean, var);
}
void bnBackward(const laminaContext &h, const BNArgs &a, double alphaData, double betaData, double alphaParam,
                double betaParam, const void *x, const void *dy, void *dx, const void *scale, void *dScale, void *dBias,
                const void *savedMean, const void *savedInvVar) {
  LAMINA_DISPATCH_FLOAT_TYPES(a.x.dataType, backwardImpl, h, a, alphaData, betaData, alphaParam, betaParam, x, dy, dx,
                              scale, dScale, dBias, savedMean, savedInvVar);
}

} // namespace lamina::cpu
