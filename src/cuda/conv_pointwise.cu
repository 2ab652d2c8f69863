// 1x1 convolutions (stride 1, no padding, one group) on packed NCHW or NHWC tensors are GEMMs on the
// tensors as stored: the GEMM algorithms call cuBLAS on x, w and y directly, with alpha and beta, and
// need no workspace (no im2col, no epilogue pass). Row-major shapes (P = spatial size):
//   NCHW  fwd        y[n] [K x P]   = w [K x C]    * x[n] [C x P]     batched over n
//         bwd-data   dx[n] [C x P]  = w^T [C x K]  * dy[n] [K x P]    batched over n
//   NHWC  fwd        y [NP x K]     = x [NP x C]   * w^T [C x K]
//         bwd-data   dx [NP x C]    = dy [NP x K]  * w [K x C]
//         bwd-filter dw [K x C]     = dy^T [K x NP] * x [NP x C]      (one GEMM: deterministic)
//   NCHW  bwd-filter dw [K x C]     = dy' [K x NP] * x'^T [NP x C]    x', dy': [C][N * P] and [K][N * P]
// NCHW backward-filter reduces over images and positions, which NCHW does not hold at one stride: x
// and dy are first copied channel-major into the workspace (x', dy'), then one GEMM. cuBLAS reads y
// only when beta != 0.
#include "cuda/conv_gemm_common.cuh"
#include "cuda/conv_pointwise.h"

