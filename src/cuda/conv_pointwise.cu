// 1x1 convolutions (stride 1, no padding, one group) on packed NCHW or NHWC tensors are GEMMs on the
// tensors as stored: the GEMM algorithms call cuBLAS on x, w and y directly, with alpha and beta, and
// need no workspace (no im2col, no epilogue pass). Row-major shapes (P = spatial size):
//   NCHW  fwd        y[n] [K x P]   = w [K x C]    * x[n] [C x P]     batched over n
//         bwd-data   dx[n] [C x P]  = w^T [C x K]  * dy[n] [K x P]    batched over n
//   NHWC  fwd        y [NP x K]     = x [NP x C]   * w^T [C x K]
//         bwd-data   dx [NP x C]    = dy [NP x K]  * w [K x C]
//         bwd-filter dw [K x C]     = dy^T [K x NP] * x [NP x C]      (one GEMM: deterministic)
// NCHW backward-filter sums over images and keeps the im2col path. cuBLAS reads y only when beta != 0.
#include "cuda/conv_gemm_common.cuh"
#include "cuda/conv_pointwise.h"

namespace lamina::cuda {

namespace {

enum class Form { None, Nchw, Nhwc };

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
  const double ms = std::max(p.flops() / (tflops * 1e9 * std::max(small, 0.05)), bytes / 3.3e9);
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
  else
    g.A = a.x, g.B = a.dy, g.C = a.dw;
  gemmStridedBatched(*a.handle, g);
}

} // namespace lamina::cuda
