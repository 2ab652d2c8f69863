// Dropout against the reference mask (tests/reference/dropout_ref.cpp: an independent Philox with
// Random123's known answers): forward/backward for every dtype and layout, determinism by seed,
// call-to-call variation, keep rate, finite-difference gradient, bad input.
#include "common/test_util.h"
#include "reference/dropout_ref.h"

#include <cmath>

namespace {

using lt::Layout;
using Dims = std::vector<int64_t>;

TEST(Dropout, ReferencePhiloxKnownAnswers) {
  // Random123 kat_vectors for philox4x32_10.
  EXPECT_EQ(ref::philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(ref::philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(ref::philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

// A dropout descriptor with its own states.
struct Dropout {
  const lt::Handle &h;
  laminaDropoutDescriptor_t d = nullptr;
  void *states = nullptr;
  size_t stateBytes = 0;
  Dropout(const lt::Handle &h_, float p, unsigned long long seed) : h(h_) {
    laminaCreateDropoutDescriptor(&d);
    laminaDropoutGetStatesSize(h, &stateBytes);
    laminaMalloc(h, &states, stateBytes);
    EXPECT_EQ(laminaSetDropoutDescriptor(d, h, p, states, stateBytes, seed), LAMINA_STATUS_SUCCESS)
        << laminaGetLastErrorMessage();
  }
  ~Dropout() {
    laminaDestroyDropoutDescriptor(d);
    laminaFree(h, states);
  }
  operator laminaDropoutDescriptor_t() const { return d; }
};

std::vector<uint8_t> getMask(const lt::Handle &h, const void *reserve, size_t n) {
  std::vector<uint8_t> m(n);
  laminaMemcpy(h, m.data(), reserve, n, LAMINA_MEMCPY_DEVICE_TO_HOST);
  return m;
}

TEST(Dropout, ForwardAndBackwardMatchReference) {
  LT_HANDLE_OR_SKIP(h);
  const Dims shapes[] = {{2, 3, 4, 5}, {3, 7, 5}, {2, 4, 40, 33}};
  uint64_t seed = 1;
  for (const Dims &dims : shapes)
    for (float p : {0.0f, 0.3f, 0.75f})
      for (auto dt : lt::floatTypes())
        for (Layout l : {Layout::NCHW, Layout::NHWC, Layout::Strided}) {
          SCOPED_TRACE(std::string(lt::dtypeName(dt)) + " " + lt::layoutName(l) + " p=" + std::to_string(p) +
                       " n=" + std::to_string(dims.size()));
          lt::Tensor x(dt, dims, l), y(dt, dims, Layout::NCHW);
          size_t rbytes = 0;
          LAMINA_ASSERT_OK(laminaDropoutGetReserveSpaceSize(x, &rbytes));
          ASSERT_EQ(rbytes, size_t(x.numel()));
          lt::Buffer X(h, x.bytes(), dt), Y(h, y.bytes(), dt), R(h, rbytes, LAMINA_DATA_UINT8);
          lt::Buffer DX(h, x.bytes(), dt);
          const unsigned long long s = 0x1234567890ull + seed;
          Dropout drop(h, p, s);
          auto xv = lt::randomValues(x.numel(), seed++, dt);
          lt::upload(h, x, xv, X.p);
          for (uint64_t call = 0; call < 2; ++call) {
            Y.poison();
            LAMINA_ASSERT_OK(laminaDropoutForward(h, drop, x, X.p, y, Y.p, R.p, rbytes));
            auto mask = ref::dropoutMask(s, call, x.numel(), p);
            EXPECT_EQ(getMask(h, R.p, rbytes), mask);
            std::vector<double> want(xv.size());
            for (size_t i = 0; i < xv.size(); ++i)
              want[i] = mask[i] ? xv[i] / (1.0 - double(p)) : 0.0;
            EXPECT_TRUE(lt::allClose(lt::download(h, y, Y.p), want, lt::tolerance(dt)));
            // Backward with dy = x (NHWC-strided dy vs x's layout for dx): dx = dy * mask / (1 - p).
            LAMINA_ASSERT_OK(laminaDropoutBackward(h, drop, x, X.p, x, DX.p, R.p, rbytes));
            EXPECT_TRUE(lt::allClose(lt::download(h, x, DX.p), want, lt::tolerance(dt)));
          }
        }
}

TEST(Dropout, MasksAreDeterministicBySeedAndVaryByCall) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Tensor x(dt, {4, 8, 32, 32});
  const size_t n = size_t(x.numel());
  lt::Buffer X(h, x.bytes(), dt), Y(h, x.bytes(), dt), R(h, n, LAMINA_DATA_UINT8);
  lt::upload(h, x, lt::randomValues(x.numel(), 3, dt), X.p);
  auto run = [&](Dropout &d) {
    EXPECT_EQ(laminaDropoutForward(h, d, x, X.p, x, Y.p, R.p, n), LAMINA_STATUS_SUCCESS);
    return getMask(h, R.p, n);
  };
  Dropout a(h, 0.4f, 42), b(h, 0.4f, 42), c(h, 0.4f, 43);
  auto a0 = run(a), a1 = run(a), b0 = run(b), c0 = run(c);
  EXPECT_EQ(a0, ref::dropoutMask(42, 0, x.numel(), 0.4f)); // a tensor large enough to run in parallel
  EXPECT_EQ(a1, ref::dropoutMask(42, 1, x.numel(), 0.4f));
  EXPECT_EQ(a0, b0);
  EXPECT_NE(a0, a1);
  EXPECT_NE(a0, c0);
  // Re-setting the descriptor restarts the call count.
  LAMINA_ASSERT_OK(laminaSetDropoutDescriptor(a, h, 0.4f, a.states, a.stateBytes, 42));
  EXPECT_EQ(run(a), a0);
  // Keep rate ~ 1 - p: 131072 Bernoulli(0.6) draws, sd 0.0014.
  double kept = 0;
  for (auto m : a0)
    kept += m;
  EXPECT_NEAR(kept / double(n), 0.6, 0.01);
  // Agreement of neighbouring masks would be 0.52 if independent.
  double same = 0;
  for (size_t i = 0; i < n; ++i)
    same += a0[i] == a1[i];
  EXPECT_NEAR(same / double(n), 0.52, 0.01);
  float p = 0;
  void *st = nullptr;
  unsigned long long seed = 0;
  LAMINA_ASSERT_OK(laminaGetDropoutDescriptor(c, &p, &st, &seed));
  EXPECT_EQ(p, 0.4f);
  EXPECT_EQ(st, c.states);
  EXPECT_EQ(seed, 43u);
}

// Backward against central differences of the forward (same mask each time: the descriptor is
// re-set before each call), double.
TEST(Dropout, BackwardMatchesFiniteDifferences) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_DOUBLE;
  lt::Tensor x(dt, {2, 3, 4, 5}, Layout::Strided);
  const size_t n = size_t(x.numel());
  lt::Buffer X(h, x.bytes(), dt), Y(h, x.bytes(), dt), DY(h, x.bytes(), dt), DX(h, x.bytes(), dt), R(h, n);
  Dropout d(h, 0.35f, 7);
  auto xv = lt::randomValues(x.numel(), 1, dt), w = lt::randomValues(x.numel(), 2, dt);
  auto loss = [&](const std::vector<double> &xs) {
    EXPECT_EQ(laminaSetDropoutDescriptor(d, h, 0.35f, d.states, d.stateBytes, 7), LAMINA_STATUS_SUCCESS);
    lt::upload(h, x, xs, X.p);
    EXPECT_EQ(laminaDropoutForward(h, d, x, X.p, x, Y.p, R.p, n), LAMINA_STATUS_SUCCESS);
    auto y = lt::download(h, x, Y.p);
    double L = 0;
    for (size_t i = 0; i < n; ++i)
      L += w[i] * y[i];
    return L;
  };
  loss(xv);
  lt::upload(h, x, w, DY.p);
  LAMINA_ASSERT_OK(laminaDropoutBackward(h, d, x, DY.p, x, DX.p, R.p, n));
  std::vector<double> num(n);
  const double step = 1e-6;
  for (size_t i = 0; i < n; ++i) {
    double keep = xv[i];
    xv[i] = keep + step;
    double up = loss(xv);
    xv[i] = keep - step;
    double dn = loss(xv);
    xv[i] = keep;
    num[i] = (up - dn) / (2 * step);
  }
  EXPECT_TRUE(lt::allClose(lt::download(h, x, DX.p), num, 1e-6));
}

// CUDA: the masks (and outputs) are bit-identical to a CPU handle's for the same seed, call after
// call, and the forward advances the call counter in the device-resident states.
TEST(Dropout, CudaMatchesCpuBitForBit) {
  if (lt::testBackend() != LAMINA_BACKEND_CUDA)
    GTEST_SKIP() << "compares the CUDA backend with the CPU one";
  LT_HANDLE_OR_SKIP(h);
  laminaHandle_t cpu = nullptr;
  LAMINA_ASSERT_OK(laminaCreateWithBackend(&cpu, LAMINA_BACKEND_CPU));
  struct Cleanup {
    laminaHandle_t cpu;
    std::vector<void *> ptrs;
    ~Cleanup() {
      for (void *p : ptrs)
        laminaFree(cpu, p);
      laminaDestroy(cpu);
    }
  } cleanup{cpu, {}};
  auto cpuAlloc = [&](size_t bytes) {
    void *p = nullptr;
    EXPECT_EQ(laminaMalloc(cpu, &p, bytes), LAMINA_STATUS_SUCCESS);
    cleanup.ptrs.push_back(p);
    return p;
  };
  const float p = 0.37f;
  const unsigned long long seed = 0xfeedbeef12345ull;
  for (auto dt : {LAMINA_DATA_FLOAT, LAMINA_DATA_HALF}) {
    SCOPED_TRACE(lt::dtypeName(dt));
    // 3*5*7*11 = 1155 elements (not a multiple of 4: a partial Philox block at the end), NHWC x.
    lt::Tensor x(dt, {3, 5, 7, 11}, Layout::NHWC), y(dt, {3, 5, 7, 11});
    const size_t n = size_t(x.numel());
    lt::Buffer X(h, x.bytes(), dt), Y(h, y.bytes(), dt), R(h, n, LAMINA_DATA_UINT8);
    lt::upload(h, x, lt::randomValues(x.numel(), 11, dt), X.p);
    std::vector<uint8_t> xBytes(x.bytes());
    LAMINA_ASSERT_OK(laminaMemcpy(h, xBytes.data(), X.p, x.bytes(), LAMINA_MEMCPY_DEVICE_TO_HOST));
    void *Xc = cpuAlloc(x.bytes()), *Yc = cpuAlloc(y.bytes()), *Rc = cpuAlloc(n), *Sc = cpuAlloc(16);
    LAMINA_ASSERT_OK(laminaMemcpy(cpu, Xc, xBytes.data(), x.bytes(), LAMINA_MEMCPY_HOST_TO_DEVICE));
    laminaDropoutDescriptor_t dc = nullptr;
    LAMINA_ASSERT_OK(laminaCreateDropoutDescriptor(&dc));
    LAMINA_ASSERT_OK(laminaSetDropoutDescriptor(dc, cpu, p, Sc, 16, seed));
    Dropout dg(h, p, seed);
    for (int call = 0; call < 2; ++call) {
      SCOPED_TRACE("call " + std::to_string(call));
      LAMINA_EXPECT_OK(laminaDropoutForward(h, dg, x, X.p, y, Y.p, R.p, n));
      LAMINA_EXPECT_OK(laminaDropoutForward(cpu, dc, x, Xc, y, Yc, Rc, n));
      std::vector<uint8_t> maskCpu(n), yCpu(y.bytes()), yGpu(y.bytes());
      LAMINA_EXPECT_OK(laminaMemcpy(cpu, maskCpu.data(), Rc, n, LAMINA_MEMCPY_DEVICE_TO_HOST));
      LAMINA_EXPECT_OK(laminaMemcpy(cpu, yCpu.data(), Yc, y.bytes(), LAMINA_MEMCPY_DEVICE_TO_HOST));
      LAMINA_EXPECT_OK(laminaMemcpy(h, yGpu.data(), Y.p, y.bytes(), LAMINA_MEMCPY_DEVICE_TO_HOST));
      EXPECT_EQ(getMask(h, R.p, n), maskCpu);
      EXPECT_EQ(yGpu, yCpu);
    }
    uint64_t st[2] = {};
    LAMINA_EXPECT_OK(laminaMemcpy(h, st, dg.states, sizeof st, LAMINA_MEMCPY_DEVICE_TO_HOST));
    EXPECT_EQ(st[0], uint64_t(seed));
    EXPECT_EQ(st[1], 2u);
    laminaDestroyDropoutDescriptor(dc);
  }
}

TEST(Dropout, BadInput) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Tensor x(dt, {2, 3, 4, 5}), wrong(dt, {2, 3, 4, 6}), half(LAMINA_DATA_HALF, {2, 3, 4, 5});
  lt::Tensor overlap(dt, {2, 3, 4, 5}, {0, 20, 5, 1}), ints(LAMINA_DATA_INT32, {2, 3, 4, 5});
  const size_t n = 120;
  lt::Buffer X(h, x.bytes(), dt), Y(h, x.bytes(), dt), R(h, n), S(h, 64);
  laminaDropoutDescriptor_t d = nullptr, unset = nullptr;
  LAMINA_ASSERT_OK(laminaCreateDropoutDescriptor(&d));
  LAMINA_ASSERT_OK(laminaCreateDropoutDescriptor(&unset));
  size_t sb = 0;
  LAMINA_ASSERT_OK(laminaDropoutGetStatesSize(h, &sb));
  EXPECT_GT(sb, 0u);
  LAMINA_EXPECT_STATUS(laminaDropoutGetStatesSize(h, nullptr), LAMINA_STATUS_NULL_POINTER, "bytes");
  LAMINA_EXPECT_STATUS(laminaDropoutGetStatesSize(nullptr, &sb), LAMINA_STATUS_NULL_POINTER, "handle");
  LAMINA_EXPECT_STATUS(laminaDropoutGetReserveSpaceSize(nullptr, &sb), LAMINA_STATUS_NULL_POINTER, "'x'");
  LAMINA_EXPECT_STATUS(laminaDropoutGetReserveSpaceSize(x, nullptr), LAMINA_STATUS_NULL_POINTER, "bytes");
  LAMINA_EXPECT_STATUS(laminaSetDropoutDescriptor(d, h, 1.0f, S.p, sb, 1), LAMINA_STATUS_BAD_PARAM, "dropout");
  LAMINA_EXPECT_STATUS(laminaSetDropoutDescriptor(d, h, -0.1f, S.p, sb, 1), LAMINA_STATUS_BAD_PARAM, "dropout");
  LAMINA_EXPECT_STATUS(laminaSetDropoutDescriptor(d, h, NAN, S.p, sb, 1), LAMINA_STATUS_BAD_PARAM, "dropout");
  LAMINA_EXPECT_STATUS(laminaSetDropoutDescriptor(d, h, 0.5f, nullptr, sb, 1), LAMINA_STATUS_NULL_POINTER, "states");
  LAMINA_EXPECT_STATUS(laminaSetDropoutDescriptor(d, h, 0.5f, S.p, sb - 1, 1), LAMINA_STATUS_INSUFFICIENT_WORKSPACE,
                       "stateBytes");
  LAMINA_EXPECT_STATUS(laminaSetDropoutDescriptor(d, nullptr, 0.5f, S.p, sb, 1), LAMINA_STATUS_NULL_POINTER, "handle");
  LAMINA_EXPECT_STATUS(
      laminaSetDropoutDescriptor(reinterpret_cast<laminaDropoutDescriptor_t>(x.d), h, 0.5f, S.p, sb, 1),
      LAMINA_STATUS_WRONG_DESCRIPTOR, "desc");
  LAMINA_ASSERT_OK(laminaSetDropoutDescriptor(d, h, 0.5f, S.p, sb, 1));

  LAMINA_EXPECT_OK(laminaDropoutForward(h, d, x, X.p, x, Y.p, R.p, n));
  LAMINA_EXPECT_STATUS(laminaDropoutForward(h, unset, x, X.p, x, Y.p, R.p, n), LAMINA_STATUS_NOT_INITIALIZED, "desc");
  LAMINA_EXPECT_STATUS(laminaDropoutForward(h, d, x, X.p, x, Y.p, R.p, n - 1), LAMINA_STATUS_INSUFFICIENT_WORKSPACE,
                       "reserveBytes");
  LAMINA_EXPECT_STATUS(laminaDropoutForward(h, d, x, X.p, x, Y.p, nullptr, n), LAMINA_STATUS_NULL_POINTER,
                       "reserveSpace");
  LAMINA_EXPECT_STATUS(laminaDropoutForward(h, d, x, X.p, wrong, Y.p, R.p, n), LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(laminaDropoutForward(h, d, x, X.p, half, Y.p, R.p, n), LAMINA_STATUS_TYPE_MISMATCH, "'y'");
  LAMINA_EXPECT_STATUS(laminaDropoutForward(h, d, x, X.p, overlap, Y.p, R.p, n), LAMINA_STATUS_BAD_STRIDES, "'y'");
  LAMINA_EXPECT_STATUS(laminaDropoutForward(h, d, ints, X.p, ints, Y.p, R.p, n), LAMINA_STATUS_NOT_SUPPORTED, "'x'");
  LAMINA_EXPECT_STATUS(laminaDropoutForward(h, d, x, nullptr, x, Y.p, R.p, n), LAMINA_STATUS_NULL_POINTER, "xData");
  LAMINA_EXPECT_STATUS(laminaDropoutForward(h, d, x, X.p, x, nullptr, R.p, n), LAMINA_STATUS_NULL_POINTER, "yData");
  LAMINA_EXPECT_STATUS(laminaDropoutForward(h, d, x, X.p, overlap, X.p, R.p, n), LAMINA_STATUS_BAD_STRIDES, "'y'");

  LAMINA_EXPECT_OK(laminaDropoutBackward(h, d, x, X.p, x, Y.p, R.p, n));
  LAMINA_EXPECT_STATUS(laminaDropoutBackward(h, d, x, X.p, x, Y.p, R.p, 3), LAMINA_STATUS_INSUFFICIENT_WORKSPACE,
                       "reserveBytes");
  LAMINA_EXPECT_STATUS(laminaDropoutBackward(h, d, x, X.p, wrong, Y.p, R.p, n), LAMINA_STATUS_SHAPE_MISMATCH, "'dx'");
  LAMINA_EXPECT_STATUS(laminaDropoutBackward(h, d, x, X.p, half, Y.p, R.p, n), LAMINA_STATUS_TYPE_MISMATCH, "'dx'");
  LAMINA_EXPECT_STATUS(laminaDropoutBackward(h, d, x, nullptr, x, Y.p, R.p, n), LAMINA_STATUS_NULL_POINTER, "dyData");
  LAMINA_EXPECT_STATUS(laminaDropoutBackward(h, nullptr, x, X.p, x, Y.p, R.p, n), LAMINA_STATUS_NULL_POINTER, "desc");

  float p = 0;
  LAMINA_EXPECT_STATUS(laminaGetDropoutDescriptor(unset, &p, nullptr, nullptr), LAMINA_STATUS_NOT_INITIALIZED, "desc");
  LAMINA_EXPECT_OK(laminaDestroyDropoutDescriptor(d));
  LAMINA_EXPECT_OK(laminaDestroyDropoutDescriptor(unset));
}

} // namespace
