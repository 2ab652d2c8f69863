// Kernel sandbox: the forward half/bf16 NHWC convolution on Hopper tensor cores (issue 5), in the
// style of llm.c's dev/cuda: the reference, the versions, validation and timing in one file.
//   v0  reference: one thread per output, fp32 accumulation (also the check for every version)
//   v1  the library's current forward (IMPLICIT_GEMM through the public API: mma.sync m16n8k16,
//       ldmatrix, 4-stage cp.async pipeline; src/cuda/conv_tc_fwd.cu)
//   v2  wgmma: the same loader and swizzled shared-memory stages (64-byte K-major rows, which is the
//       hardware's 64B swizzle), the product by wgmma.mma_async m64n128k16 reading both operands through
//       shared-memory descriptors; one warpgroup per 128x128 tile, two m64 halves; waits for each
//       slice's MMAs before the next (validated on the H200, see docs/perf_notes.md)
//   v3  v2 with one wgmma group in flight: loads two stages ahead, wait_group 1
//   v4  128x256 tile, two warpgroups each on m64n256k16 (64 rows x 256 columns), v3's overlap
//   v5  the library's warp-specialized 256x128 tile (TileWs: a producer warpgroup on the cp.async
//       loaders, mbarrier full/empty pipeline of 8 stages, two consumer warpgroups on wgmma), forced
//       through LAMINA_TC_TILE=W; v6 its 256x64 tile (WN), v7 128x256 (WK); "lib" the library's pick
//   v8  the library's TMA forward (src/cuda/conv_tc_tma.cu: TileWs with one producer thread issuing
//       tensor-map copies of the input box of each tap), 256 x 128 x 32 (LAMINA_TC_TILE=TMAW)
//   v9  the same with the 128 x 256 tile (TileWK), LAMINA_TC_TILE=TMAK
//   v10 the same with 64-deep slices (TileW64: 128B swizzle, 4 stages), LAMINA_TC_TILE=TMA64
//   v11 128 x 256 with 64-deep slices (TileWK64), LAMINA_TC_TILE=TMAK64; "lib" picks by the rule
// Outcomes, with card and date, go to docs/perf_notes.md.
//
// Build: the CMake target lamina-sandbox-conv-fwd (CUDA builds only), or by hand:
//   nvcc -std=c++17 -O3 -gencode arch=compute_90a,code=sm_90a -Iinclude -Isrc \
//        bench/sandbox/conv_fwd_sandbox.cu -o conv_fwd_sandbox -Lbuild -llamina -Xlinker -rpath=build
// Run:   conv_fwd_sandbox [fp16|bf16 [LAYER [VERSION]]]; prints one line per layer and version.
#include "cuda/conv_tc_common.cuh"
#include "sandbox_util.h"

#include <lamina/lamina.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace lamina::cuda::tc;

struct Layer {
  const char *name;
  int N, C, H, W, K, R, S, pad, str;
  __host__ __device__ int P() const { return (H + 2 * pad - R) / str + 1; }
  __host__ __device__ int Q() const { return (W + 2 * pad - S) / str + 1; }
  __host__ __device__ double flops() const { return 2.0 * N * K * P() * Q() * double(C) * R * S; }
};

// ---- v0: reference -----------------------------------------------------------------------------
template <class T> __global__ void convRef(Layer L, const T *x, const T *w, float *y) {
  const int64_t total = int64_t(L.N) * L.P() * L.Q() * L.K;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int k = int(i % L.K);
    int64_t t = i / L.K;
    const int q = int(t % L.Q());
    t /= L.Q();
    const int p = int(t % L.P());
    const int n = int(t / L.P());
    float acc = 0.f;
    for (int r = 0; r < L.R; ++r)
      for (int s = 0; s < L.S; ++s) {
        const int h = p * L.str - L.pad + r, ww = q * L.str - L.pad + s;
        if (h < 0 || h >= L.H || ww < 0 || ww >= L.W)
          continue;
        const T *xp = x + ((int64_t(n) * L.H + h) * L.W + ww) * L.C;
        const T *wp = w + ((int64_t(k) * L.R + r) * L.S + s) * L.C;
        for (int c = 0; c < L.C; ++c)
          acc += float(xp[c]) * float(wp[c]);
      }
    y[i] = acc;
  }
}

