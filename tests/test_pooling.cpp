// Pooling forward/backward against the fp64 reference over tests/problems/pooling.csv, gradient
// checks, NaN propagation, descriptors and bad input.
#include "common/problem_list.h"
#include "common/test_util.h"
#include "reference/pooling_ref.h"

#include <cmath>

namespace {

using lt::Layout;

const laminaPoolingMode_t kModes[] = {LAMINA_POOLING_MAX, LAMINA_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                                      LAMINA_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING};
const std::pair<double, double> kAlphaBeta[] = {{1.0, 0.0}, {0.7, 0.3}, {-2.0, 1.0}};
const Layout kLayouts[] = {Layout::NCHW, Layout::NHWC, Layout::Strided};

struct Problem {
  std::string name;
  std::vector<int64_t> inDims; // N, C, spatial...
  ref::PoolParams p;
};

std::vector<Problem> loadProblems() {
  std::vector<Problem> out;
  // beside this source file, so the program runs from any directory
  std::string path = __FILE__;
  path = path.substr(0, path.find_last_of('/') + 1) + "problems/pooling.csv";
  for (const auto &r : lt::loadProblemList(path)) {
    Problem pr;
    pr.name = r.str("name");
    const int sd = int(r.num("spatial"));
    pr.p.spatialDims = sd;
    pr.p.ceilMode = r.num("ceil", 0) != 0;
    const char *axes[3] = {"d", "h", "w"};
    const char *sizes[3] = {"D", "H", "W"};
    pr.inDims = {r.num("N"), r.num("C")};
    for (int i = 0; i < sd; ++i) {
      const int a = 3 - sd + i; // the last sd of D, H, W
      pr.inDims.push_back(r.num(sizes[a]));
      pr.p.window[i] = r.num(std::string("win_") + axes[a]);
      pr.p.pad[i] = r.num(std::string("pad_") + axes[a]);
      pr.p.stride[i] = r.num(std::string("stride_") + axes[a]);
    }
    out.push_back(pr);
  }
  return out;
}

struct PoolDesc {
  laminaPoolingDescriptor_t d = nullptr;
  PoolDesc(const ref::PoolParams &p, laminaPoolingMode_t mode, laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN) {
    laminaCreatePoolingDescriptor(&d);
    if (laminaSetPoolingNdDescriptor(d, mode, nan, p.spatialDims, p.window, p.pad, p.stride) != LAMINA_STATUS_SUCCESS ||
        laminaSetPoolingCeilMode(d, p.ceilMode ? 1 : 0) != LAMINA_STATUS_SUCCESS)
      ADD_FAILURE() << laminaGetLastErrorMessage();
  }
  ~PoolDesc() { laminaDestroyPoolingDescriptor(d); }
  operator laminaPoolingDescriptor_t() const { return d; }
};

ref::PoolParams withMode(ref::PoolParams p, laminaPoolingMode_t mode, bool nanProp = false) {
  p.mode = int(mode);
  p.nanPropagate = nanProp;
  return p;
}

// Elements of the buffer's span that are not elements of t (stride gaps) must still hold the NaN the
// test wrote there: nothing may be written outside the tensor.
TEST(Pooling, OutputDimsMatchReference) {
  for (const auto &pr : loadProblems()) {
    SCOPED_TRACE(pr.name);
    PoolDesc pd(pr.p, LAMINA_POOLING_MAX);
    lt::Tensor x(LAMINA_DATA_FLOAT, pr.inDims);
    std::vector<int64_t> out(pr.inDims.size());
    LAMINA_ASSERT_OK(laminaGetPoolingNdForwardOutputDim(pd, x, int(out.size()), out.data()));
    EXPECT_EQ(out, ref::poolOutputDims(pr.p, pr.inDims));
  }
}

TEST(Pooling, CeilModeFollowsCaffe) {
  // in 3, window 2, pad 1, stride 2: ceil((3+2-2)/2)+1 = 3, but the third window would start in the
  // trailing padding, so 2. Floor mode gives 2 as well; in 6, window 3, stride 2: floor 2, ceil 3.
  lt::Tensor x(LAMINA_DATA_FLOAT, {1, 1, 3, 6});
  laminaPoolingDescriptor_t d;
  LAMINA_ASSERT_OK(laminaCreatePoolingDescriptor(&d));
  const int64_t win[2] = {2, 3}, pad[2] = {1, 0}, str[2] = {2, 2};
  LAMINA_ASSERT_OK(laminaSetPoolingNdDescriptor(d, LAMINA_POOLING_MAX, LAMINA_NOT_PROPAGATE_NAN, 2, win, pad, str));
  int64_t out[4];
  LAMINA_ASSERT_OK(laminaGetPoolingNdForwardOutputDim(d, x, 4, out));
  EXPECT_EQ(out[2], 2);
  EXPECT_EQ(out[3], 2);
  LAMINA_ASSERT_OK(laminaSetPoolingCeilMode(d, 1));
  LAMINA_ASSERT_OK(laminaGetPoolingNdForwardOutputDim(d, x, 4, out));
  EXPECT_EQ(out[2], 2);
  EXPECT_EQ(out[3], 3);
  int ceil = -1;
  LAMINA_ASSERT_OK(laminaGetPoolingCeilMode(d, &ceil));
  EXPECT_EQ(ceil, 1);
  laminaDestroyPoolingDescriptor(d);
}

TEST(Pooling, ForwardMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  uint64_t seed = 1;
  for (const auto &pr : loadProblems())
    for (auto mode : kModes)
      for (laminaDataType_t dt : lt::floatTypes())
        for (Layout l : kLayouts)
          for (auto [alpha, beta] : kAlphaBeta) {
            SCOPED_TRACE(pr.name + " mode " + std::to_string(mode) + " " + lt::dtypeName(dt) + " " + lt::layoutName(l) +
                         " alpha " + std::to_string(alpha) + " beta " + std::to_string(beta));
            const auto p = withMode(pr.p, mode);
            const auto outDims = ref::poolOutputDims(p, pr.inDims);
            PoolDesc pd(p, mode);
            // y in another layout than x (strides exercised independently), except NHWC: both channels-last
            // for the channels-last fast path
            const Layout yl = l == Layout::NCHW ? Layout::Strided : l == Layout::NHWC ? Layout::NHWC : Layout::NCHW;
            lt::Tensor tx(dt, pr.inDims, l), ty(dt, outDims, yl);
            auto x = lt::randomValues(tx.numel(), ++seed, dt, -2, 2);
            auto y0 = lt::randomValues(ty.numel(), ++seed, dt);
            lt::Buffer bx(h, tx.bytes(), dt), by(h, ty.bytes(), dt);
            lt::upload(h, tx, x, bx.p);
            if (beta != 0)
              lt::upload(h, ty, y0, by.p); // beta == 0: y stays NaN and must not leak
            lt::Scalar a(alpha), b(beta);
            LAMINA_ASSERT_OK(laminaPoolingForward(h, pd, a.ptr(dt), tx, bx.p, b.ptr(dt), ty, by.p));
            auto ref = ref::poolForward(p, pr.inDims, x);
            for (size_t i = 0; i < ref.size(); ++i)
              ref[i] = alpha * ref[i] + (beta != 0 ? beta * y0[i] : 0.0);
            EXPECT_TRUE(lt::allClose(lt::download(h, ty, by.p), ref, lt::tolerance(dt)));
            EXPECT_TRUE(lt::gapsUntouched(h, ty, by.p));
          }
}

TEST(Pooling, BackwardMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  uint64_t seed = 9000;
  for (const auto &pr : loadProblems())
    for (auto mode : kModes)
      for (laminaDataType_t dt : lt::floatTypes())
        for (Layout l : kLayouts)
          for (auto [alpha, beta] : kAlphaBeta) {
            SCOPED_TRACE(pr.name + " mode " + std::to_string(mode) + " " + lt::dtypeName(dt) + " " + lt::layoutName(l) +
                         " alpha " + std::to_string(alpha) + " beta " + std::to_string(beta));
            const auto p = withMode(pr.p, mode);
            const auto outDims = ref::poolOutputDims(p, pr.inDims);
            PoolDesc pd(p, mode);
            const Layout other = l == Layout::NCHW ? Layout::Strided : l == Layout::NHWC ? Layout::NHWC : Layout::NCHW;
            lt::Tensor tx(dt, pr.inDims, l), tdx(dt, pr.inDims, other), ty(dt, outDims, l), tdy(dt, outDims, other);
            auto x = lt::randomValues(tx.numel(), ++seed, dt, -2, 2);
            auto y = ref::poolForward(p, pr.inDims, x);
            for (auto &v : y)
              v = lt::roundTo(dt, v);
            auto dy = lt::randomValues(ty.numel(), ++seed, dt);
            auto dx0 = lt::randomValues(tx.numel(), ++seed, dt);
            lt::Buffer bx(h, tx.bytes(), dt), by(h, ty.bytes(), dt), bdy(h, tdy.bytes(), dt), bdx(h, tdx.bytes(), dt);
            lt::upload(h, tx, x, bx.p);
            lt::upload(h, ty, y, by.p);
            lt::upload(h, tdy, dy, bdy.p);
            if (beta != 0)
              lt::upload(h, tdx, dx0, bdx.p);
            lt::Scalar a(alpha), b(beta);
            LAMINA_ASSERT_OK(
                laminaPoolingBackward(h, pd, a.ptr(dt), ty, by.p, tdy, bdy.p, tx, bx.p, b.ptr(dt), tdx, bdx.p));
            auto ref = ref::poolBackward(p, pr.inDims, x, dy);
            for (size_t i = 0; i < ref.size(); ++i)
              ref[i] = alpha * ref[i] + (beta != 0 ? beta * dx0[i] : 0.0);
            EXPECT_TRUE(lt::allClose(lt::download(h, tdx, bdx.p), ref, lt::tolerance(dt)));
            EXPECT_TRUE(lt::gapsUntouched(h, tdx, bdx.p));
          }
}

// Big enough to be split across threads.
TEST(Pooling, LargeThreaded) {
  LT_HANDLE_OR_SKIP(h);
  LAMINA_ASSERT_OK(laminaSetNumThreads(h, 4)); // several threads whatever the machine
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  ref::PoolParams p;
  p.window[0] = p.window[1] = 3;
  p.pad[0] = p.pad[1] = 1;
  p.stride[0] = p.stride[1] = 2;
  const std::vector<int64_t> inDims = {2, 16, 17, 19}; // several work chunks on every path
  for (auto mode : {LAMINA_POOLING_MAX, LAMINA_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING})
    for (Layout l : {Layout::NCHW, Layout::NHWC}) {
      SCOPED_TRACE(std::to_string(mode) + lt::layoutName(l));
      const auto pm = withMode(p, mode);
      const auto outDims = ref::poolOutputDims(pm, inDims);
      PoolDesc pd(pm, mode);
      lt::Tensor tx(dt, inDims, l), ty(dt, outDims, l);
      auto x = lt::randomValues(tx.numel(), 5, dt);
      auto dy = lt::randomValues(ty.numel(), 6, dt);
      lt::Buffer bx(h, tx.bytes(), dt), by(h, ty.bytes(), dt), bdy(h, ty.bytes(), dt), bdx(h, tx.bytes(), dt);
      lt::upload(h, tx, x, bx.p);
      lt::upload(h, ty, dy, bdy.p);
      lt::Scalar one(1), zero(0);
      LAMINA_ASSERT_OK(laminaPoolingForward(h, pd, one.ptr(dt), tx, bx.p, zero.ptr(dt), ty, by.p));
      EXPECT_TRUE(lt::allClose(lt::download(h, ty, by.p), ref::poolForward(pm, inDims, x), lt::tolerance(dt)));
      LAMINA_ASSERT_OK(
          laminaPoolingBackward(h, pd, one.ptr(dt), ty, by.p, ty, bdy.p, tx, bx.p, zero.ptr(dt), tx, bdx.p));
      EXPECT_TRUE(lt::allClose(lt::download(h, tx, bdx.p), ref::poolBackward(pm, inDims, x, dy), lt::tolerance(dt)));
    }
}

TEST(Pooling, GradientCheck) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_DOUBLE;
  for (const auto &pr : loadProblems()) {
    if (pr.inDims[0] * pr.inDims[1] > 2 && pr.p.spatialDims == 3)
      continue; // keep it quick
    for (auto mode : kModes) {
      SCOPED_TRACE(pr.name + " mode " + std::to_string(mode));
      const auto p = withMode(pr.p, mode);
      const auto outDims = ref::poolOutputDims(p, pr.inDims);
      PoolDesc pd(p, mode);
      lt::Tensor tx(dt, pr.inDims, Layout::NHWC), ty(dt, outDims, Layout::NHWC);
      const int64_t n = tx.numel();
      auto x = lt::randomValues(n, 21, dt, -2, 2); // distinct values: the max is unique
      auto w = lt::randomValues(ty.numel(), 22, dt);
      lt::Buffer bx(h, tx.bytes(), dt), by(h, ty.bytes(), dt), bw(h, ty.bytes(), dt), bdx(h, tx.bytes(), dt);
      lt::Scalar one(1), zero(0);
      auto loss = [&](const std::vector<double> &xv) {
        lt::upload(h, tx, xv, bx.p);
        EXPECT_EQ(laminaPoolingForward(h, pd, one.ptr(dt), tx, bx.p, zero.ptr(dt), ty, by.p), LAMINA_STATUS_SUCCESS);
        auto yv = lt::download(h, ty, by.p);
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
      lt::upload(h, ty, w, bw.p);
      LAMINA_ASSERT_OK(
          laminaPoolingBackward(h, pd, one.ptr(dt), ty, by.p, ty, bw.p, tx, bx.p, zero.ptr(dt), tx, bdx.p));
      EXPECT_TRUE(lt::allClose(lt::download(h, tx, bdx.p), num, 1e-6));
    }
  }
}

TEST(Pooling, MaxTiesAndNan) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  ref::PoolParams p; // 2x2 window, stride 2 over 1xCx2x4: two windows per channel
  p.window[0] = p.window[1] = 2;
  p.stride[0] = p.stride[1] = 2;
  // window 0: {5, NaN, 5, 1} (a tie and a NaN); window 1: {NaN, 2, 7, 3}. C = 1 takes the generic
  // path, C = 2 in NHWC the channels-last one (both channels hold the same data).
  const std::vector<double> plane = {5, NAN, NAN, 2, 5, 1, 7, 3};
  for (int64_t C : {1, 2}) {
    const Layout l = C == 1 ? Layout::NCHW : Layout::NHWC;
    lt::Tensor tx(dt, {1, C, 2, 4}, l), ty(dt, {1, C, 1, 2}, l);
    lt::Buffer bx(h, tx.bytes(), dt), by(h, ty.bytes(), dt), bdy(h, ty.bytes(), dt), bdx(h, tx.bytes(), dt);
    std::vector<double> x, dy;
    for (int64_t c = 0; c < C; ++c) {
      x.insert(x.end(), plane.begin(), plane.end());
      dy.insert(dy.end(), {1, 10});
    }
    lt::upload(h, tx, x, bx.p);
    lt::upload(h, ty, dy, bdy.p);
    lt::Scalar one(1), zero(0);
    for (auto nan : {LAMINA_NOT_PROPAGATE_NAN, LAMINA_PROPAGATE_NAN}) {
      SCOPED_TRACE("C " + std::to_string(C) + " nan " + std::to_string(nan));
      PoolDesc pd(p, LAMINA_POOLING_MAX, nan);
      LAMINA_ASSERT_OK(laminaPoolingForward(h, pd, one.ptr(dt), tx, bx.p, zero.ptr(dt), ty, by.p));
      auto y = lt::download(h, ty, by.p);
      LAMINA_ASSERT_OK(
          laminaPoolingBackward(h, pd, one.ptr(dt), ty, by.p, ty, bdy.p, tx, bx.p, zero.ptr(dt), tx, bdx.p));
      auto dx = lt::download(h, tx, bdx.p);
      for (int64_t c = 0; c < C; ++c) {
        std::vector<double> yc(y.begin() + 2 * c, y.begin() + 2 * c + 2),
            dxc(dx.begin() + 8 * c, dx.begin() + 8 * c + 8);
        if (nan == LAMINA_NOT_PROPAGATE_NAN) {
          EXPECT_EQ(yc, (std::vector<double>{5, 7}));
          // the first of the tied maxima (scan order) gets the gradient
          EXPECT_EQ(dxc, (std::vector<double>{1, 0, 0, 0, 0, 0, 10, 0}));
        } else {
          EXPECT_TRUE(std::isnan(yc[0]) && std::isnan(yc[1]));
          EXPECT_EQ(dxc, (std::vector<double>{0, 1, 10, 0, 0, 0, 0, 0}));
        }
      }
    }
  }
}

