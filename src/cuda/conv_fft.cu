// FFT on the GPU, all three directions (2-D, one group): cuFFT real transforms of whole zero-padded
// planes (Lh x Lw, sizes 2^a 3^b 5^c 7^d) around one cuBLAS complex GEMM per frequency (F = Lh * (Lw/2
// + 1) of them), in the accumulation type (float; double for double):
//   forward         Y[f][n][k]  = sum_c X[f][n][c] conj(W[f][k][c])   (a cross-correlation)
//   backward-data   DX[f][n][c] = sum_k DY[f][n][k] W[f][k][c]         (a full convolution)
//   backward-filter DW[f][k][c] = sum_n conj(DY[f][n][k]) X[f][n][c]
// Strides and dilations become stride 1 first: the dilated filter's taps at r * dil, and a stride
// s splits x, the filter and dx into s_h * s_w phases taken as extra channels (x'(c, a, b)(i, j) =
// x_padded(c)(i s_h + a, j s_w + b), the same for the filter), so alexnet conv1's 11x11 stride 4
// is a 3x3 stride-1 correlation over 48 channels of 57x57 planes.
// Data planes are packed real, row-major [rows][Lh][Lw] (rows = n*C' + c' or n*K + k), transformed by
// cuFFT (plane-major spectra) and transposed to frequency-major [F][rows], so every frequency's matrix
// is contiguous for the batched GEMM; the output side goes back the same way. The filter has a
// handful of taps against a whole plane: its spectra come straight from the taps (filterDftKernel),
// and backward-filter evaluates dw at the taps only (filterIdft*Kernel). Lh >= P + R' - 1 keeps every
// product off the circle's wrap. Images go in chunks of nb (the last padded with zero planes: one set
// of plans per problem). The cost is the transforms' memory traffic and the F complex GEMMs, not R*S:
// it wins on large filters over small planes (alexnet conv1-2, resnet50 conv1), where cuDNN runs
// FFT_TILING. cuFFT plans are kept per thread and stream (cuFFT allocates their work areas); the
// workspace query builds them (prepareFft: 20-100 ms for a plane size cuFFT has not loaded yet), else
// the first run does. Where the planes fit 16, 32 or 64 points a side (float accumulation) and the
// model says so, the fused transforms (conv_fft_fused.cu) replace pack + cuFFT + transpose, and their
// inverse, by one launch each: square power-of-two planes, no plans, no plane-major buffers
// (LAMINA_CUDA_FFT_FUSED=0 keeps cuFFT).
#include "cuda/blas.h"
#include "cuda/conv_algorithms.h"
#include "cuda/conv_fft_common.cuh"
#include "cuda/conv_gemm_common.cuh"

#include "core/plan_memo.h"

#include <cufft.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <utility>

