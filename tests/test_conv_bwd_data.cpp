// Backward-data convolution conformance: every CPU algorithm against the fp64 reference over
// tests/problems/conv_conformance.csv (see ct::runConformance). Tolerance: lt::tolerance(dtype).
#include "test_conv_common.h"

namespace {

TEST(ConvBackwardData, ConformanceAllAlgorithms) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int> algos = {LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM, LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM,
                                  LAMINA_CONVOLUTION_BWD_DATA_ALGO_DIRECT};
  EXPECT_EQ(ct::runConformance(ct::Dir::BackwardData, algos), ct::expectedRuns(algos.size()));
}

// Problems spanning several GEMM tiles (rows, columns, groups) and partial reduction slices.
TEST(ConvBackwardData, ConformanceMultiTile) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int> algos = {LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM, LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM,
                                  LAMINA_CONVOLUTION_BWD_DATA_ALGO_DIRECT};
  const char *list = "problems/conv_bwd_tiles.csv";
  EXPECT_EQ(ct::runConformance(ct::Dir::BackwardData, algos, list), ct::expectedRuns(algos.size(), list));
}

} // namespace
