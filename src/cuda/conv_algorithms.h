// The CUDA convolution algorithms (one translation unit each), listed in conv_lists.cpp.
#pragma once

#include "core/conv_problem.h"

namespace lamina::cuda {

extern const ConvAlgorithm kConvBwdDataImplicitGemm;
extern const ConvAlgorithm kConvBwdDataDirect;
extern const ConvAlgorithm kConvBwdFilterImplicitGemm;

} // namespace lamina::cuda
