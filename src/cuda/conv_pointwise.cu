// 1x1 convolutions (no padding, one group) on packed NCHW or NHWC tensors are GEMMs on the tensors as
// stored: the GEMM algorithms call cuBLAS on x, w and y directly, with alpha and beta (no im2col, no
// epilogue pass). Row-major shapes (P = output spatial size):
//   NCHW  fwd        y[n] [K x P]   = w [K x C]    * x[n] [C x P]     batched over n
//         bwd-data   dx[n] [C x P]  = w^T [C x K]  * dy[n] [K x P]    batched over n
//         bwd-filter dw [K x C]     = sum over n of dy[n] [K x P] * x[n]^T [P x C]  (stride 1: one GEMM per
//                                     image into a float buffer, summed over the images in order)
//                    dw [K x C]     = dy' [K x NP] * x'^T [NP x C]    (strided; x', dy': [C][N * P], [K][N * P])
//         fwd, thin  y' [K x NP]    = w [K x C]    * x' [C x NP]      (channel-major copies, see below)
//         bwd-data, thin dx' [C x NP] = w^T [C x K]  * dy' [K x NP]
//   NHWC  fwd        y [NP x K]     = x [NP x C]   * w^T [C x K]
//         bwd-data   dx [NP x C]    = dy [NP x K]  * w [K x C]
//         bwd-filter dw [K x C]     = dy^T [K x NP] * x [NP x C]      (one GEMM: deterministic)
// NCHW backward-filter reduces over images and positions, which NCHW does not hold at one stride: at
// stride 1 each image's GEMM goes to its own slice of a float buffer, then one pass sums the slices
// (in image order: deterministic) into dw with alpha and beta; with a stride x and dy are first copied
// channel-major into the workspace (x', dy') for one GEMM. With a stride, the forward and
// backward-filter first gather the sampled pixels of x into the workspace (x' does both at once), and
// backward-data computes the sampled pixels of dx into a float (double) buffer, scales all of dx by
// beta (a memset when beta == 0) and adds alpha * buffer at the sampled pixels. cuBLAS reads y only
// when beta != 0. Thin images on tensor cores (channelMajor: stride 1, under 128 positions, e.g.
// resnet50 res5's 7x7) make the per-image GEMMs too thin for cuBLAS's tiles (TF32 res5_1x1 forward
// 0.131 ms against cuDNN's 0.055), so the forward and backward-data copy the input channel-major
// (x' = [C][N * P]), run one GEMM into a float (double) buffer and scatter it back with alpha/beta.
#include "cuda/conv_gemm_common.cuh"
#include "cuda/conv_pointwise.h"

