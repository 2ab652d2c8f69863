// CPU tensor reduction over every dim where c has extent 1 and a does not.
#pragma once

#include "cpu/cpu_common.h"

namespace lamina::cpu {

// indices: one int32 per element of c (row-major over c's dims), or null when not wanted.
void reduceTensor(const laminaContext &h, const ReduceTensorDesc &d, int32_t *indices, double alpha,
                  const TensorDesc &a, const void *aData, double beta, const TensorDesc &c, void *cData);

} // namespace lamina::cpu
