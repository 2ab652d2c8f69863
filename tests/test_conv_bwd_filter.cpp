// Backward-filter conformance (every CPU algorithm against the fp64 reference over
// tests/problems/conv_conformance.csv, see ct::runConformance) and backward-bias conformance.
// Tolerance: lt::tolerance(dtype).
#include "test_conv_common.h"

#include <algorithm>
#include <cmath>

namespace {

TEST(ConvBackwardFilter, ConformanceAllAlgorithms) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int> algos = {LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM,
                                  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM};
  EXPECT_EQ(ct::runConformance(ct::Dir::BackwardFilter, algos), ct::expectedRuns(algos.size()));
}

// Problems spanning several GEMM tiles (rows, columns, groups) and partial reduction slices.
TEST(ConvBackwardFilter, ConformanceMultiTile) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int> algos = {LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM,
                                  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM};
  const char *list = "problems/conv_bwd_tiles.csv";
  EXPECT_EQ(ct::runConformance(ct::Dir::BackwardFilter, algos, list), ct::expectedRuns(algos.size(), list));
}

// DIRECT (CUDA: 2-D, up to 1024 filter taps a group, its input patch in 48 KiB; tests/problems/
// conv_bwd_filter_direct.csv: the conformance list's 2-D rows and thin layers) beside the general
// algorithms; the CPU has no DIRECT backward-filter.
TEST(ConvBackwardFilter, ConformanceDirect) {
  LT_HANDLE_OR_SKIP(h);
  std::vector<int> algos = {LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM, LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM};
  if (lt::testBackend() == LAMINA_BACKEND_CUDA)
    algos.push_back(LAMINA_CONVOLUTION_BWD_FILTER_ALGO_DIRECT);
  const char *list = "problems/conv_bwd_filter_direct.csv";
  EXPECT_EQ(ct::runConformance(ct::Dir::BackwardFilter, algos, list), ct::expectedRuns(algos.size(), list));
}

// Rows for the CUDA tensor-core paths (tests/problems/conv_tc.csv); every other dtype, layout and
// math type runs the same rows through the general kernels.
TEST(ConvBackwardFilter, ConformanceTensorCorePath) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int> algos = {LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM,
                                  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM};
  const char *list = "problems/conv_tc.csv";
  EXPECT_EQ(ct::runConformance(ct::Dir::BackwardFilter, algos, list), ct::expectedRuns(algos.size(), list));
}

// 3x3 stride-1 rows (tests/problems/conv_winograd.csv): WINOGRAD_NONFUSED besides the general
// algorithms, on both backends; the 5x5 rows (conv_winograd5x5.csv) with the general algorithms only,
// and WINOGRAD_NONFUSED reporting NOT_SUPPORTED there (F(2x2, 5x5)'s adjoint amplifies rounding).
TEST(ConvBackwardFilter, ConformanceWinograd) {
  LT_HANDLE_OR_SKIP(h);
  ct::expectWinogradConformance(ct::Dir::BackwardFilter,
                                {LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM,
                                 LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM,
                                 LAMINA_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED},
                                LAMINA_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED);
  ct::Setup st(ct::loadSpecs("problems/conv_winograd5x5.csv").at(0).spec, LAMINA_DATA_FLOAT, lt::Layout::NCHW);
  size_t ws = 0;
  EXPECT_EQ(laminaGetConvolutionBackwardFilterWorkspaceSize(h, *st.x, *st.y, st.conv, *st.w,
                                                            LAMINA_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED, &ws),
            LAMINA_STATUS_NOT_SUPPORTED);
  EXPECT_NE(std::string(laminaGetLastErrorMessage()).find("3x3 filters only"), std::string::npos);
}

TEST(ConvBackwardBias, Conformance) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<std::vector<int64_t>> shapes = {{2, 5, 3, 4}, {3, 7, 2, 3, 4}, {1, 1, 1, 1}};
  uint64_t seed = 77;
  for (const auto &dims : shapes)
    for (laminaDataType_t dt : lt::floatTypes())
      for (lt::Layout layout : ct::layouts())
        for (const auto &ab : ct::alphaBetas(dt)) {
          SCOPED_TRACE(std::string(lt::dtypeName(dt)) + " " + lt::layoutName(layout) + " beta " +
                       std::to_string(ab.beta));
          std::vector<int64_t> bdims(dims.size(), 1);
          bdims[1] = dims[1];
          lt::Tensor dy(dt, dims, layout), db(dt, bdims, layout);
          auto v = lt::randomValues(dy.numel(), seed++, dt);
          auto old = lt::randomValues(db.numel(), seed++, dt);
          lt::Buffer dyb(h, dy.bytes(), dt), dbb(h, db.bytes(), dt);
          lt::upload(h, dy, v, dyb.p);
          if (ab.beta != 0)
            lt::upload(h, db, old, dbb.p);
          lt::Scalar al(ab.alpha), be(ab.beta);
          LAMINA_ASSERT_OK(laminaConvolutionBackwardBias(h, al.ptr(dt), dy, dyb.p, be.ptr(dt), db, dbb.p));
          EXPECT_TRUE(lt::allClose(lt::download(h, db, dbb.p),
                                   ct::blend(lt::ref::convBackwardBias(dims, v), old, ab.alpha, ab.beta),
                                   lt::tolerance(dt)));
        }
}