// ---- v2: wgmma -----------------------------------------------------------------------------------
// wgmmaK16<N, BF16> (m64nNk16, both operands by descriptor) comes from wgmma_ops.cuh.

// smemDesc64B (the 64B-swizzle K-major descriptor) comes from wgmma_ops.cuh.
__device__ __forceinline__ void fenceProxyAsync() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

constexpr int kBM2 = 128, kBN2 = 128, kA2 = kBM2 * 64, kStage2 = (kBM2 + kBN2) * 64, kSmem2 = kStages * kStage2;

// OVERLAP (v3): one wgmma group stays in flight while the next slice is waited for and loaded, so
// loads run two stages ahead instead of three (the stage of the MMA in flight is not overwritten).
template <class T, bool OVERLAP>
__global__ void __launch_bounds__(128) convWgmma(Layer L, const T *x, const T *w, T *y) {
  constexpr int kAhead = OVERLAP ? kStages - 2 : kStages - 1; // slices loaded ahead of the product
  extern __shared__ __align__(1024) uint8_t smem[];
  const int tid = threadIdx.x;
  const int P = L.P(), Q = L.Q();
  const int64_t M = int64_t(L.N) * P * Q;
  const int tilesM = int((M + kBM2 - 1) / kBM2);
  const int mt = int(blockIdx.x % tilesM), nt = int(blockIdx.x / tilesM);
  const int chunk = tid & 3;
  // Four A rows (output pixels) and four B rows (output channels) per thread: tid / 4 + 32 i.
  int hb[4], wb[4];
  int64_t aOff[4], bOff[4];
  bool aOk[4], bOk[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t m = int64_t(mt) * kBM2 + (tid >> 2) + 32 * i;
    aOk[i] = m < M;
    const int64_t mm = aOk[i] ? m : 0;
    const int q = int(mm % Q), p = int((mm / Q) % P), n = int(mm / (int64_t(P) * Q));
    hb[i] = p * L.str - L.pad, wb[i] = q * L.str - L.pad;
    aOff[i] = ((int64_t(n) * L.H + hb[i]) * L.W + wb[i]) * L.C;
    const int k = nt * kBN2 + (tid >> 2) + 32 * i;
    bOk[i] = k < L.K;
    bOff[i] = int64_t(bOk[i] ? k : 0) * L.R * L.S * L.C;
  }
  const int kChunks = (L.C + kBK<T> - 1) / kBK<T>;
  const int iters = L.R * L.S * kChunks;
  int r = 0, s = 0, kc = 0;
  auto load = [&](uint32_t sA, uint32_t sB) {
    const int c = kc * kBK<T> + chunk * 8;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int h = hb[i] + r, ww = wb[i] + s;
      const bool ok = aOk[i] && c < L.C && unsigned(h) < unsigned(L.H) && unsigned(ww) < unsigned(L.W);
      const T *g = x + (aOff[i] + (int64_t(r) * L.W + s) * L.C + c);
      cpAsync16(sA + kMajorOffset((tid >> 2) + 32 * i, chunk), ok ? g : x, ok);
      const bool okb = bOk[i] && c < L.C;
      const T *gb = w + (bOff[i] + (int64_t(r) * L.S + s) * L.C + c);
      cpAsync16(sB + kMajorOffset((tid >> 2) + 32 * i, chunk), okb ? gb : w, okb);
    }
    if (++kc == kChunks) {
      kc = 0;
      if (++s == L.S)
        s = 0, ++r;
    }
  };
  float acc[2][64];
#pragma unroll
  for (int h = 0; h < 2; ++h)
#pragma unroll
    for (int e = 0; e < 64; ++e)
      acc[h][e] = 0.f;
  const uint32_t base = smemAddr(smem);
