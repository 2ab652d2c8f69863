// Ordered CPU convolution algorithm lists, one per direction (first applicable = default choice).
#include "core/conv_problem.h"
#include "cpu/conv_algorithms.h"

namespace lamina {

const std::vector<const ConvAlgorithm *> &cpuConvAlgorithms(ConvDirection dir) {
  using namespace cpu;
  static const std::vector<const ConvAlgorithm *> forward = {
      &kConvFwdGemm, &kConvFwdImplicitPrecompGemm, &kConvFwdImplicitGemm, &kConvFwdWinogradNonfused, &kConvFwdDirect};
  static const std::vector<const ConvAlgorithm *> backwardData = {&kConvBwdDataGemm, &kConvBwdDataImplicitGemm,
                                                                  &kConvBwdDataWinogradNonfused, &kConvBwdDataDirect};
  static const std::vector<const ConvAlgorithm *> backwardFilter = {&kConvBwdFilterGemm, &kConvBwdFilterImplicitGemm,
                                                                    &kConvBwdFilterWinogradNonfused};
  switch (dir) {
  case ConvDirection::Forward: return forward;
  case ConvDirection::BackwardData: return backwardData;
  case ConvDirection::BackwardFilter: return backwardFilter;
  }
  return forward;
}

} // namespace lamina
