// The CUDA backend's ordered convolution algorithm lists, one per direction. The order is the
// preference when estimates tie; an algorithm appears here only once it is complete and tested.
#include "cuda/conv_algorithms.h"

namespace lamina {

const std::vector<const ConvAlgorithm *> &cudaConvAlgorithms(ConvDirection dir) {
  static const std::vector<const ConvAlgorithm *> fwd = {
      &cuda::kConvFwdGemm,
  };
  static const std::vector<const ConvAlgorithm *> bwdData = {
      &cuda::kConvBwdDataGemm,
  };
  static const std::vector<const ConvAlgorithm *> bwdFilter = {
      &cuda::kConvBwdFilterGemm,
  };
  switch (dir) {
  case ConvDirection::Forward: return fwd;
  case ConvDirection::BackwardData: return bwdData;
  case ConvDirection::BackwardFilter: return bwdFilter;
  }
  return fwd;
}

} // namespace lamina
