// CPU activation: elementwise forward and backward (see lamina.h for the modes).
#pragma once

#include "core/descriptors.h"
#include "core/handle.h"

namespace lamina::cpu {

// y = alpha * act(x) + beta * y; x and y may be the same memory with the same layout.
void activationForward(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &x,
                       const void *xData, double beta, const TensorDesc &y, void *yData);
// dx = alpha * act'(x, y) * dy + beta * dx; dy and dx may be the same memory with the same layout.
void activationBackward(const laminaContext &h, const ActivationDesc &act, double alpha, const TensorDesc &y,
                        const void *yData, const TensorDesc &dy, const void *dyData, const TensorDesc &x,
                        const void *xData, double beta, const TensorDesc &dx, void *dxData);

} // namespace lamina::cpu
