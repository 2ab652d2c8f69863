// The element formula of laminaOpTensor, one definition for both backends (the CPU loops and the
// CUDA kernel call it), so their results cannot drift apart. C is the compute type (float or double).
#pragma once

#include "core/philox.h" // LAMINA_HOST_DEVICE

#include <lamina/lamina.h>

#include <cmath>

// Device code takes CUDA's global-namespace math overloads, host code the std:: ones.
#ifdef __CUDA_ARCH__
#define LAMINA_MATH(f) ::f
#else
#define LAMINA_MATH(f) std::f
#endif

namespace lamina {

template <class C> LAMINA_HOST_DEVICE inline C applyOpTensor(laminaOpTensorOp_t op, bool propagateNan, C a, C b) {
  switch (op) {
  case LAMINA_OP_TENSOR_ADD: return a + b;
  case LAMINA_OP_TENSOR_MUL: return a * b;
  case LAMINA_OP_TENSOR_MIN:
    if (propagateNan && (LAMINA_MATH(isnan)(a) || LAMINA_MATH(isnan)(b)))
      return a + b;
    return LAMINA_MATH(fmin)(a, b); // the non-NaN operand otherwise
  case LAMINA_OP_TENSOR_MAX:
    if (propagateNan && (LAMINA_MATH(isnan)(a) || LAMINA_MATH(isnan)(b)))
      return a + b;
    return LAMINA_MATH(fmax)(a, b);
  case LAMINA_OP_TENSOR_SQRT: return LAMINA_MATH(sqrt)(a);
  case LAMINA_OP_TENSOR_NOT: return C(1) - a;
  // IEEE: x/0 = +-inf, log(0) = -inf, log(<0) = NaN, NaN in -> NaN out (pow(1, NaN) = pow(NaN, 0) = 1).
  case LAMINA_OP_TENSOR_DIV: return a / b;
  case LAMINA_OP_TENSOR_POW: return LAMINA_MATH(pow)(a, b);
  case LAMINA_OP_TENSOR_EXP: return LAMINA_MATH(exp)(a);
  case LAMINA_OP_TENSOR_LOG: return LAMINA_MATH(log)(a);
  case LAMINA_OP_TENSOR_ABS: return LAMINA_MATH(fabs)(a);
  case LAMINA_OP_TENSOR_SIGN: return a > C(0) ? C(1) : (a < C(0) ? C(-1) : a); // 0 and NaN map to themselves
  case LAMINA_OP_TENSOR_CMP_GE:
    // A comparison: with propagation a NaN operand gives NaN (like MIN/MAX), else "not >=", 0.
    if (propagateNan && (LAMINA_MATH(isnan)(a) || LAMINA_MATH(isnan)(b)))
      return a + b;
    return a >= b ? C(1) : C(0);
  }
  return a;
}

} // namespace lamina

#undef LAMINA_MATH