// On the GPU, data must be device memory of the handle's GPU: a host array is refused, not read.
TEST(Pooling, HostPointerIsBadPointerOnGpu) {
  if (lt::testBackend() != LAMINA_BACKEND_CUDA)
    GTEST_SKIP() << "GPU only: on the CPU backend host memory is the backend's memory";
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  ref::PoolParams p;
  p.window[0] = p.window[1] = 2;
  p.stride[0] = p.stride[1] = 2;
  PoolDesc pd(p, LAMINA_POOLING_MAX);
  lt::Tensor x(dt, {2, 3, 6, 8}), y(dt, {2, 3, 3, 4});
  lt::Buffer bx(h, x.bytes()), by(h, y.bytes()), bdy(h, y.bytes()), bdx(h, x.bytes());
  std::vector<float> host(size_t(x.numel()), 1.0f);
  lt::Scalar one(1), zero(0);
  const void *a = one.ptr(dt), *b = zero.ptr(dt);
  const auto BP = LAMINA_STATUS_BAD_POINTER;
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, x, host.data(), b, y, by.p), BP, "xData");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, x, bx.p, b, y, host.data()), BP, "yData");
  LAMINA_EXPECT_STATUS(laminaPoolingBackward(h, pd, a, y, by.p, y, bdy.p, x, host.data(), b, x, bdx.p), BP, "xData");
  LAMINA_EXPECT_STATUS(laminaPoolingBackward(h, pd, a, y, by.p, y, bdy.p, x, bx.p, b, x, host.data()), BP, "dxData");
}

