// CUDA tensor ops (add with broadcast, set, scale, transform, op-tensor): grid-stride kernels over
// Shape<K> walks (64-bit offsets, stride 0 = broadcast). Semantics as src/cpu/tensor_ops.cpp.
#include "core/op_tensor_math.h"
#include "cuda/device.cuh"
#include "cuda/ops.h"

namespace lamina::cuda {
namespace {

// a's strides seen with c's dims: 0 where a has extent 1 and c does not (broadcast).
void broadcastStrides(const TensorDesc &a, const TensorDesc &c, int64_t *out) {
  for (int d = 0; d < c.nbDims; ++d)
    out[d] = (a.dims[d] == 1 && c.dims[d] != 1) ? 0 : a.strides[d];
}

template <class T> __global__ void addKernel(Shape<2> s, const T *a, T *c, acc_t<T> alpha, acc_t<T> beta) {
  LAMINA_GRID_STRIDE_LOOP(i, s.numel) {
    int64_t o[2];
    s.offsets(i, o);
    storeScaled(c + o[1], toAcc(a[o[0]]), alpha, beta);
  }
}

template <class T> __global__ void setKernel(Shape<1> s, T *y, acc_t<T> value) {
  const T v = fromAcc<T>(value);
  LAMINA_GRID_STRIDE_LOOP(i, s.numel) {
    int64_t o[1];
    s.offsets(i, o);
    y[o[0]] = v;
  }
}

template <class T> __global__ void scaleKernel(Shape<1> s, T *y, acc_t<T> alpha) {
  LAMINA_GRID_STRIDE_LOOP(i, s.numel) {
    int64_t o[1];
    s.offsets(i, o);
    y[o[0]] = fromAcc<T>(alpha * toAcc(y[o[0]]));
  }
}

// Element `off` of a tensor of runtime type dt, as double (like the CPU, which converts the source
// through double; keeps the instantiations at 4 instead of 16).
__device__ __forceinline__ double loadAsDouble(laminaDataType_t dt, const void *p, int64_t off) {
  switch (dt) {
  case LAMINA_DATA_FLOAT: return double(static_cast<const float *>(p)[off]);
  case LAMINA_DATA_DOUBLE: return static_cast<const double *>(p)[off];
  case LAMINA_DATA_HALF: return double(toAcc(static_cast<const __half *>(p)[off]));
  default: return double(toAcc(static_cast<const __nv_bfloat16 *>(p)[off]));
  }
}

template <class T>
__global__ void transformKernel(Shape<2> s, laminaDataType_t xType, const void *x, T *y, acc_t<T> alpha,
                                acc_t<T> beta) {
  LAMINA_GRID_STRIDE_LOOP(i, s.numel) {
    int64_t o[2];
    s.offsets(i, o);
    storeScaled(y + o[1], acc_t<T>(loadAsDouble(xType, x, o[0])), alpha, beta);
  }
}

// Tensor order in the shape: a, b, c. Unary ops (b == null) never read b.
template <class T>
__global__ void opKernel(Shape<3> s, laminaOpTensorOp_t op, bool propagateNan, const T *a, const T *b, T *c,
                         acc_t<T> alpha1, acc_t<T> alpha2, acc_t<T> beta) {
  using C = acc_t<T>;
  LAMINA_GRID_STRIDE_LOOP(i, s.numel) {
    int64_t o[3];
    s.offsets(i, o);
    const C av = alpha1 * toAcc(a[o[0]]);
    const C bv = b ? alpha2 * toAcc(b[o[1]]) : C(0);
    storeScaled(c + o[2], applyOpTensor<C>(op, propagateNan, av, bv), C(1), beta);
  }
}

template <class T>
void addImpl(const laminaContext &h, double alpha, const TensorDesc &a, const void *aData, double beta,
             const TensorDesc &c, void *cData) {
  int64_t as[LAMINA_DIM_MAX] = {};
  broadcastStrides(a, c, as);
  const int64_t *st[2] = {as, c.strides};
  const Shape<2> s = makeShape<2>(c.nbDims, c.dims, st);
  if (s.numel == 0)
    return;
  addKernel<T><<<gridFor(s.numel), kBlock, 0, streamOf(h)>>>(s, static_cast<const T *>(aData), static_cast<T *>(cData),
                                                             acc_t<T>(alpha), acc_t<T>(beta));
  LAMINA_CUDA_LAUNCHED();
}

template <class T> void setImpl(const laminaContext &h, const TensorDesc &y, void *yData, double value) {
  const Shape<1> s = makeShape(y);
  if (s.numel == 0)
    return;
  setKernel<T><<<gridFor(s.numel), kBlock, 0, streamOf(h)>>>(s, static_cast<T *>(yData), acc_t<T>(value));
  LAMINA_CUDA_LAUNCHED();
}

template <class T> void scaleImpl(const laminaContext &h, const TensorDesc &y, void *yData, double alpha) {
  const Shape<1> s = makeShape(y);
  if (s.numel == 0)
    return;
  scaleKernel<T><<<gridFor(s.numel), kBlock, 0, streamOf(h)>>>(s, static_cast<T *>(yData), acc_t<T>(alpha));
  LAMINA_CUDA_LAUNCHED();
}

template <class T>
void transformImpl(const laminaContext &h, double alpha, const TensorDesc &x, const void *xData, double beta,
                   const TensorDesc &y, void *yData) {
  const int64_t *st[2] = {x.strides, y.strides};
  const Shape<2> s = makeShape<2>(y.nbDims, y.dims, st);
  if (s.numel == 0)
    return;
  transformKernel<T><<<gridFor(s.numel), kBlock, 0, streamOf(h)>>>(s, x.dataType, xData, static_cast<T *>(yData),
                                                                   acc_t<T>(alpha), acc_t<T>(beta));
  LAMINA_CUDA_LAUNCHED();
}

template <class T>
void opImpl(const laminaContext &h, const OpTensorDesc &op, double alpha1, const TensorDesc &a, const void *aData,
            double alpha2, const TensorDesc *b, const void *bData, double beta, const TensorDesc &c, void *cData) {
  const bool unary = op.unary();
  int64_t bs[LAMINA_DIM_MAX] = {};
  if (!unary)
    broadcastStrides(*b, c, bs);
  const int64_t *st[3] = {a.strides, bs, c.strides};
  const Shape<3> s = makeShape<3>(c.nbDims, c.dims, st);
  if (s.numel == 0)
    return;
  using C = acc_t<T>;
  opKernel<T><<<gridFor(s.numel), kBlock, 0, streamOf(h)>>>(
      s, op.op, op.nan == LAMINA_PROPAGATE_NAN, static_cast<const T *>(aData),
      unary ? nullptr : static_cast<const T *>(bData), static_cast<T *>(cData), C(alpha1), C(alpha2), C(beta));
  LAMINA_CUDA_LAUNCHED();
}

} // namespace

void addTensor(const laminaContext &h, double alpha, const TensorDesc &a, const void *aData, double beta,
               const TensorDesc &c, void *cData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(c.dataType, addImpl, h, alpha, a, aData, beta, c, cData);
}
void setTensor(const laminaContext &h, const TensorDesc &y, void *yData, double value) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(y.dataType, setImpl, h, y, yData, value);
}
void scaleTensor(const laminaContext &h, const TensorDesc &y, void *yData, double alpha) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(y.dataType, scaleImpl, h, y, yData, alpha);
}
void transformTensor(const laminaContext &h, double alpha, const TensorDesc &x, const void *xData, double beta,
                     const TensorDesc &y, void *yData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(y.dataType, transformImpl, h, alpha, x, xData, beta, y, yData);
}
void opTensor(const laminaContext &h, const OpTensorDesc &op, double alpha1, const TensorDesc &a, const void *aData,
              double alpha2, const TensorDesc *b, const void *bData, double beta, const TensorDesc &c, void *cData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(c.dataType, opImpl, h, op, alpha1, a, aData, alpha2, b, bData, beta, c, cData);
}

} // namespace lamina::cuda
