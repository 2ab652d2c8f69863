// Kernel sandbox: the fp32 backward-filter of thin layers (few input channels, a small filter, a large
// N * P * Q), in the style of llm.c's dev/cuda: the reference, the versions, validation and timing in
// one file. The rows it is for (issue 5, perf_notes v19): lenet.conv1 fp32 backward-filter at batch 64,
// where the library's best, GEMM (im2col + cuBLAS), takes 0.050 ms against cuDNN's 0.024, and
// IMPLICIT_GEMM 6.9 ms (one 64 x 64 tile, 12% of it real, reduced over all 36864 rows by one block).
//   v0  reference: one thread per (dw entry, image), double accumulation, double atomics across images
//   v1  the library through the public API: its PREFER_FASTEST pick, then GEMM and IMPLICIT_GEMM
//   v2  tiled direct: block (row group, channel chunk, image) stages dy's rows for KB channels and the
//       matching input patch in shared memory, one row tile at a time; a thread owns 4 channels of one
//       filter tap and sums them over the tile's pixels (one input load and four dy loads per 4 FMAs);
//       each block writes its partial dw, and a second kernel sums the partials in a fixed order
//       (deterministic) and applies alpha / beta
// Outcomes, with card and date, go to docs/perf_notes.md; a version that wins moves into
// src/cuda/ as a registered backward-filter algorithm with its tests: v2 is the library's CUDA DIRECT
// backward-filter (src/cuda/conv_bwd_filter_direct.cu, general strides, groups, dilation and dtypes;
// H200 figures in bench/results/sandbox-h200-conv-bwd-filter.txt, perf_notes v21).
//
// Build: the CMake target lamina-sandbox-conv-bwd-filter (CUDA builds only).
// Run:   lamina-sandbox-conv-bwd-filter [LAYER [BATCH]]; prints one line per layer and version.
#include "sandbox_util.h"

#include <lamina/lamina.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

// 2-D, one group, no dilation, cross-correlation, NCHW / KCRS packed.
struct Layer {
  const char *name;
  int C, H, W, K, R, S, pad, stride;
};
const Layer kLayers[] = {
    {"lenet.conv1", 1, 28, 28, 20, 5, 5, 0, 1},       {"lenet.conv2", 20, 12, 12, 50, 5, 5, 0, 1},
    {"alexnet.conv1", 3, 227, 227, 96, 11, 11, 0, 4}, {"resnet50.conv1", 3, 224, 224, 64, 7, 7, 3, 2},
    {"odd.c3k7", 3, 31, 29, 7, 3, 3, 1, 1},           {"odd.c2k40s2", 2, 57, 61, 40, 5, 5, 2, 2},
};

struct Prob {
  int N, C, H, W, K, R, S, pad, stride, P, Q;
  __host__ __device__ int64_t taps() const { return int64_t(C) * R * S; }
  __host__ __device__ int64_t entries() const { return int64_t(K) * taps(); }
  double flops() const { return 2.0 * double(N) * K * P * Q * double(taps()); }
};

// ---------------------------------------------------------------- v0: reference
// dwRef[k][c][r][s] += sum over (p, q) of image n: thread (entry, n); double atomics over images.
__global__ void refKernel(const Prob p, const float *x, const float *dy, double *dwRef) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.entries() * p.N)
    return;
  const int64_t e = i % p.entries();
  const int n = int(i / p.entries());
  const int s = int(e % p.S), r = int(e / p.S % p.R), c = int(e / (p.S * p.R) % p.C), k = int(e / p.taps());
  double acc = 0;
  for (int oy = 0; oy < p.P; ++oy) {
    const int iy = oy * p.stride - p.pad + r;
    if (iy < 0 || iy >= p.H)
      continue;
    for (int ox = 0; ox < p.Q; ++ox) {
      const int ix = ox * p.stride - p.pad + s;
      if (ix < 0 || ix >= p.W)
        continue;
      acc += double(dy[((int64_t(n) * p.K + k) * p.P + oy) * p.Q + ox]) *
             double(x[((int64_t(n) * p.C + c) * p.H + iy) * p.W + ix]);
    }
  }
  atomicAdd(&dwRef[e], acc);
}