#pragma unroll
  for (int st = 0; st < kAhead; ++st) {
    if (st < iters)
      load(base + st * kStage2, base + st * kStage2 + kA2);
    cpAsyncCommit();
  }
  for (int it = 0; it < iters; ++it) {
    cpAsyncWait<kAhead - 1>();
    fenceProxyAsync(); // cp.async wrote through the generic proxy; wgmma reads through the async one
    __syncthreads();
    // Every warp is past the previous iteration's wait: with OVERLAP the MMA of slice it - 2 is done,
    // without it that of it - 1; the stage loaded here is the one that MMA read.
    const int next = it + kAhead;
    if (next < iters)
      load(base + (next % kStages) * kStage2, base + (next % kStages) * kStage2 + kA2);
    cpAsyncCommit();
    const uint32_t sA = base + (it % kStages) * kStage2, sB = sA + kA2;
    wgmmaFence();
#pragma unroll
    for (int kk = 0; kk < 2; ++kk) {
      const uint64_t db = smemDesc64B(sB + kk * 32);
      wgmmaK16<128, MmaKind<T>::bf16>(acc[0], smemDesc64B(sA + kk * 32), db);
      wgmmaK16<128, MmaKind<T>::bf16>(acc[1], smemDesc64B(sA + 64 * 64 + kk * 32), db);
    }
    wgmmaCommit();
    if constexpr (OVERLAP)
      wgmmaWait<1>();
    else
      wgmmaWait<0>();
#pragma unroll
    for (int h = 0; h < 2; ++h)
#pragma unroll
      for (int e = 0; e < 64; ++e)
        asm volatile("" : "+f"(acc[h][e])::"memory");
  }
  wgmmaWait<0>();
#pragma unroll
  for (int h = 0; h < 2; ++h)
#pragma unroll
    for (int e = 0; e < 64; ++e)
      asm volatile("" : "+f"(acc[h][e])::"memory");
  cpAsyncWait<0>();
  // Accumulator layout of m64nNk16: warp wq holds rows 16 wq + lane/4 (+8); n8 block j, columns
  // 8 j + 2 (lane % 4) + {0, 1}.
  const int lane = tid & 31, wq = tid >> 5;
#pragma unroll
  for (int h = 0; h < 2; ++h)
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const int64_t m = int64_t(mt) * kBM2 + 64 * h + 16 * wq + (lane >> 2) + 8 * e;
      if (m >= M)
        continue;
#pragma unroll
      for (int j = 0; j < 16; ++j) {
        const int k = nt * kBN2 + 8 * j + 2 * (lane & 3);
        if (k >= L.K)
          continue;
        T *out = y + m * L.K + k;
        out[0] = T(acc[h][4 * j + 2 * e]);
        if (k + 1 < L.K)
          out[1] = T(acc[h][4 * j + 2 * e + 1]);
      }
    }
}

// ---- v4: 128x256 tile, two warpgroups ------------------------------------------------------------
// Warpgroup wg (of 2) multiplies rows 64 wg .. 64 wg + 63 of the tile by all 256 columns with
// m64n256k16 (128 accumulators per thread); both warpgroups load their share of each stage; one wgmma
// group in flight as in v3. More MMA per byte of shared memory read than 128x128 (A is shared by 256
// columns); one block per SM (registers).
constexpr int kBM4 = 128, kBN4 = 256, kA4 = kBM4 * 64, kStage4 = (kBM4 + kBN4) * 64, kSmem4 = kStages * kStage4;

