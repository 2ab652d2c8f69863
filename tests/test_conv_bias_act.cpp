// laminaConvolutionBiasActivationForward: y = act(alpha1 * conv(x, w) + alpha2 * z + bias) against the fp64
// reference (conv, then the sum and the activation in double), over the first rows of
// tests/problems/conv_conformance.csv, every float type, NCHW and NHWC, PREFER_FASTEST's algorithm, with
// z apart, z = y (the residual sum) and alpha2 = 0 (z not read: NULL); then the argument checks.
#include "reference/activation_ref.h"
#include "test_conv_common.h"

#include <cmath>

namespace {

struct Act {
  laminaActivationDescriptor_t d = nullptr;
  Act(laminaActivationMode_t mode, double coef) {
    laminaCreateActivationDescriptor(&d);
    if (laminaSetActivationDescriptor(d, mode, LAMINA_PROPAGATE_NAN, coef) != LAMINA_STATUS_SUCCESS)
      ADD_FAILURE() << laminaGetLastErrorMessage();
  }
  ~Act() { laminaDestroyActivationDescriptor(d); }
  Act(const Act &) = delete;
  Act &operator=(const Act &) = delete;
};

enum class ZMode { Apart, SameAsY, Unused };

// Runs one case; returns the result and the expected values.
void runCase(const lt::Handle &h, const lt::ref::ConvSpec &s, laminaDataType_t dt, lt::Layout layout,
             laminaActivationMode_t mode, ZMode zm, uint64_t &seed) {
  ct::Setup st(s, dt, layout);
  std::vector<int64_t> biasDims(st.y->dims.size(), 1);
  biasDims[1] = s.K;
  lt::Tensor bias(dt, biasDims);
  lt::Tensor z(dt, st.y->dims, layout);
  auto x = lt::randomValues(st.x->numel(), seed++, dt);
  auto w = lt::randomValues(st.w->numel(), seed++, dt);
  auto b = lt::randomValues(bias.numel(), seed++, dt);
  auto zv = lt::randomValues(z.numel(), seed++, dt);
  lt::Buffer xb(h, st.x->bytes(), dt), wb(h, st.w->bytes(), dt), bb(h, bias.bytes(), dt), zb(h, z.bytes(), dt),
      yb(h, st.y->bytes(), dt);
  lt::upload(h, *st.x, x, xb.p);
  lt::upload(h, *st.w, w, wb.p);
  lt::upload(h, bias, b, bb.p);
  lt::upload(h, z, zv, zb.p);
  if (zm == ZMode::SameAsY)
    lt::upload(h, *st.y, zv, yb.p); // y holds z

  laminaConvolutionFwdAlgo_t algo;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y,
                                                        LAMINA_CONVOLUTION_PREFER_FASTEST, 0, &algo));
  size_t wsBytes = 0;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y, algo, &wsBytes));
  lt::Buffer ws(h, wsBytes, dt);
  const double alpha1 = 0.8, alpha2 = zm == ZMode::Unused ? 0.0 : 0.6, coef = 0.5;
  Act act(mode, coef);
  lt::Scalar a1(alpha1), a2(alpha2);
  const void *zData = zm == ZMode::Apart ? zb.p : zm == ZMode::SameAsY ? yb.p : nullptr;
  laminaTensorDescriptor_t zDesc = zm == ZMode::SameAsY ? laminaTensorDescriptor_t(*st.y) : laminaTensorDescriptor_t(z);
  LAMINA_ASSERT_OK(laminaConvolutionBiasActivationForward(h, a1.ptr(dt), *st.x, xb.p, *st.w, wb.p, st.conv, algo, ws.p,
                                                          wsBytes, a2.ptr(dt), zDesc, zData, bias, bb.p, act.d, *st.y,
                                                          yb.p));
  const auto got = lt::download(h, *st.y, yb.p);
  const auto conv = lt::ref::convForward(s, x, w);
  std::vector<double> pre(conv.size());
  const int64_t spatial = int64_t(conv.size()) / (s.N * s.K);
  for (size_t i = 0; i < conv.size(); ++i) {
    const int64_t k = (int64_t(i) / spatial) % s.K;
    pre[i] = alpha1 * conv[i] + alpha2 * zv[i] + b[size_t(k)];
  }
  const auto expect = ref::activationForward(int(mode), coef, true, pre);
  EXPECT_TRUE(lt::allClose(got, expect, 3 * lt::tolerance(dt))); // three stored roundings in half/bf16
  EXPECT_TRUE(lt::gapsUntouched(h, *st.y, yb.p));
}

