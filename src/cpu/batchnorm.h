// CPU batch normalisation (per-activation and spatial), training/inference forward and backward.
// Parameter tensors (scale, bias, means, variances) have compute_t<T>: float, double for double x.
#pragma once

#include "core/op_args.h"
#include "cpu/cpu_common.h"

namespace lamina::cpu {

using lamina::BNArgs;

void bnForwardTraining(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *x, void *y,
                       const void *scale, const void *bias, double factor, void *runMean, void *runVar, void *saveMean,
                       void *saveInvVar);
void bnForwardInference(const laminaContext &h, const BNArgs &a, double alpha, double beta, const void *x, void *y,
                        const void *scale, const void *bias, const void *mean, const void *var);
void bnBackward(const laminaContext &h, const BNArgs &a, double alphaData, double betaData, double alphaParam,
                double betaParam, const void *x, const void *dy, void *dx, const void *scale, void *dScale, void *dBias,
                const void *savedMean, const void *savedInvVar);

} // namespace lamina::cpu