template <class T> __global__ void __launch_bounds__(256, 1) convWgmma256(Layer L, const T *x, const T *w, T *y) {
  extern __shared__ __align__(1024) uint8_t smem[];
  constexpr int kAhead = kStages - 2;
  const int tid = threadIdx.x, wg = tid >> 7;
  const int P = L.P(), Q = L.Q();
  const int64_t M = int64_t(L.N) * P * Q;
  const int tilesM = int((M + kBM4 - 1) / kBM4);
  const int mt = int(blockIdx.x % tilesM), nt = int(blockIdx.x / tilesM);
  const int chunk = tid & 3;
  // A rows tid / 4 + 64 i (i < 2), B rows tid / 4 + 64 i (i < 4).
  int hb[2], wb[2];
  int64_t aOff[2], bOff[4];
  bool aOk[2], bOk[4];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int64_t m = int64_t(mt) * kBM4 + (tid >> 2) + 64 * i;
    aOk[i] = m < M;
    const int64_t mm = aOk[i] ? m : 0;
    const int q = int(mm % Q), p = int((mm / Q) % P), n = int(mm / (int64_t(P) * Q));
    hb[i] = p * L.str - L.pad, wb[i] = q * L.str - L.pad;
    aOff[i] = ((int64_t(n) * L.H + hb[i]) * L.W + wb[i]) * L.C;
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int k = nt * kBN4 + (tid >> 2) + 64 * i;
    bOk[i] = k < L.K;
    bOff[i] = int64_t(bOk[i] ? k : 0) * L.R * L.S * L.C;
  }
  const int kChunks = (L.C + kBK<T> - 1) / kBK<T>;
  const int iters = L.R * L.S * kChunks;
  int r = 0, s = 0, kc = 0;
  auto load = [&](uint32_t sA, uint32_t sB) {
    const int c = kc * kBK<T> + chunk * 8;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int h = hb[i] + r, ww = wb[i] + s;
      const bool ok = aOk[i] && c < L.C && unsigned(h) < unsigned(L.H) && unsigned(ww) < unsigned(L.W);
      const T *g = x + (aOff[i] + (int64_t(r) * L.W + s) * L.C + c);
      cpAsync16(sA + kMajorOffset((tid >> 2) + 64 * i, chunk), ok ? g : x, ok);
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const bool okb = bOk[i] && c < L.C;
      const T *gb = w + (bOff[i] + (int64_t(r) * L.S + s) * L.C + c);
      cpAsync16(sB + kMajorOffset((tid >> 2) + 64 * i, chunk), okb ? gb : w, okb);
    }
    if (++kc == kChunks) {
      kc = 0;
      if (++s == L.S)
        s = 0, ++r;
    }
  };
  float acc[128];
#pragma unroll
  for (int e = 0; e < 128; ++e)
    acc[e] = 0.f;
  const uint32_t base = smemAddr(smem);
#pragma unroll
  for (int st = 0; st < kAhead; ++st) {
    if (st < iters)
      load(base + st * kStage4, base + st * kStage4 + kA4);
    cpAsyncCommit();
  }
  for (int it = 0; it < iters; ++it) {
    cpAsyncWait<kAhead - 1>();
    fenceProxyAsync();
    __syncthreads(); // slice `it` visible; both warpgroups are done with the MMAs of slice it - 2
    const int next = it + kAhead;
    if (next < iters)
      load(base + (next % kStages) * kStage4, base + (next % kStages) * kStage4 + kA4);
    cpAsyncCommit();
    const uint32_t sA = base + (it % kStages) * kStage4 + wg * 64 * 64, sB = base + (it % kStages) * kStage4 + kA4;
    wgmmaFence();
#pragma unroll
    for (int kk = 0; kk < 2; ++kk)
      wgmmaK16<256, MmaKind<T>::bf16>(acc, smemDesc64B(sA + kk * 32), smemDesc64B(sB + kk * 32));
    wgmmaCommit();
    wgmmaWait<1>();
#pragma unroll
    for (int e = 0; e < 128; ++e)
      asm volatile("" : "+f"(acc[e])::"memory");
  }
  wgmmaWait<0>();
#pragma unroll
  for (int e = 0; e < 128; ++e)
    asm volatile("" : "+f"(acc[e])::"memory");
  cpAsyncWait<0>();
  const int lane = tid & 31, wq = (tid >> 5) & 3;
#pragma unroll
  for (int e = 0; e < 2; ++e) {
    const int64_t m = int64_t(mt) * kBM4 + 64 * wg + 16 * wq + (lane >> 2) + 8 * e;
    if (m >= M)
      continue;
#pragma unroll
    for (int j = 0; j < 32; ++j) {
      const int k = nt * kBN4 + 8 * j + 2 * (lane & 3);
      if (k >= L.K)
        continue;
      T *out = y + m * L.K + k;
      out[0] = T(acc[4 * j + 2 * e]);
      if (k + 1 < L.K)
        out[1] = T(acc[4 * j + 2 * e + 1]);
    }
  }
}

// ---- driver ----------------------------------------------------------------------------------------
template <class T> struct Bufs {
  T *x = nullptr, *w = nullptr, *y = nullptr;
  float *ref = nullptr;
};

