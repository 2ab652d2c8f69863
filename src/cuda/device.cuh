// Device-side helpers shared by the CUDA kernels: storage <-> compute type conversion, the
// alpha/beta store, strided index math (64-bit), launch sizes, and the dtype dispatch.
// Storage types: float, double, __half, __nv_bfloat16; compute type: double for double, else float.
#pragma once

#include "cuda/cuda_common.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <atomic>
#include <cstdint>

namespace lamina::cuda {

// Workspace regions start 256-byte aligned (cuBLAS's fastest kernels, the 16-byte vector loads): each
// region's bytes rounded up, and the caller's pointer rounded up (workspace sizes add 256 bytes of
// slack for it).
inline size_t alignUp(size_t b) { return (b + 255) / 256 * 256; }
inline char *alignedWorkspace(void *p) {
  return reinterpret_cast<char *>((reinterpret_cast<uintptr_t>(p) + 255) / 256 * 256);
}

template <class T> struct AccType { using type = float; };
template <> struct AccType<double> { using type = double; };
template <class T> using acc_t = typename AccType<T>::type;

__device__ __forceinline__ float toAcc(float v) { return v; }
__device__ __forceinline__ double toAcc(double v) { return v; }
__device__ __forceinline__ float toAcc(__half v) { return __half2float(v); }
__device__ __forceinline__ float toAcc(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T> __device__ __forceinline__ T fromAcc(acc_t<T> v);
template <> __device__ __forceinline__ float fromAcc<float>(float v) { return v; }
template <> __device__ __forceinline__ double fromAcc<double>(double v) { return v; }
template <> __device__ __forceinline__ __half fromAcc<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 fromAcc<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// y = alpha * v + beta * y, never reading y when beta == 0 (so NaN-poisoned outputs stay harmless).
template <class T> __device__ __forceinline__ void storeScaled(T *y, acc_t<T> v, acc_t<T> alpha, acc_t<T> beta) {
  acc_t<T> r = alpha * v;
  if (beta != acc_t<T>(0))
    r += beta * toAcc(*y);
  *y = fromAcc<T>(r);
}

// Up to K tensors walked in row-major order over shared dims, each with its own strides (0 =
// broadcast). Built on the host by makeShape (size-1 dims dropped, mergeable dims merged), passed to
// kernels by value.
constexpr int kShapeMaxDims = LAMINA_DIM_MAX;
template <int K> struct Shape {
  int nb = 1;
  int64_t dims[kShapeMaxDims] = {1};
  int64_t strides[K][kShapeMaxDims] = {};
  int64_t numel = 1;
  // Element offsets of row-major index `linear` in each of the K tensors.
  __host__ __device__ __forceinline__ void offsets(int64_t linear, int64_t off[K]) const {
    for (int k = 0; k < K; ++k)
      off[k] = 0;
    for (int d = nb - 1; d >= 0; --d) {
      int64_t i = linear % dims[d];
      linear /= dims[d];
      for (int k = 0; k < K; ++k)
        off[k] += i * strides[k][d];
    }
  }
};

// dims (nbDims of them) and, for each tensor k, strides[k] (element strides; 0 = broadcast).
template <int K> Shape<K> makeShape(int nbDims, const int64_t *dims, const int64_t *const strides[K]) {
  Shape<K> s;
  s.nb = 0;
  for (int d = 0; d < nbDims; ++d) {
    s.numel *= dims[d];
    if (dims[d] == 1)
      continue;
    bool merge = s.nb > 0;
    for (int k = 0; k < K && merge; ++k)
      merge = s.strides[k][s.nb - 1] == strides[k][d] * dims[d];
    if (merge) {
      s.dims[s.nb - 1] *= dims[d];
      for (int k = 0; k < K; ++k)
        s.strides[k][s.nb - 1] = strides[k][d];
      continue;
    }
    s.dims[s.nb] = dims[d];
    for (int k = 0; k < K; ++k)
      s.strides[k][s.nb] = strides[k][d];
    ++s.nb;
  }
  if (s.nb == 0) {
    s.nb = 1;
    s.dims[0] = 1;
    for (int k = 0; k < K; ++k)
      s.strides[k][0] = 1;
  }
  return s;
}
// The walk of one tensor over its own dims.
inline Shape<1> makeShape(const TensorDesc &t) {
  const int64_t *st[1] = {t.strides};
  return makeShape<1>(t.nbDims, t.dims, st);
}

// Grid-stride launch size for n independent items: enough blocks to fill the card, capped (the
// kernels loop with a 64-bit index).
constexpr int kBlock = 256;
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline unsigned gridFor(int64_t n, int block = kBlock) {
  int64_t g = (n + block - 1) / block;
  if (g < 1)
    g = 1;
  return unsigned(g > 65536 ? 65536 : g);
}
#define LAMINA_GRID_STRIDE_LOOP(i, n)                                                                                  \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

// Unsigned division by a run-time constant (n, d < 2^31): q = (umulhi(n, mul) + n) >> shift.
struct FastDiv {
  uint32_t d = 1, mul = 0, shift = 0;
  FastDiv() = default;
  explicit FastDiv(uint32_t divisor) : d(divisor) {
    while ((1u << shift) < d)
      ++shift;
    mul = uint32_t(((uint64_t(1) << 32) * ((uint64_t(1) << shift) - d)) / d + 1);
  }
  __device__ __forceinline__ uint32_t div(uint32_t n) const { return (__umulhi(n, mul) + n) >> shift; }
};

} // namespace lamina::cuda

// Calls FN<T>(args...) with T the CUDA storage type of a floating laminaDataType_t. These four
// instantiations are the whole set per kernel family (build time).
// Loads a kernel now: CUDA loads module functions lazily, on first launch, which would make an
// operation's first call slower than its next ones (handle creation preloads the convolutions').
// Not fatal: a kernel that cannot be loaded here fails, with its error, where it is launched.
template <class K> void preloadKernel(K *kernel) {
  cudaFuncAttributes attr;
  if (cudaFuncGetAttributes(&attr, kernel) != cudaSuccess)
    (void)cudaGetLastError();
}
// Sets the kernels' dynamic shared-memory limit to `bytes` on the current device, once per device:
// the attribute holds for the device current when it is set, so a process using a second GPU needs it
// again there. `done` is the caller's bitmask of devices already set (one per kernel or kernel group);
// devices past 64 set it on every call.
template <class... K> void setSmemLimitOncePerDevice(std::atomic<uint64_t> &done, int bytes, K *...kernels) {
  int dev = 0;
  (void)cudaGetDevice(&dev);
  if (dev < 64 && ((done.load(std::memory_order_relaxed) >> dev) & 1))
    return;
  (LAMINA_CUDA_CALL(cudaFuncSetAttribute(kernels, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes)), ...);
  if (dev < 64)
    done.fetch_or(uint64_t(1) << dev);
}
// FN<T>() for each floating storage type.
#define LAMINA_CUDA_FOR_FLOAT_TYPES(FN)                                                                                \
  do {                                                                                                                 \
    FN<float>();                                                                                                       \
    FN<double>();                                                                                                      \
    FN<__half>();                                                                                                      \
    FN<__nv_bfloat16>();                                                                                               \
  } while (0)

#define LAMINA_CUDA_DISPATCH_FLOAT_TYPES(dtype, FN, ...)                                                               \
  do {                                                                                                                 \
    switch (dtype) {                                                                                                   \
    case LAMINA_DATA_FLOAT: FN<float>(__VA_ARGS__); break;                                                             \
    case LAMINA_DATA_DOUBLE: FN<double>(__VA_ARGS__); break;                                                           \
    case LAMINA_DATA_HALF: FN<__half>(__VA_ARGS__); break;                                                             \
    case LAMINA_DATA_BFLOAT16: FN<__nv_bfloat16>(__VA_ARGS__); break;                                                  \
    default: ::lamina::fail(LAMINA_STATUS_NOT_SUPPORTED, "data type %d is not a floating type", int(dtype));           \
    }                                                                                                                  \
  } while (0)