TEST(ConvBiasActivation, MatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  auto specs = ct::loadSpecs();
  if (specs.size() > 4)
    specs.resize(4);
  uint64_t seed = 11;
  int runs = 0;
  for (const auto &ns : specs)
    for (laminaDataType_t dt : lt::floatTypes())
      for (lt::Layout layout : {lt::Layout::NCHW, lt::Layout::NHWC})
        for (auto [mode, zm] :
             {std::pair{LAMINA_ACTIVATION_RELU, ZMode::Apart}, std::pair{LAMINA_ACTIVATION_IDENTITY, ZMode::SameAsY},
              std::pair{LAMINA_ACTIVATION_TANH, ZMode::Unused}}) {
          SCOPED_TRACE(ns.name + " " + lt::dtypeName(dt) + " " + lt::layoutName(layout) + " mode " +
                       std::to_string(int(mode)) + " z " + std::to_string(int(zm)));
          runCase(h, ns.spec, dt, layout, mode, zm, seed);
          ++runs;
        }
  EXPECT_EQ(runs, int(specs.size() * lt::floatTypes().size() * 2 * 3));
}

TEST(ConvBiasActivation, ArgumentChecks) {
  LT_HANDLE_OR_SKIP(h);
  lt::ref::ConvSpec s;
  s.N = 2, s.C = 3, s.K = 4, s.in[1] = 5, s.in[2] = 5, s.filt[1] = 3, s.filt[2] = 3, s.pad[1] = 1, s.pad[2] = 1;
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  ct::Setup st(s, dt, lt::Layout::NCHW);
  lt::Tensor bias(dt, {1, s.K, 1, 1}), badBias(dt, {1, s.K + 1, 1, 1}), z(dt, st.y->dims), badZ(dt, {s.N, s.K, 4, 5});
  lt::Buffer xb(h, st.x->bytes()), wb(h, st.w->bytes()), bb(h, badBias.bytes()), zb(h, z.bytes()), yb(h, st.y->bytes());
  Act act(LAMINA_ACTIVATION_RELU, 0.0);
  lt::Scalar one(1.0), half(0.5), zero(0.0);
  const auto algo = LAMINA_CONVOLUTION_FWD_ALGO_GEMM;
  size_t need = 0;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y, algo, &need));
  lt::Buffer ws(h, need + 1);
  auto call = [&](laminaTensorDescriptor_t zd, const void *zData, laminaTensorDescriptor_t bd, const void *bData,
                  const void *alpha2, size_t wsBytes) {
    return laminaConvolutionBiasActivationForward(h, one.ptr(dt), *st.x, xb.p, *st.w, wb.p, st.conv, algo, ws.p,
                                                  wsBytes, alpha2, zd, zData, bd, bData, act.d, *st.y, yb.p);
  };
  LAMINA_EXPECT_OK(call(z, zb.p, bias, bb.p, half.ptr(dt), need));
  LAMINA_EXPECT_OK(call(z, nullptr, bias, bb.p, zero.ptr(dt), need)); // alpha2 = 0: z not read
  LAMINA_EXPECT_STATUS(call(z, nullptr, bias, bb.p, half.ptr(dt), need), LAMINA_STATUS_NULL_POINTER, "zData");
  LAMINA_EXPECT_STATUS(call(z, zb.p, badBias, bb.p, half.ptr(dt), need), LAMINA_STATUS_SHAPE_MISMATCH, "bias");
  LAMINA_EXPECT_STATUS(call(badZ, zb.p, bias, bb.p, half.ptr(dt), need), LAMINA_STATUS_SHAPE_MISMATCH, "z");
  LAMINA_EXPECT_STATUS(call(z, zb.p, bias, nullptr, half.ptr(dt), need), LAMINA_STATUS_NULL_POINTER, "biasData");
  LAMINA_EXPECT_STATUS(call(z, zb.p, bias, bb.p, nullptr, need), LAMINA_STATUS_NULL_POINTER, "alpha2");
  LAMINA_EXPECT_STATUS(call(nullptr, zb.p, bias, bb.p, half.ptr(dt), need), LAMINA_STATUS_NULL_POINTER, "z");
  if (need > 0)
    LAMINA_EXPECT_STATUS(call(z, zb.p, bias, bb.p, half.ptr(dt), need - 1), LAMINA_STATUS_INSUFFICIENT_WORKSPACE,
                         "workspace");
  // z = y in place needs y's layout.
  lt::Tensor yNhwc(dt, st.y->dims, lt::Layout::NHWC);
  LAMINA_EXPECT_STATUS(call(yNhwc, yb.p, bias, bb.p, half.ptr(dt), need), LAMINA_STATUS_BAD_PARAM, "zData");
}

} // namespace
