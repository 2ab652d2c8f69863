// 1x1 convolutions as one cuBLAS call on the tensors as stored (conv_pointwise.cu): the GEMM
// algorithms take this path where it applies (no workspace but for NCHW backward-filter's copies).
#pragma once

#include "core/conv_problem.h"

namespace lamina::cuda {

bool pointwiseApplies(const ConvProblem &p, ConvDirection d);
size_t pointwiseWorkspace(const ConvProblem &p, ConvDirection d);
void preloadConvPointwise();
double pointwiseEstimateMs(const ConvProblem &p, ConvDirection d);
void runPointwise(const ConvArgs &a, ConvDirection d);

} // namespace lamina::cuda