// ---------------------------------------------------------------- v2: tiled direct
constexpr int kStageBatch = 8;

// f(i) for i < n by the block's threads, kStageBatch loads in flight a thread before any store (one
// load then one store a round would leave every 256 elements a memory latency). get(i) returns the
// value, put(i, v) stores it.
template <class Get, class Put> __device__ __forceinline__ void stage(int n, Get get, Put put) {
  for (int i0 = threadIdx.x; i0 < n; i0 += kStageBatch * blockDim.x) {
    float v[kStageBatch];
#pragma unroll
    for (int j = 0; j < kStageBatch; ++j) {
      const int i = i0 + j * int(blockDim.x);
      v[j] = i < n ? get(i) : 0.f;
    }
#pragma unroll
    for (int j = 0; j < kStageBatch; ++j) {
      const int i = i0 + j * int(blockDim.x);
      if (i < n)
        put(i, v[j]);
    }
  }
}
struct Plan {
  int TH, KB, kChunks, tilesH, rowGroups, tilesPerGroup, PH, PW, ldk;
  size_t smem;
};

// TH rows a tile, KB channels a block (a multiple of 4), the row tiles of an image split into
// rowGroups so the grid has ~2 waves of 132 SMs; TH = 0 when nothing fits 48 KiB.
Plan makePlan(const Prob &p, int kb) {
  Plan t{};
  t.KB = kb;
  t.kChunks = (p.K + kb - 1) / kb;
  t.PW = (p.Q - 1) * p.stride + p.S;
  // The tallest tile that fits and stages at most two rounds (2 x 8 x 256 elements), else one row.
  for (int th : {16, 8, 4, 2, 1}) {
    if (th > p.P && th > 1)
      continue;
    const int ph = (th - 1) * p.stride + p.R;
    const int ldk = (th * p.Q) | 1; // odd: the 4 channels' dy loads of a warp's threads fall in distinct banks
    const size_t staged = size_t(p.C) * ph * t.PW + size_t(kb) * th * p.Q;
    const size_t smem = (size_t(p.C) * ph * t.PW + size_t(kb) * ldk) * sizeof(float);
    if (smem <= 48 * 1024 && (staged <= 2 * kStageBatch * 256 || th == 1)) {
      t.TH = th, t.PH = ph, t.ldk = ldk, t.smem = smem;
      break;
    }
  }
  if (t.TH == 0)
    return t;
  t.tilesH = (p.P + t.TH - 1) / t.TH;
  const int64_t blocks = int64_t(p.N) * t.kChunks;
  t.rowGroups = int(std::clamp<int64_t>((264 + blocks - 1) / blocks, 1, t.tilesH));
  t.tilesPerGroup = (t.tilesH + t.rowGroups - 1) / t.rowGroups;
  t.rowGroups = (t.tilesH + t.tilesPerGroup - 1) / t.tilesPerGroup;
  return t;
}

