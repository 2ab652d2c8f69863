// Forward DIRECT: one thread per output element, looping over its window (Cg channels x filter taps)
// and reading x and w through their strides. Simple and exact (the compute type, FMA, whatever the
// math type), so it is also the GPU's own reference; the choice for depthwise and other thin
// convolutions where a GEMM tile has nothing to work with.
// 2-D problems whose window patch and filter slab fit in 48 KiB of shared memory run a tiled form:
// a block stages one image's input patch for a tile of output pixels (all Cg channels of a group)
// and KB output channels' filters, then each thread sums KB outputs of each of its PX pixels (one
// or two) over the same (c, r, s) order as the simple kernel, so finite results match it. Padding is
// read as zeros and multiplied in (as the GEMM algorithms do), where the simple kernel skips those
// taps: an Inf or NaN weight at a padded tap gives NaN only in the tiled form.
#include "cuda/conv_algorithms.h"
#include "cuda/conv_igemm_common.cuh"

#include "core/plan_memo.h"

#include <cstdlib>
#include <cstring>
#include <type_traits>

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

// The tiled form's launch: tiles of TH x (TW * PX) output pixels, 128 threads of TH x TW, each
// thread KB channels of PX pixels of a row (TW apart, so a warp's loads stay consecutive).
struct TiledPlan {
  int TH = 0, TW = 0, KB = 0;                  // 0: the tiled form does not apply
  int PX = 1;                                  // output pixels a thread
  int PH = 0, PW = 0;                          // input patch of a tile
  int64_t tilesH = 0, tilesW = 0, kChunks = 0; // kChunks per group
  size_t smem = 0;
};
constexpr int kTiledThreads = 128;
constexpr size_t kTiledSmem = 48 * 1024;
// The patch's elements in shared memory, rounded up to 4 so that the filter slab after it starts on
// 16 bytes (float) and each tap's KB weights load as 4-wide vectors.
__host__ __device__ inline size_t patchElems(int64_t n) { return size_t(n + 3) / 4 * 4; }

double tiledMs(const ConvProblem &p, const TiledPlan &t);

// The plan for KB output channels and PX pixels a thread (KB = 0 in the result: it does not fit).
TiledPlan tiledPlanFor(const ConvProblem &p, int kb, int px) {
  TiledPlan t;
  const ConvGeom g = makeConvGeom(p);
  // 2-D only (a 3-D problem of depth 1 may still pad that depth, which the patch does not model).
  if (g.in[0] != 1 || g.out[0] != 1 || g.filt[0] != 1 || g.pad[0] != 0 || g.N > 65535 || g.P == 0)
    return t;
  const int64_t Q = g.out[2], taps = g.Cg * g.filt[1] * g.filt[2];
  const int64_t Qt = (Q + px - 1) / px; // columns of threads
  t.PX = px;
  t.TW = Qt <= 8 ? 8 : Qt <= 16 ? 16 : 32;
  t.TH = kTiledThreads / t.TW;
  const int64_t PH = (t.TH - 1) * g.str[1] + (g.filt[1] - 1) * g.dil[1] + 1,
                PW = (int64_t(t.TW) * px - 1) * g.str[2] + (g.filt[2] - 1) * g.dil[2] + 1;
  if (PH > 4096 || PW > 4096)
    return t;
  const size_t acc = p.dataType == LAMINA_DATA_DOUBLE ? 8 : 4;
  const size_t smem = (patchElems(g.Cg * PH * PW) + size_t(kb) * size_t(taps)) * acc;
  if (smem > kTiledSmem)
    return t;
  t.KB = kb, t.smem = smem;
  t.PH = int(PH), t.PW = int(PW);
  t.tilesH = (g.out[1] + t.TH - 1) / t.TH, t.tilesW = (Q + int64_t(t.TW) * px - 1) / (int64_t(t.TW) * px);
  t.kChunks = (g.Kg + t.KB - 1) / t.KB;
  if (t.tilesH * t.tilesW >= INT32_MAX || g.G * t.kChunks > 65535)
    t.KB = 0;
  return t;
}