namespace lamina::cuda {
namespace {

using fft::cplx_t;
using fft::PlaneView;
using fft::RowPos;
using fft::rowPos;
using fft::tensorIndex;
using gemmconv::tensorCoreGemms;
using gemmconv::WsCarver;

constexpr size_t kChunkBudget = size_t(256) << 20;    // a chunk's spectra and planes are kept near this
constexpr int64_t kMaxPlane = 256;                    // largest Lh, Lw (beyond it FFT_TILING's ground)
constexpr size_t kMaxFilterSpectra = size_t(2) << 30; // the filter's spectra, K x C' x F complex
constexpr int kMaxTaps = 16;                          // largest phased filter side (the filter transforms' registers)

// The smallest m >= n whose prime factors are 2, 3, 5 and 7 (cuFFT's fast radices); n itself past
// kMaxPlane (refused anyway).
int64_t fastSize(int64_t n) {
  if (n > kMaxPlane)
    return n;
  for (int64_t m = std::max<int64_t>(n, 1);; ++m) {
    int64_t r = m;
    for (int64_t f : {2, 3, 5, 7})
      while (r % f == 0)
        r /= f;
    if (r == 1)
      return m;
  }
}

// The problem as 2-D planes; strides n, c, h, w (w: k, c, r, s with the convolution-mode flip
// folded). Rp x Sp: the filter's phase after dilation and stride; Cp = C * sh * sw: the phased channels.
struct FftGeom {
  int64_t N, C, K, H, W, P, Q, R, S, padH, padW, sh, sw, dh, dw, Rp, Sp, Cp, Lh, Lw;
  int64_t xs[4], ys[4], ws[4], wOff;
  int fused = 0; // the fused transforms' plane size (Lh = Lw = fused), else cuFFT's
  int64_t Fw() const { return Lw / 2 + 1; }
  int64_t F() const { return Lh * Fw(); }
  int64_t plane() const { return Lh * Lw; }
};

// fusedL: the planes as the fused transforms take them (square, a power of two), else cuFFT's sizes.
FftGeom geomOf(const ConvProblem &p, int fusedL) {
  const ConvGeom g = makeConvGeom(p);
  FftGeom f;
  f.N = g.N, f.C = g.C, f.K = g.K;
  f.H = g.in[1], f.W = g.in[2], f.P = g.out[1], f.Q = g.out[2], f.R = g.filt[1], f.S = g.filt[2];
  f.padH = g.pad[1], f.padW = g.pad[2], f.sh = g.str[1], f.sw = g.str[2], f.dh = g.dil[1], f.dw = g.dil[2];
  f.Rp = ceilDiv((f.R - 1) * f.dh + 1, f.sh), f.Sp = ceilDiv((f.S - 1) * f.dw + 1, f.sw);
  f.Cp = f.C * f.sh * f.sw;
  // Valid outputs need P + Rp - 1 points; backward-data reads dx's phases up to (H + pad) / s.
  f.Lh = std::max(f.P + f.Rp - 1, ceilDiv(f.H + f.padH, f.sh));
  f.Lw = std::max(f.Q + f.Sp - 1, ceilDiv(f.W + f.padW, f.sw));
  f.fused = fusedL > 0 ? fft::fusedSize(p.dataType, f.Lh, f.Lw) : 0;
  if (f.fused > 0)
    f.Lh = f.Lw = f.fused;
  else
    f.Lh = fastSize(f.Lh), f.Lw = fastSize(f.Lw);
  const int64_t *src[3] = {g.xs, g.ys, g.ws};
  int64_t *dst[3] = {f.xs, f.ys, f.ws};
  for (int t = 0; t < 3; ++t)
    dst[t][0] = src[t][0], dst[t][1] = src[t][1], dst[t][2] = src[t][3], dst[t][3] = src[t][4];
  f.wOff = g.wOff;
  return f;
}

size_t complexSize(const ConvProblem &p) { return 2 * gemmconv::accSize(p); }

// Per-image plane counts of the chunk's two spectra (input side, output side) by direction.
struct Sides {
  int64_t in, out;
};
Sides sidesOf(const FftGeom &f, ConvDirection d) {
  switch (d) {
  case ConvDirection::Forward: return {f.Cp, f.K};
  case ConvDirection::BackwardData: return {f.K, f.Cp};
  default: return {f.Cp, f.K}; // backward-filter: X and DY
  }
}

// Images per chunk (LAMINA_CUDA_FFT_CHUNK sets it: the tests' small problems then span chunks).
int64_t chunkImages(const ConvProblem &p, const FftGeom &f, ConvDirection d) {
  if (const char *e = std::getenv("LAMINA_CUDA_FFT_CHUNK"); e && std::atoll(e) > 0)
    return std::min(f.N, int64_t(std::atoll(e)));
  const Sides s = sidesOf(f, d);
  const int64_t perImage = f.fused ? (s.in + s.out) * f.F() * int64_t(complexSize(p))
                                   : (s.in + s.out + std::max(s.in, s.out)) * f.F() * int64_t(complexSize(p)) +
                                         std::max(s.in, s.out) * f.plane() * int64_t(gemmconv::accSize(p));
  const int64_t nb = std::min(f.N, std::max<int64_t>(1, int64_t(kChunkBudget) / perImage));
  const int64_t chunks = ceilDiv(f.N, nb);
  return ceilDiv(f.N, chunks); // even chunks: the last one's zero planes stay few
}

// Workspace: the filter's spectra W (wRows x F), the chunk's input-side and output-side spectra
// (frequency-major, for the GEMMs), and for cuFFT its plane-major spectra and one buffer of real planes.
struct Layout {
  int64_t nb, chunks, wRows, inRows, outRows, sideRows, tapRows;
};
Layout layoutOf(const ConvProblem &p, const FftGeom &f, ConvDirection d) {
  Layout l;
  const Sides s = sidesOf(f, d);
  l.nb = chunkImages(p, f, d);
  l.chunks = ceilDiv(f.N, l.nb);
  l.wRows = f.K * f.Cp, l.inRows = l.nb * s.in, l.outRows = l.nb * s.out;
  l.sideRows = f.fused ? 0 : std::max(l.inRows, l.outRows);
  l.tapRows = d == ConvDirection::BackwardFilter ? f.Rp * l.wRows : 0;
  return l;
}

FftGeom makeFftGeom(const ConvProblem &p, ConvDirection d);

size_t workspaceOf(const ConvProblem &p, ConvDirection d) {
  const FftGeom f = makeFftGeom(p, d);
  const Layout l = layoutOf(p, f, d);
  const size_t cs = complexSize(p) * size_t(f.F());
  return alignUp(size_t(l.wRows) * cs) + alignUp(size_t(l.inRows) * cs) + alignUp(size_t(l.outRows) * cs) +
         alignUp(size_t(l.sideRows) * cs) + alignUp(size_t(l.sideRows * f.plane()) * gemmconv::accSize(p)) +
         alignUp(size_t(l.tapRows * f.Fw()) * complexSize(p));
}

// ---------------------------------------------------------------------------------------------- plans

void checkCufft(cufftResult r, const char *what) {
  if (r == CUFFT_SUCCESS)
    return;
  fail(r == CUFFT_ALLOC_FAILED ? LAMINA_STATUS_ALLOC_FAILED : LAMINA_STATUS_EXECUTION_FAILED,
       "FFT: %s failed with cuFFT error %d", what, int(r));
}
#define LAMINA_CUFFT_CALL(expr) checkCufft((expr), #expr)

// A batch of `rows` Lh x Lw transforms between contiguous real planes and contiguous spectra (cuFFT
// ran 2.8-4x slower writing or reading frequency-major spectra directly, H200: a transpose is cheaper).
// Kept per thread and stream (a plan's work area, which cuFFT allocates, is used in its stream's order:
// two streams never share one), keyed by device, direction, precision and sizes; never destroyed at
// exit (the driver may be gone by then), cleared past kMaxPlans (cufftDestroy frees through cudaFree,
// which waits for the device).
struct CufftKey {
  int device;
  cudaStream_t stream;
  bool inverse, dbl;
  int64_t lh, lw, rows;
  bool operator<(const CufftKey &o) const {
    return std::tie(device, stream, inverse, dbl, lh, lw, rows) <
           std::tie(o.device, o.stream, o.inverse, o.dbl, o.lh, o.lw, o.rows);
  }
};
constexpr size_t kMaxPlans = 32;

cufftHandle planFor(cudaStream_t stream, bool inverse, bool dbl, int64_t lh, int64_t lw, int64_t rows) {
  thread_local auto *cache = new std::map<CufftKey, cufftHandle>();
  int device = 0;
  LAMINA_CUDA_CALL(cudaGetDevice(&device));
  const CufftKey key{device, stream, inverse, dbl, lh, lw, rows};
  if (auto it = cache->find(key); it != cache->end())
    return it->second;
  if (cache->size() >= kMaxPlans) {
    for (auto &kv : *cache)
      (void)cufftDestroy(kv.second);
    cache->clear();
  }
  cufftHandle plan;
  LAMINA_CUFFT_CALL(cufftCreate(&plan));
  long long n[2] = {lh, lw};
  size_t work = 0;
  const cufftType type = inverse ? (dbl ? CUFFT_Z2D : CUFFT_C2R) : (dbl ? CUFFT_D2Z : CUFFT_R2C);
  const long long planeDist = lh * lw, spectDist = lh * (lw / 2 + 1);
  const cufftResult r = cufftMakePlanMany64(plan, 2, n, nullptr, 1, inverse ? spectDist : planeDist, nullptr, 1,
                                            inverse ? planeDist : spectDist, type, rows, &work);
  if (r != CUFFT_SUCCESS) {
    (void)cufftDestroy(plan);
    checkCufft(r, "cufftMakePlanMany64");
  }
  cache->emplace(key, plan);
  return plan;
}

// Real planes -> spectra (plane-major), on the handle's stream.
void forwardFft(cudaStream_t stream, bool dbl, const FftGeom &f, int64_t rows, void *real, void *spect) {
  const cufftHandle plan = planFor(stream, false, dbl, f.Lh, f.Lw, rows);
  LAMINA_CUFFT_CALL(cufftSetStream(plan, stream));
  if (dbl)
    LAMINA_CUFFT_CALL(
        cufftExecD2Z(plan, static_cast<cufftDoubleReal *>(real), static_cast<cufftDoubleComplex *>(spect)));
  else
    LAMINA_CUFFT_CALL(cufftExecR2C(plan, static_cast<cufftReal *>(real), static_cast<cufftComplex *>(spect)));
}
// Spectra (plane-major) -> real planes, unnormalised; the spectra are overwritten.
void inverseFft(cudaStream_t stream, bool dbl, const FftGeom &f, int64_t rows, void *spect, void *real) {
  const cufftHandle plan = planFor(stream, true, dbl, f.Lh, f.Lw, rows);
  LAMINA_CUFFT_CALL(cufftSetStream(plan, stream));
  if (dbl)
    LAMINA_CUFFT_CALL(
        cufftExecZ2D(plan, static_cast<cufftDoubleComplex *>(spect), static_cast<cufftDoubleReal *>(real)));
  else
    LAMINA_CUFFT_CALL(cufftExecC2R(plan, static_cast<cufftComplex *>(spect), static_cast<cufftReal *>(real)));
}

// ---------------------------------------------------------------------------------------------- kernels

// dst[row][i][j] = the tensor's element at plane point (i, j) of the row's phase, 0 where none; a
// block per plane.
template <class T>
__global__ void packKernel(PlaneView v, const T *__restrict__ src, int Lh, int Lw, acc_t<T> *__restrict__ dst) {
  using A = acc_t<T>;
  for (int64_t row = blockIdx.x; row < v.rows(); row += gridDim.x) {
    const RowPos rp = rowPos(v, row);
    const T *base = src + v.off + rp.outer * v.sOuter + rp.inner * v.sInner;
    A *out = dst + row * Lh * Lw;
    for (int idx = threadIdx.x; idx < Lh * Lw; idx += blockDim.x) {
      const int i = idx / Lw, j = idx - i * Lw;
      const int hh = tensorIndex(v.ah, i, rp.a, v.h), ww = tensorIndex(v.aw, j, rp.b, v.w);
      out[idx] = rp.outer < v.outerEnd && hh >= 0 && ww >= 0 ? toAcc(base[hh * v.sH + ww * v.sW]) : A(0);
    }
  }
}

// Every tensor element of the chunk's outers = scale * its plane point + beta * itself; a block per
// tensor plane (outer, inner).
template <class T>
__global__ void unpackKernel(PlaneView v, const acc_t<T> *__restrict__ src, int Lh, int Lw, acc_t<T> scale,
                             acc_t<T> beta, T *__restrict__ dst) {
  const int64_t planes = (std::min(v.outer0 + v.nOuter, v.outerEnd) - v.outer0) * v.inner;
  for (int64_t pl = blockIdx.x; pl < planes; pl += gridDim.x) {
    const int64_t o = pl / v.inner, inner = pl % v.inner;
    T *base = dst + v.off + (v.outer0 + o) * v.sOuter + inner * v.sInner;
    const int64_t row0 = o * v.rowsPerOuter() + inner * v.phases();
    for (int idx = threadIdx.x; idx < v.h * v.w; idx += blockDim.x) {
      const int hh = idx / v.w, ww = idx - hh * v.w;
      const int eh = hh * v.ah.d + v.ah.off, ew = ww * v.aw.d + v.aw.off;
      const int64_t row = row0 + (eh % v.ah.s) * v.aw.s + ew % v.aw.s;
      storeScaled(base + hh * v.sH + ww * v.sW, src[(row * Lh + eh / v.ah.s) * Lw + ew / v.aw.s], scale, beta);
    }
  }
}

// out[c][r] = in[r][c] for an rows x cols complex matrix, 32 x 32 tiles through shared memory.
template <class C>
__global__ void transposeKernel(const C *__restrict__ in, C *__restrict__ out, int64_t rows, int64_t cols) {
  __shared__ C tile[32][33];
  const int64_t tilesC = (cols + 31) / 32, tiles = (rows + 31) / 32 * tilesC;
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const int64_t r0 = t / tilesC * 32, c0 = t % tilesC * 32;
    for (int i = threadIdx.y; i < 32; i += blockDim.y)
      if (r0 + i < rows && c0 + threadIdx.x < cols)
        tile[i][threadIdx.x] = in[(r0 + i) * cols + c0 + threadIdx.x];
    __syncthreads();
    for (int i = threadIdx.y; i < 32; i += blockDim.y)
      if (c0 + i < cols && r0 + threadIdx.x < rows)
        out[(c0 + i) * rows + r0 + threadIdx.x] = tile[threadIdx.x][i];
    __syncthreads();
  }
}

// Twiddles e^(2 pi i k / L) for k < Lh and k < Lw in shared memory (cos, sin).
template <class A> __device__ void loadTwiddles(A *twH, A *twW, int Lh, int Lw) {
  for (int k = threadIdx.x; k < Lh + Lw; k += blockDim.x) {
    const bool h = k < Lh;
    const int kk = h ? k : k - Lh, L = h ? Lh : Lw;
    A sn, cs;
    sincospi(A(2 * kk) / A(L), &sn, &cs);
    A *t = h ? twH : twW;
    t[2 * kk] = cs, t[2 * kk + 1] = sn;
  }
  __syncthreads();
}

// The filter's spectra straight from its taps (a handful against a whole plane, so no FFT):
// W[(u * Fw + v) * wRows + row] = sum_{r, s} w'(row)[r][s] e^(-2 pi i (u r / Lh + v s / Lw)), as
// separable sums, a thread per (plane, v) (consecutive planes: coalesced stores).
template <class T>
__global__ void filterDftKernel(PlaneView v, const T *__restrict__ w, int Lh, int Lw, int Rp, int Sp,
                                cplx_t<T> *__restrict__ W) {
  using A = acc_t<T>;
  extern __shared__ __align__(16) unsigned char smemRaw[];
  A *twH = reinterpret_cast<A *>(smemRaw), *twW = twH + 2 * Lh;
  loadTwiddles(twH, twW, Lh, Lw);
  const int64_t rows = v.rows();
  const int Fw = Lw / 2 + 1;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < rows * Fw;
       t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = t % rows;
    const int fv = int(t / rows);
    const RowPos rp = rowPos(v, row);
    const T *base = w + v.off + rp.outer * v.sOuter + rp.inner * v.sInner;
    A re[kMaxTaps], im[kMaxTaps]; // A_r(v) = sum_s w'[r][s] e^(-2 pi i v s / Lw)
#pragma unroll
    for (int r = 0; r < kMaxTaps; ++r) {
      re[r] = im[r] = A(0);
      const int hh = r < Rp ? tensorIndex(v.ah, r, rp.a, v.h) : -1;
      if (hh < 0)
        continue;
      for (int s = 0, k = 0; s < Sp; ++s, k = k + fv >= Lw ? k + fv - Lw : k + fv) {
        const int ww = tensorIndex(v.aw, s, rp.b, v.w);
        if (ww < 0)
          continue;
        const A x = toAcc(base[hh * v.sH + ww * v.sW]);
        re[r] += x * twW[2 * k], im[r] -= x * twW[2 * k + 1];
      }
    }
    for (int u = 0; u < Lh; ++u) {
      A sr = A(0), si = A(0);
      int k = 0;
#pragma unroll
      for (int r = 0; r < kMaxTaps; ++r) {
        if (r < Rp) { // (re + i im)(cos - i sin)
          const A c = twH[2 * k], sn = twH[2 * k + 1];
          sr += re[r] * c + im[r] * sn, si += im[r] * c - re[r] * sn;
        }
        k = k + u >= Lh ? k + u - Lh : k + u;
      }
      W[(int64_t(u) * Fw + fv) * rows + row] = {sr, si};
    }
  }
}