TEST(Pooling, DescriptorSetGetAndBadValues) {
  laminaPoolingDescriptor_t d;
  LAMINA_ASSERT_OK(laminaCreatePoolingDescriptor(&d));
  laminaPoolingMode_t mode;
  laminaNanPropagation_t nan;
  int sd = 0;
  int64_t win[3], pad[3], str[3];
  LAMINA_EXPECT_STATUS(laminaGetPoolingNdDescriptor(d, 3, &mode, &nan, &sd, win, pad, str),
                       LAMINA_STATUS_NOT_INITIALIZED, "desc");
  LAMINA_ASSERT_OK(laminaSetPooling2dDescriptor(d, LAMINA_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING, LAMINA_PROPAGATE_NAN,
                                                3, 4, 1, 2, 2, 3));
  LAMINA_ASSERT_OK(laminaGetPoolingNdDescriptor(d, 3, &mode, &nan, &sd, win, pad, str));
  EXPECT_EQ(mode, LAMINA_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING);
  EXPECT_EQ(nan, LAMINA_PROPAGATE_NAN);
  EXPECT_EQ(sd, 2);
  EXPECT_EQ((std::vector<int64_t>{win[0], win[1], pad[0], pad[1], str[0], str[1]}),
            (std::vector<int64_t>{3, 4, 1, 2, 2, 3}));
  const auto M = LAMINA_POOLING_MAX;
  const auto P = LAMINA_NOT_PROPAGATE_NAN;
  const auto B = LAMINA_STATUS_BAD_PARAM;
  LAMINA_EXPECT_STATUS(laminaSetPooling2dDescriptor(d, laminaPoolingMode_t(3), P, 2, 2, 0, 0, 1, 1), B, "mode");
  LAMINA_EXPECT_STATUS(laminaSetPooling2dDescriptor(d, M, laminaNanPropagation_t(5), 2, 2, 0, 0, 1, 1), B, "nan");
  LAMINA_EXPECT_STATUS(laminaSetPooling2dDescriptor(d, M, P, 0, 2, 0, 0, 1, 1), B, "window[0]");
  LAMINA_EXPECT_STATUS(laminaSetPooling2dDescriptor(d, M, P, 2, 2, 0, -1, 1, 1), B, "pads[1]");
  LAMINA_EXPECT_STATUS(laminaSetPooling2dDescriptor(d, M, P, 2, 2, 2, 0, 1, 1), B, "pads[0]");
  LAMINA_EXPECT_STATUS(laminaSetPooling2dDescriptor(d, M, P, 2, 2, 0, 0, 1, 0), B, "strides[1]");
  const int64_t w3[3] = {2, 2, 2}, p3[3] = {0, 0, 0}, s3[3] = {1, 1, 1};
  LAMINA_EXPECT_STATUS(laminaSetPoolingNdDescriptor(d, M, P, 4, w3, p3, s3), LAMINA_STATUS_BAD_DIMS, "spatialDims");
  LAMINA_EXPECT_STATUS(laminaSetPoolingNdDescriptor(d, M, P, 0, w3, p3, s3), LAMINA_STATUS_BAD_DIMS, "spatialDims");
  LAMINA_EXPECT_STATUS(laminaSetPoolingNdDescriptor(d, M, P, 3, nullptr, p3, s3), LAMINA_STATUS_NULL_POINTER, "window");
  LAMINA_EXPECT_STATUS(laminaSetPoolingNdDescriptor(d, M, P, 3, w3, nullptr, s3), LAMINA_STATUS_NULL_POINTER, "pads");
  LAMINA_EXPECT_STATUS(laminaSetPoolingNdDescriptor(d, M, P, 3, w3, p3, nullptr), LAMINA_STATUS_NULL_POINTER,
                       "strides");
  LAMINA_EXPECT_STATUS(laminaSetPoolingNdDescriptor(nullptr, M, P, 3, w3, p3, s3), LAMINA_STATUS_NULL_POINTER, "desc");
  LAMINA_EXPECT_STATUS(laminaSetPoolingCeilMode(d, 2), B, "ceilMode");
  LAMINA_EXPECT_STATUS(laminaGetPoolingCeilMode(d, nullptr), LAMINA_STATUS_NULL_POINTER, "ceilMode");
  LAMINA_EXPECT_STATUS(laminaGetPoolingNdDescriptor(d, -1, &mode, &nan, &sd, win, pad, str), B, "spatialDimsRequested");
  LAMINA_EXPECT_STATUS(laminaGetPoolingNdDescriptor(d, 2, &mode, &nan, &sd, nullptr, pad, str),
                       LAMINA_STATUS_NULL_POINTER, "window");
  // failed sets left the descriptor as it was
  LAMINA_ASSERT_OK(laminaGetPoolingNdDescriptor(d, 1, &mode, &nan, &sd, win, pad, str));
  EXPECT_EQ(mode, LAMINA_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING);
  EXPECT_EQ(win[0], 3);
  laminaTensorDescriptor_t t;
  laminaCreateTensorDescriptor(&t);
  LAMINA_EXPECT_STATUS(laminaSetPoolingCeilMode(reinterpret_cast<laminaPoolingDescriptor_t>(t), 1),
                       LAMINA_STATUS_WRONG_DESCRIPTOR, "desc");
  laminaDestroyTensorDescriptor(t);
  LAMINA_EXPECT_STATUS(laminaCreatePoolingDescriptor(nullptr), LAMINA_STATUS_NULL_POINTER, "desc");
  LAMINA_EXPECT_OK(laminaDestroyPoolingDescriptor(d));
  LAMINA_EXPECT_OK(laminaDestroyPoolingDescriptor(nullptr));
}

