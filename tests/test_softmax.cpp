// Softmax forward/backward against the fp64 reference, gradient checks, bad input.
#include "common/test_util.h"
#include "reference/softmax_ref.h"

#include <cmath>

namespace {

using lt::Layout;

const laminaSoftmaxAlgorithm_t kAlgos[] = {LAMINA_SOFTMAX_FAST, LAMINA_SOFTMAX_ACCURATE, LAMINA_SOFTMAX_LOG};
const laminaSoftmaxMode_t kModes[] = {LAMINA_SOFTMAX_MODE_INSTANCE, LAMINA_SOFTMAX_MODE_CHANNEL};
const std::pair<double, double> kAlphaBeta[] = {{1.0, 0.0}, {0.7, 0.3}, {-2.0, 1.0}};
const Layout kLayouts[] = {Layout::NCHW, Layout::NHWC, Layout::Strided};
// 2-D (N x C), 4-D and 5-D; a 1-channel and a 1x1-spatial case.
const std::vector<std::vector<int64_t>> kShapes = {{3, 10}, {2, 5, 3, 4}, {2, 3, 2, 3, 2}, {2, 1, 3, 3}, {1, 7, 1, 1}};

std::string label(int algo, int mode, laminaDataType_t dt, Layout l, const std::vector<int64_t> &dims, double a,
                  double b, bool inPlace) {
  std::string s = "algo " + std::to_string(algo) + " mode " + std::to_string(mode) + " " + lt::dtypeName(dt) + " " +
                  lt::layoutName(l) + " dims";
  for (auto d : dims)
    s += " " + std::to_string(d);
  return s + " alpha " + std::to_string(a) + " beta " + std::to_string(b) + (inPlace ? " in-place" : "");
}

TEST(Softmax, ForwardMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  uint64_t seed = 1;
  for (auto algo : kAlgos)
    for (auto mode : kModes)
      for (laminaDataType_t dt : lt::floatTypes())
        for (Layout l : kLayouts)
          for (const auto &dims : kShapes)
            for (auto [alpha, beta] : kAlphaBeta)
              for (bool inPlace : {false, true}) {
                SCOPED_TRACE(label(algo, mode, dt, l, dims, alpha, beta, inPlace));
                lt::Tensor tx(dt, dims, l), ty(dt, dims, inPlace ? l : Layout::NCHW);
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
                LAMINA_ASSERT_OK(laminaSoftmaxForward(h, algo, mode, a.ptr(dt), tx, bx.p, b.ptr(dt), ty, yp));
                auto ref = ref::softmaxForward(algo, mode == LAMINA_SOFTMAX_MODE_CHANNEL, dims, x);
                for (size_t i = 0; i < ref.size(); ++i)
                  ref[i] = alpha * ref[i] + (beta != 0 ? beta * y0[i] : 0.0);
                EXPECT_TRUE(lt::allClose(lt::download(h, ty, yp), ref, lt::tolerance(dt)));
              }
}

TEST(Softmax, BackwardMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  uint64_t seed = 5000;
  for (auto algo : kAlgos)
    for (auto mode : kModes)
      for (laminaDataType_t dt : lt::floatTypes())
        for (Layout l : kLayouts)
          for (const auto &dims : kShapes)
            for (auto [alpha, beta] : kAlphaBeta)
              for (bool inPlace : {false, true}) {
                SCOPED_TRACE(label(algo, mode, dt, l, dims, alpha, beta, inPlace));
                lt::Tensor ty(dt, dims, Layout::NCHW), tdy(dt, dims, l), tdx(dt, dims, l);
                const int64_t n = ty.numel();
                auto y = ref::softmaxForward(algo, mode == LAMINA_SOFTMAX_MODE_CHANNEL, dims,
                                             lt::randomValues(n, ++seed, LAMINA_DATA_DOUBLE, -3, 3));
                for (auto &v : y)
                  v = lt::roundTo(dt, v);
                auto dy = lt::randomValues(n, ++seed, dt);
                auto dx0 = lt::randomValues(n, ++seed, dt);
                lt::Buffer by(h, ty.bytes(), dt), bdy(h, tdy.bytes(), dt), bdx(h, tdx.bytes(), dt);
                lt::upload(h, ty, y, by.p);
                lt::upload(h, tdy, dy, bdy.p);
                void *dxp = inPlace ? bdy.p : bdx.p;
                if (inPlace)
                  dx0 = dy;
                else if (beta != 0)
                  lt::upload(h, tdx, dx0, bdx.p);
                lt::Scalar a(alpha), b(beta);
                LAMINA_ASSERT_OK(
                    laminaSoftmaxBackward(h, algo, mode, a.ptr(dt), ty, by.p, tdy, bdy.p, b.ptr(dt), tdx, dxp));
                auto ref = ref::softmaxBackward(algo, mode == LAMINA_SOFTMAX_MODE_CHANNEL, dims, y, dy);
                for (size_t i = 0; i < ref.size(); ++i)
                  ref[i] = alpha * ref[i] + (beta != 0 ? beta * dx0[i] : 0.0);
                EXPECT_TRUE(lt::allClose(lt::download(h, tdx, dxp), ref, lt::tolerance(dt)));
              }
}

// Big enough to be split across threads; NHWC so that channel groups are contiguous.
TEST(Softmax, LargeThreaded) {
  LT_HANDLE_OR_SKIP(h);
  LAMINA_ASSERT_OK(laminaSetNumThreads(h, 4)); // several threads whatever the machine
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  const std::vector<int64_t> dims = {4, 37, 24, 24};
  for (auto mode : kModes)
    for (Layout l : {Layout::NCHW, Layout::NHWC}) {
      SCOPED_TRACE(std::to_string(mode) + lt::layoutName(l));
      lt::Tensor t(dt, dims, l);
      auto x = lt::randomValues(t.numel(), 3, dt, -5, 5);
      lt::Buffer bx(h, t.bytes(), dt), by(h, t.bytes(), dt);
      lt::upload(h, t, x, bx.p);
      lt::Scalar one(1), zero(0);
      LAMINA_ASSERT_OK(
          laminaSoftmaxForward(h, LAMINA_SOFTMAX_ACCURATE, mode, one.ptr(dt), t, bx.p, zero.ptr(dt), t, by.p));
      auto ref = ref::softmaxForward(1, mode == LAMINA_SOFTMAX_MODE_CHANNEL, dims, x);
      EXPECT_TRUE(lt::allClose(lt::download(h, t, by.p), ref, lt::tolerance(dt)));
    }
}

// Long rows (INSTANCE over C x spatial > 1024: a whole GPU block per row) and long channel rows,
// every algorithm, backward in place (dx over dy) and not.
TEST(Softmax, LongRowsBackward) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  const std::vector<int64_t> dims = {3, 1500, 2, 1};
  for (auto algo : kAlgos)
    for (auto mode : kModes)
      for (Layout l : {Layout::NCHW, Layout::NHWC})
        for (bool inPlace : {false, true}) {
          SCOPED_TRACE(label(algo, mode, dt, l, dims, 1, 0, inPlace));
          lt::Tensor t(dt, dims, l);
          const int64_t n = t.numel();
          auto x = lt::randomValues(n, 77, dt, -4, 4);
          auto y = ref::softmaxForward(algo, mode == LAMINA_SOFTMAX_MODE_CHANNEL, dims, x);
          for (auto &v : y)
            v = lt::roundTo(dt, v);
          auto dy = lt::randomValues(n, 78, dt);
          lt::Buffer bx(h, t.bytes(), dt), by(h, t.bytes(), dt), bdy(h, t.bytes(), dt), bdx(h, t.bytes(), dt);
          lt::upload(h, t, x, bx.p);
          lt::Scalar one(1), zero(0);
          LAMINA_ASSERT_OK(laminaSoftmaxForward(h, algo, mode, one.ptr(dt), t, bx.p, zero.ptr(dt), t, by.p));
          EXPECT_TRUE(lt::allClose(lt::download(h, t, by.p), y, lt::tolerance(dt)));
          lt::upload(h, t, y, by.p);
          lt::upload(h, t, dy, bdy.p);
          void *dxp = inPlace ? bdy.p : bdx.p;
          LAMINA_ASSERT_OK(laminaSoftmaxBackward(h, algo, mode, one.ptr(dt), t, by.p, t, bdy.p, zero.ptr(dt), t, dxp));
          EXPECT_TRUE(lt::allClose(lt::download(h, t, dxp),
                                   ref::softmaxBackward(algo, mode == LAMINA_SOFTMAX_MODE_CHANNEL, dims, y, dy),
                                   lt::tolerance(dt)));
        }
}