// dw from its spectra at the taps only, in two passes over separable sums. Columns:
// B[(r * Fw + v) * wRows + row] = sum_u DW[u][v] e^(2 pi i u r / Lh), a thread per (r, plane, v), r
// fastest (a plane's R' threads read its column together).
template <class T>
__global__ void filterIdftColumnsKernel(int64_t rows, const cplx_t<T> *__restrict__ DW, int Lh, int Lw, int Rp,
                                        cplx_t<T> *__restrict__ B) {
  using A = acc_t<T>;
  extern __shared__ __align__(16) unsigned char smemRaw[];
  A *twH = reinterpret_cast<A *>(smemRaw), *twW = twH + 2 * Lh;
  loadTwiddles(twH, twW, Lh, Lw);
  const int Fw = Lw / 2 + 1;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < rows * Fw * Rp;
       t += int64_t(gridDim.x) * blockDim.x) {
    const int r = int(t % Rp);
    const int64_t row = t / Rp % rows;
    const int fv = int(t / Rp / rows);
    A br = A(0), bi = A(0);
    for (int u = 0, k = 0; u < Lh; ++u, k = k + r >= Lh ? k + r - Lh : k + r) {
      const cplx_t<T> d = DW[(int64_t(u) * Fw + fv) * rows + row];
      const A c = twH[2 * k], sn = twH[2 * k + 1];
      br += d.x * c - d.y * sn, bi += d.x * sn + d.y * c;
    }
    B[(int64_t(r) * Fw + fv) * rows + row] = {br, bi};
  }
}

