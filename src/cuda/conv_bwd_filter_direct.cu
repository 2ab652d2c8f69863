// Backward-filter DIRECT on the GPU, for thin layers (few input channels and filter taps, a large
// N x P x Q): the sandbox's tiled direct kernel (bench/sandbox/conv_bwd_filter_sandbox.cu, v2) made
// general (any strides, groups, dilation, every dtype). A block (row group, group x channel chunk,
// image) stages the input patch of a tile of TH output rows (all Cg channels, zeros in the padding) and
// the tile's dy rows for KB output channels in shared memory, in the compute type; a thread owns 4
// output channels of one filter tap (c, r, s) and sums them over the tile's pixels: one input load
// and four dy loads per 4 FMAs. Each block writes its partial dw to the workspace; a second kernel sums
// the partials in a fixed order and applies alpha / beta (deterministic). Padding is multiplied in as
// zeros (as the GEMM algorithms do): an Inf or NaN in dy beside the padding gives NaN there.
// H200, fp32 (perf_notes v21): lenet.conv1 at batch 64 0.0287 ms against GEMM's 0.048 and cuDNN's
// 0.024-0.029; loses to the GEMM paths where the channels or the filter are large (alexnet.conv1).
#include "cuda/conv_algorithms.h"
#include "cuda/conv_bwd_common.cuh"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace lamina::cuda {
namespace {

using convbwd::Geom;

constexpr int kThreads = 256, kUnitsPerThread = 4; // a block's units (tap, 4 channels): at most 1024
constexpr size_t kSmem = 48 * 1024;
constexpr int kStageBatch = 8; // loads in flight a thread before its stores
constexpr size_t kMaxPartialBytes = size_t(256) << 20;

// TH output rows a tile, KB output channels a block (a multiple of 4), the row tiles of an image in
// rowGroups (the grid ~2 waves of 132 SMs); TH = 0: no tile fits.
struct Plan {
  int TH = 0, KB = 0, kChunks = 0, tilesH = 0, rowGroups = 0, tilesPerGroup = 0, PH = 0, PW = 0, ldk = 0;
  size_t smem = 0;
  int64_t parts() const { return int64_t(rowGroups); } // per image
};

Plan planFor(const Geom &g, size_t accBytes, int kb) {
  Plan t;
  const int64_t taps = g.Cg * g.filt[1] * g.filt[2];
  if (taps > int64_t(kThreads) * kUnitsPerThread * 4 / kb) // its units (taps x kb / 4) fit the block
    return t;
  const int P = g.out[1], Q = g.out[2];
  const int64_t PW = int64_t(Q - 1) * g.str[2] + int64_t(g.filt[2] - 1) * g.dil[2] + 1;
  if (PW > 65535)
    return t;
  // The tallest tile that fits and stages at most two rounds, else one row.
  for (int th : {16, 8, 4, 2, 1}) {
    if (th > P && th > 1)
      continue;
    const int64_t PH = int64_t(th - 1) * g.str[1] + int64_t(g.filt[1] - 1) * g.dil[1] + 1;
    if (PH > 65535) // sizes below checked first: taps <= 4096, so Cg x PH x PW stays below 2^45
      continue;
    const int64_t ldk = (int64_t(th) * Q) | 1; // odd: a warp's 4 channel loads fall in distinct banks
    const int64_t staged = g.Cg * PH * PW + int64_t(kb) * th * Q;
    const size_t smem = size_t(g.Cg * PH * PW + int64_t(kb) * ldk) * accBytes;
    if (smem > kSmem)
      continue;
    if (staged <= 2 * kStageBatch * kThreads || th == 1) {
      t.TH = th, t.PH = int(PH), t.PW = int(PW), t.ldk = int(ldk), t.smem = smem;
      break;
    }
  }
  if (t.TH == 0)
    return t;
  t.KB = kb;
  t.kChunks = int((g.Kg + kb - 1) / kb);
  t.tilesH = (P + t.TH - 1) / t.TH;
  const int64_t blocks = std::max<int64_t>(1, g.N * g.G * t.kChunks);
  t.rowGroups = int(std::clamp<int64_t>((264 + blocks - 1) / blocks, 1, t.tilesH));
  t.tilesPerGroup = (t.tilesH + t.rowGroups - 1) / t.rowGroups;
  t.rowGroups = (t.tilesH + t.tilesPerGroup - 1) / t.tilesPerGroup;
  return t;
}

// All the group's channels in one block where they fit (lenet.conv1's 20, not 32 with 12 of zeros),
// else the widest of 32, 16, 8, 4 whose units and tile fit.
Plan planOf(const ConvProblem &p) {
  const Geom g = convbwd::makeGeom(p);
  const size_t acc = p.dataType == LAMINA_DATA_DOUBLE ? 8 : 4;
  const int all = int(std::min<int64_t>(32, (g.Kg + 3) / 4 * 4));
  for (int kb : {all, 32, 16, 8, 4}) {
    const Plan t = planFor(g, acc, kb);
    if (t.TH)
      return t;
  }
  return Plan{};
}

size_t partialBytes(const ConvProblem &p, const Plan &t) {
  const size_t acc = p.dataType == LAMINA_DATA_DOUBLE ? 8 : 4;
  return size_t(p.N) * size_t(t.parts()) * size_t(p.G * p.Kg() * p.Cg() * p.filtSize()) * acc;
}

// f(i) for i < n by the block's threads, kStageBatch loads in flight a thread before any store.
template <class A, class Get, class Put> __device__ __forceinline__ void stage(int n, Get get, Put put) {
  for (int i0 = threadIdx.x; i0 < n; i0 += kStageBatch * kThreads) {
    A v[kStageBatch];
#pragma unroll
    for (int j = 0; j < kStageBatch; ++j) {
      const int i = i0 + j * kThreads;
      v[j] = i < n ? get(i) : A(0);
    }
#pragma unroll
    for (int j = 0; j < kStageBatch; ++j) {
      const int i = i0 + j * kThreads;
      if (i < n)
        put(i, v[j]);
    }
  }
}

// Block (row group, group x channel chunk, image). Shared: xs[c][PH][PW], then dys[kk][ldk] (the
// tile's TH x Q outputs of KB channels; zeros past Kg or P). Thread unit u: tap = u / (KB / 4),
// channels 4 (u % (KB / 4)) + 0..3. partial[(n * rowGroups + rowGroup)][G * Kg][taps].
template <class T>
__global__ void __launch_bounds__(kThreads) bwdFilterDirect(const Geom g, const Plan t, const T *__restrict__ x,
                                                            const T *__restrict__ dy, acc_t<T> *__restrict__ partial) {
  using A = acc_t<T>;
  extern __shared__ __align__(16) unsigned char smemRaw[];
  A *xs = reinterpret_cast<A *>(smemRaw);
  A *dys = xs + g.Cg * t.PH * t.PW;
  const int rg = blockIdx.x, grp = int(blockIdx.y) / t.kChunks, kc = int(blockIdx.y) - grp * t.kChunks;
  const int64_t n = blockIdx.z;
  const int R = g.filt[1], S = g.filt[2], Q = g.out[2], P = g.out[1];
  const int k0 = kc * t.KB, kq = t.KB / 4, RS = R * S;
  const int taps = int(g.Cg) * RS, units = taps * kq, patch = t.PH * t.PW;
  A acc[kUnitsPerThread][4];
#pragma unroll
  for (int j = 0; j < kUnitsPerThread; ++j)
    acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = A(0);
  const T *xn = x + n * g.xs[0] + grp * g.Cg * g.xs[1];
  const T *dyn = dy + n * g.ys[0] + grp * g.Kg * g.ys[1];
  const int tile0 = rg * t.tilesPerGroup, tile1 = min(t.tilesH, tile0 + t.tilesPerGroup);
  const int nx = int(g.Cg) * patch, tq = t.TH * Q;
  for (int tile = tile0; tile < tile1; ++tile) {
    const int oy0 = tile * t.TH, iy0 = oy0 * g.str[1] - g.pad[1], ix0 = -g.pad[2];
    const int rows = min(t.TH, P - oy0); // the last tile's rows past P are not summed (an Inf in x there)
    __syncthreads();                     // the previous tile's reads are done
    stage<A>(
        nx + t.KB * tq,
        [&](int i) -> A {
          if (i < nx) {
            const int c = i / patch, rest = i - c * patch, py = rest / t.PW, px = rest - py * t.PW;
            const int iy = iy0 + py, ix = ix0 + px;
            return iy >= 0 && iy < g.in[1] && ix >= 0 && ix < g.in[2]
                       ? toAcc(xn[c * g.xs[1] + int64_t(iy) * g.xs[3] + int64_t(ix) * g.xs[4]])
                       : A(0);
          }
          const int j = i - nx, kk = j / tq, rest = j - kk * tq, ty = rest / Q, q = rest - ty * Q;
          const int k = k0 + kk, oy = oy0 + ty;
          return k < g.Kg && oy < P ? toAcc(dyn[k * g.ys[1] + int64_t(oy) * g.ys[3] + int64_t(q) * g.ys[4]]) : A(0);
        },
        [&](int i, A v) {
          if (i < nx)
            xs[i] = v;
          else
            dys[(i - nx) / tq * t.ldk + (i - nx) % tq] = v;
        });
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kUnitsPerThread; ++j) {
      const int u = threadIdx.x + j * kThreads;
      if (u >= units)
        break;
      const int tap = u / kq, k4 = (u - tap * kq) * 4;
      const int c = tap / RS, rs = tap - c * RS, r = rs / S, s = rs - r * S;
      const A *xt = xs + c * patch + r * g.dil[1] * t.PW + s * g.dil[2];
      const A *d = dys + k4 * t.ldk;
      A a0 = acc[j][0], a1 = acc[j][1], a2 = acc[j][2], a3 = acc[j][3];
      for (int ty = 0; ty < rows; ++ty) {
        const A *xr = xt + ty * g.str[1] * t.PW;
        const A *dr = d + ty * Q;
        for (int q = 0; q < Q; ++q) {
          const A xv = xr[q * g.str[2]];
          a0 = fma(dr[q], xv, a0);
          a1 = fma(dr[q + t.ldk], xv, a1);
          a2 = fma(dr[q + 2 * t.ldk], xv, a2);
          a3 = fma(dr[q + 3 * t.ldk], xv, a3);
        }
      }
      acc[j][0] = a0, acc[j][1] = a1, acc[j][2] = a2, acc[j][3] = a3;
    }
  }
  const int64_t entries = g.G * g.Kg * taps;
  A *out = partial + (n * t.rowGroups + rg) * entries + (grp * g.Kg) * taps;
#pragma unroll
  for (int j = 0; j < kUnitsPerThread; ++j) {
    const int u = threadIdx.x + j * kThreads;
    if (u >= units)
      break;
    const int tap = u / kq, k4 = (u - tap * kq) * 4;
#pragma unroll
    for (int i = 0; i < 4; ++i)
      if (k0 + k4 + i < g.Kg)
        out[int64_t(k0 + k4 + i) * taps + tap] = acc[j][i];
  }
}

