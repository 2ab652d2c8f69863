// Backward-filter conformance (every CPU algorithm against the fp64 reference over
// tests/problems/conv_conformance.csv, see ct::runConformance) and backward-bias conformance.
// Tolerance: lt::tolerance(dtype).
#include "test_conv_common.h"

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

} // namespace