// Rows: dw'(row)[r][s] = scale * sum_v c_v Re(B[r][v] e^(2 pi i v s / Lw)), c_v = 2 but for v = 0
// and v = Lw / 2 (the half spectrum of a real plane), written to the filter taps it phases (alpha in
// scale, beta); a thread per (plane, r).
template <class T>
__global__ void filterIdftRowsKernel(PlaneView v, const cplx_t<T> *__restrict__ B, int Lh, int Lw, int Rp, int Sp,
                                     acc_t<T> scale, acc_t<T> beta, T *__restrict__ dw) {
  using A = acc_t<T>;
  extern __shared__ __align__(16) unsigned char smemRaw[];
  A *twH = reinterpret_cast<A *>(smemRaw), *twW = twH + 2 * Lh;
  loadTwiddles(twH, twW, Lh, Lw);
  const int64_t rows = v.rows();
  const int Fw = Lw / 2 + 1;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < rows * Rp;
       t += int64_t(gridDim.x) * blockDim.x) {
    const int r = int(t % Rp);
    const int64_t row = t / Rp;
    const RowPos rp = rowPos(v, row);
    const int hh = tensorIndex(v.ah, r, rp.a, v.h);
    if (hh < 0)
      continue;
    A acc[kMaxTaps];
#pragma unroll
    for (int s = 0; s < kMaxTaps; ++s)
      acc[s] = A(0);
    for (int fv = 0; fv < Fw; ++fv) {
      const cplx_t<T> b = B[(int64_t(r) * Fw + fv) * rows + row];
      const A cv = fv == 0 || 2 * fv == Lw ? A(1) : A(2);
      int k = 0;
#pragma unroll
      for (int s = 0; s < kMaxTaps; ++s) {
        if (s < Sp) // Re(B e^(2 pi i v s / Lw))
          acc[s] += cv * (b.x * twW[2 * k] - b.y * twW[2 * k + 1]);
        k = k + fv >= Lw ? k + fv - Lw : k + fv;
      }
    }
    T *base = dw + v.off + rp.outer * v.sOuter + rp.inner * v.sInner + hh * v.sH;
#pragma unroll
    for (int s = 0; s < kMaxTaps; ++s) {
      const int ww = s < Sp ? tensorIndex(v.aw, s, rp.b, v.w) : -1;
      if (ww >= 0)
        storeScaled(base + ww * v.sW, acc[s], scale, beta);
    }
  }
}

