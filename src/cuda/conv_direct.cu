// Forward DIRECT: one thread per output element, looping over its window (Cg channels x filter taps)
// and reading x and w through their strides. Simple and exact (the compute type, FMA, whatever the
// math type), so it is also the GPU's own reference; the choice for depthwise and other thin
// convolutions where a GEMM tile has nothing to work with.
#include "cuda/conv_algorithms.h"
#include "cuda/conv_igemm_common.cuh"

namespace lamina::cuda {
namespace {

using igemm::Geom;

// w points at the logical tap (0, 0, 0, 0, 0) (already offset by g.wOff; flip in g.ws).
template <class T>
__global__ void directForward(const Geom g, const T *__restrict__ x, const T *__restrict__ w, T *__restrict__ y,
                              acc_t<T> alpha, acc_t<T> beta) {
  using A = acc_t<T>;
  const int64_t K = g.G * g.Kg, total = g.N * K * g.P;
  // Row-major over (n, k, o0, o1, o2): consecutive threads take consecutive output columns.
  LAMINA_GRID_STRIDE_LOOP(idx, total) {
    int64_t o[3];
    int64_t r = idx;
    o[2] = r % g.out[2], r /= g.out[2];
    o[1] = r % g.out[1], r /= g.out[1];
    o[0] = r % g.out[0], r /= g.out[0];
    const int64_t k = r % K, n = r / K, grp = k / g.Kg;
    int64_t ib[3];
    for (int d = 0; d < 3; ++d)
      ib[d] = o[d] * g.str[d] - g.pad[d];
    const T *xn = x + n * g.xs[0] + grp * g.Cg * g.xs[1];
    const T *wk = w + k * g.ws[0];
    A acc = A(0);
    for (int64_t c = 0; c < g.Cg; ++c) {
      const T *xc = xn + c * g.xs[1];
      const T *wc = wk + c * g.ws[1];
      for (int64_t f0 = 0; f0 < g.filt[0]; ++f0) {
        const int64_t i0 = ib[0] + f0 * g.dil[0];
        if (i0 < 0 || i0 >= g.in[0])
          continue;
        for (int64_t f1 = 0; f1 < g.filt[1]; ++f1) {
          const int64_t i1 = ib[1] + f1 * g.dil[1];
          if (i1 < 0 || i1 >= g.in[1])
            continue;
          const T *xr = xc + i0 * g.xs[2] + i1 * g.xs[3];
          const T *wr = wc + f0 * g.ws[2] + f1 * g.ws[3];
          for (int64_t f2 = 0; f2 < g.filt[2]; ++f2) {
            const int64_t i2 = ib[2] + f2 * g.dil[2];
            if (i2 >= 0 && i2 < g.in[2])
              acc = fma(toAcc(xr[i2 * g.xs[4]]), toAcc(wr[f2 * g.ws[4]]), acc);
          }
        }
      }
    }
    storeScaled(y + n * g.ys[0] + k * g.ys[1] + o[0] * g.ys[2] + o[1] * g.ys[3] + o[2] * g.ys[4], acc, alpha, beta);
  }
}

template <class T> void launch(const ConvArgs &a, const Geom &g) {
  const int64_t total = g.N * g.G * g.Kg * g.P;
  if (total == 0)
    return;
  directForward<T><<<gridFor(total), kBlock, 0, streamOf(*a.handle)>>>(
      g, static_cast<const T *>(a.x), static_cast<const T *>(a.w) + g.wOff, static_cast<T *>(a.y), acc_t<T>(a.alpha),
      acc_t<T>(a.beta));
  LAMINA_CUDA_LAUNCHED();
}

std::string whyNot(const ConvProblem &) { return {}; }
size_t workspace(const ConvProblem &) { return 0; }
double estimate(const ConvProblem &p) {
  // One output per thread, every input read from cache once per tap: ~1.5 TFLOP/s in fp32 (less
  // for double and the 16-bit types), but no tile is wasted on thin problems. No faster than one
  // thread's walk over its window, ~120 ns a tap past the first ~32 (which the launch's latency
  // covers): on the H200 lenet.conv2's 500 taps ran 0.063-0.076 ms at batch 1 and 8, where the rate
  // alone said 0.006; lenet.conv1's 25 taps ran 0.0066 ms in all.
  const double rate = p.dataType == LAMINA_DATA_DOUBLE ? 1000.0 : p.dataType == LAMINA_DATA_FLOAT ? 1500.0 : 1200.0;
  const double walkMs = std::max(0.0, double(p.Cg()) * double(p.filtSize()) - 32.0) * 1.2e-4;
  return igemm::kLaunchMs + std::max(p.flops() / (rate * 1e6), walkMs) + igemm::bytesMs(p);
}

void run(const ConvArgs &a) {
  const Geom g = igemm::makeGeom(*a.p);
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, launch, a, g);
}

template <class T> void preloadT() { preloadKernel(directForward<T>); }
} // namespace

void preloadConvFwdDirect() { LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT); }

const ConvAlgorithm kConvFwdDirect = {ConvDirection::Forward,
                                      LAMINA_CONVOLUTION_FWD_ALGO_DIRECT,
                                      "DIRECT",
                                      LAMINA_DETERMINISTIC,
                                      whyNot,
                                      workspace,
                                      estimate,
                                      run};

} // namespace lamina::cuda
