// Backward-data GEMM on the GPU: the filter is packed once into [K][Cg*F] (flip applied); per chunk
// of whole images, dy is packed into [K][nb*P], one cuBLAS call strided-batched over the groups
// computes the columns
//   cols_g[Cg*F x nb*P] = W_g^T[Cg*F x Kg] * dy_g[Kg x nb*P]
// in the accumulation type, and col2im runs as a gather: one thread per dx element sums, in a fixed
// order, the column entries that map to it (deterministic, no atomics), then
// dx = alpha * sum + beta * dx through dx's strides (dx unread when beta == 0).
#include "cuda/conv_algorithms.h"
#include "cuda/conv_gemm_common.cuh"
#include "cuda/conv_pointwise.h"

namespace lamina::cuda {
namespace {

using namespace gemmconv;

size_t bytesPerPos(const ConvProblem &p) { return p.K * storageSize(p) + p.C * p.filtSize() * accSize(p); }
// Whole images: the gather of a dx element reads output positions anywhere in its image.
Plan planOf(const ConvProblem &p) { return makePlan(p, bytesPerPos(p), true); }

size_t workspace(const ConvProblem &p) {
  if (pointwiseApplies(p, ConvDirection::BackwardData))
    return pointwiseWorkspace(p, ConvDirection::BackwardData);
  const Plan pl = planOf(p);
  return alignUp(size_t(p.K * p.Cg() * p.filtSize()) * storageSize(p)) +
         alignUp(size_t(p.K * pl.cols()) * storageSize(p)) +
         alignUp(size_t(p.C * p.filtSize() * pl.cols()) * accSize(p));
}

// The taps f of one spatial dim that reach input coordinate i (i = o * str - pad + f * dil for an output
// o in [0, out)): f = first, first + step, ... < end. With dil == 1 only every str-th tap can (f = t mod
// str, t = i + pad), so the gather visits ceil(filt / str) taps per dim instead of filt (alexnet.conv1,
// 11 taps at stride 4: 9 of 121 per element); otherwise every tap, each checked (checkEach).
struct TapRange {
  int first, end, step;
  bool checkEach;
};
__device__ __forceinline__ TapRange tapsReaching(int i, int pad, int filt, int str, int dil, int out) {
  const int t = i + pad;
  if (dil != 1)
    return {0, filt, 1, true};
  // o = (t - f) / str in [0, out): f <= t and f > t - out * str.
  const int lo = max(0, t - out * str + 1);
  int first = t % str; // the residue class of t; the first tap of it at or above lo
  if (first < lo)
    first += (lo - first + str - 1) / str * str;
  return {first, min(filt, t + 1), str, false};
}

// dx(n0 + j, c, i) = alpha * sum over taps f with i = o * stride - pad + f * dil of
// cols[c*F + f][j*P + o] + beta * dx(...).
template <class T>
__global__ void col2imKernel(Geom g, const acc_t<T> *__restrict__ cols, int64_t n0, int64_t nb, acc_t<T> alpha,
                             acc_t<T> beta, T *__restrict__ dx) {
  const int64_t ncols = nb * g.P, total = nb * g.C * g.I;
  LAMINA_GRID_STRIDE_LOOP(e, total) {
    const int64_t ii = e % g.I, c = (e / g.I) % g.C, j = e / (g.I * g.C);
    const int i2 = int(ii % g.in[2]), i1 = int((ii / g.in[2]) % g.in[1]), i0 = int(ii / (g.in[2] * g.in[1]));
    const acc_t<T> *base = cols + c * g.F * ncols + j * g.P;
    acc_t<T> sum = 0;
    // Output coordinate of tap f in dim d (-1: none), for the taps a range yields.
    const auto outOf = [&](int d, int i, int f, bool check) {
      const int t = i + int(g.pad[d]) - f * int(g.dil[d]), s = int(g.str[d]);
      if (!check)
        return t / s;
      return t < 0 || t % s != 0 || t / s >= g.out[d] ? -1 : t / s;
    };
    const TapRange r0 = tapsReaching(i0, int(g.pad[0]), int(g.filt[0]), int(g.str[0]), int(g.dil[0]), int(g.out[0]));
    const TapRange r1 = tapsReaching(i1, int(g.pad[1]), int(g.filt[1]), int(g.str[1]), int(g.dil[1]), int(g.out[1]));
    const TapRange r2 = tapsReaching(i2, int(g.pad[2]), int(g.filt[2]), int(g.str[2]), int(g.dil[2]), int(g.out[2]));
    for (int f0 = r0.first; f0 < r0.end; f0 += r0.step) {
      const int o0 = outOf(0, i0, f0, r0.checkEach);
      if (o0 < 0)
        continue;
      for (int f1 = r1.first; f1 < r1.end; f1 += r1.step) {
        const int o1 = outOf(1, i1, f1, r1.checkEach);
        if (o1 < 0)
          continue;
        const int64_t row = (int64_t(o0) * g.out[1] + o1) * g.out[2];
        const int64_t frow = (int64_t(f0) * g.filt[1] + f1) * g.filt[2];
        for (int f2 = r2.first; f2 < r2.end; f2 += r2.step) {
          const int o2 = outOf(2, i2, f2, r2.checkEach);
          if (o2 < 0)
            continue;
          sum += base[(frow + f2) * ncols + row + o2];
        }
      }
    }
    storeScaled(dx + (n0 + j) * g.xs[0] + c * g.xs[1] + i0 * g.xs[2] + i1 * g.xs[3] + i2 * g.xs[4], sum, alpha, beta);
  }
}

template <class T> void run(const ConvArgs &a) {
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const laminaContext &h = *a.handle;
  const Geom g = makeGeom(p);
  const Plan pl = planOf(p);
  const int64_t CgF = g.Cg * g.F;
  WsCarver ws{static_cast<char *>(a.workspace)};
  T *wpack = ws.take<T>(g.K * CgF);
  T *dyPack = ws.take<T>(g.K * pl.cols());
  A *cols = ws.take<A>(g.C * g.F * pl.cols());
  packFilter(h, g, static_cast<const T *>(a.w), wpack);
  const T *dy = static_cast<const T *>(a.dy);
  T *dx = static_cast<T *>(a.dx);
  for (int64_t c = 0; c < pl.chunks; ++c) {
    const Chunk ch = chunkOf(p, pl, c); // whole images: p0 = 0, np = P
    const int64_t ncols = ch.nb * ch.np;
    packOut(h, g, dy, ch, dyPack);
    // Column-major view: cols_g^T[ncols x CgF] = dy_g^T[ncols x Kg] * W_g[Kg x CgF]; dy_g as stored
    // (row-major [Kg][ncols]), W_g (row-major [Kg][CgF], column-major CgF x Kg) transposed.
    GemmCall gc;
    gc.abType = p.dataType;
    gc.cType = accType(p);
    gc.math = p.math;
    gc.transB = true;
    gc.m = ncols, gc.n = CgF, gc.k = g.Kg;
    gc.A = dyPack, gc.lda = ncols, gc.strideA = g.Kg * ncols;
    gc.B = wpack, gc.ldb = CgF, gc.strideB = g.Kg * CgF;
    gc.C = cols, gc.ldc = ncols, gc.strideC = g.Cg * g.F * ncols;
    gc.batch = g.G;
    gemmStridedBatched(h, gc);
    col2imKernel<T>
        <<<gridFor(ch.nb * g.C * g.I), kBlock, 0, streamOf(h)>>>(g, cols, ch.n0, ch.nb, A(a.alpha), A(a.beta), dx);
    LAMINA_CUDA_LAUNCHED();
  }
}

std::string whyNot(const ConvProblem &p) {
  if (pointwiseApplies(p, ConvDirection::BackwardData))
    return {};
  std::string why = whyNotGemm(p);
  if (why.empty() && p.outSize() > INT_MAX)
    return "an image's output positions exceed the 32-bit range of cuBLAS";
  // col2im's per-dim coordinates are 32-bit (tapsReaching).
  for (int i = 0; why.empty() && i < p.spatialDims; ++i)
    if (p.in[i] + p.pad[i] > INT_MAX / 2 || p.out[i] * p.stride[i] > INT_MAX / 2 || p.filt[i] * p.dil[i] > INT_MAX / 2)
      why = "a spatial size, padding, stride or dilated filter beyond col2im's 32-bit coordinates";
  return why;
}

double estimate(const ConvProblem &p) {
  if (pointwiseApplies(p, ConvDirection::BackwardData))
    return pointwiseEstimateMs(p, ConvDirection::BackwardData);
  const double T = double(storageSize(p)), Acc = double(accSize(p));
  const double NP = double(p.N) * double(p.outSize());
  const double bytes = NP * (2.0 * p.K * T + 2.0 * p.C * p.filtSize() * Acc) + double(p.N) * p.C * p.inSize() * T;
  // The columns' round trip and the col2im gather run far below the 3 TB/s estimateMs assumes: on the
  // H200 ~1 TB/s over all these bytes at stride 1 (vgg16 in fp32, tf32 and fp16 alike) and ~0.6 TB/s
  // strided (alexnet.conv1 and resnet50.conv1 since the gather visits only the taps that reach; 0.26-0.43
  // before).
  bool strided = false;
  for (int i = 0; i < p.spatialDims; ++i)
    strided = strided || p.stride[i] > 1;
  return estimateMs(p, bytes * (strided ? 3.5 : 3.0), planOf(p).chunks, 2);
}

// 1x1 convolutions on packed tensors skip the workspace: one cuBLAS call (conv_pointwise.cu).
void runAny(const ConvArgs &a) {
  if (pointwiseApplies(*a.p, ConvDirection::BackwardData))
    return runPointwise(a, ConvDirection::BackwardData);
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, run, a);
}

template <class T> void preloadT() {
  preloadKernel(col2imKernel<T>);
  gemmconv::preloadHelpers<T>();
}
} // namespace

void preloadConvBwdDataGemm() { LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT); }

const ConvAlgorithm kConvBwdDataGemm = {ConvDirection::BackwardData,
                                        LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM,
                                        "GEMM",
                                        LAMINA_DETERMINISTIC,
                                        whyNot,
                                        workspace,
                                        estimate,
                                        runAny,
                                        prepareByRunning};

} // namespace lamina::cuda