// On the GPU, data must be device memory of the handle's GPU: a host array is refused, not read.
TEST(Softmax, HostPointerIsBadPointerOnGpu) {
  if (lt::testBackend() != LAMINA_BACKEND_CUDA)
    GTEST_SKIP() << "GPU only: on the CPU backend host memory is the backend's memory";
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  const auto F = LAMINA_SOFTMAX_ACCURATE;
  const auto M = LAMINA_SOFTMAX_MODE_INSTANCE;
  lt::Tensor t(dt, {2, 3, 4, 5});
  lt::Buffer bx(h, t.bytes()), by(h, t.bytes()), bdy(h, t.bytes()), bdx(h, t.bytes());
  std::vector<float> host(size_t(t.numel()), 1.0f);
  lt::Scalar one(1), zero(0);
  const void *a = one.ptr(dt), *b = zero.ptr(dt);
  const auto BP = LAMINA_STATUS_BAD_POINTER;
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, t, host.data(), b, t, by.p), BP, "xData");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, t, bx.p, b, t, host.data()), BP, "yData");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, t, host.data(), t, bdy.p, b, t, bdx.p), BP, "yData");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, t, by.p, t, bdy.p, b, t, host.data()), BP, "dxData");
}

// ACCURATE and LOG subtract the max, so inputs whose exp overflows still give the right answer.
TEST(Softmax, AccurateSurvivesLargeInputs) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  lt::Tensor t(dt, {1, 3});
  lt::Buffer bx(h, t.bytes(), dt), by(h, t.bytes(), dt);
  std::vector<double> x = {1000.0, 999.0, 998.0};
  lt::upload(h, t, x, bx.p);
  lt::Scalar one(1), zero(0);
  for (auto algo : {LAMINA_SOFTMAX_ACCURATE, LAMINA_SOFTMAX_LOG}) {
    LAMINA_ASSERT_OK(
        laminaSoftmaxForward(h, algo, LAMINA_SOFTMAX_MODE_INSTANCE, one.ptr(dt), t, bx.p, zero.ptr(dt), t, by.p));
    EXPECT_TRUE(lt::allClose(lt::download(h, t, by.p), ref::softmaxForward(algo, false, {1, 3}, x), 1e-5));
  }
}

