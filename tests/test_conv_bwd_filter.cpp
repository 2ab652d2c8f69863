// Backward-filter conformance (every CPU algorithm against the fp64 reference over
// tests/problems/conv_conformance.csv, see ct::runConformance) and backward-bias conformance.
// Tolerance: lt::tolerance(dtype).
#include "test_conv_common.h"

#include <algorithm>

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

} // namespace