// Block (row group, channel chunk, image). Shared: xs[c][PH][PW] (the patch of a row tile, zeros
// outside x), then dys[kk][ldk] (the tile's TH x Q outputs of KB channels, zeros past K or P).
// Thread u of units = taps x KB / 4: tap = u / (KB / 4), channels 4 (u % (KB / 4)) + 0..3.
// partial[(n * rowGroups + g) * entries + k * taps + tap].
__global__ void __launch_bounds__(256) tiledBwdFilter(const Prob p, const Plan t, const float *__restrict__ x,
                                                      const float *__restrict__ dy, float *__restrict__ partial) {
  extern __shared__ __align__(16) float smem[];
  float *xs = smem;
  float *dys = smem + size_t(p.C) * t.PH * t.PW;
  const int grp = blockIdx.x, kc = blockIdx.y, n = blockIdx.z;
  const int k0 = kc * t.KB, kq = t.KB / 4;
  const int taps = p.C * p.R * p.S, units = taps * kq, patch = t.PH * t.PW, RS = p.R * p.S;
  constexpr int kUnitsPerThread = 4; // units <= 4 x 256 (the plan keeps KB x taps within 4096)
  float acc[kUnitsPerThread][4] = {};
  const float *xn = x + int64_t(n) * p.C * p.H * p.W;
  const float *dyn = dy + int64_t(n) * p.K * p.P * p.Q;
  const int tile0 = grp * t.tilesPerGroup, tile1 = min(t.tilesH, tile0 + t.tilesPerGroup);
  for (int tile = tile0; tile < tile1; ++tile) {
    const int oy0 = tile * t.TH, iy0 = oy0 * p.stride - p.pad, ix0 = -p.pad;
    __syncthreads(); // the previous tile's reads are done
    // The patch and the dy rows in one pass: indices below nx are the patch's.
    const int nx = p.C * patch, tq = t.TH * p.Q;
    stage(
        nx + t.KB * tq,
        [&](int i) {
          if (i < nx) {
            const int c = i / patch, rest = i - c * patch, py = rest / t.PW, px = rest - py * t.PW;
            const int iy = iy0 + py, ix = ix0 + px;
            return iy >= 0 && iy < p.H && ix >= 0 && ix < p.W ? xn[(int64_t(c) * p.H + iy) * p.W + ix] : 0.f;
          }
          const int j = i - nx, kk = j / tq, rest = j - kk * tq, ty = rest / p.Q, q = rest - ty * p.Q;
          const int k = k0 + kk, oy = oy0 + ty;
          return k < p.K && oy < p.P ? dyn[(int64_t(k) * p.P + oy) * p.Q + q] : 0.f;
        },
        [&](int i, float v) {
          if (i < nx)
            xs[i] = v;
          else
            dys[(i - nx) / tq * t.ldk + (i - nx) % tq] = v;
        });
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kUnitsPerThread; ++j) {
      const int u = threadIdx.x + j * blockDim.x;
      if (u >= units)
        break;
      const int tap = u / kq, k4 = (u - tap * kq) * 4;
      const int c = tap / RS, rs = tap - c * RS, r = rs / p.S, s = rs - r * p.S;
      const float *xt = xs + c * patch + r * t.PW + s;
      const float *d = dys + k4 * t.ldk;
      float a0 = acc[j][0], a1 = acc[j][1], a2 = acc[j][2], a3 = acc[j][3];
      for (int ty = 0; ty < t.TH; ++ty) {
        const float *xr = xt + ty * p.stride * t.PW;
        const float *dr = d + ty * p.Q;
        for (int q = 0; q < p.Q; ++q) {
          const float xv = xr[q * p.stride];
          a0 = fmaf(dr[q], xv, a0);
          a1 = fmaf(dr[q + t.ldk], xv, a1);
          a2 = fmaf(dr[q + 2 * t.ldk], xv, a2);
          a3 = fmaf(dr[q + 3 * t.ldk], xv, a3);
        }
      }
      acc[j][0] = a0, acc[j][1] = a1, acc[j][2] = a2, acc[j][3] = a3;
    }
  }
  float *out = partial + (int64_t(n) * t.rowGroups + grp) * (int64_t(p.K) * taps);
#pragma unroll
  for (int j = 0; j < kUnitsPerThread; ++j) {
    const int u = threadIdx.x + j * blockDim.x;
    if (u >= units)
      break;
    const int tap = u / kq, k4 = (u - tap * kq) * 4;
    for (int i = 0; i < 4; ++i)
      if (k0 + k4 + i < p.K)
        out[int64_t(k0 + k4 + i) * taps + tap] = acc[j][i];
  }
}

// dw[e] = alpha * sum over the parts, in order, of partial[part][e] + beta * dw[e] (dw not read at beta 0).
__global__ void sumParts(int64_t entries, int64_t parts, const float *__restrict__ partial, float alpha, float beta,
                         float *__restrict__ dw) {
  const int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= entries)
    return;
  float s = 0;
  for (int64_t i = 0; i < parts; ++i)
    s += partial[i * entries + e];
  dw[e] = beta == 0.f ? alpha * s : alpha * s + beta * dw[e];
}

struct V2 {
  Plan t;
  float *partial = nullptr;
};