// dw entry e = (k over all groups, c, r, s) = alpha * the parts' partials summed in order + beta * dw
// (dw not read at beta 0), through dw's strides.
template <class T>
__global__ void sumParts(const Geom g, int64_t parts, const acc_t<T> *__restrict__ partial, T *dw, acc_t<T> alpha,
                         acc_t<T> beta) {
  const int64_t RS = int64_t(g.filt[1]) * g.filt[2], taps = g.Cg * RS, entries = g.G * g.Kg * taps;
  LAMINA_GRID_STRIDE_LOOP(e, entries) {
    acc_t<T> s = 0;
    for (int64_t i = 0; i < parts; ++i)
      s += partial[i * entries + e];
    const int64_t k = e / taps, tap = e - k * taps, c = tap / RS, rs = tap - c * RS, r = rs / g.filt[2],
                  sx = rs - r * g.filt[2];
    storeScaled(dw + k * g.ws[0] + c * g.ws[1] + r * g.ws[3] + sx * g.ws[4], s, alpha, beta);
  }
}

template <class T> void runTyped(const ConvArgs &a) {
  const ConvProblem &p = *a.p;
  const Geom g = convbwd::makeGeom(p);
  const Plan t = planOf(p);
  const int64_t entries = p.G * p.Kg() * p.Cg() * p.filtSize();
  if (entries == 0 || t.TH == 0) // whyNot refuses TH = 0 before any run
    return;
  auto *partial = reinterpret_cast<acc_t<T> *>(alignedWorkspace(a.workspace));
  const cudaStream_t stream = streamOf(*a.handle);
  if (g.N > 0) { // no images: dw = beta * dw below, from zero parts
    const dim3 grid(unsigned(t.rowGroups), unsigned(g.G * t.kChunks), unsigned(g.N));
    bwdFilterDirect<T>
        <<<grid, kThreads, t.smem, stream>>>(g, t, static_cast<const T *>(a.x), static_cast<const T *>(a.dy), partial);
    LAMINA_CUDA_LAUNCHED();
  }
  sumParts<T><<<gridFor(entries), kBlock, 0, stream>>>(g, g.N * t.parts(), partial, static_cast<T *>(a.dw) + g.wOff,
                                                       acc_t<T>(a.alpha), acc_t<T>(a.beta));
  LAMINA_CUDA_LAUNCHED();
}

