// Activation forward/backward against the fp64 reference, gradient checks, bad input.
#include "common/test_util.h"
#include "reference/activation_ref.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace {

using lt::Layout;

struct Mode {
  laminaActivationMode_t mode;
  double coef; // exactly representable in every dtype, so kinks agree between library and reference
};
const Mode kModes[] = {{LAMINA_ACTIVATION_SIGMOID, 0},       {LAMINA_ACTIVATION_RELU, 0},
                       {LAMINA_ACTIVATION_TANH, 0},          {LAMINA_ACTIVATION_CLIPPED_RELU, 1.5},
                       {LAMINA_ACTIVATION_ELU, 0.75},        {LAMINA_ACTIVATION_IDENTITY, 0},
                       {LAMINA_ACTIVATION_LEAKY_RELU, 0.125}};
const std::pair<double, double> kAlphaBeta[] = {{1.0, 0.0}, {0.7, 0.3}, {-1.5, 1.0}};
const Layout kLayouts[] = {Layout::NCHW, Layout::NHWC, Layout::Strided};
const std::vector<std::vector<int64_t>> kShapes = {{2, 3, 5, 7}, {1, 4, 3, 2, 5}, {3, 17}};

struct ActDesc {
  laminaActivationDescriptor_t d = nullptr;
  ActDesc(laminaActivationMode_t m, double coef, laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN) {
    laminaCreateActivationDescriptor(&d);
    if (laminaSetActivationDescriptor(d, m, nan, coef) != LAMINA_STATUS_SUCCESS)
      ADD_FAILURE() << laminaGetLastErrorMessage();
  }
  ~ActDesc() { laminaDestroyActivationDescriptor(d); }
  operator laminaActivationDescriptor_t() const { return d; }
};

std::string label(const Mode &m, laminaDataType_t dt, Layout l, const std::vector<int64_t> &dims, double a, double b,
                  bool inPlace) {
  std::string s = "mode " + std::to_string(int(m.mode)) + " " + lt::dtypeName(dt) + " " + lt::layoutName(l) + " dims";
  for (auto d : dims)
    s += " " + std::to_string(d);
  return s + " alpha " + std::to_string(a) + " beta " + std::to_string(b) + (inPlace ? " in-place" : "");
}

TEST(Activation, ForwardMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  uint64_t seed = 1;
  for (const Mode &m : kModes)
    for (laminaDataType_t dt : lt::floatTypes())
      for (Layout l : kLayouts)
        for (const auto &dims : kShapes)
          for (auto [alpha, beta] : kAlphaBeta)
            for (bool inPlace : {false, true}) {
              SCOPED_TRACE(label(m, dt, l, dims, alpha, beta, inPlace));
              ActDesc act(m.mode, m.coef);
              lt::Tensor tx(dt, dims, l), ty(dt, dims, l);
              auto x = lt::randomValues(tx.numel(), ++seed, dt, -3, 3);
              auto y0 = lt::randomValues(tx.numel(), ++seed, dt);
              lt::Buffer bx(h, tx.bytes(), dt), by(h, ty.bytes(), dt);
              lt::upload(h, tx, x, bx.p);
              void *yp = inPlace ? bx.p : by.p;
              if (inPlace)
                y0 = x;
              else if (beta != 0)
                lt::upload(h, ty, y0, by.p); // beta == 0: y stays NaN and must not leak
              lt::Scalar a(alpha), b(beta);
              LAMINA_ASSERT_OK(laminaActivationForward(h, act, a.ptr(dt), tx, bx.p, b.ptr(dt), ty, yp));
              auto ref = ref::activationForward(m.mode, m.coef, false, x);
              for (size_t i = 0; i < ref.size(); ++i)
                ref[i] = alpha * ref[i] + (beta != 0 ? beta * y0[i] : 0.0);
              EXPECT_TRUE(lt::allClose(lt::download(h, ty, yp), ref, lt::tolerance(dt)));
            }
}