// The channel block the model finds fastest among those that fit: a wide one shares each staged
// input value among more channels, a narrow one gives a small batch more blocks and each thread a
// shorter walk (lenet.conv1 at batch 8: 240 blocks of 4 channels instead of 48 of 32).
// LAMINA_CUDA_DIRECT_KB=4|8|16|32 forces one where it fits (measuring the model).
// Two pixels a thread (PX = 2: each weight vector serves two pixels) are costed too for float, where
// the sweep found them fastest on the larger problems (resnet50.conv1 at batch 8 / 64: 9-11%); the
// 16-bit NHWC rows ran them 5-38% slower on 14 of 15 rows, so those keep one. LAMINA_CUDA_DIRECT_PX=1
// or 2 forces one (two falls back to one where they do not fit). A forced block that does not fit
// leaves the simple kernel to run, as a tiled form that does not apply would.
// Sets *ms to the plan's model time (when one fits).
TiledPlan tiledPlan(const ConvProblem &p, double *ms) {
  const char *kbEnv = std::getenv("LAMINA_CUDA_DIRECT_KB"), *pxEnv = std::getenv("LAMINA_CUDA_DIRECT_PX");
  const int forcedKb = kbEnv ? std::atoi(kbEnv) : 0;
  const int pxValue = pxEnv ? std::atoi(pxEnv) : 0, forcedPx = pxValue == 1 || pxValue == 2 ? pxValue : 0;
  const int maxPx = forcedPx ? forcedPx : p.dataType == LAMINA_DATA_FLOAT ? 2 : 1;
  TiledPlan best;
  for (int kb : {4, 8, 16, 32}) {
    if (forcedKb && kb != forcedKb)
      continue;
    for (int px = forcedPx ? forcedPx : 1; px <= maxPx; ++px) {
      TiledPlan t = tiledPlanFor(p, kb, px);
      if (t.KB == 0 && forcedPx == 2)
        t = tiledPlanFor(p, kb, 1);
      if (t.KB == 0)
        continue;
      const double tMs = tiledMs(p, t);
      if (best.KB == 0 || tMs < *ms)
        best = t, *ms = tMs;
    }
  }
  return best;
}

// dst[i] = valueAt(i) for i < n, by the block's kTiledThreads threads: each thread loads kBatch values
// into registers before storing any, so that many global loads are in flight (one load then one store
// would leave every 128 elements a memory latency; tiledMs counts ~1 us per round of kBatch x 128).
// valueAt is called only for i < n.
constexpr int kStageBatch = 8;
template <class A, class F> __device__ __forceinline__ void stageToShared(A *dst, int n, F valueAt) {
  constexpr int kBatch = kStageBatch;
  for (int i0 = threadIdx.x; i0 < n; i0 += kBatch * kTiledThreads) {
    A v[kBatch];
#pragma unroll
    for (int j = 0; j < kBatch; ++j)
      v[j] = i0 + j * kTiledThreads < n ? valueAt(i0 + j * kTiledThreads) : A(0);
#pragma unroll
    for (int j = 0; j < kBatch; ++j)
      if (i0 + j * kTiledThreads < n)
        dst[i0 + j * kTiledThreads] = v[j];
  }
}

// One tap's KB weights from shared memory in 16-byte loads (p is 16-byte aligned: patchElems), where
// one load per weight made the walk shared-load bound (KB + 1 loads for KB FMAs).
template <int KB, class A> __device__ __forceinline__ void loadTap(A (&v)[KB], const A *p) {
  static_assert(KB % 4 == 0, "KB is a multiple of 4");
  if constexpr (std::is_same_v<A, float>) {
#pragma unroll
    for (int i = 0; i < KB; i += 4) {
      const float4 q = *reinterpret_cast<const float4 *>(p + i);
      v[i] = q.x, v[i + 1] = q.y, v[i + 2] = q.z, v[i + 3] = q.w;
    }
  } else if constexpr (std::is_same_v<A, double>) {
#pragma unroll
    for (int i = 0; i < KB; i += 2) {
      const double2 q = *reinterpret_cast<const double2 *>(p + i);
      v[i] = q.x, v[i + 1] = q.y;
    }
  } else {
#pragma unroll
    for (int i = 0; i < KB; ++i)
      v[i] = p[i];
  }
}

