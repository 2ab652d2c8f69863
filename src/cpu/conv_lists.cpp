// Ordered CPU convolution algorithm lists, one per direction (first applicable = default choice).
#include "core/conv_problem.h"

namespace lamina {

const std::vector<const ConvAlgorithm *> &cpuConvAlgorithms(ConvDirection dir) {
  static const std::vector<const ConvAlgorithm *> forward = {};
  static const std::vector<const ConvAlgorithm *> backwardData = {};
  static const std::vector<const ConvAlgorithm *> backwardFilter = {};
  switch (dir) {
  case ConvDirection::Forward: return forward;
  case ConvDirection::BackwardData: return backwardData;
  case ConvDirection::BackwardFilter: return backwardFilter;
  }
  return forward;
}

} // namespace lamina
