// The CUDA backend's ordered convolution algorithm lists, one per direction. The order is the
// preference when estimates tie; an algorithm appears here only once it is complete and tested.
#include "cuda/conv_algorithms.h"
#include "cuda/conv_pointwise.h"

namespace lamina {

const std::vector<const ConvAlgorithm *> &cudaConvAlgorithms(ConvDirection dir) {
  using namespace cuda;
  static const std::vector<const ConvAlgorithm *> fwd = {
      &kConvFwdGemm,   &kConvFwdImplicitPrecompGemm, &kConvFwdImplicitGemm, &kConvFwdWinogradNonfused, &kConvFwdFft,
      &kConvFwdDirect,
  };
  static const std::vector<const ConvAlgorithm *> bwdData = {
      &kConvBwdDataGemm, &kConvBwdDataImplicitGemm, &kConvBwdDataWinogradNonfused,
      &kConvBwdDataFft,  &kConvBwdDataDirect,
  };
  static const std::vector<const ConvAlgorithm *> bwdFilter = {
      &kConvBwdFilterGemm, &kConvBwdFilterImplicitGemm, &kConvBwdFilterWinogradNonfused,
      &kConvBwdFilterFft,  &kConvBwdFilterDirect,
  };
  switch (dir) {
  case ConvDirection::Forward: return fwd;
  case ConvDirection::BackwardData: return bwdData;
  case ConvDirection::BackwardFilter: return bwdFilter;
  }
  return fwd;
}

namespace cuda {
void preloadConvKernels() {
  preloadConvBias();
  preloadConvFwdImplicitGemm();
  preloadConvFwdImplicitPrecompGemm();
  preloadConvFwdDirect();
  preloadConvFwdGemm();
  preloadConvBwdDataImplicitGemm();
  preloadConvBwdDataDirect();
  preloadConvBwdDataGemm();
  preloadConvBwdFilterImplicitGemm();
  preloadConvBwdFilterGemm();
  preloadConvBwdFilterDirect();
  preloadConvWinograd();
  preloadConvFft();
  preloadConvPointwise();
}
} // namespace cuda

} // namespace lamina