// Block (tile, group x channel chunk, image); thread = PX output pixels of the tile, KB channels each.
// Shared memory: xs[c][PH][PW] (the patch, zeros outside x; patchElems of them), then ws[c][r][s][KB]
// (zeros past Kg).
template <class T, int KB, int PX>
__global__ void __launch_bounds__(kTiledThreads)
    directTiled(const Geom g, const TiledPlan t, const T *__restrict__ x, const T *__restrict__ w, T *__restrict__ y,
                acc_t<T> alpha, acc_t<T> beta) {
  using A = acc_t<T>;
  extern __shared__ __align__(16) unsigned char smemRaw[];
  A *xs = reinterpret_cast<A *>(smemRaw);
  const int R = int(g.filt[1]), S = int(g.filt[2]), Cg = int(g.Cg);
  const int patch = t.PH * t.PW, taps = Cg * R * S;
  const int nx = Cg * patch, nxPad = int(patchElems(nx));
  A *ws = xs + nxPad;
  const int64_t th = blockIdx.x / t.tilesW, tw = blockIdx.x - th * t.tilesW;
  const int grp = int(blockIdx.y / t.kChunks), kc = int(blockIdx.y - int64_t(grp) * t.kChunks);
  const int64_t n = blockIdx.z;
  const int64_t ih0 = th * t.TH * g.str[1] - g.pad[1], iw0 = tw * t.TW * PX * g.str[2] - g.pad[2];
  const T *xg = x + n * g.xs[0] + int64_t(grp) * Cg * g.xs[1];
  const int k0 = kc * KB; // within the group
  // The patch and the filter slab in one pass, so both tensors' loads are in flight together.
  stageToShared(xs, nxPad + taps * KB, [&](int i) {
    if (i < nxPad) {
      if (i >= nx)
        return A(0);
      const int c = i / patch, rest = i - c * patch, py = rest / t.PW, px = rest - py * t.PW;
      const int64_t ih = ih0 + py, iw = iw0 + px;
      return ih >= 0 && ih < g.in[1] && iw >= 0 && iw < g.in[2] ? toAcc(xg[c * g.xs[1] + ih * g.xs[3] + iw * g.xs[4]])
                                                                : A(0);
    }
    const int j = i - nxPad, tap = j / KB, kk = j - tap * KB, c = tap / (R * S), rs = tap - c * R * S, r = rs / S,
              s = rs - r * S;
    const int64_t k = int64_t(grp) * g.Kg + k0 + kk;
    return k0 + kk < g.Kg ? toAcc(w[k * g.ws[0] + c * g.ws[1] + r * g.ws[3] + s * g.ws[4]]) : A(0);
  });
  __syncthreads();
  const int oy = threadIdx.x / t.TW, ox = threadIdx.x - oy * t.TW;
  const int64_t oh = th * t.TH + oy, ow0 = tw * t.TW * PX + ox; // pixel j: ow0 + j * TW
  if (oh >= g.out[1] || ow0 >= g.out[2])
    return;
  A acc[PX][KB];
#pragma unroll
  for (int j = 0; j < PX; ++j)
#pragma unroll
    for (int kk = 0; kk < KB; ++kk)
      acc[j][kk] = A(0);
  const int sh = int(g.str[1]), sw = int(g.str[2]), dh = int(g.dil[1]), dw = int(g.dil[2]), jStep = t.TW * sw;
  const A *wt = ws;
  for (int c = 0; c < Cg; ++c) {
    const A *xc = xs + c * patch + (oy * sh) * t.PW + ox * sw;
    for (int r = 0; r < R; ++r) {
      const A *xr = xc + r * dh * t.PW;
      for (int s = 0; s < S; ++s, wt += KB) {
        A xv[PX];
#pragma unroll
        for (int j = 0; j < PX; ++j)
          xv[j] = xr[s * dw + j * jStep]; // inside the patch even past the output's edge (not stored)
        A wv[KB];
        loadTap<KB>(wv, wt);
#pragma unroll
        for (int j = 0; j < PX; ++j)
#pragma unroll
          for (int kk = 0; kk < KB; ++kk)
            acc[j][kk] = fma(xv[j], wv[kk], acc[j][kk]);
      }
    }
  }
  T *yo = y + n * g.ys[0] + (int64_t(grp) * g.Kg + k0) * g.ys[1] + oh * g.ys[3];
#pragma unroll
  for (int j = 0; j < PX; ++j) {
    const int64_t ow = ow0 + int64_t(j) * t.TW;
    if (ow < g.out[2]) {
#pragma unroll
      for (int kk = 0; kk < KB; ++kk)
        if (k0 + kk < g.Kg)
          storeScaled(yo + kk * g.ys[1] + ow * g.ys[4], acc[j][kk], alpha, beta);
    }
  }
}

