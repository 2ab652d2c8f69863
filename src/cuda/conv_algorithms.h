// The CUDA convolution algorithms (one translation unit each), listed in conv_lists.cpp.
#pragma once

#include "core/conv_problem.h"

namespace lamina::cuda {

extern const ConvAlgorithm kConvFwdImplicitGemm;        // conv_implicit_gemm.cu
extern const ConvAlgorithm kConvFwdImplicitPrecompGemm; // conv_implicit_precomp_gemm.cu
extern const ConvAlgorithm kConvFwdDirect;              // conv_direct.cu
extern const ConvAlgorithm kConvBwdDataImplicitGemm;
extern const ConvAlgorithm kConvBwdDataDirect;
extern const ConvAlgorithm kConvBwdFilterImplicitGemm;
extern const ConvAlgorithm kConvBwdFilterDirect;           // conv_bwd_filter_direct.cu
extern const ConvAlgorithm kConvFwdGemm;                   // conv_gemm.cu
extern const ConvAlgorithm kConvBwdDataGemm;               // conv_bwd_data_gemm.cu
extern const ConvAlgorithm kConvBwdFilterGemm;             // conv_bwd_filter_gemm.cu
extern const ConvAlgorithm kConvFwdWinogradNonfused;       // conv_winograd.cu
extern const ConvAlgorithm kConvBwdDataWinogradNonfused;   // conv_winograd.cu
extern const ConvAlgorithm kConvBwdFilterWinogradNonfused; // conv_winograd.cu
extern const ConvAlgorithm kConvFwdFft;                    // conv_fft.cu
extern const ConvAlgorithm kConvBwdDataFft;                // conv_fft.cu
extern const ConvAlgorithm kConvBwdFilterFft;              // conv_fft.cu

// The prepare hook of the algorithms that call cuBLAS (conv_prepare.cu): alg run once on scratch
// buffers, once per problem and device, so CUDA loads the library kernels its first call would.
// runOnScratch is the same, telling whether alg has run (now or before) rather than declined.
bool runOnScratch(const laminaContext &h, const ConvProblem &p, const ConvAlgorithm &alg);
void prepareByRunning(const laminaContext &h, const ConvProblem &p, const ConvAlgorithm &alg);

// Each translation unit's general (non tensor-core) convolution kernels, loaded now rather than on
// their first launch; preloadConvKernels (conv_lists.cpp) calls them all at handle creation.
void preloadConvBias();
void preloadConvFwdImplicitGemm();
void preloadConvFwdImplicitPrecompGemm();
void preloadConvFwdDirect();
void preloadConvFwdGemm();
void preloadConvBwdDataImplicitGemm();
void preloadConvBwdDataDirect();
void preloadConvBwdDataGemm();
void preloadConvBwdFilterImplicitGemm();
void preloadConvBwdFilterGemm();
void preloadConvBwdFilterDirect();
void preloadConvWinograd();
void preloadConvFft();
void preloadConvKernels();

} // namespace lamina::cuda