namespace lamina::cuda {

namespace {
using gemmconv::accSize;
using gemmconv::accType;
using gemmconv::tensorCoreGemms;

enum class Form { None, Nchw, Nhwc };

// Workspace copies are kept below this (larger problems take the im2col path).
constexpr size_t kPackBudget = size_t(512) << 20;

Form formOf(const ConvProblem &p) {
  for (int i = 0; i < p.spatialDims; ++i)
    if (p.filt[i] != 1 || p.pad[i] != 0)
      return Form::None;
  if (p.G != 1 || p.w.strides[0] != p.C || p.w.strides[1] != 1)
    return Form::None;
  const bool nchw = p.x.isPackedNCHW() && p.y.isPackedNCHW(), nhwc = p.x.isPackedNHWC() && p.y.isPackedNHWC();
  // Packed both ways (one output pixel: fully connected layers): NHWC's one GEMM, not N GEMVs.
  if (nhwc && (!nchw || p.outSize() == 1))
    return Form::Nhwc;
  return nchw ? Form::Nchw : Form::None;
}

// NCHW backward-filter as one GEMM per image (else: channel-major copies and one GEMM): at stride 1,
// with images of 128+ positions (the per-image GEMMs' reduction; resnet50 res5's 49 ran 1.5-2.5x
// slower that way on the H200 than the copies) and its per-image buffer within the copy budget.
bool perImageFilter(const ConvProblem &p) {
  const size_t acc = accSize(p);
  return !p.strided() && p.outSize() >= 128 && size_t(p.N) * size_t(p.K) * size_t(p.C) * acc <= kPackBudget;
}

// NCHW forward and backward-data through channel-major copies and one GEMM (see the top): thin
// images on tensor cores, stride 1.
bool channelMajor(const ConvProblem &p, ConvDirection d) {
  return d != ConvDirection::BackwardFilter && formOf(p) == Form::Nchw && !p.strided() && tensorCoreGemms(p) &&
         p.outSize() < 128 && p.N > 1;
}

// Workspace bytes of a direction (without the 256-byte alignment slack).
size_t copyBytes(const ConvProblem &p, ConvDirection d) {
  const size_t NP = size_t(p.N) * size_t(p.outSize()), elem = dataTypeSize(p.dataType);
  const size_t acc = accSize(p);
  if (d == ConvDirection::BackwardFilter && formOf(p) == Form::Nchw)
    return perImageFilter(p) ? size_t(p.N) * size_t(p.K) * size_t(p.C) * acc // one dw per image
                             : size_t(p.C + p.K) * NP * elem;                // x' and dy'
  if (channelMajor(p, d)) { // the input side's copy (256-aligned), the output side's buffer
    const size_t in = size_t(d == ConvDirection::Forward ? p.C : p.K) * NP * elem;
    return alignUp(in) + size_t(d == ConvDirection::Forward ? p.K : p.C) * NP * acc;
  }
  if (!p.strided())
    return 0;
  if (d == ConvDirection::BackwardData)
    return size_t(p.C) * NP * (p.dataType == LAMINA_DATA_DOUBLE ? 8 : 4); // dx's sampled pixels
  return size_t(p.C) * NP * elem;                                         // x's sampled pixels
}

// Up to 5 axes listed in a packed tensor's memory order (outermost first) with another tensor's
// strides along them: the copies walk the packed side in order (index i) and address the other
// through ss. The packed side is taken as rows of the innermost axis (rows = ext0 * ext1 * ext2 *
// ext3): a block holds several rows (threadIdx.y), each walked by a power-of-two team of lanes
// (threadIdx.x) sized to it, so short rows (a strided 1x1's sampled pixels: 28 or 14) do not leave
// most of a block idle; a row's offset is decoded once by 32-bit divisions by constants. The first
// version ran a 32-thread block per row with 64-bit divisions: ~0.45 TB/s on res3_proj's gathers.
struct Axes {
  int64_t ext[5], ss[5];
  uint32_t rows = 0;       // ext0 * ext1 * ext2 * ext3 (below 2^31: launchFor checks)
  FastDiv byMid, by1, by3; // divisions by ext2 * ext3, ext1, ext3
};

// Calls f(i, off) for every element: i its packed index, off the other tensor's offset.
template <class F> __device__ __forceinline__ void walk(const Axes &a, F f) {
  const uint32_t mid = uint32_t(a.ext[2] * a.ext[3]), e1 = uint32_t(a.ext[1]), e3 = uint32_t(a.ext[3]);
  const int64_t inner = a.ext[4];
  for (uint32_t r = blockIdx.x * blockDim.y + threadIdx.y; r < a.rows; r += gridDim.x * blockDim.y) {
    const uint32_t o = a.byMid.div(r), m = r - o * mid;
    const uint32_t o0 = a.by1.div(o), m0 = a.by3.div(m);
    const int64_t base =
        int64_t(o0) * a.ss[0] + int64_t(o - o0 * e1) * a.ss[1] + int64_t(m0) * a.ss[2] + int64_t(m - m0 * e3) * a.ss[3];
    const int64_t row = int64_t(r) * inner;
    for (int64_t j = threadIdx.x; j < inner; j += blockDim.x)
      f(row + j, base + j * a.ss[4]);
  }
}

struct Launch {
  dim3 grid, block;
};
// Fills a's row count and divisors; the launch: 256 threads, lanes per row the power of two covering
// the row (8 to 256), enough blocks for ~16 per SM, the rest by the grid-stride loop.
Launch launchFor(Axes &a) {
  const int64_t rows = a.ext[0] * a.ext[1] * a.ext[2] * a.ext[3];
  // The copies are capped at kPackBudget bytes, far below 2^31 rows.
  if (rows >= (int64_t(1) << 31) || a.ext[4] >= (int64_t(1) << 31))
    ::lamina::fail(LAMINA_STATUS_INTERNAL_ERROR, "pointwise copy: %lld rows past the copy budget", (long long)rows);
  a.rows = uint32_t(rows);
  a.byMid = FastDiv(uint32_t(a.ext[2] * a.ext[3])), a.by1 = FastDiv(uint32_t(a.ext[1]));
  a.by3 = FastDiv(uint32_t(a.ext[3]));
  int64_t bx = 8;
  while (bx < a.ext[4] && bx < kBlock)
    bx *= 2;
  const int64_t by = kBlock / bx, blocks = std::min<int64_t>(std::max<int64_t>(1, ceilDiv(rows, by)), 132 * 16);
  return {dim3(unsigned(blocks)), dim3(unsigned(bx), unsigned(by))};
}

// dst (packed, `a`'s order) = src at a's strides; elements move as raw words of their size.
template <class W> __global__ void gatherKernel(const W *__restrict__ src, Axes a, W *__restrict__ dst) {
  walk(a, [&](int64_t i, int64_t off) { dst[i] = src[off]; });
}

void gather(const laminaContext &h, const void *src, Axes a, size_t elem, void *dst) {
  // Rows contiguous on both sides that start on 16 bytes (channels-last gathers: a row is a pixel's
  // channels) move as 16-byte words: one 2-byte element per thread kept too few bytes in flight
  // (fp16 res3_proj's 26 MB gather took ~0.09 ms).
  bool wide = a.ss[4] == 1 && (a.ext[4] * int64_t(elem)) % 16 == 0 && elem < 16 &&
              (reinterpret_cast<uintptr_t>(src) | reinterpret_cast<uintptr_t>(dst)) % 16 == 0;
  for (int k = 0; k < 4; ++k)
    wide = wide && (a.ss[k] * int64_t(elem)) % 16 == 0;
  if (wide) {
    const int64_t per = 16 / int64_t(elem);
    a.ext[4] /= per;
    for (int k = 0; k < 4; ++k)
      a.ss[k] /= per;
    elem = 16;
  }
  const Launch l = launchFor(a);
  const cudaStream_t s = streamOf(h);
  if (elem == 16)
    gatherKernel<<<l.grid, l.block, 0, s>>>(static_cast<const uint4 *>(src), a, static_cast<uint4 *>(dst));
  else if (elem == 2)
    gatherKernel<<<l.grid, l.block, 0, s>>>(static_cast<const uint16_t *>(src), a, static_cast<uint16_t *>(dst));
  else if (elem == 4)
    gatherKernel<<<l.grid, l.block, 0, s>>>(static_cast<const uint32_t *>(src), a, static_cast<uint32_t *>(dst));
  else
    gatherKernel<<<l.grid, l.block, 0, s>>>(static_cast<const uint64_t *>(src), a, static_cast<uint64_t *>(dst));
  LAMINA_CUDA_LAUNCHED();
}

// The axes of a packed tensor's (n, c, s0, s1, s2) at the output's spatial extents, sampled at the
// stride, listed as `order` says (indices into n, c, s0, s1, s2).
Axes sampledAxes(const ConvProblem &p, const TensorDesc &t, const int (&order)[5], bool stride) {
  int64_t ext[5] = {p.N, 0, p.out[0], p.out[1], p.out[2]}, ss[5] = {t.strides[0], t.strides[1], 0, 0, 0};
  ext[1] = t.dims[1];
  for (int i = 0; i < 3; ++i)
    ss[2 + i] = i < p.spatialDims ? t.strides[2 + i] * (stride ? p.stride[i] : 1) : 0;
  // Listed in order, axes of extent 1 dropped and neighbours merged where the strided side is
  // contiguous across them too, right-aligned: the innermost axis is as long as it can be.
  int64_t e[5], st[5];
  int n = 0;
  for (int k = 0; k < 5; ++k) {
    const int64_t ek = ext[order[k]], sk = ss[order[k]];
    if (ek == 1)
      continue;
    if (n > 0 && st[n - 1] == ek * sk)
      e[n - 1] *= ek, st[n - 1] = sk;
    else
      e[n] = ek, st[n] = sk, ++n;
  }
  Axes a;
  for (int k = 0; k < 5; ++k) {
    const int j = k - (5 - n);
    a.ext[k] = j >= 0 ? e[j] : 1, a.ss[k] = j >= 0 ? st[j] : 0;
  }
  return a;
}
constexpr int kOrderNchw[5] = {0, 1, 2, 3, 4}, kOrderNhwc[5] = {0, 2, 3, 4, 1}, kOrderCnhw[5] = {1, 0, 2, 3, 4};

// Strided backward-data's last step: dx = beta * dx everywhere (a memset when beta == 0; dx is
// packed), then at the sampled pixels dx = alpha * buf + (that).
template <class T> __global__ void scaleKernel(T *__restrict__ dx, int64_t n, acc_t<T> beta) {
  LAMINA_GRID_STRIDE_LOOP(i, n) { dx[i] = fromAcc<T>(beta * toAcc(dx[i])); }
}
template <class T>
__global__ void addSampledKernel(const acc_t<T> *__restrict__ buf, Axes a, acc_t<T> alpha, bool scaled,
                                 T *__restrict__ dx) {
  walk(a, [&](int64_t i, int64_t off) { storeScaled(dx + off, buf[i], alpha, acc_t<T>(scaled ? 1 : 0)); });
}

// The channel-major forms' last step: out = alpha * buf + beta * out, buf packed in `a`'s order.
template <class T>
__global__ void scatterScaledKernel(const acc_t<T> *__restrict__ buf, Axes a, acc_t<T> alpha, acc_t<T> beta,
                                    T *__restrict__ out) {
  walk(a, [&](int64_t i, int64_t off) { storeScaled(out + off, buf[i], alpha, beta); });
}
template <class T> void scatterScaledT(const ConvArgs &a, const TensorDesc &t, const void *buf, void *out) {
  using A = acc_t<T>;
  Axes ax = sampledAxes(*a.p, t, kOrderCnhw, false);
  const Launch l = launchFor(ax);
  scatterScaledKernel<T><<<l.grid, l.block, 0, streamOf(*a.handle)>>>(static_cast<const A *>(buf), ax, A(a.alpha),
                                                                      A(a.beta), static_cast<T *>(out));
  LAMINA_CUDA_LAUNCHED();
}

// NCHW backward-filter at stride 1: dw = alpha * (the images' products summed in image order) + beta * dw.
template <class T>
__global__ void sumImagesKernel(const acc_t<T> *__restrict__ per, int64_t images, int64_t n, acc_t<T> alpha,
                                acc_t<T> beta, T *__restrict__ dw) {
  LAMINA_GRID_STRIDE_LOOP(i, n) {
    acc_t<T> s = 0;
    for (int64_t k = 0; k < images; ++k)
      s += per[k * n + i];
    storeScaled(dw + i, s, alpha, beta);
  }
}
template <class T> void sumImagesT(const ConvArgs &a, const void *per) {
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const int64_t n = p.K * p.C;
  sumImagesKernel<T><<<gridFor(n), kBlock, 0, streamOf(*a.handle)>>>(static_cast<const A *>(per), p.N, n, A(a.alpha),
                                                                     A(a.beta), static_cast<T *>(a.dw));
  LAMINA_CUDA_LAUNCHED();
}

template <class T> void scatterT(const ConvArgs &a, const void *buf) {
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const cudaStream_t st = streamOf(*a.handle);
  T *dx = static_cast<T *>(a.dx);
  const int64_t n = p.x.numel();
  if (a.beta == 0)
    LAMINA_CUDA_CALL(cudaMemsetAsync(dx, 0, size_t(n) * sizeof(T), st));
  else if (a.beta != 1) {
    scaleKernel<T><<<gridFor(n), kBlock, 0, st>>>(dx, n, A(a.beta));
    LAMINA_CUDA_LAUNCHED();
  }
  // buf is packed in dx's layout at the output's extents: walk it, addressing dx at the stride.
  Axes ax = sampledAxes(p, p.x, formOf(p) == Form::Nchw ? kOrderNchw : kOrderNhwc, true);
  const Launch l = launchFor(ax);
  addSampledKernel<T><<<l.grid, l.block, 0, st>>>(static_cast<const A *>(buf), ax, A(a.alpha), a.beta != 0, dx);
  LAMINA_CUDA_LAUNCHED();
}

// The GEMM of the problem in cuBLAS's column-major terms (on the tensors as stored, or with a stride
// on the sampled copies, which are packed in the same layout); m == 0 when there is none.
GemmCall callOf(const ConvProblem &p, ConvDirection d) {
  GemmCall g;
  const Form f = formOf(p);
  if (f == Form::None || copyBytes(p, d) > kPackBudget || p.spatialDims > 3)
    return g;
  const int64_t P = p.outSize(), NP = p.N * P;
  g.abType = g.cType = p.dataType;
  g.math = p.math;
  if (channelMajor(p, d) && d == ConvDirection::Forward) {
    // y'^T [NP x K] = x'^T [NP x C] * w^T [C x K], into the buffer
    g.m = NP, g.n = p.K, g.k = p.C;
    g.lda = NP, g.ldb = p.C, g.ldc = NP;
    g.cType = accType(p);
  } else if (channelMajor(p, d)) {
    // dx'^T [NP x C] = dy'^T [NP x K] * w [K x C], into the buffer
    g.m = NP, g.n = p.C, g.k = p.K;
    g.lda = NP, g.transB = true, g.ldb = p.C, g.ldc = NP;
    g.cType = accType(p);
  } else if (f == Form::Nchw && d == ConvDirection::Forward) {
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
  } else if (f == Form::Nchw && d == ConvDirection::BackwardFilter && perImageFilter(p)) {
    // per image: dw[n]^T [C x K] = x[n] [C x P] * dy[n]^T [P x K], into the float (double) buffer
    g.m = p.C, g.n = p.K, g.k = P;
    g.transA = true, g.lda = P, g.strideA = p.C * P;
    g.ldb = P, g.strideB = p.K * P;
    g.ldc = p.C, g.strideC = p.K * p.C;
    g.batch = p.N;
    g.cType = p.dataType == LAMINA_DATA_DOUBLE ? LAMINA_DATA_DOUBLE : LAMINA_DATA_FLOAT;
  } else if (f == Form::Nchw && d == ConvDirection::BackwardFilter) {
    // dw^T [C x K] = x' [C x NP] * dy'^T [NP x K] (x', dy' row-major in the workspace)
    g.m = p.C, g.n = p.K, g.k = NP;
    g.transA = true, g.lda = NP;
    g.ldb = NP;
    g.ldc = p.C;
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
  } else { // NHWC backward-filter: dw^T [C x K] = x^T [C x NP] * dy [NP x K]
    g.m = p.C, g.n = p.K, g.k = NP;
    g.lda = p.C;
    g.transB = true, g.ldb = p.K;
    g.ldc = p.C;
  }
  if (d == ConvDirection::BackwardData && p.strided()) // into the float (double) buffer
    g.cType = p.dataType == LAMINA_DATA_DOUBLE ? LAMINA_DATA_DOUBLE : LAMINA_DATA_FLOAT;
  if (!gemmFitsInt(g.m, g.n, g.k, g.lda, g.ldb, g.ldc))
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
  const size_t b = copyBytes(p, d);
  return b ? b + 256 : 0;
}

template <class T> void preloadScatter() {
  preloadKernel(scaleKernel<T>);
  preloadKernel(addSampledKernel<T>);
  preloadKernel(sumImagesKernel<T>);
  preloadKernel(scatterScaledKernel<T>);
}

void preloadConvPointwise() {
  preloadKernel(gatherKernel<uint16_t>);
  preloadKernel(gatherKernel<uint32_t>);
  preloadKernel(gatherKernel<uint64_t>);
  preloadKernel(gatherKernel<uint4>);
  LAMINA_CUDA_FOR_FLOAT_TYPES(preloadScatter);
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
  if (tensorCoreGemms(p) && formOf(p) == Form::Nchw && !channelMajor(p, d))
    small *= std::min(1.0, double(p.outSize()) / 128.0);
  const double bytes =
      double(dataTypeSize(p.dataType)) * (double(p.N) * p.outSize() * double(p.C + p.K) + double(p.K) * double(p.C));
  double ms = std::max(p.flops() / (tflops * 1e9 * std::max(small, 0.05)), bytes / 3.3e9);
  // The workspace copies as measured on the H200 (row-team gathers): ~0.9 GB per ms of copied bytes,
  // strided or not (TF32 res3_proj backward-filter's 154 MB in ~0.16 ms, forward's 51 MB in ~0.06;
  // res5_1x1 backward-filter's 32 MB in ~0.035), plus a launch.
  const double copies = double(copyBytes(p, d));
  if (d == ConvDirection::BackwardFilter && formOf(p) == Form::Nchw && perImageFilter(p)) {
    // One GEMM per image (output K x C, reduction P), then the per-image sums read once: not yet
    // measured; modelled as the one-GEMM form at half its rate.
    return 2.0 * ms * 1.4 + copies / 2.0e9 + 0.008;
  }
  const double copyMs = copies > 0 ? copies / 0.9e9 + (channelMajor(p, d) ? 0.008 : 0.004) : 0.0;
  // The host's time per call bounds small ones: a cuBLAS call took 11-13 us to issue on the H200's host
  // (v10 bench, fp16/bf16 batch 1 and 8: res2_1x1a/b, res4_1x1, res5_1x1, ~5 us more than a one-launch
  // tensor-core call), which then ran the 1x1 layers 1.3-1.9x faster than the GEMM pick.
  constexpr double kHostMs = 0.011;
  return std::max(kHostMs, ms * (d == ConvDirection::BackwardFilter ? 1.4 : 1.0) + copyMs + 0.004);
}

void runPointwise(const ConvArgs &a, ConvDirection d) {
  const ConvProblem &p = *a.p;
  const laminaContext &h = *a.handle;
  GemmCall g = callOf(p, d);
  g.alpha = a.alpha, g.beta = a.beta;
  const Form f = formOf(p);
  const bool nchw = f == Form::Nchw, str = p.strided();
  const size_t elem = dataTypeSize(p.dataType);
  // The caller checked its size (pointwiseWorkspace, with 256 bytes of slack for this alignment).
  char *ws = alignedWorkspace(a.workspace);
  // x, or with a stride its sampled pixels packed in the same layout.
  auto sampledX = [&]() -> const void * {
    if (!str)
      return a.x;
    gather(h, a.x, sampledAxes(p, p.x, nchw ? kOrderNchw : kOrderNhwc, true), elem, ws);
    return ws;
  };
  if (channelMajor(p, d)) { // copy in, one GEMM into the buffer, scatter out with alpha/beta
    const bool fwd = d == ConvDirection::Forward;
    const size_t inBytes = size_t(fwd ? p.C : p.K) * size_t(p.N * p.outSize()) * elem;
    char *buf = ws + alignUp(inBytes);
    gather(h, fwd ? a.x : a.dy, sampledAxes(p, fwd ? p.x : p.y, kOrderCnhw, false), elem, ws);
    g.A = ws, g.B = a.w, g.C = buf, g.alpha = 1, g.beta = 0;
    gemmStridedBatched(h, g);
    if (fwd)
      LAMINA_CUDA_DISPATCH_FLOAT_TYPES(p.dataType, scatterScaledT, a, p.y, buf, a.y);
    else
      LAMINA_CUDA_DISPATCH_FLOAT_TYPES(p.dataType, scatterScaledT, a, p.x, buf, a.dx);
    return;
  }
  if (d == ConvDirection::Forward) {
    const void *x = sampledX();
    g.A = nchw ? x : a.w, g.B = nchw ? a.w : x, g.C = a.y;
  } else if (d == ConvDirection::BackwardData) {
    g.A = nchw ? a.dy : a.w, g.B = nchw ? a.w : a.dy, g.C = str ? ws : a.dx;
    if (str)
      g.alpha = 1, g.beta = 0;
  } else if (!nchw) {
    g.A = sampledX(), g.B = a.dy, g.C = a.dw;
  } else if (perImageFilter(p)) { // one GEMM per image into ws, then the sum over images
    g.A = a.x, g.B = a.dy, g.C = ws, g.alpha = 1, g.beta = 0;
    gemmStridedBatched(h, g);
    LAMINA_CUDA_DISPATCH_FLOAT_TYPES(p.dataType, sumImagesT, a, ws);
    return;
  } else { // x' and dy' channel-major (x sampled at the stride on the way)
    const size_t xBytes = size_t(p.C) * size_t(p.N * p.outSize()) * elem;
    char *dyp = ws + alignUp(xBytes);
    gather(h, a.x, sampledAxes(p, p.x, kOrderCnhw, true), elem, ws);
    gather(h, a.dy, sampledAxes(p, p.y, kOrderCnhw, false), elem, dyp);
    g.A = ws, g.B = dyp, g.C = a.dw;
  }
  gemmStridedBatched(h, g);
  if (d == ConvDirection::BackwardData && str)
    LAMINA_CUDA_DISPATCH_FLOAT_TYPES(p.dataType, scatterT, a, ws);
}

} // namespace lamina::cuda
