// Dropout on the CPU. The mask bit of element i depends only on (seed, call, i), so the work can be
// split in any way (and the CUDA backend reproduces it).
#include "cpu/dropout.h"

#include "core/philox.h"
#include "cpu/tensor_ops.h"

namespace lamina::cpu {

namespace {

template <class T>
void forwardImpl(const laminaContext &h, float p, uint64_t seed, uint64_t call, const TensorDesc &x, const void *xData,
                 const TensorDesc &y, void *yData, uint8_t *mask) {
  using C = compute_t<T>;
  const C scale = C(1.0 / (1.0 - double(p)));
  const T *X = static_cast<const T *>(xData);
  T *Y = static_cast<T *>(yData);
  forEachChunk<2>(h, x.nbDims, x.dims, {x.strides, y.strides},
                  [&](int64_t lin, int64_t len, const int64_t *off, const int64_t *inc) {
                    // One Philox block gives the bits of 4 consecutive elements.
                    uint64_t block = ~uint64_t(0);
                    Philox4x32 bits{};
                    for (int64_t j = 0; j < len; ++j) {
                      uint64_t i = uint64_t(lin + j);
                      if ((i >> 2) != block) {
                        block = i >> 2;
                        bits = dropoutBlock(seed, call, block);
                      }
                      bool keep = dropoutKeep(bits.v[i & 3], p);
                      mask[i] = keep ? 1 : 0;
                      // A dropped element is 0 even when x is NaN or inf.
                      Y[off[1] + j * inc[1]] = fromCompute<T>(keep ? C(toFloat(X[off[0] + j * inc[0]])) * scale : C(0));
                    }
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
                    for (int64_t j = 0; j < len; ++j)
                      DX[off[1] + j * inc[1]] =
                          fromCompute<T>(mask[lin + j] ? C(toFloat(DY[off[0] + j * inc[0]])) * scale : C(0));
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
