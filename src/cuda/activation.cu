// CUDA activations: one grid-stride kernel per direction, each element located through Shape<K>
// (64-bit offsets; packed tensors of one layout merge into a single dim). The ops mirror
// src/cpu/activation.cpp exactly (same formulas, NaN rules and compute type).
#include "cuda/device.cuh"
#include "cuda/ops.h"

namespace lamina::cuda {
namespace {

// Each op: fwd(x) and bwd(x, y, dy) = act'(x, y) * dy, in compute type C (float or double).
template <class C> struct Sigmoid {
  __device__ C fwd(C x) const { return C(1) / (C(1) + exp(-x)); }
  __device__ C bwd(C, C y, C dy) const { return dy * y * (C(1) - y); }
};
template <class C> struct Relu {
  bool propagate;
  // x > 0 is false for NaN: NaN becomes 0 unless NaN propagation is on.
  __device__ C fwd(C x) const { return x > C(0) ? x : (propagate && isnan(x) ? x : C(0)); }
  __device__ C bwd(C x, C, C dy) const { return x > C(0) ? dy : C(0); }
};
template <class C> struct Tanh {
  __device__ C fwd(C x) const { return tanh(x); }
  __device__ C bwd(C, C y, C dy) const { return dy * (C(1) - y * y); }
};
template <class C> struct ClippedRelu {
  bool propagate;
  C ceil;
  __device__ C fwd(C x) const { return x > C(0) ? (x < ceil ? x : ceil) : (propagate && isnan(x) ? x : C(0)); }
  __device__ C bwd(C x, C, C dy) const { return x > C(0) && x < ceil ? dy : C(0); }
};
template <class C> struct Elu {
  C a;
  __device__ C fwd(C x) const { return x > C(0) ? x : a * (exp(x) - C(1)); }
  __device__ C bwd(C x, C y, C dy) const { return x > C(0) ? dy : dy * (y + a); }
};
template <class C> struct Identity {
  __device__ C fwd(C x) const { return x; }
  __device__ C bwd(C, C, C dy) const { return dy; }
};
template <class C> struct LeakyRelu {
  C slope;
  __device__ C fwd(C x) const { return x > C(0) ? x : slope * x; }
  __device__ C bwd(C x, C, C dy) const { return x > C(0) ? dy : slope * dy; }
};

// Calls run(op) with the op object of the descriptor's mode (host side; the op is a kernel argument).
template <class C, class Run> void withOp(const ActivationDesc &a, Run &&run) {
  const bool prop = a.nan == LAMINA_PROPAGATE_NAN;
  switch (a.mode) {
  case LAMINA_ACTIVATION_SIGMOID: run(Sigmoid<C>{}); break;
  case LAMINA_ACTIVATION_RELU: run(Relu<C>{prop}); break;
  case LAMINA_ACTIVATION_TANH: run(Tanh<C>{}); break;
  case LAMINA_ACTIVATION_CLIPPED_RELU: run(ClippedRelu<C>{prop, C(a.coef)}); break;
  case LAMINA_ACTIVATION_ELU: run(Elu<C>{C(a.coef)}); break;
  case LAMINA_ACTIVATION_IDENTITY: run(Identity<C>{}); break;
  case LAMINA_ACTIVATION_LEAKY_RELU: run(LeakyRelu<C>{C(a.coef)}); break;
  default: fail(LAMINA_STATUS_INTERNAL_ERROR, "activation mode %d reached the CUDA kernel", int(a.mode));
  }
}

// In place (x == y, same layout) is safe: each element is read then written by the same thread.
template <class T, class Op>
__global__ void forwardKernel(Shape<2> s, Op op, const T *x, T *y, acc_t<T> alpha, acc_t<T> beta) {
  LAMINA_GRID_STRIDE_LOOP(i, s.numel) {
    int64_t o[2];
    s.offsets(i, o);
    storeScaled(y + o[1], op.fwd(toAcc(x[o[0]])), alpha, beta);
  }
}

// Tensor order in the shape: x, y, dy, dx.
template <class T, class Op>
__global__ void backwardKernel(Shape<4> s, Op op, const T *x, const T *y, const T *dy, T *dx, acc_t<T> alpha,
                               acc_t<T> beta) {
  LAMINA_GRID_STRIDE_LOOP(i, s.numel) {
    int64_t o[4];
    s.offsets(i, o);
    const acc_t<T> g = op.bwd(toAcc(x[o[0]]), toAcc(y[o[1]]), toAcc(dy[o[2]]));
    storeScaled(dx + o[3], g, alpha, beta);
  }
}

template <class T>
void forwardT(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &x, const void *xData,
              double beta, const TensorDesc &y, void *yData) {
  using C = acc_t<T>;
  const int64_t *st[2] = {x.strides, y.strides};
  const Shape<2> s = makeShape<2>(x.nbDims, x.dims, st);
  if (s.numel == 0)
    return;
  withOp<C>(act, [&](auto op) {
    forwardKernel<T><<<gridFor(s.numel), kBlock, 0, streamOf(h)>>>(s, op, static_cast<const T *>(xData),
                                                                   static_cast<T *>(yData), C(alpha), C(beta));
    LAMINA_CUDA_LAUNCHED();
  });
}

template <class T>
void backwardT(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &y, const void *yData,
               const TensorDesc &dy, const void *dyData, const TensorDesc &x, const void *xData, double beta,
               const TensorDesc &dx, void *dxData) {
  using C = acc_t<T>;
  const int64_t *st[4] = {x.strides, y.strides, dy.strides, dx.strides};
  const Shape<4> s = makeShape<4>(x.nbDims, x.dims, st);
  if (s.numel == 0)
    return;
  withOp<C>(act, [&](auto op) {
    backwardKernel<T><<<gridFor(s.numel), kBlock, 0, streamOf(h)>>>(
        s, op, static_cast<const T *>(xData), static_cast<const T *>(yData), static_cast<const T *>(dyData),
        static_cast<T *>(dxData), C(alpha), C(beta));
    LAMINA_CUDA_LAUNCHED();
  });
}

} // namespace

void activationForward(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &x,
                       const void *xData, double beta, const TensorDesc &y, void *yData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(x.dataType, forwardT, h, act, alpha, x, xData, beta, y, yData);
}

void activationBackward(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &y,
                        const void *yData, const TensorDesc &dy, const void *dyData, const TensorDesc &x,
                        const void *xData, double beta, const TensorDesc &dx, void *dxData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(x.dataType, backwardT, h, act, alpha, y, yData, dy, dyData, x, xData, beta, dx,
                                   dxData);
}

} // namespace lamina::cuda