TEST(Activation, BackwardMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  uint64_t seed = 1000;
  for (const Mode &m : kModes)
    for (laminaDataType_t dt : lt::floatTypes())
      for (Layout l : kLayouts)
        for (const auto &dims : kShapes)
          for (auto [alpha, beta] : kAlphaBeta)
            for (bool inPlace : {false, true}) {
              SCOPED_TRACE(label(m, dt, l, dims, alpha, beta, inPlace));
              ActDesc act(m.mode, m.coef);
              // x in NCHW, the rest in layout l: mixed layouts take the strided path
              lt::Tensor tx(dt, dims, Layout::NCHW), ty(dt, dims, l), tdy(dt, dims, l), tdx(dt, dims, l);
              const int64_t n = tx.numel();
              auto x = lt::randomValues(n, ++seed, dt, -3, 3);
              auto y = ref::activationForward(m.mode, m.coef, false, x);
              for (auto &v : y)
                v = lt::roundTo(dt, v);
              auto dy = lt::randomValues(n, ++seed, dt);
              auto dx0 = lt::randomValues(n, ++seed, dt);
              lt::Buffer bx(h, tx.bytes(), dt), by(h, ty.bytes(), dt), bdy(h, tdy.bytes(), dt), bdx(h, tdx.bytes(), dt);
              lt::upload(h, tx, x, bx.p);
              lt::upload(h, ty, y, by.p);
              lt::upload(h, tdy, dy, bdy.p);
              void *dxp = inPlace ? bdy.p : bdx.p;
              if (inPlace)
                dx0 = dy;
              else if (beta != 0)
                lt::upload(h, tdx, dx0, bdx.p);
              lt::Scalar a(alpha), b(beta);
              LAMINA_ASSERT_OK(
                  laminaActivationBackward(h, act, a.ptr(dt), ty, by.p, tdy, bdy.p, tx, bx.p, b.ptr(dt), tdx, dxp));
              auto ref = ref::activationBackward(m.mode, m.coef, x, y, dy);
              for (size_t i = 0; i < ref.size(); ++i)
                ref[i] = alpha * ref[i] + (beta != 0 ? beta * dx0[i] : 0.0);
              EXPECT_TRUE(lt::allClose(lt::download(h, tdx, dxp), ref, lt::tolerance(dt)));
            }
}

// A stride-0 (broadcast) input is legal: x repeats along N and H, y is a full tensor.
TEST(Activation, BroadcastInput) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  const std::vector<int64_t> dims = {2, 3, 4, 5};
  lt::Tensor tx(dt, dims, std::vector<int64_t>{0, 5, 0, 1}), ty(dt, dims);
  lt::Buffer bx(h, tx.bytes(), dt), by(h, ty.bytes(), dt);
  lt::upload(h, tx, lt::randomValues(tx.numel(), 1, dt, -3, 3), bx.p);
  const auto x = lt::download(h, tx, bx.p); // the values as the broadcast view sees them
  lt::Scalar one(1), zero(0);
  for (const Mode &m : kModes) {
    SCOPED_TRACE(int(m.mode));
    ActDesc act(m.mode, m.coef);
    LAMINA_ASSERT_OK(laminaActivationForward(h, act, one.ptr(dt), tx, bx.p, zero.ptr(dt), ty, by.p));
    EXPECT_TRUE(
        lt::allClose(lt::download(h, ty, by.p), ref::activationForward(m.mode, m.coef, false, x), lt::tolerance(dt)));
  }
}

// Big enough to be split across threads, on the dense path (NCHW) and the strided one.
TEST(Activation, LargeThreaded) {
  LT_HANDLE_OR_SKIP(h);
  LAMINA_ASSERT_OK(laminaSetNumThreads(h, 4)); // several threads whatever the machine
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  const std::vector<int64_t> dims = {2, 16, 32, 33}; // a few kGrain chunks
  for (const Mode &m : {kModes[2], kModes[4]})
    for (Layout l : {Layout::NCHW, Layout::Strided}) {
      SCOPED_TRACE(std::to_string(m.mode) + lt::layoutName(l));
      ActDesc act(m.mode, m.coef);
      lt::Tensor t(dt, dims, l);
      auto x = lt::randomValues(t.numel(), 3, dt, -3, 3);
      auto dy = lt::randomValues(t.numel(), 4, dt);
      lt::Buffer bx(h, t.bytes(), dt), by(h, t.bytes(), dt), bdy(h, t.bytes(), dt), bdx(h, t.bytes(), dt);
      lt::upload(h, t, x, bx.p);
      lt::upload(h, t, dy, bdy.p);
      lt::Scalar one(1), zero(0);
      LAMINA_ASSERT_OK(laminaActivationForward(h, act, one.ptr(dt), t, bx.p, zero.ptr(dt), t, by.p));
      auto y = lt::download(h, t, by.p);
      EXPECT_TRUE(lt::allClose(y, ref::activationForward(m.mode, m.coef, false, x), lt::tolerance(dt)));
      LAMINA_ASSERT_OK(
          laminaActivationBackward(h, act, one.ptr(dt), t, by.p, t, bdy.p, t, bx.p, zero.ptr(dt), t, bdx.p));
      EXPECT_TRUE(lt::allClose(lt::download(h, t, bdx.p), ref::activationBackward(m.mode, m.coef, x, y, dy),
                               lt::tolerance(dt)));
    }
}

