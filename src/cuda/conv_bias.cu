// Backward bias: db[c] = alpha * sum of dy[n, c, spatial...] + beta * db[c], any strides.
// Deterministic (no atomics): one thread block per channel, each thread a strided share of the
// channel's elements, then a tree sum in shared memory. Sums in the compute type (float for
// float/half/bf16, double for double), like the CPU.
#include "cuda/device.cuh"
#include "cuda/ops.h"

namespace lamina::cuda {
namespace {

constexpr int kBiasBlock = 256; // a power of two (the tree halves it)

// rest: dy's walk with C set to 1 (every summed element of one channel, relative to its base).
template <class T>
__global__ void __launch_bounds__(kBiasBlock)
    biasKernel(Shape<1> rest, int64_t channels, const T *dy, int64_t dyCStride, T *db, int64_t dbCStride,
               acc_t<T> alpha, acc_t<T> beta) {
  using A = acc_t<T>;
  __shared__ A part[kBiasBlock];
  const int t = threadIdx.x;
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) { // uniform per block: barriers are safe
    const T *base = dy + c * dyCStride;
    A acc = 0;
    for (int64_t i = t; i < rest.numel; i += kBiasBlock) {
      int64_t o[1];
      rest.offsets(i, o);
      acc += toAcc(base[o[0]]);
    }
    part[t] = acc;
    __syncthreads();
    for (int half = kBiasBlock / 2; half > 0; half /= 2) {
      if (t < half)
        part[t] += part[t + half];
      __syncthreads();
    }
    if (t == 0)
      storeScaled(db + c * dbCStride, part[0], alpha, beta);
    __syncthreads(); // part[0] is read before the next channel overwrites it
  }
}

template <class T>
void run(const laminaContext &h, const TensorDesc &dy, const void *dyData, const TensorDesc &db, void *dbData,
         double alpha, double beta) {
  TensorDesc rest = dy;
  rest.dims[1] = 1;
  const Shape<1> s = makeShape(rest);
  const int64_t channels = dy.dims[1];
  if (channels == 0)
    return;
  const int64_t grid = channels < (int64_t(1) << 20) ? channels : (int64_t(1) << 20);
  biasKernel<T><<<unsigned(grid), kBiasBlock, 0, streamOf(h)>>>(s, channels, static_cast<const T *>(dyData),
                                                                dy.strides[1], static_cast<T *>(dbData), db.strides[1],
                                                                acc_t<T>(alpha), acc_t<T>(beta));
  LAMINA_CUDA_LAUNCHED();
}

template <class T> void preloadT() { preloadKernel(biasKernel<T>); }
} // namespace

void preloadConvBias() { LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT); }

void convBackwardBias(const laminaContext &h, const TensorDesc &dy, const void *dyData, const TensorDesc &db,
                      void *dbData, double alpha, double beta) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(dy.dataType, run, h, dy, dyData, db, dbData, alpha, beta);
}

} // namespace lamina::cuda
