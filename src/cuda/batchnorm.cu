// CUDA batch normalisation with the CPU's arithmetic (src/cpu/batchnorm.cpp): statistics and gradient
// sums in double with two passes (mean, then centred squares), per-element math in the compute type.
// A team owns one parameter (a channel in SPATIAL mode, an activation in PER_ACTIVATION mode) and
// reduces over its members: a block per channel (many members: N x spatial), a thread per activation
// (few members: N). Reductions are in a fixed order (deterministic). Each element is read and then
// written by the same thread after the team's reductions, so in-place calls (y over x, dx over dy)
// are safe. Parameter tensors hold acc_t<T> (float, double for double data), at their own strides.
#include "cuda/device.cuh"
#include "cuda/ops.h"
#include "cuda/team.cuh"

namespace lamina::cuda {
namespace {

// Walks over parameters (tensors: data 0, 1, 2 and the parameter tensor 3) and over the members of
// a parameter (data tensors 0, 1, 2). Element (p, m) of data tensor k is at P.offsets(p)[k] +
// M.offsets(m)[k]; parameter p is at P.offsets(p)[3].
struct BnWalks {
  Shape<4> P;
  Shape<3> M;
  bool spatial;
};

// d0, d1, d2: the data tensors (repeat one for an unused slot).
BnWalks makeWalks(const BNArgs &a, const TensorDesc &d0, const TensorDesc &d1, const TensorDesc &d2) {
  const TensorDesc *ts[4] = {&d0, &d1, &d2, &a.bn};
  const TensorDesc &x = a.x;
  const bool spatial = a.mode == LAMINA_BATCHNORM_SPATIAL;
  int64_t pd[LAMINA_DIM_MAX], md[LAMINA_DIM_MAX], ps[4][LAMINA_DIM_MAX], ms[3][LAMINA_DIM_MAX];
  int np = 0, nm = 0;
  md[nm++] = x.dims[0];
  pd[np++] = x.dims[1];
  for (int d = 2; d < x.nbDims; ++d) {
    if (spatial)
      md[nm++] = x.dims[d];
    else
      pd[np++] = x.dims[d];
  }
  for (int k = 0; k < 4; ++k) {
    int ip = 0, im = 0;
    if (k < 3)
      ms[k][im++] = ts[k]->strides[0];
    ps[k][ip++] = ts[k]->strides[1];
    for (int d = 2; d < x.nbDims; ++d) {
      if (!spatial)
        ps[k][ip++] = ts[k]->strides[d];
      else if (k < 3)
        ms[k][im++] = ts[k]->strides[d];
    }
  }
  const int64_t *psp[4] = {ps[0], ps[1], ps[2], ps[3]}, *msp[3] = {ms[0], ms[1], ms[2]};
  return BnWalks{makeShape<4>(np, pd, psp), makeShape<3>(nm, md, msp), spatial};
}

// Mean and biased variance of the team's parameter (member offsets added to base x).
template <int kTeam, class T>
__device__ __forceinline__ void teamStats(const Team<kTeam> &team, const T *xp, const Shape<3> &M, double &mean,
                                          double &var) {
  int64_t off[3];
  double s = 0;
  for (int64_t m = team.rank; m < M.numel; m += team.size) {
    M.offsets(m, off);
    s += double(toAcc(xp[off[0]]));
  }
  mean = teamReduce<kTeam>(s, SumOp<double>()) / double(M.numel);
  double q = 0;
  for (int64_t m = team.rank; m < M.numel; m += team.size) {
    M.offsets(m, off);
    const double d = double(toAcc(xp[off[0]])) - mean;
    q += d * d;
  }
  var = teamReduce<kTeam>(q, SumOp<double>()) / double(M.numel);
}

// Tensors: 0 = x, 1 = y.
template <class T, int kTeam>
__global__ void trainKernel(BnWalks w, const T *X, T *Y, const acc_t<T> *scale, const acc_t<T> *bias, double epsilon,
                            double factor, acc_t<T> *runMean, acc_t<T> *runVar, acc_t<T> *saveMean, acc_t<T> *saveInv,
                            acc_t<T> alpha, acc_t<T> beta) {
  using C = acc_t<T>;
  const Team<kTeam> team;
  const double M = double(w.M.numel);
  for (int64_t p = team.first; p < w.P.numel; p += team.count) { // uniform per team
    int64_t po[4], off[3];
    w.P.offsets(p, po);
    const T *xp = X + po[0];
    T *yp = Y + po[1];
    double mean, var;
    teamStats<kTeam>(team, xp, w.M, mean, var);
    const double inv = 1.0 / sqrt(var + epsilon);
    const C sc = scale[po[3]], bi = bias[po[3]], m = C(mean), iv = C(inv);
    for (int64_t e = team.rank; e < w.M.numel; e += team.size) {
      w.M.offsets(e, off);
      const C xh = (toAcc(xp[off[0]]) - m) * iv;
      storeScaled(yp + off[1], sc * xh + bi, alpha, beta);
    }
    if (team.rank == 0) {
      if (runMean) {
        // Unbiased variance for the running estimate; a single-member group has none, so 0.
        const double unbiased = M > 1 ? var * M / (M - 1) : 0.0;
        runMean[po[3]] = C((1 - factor) * double(runMean[po[3]]) + factor * mean);
        runVar[po[3]] = C((1 - factor) * double(runVar[po[3]]) + factor * unbiased);
      }
      if (saveMean) {
        saveMean[po[3]] = C(mean);
        saveInv[po[3]] = C(inv);
      }
    }
  }
}

// Elementwise: y = k * x + b with k, b folded per parameter as on the CPU. all: x, y over all dims;
// param index of element e: spatial: (e / S) % C, per activation: e % (C * S); bn: its walk.
template <class T>
__global__ void inferKernel(Shape<2> all, Shape<1> bn, bool spatial, int64_t C, int64_t S, const T *X, T *Y,
                            const acc_t<T> *scale, const acc_t<T> *bias, const acc_t<T> *mean, const acc_t<T> *var,
                            double epsilon, acc_t<T> alpha, acc_t<T> beta) {
  using A = acc_t<T>;
  LAMINA_GRID_STRIDE_LOOP(e, all.numel) {
    int64_t off[2], po[1];
    all.offsets(e, off);
    bn.offsets(spatial ? (e / S) % C : e % (C * S), po);
    const A inv = A(1.0 / sqrt(double(var[po[0]]) + epsilon));
    const A sc = scale[po[0]];
    const A k = sc * inv, b = bias[po[0]] - sc * inv * mean[po[0]];
    storeScaled(Y + off[1], k * toAcc(X[off[0]]) + b, alpha, beta);
  }
}

// Tensors: 0 = x, 1 = dy, 2 = dx.
template <class T, int kTeam>
__global__ void backwardKernel(BnWalks w, const T *X, const T *DY, T *DX, const acc_t<T> *scale, acc_t<T> *dScale,
                               acc_t<T> *dBias, const acc_t<T> *savedMean, const acc_t<T> *savedInv, double epsilon,
                               acc_t<T> alphaData, acc_t<T> betaData, acc_t<T> alphaParam, acc_t<T> betaParam) {
  using C = acc_t<T>;
  const Team<kTeam> team;
  const double M = double(w.M.numel);
  for (int64_t p = team.first; p < w.P.numel; p += team.count) { // uniform per team
    int64_t po[4], off[3];
    w.P.offsets(p, po);
    const T *xp = X + po[0], *dyp = DY + po[1];
    T *dxp = DX + po[2];
    double mean, inv;
    if (savedMean) {
      mean = double(savedMean[po[3]]);
      inv = double(savedInv[po[3]]);
    } else {
      double var;
      teamStats<kTeam>(team, xp, w.M, mean, var);
      inv = 1.0 / sqrt(var + epsilon);
    }
    double sdy = 0, sdyx = 0;
    for (int64_t e = team.rank; e < w.M.numel; e += team.size) {
      w.M.offsets(e, off);
      const double d = double(toAcc(dyp[off[1]]));
      sdy += d;
      sdyx += d * (double(toAcc(xp[off[0]])) - mean) * inv;
    }
    sdy = teamReduce<kTeam>(sdy, SumOp<double>());
    sdyx = teamReduce<kTeam>(sdyx, SumOp<double>());
    // dx = scale * inv / M * (M * dy - sum(dy) - xhat * sum(dy * xhat))
    const C k = C(double(scale[po[3]]) * inv / M), mC = C(M), sdyC = C(sdy), sdyxC = C(sdyx), meanC = C(mean),
            invC = C(inv);
    for (int64_t e = team.rank; e < w.M.numel; e += team.size) {
      w.M.offsets(e, off);
      const C xh = (toAcc(xp[off[0]]) - meanC) * invC;
      storeScaled(dxp + off[2], k * (mC * toAcc(dyp[off[1]]) - sdyC - xh * sdyxC), alphaData, betaData);
    }
    if (team.rank == 0) {
      storeScaled(dScale + po[3], sdyxC, alphaParam, betaParam);
      storeScaled(dBias + po[3], sdyC, alphaParam, betaParam);
    }
  }
}

// SPATIAL: a block per channel; PER_ACTIVATION: a thread per activation.
int teamFor(const BnWalks &w) { return w.spatial ? kTeamBlock : kTeamThread; }

template <class T>
void trainT(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *x, void *y,
            const void *scale, const void *bias, double factor, void *runMean, void *runVar, void *saveMean,
            void *saveInvVar) {
  using C = acc_t<T>;
  const BnWalks w = makeWalks(a, a.x, a.y, a.y);
  if (w.P.numel == 0 || w.M.numel == 0)
    return;
  const int team = teamFor(w);
  const unsigned grid = gridForTeams(team, w.P.numel, kBlock);
  auto args = [&](auto kernel) {
    kernel<<<grid, kBlock, 0, streamOf(h)>>>(
        w, static_cast<const T *>(x), static_cast<T *>(y), static_cast<const C *>(scale), static_cast<const C *>(bias),
        a.epsilon, factor, static_cast<C *>(runMean), static_cast<C *>(runVar), static_cast<C *>(saveMean),
        static_cast<C *>(saveInvVar), C(alpha), C(beta));
  };
  if (team == kTeamBlock)
    args(trainKernel<T, kTeamBlock>);
  else
    args(trainKernel<T, kTeamThread>);
  LAMINA_CUDA_LAUNCHED();
}

template <class T>
void inferT(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *x, void *y,
            const void *scale, const void *bias, const void *mean, const void *var) {
  using C = acc_t<T>;
  const int64_t *st[2] = {a.x.strides, a.y.strides};
  const Shape<2> all = makeShape<2>(a.x.nbDims, a.x.dims, st);
  if (all.numel == 0)
    return;
  int64_t S = 1;
  for (int d = 2; d < a.x.nbDims; ++d)
    S *= a.x.dims[d];
  const bool spatial = a.mode == LAMINA_BATCHNORM_SPATIAL;
  inferKernel<T><<<gridFor(all.numel), kBlock, 0, streamOf(h)>>>(
      all, makeShape(a.bn), spatial, a.x.dims[1], S, static_cast<const T *>(x), static_cast<T *>(y),
      static_cast<const C *>(scale), static_cast<const C *>(bias), static_cast<const C *>(mean),
      static_cast<const C *>(var), a.epsilon, C(alpha), C(beta));
  LAMINA_CUDA_LAUNCHED();
}

template <class T>
void backwardT(const laminaContext &h, const BNArgs &a, double alphaData, double betaData, double alphaParam,
               double betaParam, const void *x, const void *dy, void *dx, const void *scale, void *dScale, void *dBias,
               const void *savedMean, const void *savedInvVar) {
  using C = acc_t<T>;
  const BnWalks w = makeWalks(a, a.x, a.y, a.dx);
  if (w.P.numel == 0 || w.M.numel == 0)
    return;
  const int team = teamFor(w);
  const unsigned grid = gridForTeams(team, w.P.numel, kBlock);
  auto args = [&](auto kernel) {
    kernel<<<grid, kBlock, 0, streamOf(h)>>>(
        w, static_cast<const T *>(x), static_cast<const T *>(dy), static_cast<T *>(dx), static_cast<const C *>(scale),
        static_cast<C *>(dScale), static_cast<C *>(dBias), static_cast<const C *>(savedMean),
        static_cast<const C *>(savedInvVar), a.epsilon, C(alphaData), C(betaData), C(alphaParam), C(betaParam));
  };
  if (team == kTeamBlock)
    args(backwardKernel<T, kTeamBlock>);
  else
    args(backwardKernel<T, kTeamThread>);
  LAMINA_CUDA_LAUNCHED();
}

} // namespace

void bnForwardTraining(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *x, void *y,
                       const void *scale, const void *bias, double factor, void *runMean, void *runVar, void *saveMean,
                       void *saveInvVar) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.x.dataType, trainT, h, a, alpha, beta, x, y, scale, bias, factor, runMean, runVar,
                                   saveMean, saveInvVar);
}

void bnForwardInference(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *x, void *y,
                        const void *scale, const void *bias, const void *mean, const void *var) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.x.dataType, inferT, h, a, alpha, beta, x, y, scale, bias, mean, var);
}

void bnBackward(const laminaContext &h, const BNArgs &a, double alphaData, double betaData, double alphaParam,
                double betaParam, const void *x, const void *dy, void *dx, const void *scale, void *dScale, void *dBias,
                const void *savedMean, const void *savedInvVar) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.x.dataType, backwardT, h, a, alphaData, betaData, alphaParam, betaParam, x, dy, dx,
                                   scale, dScale, dBias, savedMean, savedInvVar);
}

} // namespace lamina::cuda
