// Batch normalisation against the fp64 references (tests/reference/batchnorm_ref.cpp): training and
// inference forward, backward with and without saved statistics, both modes, every dtype and layout,
// alpha/beta; finite-difference gradients of the library's own forward; bad input.
#include "common/test_util.h"
#include "reference/batchnorm_ref.h"

#include <cmath>

namespace {

using lt::Layout;
using Dims = std::vector<int64_t>;

const Dims kShapes[] = {{2, 3, 4, 5}, {4, 6}, {2, 3, 2, 3, 4}, {1, 4, 3, 3}};
const laminaBatchNormMode_t kModes[] = {LAMINA_BATCHNORM_SPATIAL, LAMINA_BATCHNORM_PER_ACTIVATION};
const Layout kLayouts[] = {Layout::NCHW, Layout::NHWC, Layout::Strided};
const double kEps = 1e-4;

laminaDataType_t paramType(laminaDataType_t dt) { return dt == LAMINA_DATA_DOUBLE ? dt : LAMINA_DATA_FLOAT; }
Dims paramDims(const Dims &x, laminaBatchNormMode_t mode) {
  Dims d(x.size(), 1);
  for (size_t i = 1; i < x.size(); ++i)
    if (i == 1 || mode == LAMINA_BATCHNORM_PER_ACTIVATION)
      d[i] = x[i];
  return d;
}
int64_t count(const Dims &d) {
  int64_t n = 1;
  for (auto v : d)
    n *= v;
  return n;
}
std::string what(laminaDataType_t dt, Layout l, laminaBatchNormMode_t mode, const Dims &d) {
  std::string s = std::string(lt::dtypeName(dt)) + " " + lt::layoutName(l) +
                  (mode == LAMINA_BATCHNORM_SPATIAL ? " spatial" : " per-activation") + " dims=";
  for (auto x : d)
    s += std::to_string(x) + ",";
  return s;
}

TEST(BatchNorm, DeriveDescriptor) {
  lt::Tensor x(LAMINA_DATA_HALF, {2, 3, 4, 5}, Layout::NHWC);
  laminaTensorDescriptor_t d;
  LAMINA_ASSERT_OK(laminaCreateTensorDescriptor(&d));
  for (auto mode : kModes) {
    LAMINA_ASSERT_OK(laminaDeriveBNTensorDescriptor(d, x, mode));
    laminaDataType_t dt;
    int nb = 0;
    int64_t dims[8], strides[8];
    LAMINA_ASSERT_OK(laminaGetTensorNdDescriptor(d, 8, &dt, &nb, dims, strides));
    EXPECT_EQ(dt, LAMINA_DATA_FLOAT);
    EXPECT_EQ(Dims(dims, dims + nb), paramDims(x.dims, mode));
  }
  LAMINA_EXPECT_STATUS(laminaDeriveBNTensorDescriptor(d, x, laminaBatchNormMode_t(5)), LAMINA_STATUS_BAD_PARAM, "mode");
  LAMINA_EXPECT_STATUS(laminaDeriveBNTensorDescriptor(nullptr, x, LAMINA_BATCHNORM_SPATIAL), LAMINA_STATUS_NULL_POINTER,
                       "derived");
  lt::Tensor oneD(LAMINA_DATA_FLOAT, {5});
  LAMINA_EXPECT_STATUS(laminaDeriveBNTensorDescriptor(d, oneD, LAMINA_BATCHNORM_SPATIAL), LAMINA_STATUS_BAD_DIMS, "x");
  laminaDestroyTensorDescriptor(d);
}

TEST(BatchNorm, ForwardTrainingMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  const std::pair<double, double> alphaBeta[] = {{1, 0}, {0.7, 0.3}};
  const double factor = 0.3;
  uint64_t seed = 1;
  for (const Dims &dims : kShapes)
    for (auto mode : kModes)
      for (auto dt : lt::floatTypes())
        for (Layout l : kLayouts)
          for (auto [al, be] : alphaBeta) {
            SCOPED_TRACE(what(dt, l, mode, dims) + " beta=" + std::to_string(be));
            const bool spatial = mode == LAMINA_BATCHNORM_SPATIAL;
            const auto pt = paramType(dt);
            lt::Tensor x(dt, dims, l), y(dt, dims, l), p(pt, paramDims(dims, mode), l);
            lt::Buffer X(h, x.bytes(), dt), Y(h, y.bytes(), dt);
            lt::Buffer S(h, p.bytes(), pt), B(h, p.bytes(), pt), RM(h, p.bytes(), pt), RV(h, p.bytes(), pt),
                SM(h, p.bytes(), pt), SI(h, p.bytes(), pt);
            auto xv = lt::randomValues(x.numel(), seed++, dt), yv = lt::randomValues(y.numel(), seed++, dt);
            auto sv = lt::randomValues(p.numel(), seed++, pt, 0.5, 1.5), bv = lt::randomValues(p.numel(), seed++, pt);
            auto rm = lt::randomValues(p.numel(), seed++, pt), rv = lt::randomValues(p.numel(), seed++, pt, 0.5, 2);
            lt::upload(h, x, xv, X.p);
            if (be != 0)
              lt::upload(h, y, yv, Y.p);
            lt::upload(h, p, sv, S.p);
            lt::upload(h, p, bv, B.p);
            lt::upload(h, p, rm, RM.p);
            lt::upload(h, p, rv, RV.p);
            lt::Scalar sa(al), sb(be);
            LAMINA_ASSERT_OK(laminaBatchNormalizationForwardTraining(h, mode, sa.ptr(dt), sb.ptr(dt), x, X.p, y, Y.p, p,
                                                                     S.p, B.p, factor, RM.p, RV.p, kEps, SM.p, SI.p));
            auto st = ref::bnStats(spatial, dims, xv, kEps);
            auto want = ref::bnApply(spatial, dims, xv, sv, bv, st.mean, st.invStd);
            for (size_t i = 0; i < want.size(); ++i)
              want[i] = al * want[i] + (be != 0 ? be * yv[i] : 0.0);
            EXPECT_TRUE(lt::allClose(lt::download(h, y, Y.p), want, lt::tolerance(dt)));
            double M = double(count(dims)) / double(p.numel());
            std::vector<double> wrm(rm.size()), wrv(rv.size());
            for (size_t i = 0; i < rm.size(); ++i) {
              wrm[i] = (1 - factor) * rm[i] + factor * st.mean[i];
              wrv[i] = (1 - factor) * rv[i] + factor * (M > 1 ? st.var[i] * M / (M - 1) : 0.0);
            }
            const double tp = lt::tolerance(pt);
            EXPECT_TRUE(lt::allClose(lt::download(h, p, SM.p), st.mean, tp));
            EXPECT_TRUE(lt::allClose(lt::download(h, p, SI.p), st.invStd, tp));
            EXPECT_TRUE(lt::allClose(lt::download(h, p, RM.p), wrm, tp));
            EXPECT_TRUE(lt::allClose(lt::download(h, p, RV.p), wrv, tp));
          }
}

TEST(BatchNorm, ForwardTrainingWithoutOptionalOutputs) {
  LT_HANDLE_OR_SKIP(h);
  const Dims dims = {3, 4, 5, 5};
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Tensor x(dt, dims), p(dt, {1, 4, 1, 1});
  lt::Buffer X(h, x.bytes(), dt), Y(h, x.bytes(), dt), S(h, p.bytes(), dt), B(h, p.bytes(), dt);
  auto xv = lt::randomValues(x.numel(), 9, dt), sv = lt::randomValues(4, 10, dt), bv = lt::randomValues(4, 11, dt);
  lt::upload(h, x, xv, X.p);
  lt::upload(h, p, sv, S.p);
  lt::upload(h, p, bv, B.p);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_ASSERT_OK(laminaBatchNormalizationForwardTraining(h, LAMINA_BATCHNORM_SPATIAL, one.ptr(dt), zero.ptr(dt), x,
                                                           X.p, x, Y.p, p, S.p, B.p, 0.1, nullptr, nullptr, kEps,
                                                           nullptr, nullptr));
  auto st = ref::bnStats(true, dims, xv, kEps);
  EXPECT_TRUE(lt::allClose(lt::download(h, x, Y.p), ref::bnApply(true, dims, xv, sv, bv, st.mean, st.invStd),
                           lt::tolerance(dt)));
}

TEST(BatchNorm, ForwardInferenceMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  const std::pair<double, double> alphaBeta[] = {{1, 0}, {-0.5, 1.0}};
  uint64_t seed = 500;
  for (const Dims &dims : kShapes)
    for (auto mode : kModes)
      for (auto dt : lt::floatTypes())
        for (Layout l : kLayouts)
          for (auto [al, be] : alphaBeta) {
            SCOPED_TRACE(what(dt, l, mode, dims) + " beta=" + std::to_string(be));
            const auto pt = paramType(dt);
            lt::Tensor x(dt, dims, l), y(dt, dims, l), p(pt, paramDims(dims, mode), l);
            lt::Buffer X(h, x.bytes(), dt), Y(h, y.bytes(), dt), S(h, p.bytes(), pt), B(h, p.bytes(), pt),
                EM(h, p.bytes(), pt), EV(h, p.bytes(), pt);
            auto xv = lt::randomValues(x.numel(), seed++, dt), yv = lt::randomValues(y.numel(), seed++, dt);
            auto sv = lt::randomValues(p.numel(), seed++, pt), bv = lt::randomValues(p.numel(), seed++, pt);
            auto em = lt::randomValues(p.numel(), seed++, pt), ev = lt::randomValues(p.numel(), seed++, pt, 0.2, 2);
            lt::upload(h, x, xv, X.p);
            if (be != 0)
              lt::upload(h, y, yv, Y.p);
            lt::upload(h, p, sv, S.p);
            lt::upload(h, p, bv, B.p);
            lt::upload(h, p, em, EM.p);
            lt::upload(h, p, ev, EV.p);
            lt::Scalar sa(al), sb(be);
            LAMINA_ASSERT_OK(laminaBatchNormalizationForwardInference(h, mode, sa.ptr(dt), sb.ptr(dt), x, X.p, y, Y.p,
                                                                      p, S.p, B.p, EM.p, EV.p, kEps));
            std::vector<double> inv(ev.size());
            for (size_t i = 0; i < ev.size(); ++i)
              inv[i] = 1 / std::sqrt(ev[i] + kEps);
            auto want = ref::bnApply(mode == LAMINA_BATCHNORM_SPATIAL, dims, xv, sv, bv, em, inv);
            for (size_t i = 0; i < want.size(); ++i)
              want[i] = al * want[i] + (be != 0 ? be * yv[i] : 0.0);
            EXPECT_TRUE(lt::allClose(lt::download(h, y, Y.p), want, lt::tolerance(dt)));
          }
}

TEST(BatchNorm, BackwardMatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  // alphaData, betaData, alphaParam, betaParam
  const double scalars[][4] = {{1, 0, 1, 0}, {0.7, 0.3, -1.5, 0.5}};
  uint64_t seed = 900;
  for (const Dims &dims : kShapes)
    for (auto mode : kModes)
      for (auto dt : lt::floatTypes())
        for (Layout l : kLayouts)
          for (const auto &s : scalars)
            for (bool saved : {true, false}) {
              SCOPED_TRACE(what(dt, l, mode, dims) + " betaData=" + std::to_string(s[1]) +
                           " saved=" + std::to_string(saved));
              const bool spatial = mode == LAMINA_BATCHNORM_SPATIAL;
              const auto pt = paramType(dt);
              lt::Tensor x(dt, dims, l), dy(dt, dims, l), dx(dt, dims, l), p(pt, paramDims(dims, mode), l);
              lt::Buffer X(h, x.bytes(), dt), DY(h, x.bytes(), dt), DX(h, x.bytes(), dt), S(h, p.bytes(), pt),
                  DS(h, p.bytes(), pt), DB(h, p.bytes(), pt), SM(h, p.bytes(), pt), SI(h, p.bytes(), pt);
              auto xv = lt::randomValues(x.numel(), seed++, dt), dyv = lt::randomValues(x.numel(), seed++, dt),
                   dxv = lt::randomValues(x.numel(), seed++, dt);
              auto sv = lt::randomValues(p.numel(), seed++, pt), dsv = lt::randomValues(p.numel(), seed++, pt),
                   dbv = lt::randomValues(p.numel(), seed++, pt);
              lt::upload(h, x, xv, X.p);
              lt::upload(h, dy, dyv, DY.p);
              if (s[1] != 0)
                lt::upload(h, dx, dxv, DX.p);
              lt::upload(h, p, sv, S.p);
              if (s[3] != 0) {
                lt::upload(h, p, dsv, DS.p);
                lt::upload(h, p, dbv, DB.p);
              }
              auto st = ref::bnStats(spatial, dims, xv, kEps);
              if (saved) {
                lt::upload(h, p, st.mean, SM.p);
                lt::upload(h, p, st.invStd, SI.p);
              }
              lt::Scalar aD(s[0]), bD(s[1]), aP(s[2]), bP(s[3]);
              LAMINA_ASSERT_OK(laminaBatchNormalizationBackward(h, mode, aD.ptr(dt), bD.ptr(dt), aP.ptr(dt), bP.ptr(dt),
                                                                x, X.p, dy, DY.p, dx, DX.p, p, S.p, DS.p, DB.p, kEps,
                                                                saved ? SM.p : nullptr, saved ? SI.p : nullptr));
              std::vector<double> wdx, wds, wdb;
              ref::bnBackward(spatial, dims, xv, dyv, sv, kEps, wdx, wds, wdb);
              for (size_t i = 0; i < wdx.size(); ++i)
                wdx[i] = s[0] * wdx[i] + (s[1] != 0 ? s[1] * dxv[i] : 0.0);
              for (size_t i = 0; i < wds.size(); ++i) {
                wds[i] = s[2] * wds[i] + (s[3] != 0 ? s[3] * dsv[i] : 0.0);
                wdb[i] = s[2] * wdb[i] + (s[3] != 0 ? s[3] * dbv[i] : 0.0);
              }
              // dx cancels three terms of similar size: judged against its RMS like every output.
              EXPECT_TRUE(lt::allClose(lt::download(h, dx, DX.p), wdx, lt::tolerance(dt)));
              EXPECT_TRUE(lt::allClose(lt::download(h, p, DS.p), wds, lt::tolerance(pt)));
              EXPECT_TRUE(lt::allClose(lt::download(h, p, DB.p), wdb, lt::tolerance(pt)));
            }
}

// A tensor over the CPU's serial threshold, so the parallel paths meet the reference too.
TEST(BatchNorm, LargeTensorTrainingAndBackward) {
  LT_HANDLE_OR_SKIP(h);
  const Dims dims = {4, 8, 32, 33};
  const auto dt = LAMINA_DATA_FLOAT;
  for (auto mode : kModes) {
    SCOPED_TRACE(what(dt, Layout::NHWC, mode, dims));
    const bool spatial = mode == LAMINA_BATCHNORM_SPATIAL;
    lt::Tensor x(dt, dims, Layout::NHWC), p(dt, paramDims(dims, mode));
    lt::Buffer X(h, x.bytes(), dt), Y(h, x.bytes(), dt), DY(h, x.bytes(), dt), DX(h, x.bytes(), dt);
    lt::Buffer S(h, p.bytes(), dt), B(h, p.bytes(), dt), SM(h, p.bytes(), dt), SI(h, p.bytes(), dt),
        DS(h, p.bytes(), dt), DB(h, p.bytes(), dt);
    auto xv = lt::randomValues(x.numel(), 1, dt), dyv = lt::randomValues(x.numel(), 2, dt);
    auto sv = lt::randomValues(p.numel(), 3, dt), bv = lt::randomValues(p.numel(), 4, dt);
    lt::upload(h, x, xv, X.p);
    lt::upload(h, x, dyv, DY.p);
    lt::upload(h, p, sv, S.p);
    lt::upload(h, p, bv, B.p);
    lt::Scalar one(1.0), zero(0.0);
    LAMINA_ASSERT_OK(laminaBatchNormalizationForwardTraining(h, mode, one.ptr(dt), zero.ptr(dt), x, X.p, x, Y.p, p, S.p,
                                                             B.p, 0.5, nullptr, nullptr, kEps, SM.p, SI.p));
    auto st = ref::bnStats(spatial, dims, xv, kEps);
    EXPECT_TRUE(lt::allClose(lt::download(h, x, Y.p), ref::bnApply(spatial, dims, xv, sv, bv, st.mean, st.invStd),
                             lt::tolerance(dt)));
    LAMINA_ASSERT_OK(laminaBatchNormalizationBackward(h, mode, one.ptr(dt), zero.ptr(dt), one.ptr(dt), zero.ptr(dt), x,
                                                      X.p, x, DY.p, x, DX.p, p, S.p, DS.p, DB.p, kEps, SM.p, SI.p));
    std::vector<double> wdx, wds, wdb;
    ref::bnBackward(spatial, dims, xv, dyv, sv, kEps, wdx, wds, wdb);
    EXPECT_TRUE(lt::allClose(lt::download(h, x, DX.p), wdx, lt::tolerance(dt)));
    EXPECT_TRUE(lt::allClose(lt::download(h, p, DS.p), wds, lt::tolerance(dt)));
    EXPECT_TRUE(lt::allClose(lt::download(h, p, DB.p), wdb, lt::tolerance(dt)));
  }
}

// dL/dx, dL/dscale, dL/dbias of L = sum(w * y(x)) by central differences of the library's training
// forward (double), against its backward with dy = w.
TEST(BatchNorm, BackwardMatchesFiniteDifferences) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_DOUBLE;
  const std::pair<Dims, laminaBatchNormMode_t> cases[] = {{{2, 3, 2, 2}, LAMINA_BATCHNORM_SPATIAL},
                                                          {{3, 2, 2, 2}, LAMINA_BATCHNORM_PER_ACTIVATION}};
  for (const auto &[dims, mode] : cases) {
    lt::Tensor x(dt, dims, Layout::Strided), p(dt, paramDims(dims, mode));
    lt::Buffer X(h, x.bytes(), dt), Y(h, x.bytes(), dt), DY(h, x.bytes(), dt), DX(h, x.bytes(), dt);
    lt::Buffer S(h, p.bytes(), dt), B(h, p.bytes(), dt), DS(h, p.bytes(), dt), DB(h, p.bytes(), dt);
    auto xv = lt::randomValues(x.numel(), 1, dt), w = lt::randomValues(x.numel(), 2, dt);
    auto sv = lt::randomValues(p.numel(), 3, dt, 0.5, 1.5), bv = lt::randomValues(p.numel(), 4, dt);
    lt::Scalar one(1.0), zero(0.0);
    auto loss = [&](const std::vector<double> &xs, const std::vector<double> &ss, const std::vector<double> &bs) {
      lt::upload(h, x, xs, X.p);
      lt::upload(h, p, ss, S.p);
      lt::upload(h, p, bs, B.p);
      EXPECT_EQ(laminaBatchNormalizationForwardTraining(h, mode, one.ptr(dt), zero.ptr(dt), x, X.p, x, Y.p, p, S.p, B.p,
                                                        0.0, nullptr, nullptr, kEps, nullptr, nullptr),
                LAMINA_STATUS_SUCCESS);
      auto y = lt::download(h, x, Y.p);
      double L = 0;
      for (size_t i = 0; i < y.size(); ++i)
        L += w[i] * y[i];
      return L;
    };
    lt::upload(h, x, xv, X.p);
    lt::upload(h, x, w, DY.p);
    lt::upload(h, p, sv, S.p);
    LAMINA_ASSERT_OK(laminaBatchNormalizationBackward(h, mode, one.ptr(dt), zero.ptr(dt), one.ptr(dt), zero.ptr(dt), x,
                                                      X.p, x, DY.p, x, DX.p, p, S.p, DS.p, DB.p, kEps, nullptr,
                                                      nullptr));
    auto gx = lt::download(h, x, DX.p), gs = lt::download(h, p, DS.p), gb = lt::download(h, p, DB.p);
    const double step = 1e-6;
    auto fd = [&](std::vector<double> &v, size_t i, int which) {
      double keep = v[i];
      v[i] = keep + step;
      double up = which == 0 ? loss(v, sv, bv) : which == 1 ? loss(xv, v, bv) : loss(xv, sv, v);
      v[i] = keep - step;
      double dn = which == 0 ? loss(v, sv, bv) : which == 1 ? loss(xv, v, bv) : loss(xv, sv, v);
      v[i] = keep;
      return (up - dn) / (2 * step);
    };
    std::vector<double> nx(xv.size()), ns(sv.size()), nb(bv.size());
    for (size_t i = 0; i < xv.size(); ++i)
      nx[i] = fd(xv, i, 0);
    for (size_t i = 0; i < sv.size(); ++i)
      ns[i] = fd(sv, i, 1);
    for (size_t i = 0; i < bv.size(); ++i)
      nb[i] = fd(bv, i, 2);
    // Central differences with step 1e-6 in double: truncation ~1e-12, rounding ~1e-10 relative.
    EXPECT_TRUE(lt::allClose(gx, nx, 1e-6));
    EXPECT_TRUE(lt::allClose(gs, ns, 1e-6));
    EXPECT_TRUE(lt::allClose(gb, nb, 1e-6));
  }
}

