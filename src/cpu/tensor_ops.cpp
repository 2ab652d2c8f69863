// CPU tensor operations: one strided walker (forEachChunk) for every layout; packed tensors of the
// same layout collapse into long contiguous rows.
#include "cpu/tensor_ops.h"
#include "core/op_tensor_math.h"

#include <cmath>

namespace lamina::cpu {

namespace {

template <class T>
void addImpl(const laminaContext &h, double alpha, const TensorDesc &a, const void *aData, double beta,
             const TensorDesc &c, void *cData) {
  using C = compute_t<T>;
  int64_t as[LAMINA_DIM_MAX];
  broadcastStrides(a, c, as);
  const T *A = static_cast<const T *>(aData);
  T *Cp = static_cast<T *>(cData);
  const C al = C(alpha), be = C(beta);
  forEachChunk<2>(h, c.nbDims, c.dims, {as, c.strides},
                  [&](int64_t, int64_t len, const int64_t *off, const int64_t *inc) {
                    const T *ap = A + off[0];
                    T *cp = Cp + off[1];
                    withStrides<2>(inc, [&](auto s0, auto s1) {
                      for (int64_t j = 0; j < len; ++j)
                        storeScaled(cp + j * s1, C(toFloat(ap[j * s0])), al, be);
                    });
                  });
}

template <class T> void setImpl(const laminaContext &h, const TensorDesc &y, void *yData, double value) {
  const T v = fromCompute<T>(compute_t<T>(value));
  T *Y = static_cast<T *>(yData);
  forEachChunk<1>(h, y.nbDims, y.dims, {y.strides}, [&](int64_t, int64_t len, const int64_t *off, const int64_t *inc) {
    T *yp = Y + off[0];
    withStrides<1>(inc, [&](auto s0) {
      for (int64_t j = 0; j < len; ++j)
        yp[j * s0] = v;
    });
  });
}

template <class T> void scaleImpl(const laminaContext &h, const TensorDesc &y, void *yData, double alpha) {
  using C = compute_t<T>;
  const C al = C(alpha);
  T *Y = static_cast<T *>(yData);
  forEachChunk<1>(h, y.nbDims, y.dims, {y.strides}, [&](int64_t, int64_t len, const int64_t *off, const int64_t *inc) {
    T *yp = Y + off[0];
    withStrides<1>(inc, [&](auto s0) {
      for (int64_t j = 0; j < len; ++j)
        yp[j * s0] = fromCompute<T>(al * C(toFloat(yp[j * s0])));
    });
  });
}

// Loads len elements of any floating type as double (the source type of TransformTensor is a runtime
// value; converting a chunk at a time keeps the instantiations at 4 + 4 instead of 16).
template <class T> void loadAsDouble(const void *base, int64_t off, int64_t inc, int64_t len, double *out) {
  const T *p = static_cast<const T *>(base) + off;
  for (int64_t j = 0; j < len; ++j)
    out[j] = double(toFloat(p[j * inc]));
}
void loadChunk(laminaDataType_t dt, const void *base, int64_t off, int64_t inc, int64_t len, double *out) {
  LAMINA_DISPATCH_FLOAT_TYPES(dt, loadAsDouble, base, off, inc, len, out);
}

template <class T>
void transformImpl(const laminaContext &h, double alpha, const TensorDesc &x, const void *xData, double beta,
                   const TensorDesc &y, void *yData) {
  using C = compute_t<T>;
  T *Y = static_cast<T *>(yData);
  const C al = C(alpha), be = C(beta);
  forEachChunk<2>(h, y.nbDims, y.dims, {x.strides, y.strides},
                  [&](int64_t, int64_t len, const int64_t *off, const int64_t *inc) {
                    double buf[512];
                    for (int64_t s = 0; s < len; s += 512) {
                      int64_t n = std::min<int64_t>(512, len - s);
                      loadChunk(x.dataType, xData, off[0] + s * inc[0], inc[0], n, buf);
                      T *yp = Y + off[1] + s * inc[1];
                      for (int64_t j = 0; j < n; ++j)
                        storeScaled(yp + j * inc[1], C(buf[j]), al, be);
                    }
                  });
}

template <class T>
void opImpl(const laminaContext &h, const OpTensorDesc &op, double alpha1, const TensorDesc &a, const void *aData,
            double alpha2, const TensorDesc *b, const void *bData, double beta, const TensorDesc &c, void *cData) {
  using C = compute_t<T>;
  const bool unary = op.unary();
  int64_t bs[LAMINA_DIM_MAX] = {};
  if (!unary)
    broadcastStrides(*b, c, bs);
  const T *A = static_cast<const T *>(aData);
  const T *B = unary ? nullptr : static_cast<const T *>(bData);
  T *Cp = static_cast<T *>(cData);
  const C a1 = C(alpha1), a2 = C(alpha2), be = C(beta);
  const bool prop = op.nan == LAMINA_PROPAGATE_NAN;
  const laminaOpTensorOp_t o = op.op;
  forEachChunk<3>(h, c.nbDims, c.dims, {a.strides, bs, c.strides},
                  [&](int64_t, int64_t len, const int64_t *off, const int64_t *inc) {
                    const T *ap = A + off[0];
                    T *cp = Cp + off[2];
                    if (unary) {
                      for (int64_t j = 0; j < len; ++j)
                        storeScaled(cp + j * inc[2], applyOpTensor<C>(o, prop, a1 * C(toFloat(ap[j * inc[0]])), C(0)),
                                    C(1), be);
                      return;
                    }
                    const T *bp = B + off[1];
                    withStrides<3>(inc, [&](auto s0, auto s1, auto s2) {
                      for (int64_t j = 0; j < len; ++j) {
                        C av = a1 * C(toFloat(ap[j * s0])), bv = a2 * C(toFloat(bp[j * s1]));
                        storeScaled(cp + j * s2, applyOpTensor<C>(o, prop, av, bv), C(1), be);
                      }
                    });
                  });
}

} // namespace

void addTensor(const laminaContext &h, double alpha, const TensorDesc &a, const void *aData, double beta,
               const TensorDesc &c, void *cData) {
  LAMINA_DISPATCH_FLOAT_TYPES(c.dataType, addImpl, h, alpha, a, aData, beta, c, cData);
}
void setTensor(const laminaContext &h, const TensorDesc &y, void *yData, double value) {
  LAMINA_DISPATCH_FLOAT_TYPES(y.dataType, setImpl, h, y, yData, value);
}
void scaleTensor(const laminaContext &h, const TensorDesc &y, void *yData, double alpha) {
  LAMINA_DISPATCH_FLOAT_TYPES(y.dataType, scaleImpl, h, y, yData, alpha);
}
void transformTensor(const laminaContext &h, double alpha, const TensorDesc &x, const void *xData, double beta,
                     const TensorDesc &y, void *yData) {
  LAMINA_DISPATCH_FLOAT_TYPES(y.dataType, transformImpl, h, alpha, x, xData, beta, y, yData);
}
void opTensor(const laminaContext &h, const OpTensorDesc &op, double alpha1, const TensorDesc &a, const void *aData,
              double alpha2, const TensorDesc *b, const void *bData, double beta, const TensorDesc &c, void *cData) {
  LAMINA_DISPATCH_FLOAT_TYPES(c.dataType, opImpl, h, op, alpha1, a, aData, alpha2, b, bData, beta, c, cData);
}

} // namespace lamina::cpu
