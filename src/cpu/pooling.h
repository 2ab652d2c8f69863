// CPU pooling: MAX and AVERAGE (include/exclude padding) over 1..3 spatial dims.
#pragma once

#include "core/descriptors.h"
#include "core/handle.h"

namespace lamina::cpu {

// x: N x C x in..., y: N x C x out... with out as PoolingDesc::outputSize gives (checked by the caller).
void poolingForward(const laminaContext &h, const PoolingDesc &pool, double alpha, const TensorDesc &x,
                    const void *xData, double beta, const TensorDesc &y, void *yData);
// dx = alpha * grad + beta * dx, grad from dy (y's shape) and the forward input x (the MAX argmax is
// recomputed from x, so y may have been scaled by the forward's alpha/beta).
void poolingBackward(const laminaContext &h, const PoolingDesc &pool, double alpha, const TensorDesc &dy,
                     const void *dyData, const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx,
                     void *dxData);

} // namespace lamina::cpu