// The block width with the most channels (up to 32) whose units fit 4 x 256 threads and whose tile
// fits.
V2 makeV2(const Prob &p) {
  V2 v{};
  // All the channels in one block where they fit (lenet.conv1's 20 rather than 32 with 12 of zeros).
  const int allK = std::min(32, (p.K + 3) / 4 * 4);
  for (int kb : {allK, 32, 16, 8, 4}) {
    if (p.taps() * kb / 4 > 4 * 256)
      continue;
    const Plan t = makePlan(p, kb);
    if (t.TH == 0)
      continue;
    v.t = t;
    break;
  }
  if (v.t.TH)
    CK(cudaMalloc(&v.partial, size_t(p.N) * v.t.rowGroups * p.entries() * sizeof(float)));
  return v;
}

void runV2(const Prob &p, const V2 &v, const float *x, const float *dy, float *dw) {
  const dim3 grid(unsigned(v.t.rowGroups), unsigned(v.t.kChunks), unsigned(p.N));
  tiledBwdFilter<<<grid, 256, v.t.smem>>>(p, v.t, x, dy, v.partial);
  const int64_t parts = int64_t(p.N) * v.t.rowGroups;
  sumParts<<<unsigned((p.entries() + 255) / 256), 256>>>(p.entries(), parts, v.partial, 1.f, 0.f, dw);
}

// ---------------------------------------------------------------- harness

// max |got - ref| / max |ref|, with the output poisoned (NaN) before the run.
double relError(const std::vector<double> &ref, float *dDw, const std::function<void()> &run) {
  std::vector<float> nan(ref.size(), std::nanf(""));
  CK(cudaMemcpy(dDw, nan.data(), nan.size() * sizeof(float), cudaMemcpyHostToDevice));
  run();
  CK(cudaDeviceSynchronize());
  std::vector<float> got(ref.size());
  CK(cudaMemcpy(got.data(), dDw, got.size() * sizeof(float), cudaMemcpyDeviceToHost));
  double maxRef = 0, maxDiff = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    maxRef = std::max(maxRef, std::fabs(ref[i]));
    const double d = std::fabs(double(got[i]) - ref[i]);
    maxDiff = std::isnan(d) ? INFINITY : std::max(maxDiff, d);
  }
  return maxDiff / std::max(maxRef, 1e-30);
}