// On the GPU, data and parameters must be device memory of the handle's GPU: host arrays are refused.
TEST(BatchNorm, HostPointerIsBadPointerOnGpu) {
  if (lt::testBackend() != LAMINA_BACKEND_CUDA)
    GTEST_SKIP() << "GPU only: on the CPU backend host memory is the backend's memory";
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  const auto sp = LAMINA_BATCHNORM_SPATIAL;
  lt::Tensor x(dt, {2, 3, 4, 5}), p(dt, {1, 3, 1, 1});
  lt::Buffer X(h, x.bytes(), dt), Y(h, x.bytes(), dt), DY(h, x.bytes(), dt), P1(h, 256), P2(h, 256), P3(h, 256),
      P4(h, 256);
  std::vector<float> host(size_t(x.numel()), 1.0f);
  lt::Scalar one(1.0), zero(0.0);
  const void *a = one.ptr(dt), *b = zero.ptr(dt);
  const auto BP = LAMINA_STATUS_BAD_POINTER;
  LAMINA_EXPECT_STATUS(laminaBatchNormalizationForwardTraining(h, sp, a, b, x, host.data(), x, Y.p, p, P1.p, P2.p, 0.1,
                                                               nullptr, nullptr, kEps, nullptr, nullptr),
                       BP, "xData");
  LAMINA_EXPECT_STATUS(laminaBatchNormalizationForwardTraining(h, sp, a, b, x, X.p, x, Y.p, p, host.data(), P2.p, 0.1,
                                                               nullptr, nullptr, kEps, nullptr, nullptr),
                       BP, "scale");
  LAMINA_EXPECT_STATUS(
      laminaBatchNormalizationForwardInference(h, sp, a, b, x, X.p, x, Y.p, p, P1.p, P2.p, P3.p, host.data(), kEps), BP,
      "estimatedVariance");
  LAMINA_EXPECT_STATUS(laminaBatchNormalizationBackward(h, sp, a, b, a, b, x, X.p, x, DY.p, x, host.data(), p, P1.p,
                                                        P2.p, P3.p, kEps, nullptr, nullptr),
                       BP, "dxData");
}