// Many elements per channel (8 * 33 * 65 = 17160: a CUDA block's threads each take several, then
// the tree sum), NHWC. The values are multiples of 1/8 so every partial sum is exact in float: the
// result must equal the exact sum (rounded once to the storage type) whatever the summation order.
TEST(ConvBackwardBias, LargeChannelsExact) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int64_t> dims = {8, 3, 33, 65}, bdims = {1, 3, 1, 1};
  for (laminaDataType_t dt : {LAMINA_DATA_FLOAT, LAMINA_DATA_DOUBLE, LAMINA_DATA_HALF}) {
    SCOPED_TRACE(lt::dtypeName(dt));
    lt::Tensor dy(dt, dims, lt::Layout::NHWC), db(dt, bdims);
    std::vector<double> v = lt::randomValues(dy.numel(), 5, dt);
    for (double &x : v)
      x = std::round(x * 8) / 8; // -1 .. 1 in steps of 1/8
    const std::vector<double> old = {0.5, -1.25, 3.0};
    lt::Buffer dyb(h, dy.bytes(), dt), dbb(h, db.bytes(), dt);
    lt::upload(h, dy, v, dyb.p);
    const std::vector<double> sum = lt::ref::convBackwardBias(dims, v);
    for (auto [alpha, beta] : {std::pair<double, double>{1.0, 0.0}, {0.5, 2.0}}) {
      SCOPED_TRACE("beta " + std::to_string(beta));
      lt::upload(h, db, old, dbb.p);
      lt::Scalar al(alpha), be(beta);
      LAMINA_ASSERT_OK(laminaConvolutionBackwardBias(h, al.ptr(dt), dy, dyb.p, be.ptr(dt), db, dbb.p));
      const auto got = lt::download(h, db, dbb.p);
      for (size_t c = 0; c < 3; ++c)
        EXPECT_EQ(got[c], lt::roundTo(dt, alpha * sum[c] + beta * old[c])) << "channel " << c;
    }
  }
}

// Two runs of every deterministic algorithm give bitwise-equal results (no atomics, fixed order).
TEST(ConvBackwardFilter, Deterministic) {
  LT_HANDLE_OR_SKIP(h);
  EXPECT_GT(ct::runDeterminism(ct::Dir::BackwardFilter, "problems/conv_bwd_tiles.csv"), 0);
}

// On the GPU a host pointer as data is refused (BAD_POINTER) before any kernel runs.
TEST(ConvBackwardFilter, HostPointerOnGpu) {
  if (lt::testBackend() != LAMINA_BACKEND_CUDA)
    GTEST_SKIP() << "device-pointer check of the CUDA backend";
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  ct::Setup st(ct::loadSpecs().front().spec, dt, lt::Layout::NCHW);
  const size_t big = std::max({st.x->bytes(), st.y->bytes(), st.w->bytes()});
  lt::Buffer dev[3] = {{h, big, dt}, {h, big, dt}, {h, big, dt}};
  std::vector<float> hostIn(big / sizeof(float), 1.0f), hostOut(big / sizeof(float), 0.0f);
  lt::Scalar al(1.0), be(0.0);
  for (int algo : {LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM}) {
    LAMINA_EXPECT_STATUS(laminaConvolutionBackwardFilter(h, al.ptr(dt), *st.x, dev[0].p, *st.y, hostIn.data(), st.conv,
                                                         laminaConvolutionBwdFilterAlgo_t(algo), nullptr, 0, be.ptr(dt),
                                                         *st.w, dev[1].p),
                         LAMINA_STATUS_BAD_POINTER, "dyData");
    LAMINA_EXPECT_STATUS(laminaConvolutionBackwardFilter(h, al.ptr(dt), *st.x, dev[0].p, *st.y, dev[2].p, st.conv,
                                                         laminaConvolutionBwdFilterAlgo_t(algo), nullptr, 0, be.ptr(dt),
                                                         *st.w, hostOut.data()),
                         LAMINA_STATUS_BAD_POINTER, "dwData");
  }
}

// 2-D stride-1 rows (tests/problems/conv_fft.csv): FFT on CUDA besides the general algorithms.
TEST(ConvBackwardFilter, ConformanceFft) {
  LT_HANDLE_OR_SKIP(h);
  ct::expectFftConformance(ct::Dir::BackwardFilter,
                           {LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM, LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM},
                           LAMINA_CONVOLUTION_BWD_FILTER_ALGO_FFT);
}

} // namespace