constexpr unsigned kMaxGrid = 1u << 20;
unsigned blocksFor(int64_t n) { return unsigned(std::max<int64_t>(1, std::min<int64_t>(n, kMaxGrid))); }

template <class T> void pack(cudaStream_t stream, const PlaneView &v, const void *src, const FftGeom &f, void *dst) {
  packKernel<T><<<blocksFor(v.rows()), kBlock, 0, stream>>>(v, static_cast<const T *>(src), int(f.Lh), int(f.Lw),
                                                            static_cast<acc_t<T> *>(dst));
  LAMINA_CUDA_LAUNCHED();
}
template <class T>
void unpack(cudaStream_t stream, const PlaneView &v, const void *src, const FftGeom &f, double scale, double beta,
            void *dst) {
  const int64_t planes = (std::min(v.outer0 + v.nOuter, v.outerEnd) - v.outer0) * v.inner;
  unpackKernel<T><<<blocksFor(planes), kBlock, 0, stream>>>(v, static_cast<const acc_t<T> *>(src), int(f.Lh), int(f.Lw),
                                                            acc_t<T>(scale), acc_t<T>(beta), static_cast<T *>(dst));
  LAMINA_CUDA_LAUNCHED();
}
template <class T> void transpose(cudaStream_t stream, const void *in, void *out, int64_t rows, int64_t cols) {
  transposeKernel<cplx_t<T>><<<blocksFor(ceilDiv(rows, 32) * ceilDiv(cols, 32)), dim3(32, 8), 0, stream>>>(
      static_cast<const cplx_t<T> *>(in), static_cast<cplx_t<T> *>(out), rows, cols);
  LAMINA_CUDA_LAUNCHED();
}
size_t twiddleBytes(const FftGeom &f, bool dbl) { return size_t(2 * (f.Lh + f.Lw)) * (dbl ? 8 : 4); }

// The tensors as plane views (outer range set per chunk): x and dx padded and phased, y and dy at the
// origin, the filter dilated and phased.
PlaneView xView(const FftGeom &f) {
  return {f.xs[0],
          f.xs[1],
          f.xs[2],
          f.xs[3],
          f.C,
          int(f.H),
          int(f.W),
          {int(f.sh), 1, int(f.padH)},
          {int(f.sw), 1, int(f.padW)},
          0,
          f.N,
          0,
          0};
}
PlaneView yView(const FftGeom &f) {
  return {f.ys[0], f.ys[1], f.ys[2], f.ys[3], f.K, int(f.P), int(f.Q), {1, 1, 0}, {1, 1, 0}, 0, f.N, 0, 0};
}
PlaneView wView(const FftGeom &f) {
  return {
      f.ws[0], f.ws[1], f.ws[2], f.ws[3], f.C, int(f.R), int(f.S), {int(f.sh), int(f.dh), 0}, {int(f.sw), int(f.dw), 0},
      0,       f.K,     f.K,     f.wOff};
}
PlaneView chunkOf(PlaneView v, int64_t n0, int64_t nb) {
  v.outer0 = n0, v.nOuter = nb;
  return v;
}

// ---------------------------------------------------------------------------------------------- runs

struct Buffers {
  void *w, *in, *out, *side, *real, *taps; // taps: backward-filter's column sums
};
Buffers carve(const ConvArgs &a, const FftGeom &f, const Layout &l) {
  const int64_t cs = int64_t(complexSize(*a.p)) * f.F();
  WsCarver ws{static_cast<char *>(a.workspace)};
  Buffers b;
  b.w = ws.take<char>(l.wRows * cs);
  b.in = ws.take<char>(l.inRows * cs);
  b.out = ws.take<char>(l.outRows * cs);
  b.side = ws.take<char>(l.sideRows * cs);
  b.real = ws.take<char>(l.sideRows * f.plane() * int64_t(gemmconv::accSize(*a.p)));
  b.taps = ws.take<char>(l.tapRows * f.Fw() * int64_t(complexSize(*a.p)));
  return b;
}

// A chunk of a tensor -> its frequency-major spectra: one fused launch, or pack, R2C (plane-major),
// transpose.
template <class T>
void spectra(cudaStream_t stream, laminaDataType_t dt, const FftGeom &f, const PlaneView &v, const void *src,
             const Buffers &b, void *dst) {
  if (f.fused) {
    fft::fusedSpectra(stream, dt, f.fused, v, src, dst);
    return;
  }
  const bool dbl = dt == LAMINA_DATA_DOUBLE;
  pack<T>(stream, v, src, f, b.real);
  forwardFft(stream, dbl, f, v.rows(), b.real, b.side);
  transpose<T>(stream, b.side, dst, v.rows(), f.F());
}

