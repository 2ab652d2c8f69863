// Staging for the tensor-core convolutions: when an operand's layout does not suit the 16-byte
// channel loads (channels per group not a multiple of EPC = 16 / sizeof(T), i.e. 8 half or 4 float,
// NCHW or other strides, misaligned pixels), it is copied into the workspace as a packed channels-last
// tensor with the channels zero-padded to a multiple of EPC: dst[n][s0][s1][s2][cPad]. The same copy
// serves activations (n = image, s = pixel) and filters (n = output channel, s = tap, read through the
// flip-folded strides). Memory-bound; each thread writes one 16-byte chunk of EPC channels (planar
// sources: a shared-memory transpose instead).
#pragma once

#include "cuda/device.cuh"

#include <cstdint>

namespace lamina::cuda::tc {

struct StageShape {
  int64_t n, dims[3], c, cPad; // cPad: c rounded up to a multiple of 16 / sizeof(T)
  int64_t s[5];                // source strides: n, channel, spatial 0..2
  __host__ __device__ int64_t count() const { return n * dims[0] * dims[1] * dims[2] * cPad; }
  size_t bytes(size_t elemSize) const { return size_t(count()) * elemSize; }
  // Strides (n, channel, spatial 0..2) of the staged copy: packed [n][s0][s1][s2][cPad].
  void packedStrides(int64_t out[5]) const {
    out[1] = 1, out[4] = cPad, out[3] = dims[2] * cPad, out[2] = dims[1] * out[3], out[0] = dims[0] * out[2];
  }
};

// Float copies are rounded to TF32 (to nearest, as cvt.rna): their only readers are the tensor-core
// paths, and the TMA ones hand shared memory to wgmma unconverted (which would truncate).
template <class T> __device__ __forceinline__ T stagedValue(T v) {
  if constexpr (sizeof(T) == 4) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(v));
    return __uint_as_float(r);
  } else {
    return v;
  }
}

template <class T> __global__ void stageChannels(const T *__restrict__ src, StageShape sh, T *__restrict__ dst) {
  constexpr int EPC = 16 / int(sizeof(T));
  const int64_t chunks = sh.count() / EPC;
  LAMINA_GRID_STRIDE_LOOP(i, chunks) {
    int64_t t = i;
    const int64_t c0 = (t % (sh.cPad / EPC)) * EPC;
    t /= sh.cPad / EPC;
    const int64_t p2 = t % sh.dims[2];
    t /= sh.dims[2];
    const int64_t p1 = t % sh.dims[1];
    t /= sh.dims[1];
    const int64_t p0 = t % sh.dims[0], n = t / sh.dims[0];
    const T *at = src + n * sh.s[0] + p0 * sh.s[2] + p1 * sh.s[3] + p2 * sh.s[4];
    alignas(16) T v[EPC];
#pragma unroll
    for (int k = 0; k < EPC; ++k)
      v[k] = c0 + k < sh.c ? stagedValue(at[(c0 + k) * sh.s[1]]) : fromAcc<T>(0.f);
    *reinterpret_cast<uint4 *>(dst + i * EPC) = *reinterpret_cast<const uint4 *>(v);
  }
}

// The same copy when each channel's pixels are one contiguous plane (NCHW and the like: pixel p of
// channel c of n at n*s[0] + c*s[1] + p): a 32 x 32 transpose through shared memory, so both the
// reads (along a plane) and the writes (along the channels) are coalesced. Blocks: 32 x 8 threads,
// grid (pixel tiles, channel tiles, n).
template <class T>
__global__ void stagePlanes(const T *__restrict__ src, StageShape sh, int64_t pixels, T *__restrict__ dst) {
  __shared__ T tile[32][33];
  const int64_t n = blockIdx.z, p0 = int64_t(blockIdx.x) * 32, c0 = int64_t(blockIdx.y) * 32;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int j = ty; j < 32; j += 8) {
    const int64_t c = c0 + j, px = p0 + tx;
    tile[j][tx] = c < sh.c && px < pixels ? stagedValue(src[n * sh.s[0] + c * sh.s[1] + px]) : fromAcc<T>(0.f);
  }
  __syncthreads();
  for (int j = ty; j < 32; j += 8) {
    const int64_t px = p0 + j, c = c0 + tx;
    if (px < pixels && c < sh.cPad)
      dst[(n * pixels + px) * sh.cPad + c] = tile[tx][j];
  }
}

// Whether sh's pixels form one contiguous plane per channel and the planes and channels are many
// enough for the transpose (stagePlanes): with a few channels (alexnet's 3), stageChannels' neighbouring
// threads already read neighbouring pixels; with a few pixels (a 1x1 filter: one), each 32 x 32 block
// would move 32 elements (TF32 resnet50 res5_1x1's KCRS filter: 32768 blocks, ~0.07 ms on the H200
// for 4 MB, against ~0.01 through stageChannels).
inline bool planar(const StageShape &sh) {
  return sh.cPad >= 32 && sh.dims[0] * sh.dims[1] * sh.dims[2] >= 8 && sh.s[4] == 1 &&
         (sh.dims[1] == 1 || sh.s[3] == sh.dims[2]) && (sh.dims[0] == 1 || sh.s[2] == sh.dims[1] * sh.dims[2]) &&
         sh.n <= 65535;
}

// Packed channels-last strides (n, channel, spatial...) of a descriptor with `spatialDims` spatial dims
// and cPad channels, in the problem's dimension order (TensorDesc / FilterDesc strides).
inline void packedChannelsLast(int spatialDims, const int64_t *spatial, int64_t cPad, int64_t *strides) {
  int64_t s = cPad;
  strides[1] = 1;
  for (int i = spatialDims - 1; i >= 0; --i)
    strides[2 + i] = s, s *= spatial[i];
  strides[0] = s;
}

// Launches the copy of src (shape sh) into dst on the stream.
template <class T> void stage(const void *src, const StageShape &sh, void *dst, cudaStream_t stream) {
  constexpr int EPC = 16 / int(sizeof(T));
  if (sh.count() == 0)
    return;
  if (planar(sh)) {
    const int64_t pixels = sh.dims[0] * sh.dims[1] * sh.dims[2];
    const dim3 grid(unsigned((pixels + 31) / 32), unsigned((sh.cPad + 31) / 32), unsigned(sh.n));
    if ((pixels + 31) / 32 < (int64_t(1) << 31) && (sh.cPad + 31) / 32 <= 65535) {
      stagePlanes<T><<<grid, dim3(32, 8), 0, stream>>>(static_cast<const T *>(src), sh, pixels, static_cast<T *>(dst));
      LAMINA_CUDA_LAUNCHED();
      return;
    }
  }
  stageChannels<T>
      <<<gridFor(sh.count() / EPC), kBlock, 0, stream>>>(static_cast<const T *>(src), sh, static_cast<T *>(dst));
  LAMINA_CUDA_LAUNCHED();
}

} // namespace lamina::cuda::tc
