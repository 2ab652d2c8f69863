// Dropout on the CPU. The mask bit of element i depends only on (seed, call, i), so the work can be
// split in any way (and the CUDA backend reproduces it).
#include "cpu/dropout.h"

#include "core/philox.h"
#include "cpu/tensor_ops.h"

#include <algorithm>
#include <cstring>

namespace lamina::cpu {

namespace {

template <class T>
void forwardImpl(const laminaContext &h, float p, uint64_t seed, uint64_t call, const TensorDesc &x, const void *xData,
                 const TensorDesc &y, void *yData, uint8_t *mask) {
  using C = compute_t<T>;
  const C scale = C(1.0 / (1.0 - double(p)));
  const T *X = static_cast<const T *>(xData);
  T *Y = static_cast<T *>(yData);
  const uint32_t thr = dropoutThreshold(p);
  forEachChunk<2>(h, x.nbDims, x.dims, {x.strides, y.strides},
                  [&](int64_t lin, int64_t len, const int64_t *off, const int64_t *inc) {
                    // Mask bytes first, one Philox block (4 elements) per step in the body (the head and
                    // tail of an unaligned chunk take single elements); then the scaling pass.
                    const uint64_t i0 = uint64_t(lin), i1 = i0 + uint64_t(len);
                    uint64_t i = i0;
                    for (; i < i1 && (i & 3); ++i)
                      mask[i] = dropoutBits(seed, call, i) >= thr;
                    const uint64_t bEnd = i1 >> 2;
                    // Locals, not captures: stores through the uint8_t mask may alias anything.
                    const uint64_t sd = seed, cl = call;
                    const uint32_t th = thr;
                    for (uint64_t blk = i >> 2; blk < bEnd; ++blk) {
                      Philox4x32 r = dropoutBlock(sd, cl, blk);
                      uint8_t b4[4];
                      for (int w = 0; w < 4; ++w)
                        b4[w] = r.v[w] >= th;
                      std::memcpy(mask + 4 * blk, b4, 4);
                    }
                    for (i = std::max(i, bEnd * 4); i < i1; ++i)
                      mask[i] = dropoutBits(seed, call, i) >= thr;
                    const uint8_t *m = mask + lin;
                    const T *xp = X + off[0];
                    T *yp = Y + off[1];
                    // A dropped element is 0 even when x is NaN or inf.
                    withStrides<2>(inc, [&](auto s0, auto s1) {
                      for (int64_t j = 0; j < len; ++j)
                        yp[j * s1] = fromCompute<T>(m[j] ? C(toFloat(xp[j * s0])) * scale : C(0));
                    });
                  });
}

template <class T>
void backwardImpl(const laminaContext &h, float p, const TensorDesc &dy, const void *dyData, const TensorDesc &dx,
                  void *dxData, const uint8_t *mask) {
  using C = compute_t<T>;
  const C scale = C(1.0 / (1.0 - double(p)));
  const T *DY = static_cast<const T *>(dyData);
  T *DX = static_cast<T *>(dxData);
  forEachChunk<2>(h, dy.nbDims, dy.dims, {dy.strides, dx.strides},
                  [&](int64_t lin, int64_t len, const int64_t *off, const int64_t *inc) {
                    const uint8_t *m = mask + lin;
                    const T *dyp = DY + off[0];
                    T *dxp = DX + off[1];
                    withStrides<2>(inc, [&](auto s0, auto s1) {
                      for (int64_t j = 0; j < len; ++j)
                        dxp[j * s1] = fromCompute<T>(m[j] ? C(toFloat(dyp[j * s0])) * scale : C(0));
                    });
                  });
}

} // namespace

void dropoutForward(const laminaContext &h, float dropout, uint64_t seed, uint64_t call, const TensorDesc &x,
                    const void *xData, const TensorDesc &y, void *yData, uint8_t *mask) {
  LAMINA_DISPATCH_FLOAT_TYPES(x.dataType, forwardImpl, h, dropout, seed, call, x, xData, y, yData, mask);
}

void dropoutBackward(const laminaContext &h, float dropout, const TensorDesc &dy, const void *dyData,
                     const TensorDesc &dx, void *dxData, const uint8_t *mask) {
  LAMINA_DISPATCH_FLOAT_TYPES(dy.dataType, backwardImpl, h, dropout, dy, dyData, dx, dxData, mask);
}

} // namespace lamina::cpu
