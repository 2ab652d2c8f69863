// CPU local response normalisation, across channels or within a channel (n x n spatial window).
#pragma once

#include "core/descriptors.h"
#include "core/handle.h"

namespace lamina::cpu {

// CROSS_CHANNEL: x has >= 3 dims (N, C, spatial...). WITHIN_CHANNEL: x is N x C x H x W.
void lrnForward(const laminaContext &h, const LRNDesc &lrn, laminaLRNMode_t mode, double alpha, const TensorDesc &x,
                const void *xData, double beta, const TensorDesc &y, void *yData);
// The exact gradient, recomputed from x (y is not needed: it may carry the forward's alpha/beta).
void lrnBackward(const laminaContext &h, const LRNDesc &lrn, laminaLRNMode_t mode, double alpha, const TensorDesc &dy,
                 const void *dyData, const TensorDesc &x, const void *xData, double beta, const TensorDesc &dx,
                 void *dxData);

} // namespace lamina::cpu
