// Finite-difference gradient checks (double, central differences, small shapes): with
// L = sum(conv(x, w) * dy), backward-data must give dL/dx and backward-filter dL/dw for every
// algorithm, and backward-bias dL/db for L = sum((conv(x, w) + b) * dy). The gradients of a
// linear L are exact up to rounding, so the tolerance is 1e-7 relative (documented in the report).
#include "test_conv_common.h"

#include <functional>

namespace {

constexpr double kStep = 1e-3, kTol = 1e-7;
const laminaDataType_t D = LAMINA_DATA_DOUBLE;

struct Problem {
  lt::ref::ConvSpec s;
  std::vector<double> x, w, dy;
};

// L for the given x and w, forward through the library (IMPLICIT_GEMM, no workspace).
double loss(const lt::Handle &h, ct::Setup &st, const std::vector<double> &x, const std::vector<double> &w,
            const std::vector<double> &dy) {
  lt::Buffer xb(h, st.x->bytes(), D), wb(h, st.w->bytes(), D), yb(h, st.y->bytes(), D);
  lt::upload(h, *st.x, x, xb.p);
  lt::upload(h, *st.w, w, wb.p);
  lt::Scalar one(1.0), zero(0.0);
  EXPECT_EQ(laminaConvolutionForward(h, one.ptr(D), *st.x, xb.p, *st.w, wb.p, st.conv,
                                     LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, zero.ptr(D), *st.y, yb.p),
            LAMINA_STATUS_SUCCESS)
      << laminaGetLastErrorMessage();
  auto y = lt::download(h, *st.y, yb.p);
  double l = 0;
  for (size_t i = 0; i < y.size(); ++i)
    l += y[i] * dy[i];
  return l;
}

std::vector<double> numericGrad(std::vector<double> v, const std::function<double(const std::vector<double> &)> &f) {
  std::vector<double> g(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    double keep = v[i];
    v[i] = keep + kStep;
    double up = f(v);
    v[i] = keep - kStep;
    double down = f(v);
    v[i] = keep;
    g[i] = (up - down) / (2 * kStep);
  }
  return g;
}

std::vector<lt::ref::ConvSpec> gradSpecs() {
  std::vector<lt::ref::ConvSpec> v;
  lt::ref::ConvSpec a; // 2-D, stride, padding, dilation, convolution mode, groups
  a.N = 2, a.C = 4, a.K = 4, a.G = 2, a.in[0] = 5, a.in[1] = 6, a.filt[0] = 3, a.filt[1] = 2;
  a.pad[0] = 1, a.pad[1] = 1, a.stride[1] = 2, a.dil[0] = 2, a.convolutionMode = true;
  v.push_back(a);
  lt::ref::ConvSpec b; // 3-D
  b.spatialDims = 3, b.N = 1, b.C = 2, b.K = 3, b.in[0] = 3, b.in[1] = 4, b.in[2] = 3;
  b.filt[0] = 2, b.filt[1] = 2, b.filt[2] = 2, b.pad[2] = 1, b.stride[0] = 1;
  v.push_back(b);
  return v;
}

TEST(ConvGradCheck, BackwardDataMatchesFiniteDifferences) {
  LT_HANDLE_OR_SKIP(h);
  laminaSetNumThreads(h, 1); // hundreds of tiny forwards: threads only add overhead
  uint64_t seed = 5;
  for (const auto &s : gradSpecs()) {
    ct::Setup st(s, D, lt::Layout::NCHW);
    auto x = lt::randomValues(st.x->numel(), seed++, D);
    auto w = lt::randomValues(st.w->numel(), seed++, D);
    auto dy = lt::randomValues(st.y->numel(), seed++, D);
    auto num = numericGrad(x, [&](const std::vector<double> &xv) { return loss(h, st, xv, w, dy); });
    for (int algo : {0, 1, 2}) {
      SCOPED_TRACE("backward-data algo " + std::to_string(algo));
      size_t wsBytes = 0;
      LAMINA_ASSERT_OK(laminaGetConvolutionBackwardDataWorkspaceSize(h, *st.w, *st.y, st.conv, *st.x,
                                                                     laminaConvolutionBwdDataAlgo_t(algo), &wsBytes));
      lt::Buffer ws(h, wsBytes, D), wb(h, st.w->bytes(), D), dyb(h, st.y->bytes(), D), dxb(h, st.x->bytes(), D);
      lt::upload(h, *st.w, w, wb.p);
      lt::upload(h, *st.y, dy, dyb.p);
      lt::Scalar one(1.0), zero(0.0);
      LAMINA_ASSERT_OK(laminaConvolutionBackwardData(h, one.ptr(D), *st.w, wb.p, *st.y, dyb.p, st.conv,
                                                     laminaConvolutionBwdDataAlgo_t(algo), ws.p, wsBytes, zero.ptr(D),
                                                     *st.x, dxb.p));
      EXPECT_TRUE(lt::allClose(lt::download(h, *st.x, dxb.p), num, kTol));
    }
  }
}

TEST(ConvGradCheck, BackwardFilterMatchesFiniteDifferences) {
  LT_HANDLE_OR_SKIP(h);
  laminaSetNumThreads(h, 1);
  uint64_t seed = 50;
  for (const auto &s : gradSpecs()) {
    ct::Setup st(s, D, lt::Layout::NCHW);
    auto x = lt::randomValues(st.x->numel(), seed++, D);
    auto w = lt::randomValues(st.w->numel(), seed++, D);
    auto dy = lt::randomValues(st.y->numel(), seed++, D);
    auto num = numericGrad(w, [&](const std::vector<double> &wv) { return loss(h, st, x, wv, dy); });
    for (int algo : {0, 1}) {
      SCOPED_TRACE("backward-filter algo " + std::to_string(algo));
      size_t wsBytes = 0;
      LAMINA_ASSERT_OK(laminaGetConvolutionBackwardFilterWorkspaceSize(
          h, *st.x, *st.y, st.conv, *st.w, laminaConvolutionBwdFilterAlgo_t(algo), &wsBytes));
      lt::Buffer ws(h, wsBytes, D), xb(h, st.x->bytes(), D), dyb(h, st.y->bytes(), D), dwb(h, st.w->bytes(), D);
      lt::upload(h, *st.x, x, xb.p);
      lt::upload(h, *st.y, dy, dyb.p);
      lt::Scalar one(1.0), zero(0.0);
      LAMINA_ASSERT_OK(laminaConvolutionBackwardFilter(h, one.ptr(D), *st.x, xb.p, *st.y, dyb.p, st.conv,
                                                       laminaConvolutionBwdFilterAlgo_t(algo), ws.p, wsBytes,
                                                       zero.ptr(D), *st.w, dwb.p));
      EXPECT_TRUE(lt::allClose(lt::download(h, *st.w, dwb.p), num, kTol));
    }
  }
}

TEST(ConvGradCheck, BackwardBiasMatchesFiniteDifferences) {
  LT_HANDLE_OR_SKIP(h);
  laminaSetNumThreads(h, 1);
  auto s = gradSpecs()[0];
  ct::Setup st(s, D, lt::Layout::NCHW);
  auto x = lt::randomValues(st.x->numel(), 7, D);
  auto w = lt::randomValues(st.w->numel(), 8, D);
  auto dy = lt::randomValues(st.y->numel(), 9, D);
  auto b = lt::randomValues(s.K, 10, D);
  const int64_t inner = st.y->numel() / (s.N * s.K);
  // L(b) = sum((y + b[k]) * dy), y from the library's forward.
  auto lossB = [&](const std::vector<double> &bv) {
    double l = loss(h, st, x, w, dy);
    for (int64_t i = 0; i < st.y->numel(); ++i)
      l += bv[size_t((i / inner) % s.K)] * dy[size_t(i)];
    return l;
  };
  auto num = numericGrad(b, lossB);
  lt::Tensor db(D, {1, s.K, 1, 1});
  lt::Buffer dyb(h, st.y->bytes(), D), dbb(h, db.bytes(), D);
  lt::upload(h, *st.y, dy, dyb.p);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_ASSERT_OK(laminaConvolutionBackwardBias(h, one.ptr(D), *st.y, dyb.p, zero.ptr(D), db, dbb.p));
  EXPECT_TRUE(lt::allClose(lt::download(h, db, dbb.p), num, kTol));
}

} // namespace