// Forward and backward-data: W once, then per chunk the input side's spectra, the GEMMs, the output.
template <class T> void runData(const ConvArgs &a, bool bwd) {
  const ConvProblem &p = *a.p;
  const cudaStream_t stream = streamOf(*a.handle);
  const ConvDirection d = bwd ? ConvDirection::BackwardData : ConvDirection::Forward;
  const FftGeom f = makeFftGeom(p, d);
  const Layout l = layoutOf(p, f, d);
  const Buffers b = carve(a, f, l);
  const bool dbl = p.dataType == LAMINA_DATA_DOUBLE;

  const PlaneView wv = wView(f);
  filterDftKernel<T><<<blocksFor(ceilDiv(wv.rows() * f.Fw(), kBlock)), kBlock, twiddleBytes(f, dbl), stream>>>(
      wv, static_cast<const T *>(a.w), int(f.Lh), int(f.Lw), int(f.Rp), int(f.Sp), static_cast<cplx_t<T> *>(b.w));
  LAMINA_CUDA_LAUNCHED();

  // Forward: x' (padded, phased) in, y out; backward-data: dy in, dx' out (read back through its phases).
  const PlaneView src = bwd ? yView(f) : xView(f), dst = bwd ? xView(f) : yView(f);
  const double scale = a.alpha / double(f.plane());
  for (int64_t n0 = 0; n0 < f.N; n0 += l.nb) {
    spectra<T>(stream, p.dataType, f, chunkOf(src, n0, l.nb), bwd ? a.dy : a.x, b, b.in);
    ComplexGemmCall g;
    g.dbl = dbl, g.tf32 = tensorCoreGemms(p), g.batch = f.F(), g.beta = 0.0;
    if (!bwd) {
      // Column-major per frequency: Y^T (K x nb) = W^H (K x C') * X^T (C' x nb).
      g.opA = 'C', g.m = f.K, g.n = l.nb, g.k = f.Cp;
      g.A = b.w, g.lda = f.Cp, g.strideA = f.K * f.Cp;
      g.B = b.in, g.ldb = f.Cp, g.strideB = l.nb * f.Cp;
      g.C = b.out, g.ldc = f.K, g.strideC = l.nb * f.K;
    } else {
      // DX^T (C' x nb) = W^T (C' x K) * DY^T (K x nb).
      g.m = f.Cp, g.n = l.nb, g.k = f.K;
      g.A = b.w, g.lda = f.Cp, g.strideA = f.K * f.Cp;
      g.B = b.in, g.ldb = f.K, g.strideB = l.nb * f.K;
      g.C = b.out, g.ldc = f.Cp, g.strideC = l.nb * f.Cp;
    }
    complexGemmStridedBatched(*a.handle, g);
    if (f.fused) {
      fft::fusedPlanes(stream, p.dataType, f.fused, chunkOf(dst, n0, l.nb), b.out, scale, a.beta, bwd ? a.dx : a.y);
      continue;
    }
    transpose<T>(stream, b.out, b.side, f.F(), l.outRows);
    inverseFft(stream, dbl, f, l.outRows, b.side, b.real);
    unpack<T>(stream, chunkOf(dst, n0, l.nb), b.real, f, scale, a.beta, bwd ? a.dx : a.y);
  }
}

// Backward-filter: DW accumulates over the chunks, then dw straight from it at the taps.
template <class T> void runFilter(const ConvArgs &a) {
  const ConvProblem &p = *a.p;
  const cudaStream_t stream = streamOf(*a.handle);
  const FftGeom f = makeFftGeom(p, ConvDirection::BackwardFilter);
  const Layout l = layoutOf(p, f, ConvDirection::BackwardFilter);
  const Buffers b = carve(a, f, l);
  const bool dbl = p.dataType == LAMINA_DATA_DOUBLE;
  for (int64_t n0 = 0; n0 < f.N; n0 += l.nb) {
    spectra<T>(stream, p.dataType, f, chunkOf(xView(f), n0, l.nb), a.x, b, b.in);
    spectra<T>(stream, p.dataType, f, chunkOf(yView(f), n0, l.nb), a.dy, b, b.out);
    // Column-major per frequency: DW^T (C' x K) += X^T (C' x nb) * conj(DY) (nb x K).
    ComplexGemmCall g;
    g.dbl = dbl, g.tf32 = tensorCoreGemms(p), g.batch = f.F(), g.beta = n0 == 0 ? 0.0 : 1.0;
    g.opB = 'C', g.m = f.Cp, g.n = f.K, g.k = l.nb;
    g.A = b.in, g.lda = f.Cp, g.strideA = l.nb * f.Cp;
    g.B = b.out, g.ldb = f.K, g.strideB = l.nb * f.K;
    g.C = b.w, g.ldc = f.Cp, g.strideC = f.K * f.Cp;
    complexGemmStridedBatched(*a.handle, g);
  }
  const PlaneView wv = wView(f);
  filterIdftColumnsKernel<T>
      <<<blocksFor(ceilDiv(l.wRows * f.Fw() * f.Rp, kBlock)), kBlock, twiddleBytes(f, dbl), stream>>>(
          l.wRows, static_cast<const cplx_t<T> *>(b.w), int(f.Lh), int(f.Lw), int(f.Rp),
          static_cast<cplx_t<T> *>(b.taps));
  LAMINA_CUDA_LAUNCHED();
  filterIdftRowsKernel<T><<<blocksFor(ceilDiv(l.wRows * f.Rp, kBlock)), kBlock, twiddleBytes(f, dbl), stream>>>(
      wv, static_cast<const cplx_t<T> *>(b.taps), int(f.Lh), int(f.Lw), int(f.Rp), int(f.Sp),
      acc_t<T>(a.alpha / double(f.plane())), acc_t<T>(a.beta), static_cast<T *>(a.dw));
  LAMINA_CUDA_LAUNCHED();
}

template <class T> void runFwd(const ConvArgs &a) { runData<T>(a, false); }
template <class T> void runBwdData(const ConvArgs &a) { runData<T>(a, true); }
template <class T> void runBwdFilter(const ConvArgs &a) { runFilter<T>(a); }

std::string whyNotFft(const ConvProblem &p, ConvDirection d) {
  if (p.spatialDims != 2)
    return "FFT: 2-D convolutions only";
  if (p.G != 1)
    return "FFT: one group only";
  const FftGeom f = makeFftGeom(p, d);
  if (f.Lh > kMaxPlane || f.Lw > kMaxPlane)
    return "FFT: the transform planes would be larger than 256 a side";
  if (f.Rp > kMaxTaps || f.Sp > kMaxTaps)
    return "FFT: the filter spans more than 16 points a side (after dilation, per stride phase)";
  if (double(f.K * f.Cp) * double(f.F()) * double(complexSize(p)) > double(kMaxFilterSpectra))
    return "FFT: the filter's spectra would take more than 2 GiB of workspace";
  const Layout l = layoutOf(p, f, d);
  if (!gemmFitsInt(std::max(f.Cp, f.K), std::max(l.nb, f.K), std::max({f.Cp, f.K, l.nb}), f.Cp, f.K,
                   std::max(f.Cp, f.K)))
    return "FFT: a GEMM dimension exceeds the 32-bit range of cuBLAS";
  return {};
}

