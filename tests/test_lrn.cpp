// LRN forward/backward (across and within channels) against the fp64 reference, gradient checks,
// descriptor and bad input.
#include "common/test_util.h"
#include "reference/lrn_ref.h"

#include <cmath>

namespace {

using lt::Layout;

const std::pair<double, double> kAlphaBeta[] = {{1.0, 0.0}, {0.7, 0.3}, {-2.0, 1.0}};
const Layout kLayouts[] = {Layout::NCHW, Layout::NHWC, Layout::Strided};

struct Problem {
  laminaLRNMode_t mode;
  std::vector<int64_t> dims;
  ref::LrnParams p; // withinChannel is set from mode
};

// alpha is large in most rows so that the window sums move the result well beyond the tolerance.
std::vector<Problem> problems() {
  const auto X = LAMINA_LRN_CROSS_CHANNEL, W = LAMINA_LRN_WITHIN_CHANNEL;
  std::vector<Problem> v = {
      {X, {2, 7, 3, 4}, {5, 0.8, 0.75, 2.0}},   {X, {2, 7, 3, 4}, {5, 1e-4, 0.75, 2.0}},
      {X, {1, 6, 2, 3}, {3, 1.5, 0.5, 1.0}},    {X, {1, 2, 3, 3}, {5, 0.9, 0.75, 1.0}}, // C < n
      {X, {2, 5, 2, 2, 3}, {7, 0.6, 1.2, 1.5}}, {X, {3, 9, 4}, {1, 0.5, 0.75, 2.0}},    // 5-D, 3-D
      {W, {2, 3, 5, 6}, {3, 0.8, 0.75, 1.0}},   {W, {1, 2, 2, 3}, {5, 1.2, 0.75, 2.0}}, // window > image
      {W, {2, 2, 6, 4}, {1, 0.5, 0.5, 1.0}},
  };
  for (auto &pr : v)
    pr.p.withinChannel = pr.mode == W;
  return v;
}

struct LrnDesc {
  laminaLRNDescriptor_t d = nullptr;
  explicit LrnDesc(const ref::LrnParams &p) {
    laminaCreateLRNDescriptor(&d);
    if (laminaSetLRNDescriptor(d, unsigned(p.n), p.alpha, p.beta, p.k) != LAMINA_STATUS_SUCCESS)
      ADD_FAILURE() << laminaGetLastErrorMessage();
  }
  ~LrnDesc() { laminaDestroyLRNDescriptor(d); }
  operator laminaLRNDescriptor_t() const { return d; }
};

std::string label(const Problem &pr, laminaDataType_t dt, Layout l, double a, double b, bool inPlace) {
  std::string s = "mode " + std::to_string(pr.mode) + " n " + std::to_string(pr.p.n) + " alpha " +
                  std::to_string(pr.p.alpha) + " " + lt::dtypeName(dt) + " " + lt::layoutName(l) + " dims";
  for (auto d : pr.dims)
    s += " " + std::to_string(d);
  return s + " a " + std::to_string(a) + " b " + std::to_string(b) + (inPlace ? " in-place" : "");
}

// Elements of the buffer's span that are not elements of t (stride gaps) must still hold the NaN the
// test wrote there: nothing may be written outside the tensor.
TEST(LRN, ForwardMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  uint64_t seed = 1;
  for (const auto &pr : problems())
    for (laminaDataType_t dt : lt::floatTypes())
      for (Layout l : kLayouts)
        for (auto [alpha, beta] : kAlphaBeta)
          for (bool inPlace : {false, true}) {
            SCOPED_TRACE(label(pr, dt, l, alpha, beta, inPlace));
            LrnDesc lrn(pr.p);
            lt::Tensor tx(dt, pr.dims, l), ty(dt, pr.dims, inPlace ? l : Layout::NCHW);
            auto x = lt::randomValues(tx.numel(), ++seed, dt, -2, 2);
            auto y0 = lt::randomValues(tx.numel(), ++seed, dt);
            lt::Buffer bx(h, tx.bytes(), dt), by(h, ty.bytes(), dt);
            lt::upload(h, tx, x, bx.p);
            void *yp = inPlace ? bx.p : by.p;
            if (inPlace)
              y0 = x;
            else if (beta != 0)
              lt::upload(h, ty, y0, by.p); // beta == 0: y stays NaN and must not leak
            lt::Scalar a(alpha), b(beta);
            LAMINA_ASSERT_OK(laminaLRNForward(h, lrn, pr.mode, a.ptr(dt), tx, bx.p, b.ptr(dt), ty, yp));
            auto ref = ref::lrnForward(pr.p, pr.dims, x);
            for (size_t i = 0; i < ref.size(); ++i)
              ref[i] = alpha * ref[i] + (beta != 0 ? beta * y0[i] : 0.0);
            EXPECT_TRUE(lt::allClose(lt::download(h, ty, yp), ref, lt::tolerance(dt)));
            EXPECT_TRUE(lt::gapsUntouched(h, ty, yp));
          }
}

TEST(LRN, BackwardMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  uint64_t seed = 7000;
  for (const auto &pr : problems())
    for (laminaDataType_t dt : lt::floatTypes())
      for (Layout l : kLayouts)
        for (auto [alpha, beta] : kAlphaBeta) {
          SCOPED_TRACE(label(pr, dt, l, alpha, beta, false));
          LrnDesc lrn(pr.p);
          // NHWC stays NHWC throughout so the channels-last path sees every dtype
          const Layout other = l == Layout::NCHW ? Layout::Strided : l == Layout::NHWC ? Layout::NHWC : Layout::NCHW;
          lt::Tensor tx(dt, pr.dims, l), ty(dt, pr.dims, other), tdy(dt, pr.dims, other), tdx(dt, pr.dims, l);
          const int64_t n = tx.numel();
          auto x = lt::randomValues(n, ++seed, dt, -2, 2);
          auto y = ref::lrnForward(pr.p, pr.dims, x);
          for (auto &v : y)
            v = lt::roundTo(dt, v);
          auto dy = lt::randomValues(n, ++seed, dt);
          auto dx0 = lt::randomValues(n, ++seed, dt);
          lt::Buffer bx(h, tx.bytes(), dt), by(h, ty.bytes(), dt), bdy(h, tdy.bytes(), dt), bdx(h, tdx.bytes(), dt);
          lt::upload(h, tx, x, bx.p);
          lt::upload(h, ty, y, by.p);
          lt::upload(h, tdy, dy, bdy.p);
          if (beta != 0)
            lt::upload(h, tdx, dx0, bdx.p);
          lt::Scalar a(alpha), b(beta);
          LAMINA_ASSERT_OK(
              laminaLRNBackward(h, lrn, pr.mode, a.ptr(dt), ty, by.p, tdy, bdy.p, tx, bx.p, b.ptr(dt), tdx, bdx.p));
          auto ref = ref::lrnBackward(pr.p, pr.dims, x, dy);
          for (size_t i = 0; i < ref.size(); ++i)
            ref[i] = alpha * ref[i] + (beta != 0 ? beta * dx0[i] : 0.0);
          EXPECT_TRUE(lt::allClose(lt::download(h, tdx, bdx.p), ref, lt::tolerance(dt)));
          EXPECT_TRUE(lt::gapsUntouched(h, tdx, bdx.p));
        }
}

// Big enough to be split across threads.
TEST(LRN, LargeThreaded) {
  LT_HANDLE_OR_SKIP(h);
  LAMINA_ASSERT_OK(laminaSetNumThreads(h, 4)); // several threads whatever the machine
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  const std::vector<int64_t> dims = {2, 24, 20, 18};
  for (auto mode : {LAMINA_LRN_CROSS_CHANNEL, LAMINA_LRN_WITHIN_CHANNEL})
    for (Layout l : {Layout::NCHW, Layout::NHWC}) { // NCHW: several 64-position tiles, the last partial
      SCOPED_TRACE(std::to_string(mode) + lt::layoutName(l));
      ref::LrnParams p{5, 0.7, 0.75, 2.0, mode == LAMINA_LRN_WITHIN_CHANNEL};
      LrnDesc lrn(p);
      lt::Tensor t(dt, dims, l);
      auto x = lt::randomValues(t.numel(), 3, dt, -2, 2);
      auto dy = lt::randomValues(t.numel(), 4, dt);
      lt::Buffer bx(h, t.bytes(), dt), by(h, t.bytes(), dt), bdy(h, t.bytes(), dt), bdx(h, t.bytes(), dt);
      lt::upload(h, t, x, bx.p);
      lt::upload(h, t, dy, bdy.p);
      lt::Scalar one(1), zero(0);
      LAMINA_ASSERT_OK(laminaLRNForward(h, lrn, mode, one.ptr(dt), t, bx.p, zero.ptr(dt), t, by.p));
      EXPECT_TRUE(lt::allClose(lt::download(h, t, by.p), ref::lrnForward(p, dims, x), lt::tolerance(dt)));
      LAMINA_ASSERT_OK(
          laminaLRNBackward(h, lrn, mode, one.ptr(dt), t, by.p, t, bdy.p, t, bx.p, zero.ptr(dt), t, bdx.p));
      EXPECT_TRUE(lt::allClose(lt::download(h, t, bdx.p), ref::lrnBackward(p, dims, x, dy), lt::tolerance(dt)));
    }
}

// The widest window (n = 15) over many channels, forward in place and out of place, and backward
// with dx over dy: on the GPU a cross-channel thread keeps the window in a ring of 16 channels.
TEST(LRN, WideWindowManyChannelsAndInPlace) {
  LT_HANDLE_OR_SKIP(h);
  const std::vector<int64_t> crossDims = {2, 40, 3, 5}, withinDims = {2, 3, 9, 7};
  for (auto mode : {LAMINA_LRN_CROSS_CHANNEL, LAMINA_LRN_WITHIN_CHANNEL})
    for (laminaDataType_t dt : {LAMINA_DATA_FLOAT, LAMINA_DATA_DOUBLE})
      for (Layout l : {Layout::NCHW, Layout::NHWC})
        for (bool inPlace : {false, true}) {
          const bool within = mode == LAMINA_LRN_WITHIN_CHANNEL;
          const auto &dims = within ? withinDims : crossDims;
          const ref::LrnParams p{15, 0.9, 0.75, 1.5, within};
          SCOPED_TRACE(label(Problem{mode, dims, p}, dt, l, 1, 0, inPlace));
          LrnDesc lrn(p);
          lt::Tensor t(dt, dims, l);
          auto x = lt::randomValues(t.numel(), 41, dt, -2, 2);
          auto dy = lt::randomValues(t.numel(), 42, dt);
          lt::Buffer bx(h, t.bytes(), dt), by(h, t.bytes(), dt), bdy(h, t.bytes(), dt), bdx(h, t.bytes(), dt);
          lt::Scalar one(1), zero(0);
          // backward first (x intact), dx written over dy when in place
          lt::upload(h, t, x, bx.p);
          lt::upload(h, t, dy, bdy.p);
          void *dxp = inPlace ? bdy.p : bdx.p;
          LAMINA_ASSERT_OK(
              laminaLRNBackward(h, lrn, mode, one.ptr(dt), t, by.p, t, bdy.p, t, bx.p, zero.ptr(dt), t, dxp));
          EXPECT_TRUE(lt::allClose(lt::download(h, t, dxp), ref::lrnBackward(p, dims, x, dy), lt::tolerance(dt)));
          void *yp = inPlace ? bx.p : by.p;
          LAMINA_ASSERT_OK(laminaLRNForward(h, lrn, mode, one.ptr(dt), t, bx.p, zero.ptr(dt), t, yp));
          EXPECT_TRUE(lt::allClose(lt::download(h, t, yp), ref::lrnForward(p, dims, x), lt::tolerance(dt)));
        }
}

// On the GPU, data must be device memory of the handle's GPU: a host array is refused, not read.
TEST(LRN, HostPointerIsBadPointerOnGpu) {
  if (lt::testBackend() != LAMINA_BACKEND_CUDA)
    GTEST_SKIP() << "GPU only: on the CPU backend host memory is the backend's memory";
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  LrnDesc lrn(ref::LrnParams{});
  lt::Tensor x(dt, {2, 3, 4, 5});
  lt::Buffer bx(h, x.bytes()), by(h, x.bytes()), bdy(h, x.bytes()), bdx(h, x.bytes());
  std::vector<float> host(size_t(x.numel()), 1.0f);
  lt::Scalar one(1), zero(0);
  const void *a = one.ptr(dt), *b = zero.ptr(dt);
  const auto X = LAMINA_LRN_CROSS_CHANNEL;
  const auto BP = LAMINA_STATUS_BAD_POINTER;
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x, host.data(), b, x, by.p), BP, "xData");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x, bx.p, b, x, host.data()), BP, "yData");
  LAMINA_EXPECT_STATUS(laminaLRNBackward(h, lrn, X, a, x, by.p, x, host.data(), x, bx.p, b, x, bdx.p), BP, "dyData");
  LAMINA_EXPECT_STATUS(laminaLRNBackward(h, lrn, X, a, x, by.p, x, bdy.p, x, bx.p, b, x, host.data()), BP, "dxData");
}