TEST(Softmax, GradientCheck) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_DOUBLE;
  const std::vector<int64_t> dims = {2, 3, 2, 2};
  for (auto algo : kAlgos)
    for (auto mode : kModes) {
      SCOPED_TRACE(std::to_string(algo) + " " + std::to_string(mode));
      lt::Tensor t(dt, dims, Layout::Strided);
      const int64_t n = t.numel();
      auto x = lt::randomValues(n, 11, dt, -2, 2);
      auto w = lt::randomValues(n, 12, dt);
      lt::Buffer bx(h, t.bytes(), dt), by(h, t.bytes(), dt), bw(h, t.bytes(), dt), bdx(h, t.bytes(), dt);
      lt::Scalar one(1), zero(0);
      auto forward = [&](const std::vector<double> &xv) {
        lt::upload(h, t, xv, bx.p);
        EXPECT_EQ(laminaSoftmaxForward(h, algo, mode, one.ptr(dt), t, bx.p, zero.ptr(dt), t, by.p),
                  LAMINA_STATUS_SUCCESS);
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
      forward(x);
      lt::upload(h, t, w, bw.p);
      LAMINA_ASSERT_OK(laminaSoftmaxBackward(h, algo, mode, one.ptr(dt), t, by.p, t, bw.p, zero.ptr(dt), t, bdx.p));
      EXPECT_TRUE(lt::allClose(lt::download(h, t, bdx.p), num, 1e-6));
    }
}