TEST(Pooling, BadInput) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  ref::PoolParams p;
  p.window[0] = p.window[1] = 2;
  p.stride[0] = p.stride[1] = 2;
  PoolDesc pd(p, LAMINA_POOLING_MAX);
  laminaPoolingDescriptor_t unsetPool;
  laminaCreatePoolingDescriptor(&unsetPool);
  lt::Tensor x(dt, {2, 3, 6, 8}), y(dt, {2, 3, 3, 4}), yBad(dt, {2, 3, 3, 5}), yHalf(LAMINA_DATA_HALF, {2, 3, 3, 4});
  lt::Tensor x5(dt, {2, 3, 2, 6, 8}), xInt(LAMINA_DATA_INT32, {2, 3, 6, 8}), yInt(LAMINA_DATA_INT32, {2, 3, 3, 4});
  lt::Tensor xTiny(dt, {2, 3, 1, 8}), yOverlap(dt, {2, 3, 3, 4}, {12, 0, 4, 1}), xBad(dt, {2, 3, 6, 9});
  lt::Buffer bx(h, x5.bytes()), by(h, y.bytes()), bdy(h, y.bytes()), bdx(h, x.bytes());
  lt::Scalar one(1), zero(0);
  const void *a = one.ptr(dt), *b = zero.ptr(dt);
  const auto NP = LAMINA_STATUS_NULL_POINTER;

  int64_t out[5];
  LAMINA_EXPECT_STATUS(laminaGetPoolingNdForwardOutputDim(nullptr, x, 4, out), NP, "desc");
  LAMINA_EXPECT_STATUS(laminaGetPoolingNdForwardOutputDim(unsetPool, x, 4, out), LAMINA_STATUS_NOT_INITIALIZED, "desc");
  LAMINA_EXPECT_STATUS(laminaGetPoolingNdForwardOutputDim(pd, nullptr, 4, out), NP, "'x'");
  LAMINA_EXPECT_STATUS(laminaGetPoolingNdForwardOutputDim(pd, x, 4, nullptr), NP, "outDims");
  LAMINA_EXPECT_STATUS(laminaGetPoolingNdForwardOutputDim(pd, x, 5, out), LAMINA_STATUS_BAD_DIMS, "nbDims");
  LAMINA_EXPECT_STATUS(laminaGetPoolingNdForwardOutputDim(pd, x5, 5, out), LAMINA_STATUS_BAD_DIMS, "'x'");
  LAMINA_EXPECT_STATUS(laminaGetPoolingNdForwardOutputDim(pd, xTiny, 4, out), LAMINA_STATUS_SHAPE_MISMATCH,
                       "window[0]");

  LAMINA_EXPECT_OK(laminaPoolingForward(h, pd, a, x, bx.p, b, y, by.p));
  LAMINA_EXPECT_STATUS(laminaPoolingForward(nullptr, pd, a, x, bx.p, b, y, by.p), NP, "handle");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, nullptr, a, x, bx.p, b, y, by.p), NP, "pool");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, unsetPool, a, x, bx.p, b, y, by.p), LAMINA_STATUS_NOT_INITIALIZED,
                       "pool");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, nullptr, x, bx.p, b, y, by.p), NP, "alpha");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, x, bx.p, nullptr, y, by.p), NP, "beta");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, nullptr, bx.p, b, y, by.p), NP, "'x'");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, x, nullptr, b, y, by.p), NP, "xData");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, x, bx.p, b, nullptr, by.p), NP, "'y'");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, x, bx.p, b, y, nullptr), NP, "yData");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, x, bx.p, b, yBad, by.p), LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, x, bx.p, b, yHalf, by.p), LAMINA_STATUS_TYPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, xInt, bx.p, b, yInt, by.p), LAMINA_STATUS_NOT_SUPPORTED, "'x'");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, x5, bx.p, b, y, by.p), LAMINA_STATUS_BAD_DIMS, "'x'");
  LAMINA_EXPECT_STATUS(laminaPoolingForward(h, pd, a, x, bx.p, b, yOverlap, by.p), LAMINA_STATUS_BAD_STRIDES, "'y'");
  LAMINA_EXPECT_STATUS(
      laminaPoolingForward(h, reinterpret_cast<laminaPoolingDescriptor_t>(x.d), a, x, bx.p, b, y, by.p),
      LAMINA_STATUS_WRONG_DESCRIPTOR, "pool");

  auto bwd = [&](laminaHandle_t hh, laminaPoolingDescriptor_t pp, const void *al, laminaTensorDescriptor_t yd,
                 const void *yp, laminaTensorDescriptor_t dyd, const void *dyp, laminaTensorDescriptor_t xd,
                 const void *xp, const void *be, laminaTensorDescriptor_t dxd,
                 void *dxp) { return laminaPoolingBackward(hh, pp, al, yd, yp, dyd, dyp, xd, xp, be, dxd, dxp); };
  LAMINA_EXPECT_OK(bwd(h, pd, a, y, by.p, y, bdy.p, x, bx.p, b, x, bdx.p));
  LAMINA_EXPECT_STATUS(bwd(nullptr, pd, a, y, by.p, y, bdy.p, x, bx.p, b, x, bdx.p), NP, "handle");
  LAMINA_EXPECT_STATUS(bwd(h, nullptr, a, y, by.p, y, bdy.p, x, bx.p, b, x, bdx.p), NP, "pool");
  LAMINA_EXPECT_STATUS(bwd(h, pd, nullptr, y, by.p, y, bdy.p, x, bx.p, b, x, bdx.p), NP, "alpha");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, y, bdy.p, x, bx.p, nullptr, x, bdx.p), NP, "beta");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, nullptr, by.p, y, bdy.p, x, bx.p, b, x, bdx.p), NP, "'y'");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, nullptr, y, bdy.p, x, bx.p, b, x, bdx.p), NP, "yData");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, nullptr, bdy.p, x, bx.p, b, x, bdx.p), NP, "'dy'");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, y, nullptr, x, bx.p, b, x, bdx.p), NP, "dyData");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, y, bdy.p, nullptr, bx.p, b, x, bdx.p), NP, "'x'");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, y, bdy.p, x, nullptr, b, x, bdx.p), NP, "xData");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, y, bdy.p, x, bx.p, b, nullptr, bdx.p), NP, "'dx'");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, y, bdy.p, x, bx.p, b, x, nullptr), NP, "dxData");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, yBad, by.p, y, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, yBad, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_SHAPE_MISMATCH, "'dy'");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, y, bdy.p, x, bx.p, b, xBad, bdx.p), LAMINA_STATUS_SHAPE_MISMATCH, "'dx'");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, yHalf, bdy.p, x, bx.p, b, x, bdx.p), LAMINA_STATUS_TYPE_MISMATCH, "'dy'");
  LAMINA_EXPECT_STATUS(bwd(h, pd, a, y, by.p, y, bdy.p, x5, bx.p, b, x5, bdx.p), LAMINA_STATUS_BAD_DIMS, "'x'");
  laminaDestroyPoolingDescriptor(unsetPool);
}

} // namespace