TEST(LRN, GradientCheck) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_DOUBLE;
  const std::vector<Problem> cases = {
      {LAMINA_LRN_CROSS_CHANNEL, {2, 6, 2, 2}, {5, 0.9, 0.75, 1.0, false}},
      {LAMINA_LRN_CROSS_CHANNEL, {1, 4, 3}, {3, 1.5, 1.3, 0.5, false}},
      {LAMINA_LRN_WITHIN_CHANNEL, {1, 2, 4, 5}, {3, 0.9, 0.75, 1.0, true}},
      {LAMINA_LRN_WITHIN_CHANNEL, {1, 1, 3, 3}, {5, 2.0, 0.6, 0.5, true}},
  };
  for (const auto &pr : cases) {
    SCOPED_TRACE(label(pr, dt, Layout::Strided, 1, 0, false));
    LrnDesc lrn(pr.p);
    lt::Tensor t(dt, pr.dims, Layout::Strided);
    const int64_t n = t.numel();
    auto x = lt::randomValues(n, 31, dt, -2, 2);
    auto w = lt::randomValues(n, 32, dt);
    lt::Buffer bx(h, t.bytes(), dt), by(h, t.bytes(), dt), bw(h, t.bytes(), dt), bdx(h, t.bytes(), dt);
    lt::Scalar one(1), zero(0);
    auto loss = [&](const std::vector<double> &xv) {
      lt::upload(h, t, xv, bx.p);
      EXPECT_EQ(laminaLRNForward(h, lrn, pr.mode, one.ptr(dt), t, bx.p, zero.ptr(dt), t, by.p), LAMINA_STATUS_SUCCESS);
      auto yv = lt::download(h, t, by.p);
      double s = 0;
      for (size_t i = 0; i < yv.size(); ++i)
        s += w[i] * yv[i];
      return s;
    };
    std::vector<double> num(static_cast<size_t>(n));
    const double eps = 1e-6;
    for (int64_t i = 0; i < n; ++i) {
      auto xp = x, xm = x;
      xp[size_t(i)] += eps;
      xm[size_t(i)] -= eps;
      num[size_t(i)] = (loss(xp) - loss(xm)) / (2 * eps);
    }
    loss(x);
    lt::upload(h, t, w, bw.p);
    LAMINA_ASSERT_OK(
        laminaLRNBackward(h, lrn, pr.mode, one.ptr(dt), t, by.p, t, bw.p, t, bx.p, zero.ptr(dt), t, bdx.p));
    EXPECT_TRUE(lt::allClose(lt::download(h, t, bdx.p), num, 1e-6));
  }
}