// CUDA, a tensor of more than 2^31 elements (half, 2^31 + 2^20 of them, 4.3 GB a buffer): ReLU
// forward must reach every element with the right offset past 2^31. x is set to -1 on the device,
// then small patterns are copied into three windows (start, around 2^31, end); y is set to 7 first,
// so an element the kernel misses or misplaces shows.
TEST(Activation, CudaMoreThan2Pow31Elements) {
  if (lt::testBackend() != LAMINA_BACKEND_CUDA)
    GTEST_SKIP() << "a 4.3 GB tensor, run on the CUDA backend only";
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_HALF;
  const int64_t n = (int64_t(1) << 31) + (int64_t(1) << 20);
  lt::Tensor t(dt, {2049, 1, 1024, 1024}); // 2049 * 2^20 = n, packed
  ASSERT_EQ(t.numel(), n);
  const size_t bytes = size_t(n) * 2;
  void *x = nullptr, *y = nullptr;
  LAMINA_ASSERT_OK(laminaMalloc(h, &x, bytes));
  struct Free {
    laminaHandle_t h;
    void *&x, *&y;
    ~Free() {
      laminaFree(h, x);
      laminaFree(h, y);
    }
  } release{h, x, y};
  LAMINA_ASSERT_OK(laminaMalloc(h, &y, bytes));
  lt::Scalar minusOne(-1.0), seven(7.0), one(1.0), zero(0.0);
  LAMINA_ASSERT_OK(laminaSetTensor(h, t, x, minusOne.ptr(dt)));
  LAMINA_ASSERT_OK(laminaSetTensor(h, t, y, seven.ptr(dt)));
  // Windows of 4096 elements; the pattern (exact in half) has positives and negatives.
  const int64_t w = 4096;
  const int64_t starts[] = {0, (int64_t(1) << 31) - w / 2, n - w};
  auto pattern = [](int64_t i) { return double(i % 1000 - 500) / 8.0; };
  for (int64_t s : starts) {
    std::vector<uint16_t> host(size_t(w), 0);
    for (int64_t i = 0; i < w; ++i)
      lt::storeValue(dt, host.data(), i, pattern(s + i));
    LAMINA_ASSERT_OK(
        laminaMemcpy(h, static_cast<uint16_t *>(x) + s, host.data(), size_t(w) * 2, LAMINA_MEMCPY_HOST_TO_DEVICE));
  }
  ActDesc act(LAMINA_ACTIVATION_RELU, 0);
  LAMINA_ASSERT_OK(laminaActivationForward(h, act, one.ptr(dt), t, x, zero.ptr(dt), t, y));
  for (int64_t s : starts) {
    SCOPED_TRACE("window at " + std::to_string(s));
    std::vector<uint16_t> host(size_t(w), 0);
    LAMINA_ASSERT_OK(laminaMemcpy(h, host.data(), static_cast<const uint16_t *>(y) + s, size_t(w) * 2,
                                  LAMINA_MEMCPY_DEVICE_TO_HOST));
    int bad = 0;
    for (int64_t i = 0; i < w && bad < 5; ++i) {
      const double want = std::max(pattern(s + i), 0.0), got = lt::loadValue(dt, host.data(), i);
      if (got != want) {
        ADD_FAILURE() << "y[" << s + i << "] = " << got << ", want " << want;
        ++bad;
      }
    }
  }
  // Elements between the windows held -1: ReLU gives 0 (7 would mean the kernel skipped them).
  for (int64_t i : {int64_t(w), int64_t(1) << 30, (int64_t(1) << 31) + w, (int64_t(1) << 31) + (int64_t(1) << 19)}) {
    uint16_t v = 0;
    LAMINA_ASSERT_OK(laminaMemcpy(h, &v, static_cast<const uint16_t *>(y) + i, 2, LAMINA_MEMCPY_DEVICE_TO_HOST));
    EXPECT_EQ(lt::loadValue(dt, &v, 0), 0.0) << "y[" << i << "]";
  }
}

