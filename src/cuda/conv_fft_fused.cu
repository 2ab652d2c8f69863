// The FFT convolutions' data transforms in one launch each, for square power-of-two planes L x L
// (L = 16, 32, 64) in float accumulation. The cuFFT path (conv_fft.cu) takes four passes over memory
// for each side: a pack into real planes, cuFFT's R2C, a transpose to frequency-major and back, C2R,
// an unpack (alexnet conv2 forward: ~0.35 of its 0.59 ms on the H200); here a block takes G planes
// through shared memory and reads the tensor once and writes the frequency-major spectra once (the
// inverse likewise).
//
// A block of G planes, each held as two float arrays (re, im) of L rows x Fw = L/2 + 1 columns, the
// plane stride odd (L * Fw + 1) so the G planes' same point falls in G banks:
//   forward  load   row i of the plane as z[n] = x[i][2n] + i x[i][2n+1], n < L/2 (padding and phases
//                   through the view, zero where no tensor element lands)
//            rows   a thread per row: the L/2-point complex FFT of z in registers, then the real row's
//                   half spectrum X[k] = E[k] + e^(-2 pi i k/L) O[k], k <= L/2, with E, O the even and
//                   odd samples' spectra (E = (Z[k] + conj Z[L/2-k]) / 2, O = (Z[k] - conj Z[L/2-k]) / 2i)
//            columns a thread per column v: the L-point complex FFT
//            store  S[(u * Fw + v) * rows + row], G consecutive rows per frequency
//   inverse  the same backwards: columns (inverse L-point FFTs), then per row Z[k] = E[k] + i O[k] with
//            E = Y[k] + conj Y[L/2-k], O = (Y[k] - conj Y[L/2-k]) e^(2 pi i k/L), whose L/2-point inverse
//            FFT holds y[2n] + i y[2n+1]; every tensor point = scale * y + beta * itself.
// The FFTs are radix-2 decimation in time on register arrays (fully unrolled: the indices are
// constants), twiddles from a shared table e^(-2 pi i k / L).
#include "cuda/conv_fft_common.cuh"
#include "cuda/fft_regs.h"

#include <cstdlib>
#include <cstring>

