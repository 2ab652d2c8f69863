// CUDA dropout. The keep bit of element i (row-major over x's dims) is
// dropoutBits(seed, call, i) >= dropoutThreshold(p), as on the CPU (core/philox.h), so both backends
// draw the same masks. states (device memory) = {seed, call counter}: the forward kernel reads them
// on the device, and a one-thread kernel after it on the same stream advances the counter.
#include "core/philox.h"
#include "cuda/device.cuh"
#include "cuda/ops.h"

namespace lamina::cuda {
namespace {

// One thread per Philox block: elements 4*blk .. 4*blk+3 (one generator call for four elements).
template <class T>
__global__ void forwardKernel(Shape<2> s, const uint64_t *states, uint32_t threshold, acc_t<T> scale, const T *x, T *y,
                              uint8_t *mask) {
  const uint64_t seed = states[0], call = states[1];
  const int64_t blocks = (s.numel + 3) / 4;
  LAMINA_GRID_STRIDE_LOOP(blk, blocks) {
    const Philox4x32 r = dropoutBlock(seed, call, uint64_t(blk));
    for (int w = 0; w < 4; ++w) {
      const int64_t i = 4 * blk + w;
      if (i >= s.numel)
        break;
      const bool keep = r.v[w] >= threshold;
      mask[i] = keep;
      int64_t o[2];
      s.offsets(i, o);
      // A dropped element is 0 even when x is NaN or inf.
      y[o[1]] = fromAcc<T>(keep ? toAcc(x[o[0]]) * scale : acc_t<T>(0));
    }
  }
}

__global__ void advanceCallKernel(uint64_t *states) { states[1] += 1; }

template <class T> __global__ void backwardKernel(Shape<2> s, acc_t<T> scale, const T *dy, T *dx, const uint8_t *mask) {
  LAMINA_GRID_STRIDE_LOOP(i, s.numel) {
    int64_t o[2];
    s.offsets(i, o);
    dx[o[1]] = fromAcc<T>(mask[i] ? toAcc(dy[o[0]]) * scale : acc_t<T>(0));
  }
}

template <class T>
void forwardImpl(const laminaContext &h, float p, uint64_t *states, const TensorDesc &x, const void *xData,
                 const TensorDesc &y, void *yData, uint8_t *mask) {
  const int64_t *st[2] = {x.strides, y.strides};
  const Shape<2> s = makeShape<2>(x.nbDims, x.dims, st);
  const cudaStream_t stream = streamOf(h);
  if (s.numel > 0) {
    const acc_t<T> scale = acc_t<T>(1.0 / (1.0 - double(p)));
    forwardKernel<T><<<gridFor((s.numel + 3) / 4), kBlock, 0, stream>>>(
        s, states, dropoutThreshold(p), scale, static_cast<const T *>(xData), static_cast<T *>(yData), mask);
    LAMINA_CUDA_LAUNCHED();
  }
  // Stream order puts this after every read of the counter above.
  advanceCallKernel<<<1, 1, 0, stream>>>(states);
  LAMINA_CUDA_LAUNCHED();
}

template <class T>
void backwardImpl(const laminaContext &h, float p, const TensorDesc &dy, const void *dyData, const TensorDesc &dx,
                  void *dxData, const uint8_t *mask) {
  const int64_t *st[2] = {dy.strides, dx.strides};
  const Shape<2> s = makeShape<2>(dy.nbDims, dy.dims, st);
  if (s.numel == 0)
    return;
  const acc_t<T> scale = acc_t<T>(1.0 / (1.0 - double(p)));
  backwardKernel<T><<<gridFor(s.numel), kBlock, 0, streamOf(h)>>>(s, scale, static_cast<const T *>(dyData),
                                                                  static_cast<T *>(dxData), mask);
  LAMINA_CUDA_LAUNCHED();
}

} // namespace

void dropoutForward(const laminaContext &h, float dropout, uint64_t *states, const TensorDesc &x, const void *xData,
                    const TensorDesc &y, void *yData, uint8_t *mask) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(x.dataType, forwardImpl, h, dropout, states, x, xData, y, yData, mask);
}

void dropoutBackward(const laminaContext &h, float dropout, const TensorDesc &dy, const void *dyData,
                     const TensorDesc &dx, void *dxData, const uint8_t *mask) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(dy.dataType, backwardImpl, h, dropout, dy, dyData, dx, dxData, mask);
}

} // namespace lamina::cuda
