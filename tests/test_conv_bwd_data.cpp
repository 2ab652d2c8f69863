// Backward-data convolution conformance: every CPU algorithm against the fp64 reference over
// tests/problems/conv_conformance.csv (see ct::runConformance). Tolerance: lt::tolerance(dtype).
#include "test_conv_common.h"

#include <algorithm>

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

// Rows for the CUDA tensor-core paths (tests/problems/conv_tc.csv); every other dtype, layout and
// math type runs the same rows through the general kernels.
TEST(ConvBackwardData, ConformanceTensorCorePath) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int> algos = {LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM, LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM,
                                  LAMINA_CONVOLUTION_BWD_DATA_ALGO_DIRECT};
  const char *list = "problems/conv_tc.csv";
  EXPECT_EQ(ct::runConformance(ct::Dir::BackwardData, algos, list), ct::expectedRuns(algos.size(), list));
}

// Two runs of every deterministic algorithm give bitwise-equal results (no atomics, fixed order).
TEST(ConvBackwardData, Deterministic) {
  LT_HANDLE_OR_SKIP(h);
  EXPECT_GT(ct::runDeterminism(ct::Dir::BackwardData, "problems/conv_bwd_tiles.csv"), 0);
}

// On the GPU a host pointer as data is refused (BAD_POINTER) before any kernel runs.
TEST(ConvBackwardData, HostPointerOnGpu) {
  if (lt::testBackend() != LAMINA_BACKEND_CUDA)
    GTEST_SKIP() << "device-pointer check of the CUDA backend";
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  ct::Setup st(ct::loadSpecs().front().spec, dt, lt::Layout::NCHW);
  const size_t big = std::max({st.x->bytes(), st.y->bytes(), st.w->bytes()});
  lt::Buffer dev[3] = {{h, big, dt}, {h, big, dt}, {h, big, dt}};
  std::vector<float> hostIn(big / sizeof(float), 1.0f), hostOut(big / sizeof(float), 0.0f);
  lt::Scalar al(1.0), be(0.0);
  for (int algo : {LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM, LAMINA_CONVOLUTION_BWD_DATA_ALGO_DIRECT}) {
    LAMINA_EXPECT_STATUS(laminaConvolutionBackwardData(h, al.ptr(dt), *st.w, dev[0].p, *st.y, hostIn.data(), st.conv,
                                                       laminaConvolutionBwdDataAlgo_t(algo), nullptr, 0, be.ptr(dt),
                                                       *st.x, dev[1].p),
                         LAMINA_STATUS_BAD_POINTER, "dyData");
    LAMINA_EXPECT_STATUS(laminaConvolutionBackwardData(h, al.ptr(dt), *st.w, dev[0].p, *st.y, dev[2].p, st.conv,
                                                       laminaConvolutionBwdDataAlgo_t(algo), nullptr, 0, be.ptr(dt),
                                                       *st.x, hostOut.data()),
                         LAMINA_STATUS_BAD_POINTER, "dxData");
  }
}

// 3x3 and 5x5 stride-1 rows (tests/problems/conv_winograd*.csv): WINOGRAD_NONFUSED besides the general
// algorithms, on both backends.
TEST(ConvBackwardData, ConformanceWinograd) {
  LT_HANDLE_OR_SKIP(h);
  ct::expectWinogradConformance(ct::Dir::BackwardData,
                                {LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM, LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM,
                                 LAMINA_CONVOLUTION_BWD_DATA_ALGO_DIRECT,
                                 LAMINA_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED});
}

// 2-D stride-1 rows (tests/problems/conv_fft.csv): FFT on CUDA besides the general algorithms.
TEST(ConvBackwardData, ConformanceFft) {
  LT_HANDLE_OR_SKIP(h);
  ct::expectFftConformance(ct::Dir::BackwardData,
                           {LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM, LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM,
                            LAMINA_CONVOLUTION_BWD_DATA_ALGO_DIRECT},
                           LAMINA_CONVOLUTION_BWD_DATA_ALGO_FFT);
}

} // namespace