void run(const ConvArgs &a) { LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, runTyped, a); }

std::string whyNot(const ConvProblem &p) {
  if (std::string why = convbwd::whyNotGeom(p); !why.empty())
    return why;
  const Geom g = convbwd::makeGeom(p);
  // 2-D (a 3-D problem of depth 1 may still pad that depth, which the patch does not model).
  if (g.in[0] != 1 || g.out[0] != 1 || g.filt[0] != 1 || g.pad[0] != 0)
    return "DIRECT backward-filter: 2-D convolutions only";
  if (g.N > 65535)
    return "DIRECT backward-filter: batches above 65535 images";
  const Plan t = planOf(p);
  if (t.TH == 0)
    return "DIRECT backward-filter: the filter's taps (Cg x R x S) times 4 output channels above 4096, or the input "
           "patch of one output row above 48 KiB of shared memory";
  if (g.G * t.kChunks > 65535)
    return "DIRECT backward-filter: more than 65535 groups x channel blocks";
  if (partialBytes(p, t) > kMaxPartialBytes)
    return "DIRECT backward-filter: its per-image partial filters would pass 256 MiB of workspace";
  return {};
}

size_t workspace(const ConvProblem &p) {
  if (!whyNot(p).empty())
    return 0;
  return partialBytes(p, planOf(p)) + 256;
}

