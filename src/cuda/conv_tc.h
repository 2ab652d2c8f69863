// Host interface of the tensor-core implicit-GEMM convolutions (conv_tc_fwd.cu: forward and
// backward-data; conv_tc_bwd_filter.cu: backward-filter), used by the IMPLICIT_GEMM /
// IMPLICIT_PRECOMP_GEMM algorithm entries when the problem suits them (half or bfloat16, TENSOR_OP
// math, channels contiguous with 16-byte aligned pixels: NHWC activations and KRSC filters).
#pragma once

#include "core/conv_problem.h"

#include <string>

namespace lamina::cuda::tc {

enum class Dir { Forward, BackwardData };

// Empty when the tensor-core path applies to p (data pointers are checked again at run time: when one
// is not 16-byte aligned the caller falls back to its general kernel).
std::string whyNotConv(const ConvProblem &p, Dir dir);
// splitK: whether the plan may split the reduction over several blocks (needs a workspace of fp32
// partial sums). Forward only; backward-data never splits.
size_t convWorkspace(const ConvProblem &p, Dir dir, bool splitK);
double convEstimateMs(const ConvProblem &p, Dir dir, bool splitK);
// Runs the convolution; false (nothing launched) when a pointer is not aligned for the fast path.
bool runConv(const ConvArgs &a, Dir dir, bool splitK);

std::string whyNotBwdFilter(const ConvProblem &p);
size_t bwdFilterWorkspace(const ConvProblem &p);
double bwdFilterEstimateMs(const ConvProblem &p);
bool runBwdFilter(const ConvArgs &a);

} // namespace lamina::cuda::tc
