// Pieces shared by the FFT convolutions (conv_fft.cu) and their fused shared-memory transforms
// (conv_fft_fused.cu): how a tensor maps onto the transform's planes (strides as phases, dilation,
// padding), and the fused transforms' entry points.
#pragma once

#include "core/conv_problem.h"
#include "cuda/device.cuh"

#include <cstdint>

namespace lamina::cuda::fft {

template <class T> struct Cplx { using type = float2; };
template <> struct Cplx<double> { using type = double2; };
template <class T> using cplx_t = typename Cplx<T>::type;

// How a tensor axis maps onto plane points: tensor index t sits at e = t * d + off, which is point
// e / s of phase e % s (x: d 1, off pad, s stride; the filter: d dilation, off 0, s stride; y, dy: 1, 0, 1).
struct Axis {
  int s, d, off;
};

// A tensor seen as [outer][inner][h][w] (outer: image or output channel; inner: channel), in planes
// of rows (outer - outer0) * inner * s_h * s_w + (inner * s_h + a) * s_w + b; a chunk holds nOuter
// outers from outer0 (rows of outers past outerEnd are zero planes).
struct PlaneView {
  int64_t sOuter, sInner, sH, sW;
  int64_t inner;
  int h, w;
  Axis ah, aw;
  int64_t outer0, outerEnd, nOuter;
  int64_t off; // element offset of (0, 0, 0, 0) from the base pointer (the flipped filter's)
  __host__ __device__ int phases() const { return ah.s * aw.s; }
  __host__ __device__ int64_t rowsPerOuter() const { return inner * phases(); }
  __host__ __device__ int64_t rows() const { return nOuter * rowsPerOuter(); }
};

// Tensor index of plane point i of phase a on an axis, or -1 where no tensor element lands.
__device__ __forceinline__ int tensorIndex(const Axis &ax, int i, int a, int extent) {
  const int e = i * ax.s + a - ax.off;
  if (e < 0)
    return -1;
  const int t = ax.d == 1 ? e : e % ax.d == 0 ? e / ax.d : extent;
  return t < extent ? t : -1;
}

// The row's place in the tensor: its outer, inner and phase (a, b).
struct RowPos {
  int64_t outer, inner;
  int a, b;
};
__device__ __forceinline__ RowPos rowPos(const PlaneView &v, int64_t row) {
  const int64_t cp = row % v.rowsPerOuter();
  const int ph = int(cp % v.phases());
  return {v.outer0 + row / v.rowsPerOuter(), cp / v.phases(), ph / v.aw.s, ph % v.aw.s};
}

// ---- Fused transforms (conv_fft_fused.cu): square power-of-two planes L x L, L in 16..64, float
// accumulation (float, half, bfloat16 tensors). Spectra are frequency-major: S[(u * (L/2 + 1) + v) *
// rows + row], rows = the view's rows.

constexpr int kFusedMinSize = 16, kFusedMaxSize = 64;

// The fused plane size for planes needing needH x needW points (0 where none applies: double, larger
// planes, or LAMINA_CUDA_FFT_FUSED=0).
int fusedSize(laminaDataType_t t, int64_t needH, int64_t needW);

// The view's planes (read from the tensor, zero-padded) -> their spectra: one launch.
void fusedSpectra(cudaStream_t stream, laminaDataType_t t, int L, const PlaneView &v, const void *src, void *spect);

// Spectra -> every tensor element the view's planes hold = scale * (unnormalised inverse) + beta *
// itself: one launch.
void fusedPlanes(cudaStream_t stream, laminaDataType_t t, int L, const PlaneView &v, const void *spect, double scale,
                 double beta, void *dst);

void preloadFusedFft();

} // namespace lamina::cuda::fft