namespace lamina::cuda {

namespace {

enum class Form { None, Nchw, Nhwc };

// NCHW backward-filter's copies are kept below this (larger problems take the im2col path).
constexpr size_t kPackBudget = size_t(512) << 20;
size_t packBytes(const ConvProblem &p) {
  return size_t(p.C + p.K) * size_t(p.N) * size_t(p.outSize()) * dataTypeSize(p.dataType);
}

// dst[c][n * P + p] = src[n][c][p] for packed NCHW src (elements moved as raw words of their size).
template <class W>
__global__ void channelMajorKernel(const W *__restrict__ src, int64_t N, int64_t C, int64_t P, W *__restrict__ dst) {
  const int64_t total = N * C * P;
  LAMINA_GRID_STRIDE_LOOP(i, total) {
    const int64_t p = i % P, cn = i / P, n = cn % N, c = cn / N;
    dst[i] = src[(n * C + c) * P + p];
  }
}

void channelMajor(const laminaContext &h, const void *src, int64_t N, int64_t C, int64_t P, size_t elem, void *dst) {
  const cudaStream_t s = streamOf(h);
  const unsigned grid = gridFor(N * C * P);
  if (elem == 2)
    channelMajorKernel<<<grid, kBlock, 0, s>>>(static_cast<const uint16_t *>(src), N, C, P,
                                               static_cast<uint16_t *>(dst));
  else if (elem == 4)
    channelMajorKernel<<<grid, kBlock, 0, s>>>(static_cast<const uint32_t *>(src), N, C, P,
                                               static_cast<uint32_t *>(dst));
  else
    channelMajorKernel<<<grid, kBlock, 0, s>>>(static_cast<const uint64_t *>(src), N, C, P,
                                               static_cast<uint64_t *>(dst));
  LAMINA_CUDA_LAUNCHED();
}

Form formOf(const ConvProblem &p) {
  for (int i = 0; i < p.spatialDims; ++i)
    if (p.filt[i] != 1 || p.stride[i] != 1 || p.pad[i] != 0)
      return Form::None;
  if (p.G != 1 || p.w.strides[0] != p.C || p.w.strides[1] != 1)
    return Form::None;
  if (p.x.isPackedNCHW() && p.y.isPackedNCHW())
    return Form::Nchw;
  if (p.x.isPackedNHWC() && p.y.isPackedNHWC())
    return Form::Nhwc;
  return Form::None;
}

// The GEMM of the problem in cuBLAS's column-major terms; m == 0 when there is none.
GemmCall callOf(const ConvProblem &p, ConvDirection d) {
  GemmCall g;
  const Form f = formOf(p);
  const int64_t P = p.outSize(), NP = p.N * P;
  g.abType = g.cType = p.dataType;
  g.math = p.math;
  if (f == Form::Nchw && d == ConvDirection::Forward) {
    // y[n]^T [P x K] = x[n]^T [P x C] * w^T [C x K]
    g.m = P, g.n = p.K, g.k = p.C;
    g.lda = P, g.strideA = p.C * P;
    g.ldb = p.C, g.strideB = 0;
    g.ldc = P, g.strideC = p.K * P;
    g.batch = p.N;
  } else if (f == Form::Nchw && d == ConvDirection::BackwardData) {
    // dx[n]^T [P x C] = dy[n]^T [P x K] * w [K x C]
    g.m = P, g.n = p.C, g.k = p.K;
    g.lda = P, g.strideA = p.K * P;
    g.transB = true, g.ldb = p.C, g.strideB = 0;
    g.ldc = P, g.strideC = p.C * P;
    g.batch = p.N;
  } else if (f == Form::Nhwc && d == ConvDirection::Forward) {
    // y^T [K x NP] = w [K x C] * x^T [C x NP]
    g.m = p.K, g.n = NP, g.k = p.C;
    g.transA = true, g.lda = p.C;
    g.ldb = p.C;
    g.ldc = p.K;
  } else if (f == Form::Nhwc && d == ConvDirection::BackwardData) {
    // dx^T [C x NP] = w^T [C x K] * dy^T [K x NP]
    g.m = p.C, g.n = NP, g.k = p.K;
    g.lda = p.C;
    g.ldb = p.K;
    g.ldc = p.C;
  } else if (f == Form::Nchw && d == ConvDirection::BackwardFilter && packBytes(p) <= kPackBudget) {
    // dw^T [C x K] = x' [C x NP] * dy'^T [NP x K] (x', dy' row-major in the workspace)
    g.m = p.C, g.n = p.K, g.k = NP;
    g.transA = true, g.lda = NP;
    g.ldb = NP;
    g.ldc = p.C;
  } else if (f == Form::Nhwc && d == ConvDirection::BackwardFilter) {
    // dw^T [C x K] = x^T [C x NP] * dy [NP x K]
    g.m = p.C, g.n = p.K, g.k = NP;
    g.lda = p.C;
    g.transB = true, g.ldb = p.K;
    g.ldc = p.C;
  }
  if (g.m && !gemmFitsInt(g.m, g.n, g.k, g.lda, g.ldb, g.ldc))
    g.m = 0;
  return g;
}

} // namespace

bool pointwiseApplies(const ConvProblem &p, ConvDirection d) {
  const laminaDataType_t t = p.dataType;
  const bool typed =
      t == LAMINA_DATA_FLOAT || t == LAMINA_DATA_DOUBLE || t == LAMINA_DATA_HALF || t == LAMINA_DATA_BFLOAT16;
  return typed && callOf(p, d).m > 0;
}

size_t pointwiseWorkspace(const ConvProblem &p, ConvDirection d) {
  return d == ConvDirection::BackwardFilter && formOf(p) == Form::Nchw ? packBytes(p) + 256 : 0;
}

void preloadConvPointwise() {
  preloadKernel(channelMajorKernel<uint16_t>);
  preloadKernel(channelMajorKernel<uint32_t>);
  preloadKernel(channelMajorKernel<uint64_t>);
}

double pointwiseEstimateMs(const ConvProblem &p, ConvDirection d) {
  // cuBLAS on the H200 for these shapes (resnet50's 1x1 layers at batch 64): ~600 TFLOP/s fp16/bf16,
  // ~200 TF32, ~40 fp32, else x and y streamed at ~3.3 TB/s, whichever is slower. Backward-filter
  // reduces over all N * P positions (split-K inside cuBLAS): ~1.4x the forward's time.
  double tflops;
  switch (p.dataType) {
  case LAMINA_DATA_DOUBLE: tflops = 45; break;
  case LAMINA_DATA_FLOAT: tflops = p.math == LAMINA_TENSOR_OP_MATH ? 200 : 40; break;
  default: tflops = p.math == LAMINA_FMA_MATH ? 40 : 600; break;
  }
  double small = std::min(1.0, double(p.K) / 64.0) * std::min(1.0, double(p.C) / 64.0);
  // NCHW batches one GEMM per image with the image's positions as rows: few positions make thin
  // GEMMs, which tensor-core tiles run far below their rate (res5_1x1, 7x7, TF32: 0.13 ms, cuDNN 0.055).
  const bool tensorOps = p.dataType == LAMINA_DATA_FLOAT
                             ? p.math == LAMINA_TENSOR_OP_MATH
                             : p.dataType != LAMINA_DATA_DOUBLE && p.math != LAMINA_FMA_MATH;
  if (tensorOps && formOf(p) == Form::Nchw)
    small *= std::min(1.0, double(p.outSize()) / 128.0);
  const double bytes =
      double(dataTypeSize(p.dataType)) * (double(p.N) * p.outSize() * double(p.C + p.K) + double(p.K) * double(p.C));
  double ms = std::max(p.flops() / (tflops * 1e9 * std::max(small, 0.05)), bytes / 3.3e9);
  if (pointwiseWorkspace(p, d) > 0) // the channel-major copies: x and dy read and written once more
    ms += 2.0 * double(packBytes(p)) / 3.0e9;
  return ms * (d == ConvDirection::BackwardFilter ? 1.4 : 1.0) + 0.004;
}

void runPointwise(const ConvArgs &a, ConvDirection d) {
  const ConvProblem &p = *a.p;
  GemmCall g = callOf(p, d);
  g.alpha = a.alpha, g.beta = a.beta;
  const Form f = formOf(p);
  if (d == ConvDirection::Forward)
    g.A = f == Form::Nchw ? a.x : a.w, g.B = f == Form::Nchw ? a.w : a.x, g.C = a.y;
  else if (d == ConvDirection::BackwardData)
    g.A = f == Form::Nchw ? a.dy : a.w, g.B = f == Form::Nchw ? a.w : a.dy, g.C = a.dx;
  else if (f == Form::Nhwc)
    g.A = a.x, g.B = a.dy, g.C = a.dw;
  else { // NCHW backward-filter: x' and dy' in the workspace (the caller checked its size)
    const size_t elem = dataTypeSize(p.dataType), xBytes = size_t(p.C) * size_t(p.N * p.outSize()) * elem;
    char *xp = static_cast<char *>(a.workspace), *dyp = xp + (xBytes + 255) / 256 * 256;
    channelMajor(*a.handle, a.x, p.N, p.C, p.outSize(), elem, xp);
    channelMajor(*a.handle, a.dy, p.N, p.K, p.outSize(), elem, dyp);
    g.A = xp, g.B = dyp, g.C = a.dw;
  }
  gemmStridedBatched(*a.handle, g);
}

} // namespace lamina::cuda