// Finite differences of L(x) = sum(w * act(x)) through the library's forward, against its backward.
TEST(Activation, GradientCheck) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_DOUBLE;
  const std::vector<int64_t> dims = {2, 3, 2, 3};
  for (const Mode &m : kModes) {
    SCOPED_TRACE(int(m.mode));
    ActDesc act(m.mode, m.coef);
    lt::Tensor t(dt, dims, Layout::Strided);
    const int64_t n = t.numel();
    auto x = lt::randomValues(n, 7, dt, -3, 3);
    for (auto &v : x) // keep away from the kinks at 0 and at the clipped-ReLU ceiling
      if (std::fabs(v) < 0.05 || std::fabs(v - m.coef) < 0.05)
        v += 0.2;
    auto w = lt::randomValues(n, 8, dt);
    lt::Buffer bx(h, t.bytes(), dt), by(h, t.bytes(), dt), bw(h, t.bytes(), dt), bdx(h, t.bytes(), dt);
    lt::Scalar one(1), zero(0);
    auto forward = [&](const std::vector<double> &xv) {
      lt::upload(h, t, xv, bx.p);
      EXPECT_EQ(laminaActivationForward(h, act, one.ptr(dt), t, bx.p, zero.ptr(dt), t, by.p), LAMINA_STATUS_SUCCESS);
      return lt::download(h, t, by.p);
    };
    auto loss = [&](const std::vector<double> &xv) {
      auto yv = forward(xv);
      double s = 0;
      for (int64_t i = 0; i < n; ++i)
        s += w[size_t(i)] * yv[size_t(i)];
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
    forward(x); // by holds y(x)
    lt::upload(h, t, w, bw.p);
    LAMINA_ASSERT_OK(laminaActivationBackward(h, act, one.ptr(dt), t, by.p, t, bw.p, t, bx.p, zero.ptr(dt), t, bdx.p));
    EXPECT_TRUE(lt::allClose(lt::download(h, t, bdx.p), num, 1e-6));
  }
}

TEST(Activation, NanPropagation) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  lt::Tensor t(dt, {1, 1, 1, 4});
  lt::Buffer bx(h, t.bytes(), dt), by(h, t.bytes(), dt);
  lt::upload(h, t, {NAN, -1.0, 0.5, 3.0}, bx.p);
  lt::Scalar one(1), zero(0);
  for (auto mode : {LAMINA_ACTIVATION_RELU, LAMINA_ACTIVATION_CLIPPED_RELU})
    for (auto nan : {LAMINA_NOT_PROPAGATE_NAN, LAMINA_PROPAGATE_NAN}) {
      ActDesc act(mode, 2.0, nan);
      LAMINA_ASSERT_OK(laminaActivationForward(h, act, one.ptr(dt), t, bx.p, zero.ptr(dt), t, by.p));
      auto y = lt::download(h, t, by.p);
      EXPECT_EQ(std::isnan(y[0]), nan == LAMINA_PROPAGATE_NAN) << mode << " " << nan;
      if (nan == LAMINA_NOT_PROPAGATE_NAN)
        EXPECT_EQ(y[0], 0.0);
      EXPECT_EQ(y[1], 0.0);
      EXPECT_EQ(y[2], 0.5);
      EXPECT_EQ(y[3], mode == LAMINA_ACTIVATION_RELU ? 3.0 : 2.0);
    }
}

