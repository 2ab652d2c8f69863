// Backward-filter GEMM on the GPU: per chunk of images (or of output positions of one large image),
// im2col of x into [C*F][nb*np] and a pack of dy into [K][nb*np], then one cuBLAS call
// strided-batched over the groups accumulates
//   acc_g[Kg x Cg*F] (+)= dy_g[Kg x nb*np] * cols_g^T[nb*np x Cg*F]
// into an fp32 (fp64 for double) workspace buffer (beta 0 on the first chunk, 1 after: a fixed
// order, deterministic). An epilogue writes dw = alpha * acc + beta * dw through w's strides (flip
// applied; dw unread when beta == 0).
#include "cuda/conv_algorithms.h"
#include "cuda/conv_gemm_common.cuh"
#include "cuda/conv_pointwise.h"

namespace lamina::cuda {
namespace {

using namespace gemmconv;

size_t bytesPerPos(const ConvProblem &p) { return (p.C * p.filtSize() + p.K) * storageSize(p); }
Plan planOf(const ConvProblem &p) { return makePlan(p, bytesPerPos(p), false); }

size_t workspace(const ConvProblem &p) {
  if (pointwiseApplies(p, ConvDirection::BackwardFilter))
    return pointwiseWorkspace(p, ConvDirection::BackwardFilter);
  const Plan pl = planOf(p);
  return alignUp(size_t(p.K * p.Cg() * p.filtSize()) * accSize(p)) +
         alignUp(size_t(p.C * p.filtSize() * pl.cols()) * storageSize(p)) +
         alignUp(size_t(p.K * pl.cols()) * storageSize(p));
}

// dw(k, c, f) = alpha * acc[k][c*F + f] + beta * dw(k, c, f), through w's (flipped) strides.
template <class T>
__global__ void storeFilterKernel(Geom g, const acc_t<T> *__restrict__ acc, acc_t<T> alpha, acc_t<T> beta,
                                  T *__restrict__ dw) {
  const int64_t CgF = g.Cg * g.F, total = g.K * CgF;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    const int64_t k = i / CgF, r = i % CgF, c = r / g.F, f = r % g.F;
    const int64_t f2 = f % g.filt[2], f1 = (f / g.filt[2]) % g.filt[1], f0 = f / (g.filt[2] * g.filt[1]);
    storeScaled(dw + g.wOff + k * g.ws[0] + c * g.ws[1] + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4], acc[i], alpha,
                beta);
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
  A *acc = ws.take<A>(g.K * CgF);
  T *cols = ws.take<T>(g.C * g.F * pl.cols());
  T *dyPack = ws.take<T>(g.K * pl.cols());
  const T *x = static_cast<const T *>(a.x);
  const T *dy = static_cast<const T *>(a.dy);
  for (int64_t c = 0; c < pl.chunks; ++c) {
    const Chunk ch = chunkOf(p, pl, c);
    const int64_t ncols = ch.nb * ch.np;
    im2col(h, g, x, ch, cols);
    packOut(h, g, dy, ch, dyPack);
    // Column-major view: acc_g^T[CgF x Kg] (+)= cols_g[CgF x ncols] * dy_g^T[ncols x Kg]; cols_g
    // (row-major [CgF][ncols], column-major ncols x CgF) transposed, dy_g as stored.
    GemmCall gc;
    gc.abType = p.dataType;
    gc.cType = accType(p);
    gc.math = p.math;
    gc.transA = true;
    gc.m = CgF, gc.n = g.Kg, gc.k = ncols;
    gc.beta = c == 0 ? 0.0 : 1.0;
    gc.A = cols, gc.lda = ncols, gc.strideA = g.Cg * g.F * ncols;
    gc.B = dyPack, gc.ldb = ncols, gc.strideB = g.Kg * ncols;
    gc.C = acc, gc.ldc = CgF, gc.strideC = g.Kg * CgF;
    gc.batch = g.G;
    gemmStridedBatched(h, gc);
  }
  storeFilterKernel<T>
      <<<gridFor(g.K * CgF), kBlock, 0, streamOf(h)>>>(g, acc, A(a.alpha), A(a.beta), static_cast<T *>(a.dw));
  LAMINA_CUDA_LAUNCHED();
}

std::string whyNot(const ConvProblem &p) {
  return pointwiseApplies(p, ConvDirection::BackwardFilter) ? std::string() : whyNotGemm(p);
}

double estimate(const ConvProblem &p) {
  if (pointwiseApplies(p, ConvDirection::BackwardFilter))
    return pointwiseEstimateMs(p, ConvDirection::BackwardFilter);
  const double T = double(storageSize(p));
  const double NP = double(p.N) * double(p.outSize());
  const double bytes = NP * (2.0 * p.C * p.filtSize() * T + 2.0 * p.K * T) + double(p.N) * p.C * p.inSize() * T;
  // im2col traffic as in the forward GEMM path (conv_gemm.cu): twice the bytes.
  return estimateMs(p, bytes * 2.0, planOf(p).chunks, 2);
}

// 1x1 convolutions on packed tensors skip the workspace: one cuBLAS call (conv_pointwise.cu).
void runAny(const ConvArgs &a) {
  if (pointwiseApplies(*a.p, ConvDirection::BackwardFilter))
    return runPointwise(a, ConvDirection::BackwardFilter);
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, run, a);
}

template <class T> void preloadT() {
  preloadKernel(storeFilterKernel<T>);
  gemmconv::preloadHelpers<T>();
}
} // namespace

void preloadConvBwdFilterGemm() { LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT); }

const ConvAlgorithm kConvBwdFilterGemm = {ConvDirection::BackwardFilter,
                                          LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM,
                                          "GEMM",
                                          LAMINA_DETERMINISTIC,
                                          whyNot,
                                          workspace,
                                          estimate,
                                          runAny,
                                          prepareByRunning};

} // namespace lamina::cuda