// Fitted to the H200 (lenet, alexnet conv1-2, vgg16 conv1_2, resnet50 conv1 and res2_3x3 at batch 1,
// 8 and 64): the complex GEMMs (8 real flops a complex multiply-add) at a rate that grows with K x Cp
// (FP32 33 -> 56 TFLOP/s, TF32 50 -> 180: below), reading W once a chunk; cuFFT's batched small
// planes at ~1.1 TB/s of planes and spectra (2-2.5x slower past 128 a side: vgg16 conv1_2's 240 x 240
// planes); the transposes at ~3.5 TB/s; packs and unpacks at ~2 TB/s; the filter transforms writing
// (reading) W at ~3 TB/s and computing at ~10 TFLOP/s; ~6 us a launch (about 11 a chunk, cuFFT's
// included). Strided backward-data ran ~1.3x the rest.
// The fused transforms (one pass each way over the tensor and the spectra), fitted to the H200 (fp32
// and TF32 lenet conv1-2, alexnet conv1-2, resnet50 res2_3x3 at batch 1, 8, 64: measured / modelled
// 0.8-1.45): each launch the longer of its bytes at ~2 TB/s (16- and 32-point planes; 1 TB/s for
// 64-point: 4 planes a block in 68 KB of shared memory) and one block's latency (~8 / 20 / 25 us for
// 16 / 32 / 64-point planes: lenet's few blocks), plus the complex GEMMs and ~4.5 us a launch as above.
double modelMs(const ConvProblem &p, const FftGeom &f, ConvDirection d) {
  const Layout l = layoutOf(p, f, d);
  const double F = double(f.F()), Fw = double(f.Fw()), plane = double(f.plane());
  const double rs = double(gemmconv::accSize(p)), cs = double(complexSize(p)), images = double(l.nb * l.chunks);
  const double sides = images * double(f.Cp + f.K), wRows = double(f.K * f.Cp);
  const double gemmFlops = 8.0 * F * images * double(f.K) * double(f.Cp);
  const double side = double(std::max(f.Lh, f.Lw));
  const double fftRate = 1.25e9 / (side > 128 ? 1.0 + 1.5 * std::log2(side / 128) : 1.0);
  const double fftBytes = sides * (plane * rs + F * cs);
  const double transposeBytes = 2.0 * sides * F * cs;
  const double packBytes =
      sides * plane * rs + double(dataTypeSize(p.dataType)) * double(f.N * f.C * f.H * f.W + f.N * f.K * f.P * f.Q);
  const double wBytes = wRows * F * cs;
  const double dftFlops = d == ConvDirection::BackwardFilter
                              ? wRows * Fw * double(f.Rp) * (8.0 * double(f.Lh) + 4.0 * double(f.Sp))
                              : wRows * Fw * 8.0 * double(f.Rp) * double(f.Sp + f.Lh);
  // The complex GEMMs' effective rate grows with the per-frequency product K x Cp. Up to 16K (resnet50
  // res2 / res3 3x3, alexnet conv1 / conv2) the rates of alexnet.conv2's calibration (TF32 backward-filter
  // 0.510 ms: 6.9 GFLOP at ~50 TFLOP/s effective, FP32 ~33); from 64K (res4_3x3, alexnet conv3-5, vgg16
  // conv5_2) what the H200's batch-64 FFT rows needed, the other terms as they are (v17: TF32 156-205,
  // FP32 54-58; vgg16.conv5_2's TF32 backward-filter ran 0.494 ms where the flat 50 modelled 0.773).
  // Log-interpolated between 16K and 64K.
  const double grow = std::clamp((std::log2(std::max(1.0, double(f.K) * double(f.Cp))) - 14.0) / 2.0, 0.0, 1.0);
  const double tflops = p.dataType == LAMINA_DATA_DOUBLE ? 25
                        : tensorCoreGemms(p)             ? 50 * std::pow(180.0 / 50.0, grow)
                                                         : 33 * std::pow(56.0 / 33.0, grow);
  const double common = gemmFlops / (tflops * 1e9) + wBytes * double(l.chunks + 1) / 3e9 + dftFlops / 10e9;
  if (f.fused) {
    const double elem = double(dataTypeSize(p.dataType)), chunks = double(l.chunks);
    const double xBytes = elem * double(f.N * f.C * f.H * f.W), yBytes = elem * double(f.N * f.K * f.P * f.Q);
    const double xSide = images * double(f.Cp) * F * cs + xBytes, ySide = images * double(f.K) * F * cs + yBytes;
    const double rate = f.fused >= 64 ? 1.0e9 : 2.0e9, latency = f.fused >= 64 ? 0.025 : f.fused >= 32 ? 0.02 : 0.008;
    const double fusedMs =
        chunks * (std::max(latency, xSide / chunks / rate) + std::max(latency, ySide / chunks / rate));
    return common + fusedMs + 0.0045 * double(2 + 3 * l.chunks);
  }
  const double ms =
      common + fftBytes / fftRate + transposeBytes / 4e9 + packBytes / 2.5e9 + 0.0045 * double(2 + 11 * l.chunks);
  return d == ConvDirection::BackwardData && f.sh * f.sw > 1 ? 1.3 * ms : ms;
}

// cuFFT's planes (7-smooth sizes) or the fused transforms' (a power of two up to 64), by the model, with
// the chosen one's model time; the fused planes only where their filter spectra (up to ~3.4x cuFFT's:
// 33-point needs take 64) stay within the limit whyNotFft applies.
struct FftChoice {
  FftGeom f;
  double ms;
};
FftChoice chooseFftFresh(const ConvProblem &p, ConvDirection d) {
  const FftGeom smooth = geomOf(p, 0), fused = geomOf(p, 1);
  const double smoothMs = modelMs(p, smooth, d);
  if (fused.fused &&
      double(fused.K * fused.Cp) * double(fused.F()) * double(complexSize(p)) <= double(kMaxFilterSpectra)) {
    const double fusedMs = modelMs(p, fused, d);
    if (fusedMs <= smoothMs)
      return {fused, fusedMs};
  }
  return {smooth, smoothMs};
}
// chooseFftFresh, memoised (plan_memo.h): the estimate, whyNotFft, the workspace query and every run ask
// for the geometry, which models both kinds of planes; the key covers the LAMINA_CUDA_FFT_* switches.
FftChoice chooseFft(const ConvProblem &p, ConvDirection d) {
  static PlanMemo<FftChoice> memo;
  return memo.get(PlanKey(p, int(d), 0, 0), [&] { return chooseFftFresh(p, d); });
}
FftGeom makeFftGeom(const ConvProblem &p, ConvDirection d) { return chooseFft(p, d).f; }

