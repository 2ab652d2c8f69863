// Forward convolution conformance: every CPU algorithm against the fp64 reference over
// tests/problems/conv_conformance.csv (see ct::runConformance). Tolerance: lt::tolerance(dtype).
#include "test_conv_common.h"

#include <algorithm>

namespace {

TEST(ConvForward, ConformanceAllAlgorithms) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int> algos = {LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                  LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, LAMINA_CONVOLUTION_FWD_ALGO_GEMM,
                                  LAMINA_CONVOLUTION_FWD_ALGO_DIRECT};
  EXPECT_EQ(ct::runConformance(ct::Dir::Forward, algos), ct::expectedRuns(algos.size()));
}

// Problems spanning several GPU GEMM tiles in every direction (tests/problems/conv_tiles.csv), with
// the same driver: tail tiles, groups inside a tile, long reductions.
TEST(ConvForward, ConformanceMultiTile) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int> algos = {LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                  LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, LAMINA_CONVOLUTION_FWD_ALGO_GEMM,
                                  LAMINA_CONVOLUTION_FWD_ALGO_DIRECT};
  const std::string list = "problems/conv_tiles.csv";
  EXPECT_EQ(ct::runConformance(ct::Dir::Forward, algos, list), ct::expectedRuns(algos.size(), list));
}

// Rows for the CUDA tensor-core paths (tests/problems/conv_tc.csv); every other dtype, layout and
// math type runs the same rows through the general kernels.
TEST(ConvForward, ConformanceTensorCorePath) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int> algos = {LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                  LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, LAMINA_CONVOLUTION_FWD_ALGO_GEMM,
                                  LAMINA_CONVOLUTION_FWD_ALGO_DIRECT};
  const char *list = "problems/conv_tc.csv";
  EXPECT_EQ(ct::runConformance(ct::Dir::Forward, algos, list), ct::expectedRuns(algos.size(), list));
}

// 3x3 and 5x5 stride-1 rows (tests/problems/conv_winograd*.csv): WINOGRAD_NONFUSED besides the general
// algorithms, on both backends.
TEST(ConvForward, ConformanceWinograd) {
  LT_HANDLE_OR_SKIP(h);
  ct::expectWinogradConformance(ct::Dir::Forward,
                                {LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                 LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, LAMINA_CONVOLUTION_FWD_ALGO_GEMM,
                                 LAMINA_CONVOLUTION_FWD_ALGO_DIRECT, LAMINA_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED});
}

// 2-D stride-1 rows (tests/problems/conv_fft.csv): FFT on CUDA besides the general algorithms.
TEST(ConvForward, ConformanceFft) {
  LT_HANDLE_OR_SKIP(h);
  ct::expectFftConformance(ct::Dir::Forward,
                           {LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                            LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, LAMINA_CONVOLUTION_FWD_ALGO_GEMM,
                            LAMINA_CONVOLUTION_FWD_ALGO_DIRECT},
                           LAMINA_CONVOLUTION_FWD_ALGO_FFT);
}

} // namespace