template <class T> double maxRelErr(const Layer &L, const Bufs<T> &b) {
  const size_t ny = size_t(L.N) * L.P() * L.Q() * L.K;
  std::vector<T> got(ny);
  std::vector<float> ref(ny);
  CK(cudaMemcpy(got.data(), b.y, ny * sizeof(T), cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(ref.data(), b.ref, ny * sizeof(float), cudaMemcpyDeviceToHost));
  double scale = 1e-6, err = 0;
  for (size_t i = 0; i < ny; ++i)
    scale = std::max(scale, double(std::fabs(ref[i])));
  for (size_t i = 0; i < ny; ++i) {
    const double g = double(float(got[i]));
    if (!std::isfinite(g))
      return INFINITY;
    err = std::max(err, std::fabs(g - ref[i]) / scale);
  }
  return err;
}

// Optional filters (for profiling one kernel under ncu): a layer name and a version name.
static const char *gOnlyLayer = nullptr, *gOnlyVer = nullptr;

template <class T> int run(laminaDataType_t dt, const char *dtName) {
  const std::vector<Layer> layers = {
      {"vgg16.conv1_2", 64, 64, 224, 224, 64, 3, 3, 1, 1},     {"vgg16.conv3_2", 64, 256, 56, 56, 256, 3, 3, 1, 1},
      {"vgg16.conv4_2", 64, 512, 28, 28, 512, 3, 3, 1, 1},     {"alexnet.conv2", 64, 96, 27, 27, 256, 5, 5, 2, 1},
      {"resnet50.res3_3x3", 64, 128, 28, 28, 128, 3, 3, 1, 1}, {"resnet50.res4_1x1", 64, 1024, 14, 14, 256, 1, 1, 0, 1},
  };
  laminaHandle_t h;
  LK(laminaCreate(&h));
  CK(cudaFuncSetAttribute(convWgmma<T, false>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem2));
  CK(cudaFuncSetAttribute(convWgmma<T, true>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem2));
  CK(cudaFuncSetAttribute(convWgmma256<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem4));
  std::printf("%-20s %-4s %10s %10s %10s\n", "layer", "ver", "ms", "TFLOP/s", "max err");
  int bad = 0;
  std::mt19937 rng(7);
  for (const Layer &L : layers) {
    if (gOnlyLayer && std::strcmp(gOnlyLayer, L.name) != 0)
      continue;
    const size_t nx = size_t(L.N) * L.H * L.W * L.C, nw = size_t(L.K) * L.R * L.S * L.C,
                 ny = size_t(L.N) * L.P() * L.Q() * L.K;
    std::vector<T> hx(nx), hw(nw);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (auto &v : hx)
      v = T(u(rng));
    for (auto &v : hw)
      v = T(u(rng));
    Bufs<T> b;
    CK(cudaMalloc(&b.x, nx * sizeof(T)));
    CK(cudaMalloc(&b.w, nw * sizeof(T)));
    CK(cudaMalloc(&b.y, ny * sizeof(T)));
    CK(cudaMalloc(&b.ref, ny * sizeof(float)));
    CK(cudaMemcpy(b.x, hx.data(), nx * sizeof(T), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(b.w, hw.data(), nw * sizeof(T), cudaMemcpyHostToDevice));
    convRef<T><<<4096, 256>>>(L, b.x, b.w, b.ref);
    CK(cudaGetLastError());

    // v1: the library (IMPLICIT_GEMM, no workspace).
    laminaTensorDescriptor_t xd, yd;
    laminaFilterDescriptor_t wd;
    laminaConvolutionDescriptor_t cd;
    LK(laminaCreateTensorDescriptor(&xd));
    LK(laminaCreateTensorDescriptor(&yd));
    LK(laminaCreateFilterDescriptor(&wd));
    LK(laminaCreateConvolutionDescriptor(&cd));
    LK(laminaSetTensor4dDescriptor(xd, LAMINA_TENSOR_NHWC, dt, L.N, L.C, L.H, L.W));
    LK(laminaSetTensor4dDescriptor(yd, LAMINA_TENSOR_NHWC, dt, L.N, L.K, L.P(), L.Q()));
    LK(laminaSetFilter4dDescriptor(wd, dt, LAMINA_TENSOR_NHWC, L.K, L.C, L.R, L.S));
    LK(laminaSetConvolution2dDescriptor(cd, L.pad, L.pad, L.str, L.str, 1, 1, LAMINA_CROSS_CORRELATION,
                                        LAMINA_DATA_FLOAT));
    LK(laminaSetConvolutionMathType(cd, LAMINA_TENSOR_OP_MATH));
    const float one = 1.f, zero = 0.f;
    auto v1 = [&] {
      LK(laminaConvolutionForward(h, &one, xd, b.x, wd, b.w, cd, LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0,
                                  &zero, yd, b.y));
    };
    const int64_t M = int64_t(L.N) * L.P() * L.Q();
    const unsigned grid2 = unsigned(((M + kBM2 - 1) / kBM2) * ((L.K + kBN2 - 1) / kBN2));
    auto v2 = [&] { convWgmma<T, false><<<grid2, 128, kSmem2>>>(L, b.x, b.w, b.y); };
    auto v3 = [&] { convWgmma<T, true><<<grid2, 128, kSmem2>>>(L, b.x, b.w, b.y); };
    const unsigned grid4 = unsigned(((M + kBM4 - 1) / kBM4) * ((L.K + kBN4 - 1) / kBN4));
    auto v4 = [&] { convWgmma256<T><<<grid4, 256, kSmem4>>>(L, b.x, b.w, b.y); };
    // v5..v7: the library's warp-specialized tiles (src/cuda/conv_tc_common.cuh TileWs), forced by
    // LAMINA_TC_TILE; v1 forces the library's 128x128 tile; "lib" is the library's own pick.
    struct Ver {
      const char *name, *tile;
      std::function<void()> f;
    };
    const std::vector<Ver> vers = {{"v1", "L", v1},      {"v2", nullptr, v2},   {"v3", nullptr, v3},
                                   {"v4", nullptr, v4},  {"v5", "W", v1},       {"v6", "WN", v1},
                                   {"v7", "WK", v1},     {"v8", "TMAW", v1},    {"v9", "TMAK", v1},
                                   {"v10", "TMA64", v1}, {"v11", "TMAK64", v1}, {"lib", nullptr, v1}};
    for (const Ver &v : vers) {
      if (gOnlyVer && std::strcmp(gOnlyVer, v.name) != 0)
        continue;
      if (v.tile)
        setenv("LAMINA_TC_TILE", v.tile, 1);
      else
        unsetenv("LAMINA_TC_TILE");
      CK(cudaMemset(b.y, 0xFF, ny * sizeof(T))); // NaN poison
      v.f();
      CK(cudaGetLastError());
      CK(cudaDeviceSynchronize());
      const double err = maxRelErr(L, b);
      const double ms = sandbox::timeMs(v.f);
      const bool ok = err < 1e-2;
      bad += !ok;
      std::printf("%-20s %-4s %10.4f %10.1f %10.2e%s  (%s)\n", L.name, v.name, ms, L.flops() / ms / 1e9, err,
                  ok ? "" : " WRONG", dtName);
    }
    unsetenv("LAMINA_TC_TILE");
    laminaDestroyTensorDescriptor(xd), laminaDestroyTensorDescriptor(yd);
    laminaDestroyFilterDescriptor(wd), laminaDestroyConvolutionDescriptor(cd);
    CK(cudaFree(b.x));
    CK(cudaFree(b.w));
    CK(cudaFree(b.y));
    CK(cudaFree(b.ref));
  }
  laminaDestroy(h);
  std::printf("sandbox %s: %s\n", dtName, bad ? "SOME VERSIONS WRONG" : "all versions match the reference");
  return bad ? 1 : 0;
}

int main(int argc, char **argv) {
  int dev = 0;
  if (cudaGetDeviceCount(&dev) != cudaSuccess || dev == 0) {
    std::printf("no CUDA device: nothing to run\n");
    return 77;
  }
  const bool bf16 = argc > 1 && std::strcmp(argv[1], "bf16") == 0;
  auto filter = [](const char *a) { return std::strcmp(a, "") == 0 || std::strcmp(a, "all") == 0 ? nullptr : a; };
  if (argc > 2)
    gOnlyLayer = filter(argv[2]); // "all" or "": every layer
  if (argc > 3)
    gOnlyVer = filter(argv[3]);
  return bf16 ? run<__nv_bfloat16>(LAMINA_DATA_BFLOAT16, "bf16") : run<__half>(LAMINA_DATA_HALF, "fp16");
}
