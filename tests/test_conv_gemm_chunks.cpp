// The GEMM convolution algorithms on problems too large for one workspace block: the GPU versions
// split the batch into chunks of images (whole batch > 256 MiB of columns) and a single large image
// into ranges of output positions (backward filter then accumulates over the ranges). Every
// direction against the fp64 reference; on the GPU the workspace must stay bounded.
#include "test_conv_common.h"

namespace {

struct Big {
  const char *name;
  lt::ref::ConvSpec spec;
  lt::Layout layout;
};

// K = 1 keeps the fp64 reference cheap while the column matrix (C * 9 taps * positions) is large.
std::vector<Big> bigProblems() {
  auto make = [](int64_t N, int64_t H, int64_t W, bool conv) {
    lt::ref::ConvSpec s;
    s.spatialDims = 2;
    s.N = N, s.C = 64, s.K = 1, s.G = 1;
    s.in[0] = H, s.in[1] = W;
    s.filt[0] = 3, s.filt[1] = 3;
    s.pad[0] = 1, s.pad[1] = 1;
    s.convolutionMode = conv;
    return s;
  };
  // 64 images of 64 x 64: about 9.5 MB of float columns each, several images per chunk.
  // 2 images of 512 x 256: about 300 MB of columns each, split into position ranges.
  // One layout each (the conformance test covers layouts); the reference takes seconds.
  return {{"image_chunks", make(64, 64, 64, false), lt::Layout::NHWC},
          {"position_ranges", make(2, 512, 256, true), lt::Layout::NCHW}};
}

void runDirection(ct::Dir d) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  uint64_t seed = 5;
  for (const Big &b : bigProblems()) {
    const auto &s = b.spec;
    {
      const lt::Layout layout = b.layout;
      SCOPED_TRACE(std::string(b.name) + " " + lt::layoutName(layout));
      ct::Setup st(s, dt, layout);
      auto x = lt::randomValues(st.x->numel(), seed++, dt);
      auto w = lt::randomValues(st.w->numel(), seed++, dt);
      auto dy = lt::randomValues(st.y->numel(), seed++, dt);
      lt::Buffer xb(h, st.x->bytes(), dt), wb(h, st.w->bytes(), dt), yb(h, st.y->bytes(), dt);
      size_t ws = 0;
      laminaStatus_t q;
      if (d == ct::Dir::Forward) {
        q = laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y, LAMINA_CONVOLUTION_FWD_ALGO_GEMM,
                                                     &ws);
      } else if (d == ct::Dir::BackwardData) {
        q = laminaGetConvolutionBackwardDataWorkspaceSize(h, *st.w, *st.y, st.conv, *st.x,
                                                          LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM, &ws);
      } else {
        q = laminaGetConvolutionBackwardFilterWorkspaceSize(h, *st.x, *st.y, st.conv, *st.w,
                                                            LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM, &ws);
      }
      ASSERT_EQ(q, LAMINA_STATUS_SUCCESS) << laminaGetLastErrorMessage();
      // Image chunks keep the GPU workspace near the 256 MiB block (backward data takes whole images,
      // so its position-range problem needs one image's columns).
      if (lt::testBackend() == LAMINA_BACKEND_CUDA && std::string(b.name) == "image_chunks")
        EXPECT_LE(ws, size_t(300) << 20);
      lt::Buffer wsb(h, ws, dt);
      lt::Scalar al(0.5), be(0.0);
      std::vector<double> got, ref;
      if (d == ct::Dir::Forward) {
        lt::upload(h, *st.x, x, xb.p);
        lt::upload(h, *st.w, w, wb.p);
        LAMINA_ASSERT_OK(laminaConvolutionForward(h, al.ptr(dt), *st.x, xb.p, *st.w, wb.p, st.conv,
                                                  LAMINA_CONVOLUTION_FWD_ALGO_GEMM, wsb.p, ws, be.ptr(dt), *st.y,
                                                  yb.p));
        got = lt::download(h, *st.y, yb.p);
        ref = lt::ref::convForward(s, x, w);
      } else if (d == ct::Dir::BackwardData) {
        lt::upload(h, *st.y, dy, yb.p);
        lt::upload(h, *st.w, w, wb.p);
        LAMINA_ASSERT_OK(laminaConvolutionBackwardData(h, al.ptr(dt), *st.w, wb.p, *st.y, yb.p, st.conv,
                                                       LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM, wsb.p, ws, be.ptr(dt),
                                                       *st.x, xb.p));
        got = lt::download(h, *st.x, xb.p);
        ref = lt::ref::convBackwardData(s, dy, w);
      } else {
        lt::upload(h, *st.x, x, xb.p);
        lt::upload(h, *st.y, dy, yb.p);
        LAMINA_ASSERT_OK(laminaConvolutionBackwardFilter(h, al.ptr(dt), *st.x, xb.p, *st.y, yb.p, st.conv,
                                                         LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM, wsb.p, ws, be.ptr(dt),
                                                         *st.w, wb.p));
        got = lt::download(h, *st.w, wb.p);
        ref = lt::ref::convBackwardFilter(s, x, dy);
      }
      // Backward filter sums N * H * W = 524288 products per weight: allow for fp32 accumulation.
      const double tol = d == ct::Dir::BackwardFilter ? 1e-4 : lt::tolerance(dt);
      EXPECT_TRUE(lt::allClose(got, ct::blend(ref, {}, 0.5, 0.0), tol));
    }
  }
}

TEST(ConvGemmChunks, Forward) { runDirection(ct::Dir::Forward); }
TEST(ConvGemmChunks, BackwardData) { runDirection(ct::Dir::BackwardData); }
TEST(ConvGemmChunks, BackwardFilter) { runDirection(ct::Dir::BackwardFilter); }

} // namespace