TEST(BatchNorm, BadInput) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  const auto sp = LAMINA_BATCHNORM_SPATIAL;
  lt::Tensor x(dt, {2, 3, 4, 5}), p(dt, {1, 3, 1, 1}), pa(dt, {1, 3, 4, 5}), wrongP(dt, {1, 4, 1, 1});
  lt::Tensor pd(LAMINA_DATA_DOUBLE, {1, 3, 1, 1}), yWrong(dt, {2, 3, 4, 6}), yHalf(LAMINA_DATA_HALF, {2, 3, 4, 5});
  lt::Tensor overlap(dt, {2, 3, 4, 5}, {0, 20, 5, 1}), oneD(dt, {5});
  lt::Buffer X(h, x.bytes(), dt), Y(h, x.bytes(), dt), P1(h, 256), P2(h, 256), P3(h, 256), P4(h, 256);
  lt::Scalar one(1.0), zero(0.0);
  const void *a = one.ptr(dt), *b = zero.ptr(dt);
  // mode as int: an out-of-range enum value must not be loaded as an enum here (UBSan).
  auto train = [&](int mode, const void *al, laminaTensorDescriptor_t tx, const void *xd, laminaTensorDescriptor_t ty,
                   laminaTensorDescriptor_t tp, double factor, void *rm, void *rv, double eps, void *sm, void *si) {
    return laminaBatchNormalizationForwardTraining(h, laminaBatchNormMode_t(mode), al, b, tx, xd, ty, Y.p, tp, P1.p,
                                                   P2.p, factor, rm, rv, eps, sm, si);
  };
  LAMINA_EXPECT_OK(train(sp, a, x, X.p, x, p, 0.1, P3.p, P4.p, kEps, nullptr, nullptr));
  LAMINA_EXPECT_STATUS(train(3, a, x, X.p, x, p, 0.1, P3.p, P4.p, kEps, nullptr, nullptr), LAMINA_STATUS_BAD_PARAM,
                       "mode");
  LAMINA_EXPECT_STATUS(train(sp, nullptr, x, X.p, x, p, 0.1, nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_NULL_POINTER, "alpha");
  LAMINA_EXPECT_STATUS(train(sp, a, x, nullptr, x, p, 0.1, nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_NULL_POINTER, "xData");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, yWrong, p, 0.1, nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, yHalf, p, 0.1, nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_TYPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, overlap, p, 0.1, nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_BAD_STRIDES, "'y'");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, x, wrongP, 0.1, nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_SHAPE_MISMATCH, "scaleBiasMeanVar");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, x, pa, 0.1, nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_SHAPE_MISMATCH, "scaleBiasMeanVar");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, x, pd, 0.1, nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_TYPE_MISMATCH, "scaleBiasMeanVar");
  LAMINA_EXPECT_STATUS(train(sp, a, oneD, X.p, oneD, p, 0.1, nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_BAD_DIMS, "'x'");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, x, p, 1.5, P3.p, P4.p, kEps, nullptr, nullptr), LAMINA_STATUS_BAD_PARAM,
                       "exponentialAverageFactor");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, x, p, 0.1, P3.p, nullptr, kEps, nullptr, nullptr), LAMINA_STATUS_BAD_PARAM,
                       "runningVariance");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, x, p, 0.1, nullptr, nullptr, kEps, nullptr, P4.p), LAMINA_STATUS_BAD_PARAM,
                       "saveMean");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, x, p, 0.1, nullptr, nullptr, 0.0, nullptr, nullptr),
                       LAMINA_STATUS_BAD_PARAM, "epsilon");
  LAMINA_EXPECT_STATUS(train(sp, a, x, X.p, x, p, 0.1, nullptr, nullptr, NAN, nullptr, nullptr),
                       LAMINA_STATUS_BAD_PARAM, "epsilon");
  LAMINA_EXPECT_STATUS(laminaBatchNormalizationForwardTraining(h, sp, a, b, x, X.p, x, Y.p, p, nullptr, P2.p, 0.1,
                                                               nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_NULL_POINTER, "scale");
  LAMINA_EXPECT_STATUS(laminaBatchNormalizationForwardTraining(nullptr, sp, a, b, x, X.p, x, Y.p, p, P1.p, P2.p, 0.1,
                                                               nullptr, nullptr, kEps, nullptr, nullptr),
                       LAMINA_STATUS_NULL_POINTER, "handle");

  LAMINA_EXPECT_OK(
      laminaBatchNormalizationForwardInference(h, sp, a, b, x, X.p, x, Y.p, p, P1.p, P2.p, P3.p, P4.p, kEps));
  LAMINA_EXPECT_STATUS(
      laminaBatchNormalizationForwardInference(h, sp, a, b, x, X.p, x, Y.p, p, P1.p, P2.p, nullptr, P4.p, kEps),
      LAMINA_STATUS_NULL_POINTER, "estimatedMean");
  LAMINA_EXPECT_STATUS(
      laminaBatchNormalizationForwardInference(h, sp, a, b, x, X.p, x, Y.p, p, P1.p, P2.p, P3.p, nullptr, kEps),
      LAMINA_STATUS_NULL_POINTER, "estimatedVariance");
  LAMINA_EXPECT_STATUS(laminaBatchNormalizationForwardInference(h, LAMINA_BATCHNORM_PER_ACTIVATION, a, b, x, X.p, x,
                                                                Y.p, p, P1.p, P2.p, P3.p, P4.p, kEps),
                       LAMINA_STATUS_SHAPE_MISMATCH, "scaleBiasMeanVar");
  LAMINA_EXPECT_STATUS(
      laminaBatchNormalizationForwardInference(h, sp, a, nullptr, x, X.p, x, Y.p, p, P1.p, P2.p, P3.p, P4.p, kEps),
      LAMINA_STATUS_NULL_POINTER, "beta");
  LAMINA_EXPECT_STATUS(
      laminaBatchNormalizationForwardInference(h, sp, a, b, x, X.p, x, Y.p, p, P1.p, P2.p, P3.p, P4.p, -1.0),
      LAMINA_STATUS_BAD_PARAM, "epsilon");

  lt::Buffer DY(h, x.bytes(), dt);
  auto back = [&](const void *aP, laminaTensorDescriptor_t tdy, laminaTensorDescriptor_t tdx, void *dxd,
                  laminaTensorDescriptor_t tp, void *ds, const void *sm, const void *si) {
    return laminaBatchNormalizationBackward(h, sp, a, b, aP, b, x, X.p, tdy, DY.p, tdx, dxd, tp, P1.p, ds, P2.p, kEps,
                                            sm, si);
  };
  LAMINA_EXPECT_OK(back(a, x, x, Y.p, p, P3.p, nullptr, nullptr));
  LAMINA_EXPECT_STATUS(back(nullptr, x, x, Y.p, p, P3.p, nullptr, nullptr), LAMINA_STATUS_NULL_POINTER, "alphaParam");
  LAMINA_EXPECT_STATUS(back(a, yWrong, x, Y.p, p, P3.p, nullptr, nullptr), LAMINA_STATUS_SHAPE_MISMATCH, "'dy'");
  LAMINA_EXPECT_STATUS(back(a, x, yHalf, Y.p, p, P3.p, nullptr, nullptr), LAMINA_STATUS_TYPE_MISMATCH, "'dx'");
  LAMINA_EXPECT_STATUS(back(a, x, overlap, Y.p, p, P3.p, nullptr, nullptr), LAMINA_STATUS_BAD_STRIDES, "'dx'");
  LAMINA_EXPECT_STATUS(back(a, x, x, Y.p, wrongP, P3.p, nullptr, nullptr), LAMINA_STATUS_SHAPE_MISMATCH,
                       "scaleBiasDiff");
  LAMINA_EXPECT_STATUS(back(a, x, x, Y.p, p, nullptr, nullptr, nullptr), LAMINA_STATUS_NULL_POINTER, "dScale");
  LAMINA_EXPECT_STATUS(back(a, x, x, nullptr, p, P3.p, nullptr, nullptr), LAMINA_STATUS_NULL_POINTER, "dxData");
  LAMINA_EXPECT_STATUS(back(a, x, x, X.p, p, P3.p, nullptr, nullptr), LAMINA_STATUS_BAD_PARAM, "'x'");
  LAMINA_EXPECT_STATUS(back(a, x, x, Y.p, p, P3.p, P4.p, nullptr), LAMINA_STATUS_BAD_PARAM, "savedInvVariance");
}

} // namespace
