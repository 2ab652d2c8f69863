// CPU softmax: FAST, ACCURATE and LOG over the instance (C*spatial) or the channel (C) per position.
#pragma once

#include "core/descriptors.h"
#include "core/handle.h"

namespace lamina::cpu {

void softmaxForward(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
                    const TensorDesc &x, const void *xData, double beta, const TensorDesc &y, void *yData);
void softmaxBackward(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
                     const TensorDesc &y, const void *yData, const TensorDesc &dy, const void *dyData, double beta,
                     const TensorDesc &dx, void *dxData);

} // namespace lamina::cpu
