// CPU batched row-major GEMM: float/double through OpenBLAS, half/bfloat16 converted to float.
#pragma once

#include "core/op_args.h"
#include "cpu/cpu_common.h"

namespace lamina::cpu {

using lamina::MatmulArgs;

void matmul(const laminaContext &h, const MatmulArgs &a);

} // namespace lamina::cpu