TEST(Activation, DescriptorSetGetAndBadValues) {
  laminaActivationDescriptor_t d;
  LAMINA_ASSERT_OK(laminaCreateActivationDescriptor(&d));
  laminaActivationMode_t mode;
  laminaNanPropagation_t nan;
  double coef;
  LAMINA_EXPECT_STATUS(laminaGetActivationDescriptor(d, &mode, &nan, &coef), LAMINA_STATUS_NOT_INITIALIZED, "desc");
  LAMINA_ASSERT_OK(laminaSetActivationDescriptor(d, LAMINA_ACTIVATION_ELU, LAMINA_PROPAGATE_NAN, 0.5));
  LAMINA_ASSERT_OK(laminaGetActivationDescriptor(d, &mode, &nan, &coef));
  EXPECT_EQ(mode, LAMINA_ACTIVATION_ELU);
  EXPECT_EQ(nan, LAMINA_PROPAGATE_NAN);
  EXPECT_EQ(coef, 0.5);
  LAMINA_EXPECT_STATUS(laminaSetActivationDescriptor(d, laminaActivationMode_t(7), LAMINA_PROPAGATE_NAN, 0),
                       LAMINA_STATUS_BAD_PARAM, "mode");
  LAMINA_EXPECT_STATUS(laminaSetActivationDescriptor(d, laminaActivationMode_t(-1), LAMINA_PROPAGATE_NAN, 0),
                       LAMINA_STATUS_BAD_PARAM, "mode");
  LAMINA_EXPECT_STATUS(laminaSetActivationDescriptor(d, LAMINA_ACTIVATION_RELU, laminaNanPropagation_t(2), 0),
                       LAMINA_STATUS_BAD_PARAM, "nan");
  LAMINA_EXPECT_STATUS(laminaSetActivationDescriptor(d, LAMINA_ACTIVATION_CLIPPED_RELU, LAMINA_PROPAGATE_NAN, 0),
                       LAMINA_STATUS_BAD_PARAM, "coef");
  LAMINA_EXPECT_STATUS(laminaSetActivationDescriptor(d, LAMINA_ACTIVATION_ELU, LAMINA_PROPAGATE_NAN, -1),
                       LAMINA_STATUS_BAD_PARAM, "coef");
  LAMINA_EXPECT_STATUS(laminaSetActivationDescriptor(d, LAMINA_ACTIVATION_LEAKY_RELU, LAMINA_PROPAGATE_NAN, NAN),
                       LAMINA_STATUS_BAD_PARAM, "coef");
  // A failed set leaves the previous value.
  LAMINA_ASSERT_OK(laminaGetActivationDescriptor(d, &mode, &nan, &coef));
  EXPECT_EQ(mode, LAMINA_ACTIVATION_ELU);
  LAMINA_EXPECT_STATUS(laminaSetActivationDescriptor(nullptr, LAMINA_ACTIVATION_RELU, LAMINA_PROPAGATE_NAN, 0),
                       LAMINA_STATUS_NULL_POINTER, "desc");
  LAMINA_EXPECT_STATUS(laminaCreateActivationDescriptor(nullptr), LAMINA_STATUS_NULL_POINTER, "desc");
  LAMINA_EXPECT_OK(laminaDestroyActivationDescriptor(d));
  LAMINA_EXPECT_OK(laminaDestroyActivationDescriptor(nullptr));
}

