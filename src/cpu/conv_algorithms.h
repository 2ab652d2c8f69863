// The CPU convolution algorithms (one translation unit each), listed in conv_lists.cpp.
#pragma once

#include "core/conv_problem.h"

namespace lamina::cpu {

extern const ConvAlgorithm kConvFwdImplicitGemm;
extern const ConvAlgorithm kConvFwdImplicitPrecompGemm;
extern const ConvAlgorithm kConvFwdGemm;
extern const ConvAlgorithm kConvFwdDirect;
extern const ConvAlgorithm kConvFwdWinogradNonfused;
extern const ConvAlgorithm kConvBwdDataImplicitGemm;
extern const ConvAlgorithm kConvBwdDataGemm;
extern const ConvAlgorithm kConvBwdDataDirect;
extern const ConvAlgorithm kConvBwdDataWinogradNonfused;
extern const ConvAlgorithm kConvBwdFilterImplicitGemm;
extern const ConvAlgorithm kConvBwdFilterGemm;
extern const ConvAlgorithm kConvBwdFilterWinogradNonfused;

// db = alpha * sum of dy over all dims but C + beta * db (db: 1 x C x 1...).
void convBackwardBias(const laminaContext &h, const TensorDesc &dy, const void *dyData, const TensorDesc &db,
                      void *dbData, double alpha, double beta);

// Rough machine rates for the heuristics, measured on the 2-core AVX2 machine (single-thread
// rates x kThreads); only the ranking matters.
constexpr double kThreads = 2.0;
constexpr double kBlasGflops = 120.0;     // OpenBLAS sgemm on all cores, large operands
constexpr double kMemGBps = 8.0;          // effective bandwidth of strided gather/scatter loops
constexpr double kCallOverheadMs = 0.005; // per-call fixed cost

// Loop-based algorithms convert 16-bit types per load; they run at about 40% of float speed.
inline double typeFactor(const ConvProblem &p) {
  return p.dataType == LAMINA_DATA_HALF || p.dataType == LAMINA_DATA_BFLOAT16 ? 0.4 : 1.0;
}

} // namespace lamina::cpu