TEST(Softmax, BadInput) {
  LT_HANDLE_OR_SKIP(h);
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  const auto F = LAMINA_SOFTMAX_ACCURATE;
  const auto M = LAMINA_SOFTMAX_MODE_CHANNEL;
  lt::Tensor x(dt, {2, 3, 4, 5}), y(dt, {2, 3, 4, 5}), yBad(dt, {2, 4, 4, 5}), yHalf(LAMINA_DATA_HALF, {2, 3, 4, 5});
  lt::Tensor yNhwc(dt, {2, 3, 4, 5}, Layout::NHWC), xInt(LAMINA_DATA_INT32, {2, 3, 4, 5}), x1(dt, {6});
  lt::Tensor yOverlap(dt, {2, 3, 4, 5}, {60, 0, 5, 1});
  lt::Buffer bx(h, x.bytes()), by(h, y.bytes()), bdy(h, y.bytes());
  lt::Scalar one(1), zero(0);
  const void *a = one.ptr(dt), *b = zero.ptr(dt);
  laminaTensorDescriptor_t unset;
  laminaCreateTensorDescriptor(&unset);
  auto S = LAMINA_STATUS_NULL_POINTER;
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(nullptr, F, M, a, x, bx.p, b, y, by.p), S, "handle");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, laminaSoftmaxAlgorithm_t(3), M, a, x, bx.p, b, y, by.p),
                       LAMINA_STATUS_BAD_PARAM, "algo");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, laminaSoftmaxMode_t(2), a, x, bx.p, b, y, by.p),
                       LAMINA_STATUS_BAD_PARAM, "mode");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, nullptr, x, bx.p, b, y, by.p), S, "alpha");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, x, bx.p, nullptr, y, by.p), S, "beta");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, nullptr, bx.p, b, y, by.p), S, "'x'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, unset, bx.p, b, y, by.p), LAMINA_STATUS_NOT_INITIALIZED, "'x'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, x, nullptr, b, y, by.p), S, "xData");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, x, bx.p, b, nullptr, by.p), S, "'y'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, x, bx.p, b, y, nullptr), S, "yData");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, x, bx.p, b, yBad, by.p), LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, x, bx.p, b, yHalf, by.p), LAMINA_STATUS_TYPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, xInt, bx.p, b, y, by.p), LAMINA_STATUS_NOT_SUPPORTED, "'x'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, x1, bx.p, b, x1, by.p), LAMINA_STATUS_BAD_DIMS, "'x'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, x, bx.p, b, yOverlap, by.p), LAMINA_STATUS_BAD_STRIDES, "'y'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxForward(h, F, M, a, x, bx.p, b, yNhwc, bx.p), LAMINA_STATUS_BAD_PARAM, "in-place");

  lt::Buffer bdx(h, x.bytes());
  LAMINA_EXPECT_OK(laminaSoftmaxBackward(h, F, M, a, y, by.p, y, bdy.p, b, y, bdx.p));
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(nullptr, F, M, a, y, by.p, y, bdy.p, b, y, bdx.p), S, "handle");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, laminaSoftmaxAlgorithm_t(-1), M, a, y, by.p, y, bdy.p, b, y, bdx.p),
                       LAMINA_STATUS_BAD_PARAM, "algo");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, laminaSoftmaxMode_t(9), a, y, by.p, y, bdy.p, b, y, bdx.p),
                       LAMINA_STATUS_BAD_PARAM, "mode");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, nullptr, y, by.p, y, bdy.p, b, y, bdx.p), S, "alpha");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, by.p, y, bdy.p, nullptr, y, bdx.p), S, "beta");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, nullptr, by.p, y, bdy.p, b, y, bdx.p), S, "'y'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, nullptr, y, bdy.p, b, y, bdx.p), S, "yData");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, by.p, nullptr, bdy.p, b, y, bdx.p), S, "'dy'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, by.p, y, nullptr, b, y, bdx.p), S, "dyData");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, by.p, y, bdy.p, b, nullptr, bdx.p), S, "'dx'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, by.p, y, bdy.p, b, y, nullptr), S, "dxData");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, by.p, yBad, bdy.p, b, y, bdx.p),
                       LAMINA_STATUS_SHAPE_MISMATCH, "'dy'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, by.p, y, bdy.p, b, yBad, bdx.p),
                       LAMINA_STATUS_SHAPE_MISMATCH, "'dx'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, by.p, yHalf, bdy.p, b, y, bdx.p),
                       LAMINA_STATUS_TYPE_MISMATCH, "'dy'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, by.p, y, bdy.p, b, yOverlap, bdx.p),
                       LAMINA_STATUS_BAD_STRIDES, "'dx'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, x1, by.p, x1, bdy.p, b, x1, bdx.p), LAMINA_STATUS_BAD_DIMS,
                       "'y'");
  LAMINA_EXPECT_STATUS(laminaSoftmaxBackward(h, F, M, a, y, by.p, y, bdy.p, b, yNhwc, bdy.p), LAMINA_STATUS_BAD_PARAM,
                       "in-place");
  laminaDestroyTensorDescriptor(unset);
}

} // namespace
