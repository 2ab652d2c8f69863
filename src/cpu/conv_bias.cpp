// Backward bias: db[c] = alpha * sum of dy[n, c, spatial...] + beta * db[c], any strides.
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

namespace lamina::cpu {
namespace {

template <class T>
void run(const laminaContext &h, const TensorDesc &dy, const void *dyData, const TensorDesc &db, void *dbData,
         double alpha, double beta) {
  using A = compute_t<T>;
  const T *src = static_cast<const T *>(dyData);
  T *dst = static_cast<T *>(dbData);
  // Every dim but C (dim 1) is summed; iterate them as one flattened index over dims != 1.
  TensorDesc rest = dy;
  rest.dims[1] = 1;
  const int64_t m = rest.numel();
  parallelFor(h, dy.dims[1], [&](int64_t c) {
    A acc = 0;
    const T *base = src + c * dy.strides[1];
    for (int64_t i = 0; i < m; ++i)
      acc += ld(base + offsetOf(rest, i));
    storeScaled(dst + c * db.strides[1], acc, A(alpha), A(beta));
  });
}

} // namespace

void convBackwardBias(const laminaContext &h, const TensorDesc &dy, const void *dyData, const TensorDesc &db,
                      void *dbData, double alpha, double beta) {
  LAMINA_DISPATCH_FLOAT_TYPES(dy.dataType, run, h, dy, dyData, db, dbData, alpha, beta);
}

} // namespace lamina::cpu
