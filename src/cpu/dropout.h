// CPU dropout: Philox masks (core/philox.h), one byte per element in row-major element order.
#pragma once

#include "cpu/cpu_common.h"

namespace lamina::cpu {

void dropoutForward(const laminaContext &h, float dropout, uint64_t seed, uint64_t call, const TensorDesc &x,
                    const void *xData, const TensorDesc &y, void *yData, uint8_t *mask);
void dropoutBackward(const laminaContext &h, float dropout, const TensorDesc &dy, const void *dyData,
                     const TensorDesc &dx, void *dxData, const uint8_t *mask);

} // namespace lamina::cpu