namespace lamina::cuda::fft {
namespace {

// Planes per block (shared memory: 2 * G * (L * (L/2 + 1) + 1) floats, 37-70 KB) and threads.
template <int L> struct FusedShape {
  static constexpr int H2 = L / 2, Fw = H2 + 1, F = L * Fw;
  static constexpr int G = L == 16 ? 32 : L == 32 ? 16 : 4;
  static constexpr int Ps = F + 1; // plane stride in floats (odd)
  static constexpr int Threads = (G * Fw + 31) / 32 * 32;
  static constexpr size_t SmemBytes = sizeof(float2) * L + sizeof(float) * 2 * G * Ps;
};

constexpr int kBatch = 4; // load rounds a thread keeps in flight

// One of a block's planes: its tensor base and phase (a = -1: a zero plane).
struct PlaneInfo {
  int64_t base;
  int a, b;
};
template <int G> __device__ void planeInfos(const PlaneView &v, int64_t row0, int64_t rows, PlaneInfo *info) {
  for (int g = threadIdx.x; g < G; g += blockDim.x) {
    PlaneInfo pi{0, -1, -1};
    if (row0 + g < rows) {
      const RowPos rp = rowPos(v, row0 + g);
      if (rp.outer < v.outerEnd)
        pi = {v.off + rp.outer * v.sOuter + rp.inner * v.sInner, rp.a, rp.b};
    }
    info[g] = pi;
  }
}

template <int L> __device__ void loadTwiddleTable(float2 *tw) {
  for (int k = threadIdx.x; k < L; k += blockDim.x) {
    float s, c;
    sincospif(2.0f * float(k) / float(L), &s, &c);
    tw[k] = make_float2(c, -s);
  }
}

// A block's shared memory (the twiddles, then its G planes' re and im arrays) and its rows
// [row0, row0 + nrows) of the view's rows, with info[] filled (read after the next __syncthreads).
struct FusedBlock {
  float2 *tw;
  float *re, *im;
  int64_t rows, row0;
  int nrows;
};
template <int L> __device__ FusedBlock fusedBlock(const PlaneView &v, PlaneInfo *info) {
  using S = FusedShape<L>;
  extern __shared__ __align__(16) unsigned char smemRaw[];
  FusedBlock b;
  b.tw = reinterpret_cast<float2 *>(smemRaw);
  b.re = reinterpret_cast<float *>(b.tw + L), b.im = b.re + S::G * S::Ps;
  b.rows = v.rows(), b.row0 = int64_t(blockIdx.x) * S::G;
  b.nrows = int(b.rows - b.row0 < S::G ? b.rows - b.row0 : S::G);
  loadTwiddleTable<L>(b.tw);
  planeInfos<S::G>(v, b.row0, b.rows, info);
  return b;
}

template <class T, int L>
__global__ void __launch_bounds__(FusedShape<L>::Threads)
    fusedSpectraKernel(PlaneView v, const T *__restrict__ src, float2 *__restrict__ dst) {
  using S = FusedShape<L>;
  constexpr int H2 = S::H2, Fw = S::Fw, G = S::G, Ps = S::Ps;
  __shared__ PlaneInfo info[G];
  const auto [tw, re, im, rows, row0, nrows] = fusedBlock<L>(v, info);
  __syncthreads();

  // Load: plane g, row i, pair n (x[i][2n], x[i][2n + 1]), kBatch rounds of loads in flight per thread
  // (few blocks on small problems: one load round at a time left each block latency-bound).
  constexpr int kItems = G * L * H2, kRounds = (kItems + S::Threads - 1) / S::Threads;
  for (int r0 = 0; r0 < kRounds; r0 += kBatch) {
    float x0[kBatch], x1[kBatch];
    LAMINA_UNROLL
    for (int q = 0; q < kBatch; ++q) {
      const int t = threadIdx.x + (r0 + q) * S::Threads;
      const int g = t / (L * H2), i = t / H2 % L, n = t % H2;
      x0[q] = x1[q] = 0.f;
      if (t >= kItems)
        continue;
      const PlaneInfo pi = info[g];
      if (pi.a < 0)
        continue;
      const int hh = tensorIndex(v.ah, i, pi.a, v.h);
      if (hh < 0)
        continue;
      const T *rowp = src + pi.base + hh * v.sH;
      const int w0 = tensorIndex(v.aw, 2 * n, pi.b, v.w), w1 = tensorIndex(v.aw, 2 * n + 1, pi.b, v.w);
      if (w0 >= 0)
        x0[q] = toAcc(rowp[w0 * v.sW]);
      if (w1 >= 0)
        x1[q] = toAcc(rowp[w1 * v.sW]);
    }
    LAMINA_UNROLL
    for (int q = 0; q < kBatch; ++q) {
      const int t = threadIdx.x + (r0 + q) * S::Threads;
      if (t < kItems) {
        const int at = t / (L * H2) * Ps + t / H2 % L * Fw + t % H2;
        re[at] = x0[q], im[at] = x1[q];
      }
    }
  }
  __syncthreads();

  // Rows: the L/2-point FFT, then the real row's half spectrum; then the columns.
  for (int t = threadIdx.x; t < G * L; t += blockDim.x)
    rowForward<L>(re + t / L * Ps + t % L * Fw, im + t / L * Ps + t % L * Fw, tw);
  __syncthreads();
  for (int t = threadIdx.x; t < G * Fw; t += blockDim.x)
    column<L, false>(re + t / Fw * Ps + t % Fw, im + t / Fw * Ps + t % Fw, Fw, tw);
  __syncthreads();

  // Store frequency-major: G consecutive rows per frequency.
  for (int t = threadIdx.x; t < S::F * G; t += blockDim.x) {
    const int f = t / G, g = t % G;
    if (g < nrows)
      dst[int64_t(f) * rows + row0 + g] = make_float2(re[g * Ps + f], im[g * Ps + f]);
  }
}

template <class T, int L>
__global__ void __launch_bounds__(FusedShape<L>::Threads)
    fusedPlanesKernel(PlaneView v, const float2 *__restrict__ src, float scale, float beta, T *__restrict__ dst) {
  using S = FusedShape<L>;
  constexpr int Fw = S::Fw, G = S::G, Ps = S::Ps;
  __shared__ PlaneInfo info[G];
  const auto [tw, re, im, rows, row0, nrows] = fusedBlock<L>(v, info);
  constexpr int kItems = S::F * G, kRounds = (kItems + S::Threads - 1) / S::Threads;
  for (int r0 = 0; r0 < kRounds; r0 += kBatch) {
    float2 sv[kBatch];
    LAMINA_UNROLL
    for (int q = 0; q < kBatch; ++q) {
      const int t = threadIdx.x + (r0 + q) * S::Threads, f = t / G, g = t % G;
      sv[q] = t < kItems && g < nrows ? src[int64_t(f) * rows + row0 + g] : make_float2(0.f, 0.f);
    }
    LAMINA_UNROLL
    for (int q = 0; q < kBatch; ++q) {
      const int t = threadIdx.x + (r0 + q) * S::Threads, f = t / G, g = t % G;
      if (t < kItems)
        re[g * Ps + f] = sv[q].x, im[g * Ps + f] = sv[q].y;
    }
  }
  __syncthreads();

  // Columns (inverse L-point FFTs), then rows.
  for (int t = threadIdx.x; t < G * Fw; t += blockDim.x)
    column<L, true>(re + t / Fw * Ps + t % Fw, im + t / Fw * Ps + t % Fw, Fw, tw);
  __syncthreads();
  for (int t = threadIdx.x; t < G * L; t += blockDim.x)
    rowInverse<L>(re + t / L * Ps + t % L * Fw, im + t / L * Ps + t % L * Fw, tw);
  __syncthreads();

  // Every tensor point the planes hold (each is one plane's point: phases partition the tensor).
  for (int t = threadIdx.x; t < G * L * L; t += blockDim.x) {
    const int g = t / (L * L), i = t / L % L, j = t % L;
    const PlaneInfo pi = info[g];
    if (pi.a < 0)
      continue;
    const int hh = tensorIndex(v.ah, i, pi.a, v.h), ww = tensorIndex(v.aw, j, pi.b, v.w);
    if (hh < 0 || ww < 0)
      continue;
    const int at = g * Ps + i * Fw + j / 2;
    storeScaled(dst + pi.base + hh * v.sH + ww * v.sW, j % 2 ? im[at] : re[at], scale, beta);
  }
}

// The shared-memory limit (32- and 64-point planes take 68-70 KB, past the 48 KB default) once per
// device: the attribute holds for the device current when it is set.
template <class T, int L> void setSmem() {
  static std::atomic<uint64_t> set{0};
  setSmemLimitOncePerDevice(set, int(FusedShape<L>::SmemBytes), fusedSpectraKernel<T, L>, fusedPlanesKernel<T, L>);
}

unsigned blocksOf(const PlaneView &v, int G) { return unsigned(ceilDiv(v.rows(), G)); }

template <class T, int L> void spectraAs(cudaStream_t stream, const PlaneView &v, const void *src, void *spect) {
  using S = FusedShape<L>;
  setSmem<T, L>();
  fusedSpectraKernel<T, L><<<blocksOf(v, S::G), S::Threads, S::SmemBytes, stream>>>(v, static_cast<const T *>(src),
                                                                                    static_cast<float2 *>(spect));
  LAMINA_CUDA_LAUNCHED();
}
template <class T, int L>
void planesAs(cudaStream_t stream, const PlaneView &v, const void *spect, double scale, double beta, void *dst) {
  using S = FusedShape<L>;
  setSmem<T, L>();
  fusedPlanesKernel<T, L><<<blocksOf(v, S::G), S::Threads, S::SmemBytes, stream>>>(
      v, static_cast<const float2 *>(spect), float(scale), float(beta), static_cast<T *>(dst));
  LAMINA_CUDA_LAUNCHED();
}

// Calls FN<T, L> for the storage type and plane size.
template <template <class, int> class FN, class... Args> void dispatch(laminaDataType_t t, int L, Args &&...args) {
  auto bySize = [&](auto tag) {
    using T = decltype(tag);
    switch (L) {
    case 16: FN<T, 16>::run(args...); break;
    case 32: FN<T, 32>::run(args...); break;
    case 64: FN<T, 64>::run(args...); break;
    default: ::lamina::fail(LAMINA_STATUS_INTERNAL_ERROR, "fused FFT: no kernel for %d-point planes", L);
    }
  };
  switch (t) {
  case LAMINA_DATA_FLOAT: bySize(float{}); break;
  case LAMINA_DATA_HALF: bySize(__half{}); break;
  case LAMINA_DATA_BFLOAT16: bySize(__nv_bfloat16{}); break;
  default: ::lamina::fail(LAMINA_STATUS_INTERNAL_ERROR, "fused FFT: data type %d has no kernel", int(t));
  }
}
template <class T, int L> struct SpectraFn {
  static void run(cudaStream_t s, const PlaneView &v, const void *src, void *spect) {
    spectraAs<T, L>(s, v, src, spect);
  }
};
template <class T, int L> struct PlanesFn {
  static void run(cudaStream_t s, const PlaneView &v, const void *spect, double scale, double beta, void *dst) {
    planesAs<T, L>(s, v, spect, scale, beta, dst);
  }
};
template <class T, int L> struct PreloadFn {
  static void run() {
    preloadKernel(fusedSpectraKernel<T, L>);
    preloadKernel(fusedPlanesKernel<T, L>);
  }
};

} // namespace

int fusedSize(laminaDataType_t t, int64_t needH, int64_t needW) {
  if (t == LAMINA_DATA_DOUBLE)
    return 0;
  if (const char *e = std::getenv("LAMINA_CUDA_FFT_FUSED"); e && std::strcmp(e, "0") == 0)
    return 0;
  int L = kFusedMinSize;
  while (L < needH || L < needW)
    L *= 2;
  return L <= kFusedMaxSize ? L : 0;
}

void fusedSpectra(cudaStream_t stream, laminaDataType_t t, int L, const PlaneView &v, const void *src, void *spect) {
  dispatch<SpectraFn>(t, L, stream, v, src, spect);
}

void fusedPlanes(cudaStream_t stream, laminaDataType_t t, int L, const PlaneView &v, const void *spect, double scale,
                 double beta, void *dst) {
  dispatch<PlanesFn>(t, L, stream, v, spect, scale, beta, dst);
}

void preloadFusedFft() {
  for (laminaDataType_t t : {LAMINA_DATA_FLOAT, LAMINA_DATA_HALF, LAMINA_DATA_BFLOAT16})
    for (int L = kFusedMinSize; L <= kFusedMaxSize; L *= 2)
      dispatch<PreloadFn>(t, L);
}

} // namespace lamina::cuda::fft
