// Conformance of every CPU convolution algorithm against the fp64 reference over
// tests/problems/conv_conformance.csv: each problem x direction x algorithm x dtype x layout
// (NCHW/KCRS, NHWC/KRSC, odd strides) x (alpha, beta). Outputs start as NaN; workspaces too.
// Tolerance: lt::tolerance(dtype) throughout.
#include "test_conv_common.h"

#include <cmath>

namespace {

struct AlphaBeta {
  double alpha, beta;
};
const AlphaBeta kAlphaBeta[] = {{1.0, 0.0}, {0.7, 0.3}, {-1.5, 1.0}};
const lt::Layout kLayouts[] = {lt::Layout::NCHW, lt::Layout::NHWC, lt::Layout::Strided};

// The algorithms of a direction the backend reports as applicable (heuristics list, status SUCCESS).
template <class Perf, class Query> std::vector<int> applicable(Query q) {
  Perf perf[16];
  int n = 0;
  EXPECT_EQ(q(16, &n, perf), LAMINA_STATUS_SUCCESS) << laminaGetLastErrorMessage();
  std::vector<int> out;
  for (int i = 0; i < n; ++i)
    if (perf[i].status == LAMINA_STATUS_SUCCESS)
      out.push_back(int(perf[i].algo));
  return out;
}

TEST(ConvConformance, AllDirectionsAlgorithmsTypesLayouts) {
  LT_HANDLE_OR_SKIP(h);
  auto specs = ct::loadSpecs();
  ASSERT_GE(specs.size(), 10u);
  int runs[3] = {0, 0, 0};
  uint64_t seed = 1;
  for (const auto &ns : specs) {
    const auto &s = ns.spec;
    for (laminaDataType_t dt : lt::floatTypes()) {
      auto x = lt::randomValues(lt::Tensor(dt, s.xDims()).numel(), seed++, dt);
      auto w = lt::randomValues(lt::Filter(dt, s.wDims()).numel(), seed++, dt);
      auto dy = lt::randomValues(lt::Tensor(dt, s.yDims()).numel(), seed++, dt);
      auto yRef = lt::ref::convForward(s, x, w);
      auto dxRef = lt::ref::convBackwardData(s, dy, w);
      auto dwRef = lt::ref::convBackwardFilter(s, x, dy);
      const double tol = lt::tolerance(dt);
      for (lt::Layout layout : kLayouts) {
        ct::Setup st(s, dt, layout);
        SCOPED_TRACE(ns.name + " " + lt::dtypeName(dt) + " " + lt::layoutName(layout));
        lt::Buffer xb(h, st.x->bytes(), dt), wb(h, st.w->bytes(), dt), dyb(h, st.y->bytes(), dt);
        lt::upload(h, *st.x, x, xb.p);
        lt::upload(h, *st.w, w, wb.p);
        lt::upload(h, *st.y, dy, dyb.p);
        // ---- forward
        auto fwd = applicable<laminaConvolutionFwdAlgoPerf_t>([&](int r, int *n, laminaConvolutionFwdAlgoPerf_t *p) {
          return laminaGetConvolutionForwardAlgorithmHeuristics(h, *st.x, *st.w, st.conv, *st.y, r, n, p);
        });
        EXPECT_EQ(fwd.size(), 4u);
        for (int algo : fwd) {
          size_t wsBytes = 0;
          LAMINA_ASSERT_OK(laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y,
                                                                    laminaConvolutionFwdAlgo_t(algo), &wsBytes));
          lt::Buffer ws(h, wsBytes, dt);
          for (const auto &ab : kAlphaBeta) {
            SCOPED_TRACE("forward algo " + std::to_string(algo) + " alpha " + std::to_string(ab.alpha) + " beta " +
                         std::to_string(ab.beta));
            lt::Buffer yb(h, st.y->bytes(), dt);
            auto old = lt::randomValues(st.y->numel(), seed++, dt);
            if (ab.beta != 0)
              lt::upload(h, *st.y, old, yb.p);
            lt::Scalar al(ab.alpha), be(ab.beta);
            LAMINA_ASSERT_OK(laminaConvolutionForward(h, al.ptr(dt), *st.x, xb.p, *st.w, wb.p, st.conv,
                                                      laminaConvolutionFwdAlgo_t(algo), ws.p, wsBytes, be.ptr(dt),
                                                      *st.y, yb.p));
            EXPECT_TRUE(lt::allClose(lt::download(h, *st.y, yb.p), ct::blend(yRef, old, ab.alpha, ab.beta), tol));
            ++runs[0];
          }
        }
        // ---- backward data
        auto bwdData =
            applicable<laminaConvolutionBwdDataAlgoPerf_t>([&](int r, int *n, laminaConvolutionBwdDataAlgoPerf_t *p) {
              return laminaGetConvolutionBackwardDataAlgorithmHeuristics(h, *st.w, *st.y, st.conv, *st.x, r, n, p);
            });
        EXPECT_EQ(bwdData.size(), 3u);
        for (int algo : bwdData) {
          size_t wsBytes = 0;
          LAMINA_ASSERT_OK(laminaGetConvolutionBackwardDataWorkspaceSize(
              h, *st.w, *st.y, st.conv, *st.x, laminaConvolutionBwdDataAlgo_t(algo), &wsBytes));
          lt::Buffer ws(h, wsBytes, dt);
          for (const auto &ab : kAlphaBeta) {
            SCOPED_TRACE("backward-data algo " + std::to_string(algo) + " beta " + std::to_string(ab.beta));
            lt::Buffer dxb(h, st.x->bytes(), dt);
            auto old = lt::randomValues(st.x->numel(), seed++, dt);
            if (ab.beta != 0)
              lt::upload(h, *st.x, old, dxb.p);
            lt::Scalar al(ab.alpha), be(ab.beta);
            LAMINA_ASSERT_OK(laminaConvolutionBackwardData(h, al.ptr(dt), *st.w, wb.p, *st.y, dyb.p, st.conv,
                                                           laminaConvolutionBwdDataAlgo_t(algo), ws.p, wsBytes,
                                                           be.ptr(dt), *st.x, dxb.p));
            EXPECT_TRUE(lt::allClose(lt::download(h, *st.x, dxb.p), ct::blend(dxRef, old, ab.alpha, ab.beta), tol));
            ++runs[1];
          }
        }
        // ---- backward filter
        auto bwdFilter = applicable<laminaConvolutionBwdFilterAlgoPerf_t>(
            [&](int r, int *n, laminaConvolutionBwdFilterAlgoPerf_t *p) {
              return laminaGetConvolutionBackwardFilterAlgorithmHeuristics(h, *st.x, *st.y, st.conv, *st.w, r, n, p);
            });
        EXPECT_EQ(bwdFilter.size(), 2u);
        for (int algo : bwdFilter) {
          size_t wsBytes = 0;
          LAMINA_ASSERT_OK(laminaGetConvolutionBackwardFilterWorkspaceSize(
              h, *st.x, *st.y, st.conv, *st.w, laminaConvolutionBwdFilterAlgo_t(algo), &wsBytes));
          lt::Buffer ws(h, wsBytes, dt);
          for (const auto &ab : kAlphaBeta) {
            SCOPED_TRACE("backward-filter algo " + std::to_string(algo) + " beta " + std::to_string(ab.beta));
            lt::Buffer dwb(h, st.w->bytes(), dt);
            auto old = lt::randomValues(st.w->numel(), seed++, dt);
            if (ab.beta != 0)
              lt::upload(h, *st.w, old, dwb.p);
            lt::Scalar al(ab.alpha), be(ab.beta);
            LAMINA_ASSERT_OK(laminaConvolutionBackwardFilter(h, al.ptr(dt), *st.x, xb.p, *st.y, dyb.p, st.conv,
                                                             laminaConvolutionBwdFilterAlgo_t(algo), ws.p, wsBytes,
                                                             be.ptr(dt), *st.w, dwb.p));
            EXPECT_TRUE(lt::allClose(lt::download(h, *st.w, dwb.p), ct::blend(dwRef, old, ab.alpha, ab.beta), tol));
            ++runs[2];
          }
        }
      }
    }
  }
  // Every (problem, dtype, layout, alpha/beta) ran every algorithm.
  size_t combos = specs.size() * 4 * 3 * 3;
  EXPECT_EQ(size_t(runs[0]), combos * 4);
  EXPECT_EQ(size_t(runs[1]), combos * 3);
  EXPECT_EQ(size_t(runs[2]), combos * 2);
}

TEST(ConvConformance, BackwardBias) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<std::vector<int64_t>> shapes = {{2, 5, 3, 4}, {3, 7, 2, 3, 4}, {1, 1, 1, 1}};
  uint64_t seed = 77;
  for (const auto &dims : shapes)
    for (laminaDataType_t dt : lt::floatTypes())
      for (lt::Layout layout : kLayouts)
        for (const auto &ab : kAlphaBeta) {
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
