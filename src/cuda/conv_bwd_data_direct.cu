// Backward-data DIRECT on the GPU, no workspace: one thread per dx element loops over the taps that
// reach it (o = (i + pad - f*dil) / stride when that divides exactly and lies below out) and the
// output channels of its group. Exact and simple; every dx element is written once.
#include "cuda/conv_algorithms.h"
#include "cuda/conv_bwd_common.cuh"

namespace lamina::cuda {
namespace {

using convbwd::Geom;
using convbwd::outFor;

// dx element `idx` of the walk: (n, spatial, c) order when channelsLast, so that neighbouring
// threads touch neighbouring memory for NHWC tensors; (n, c, spatial) otherwise.
template <class T>
__device__ void bwdDataDirectElement(const Geom &g, const T *dy, const T *w, T *dx, acc_t<T> alpha, acc_t<T> beta,
                                     bool channelsLast, int64_t idx) {
  using A = acc_t<T>;
  int64_t n, c, s;
  if (channelsLast) {
    c = idx % g.C;
    const int64_t rest = idx / g.C;
    s = rest % g.I;
    n = rest / g.I;
  } else {
    s = idx % g.I;
    const int64_t rest = idx / g.I;
    c = rest % g.C;
    n = rest / g.C;
  }
  int i[3];
  i[2] = int(s % g.in[2]);
  s /= g.in[2];
  i[1] = int(s % g.in[1]);
  i[0] = int(s / g.in[1]);
  const int64_t grp = c / g.Cg, cc = c - grp * g.Cg;
  const T *dyn = dy + n * g.ys[0] + grp * g.Kg * g.ys[1];
  const T *wc = w + grp * g.Kg * g.ws[0] + cc * g.ws[1];
  A acc = A(0);
  for (int f0 = 0; f0 < g.filt[0]; ++f0) {
    const int o0 = outFor(i[0], g.pad[0], f0 * g.dil[0], g.str[0], g.out[0]);
    if (o0 < 0)
      continue;
    for (int f1 = 0; f1 < g.filt[1]; ++f1) {
      const int o1 = outFor(i[1], g.pad[1], f1 * g.dil[1], g.str[1], g.out[1]);
      if (o1 < 0)
        continue;
      for (int f2 = 0; f2 < g.filt[2]; ++f2) {
        const int o2 = outFor(i[2], g.pad[2], f2 * g.dil[2], g.str[2], g.out[2]);
        if (o2 < 0)
          continue;
        const T *dyo = dyn + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4];
        const T *wf = wc + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4];
        for (int64_t k = 0; k < g.Kg; ++k)
          acc += toAcc(dyo[k * g.ys[1]]) * toAcc(wf[k * g.ws[0]]);
      }
    }
  }
  storeScaled(dx + n * g.xs[0] + c * g.xs[1] + i[0] * g.xs[2] + i[1] * g.xs[3] + i[2] * g.xs[4], acc, alpha, beta);
}

template <class T>
__global__ void bwdDataDirect(const Geom g, const T *dy, const T *w, T *dx, acc_t<T> alpha, acc_t<T> beta,
                              bool channelsLast) {
  const int64_t total = g.N * g.C * g.I;
  LAMINA_GRID_STRIDE_LOOP(idx, total) { bwdDataDirectElement(g, dy, w, dx, alpha, beta, channelsLast, idx); }
}

template <class T> void runTyped(const ConvArgs &a) {
  const ConvProblem &p = *a.p;
  const Geom g = convbwd::makeGeom(p);
  const int64_t total = g.N * g.C * g.I;
  if (total == 0)
    return;
  const bool channelsLast = g.C > 1 && p.x.strides[1] == 1;
  bwdDataDirect<T><<<gridFor(total), kBlock, 0, streamOf(*a.handle)>>>(
      g, static_cast<const T *>(a.dy), static_cast<const T *>(a.w) + g.wOff, static_cast<T *>(a.dx), acc_t<T>(a.alpha),
      acc_t<T>(a.beta), channelsLast);
  LAMINA_CUDA_LAUNCHED();
}

void run(const ConvArgs &a) { LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, runTyped, a); }

std::string whyNot(const ConvProblem &p) { return convbwd::whyNotGeom(p); }
size_t workspace(const ConvProblem &) { return 0; }
double estimate(const ConvProblem &p) {
  // Scalar loads of dy and w per multiply-add, cached: well below the tiled kernel.
  const double rate = p.dataType == LAMINA_DATA_DOUBLE ? 0.5e9 : 1e9; // flop per ms
  return 0.01 + p.flops() / rate;
}

template <class T> void preloadT() { preloadKernel(bwdDataDirect<T>); }
} // namespace

void preloadConvBwdDataDirect() { LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT); }

const ConvAlgorithm kConvBwdDataDirect = {ConvDirection::BackwardData,
                                          LAMINA_CONVOLUTION_BWD_DATA_ALGO_DIRECT,
                                          "DIRECT",
                                          LAMINA_DETERMINISTIC,
                                          whyNot,
                                          workspace,
                                          estimate,
                                          run};

} // namespace lamina::cuda