void runLayer(const Layer &l, int N) {
  Prob p{N, l.C, l.H, l.W, l.K, l.R, l.S, l.pad, l.stride, 0, 0};
  p.P = (l.H + 2 * l.pad - l.R) / l.stride + 1, p.Q = (l.W + 2 * l.pad - l.S) / l.stride + 1;
  const size_t nx = size_t(N) * l.C * l.H * l.W, ndy = size_t(N) * l.K * p.P * p.Q, nw = size_t(p.entries());
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> hx(nx), hdy(ndy);
  for (auto &v : hx)
    v = u(rng);
  for (auto &v : hdy)
    v = u(rng);
  float *x, *dy, *dw;
  double *dref;
  CK(cudaMalloc(&x, nx * sizeof(float)));
  CK(cudaMalloc(&dy, ndy * sizeof(float)));
  CK(cudaMalloc(&dw, nw * sizeof(float)));
  CK(cudaMalloc(&dref, nw * sizeof(double)));
  CK(cudaMemcpy(x, hx.data(), nx * sizeof(float), cudaMemcpyHostToDevice));
  CK(cudaMemcpy(dy, hdy.data(), ndy * sizeof(float), cudaMemcpyHostToDevice));
  CK(cudaMemset(dref, 0, nw * sizeof(double)));
  const int64_t refThreads = p.entries() * N;
  refKernel<<<unsigned((refThreads + 255) / 256), 256>>>(p, x, dy, dref);
  CK(cudaGetLastError());
  std::vector<double> ref(nw);
  CK(cudaMemcpy(ref.data(), dref, nw * sizeof(double), cudaMemcpyDeviceToHost));
  auto report = [&](const char *version, double err, double ms, const char *note) {
    std::printf("%-16s N=%-3d %-26s err %.1e  %8.4f ms  %6.2f TFLOP/s  %s\n", l.name, N, version, err, ms,
                p.flops() / (ms * 1e9), note);
  };

  // v1: the library.
  laminaHandle_t h;
  LK(laminaCreateWithBackend(&h, LAMINA_BACKEND_CUDA));
  laminaTensorDescriptor_t xd, dyd;
  laminaFilterDescriptor_t wd;
  laminaConvolutionDescriptor_t cd;
  LK(laminaCreateTensorDescriptor(&xd));
  LK(laminaCreateTensorDescriptor(&dyd));
  LK(laminaCreateFilterDescriptor(&wd));
  LK(laminaCreateConvolutionDescriptor(&cd));
  LK(laminaSetTensor4dDescriptor(xd, LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, N, l.C, l.H, l.W));
  LK(laminaSetTensor4dDescriptor(dyd, LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, N, l.K, p.P, p.Q));
  LK(laminaSetFilter4dDescriptor(wd, LAMINA_DATA_FLOAT, LAMINA_TENSOR_NCHW, l.K, l.C, l.R, l.S));
  LK(laminaSetConvolution2dDescriptor(cd, l.pad, l.pad, l.stride, l.stride, 1, 1, LAMINA_CROSS_CORRELATION,
                                      LAMINA_DATA_FLOAT));
  laminaConvolutionBwdFilterAlgo_t pick;
  LK(laminaGetConvolutionBackwardFilterAlgorithm(h, xd, dyd, cd, wd, LAMINA_CONVOLUTION_PREFER_FASTEST, 0, &pick));
  const float one = 1.f, zero = 0.f;
  for (laminaConvolutionBwdFilterAlgo_t algo :
       {pick, LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM, LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM}) {
    size_t wsBytes = 0;
    if (laminaGetConvolutionBackwardFilterWorkspaceSize(h, xd, dyd, cd, wd, algo, &wsBytes) != LAMINA_STATUS_SUCCESS)
      continue;
    void *ws = nullptr;
    if (wsBytes)
      CK(cudaMalloc(&ws, wsBytes));
    auto f = [&] {
      LK(laminaConvolutionBackwardFilter(h, &one, xd, x, dyd, dy, cd, algo, ws, wsBytes, &zero, wd, dw));
    };
    const double err = relError(ref, dw, f);
    // IMPLICIT_GEMM can take seconds on these rows: time it once.
    const double ms = sandbox::timeMs(f, algo == LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM ? 1 : 20, 1);
    char name[48];
    std::snprintf(name, sizeof name, "v1 lib algo %d%s", int(algo), algo == pick ? " (pick)" : "");
    report(name, err, ms, "");
    if (ws)
      CK(cudaFree(ws));
  }
  LK(laminaDestroyConvolutionDescriptor(cd));
  LK(laminaDestroyFilterDescriptor(wd));
  LK(laminaDestroyTensorDescriptor(dyd));
  LK(laminaDestroyTensorDescriptor(xd));
  LK(laminaDestroy(h));

  // v2: tiled direct.
  const V2 v2 = makeV2(p);
  if (v2.t.TH) {
    auto f = [&] { runV2(p, v2, x, dy, dw); };
    const double err = relError(ref, dw, f);
    CK(cudaGetLastError());
    const double ms = sandbox::timeMs(f, 20, 1);
    char note[128];
    std::snprintf(note, sizeof note, "KB %d TH %d row groups %d (grid %d x %d x %d), partials %.1f MB", v2.t.KB,
                  v2.t.TH, v2.t.rowGroups, v2.t.rowGroups, v2.t.kChunks, N,
                  double(N) * v2.t.rowGroups * p.entries() * 4 / 1e6);
    report("v2 tiled direct", err, ms, note);
    CK(cudaFree(v2.partial));
  } else {
    std::printf("%-16s N=%-3d v2 tiled direct: no plan fits\n", l.name, N);
  }
  CK(cudaFree(x));
  CK(cudaFree(dy));
  CK(cudaFree(dw));
  CK(cudaFree(dref));
}

} // namespace

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : nullptr;
  const int batch = argc > 2 ? std::atoi(argv[2]) : 0;
  for (const Layer &l : kLayers) {
    if (only && std::strcmp(only, "all") && !std::strstr(l.name, only))
      continue;
    for (int N : {1, 8, 64})
      if (!batch || N == batch)
        runLayer(l, N);
  }
  return 0;
}