TEST(LRN, DescriptorDefaultsSetGetAndBadValues) {
  laminaLRNDescriptor_t d;
  LAMINA_ASSERT_OK(laminaCreateLRNDescriptor(&d));
  unsigned n = 0;
  double alpha = 0, beta = 0, k = 0;
  LAMINA_ASSERT_OK(laminaGetLRNDescriptor(d, &n, &alpha, &beta, &k)); // documented defaults
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(alpha, 1e-4);
  EXPECT_EQ(beta, 0.75);
  EXPECT_EQ(k, 2.0);
  LAMINA_ASSERT_OK(laminaSetLRNDescriptor(d, 3, 0.5, 0.25, 1.5));
  LAMINA_ASSERT_OK(laminaGetLRNDescriptor(d, &n, &alpha, &beta, &k));
  EXPECT_EQ((std::vector<double>{double(n), alpha, beta, k}), (std::vector<double>{3, 0.5, 0.25, 1.5}));
  const auto B = LAMINA_STATUS_BAD_PARAM;
  LAMINA_EXPECT_STATUS(laminaSetLRNDescriptor(d, 0, 1e-4, 0.75, 2), B, "'n'");
  LAMINA_EXPECT_STATUS(laminaSetLRNDescriptor(d, 4, 1e-4, 0.75, 2), B, "'n'");
  LAMINA_EXPECT_STATUS(laminaSetLRNDescriptor(d, 17, 1e-4, 0.75, 2), B, "'n'");
  LAMINA_EXPECT_STATUS(laminaSetLRNDescriptor(d, 5, -1, 0.75, 2), B, "'alpha'");
  LAMINA_EXPECT_STATUS(laminaSetLRNDescriptor(d, 5, NAN, 0.75, 2), B, "'alpha'");
  LAMINA_EXPECT_STATUS(laminaSetLRNDescriptor(d, 5, 1e-4, -0.5, 2), B, "'beta'");
  LAMINA_EXPECT_STATUS(laminaSetLRNDescriptor(d, 5, 1e-4, INFINITY, 2), B, "'beta'");
  LAMINA_EXPECT_STATUS(laminaSetLRNDescriptor(d, 5, 1e-4, 0.75, 0), B, "'k'");
  LAMINA_EXPECT_STATUS(laminaSetLRNDescriptor(nullptr, 5, 1e-4, 0.75, 2), LAMINA_STATUS_NULL_POINTER, "desc");
  LAMINA_ASSERT_OK(laminaGetLRNDescriptor(d, &n, nullptr, nullptr, nullptr)); // failed sets changed nothing
  EXPECT_EQ(n, 3u);
  LAMINA_EXPECT_STATUS(laminaCreateLRNDescriptor(nullptr), LAMINA_STATUS_NULL_POINTER, "desc");
  LAMINA_EXPECT_OK(laminaDestroyLRNDescriptor(d));
  LAMINA_EXPECT_OK(laminaDestroyLRNDescriptor(nullptr));
}