double estimate(const ConvProblem &p) {
  // Fitted to the sandbox's H200 runs of this kernel (fp32; lenet conv1/conv2, alexnet.conv1,
  // resnet50.conv1 and two odd shapes at batch 1, 8 and 64: 0.63-1.23x the measured times): 6 us (two
  // launches), 0.186 ps per thread-FMA of every block (the card's throughput), 2.2 us per staging round
  // of a block's row tiles, 5.2 ns per FMA of one thread's walk (its units over the tile's pixels, the
  // latency a small grid cannot hide). lenet.conv1 at batch 64: 0.022 modelled, 0.0287 measured (GEMM
  // 0.048); alexnet.conv1 at 64: 2.0 / 2.66 (FFT 0.52). Double: the FMA terms twice.
  const Plan t = planOf(p);
  if (t.TH == 0) // not applicable (callers ask whyNot first)
    return INFINITY;
  const Geom g = convbwd::makeGeom(p);
  const double taps = double(g.Cg) * g.filt[1] * g.filt[2];
  const double units = taps * t.KB / 4.0;
  const double blocks = double(t.rowGroups) * double(g.G * t.kChunks) * double(g.N);
  const double perThread = std::ceil(units / kThreads) * 4.0 * t.TH * g.out[2] * t.tilesPerGroup;
  const double work = blocks * std::min(double(kThreads), units) * perThread;
  const double staged = double(g.Cg) * t.PH * t.PW + double(t.KB) * t.TH * g.out[2];
  const double rounds = std::ceil(staged / (kStageBatch * kThreads)) * t.tilesPerGroup;
  const double dbl = p.dataType == LAMINA_DATA_DOUBLE ? 2.0 : 1.0;
  // 16-bit: not measured yet (NHWC gathers of dy are strided by K), counted 1.3x so the tensor-core
  // paths keep near ties (lenet.conv1 at batch 64: IMPLICIT_GEMM 0.026 ms).
  const double unmeasured = p.dataType == LAMINA_DATA_HALF || p.dataType == LAMINA_DATA_BFLOAT16 ? 1.3 : 1.0;
  return (0.006 + (1.86e-10 * work + 5.2e-6 * perThread) * dbl + 2.23e-3 * rounds) * unmeasured;
}

template <class T> void preloadT() {
  preloadKernel(bwdFilterDirect<T>);
  preloadKernel(sumParts<T>);
}
} // namespace

void preloadConvBwdFilterDirect() { LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT); }

const ConvAlgorithm kConvBwdFilterDirect = {ConvDirection::BackwardFilter,
                                            LAMINA_CONVOLUTION_BWD_FILTER_ALGO_DIRECT,
                                            "DIRECT",
                                            LAMINA_DETERMINISTIC,
                                            whyNot,
                                            workspace,
                                            estimate,
                                            run};

} // namespace lamina::cuda