template <class T> void launchTiled(const ConvArgs &a, const Geom &g, const TiledPlan &t) {
  const dim3 grid(unsigned(t.tilesH * t.tilesW), unsigned(g.G * t.kChunks), unsigned(g.N));
  const auto go = [&](auto kernel) {
    kernel<<<grid, kTiledThreads, t.smem, streamOf(*a.handle)>>>(
        g, t, static_cast<const T *>(a.x), static_cast<const T *>(a.w) + g.wOff, static_cast<T *>(a.y),
        acc_t<T>(a.alpha), acc_t<T>(a.beta));
    LAMINA_CUDA_LAUNCHED();
  };
  const auto byKb = [&](auto px) {
    constexpr int PX = decltype(px)::value;
    switch (t.KB) {
    case 4: go(directTiled<T, 4, PX>); break;
    case 8: go(directTiled<T, 8, PX>); break;
    case 16: go(directTiled<T, 16, PX>); break;
    default: go(directTiled<T, 32, PX>); break;
    }
  };
  if (t.PX == 2)
    byKb(std::integral_constant<int, 2>{});
  else
    byKb(std::integral_constant<int, 1>{});
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
double simpleMs(const ConvProblem &p) {
  // One output per thread, every input and weight read from cache once per tap (two loads an FMA):
  // ~0.6 TFLOP/s in fp32 (double and the 16-bit types scaled down with it, not measured), but no tile
  // is wasted on thin problems (H200, lenet.conv1: 0.0596 ms at batch 64, 0.0123 at batch 8, where
  // 1.5 TFLOP/s said 0.029 and 0.0072 and made it the batch-8 pick over IMPLICIT_GEMM's 0.0094). No
  // faster than one thread's walk over its window, ~120 ns a tap past the first ~32 (which the
  // launch's latency covers): on the H200 lenet.conv2's 500 taps ran 0.063-0.076 ms at batch 1 and 8,
  // where the rate alone said ~0.009; lenet.conv1's 25 taps ran 0.0066 ms at batch 1.
  const double rate = p.dataType == LAMINA_DATA_DOUBLE ? 400.0 : p.dataType == LAMINA_DATA_FLOAT ? 600.0 : 500.0;
  const double walkMs = std::max(0.0, double(p.Cg()) * double(p.filtSize()) - 32.0) * 1.2e-4;
  return igemm::kLaunchMs + std::max(p.flops() / (rate * 1e6), walkMs) + igemm::bytesMs(p);
}

double tiledMs(const ConvProblem &p, const TiledPlan &t) {
  // Tiled, fitted to the H200 on every channel block (4-32) and pixel count (1, 2; 2 in float only) of
  // lenet conv1/conv2, alexnet.conv1, resnet50.conv1 and two odd shapes, fp32 and fp16, at batch 1, 8
  // and 64 (perf_notes v20, cuda-h200-issue5-v20-direct-sweep.txt; within 10% of the best of those on
  // all 36 rows), as the sum of
  // - the card's thread slots together: (a + 1.0 / KB) ps per FMA of every slot's window, a = 0.07
  //   with one pixel a thread, 0.04 with two (the input's shared load and addressing per tap shared by
  //   KB channels, the weights' 16-byte loads by PX pixels);
  // - one block's staging and walk, which the slots' work does not hide at these sizes: 1 us per
  //   round of kStageBatch x 128 staged elements (a global latency and the index arithmetic) and
  //   (20 + 3 KB) ns per tap of one thread's walk, 1.5x with two pixels (lenet.conv2's 500 taps:
  //   0.035 ms with 4 channels a block, 0.043 with 8).
  // lenet.conv1 at batch 8: 0.0093 ms with 32 channels a block (48 blocks, 2 staging rounds), 0.0051
  // with 4 (240 blocks, one round).
  const ConvGeom g = makeConvGeom(p);
  const double taps = double(g.Cg * g.filt[1] * g.filt[2]);
  const double blocks = double(t.tilesH * t.tilesW) * double(g.G * t.kChunks) * double(g.N);
  const double slotFma = blocks * kTiledThreads * taps * t.KB * t.PX;
  const double rounds =
      std::ceil((double(patchElems(g.Cg * t.PH * t.PW)) + taps * t.KB) / (kStageBatch * kTiledThreads));
  const double serial = rounds * 1.0e-3 + taps * (20e-6 + 3e-6 * t.KB) * (t.PX == 2 ? 1.5 : 1.0);
  const double dbl = p.dataType == LAMINA_DATA_DOUBLE ? 2.0 : 1.0;
  return igemm::kLaunchMs + serial + slotFma * ((t.PX == 2 ? 0.04 : 0.07) + 1.0 / t.KB) * 1e-9 * dbl +
         igemm::bytesMs(p);
}

// The form a run takes (and the estimate reports): the tiled one where it applies and its model is
// faster; LAMINA_CUDA_DIRECT=tiled or simple forces one where it applies (the tests run both).
struct DirectChoice {
  TiledPlan t; // t.KB == 0: the simple kernel
  double ms = 0;
};
DirectChoice chooseDirectFresh(const ConvProblem &p) {
  DirectChoice c;
  double tMs = 0;
  const TiledPlan t = tiledPlan(p, &tMs);
  c.ms = simpleMs(p);
  if (t.KB == 0)
    return c;
  bool tiled = tMs < c.ms;
  if (const char *e = std::getenv("LAMINA_CUDA_DIRECT"); e && (!std::strcmp(e, "tiled") || !std::strcmp(e, "simple")))
    tiled = !std::strcmp(e, "tiled");
  if (tiled)
    c.t = t, c.ms = tMs;
  return c;
}
// chooseDirectFresh, memoised (plan_memo.h): the estimate and every run ask for it, and it costs up to
// eight plans and models; the key covers the LAMINA_CUDA_DIRECT* switches.
DirectChoice chooseDirect(const ConvProblem &p) {
  static PlanMemo<DirectChoice> memo;
  return memo.get(PlanKey(p, int(ConvDirection::Forward), 0, 0), [&] { return chooseDirectFresh(p); });
}

double estimate(const ConvProblem &p) { return chooseDirect(p).ms; }

void run(const ConvArgs &a) {
  const Geom g = igemm::makeGeom(*a.p);
  const TiledPlan t = chooseDirect(*a.p).t;
  if (t.KB != 0 && g.N * g.P * g.K > 0) {
    LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, launchTiled, a, g, t);
    return;
  }
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, launch, a, g);
}

template <class T> void preloadT() {
  preloadKernel(directForward<T>);
  preloadKernel(directTiled<T, 4, 1>);
  preloadKernel(directTiled<T, 8, 1>);
  preloadKernel(directTiled<T, 16, 1>);
  preloadKernel(directTiled<T, 32, 1>);
  preloadKernel(directTiled<T, 4, 2>);
  preloadKernel(directTiled<T, 8, 2>);
  preloadKernel(directTiled<T, 16, 2>);
  preloadKernel(directTiled<T, 32, 2>);
}
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