TEST(LRN, BadInput) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  LrnDesc lrn(ref::LrnParams{});
  const auto X = LAMINA_LRN_CROSS_CHANNEL, W = LAMINA_LRN_WITHIN_CHANNEL;
  lt::Tensor x(dt, {2, 3, 4, 5}), xBad(dt, {2, 3, 4, 6}), xHalf(LAMINA_DATA_HALF, {2, 3, 4, 5});
  lt::Tensor xInt(LAMINA_DATA_INT32, {2, 3, 4, 5}), x2(dt, {2, 3}), x5(dt, {1, 2, 2, 2, 2});
  lt::Tensor xNhwc(dt, {2, 3, 4, 5}, Layout::NHWC), xOverlap(dt, {2, 3, 4, 5}, {60, 20, 0, 1});
  lt::Buffer bx(h, x.bytes()), by(h, x.bytes()), bdy(h, x.bytes()), bdx(h, x.bytes());
  lt::Scalar one(1), zero(0);
  const void *a = one.ptr(dt), *b = zero.ptr(dt);
  const auto NP = LAMINA_STATUS_NULL_POINTER;
  laminaTensorDescriptor_t unset;
  laminaCreateTensorDescriptor(&unset);

  LAMINA_EXPECT_OK(laminaLRNForward(h, lrn, W, a, x, bx.p, b, x, by.p));
  LAMINA_EXPECT_STATUS(laminaLRNForward(nullptr, lrn, X, a, x, bx.p, b, x, by.p), NP, "handle");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, nullptr, X, a, x, bx.p, b, x, by.p), NP, "lrn");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, reinterpret_cast<laminaLRNDescriptor_t>(x.d), X, a, x, bx.p, b, x, by.p),
                       LAMINA_STATUS_WRONG_DESCRIPTOR, "lrn");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, laminaLRNMode_t(2), a, x, bx.p, b, x, by.p), LAMINA_STATUS_BAD_PARAM,
                       "mode");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, nullptr, x, bx.p, b, x, by.p), NP, "alpha");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x, bx.p, nullptr, x, by.p), NP, "beta");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, nullptr, bx.p, b, x, by.p), NP, "'x'");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, unset, bx.p, b, x, by.p), LAMINA_STATUS_NOT_INITIALIZED, "'x'");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x, nullptr, b, x, by.p), NP, "xData");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x, bx.p, b, nullptr, by.p), NP, "'y'");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x, bx.p, b, x, nullptr), NP, "yData");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x, bx.p, b, xBad, by.p), LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x, bx.p, b, xHalf, by.p), LAMINA_STATUS_TYPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, xInt, bx.p, b, xInt, by.p), LAMINA_STATUS_NOT_SUPPORTED, "'x'");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x2, bx.p, b, x2, by.p), LAMINA_STATUS_BAD_DIMS, "'x'");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, W, a, x5, bx.p, b, x5, by.p), LAMINA_STATUS_BAD_DIMS, "'x'");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x, bx.p, b, xOverlap, by.p), LAMINA_STATUS_BAD_STRIDES, "'y'");
  LAMINA_EXPECT_STATUS(laminaLRNForward(h, lrn, X, a, x, bx.p, b, xNhwc, bx.p), LAMINA_STATUS_BAD_PARAM, "in-place");

  auto bwd = [&](laminaHandle_t hh, laminaLRNDescriptor_t l, laminaLRNMode_t m, const void *al,
                 laminaTensorDescriptor_t yd, const void *yp, laminaTensorDescriptor_t dyd, const void *dyp,
                 laminaTensorDescriptor_t xd, const void *xp, const void *be, laminaTensorDescriptor_t dxd,
                 void *dxp) { return laminaLRNBackward(hh, l, m, al, yd, yp, dyd, dyp, xd, xp, be, dxd, dxp); };
  LAMINA_EXPECT_OK(bwd(h, lrn, X, a, x, by.p, x, bdy.p, x, bx.p, b, x, bdx.p));
  LAMINA_EXPECT_STATUS(bwd(nullptr, lrn, X, a, x, by.p, x, bdy.p, x, bx.p, b, x, bdx.p), NP, "handle");
  LAMINA_EXPECT_STATUS(bwd(h, nullptr, X, a, x, by.p, x, bdy.p, x, bx.p, b, x, bdx.p), NP, "lrn");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, laminaLRNMode_t(-3), a, x, by.p, x, bdy.p, x, bx.p, b, x, bdx.p),
                       LAMINA_STATUS_BAD_PARAM, "mode");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, nullptr, x, by.p, x, bdy.p, x, bx.p, b, x, bdx.p), NP, "alpha");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, x, bdy.p, x, bx.p, nullptr, x, bdx.p), NP, "beta");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, nullptr, by.p, x, bdy.p, x, bx.p, b, x, bdx.p), NP, "'y'");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, nullptr, x, bdy.p, x, bx.p, b, x, bdx.p), NP, "yData");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, nullptr, bdy.p, x, bx.p, b, x, bdx.p), NP, "'dy'");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, x, nullptr, x, bx.p, b, x, bdx.p), NP, "dyData");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, x, bdy.p, nullptr, bx.p, b, x, bdx.p), NP, "'x'");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, x, bdy.p, x, nullptr, b, x, bdx.p), NP, "xData");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, x, bdy.p, x, bx.p, b, nullptr, bdx.p), NP, "'dx'");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, x, bdy.p, x, bx.p, b, x, nullptr), NP, "dxData");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, xBad, by.p, x, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_SHAPE_MISMATCH,
                       "'y'");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, xBad, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_SHAPE_MISMATCH,
                       "'dy'");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, x, bdy.p, x, bx.p, b, xBad, bdx.p), LAMINA_STATUS_SHAPE_MISMATCH,
                       "'dx'");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, xHalf, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_TYPE_MISMATCH,
                       "'dy'");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, X, a, x, by.p, x, bdy.p, x, bx.p, b, xOverlap, bdx.p), LAMINA_STATUS_BAD_STRIDES,
                       "'dx'");
  LAMINA_EXPECT_STATUS(bwd(h, lrn, W, a, x5, by.p, x5, bdy.p, x5, bx.p, b, x5, bdx.p), LAMINA_STATUS_BAD_DIMS, "'x'");
  laminaDestroyTensorDescriptor(unset);
}

} // namespace
