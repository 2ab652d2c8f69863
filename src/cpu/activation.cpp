// Elementwise activations. One flat loop when every tensor shares one dense layout (packed NCHW,
// NHWC or any other permutation), else row by row over the last dim with each tensor's strides.
#include "cpu/activation.h"

#include "cpu/cpu_common.h"

#include <algorithm>
#include <cmath>

namespace lamina::cpu {
namespace {

// Runs f(begin, end) over [0, n) in chunks of about kGrain units of work (costPerItem each):
// small problems stay on the calling thread, where a parallel region would cost more than it saves.
constexpr int64_t kGrain = 16384;
template <class F> void parallelChunks(const laminaContext &h, int64_t n, int64_t costPerItem, F &&f) {
  const int64_t per = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, costPerItem));
  parallelFor(h, (n + per - 1) / per, [&](int64_t c) { f(c * per, std::min(n, (c + 1) * per)); });
}

// Calls f(off) for every element, off[k] the element's offset in tensor k (all share dims).
template <int K, class F> void forEachElement(const laminaContext &h, const TensorDesc *const (&t)[K], F &&f) {
  const TensorDesc &t0 = *t[0];
  const int64_t n = t0.numel();
  bool dense = t0.spanElements() == n && !t0.hasOverlap();
  for (int k = 1; k < K; ++k)
    dense = dense && t[k]->sameLayout(t0);
  if (dense) {
    parallelChunks(h, n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        int64_t off[K];
        for (int k = 0; k < K; ++k)
          off[k] = i;
        f(off);
      }
    });
    return;
  }
  const int64_t inner = t0.dims[t0.nbDims - 1];
  parallelChunks(h, n / inner, inner, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t base[K], step[K];
      for (int k = 0; k < K; ++k) {
        base[k] = offsetOf(*t[k], r * inner); // the row's first element
        step[k] = t[k]->strides[t[k]->nbDims - 1];
      }
      for (int64_t j = 0; j < inner; ++j) {
        int64_t off[K];
        for (int k = 0; k < K; ++k)
          off[k] = base[k] + j * step[k];
        f(off);
      }
    }
  });
}

// Each op: fwd(x) and bwd(x, y, dy) = act'(x, y) * dy, in compute type C.
template <class C> struct Sigmoid {
  C fwd(C x) const { return C(1) / (C(1) + std::exp(-x)); }
  C bwd(C, C y, C dy) const { return dy * y * (C(1) - y); }
};
template <class C> struct Relu {
  bool propagate;
  // x > 0 is false for NaN: NaN becomes 0 unless NaN propagation is on.
  C fwd(C x) const { return x > C(0) ? x : (propagate && std::isnan(x) ? x : C(0)); }
  C bwd(C x, C, C dy) const { return x > C(0) ? dy : C(0); }
};
template <class C> struct Tanh {
  C fwd(C x) const { return std::tanh(x); }
  C bwd(C, C y, C dy) const { return dy * (C(1) - y * y); }
};
template <class C> struct ClippedRelu {
  bool propagate;
  C ceil;
  C fwd(C x) const { return x > C(0) ? std::min(x, ceil) : (propagate && std::isnan(x) ? x : C(0)); }
  C bwd(C x, C, C dy) const { return x > C(0) && x < ceil ? dy : C(0); }
};
template <class C> struct Elu {
  C a;
  C fwd(C x) const { return x > C(0) ? x : a * (std::exp(x) - C(1)); }
  C bwd(C x, C y, C dy) const { return x > C(0) ? dy : dy * (y + a); }
};
template <class C> struct Identity {
  C fwd(C x) const { return x; }
  C bwd(C, C, C dy) const { return dy; }
};
template <class C> struct LeakyRelu {
  C slope;
  C fwd(C x) const { return x > C(0) ? x : slope * x; }
  C bwd(C x, C, C dy) const { return x > C(0) ? dy : slope * dy; }
};

// Calls run(op) with the op object of the descriptor's mode.
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
  default: fail(LAMINA_STATUS_INTERNAL_ERROR, "activation mode %d reached the CPU kernel", int(a.mode));
  }
}

template <class T>
void forwardT(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &x, const void *xData,
              double beta, const TensorDesc &y, void *yData) {
  using C = compute_t<T>;
  const T *X = static_cast<const T *>(xData);
  T *Y = static_cast<T *>(yData);
  const C a = C(alpha), b = C(beta);
  const TensorDesc *ts[2] = {&x, &y};
  withOp<C>(act, [&](auto op) {
    forEachElement<2>(h, ts, [&](const int64_t *o) { storeScaled(Y + o[1], op.fwd(C(toFloat(X[o[0]]))), a, b); });
  });
}

template <class T>
void backwardT(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &y, const void *yData,
               const TensorDesc &dy, const void *dyData, const TensorDesc &x, const void *xData, double beta,
               const TensorDesc &dx, void *dxData) {
  using C = compute_t<T>;
  const T *Y = static_cast<const T *>(yData), *DY = static_cast<const T *>(dyData);
  const T *X = static_cast<const T *>(xData);
  T *DX = static_cast<T *>(dxData);
  const C a = C(alpha), b = C(beta);
  const TensorDesc *ts[4] = {&x, &y, &dy, &dx};
  withOp<C>(act, [&](auto op) {
    forEachElement<4>(h, ts, [&](const int64_t *o) {
      C g = op.bwd(C(toFloat(X[o[0]])), C(toFloat(Y[o[1]])), C(toFloat(DY[o[2]])));
      storeScaled(DX + o[3], g, a, b);
    });
  });
}

} // namespace

void activationForward(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &x,
                       const void *xData, double beta, const TensorDesc &y, void *yData) {
  LAMINA_DISPATCH_FLOAT_TYPES(x.dataType, forwardT, h, act, alpha, x, xData, beta, y, yData);
}

void activationBackward(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &y,
                        const void *yData, const TensorDesc &dy, const void *dyData, const TensorDesc &x,
                        const void *xData, double beta, const TensorDesc &dx, void *dxData) {
  LAMINA_DISPATCH_FLOAT_TYPES(x.dataType, backwardT, h, act, alpha, y, yData, dy, dyData, x, xData, beta, dx, dxData);
}

} // namespace lamina::cpu