TEST(Activation, BadInput) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  ActDesc act(LAMINA_ACTIVATION_RELU, 0);
  lt::Tensor x(dt, {2, 3, 4, 5}), y(dt, {2, 3, 4, 5}), yBad(dt, {2, 3, 4, 6}), yHalf(LAMINA_DATA_HALF, {2, 3, 4, 5});
  lt::Tensor yNhwc(dt, {2, 3, 4, 5}, Layout::NHWC), xInt(LAMINA_DATA_INT32, {2, 3, 4, 5});
  lt::Tensor yOverlap(dt, {2, 3, 4, 5}, {0, 20, 5, 1});
  lt::Buffer bx(h, x.bytes()), by(h, y.bytes());
  lt::Scalar one(1), zero(0);
  const void *a = one.ptr(dt), *b = zero.ptr(dt);
  laminaTensorDescriptor_t unset;
  laminaCreateTensorDescriptor(&unset);
  laminaActivationDescriptor_t actUnset;
  laminaCreateActivationDescriptor(&actUnset);
  auto fwd = [&](laminaHandle_t hh, laminaActivationDescriptor_t ad, const void *al, laminaTensorDescriptor_t xd,
                 const void *xp, const void *be, laminaTensorDescriptor_t yd,
                 void *yp) { return laminaActivationForward(hh, ad, al, xd, xp, be, yd, yp); };
  LAMINA_EXPECT_STATUS(fwd(nullptr, act, a, x, bx.p, b, y, by.p), LAMINA_STATUS_NULL_POINTER, "handle");
  LAMINA_EXPECT_STATUS(fwd(h, nullptr, a, x, bx.p, b, y, by.p), LAMINA_STATUS_NULL_POINTER, "act");
  LAMINA_EXPECT_STATUS(fwd(h, actUnset, a, x, bx.p, b, y, by.p), LAMINA_STATUS_NOT_INITIALIZED, "act");
  LAMINA_EXPECT_STATUS(fwd(h, reinterpret_cast<laminaActivationDescriptor_t>(x.d), a, x, bx.p, b, y, by.p),
                       LAMINA_STATUS_WRONG_DESCRIPTOR, "act");
  LAMINA_EXPECT_STATUS(fwd(h, act, nullptr, x, bx.p, b, y, by.p), LAMINA_STATUS_NULL_POINTER, "alpha");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, x, bx.p, nullptr, y, by.p), LAMINA_STATUS_NULL_POINTER, "beta");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, nullptr, bx.p, b, y, by.p), LAMINA_STATUS_NULL_POINTER, "'x'");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, unset, bx.p, b, y, by.p), LAMINA_STATUS_NOT_INITIALIZED, "'x'");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, x, nullptr, b, y, by.p), LAMINA_STATUS_NULL_POINTER, "xData");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, x, bx.p, b, nullptr, by.p), LAMINA_STATUS_NULL_POINTER, "'y'");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, x, bx.p, b, y, nullptr), LAMINA_STATUS_NULL_POINTER, "yData");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, x, bx.p, b, yBad, by.p), LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, x, bx.p, b, yHalf, by.p), LAMINA_STATUS_TYPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, xInt, bx.p, b, y, by.p), LAMINA_STATUS_NOT_SUPPORTED, "'x'");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, x, bx.p, b, yOverlap, by.p), LAMINA_STATUS_BAD_STRIDES, "'y'");
  LAMINA_EXPECT_STATUS(fwd(h, act, a, x, bx.p, b, yNhwc, bx.p), LAMINA_STATUS_BAD_PARAM, "in-place");

  lt::Buffer bdy(h, x.bytes()), bdx(h, x.bytes());
  auto bwd = [&](laminaHandle_t hh, laminaActivationDescriptor_t ad, const void *al, laminaTensorDescriptor_t yd,
                 const void *yp, laminaTensorDescriptor_t dyd, const void *dyp, laminaTensorDescriptor_t xd,
                 const void *xp, const void *be, laminaTensorDescriptor_t dxd,
                 void *dxp) { return laminaActivationBackward(hh, ad, al, yd, yp, dyd, dyp, xd, xp, be, dxd, dxp); };
  LAMINA_EXPECT_OK(bwd(h, act, a, y, by.p, y, bdy.p, x, bx.p, b, x, bdx.p));
  LAMINA_EXPECT_STATUS(bwd(nullptr, act, a, y, by.p, y, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_NULL_POINTER,
                       "handle");
  LAMINA_EXPECT_STATUS(bwd(h, nullptr, a, y, by.p, y, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_NULL_POINTER, "act");
  LAMINA_EXPECT_STATUS(bwd(h, act, nullptr, y, by.p, y, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_NULL_POINTER,
                       "alpha");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, y, bdy.p, x, bx.p, nullptr, x, bdx.p), LAMINA_STATUS_NULL_POINTER,
                       "beta");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, nullptr, by.p, y, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_NULL_POINTER,
                       "'y'");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, nullptr, y, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_NULL_POINTER, "yData");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, nullptr, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_NULL_POINTER,
                       "'dy'");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, y, nullptr, x, bx.p, b, x, bdx.p), LAMINA_STATUS_NULL_POINTER, "dyData");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, y, bdy.p, nullptr, bx.p, b, x, bdx.p), LAMINA_STATUS_NULL_POINTER,
                       "'x'");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, y, bdy.p, x, nullptr, b, x, bdx.p), LAMINA_STATUS_NULL_POINTER, "xData");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, y, bdy.p, x, bx.p, b, nullptr, bdx.p), LAMINA_STATUS_NULL_POINTER,
                       "'dx'");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, y, bdy.p, x, bx.p, b, x, nullptr), LAMINA_STATUS_NULL_POINTER, "dxData");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, yBad, by.p, y, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, yBad, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_SHAPE_MISMATCH,
                       "'dy'");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, y, bdy.p, x, bx.p, b, yBad, bdx.p), LAMINA_STATUS_SHAPE_MISMATCH,
                       "'dx'");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, yHalf, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_TYPE_MISMATCH,
                       "'dy'");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, y, bdy.p, x, bx.p, b, yOverlap, bdx.p), LAMINA_STATUS_BAD_STRIDES,
                       "'dx'");
  LAMINA_EXPECT_STATUS(bwd(h, act, a, y, by.p, y, bdy.p, x, bx.p, b, yNhwc, bdy.p), LAMINA_STATUS_BAD_PARAM,
                       "in-place");
  laminaDestroyTensorDescriptor(unset);
  laminaDestroyActivationDescriptor(actUnset);
}

} // namespace