double estimateFft(const ConvProblem &p, ConvDirection d) { return chooseFft(p, d).ms; }

// cuBLAS loads its complex GEMM kernels on first use (38 ms for the process's first
// cublasCgemmStridedBatched on the H200): one small GEMM of each form the runs use (W^H X, W X,
// X conj(DY)), once per device, type and process. Best effort, like the handle's real warm-up.
void warmUpComplexGemms(const laminaContext &h, bool dbl, bool tf32) {
  static std::mutex mu;
  static std::set<std::tuple<int, bool, bool>> done;
  std::lock_guard<std::mutex> lock(mu);
  if (!done.insert({h.device, dbl, tf32}).second)
    return;
  constexpr int64_t n = 64;
  const size_t bytes = size_t(3 * 2 * n * n) * (dbl ? 16 : 8);
  void *buf = nullptr;
  if (cudaMalloc(&buf, bytes) != cudaSuccess || cudaMemsetAsync(buf, 0, bytes, streamOf(h)) != cudaSuccess) {
    (void)cudaGetLastError();
    cudaFree(buf);
    return;
  }
  try {
    ComplexGemmCall g;
    g.dbl = dbl, g.tf32 = tf32, g.batch = 2, g.m = g.n = g.k = n, g.lda = g.ldb = g.ldc = n;
    g.strideA = g.strideB = g.strideC = n * n;
    char *base = static_cast<char *>(buf);
    g.A = base, g.B = base + bytes / 3, g.C = base + 2 * (bytes / 3);
    for (const char *ops : {"CN", "NN", "NC"}) {
      g.opA = ops[0], g.opB = ops[1];
      complexGemmStridedBatched(h, g);
    }
  } catch (...) {
  }
  (void)cudaStreamSynchronize(streamOf(h));
  cudaFree(buf);
  (void)cudaGetLastError();
}

// The algorithm's prepare hook (ConvAlgorithm::prepare): one run on scratch buffers (runOnScratch),
// which builds the cuFFT plans its runs will ask for on this thread and the handle's stream and loads
// cuBLAS's complex kernels for the shape; where that declines (scratch over its cap, a capture), the
// plans and a small complex GEMM of each form.
void prepareFft(const laminaContext &h, const ConvProblem &p, const ConvAlgorithm &alg) {
  const ConvDirection d = alg.direction;
  if (!whyNotFft(p, d).empty() || runOnScratch(h, p, alg))
    return;
  const FftGeom f = makeFftGeom(p, d);
  const Layout l = layoutOf(p, f, d);
  const bool dbl = p.dataType == LAMINA_DATA_DOUBLE;
  const cudaStream_t stream = streamOf(h);
  warmUpComplexGemms(h, dbl, tensorCoreGemms(p));
  if (f.fused)
    return;
  (void)planFor(stream, false, dbl, f.Lh, f.Lw, l.inRows);
  // Forward and backward-data invert the output side; backward-filter transforms both sides.
  (void)planFor(stream, d != ConvDirection::BackwardFilter, dbl, f.Lh, f.Lw, l.outRows);
}

template <class T> void preloadT() {
  preloadKernel(packKernel<T>);
  preloadKernel(unpackKernel<T>);
  preloadKernel(filterDftKernel<T>);
  preloadKernel(filterIdftColumnsKernel<T>);
  preloadKernel(filterIdftRowsKernel<T>);
  preloadKernel(transposeKernel<cplx_t<T>>);
}

} // namespace

void preloadConvFft() {
  LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT);
  fft::preloadFusedFft();
}

const ConvAlgorithm kConvFwdFft = {
    ConvDirection::Forward,
    LAMINA_CONVOLUTION_FWD_ALGO_FFT,
    "FFT",
    LAMINA_DETERMINISTIC,
    [](const ConvProblem &p) { return whyNotFft(p, ConvDirection::Forward); },
    [](const ConvProblem &p) { return workspaceOf(p, ConvDirection::Forward); },
    [](const ConvProblem &p) { return estimateFft(p, ConvDirection::Forward); },
    [](const ConvArgs &a) { LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, runFwd, a); },
    prepareFft};

const ConvAlgorithm kConvBwdDataFft = {
    ConvDirection::BackwardData,
    LAMINA_CONVOLUTION_BWD_DATA_ALGO_FFT,
    "FFT",
    LAMINA_DETERMINISTIC,
    [](const ConvProblem &p) { return whyNotFft(p, ConvDirection::BackwardData); },
    [](const ConvProblem &p) { return workspaceOf(p, ConvDirection::BackwardData); },
    [](const ConvProblem &p) { return estimateFft(p, ConvDirection::BackwardData); },
    [](const ConvArgs &a) { LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, runBwdData, a); },
    prepareFft};

const ConvAlgorithm kConvBwdFilterFft = {
    ConvDirection::BackwardFilter,
    LAMINA_CONVOLUTION_BWD_FILTER_ALGO_FFT,
    "FFT",
    LAMINA_DETERMINISTIC,
    [](const ConvProblem &p) { return whyNotFft(p, ConvDirection::BackwardFilter); },
    [](const ConvProblem &p) { return workspaceOf(p, ConvDirection::BackwardFilter); },
    [](const ConvProblem &p) { return estimateFft(p, ConvDirection::BackwardFilter); },
    [](const ConvArgs &a) { LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, runBwdFilter, a); },
    prepareFft};

} // namespace lamina::cuda
