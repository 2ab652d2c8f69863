// laminaMatmul against the fp64 reference GEMM (tests/reference/matmul_ref.cpp): transposes, padded
// leading dims, batch strides (including a broadcast B), alpha/beta, every dtype and math type; exact
// fp32 for DEFAULT/FMA math (no TF32), float accumulation for 16-bit data, batches beyond one cuBLAS
// call; bad input.
#include "common/test_util.h"
#include "reference/matmul_ref.h"

#include <cmath>

namespace {

struct Case {
  int64_t m, n, k;
  bool ta, tb;
  int64_t batch, pad; // pad: extra elements per row (ld) and between batch entries
  bool broadcastB;    // strideB = 0
};
const Case kCases[] = {{1, 1, 1, false, false, 1, 0, false},  {7, 5, 3, false, false, 1, 0, false},
                       {7, 5, 3, true, false, 2, 2, false},   {6, 9, 4, false, true, 3, 1, false},
                       {5, 4, 11, true, true, 2, 3, false},   {33, 17, 40, false, false, 4, 0, true},
                       {64, 48, 70, true, false, 1, 5, false}};

// A memory image: NaN everywhere but the matrix entries, which are random.
struct Image {
  std::vector<double> v;
  int64_t rows, cols, ld, stride, batch;
  Image(int64_t r, int64_t c, int64_t ld_, int64_t stride_, int64_t b, uint64_t seed, laminaDataType_t dt, bool fill)
      : rows(r), cols(c), ld(ld_), stride(stride_), batch(b) {
    v.assign(size_t((b - 1) * stride + (r - 1) * ld + c), NAN);
    auto vals = lt::randomValues(b * r * c, seed, dt);
    if (!fill)
      return;
    size_t q = 0;
    for (int64_t e = 0; e < b; ++e)
      for (int64_t i = 0; i < r; ++i)
        for (int64_t j = 0; j < c; ++j)
          v[size_t(e * stride + i * ld + j)] = vals[q++];
  }
};

void put(const lt::Handle &h, laminaDataType_t dt, const std::vector<double> &img, void *dev) {
  size_t es = dt == LAMINA_DATA_DOUBLE ? 8 : dt == LAMINA_DATA_FLOAT ? 4 : 2;
  std::vector<unsigned char> host(img.size() * es);
  for (size_t i = 0; i < img.size(); ++i)
    lt::storeValue(dt, host.data(), int64_t(i), img[i]);
  LAMINA_EXPECT_OK(laminaMemcpy(h, dev, host.data(), host.size(), LAMINA_MEMCPY_HOST_TO_DEVICE));
}
std::vector<double> get(const lt::Handle &h, laminaDataType_t dt, size_t n, const void *dev) {
  size_t es = dt == LAMINA_DATA_DOUBLE ? 8 : dt == LAMINA_DATA_FLOAT ? 4 : 2;
  std::vector<unsigned char> host(n * es);
  EXPECT_EQ(laminaMemcpy(h, host.data(), dev, host.size(), LAMINA_MEMCPY_DEVICE_TO_HOST), LAMINA_STATUS_SUCCESS);
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = lt::loadValue(dt, host.data(), int64_t(i));
  return out;
}

// Math types to run: the backend's usual ones, plus FMA on the GPU (where it changes the kernels).
std::vector<laminaMathType_t> matmulMathTypes() {
  std::vector<laminaMathType_t> v = lt::mathTypes();
  if (lt::testBackend() == LAMINA_BACKEND_CUDA)
    v.push_back(LAMINA_FMA_MATH);
  return v;
}

TEST(Matmul, MatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  const std::pair<double, double> alphaBeta[] = {{1, 0}, {0.7, 0.3}, {-2, 1}};
  uint64_t seed = 1;
  for (const Case &c : kCases)
    for (auto dt : lt::floatTypes())
      for (laminaMathType_t math : matmulMathTypes())
        for (auto [al, be] : alphaBeta) {
          SCOPED_TRACE(std::string(lt::dtypeName(dt)) + " math=" + std::to_string(int(math)) +
                       " m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
                       " ta=" + std::to_string(c.ta) + " tb=" + std::to_string(c.tb) + " alpha=" + std::to_string(al) +
                       " beta=" + std::to_string(be));
          const int64_t ar = c.ta ? c.k : c.m, ac = c.ta ? c.m : c.k, br = c.tb ? c.n : c.k, bc = c.tb ? c.k : c.n;
          const int64_t lda = ac + c.pad, ldb = bc + c.pad, ldc = c.n + c.pad;
          const int64_t sA = ar * lda + c.pad, sB = c.broadcastB ? 0 : br * ldb + c.pad, sC = c.m * ldc + c.pad;
          Image A(ar, ac, lda, sA, c.batch, seed++, dt, true);
          Image B(br, bc, ldb, sB, c.broadcastB ? 1 : c.batch, seed++, dt, true);
          Image C(c.m, c.n, ldc, sC, c.batch, seed++, dt, be != 0); // beta == 0: C is all NaN
          lt::Buffer dA(h, A.v.size() * 8), dB(h, B.v.size() * 8), dC(h, C.v.size() * 8);
          put(h, dt, A.v, dA.p);
          put(h, dt, B.v, dB.p);
          put(h, dt, C.v, dC.p);
          lt::Scalar sa(al), sb(be);
          LAMINA_ASSERT_OK(laminaMatmul(h, dt, math, c.ta ? LAMINA_OP_T : LAMINA_OP_N, c.tb ? LAMINA_OP_T : LAMINA_OP_N,
                                        c.m, c.n, c.k, sa.ptr(dt), dA.p, lda, sA, dB.p, ldb, sB, sb.ptr(dt), dC.p, ldc,
                                        sC, c.batch));
          std::vector<double> want = C.v;
          ref::matmul(c.ta, c.tb, c.m, c.n, c.k, al, A.v, lda, sA, B.v, ldb, sB, be, want, ldc, sC, c.batch);
          auto got = get(h, dt, C.v.size(), dC.p);
          // Compare the matrix entries; the gaps between rows and batches must stay untouched (NaN).
          std::vector<double> g, w;
          size_t gapsWritten = 0;
          for (size_t i = 0; i < got.size(); ++i) {
            if (std::isnan(want[i]) && !std::isnan(C.v[i]))
              continue;
            bool inMatrix = !std::isnan(want[i]);
            if (inMatrix) {
              g.push_back(got[i]);
              w.push_back(want[i]);
            } else if (!std::isnan(got[i])) {
              ++gapsWritten;
            }
          }
          EXPECT_EQ(g.size(), size_t(c.batch * c.m * c.n));
          EXPECT_EQ(gapsWritten, 0u);
          EXPECT_TRUE(lt::allClose(g, w, lt::tolerance(dt, math)));
        }
}

// Float data with DEFAULT or FMA math is exact fp32: 1 + 2^-12 survives (TF32 keeps 10 mantissa bits
// and would round it to 1). Every partial sum is exact in fp32, so the summation order does not matter.
TEST(Matmul, FloatDefaultAndFmaMathAreExactFp32) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  const int64_t n = 64;
  const double v = 1.0 + std::ldexp(1.0, -12);
  std::vector<double> a(size_t(n * n), v), b(size_t(n * n), 1.0);
  lt::Buffer dA(h, a.size() * 4), dB(h, b.size() * 4), dC(h, a.size() * 4);
  put(h, dt, a, dA.p);
  put(h, dt, b, dB.p);
  lt::Scalar one(1.0), zero(0.0);
  for (laminaMathType_t math : {LAMINA_DEFAULT_MATH, LAMINA_FMA_MATH}) {
    SCOPED_TRACE("math " + std::to_string(int(math)));
    LAMINA_ASSERT_OK(laminaMatmul(h, dt, math, LAMINA_OP_N, LAMINA_OP_N, n, n, n, one.ptr(dt), dA.p, n, 0, dB.p, n, 0,
                                  zero.ptr(dt), dC.p, n, 0, 1));
    auto got = get(h, dt, a.size(), dC.p);
    size_t wrong = 0;
    for (double g : got)
      wrong += g != double(n) * v;
    EXPECT_EQ(wrong, 0u) << "first value " << got[0] << ", want " << double(n) * v;
  }
}

// 16-bit data accumulates in float: a sum of 2560 ones is exact, where half accumulation would stop
// at 2048 (and bfloat16 at 256). 2560 is representable in both storage types.
TEST(Matmul, SixteenBitAccumulatesInFloat) {
  LT_HANDLE_OR_SKIP(h);
  const int64_t k = 2560, m = 4, n = 8;
  for (auto dt : {LAMINA_DATA_HALF, LAMINA_DATA_BFLOAT16})
    for (laminaMathType_t math : matmulMathTypes()) {
      SCOPED_TRACE(std::string(lt::dtypeName(dt)) + " math " + std::to_string(int(math)));
      std::vector<double> a(size_t(m * k), 1.0), b(size_t(k * n), 1.0);
      lt::Buffer dA(h, a.size() * 2, dt), dB(h, b.size() * 2, dt), dC(h, size_t(m * n) * 2, dt);
      put(h, dt, a, dA.p);
      put(h, dt, b, dB.p);
      lt::Scalar one(1.0), zero(0.0);
      LAMINA_ASSERT_OK(laminaMatmul(h, dt, math, LAMINA_OP_N, LAMINA_OP_N, m, n, k, one.ptr(dt), dA.p, k, 0, dB.p, n, 0,
                                    zero.ptr(dt), dC.p, n, 0, 1));
      auto got = get(h, dt, size_t(m * n), dC.p);
      size_t wrong = 0;
      for (double g : got)
        wrong += g != double(k);
      EXPECT_EQ(wrong, 0u) << "first value " << got[0];
    }
}

// More batch entries than one cuBLAS call takes (the GPU runs them in chunks of 65535): every entry
// C_b = A_b B_b with A_b = [[b, 1], [0, 1]] (mod 1024 to stay exact) and B_b = [[1, 0], [1, 1]].
TEST(Matmul, ManyBatchEntries) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  const int64_t batch = 70000;
  std::vector<double> a(size_t(batch * 4)), b(size_t(batch * 4)), want(size_t(batch * 4));
  for (int64_t e = 0; e < batch; ++e) {
    const double t = double(e % 1024);
    double *ae = &a[size_t(e * 4)], *be = &b[size_t(e * 4)], *we = &want[size_t(e * 4)];
    ae[0] = t, ae[1] = 1, ae[2] = 0, ae[3] = 1;
    be[0] = 1, be[1] = 0, be[2] = 1, be[3] = 1;
    we[0] = t + 1, we[1] = 1, we[2] = 1, we[3] = 1;
  }
  lt::Buffer dA(h, a.size() * 4), dB(h, b.size() * 4), dC(h, a.size() * 4);
  put(h, dt, a, dA.p);
  put(h, dt, b, dB.p);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_ASSERT_OK(laminaMatmul(h, dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_N, 2, 2, 2, one.ptr(dt), dA.p, 2, 4,
                                dB.p, 2, 4, zero.ptr(dt), dC.p, 2, 4, batch));
  auto got = get(h, dt, a.size(), dC.p);
  size_t wrong = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i] && !wrong++)
      first = i;
  EXPECT_EQ(wrong, 0u) << "first wrong element " << first << ": " << got[first] << " != " << want[first];
}

// On the GPU every matrix must be device memory of the handle's GPU.
TEST(Matmul, HostPointerIsRejectedOnGpu) {
  if (lt::testBackend() != LAMINA_BACKEND_CUDA)
    GTEST_SKIP() << "GPU only";
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Buffer B(h, 4096), C(h, 4096);
  std::vector<float> hostA(64, 1.0f);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_EXPECT_STATUS(laminaMatmul(h, dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_N, 4, 5, 6, one.ptr(dt),
                                    hostA.data(), 6, 0, B.p, 5, 0, zero.ptr(dt), C.p, 5, 0, 1),
                       LAMINA_STATUS_BAD_POINTER, "'A'");
  std::vector<float> hostC(64, 0.0f);
  LAMINA_EXPECT_STATUS(laminaMatmul(h, dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_N, 4, 5, 6, one.ptr(dt), B.p, 6,
                                    0, B.p, 5, 0, zero.ptr(dt), hostC.data(), 5, 0, 1),
                       LAMINA_STATUS_BAD_POINTER, "'C'");
}

TEST(Matmul, BadInput) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Buffer A(h, 4096), B(h, 4096), C(h, 4096);
  lt::Scalar one(1.0), zero(0.0);
  const void *p1 = one.ptr(dt), *p0 = zero.ptr(dt);
  // Enums as ints: out-of-range values must not be loaded as enums in the test (UBSan).
  auto mm = [&](laminaDataType_t t, int math, int ta, int64_t m, int64_t n, int64_t k, const void *al, const void *a,
                int64_t lda, int64_t ldb, void *c, int64_t ldc, int64_t sC, int64_t batch) {
    return laminaMatmul(h, t, laminaMathType_t(math), laminaOperation_t(ta), LAMINA_OP_N, m, n, k, al, a, lda, 0, B.p,
                        ldb, 0, p0, c, ldc, sC, batch);
  };
  LAMINA_EXPECT_OK(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 5, C.p, 5, 20, 2));
  LAMINA_EXPECT_STATUS(laminaMatmul(nullptr, dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 0,
                                    B.p, 5, 0, p0, C.p, 5, 0, 1),
                       LAMINA_STATUS_NULL_POINTER, "handle");
  LAMINA_EXPECT_STATUS(mm(LAMINA_DATA_INT32, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_NOT_SUPPORTED, "dataType");
  LAMINA_EXPECT_STATUS(mm(dt, 7, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 5, C.p, 5, 0, 1), LAMINA_STATUS_BAD_PARAM, "math");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, 2, 4, 5, 6, p1, A.p, 6, 5, C.p, 5, 0, 1), LAMINA_STATUS_BAD_PARAM,
                       "transA");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 0, 5, 6, p1, A.p, 6, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_BAD_PARAM, "'m'");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, -1, 6, p1, A.p, 6, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_BAD_PARAM, "'n'");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 0, p1, A.p, 6, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_BAD_PARAM, "'k'");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 5, C.p, 5, 0, 0),
                       LAMINA_STATUS_BAD_PARAM, "batch");
  // Leading dims shorter than a row: A is 4x6 (lda >= 6), transposed 6x4 (lda >= 4); B 6x5; C 4x5.
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, A.p, 5, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_BAD_PARAM, "lda");
  LAMINA_EXPECT_OK(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_T, 4, 5, 6, p1, A.p, 4, 5, C.p, 5, 0, 1));
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_T, 4, 5, 6, p1, A.p, 3, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_BAD_PARAM, "lda");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 4, C.p, 5, 0, 1),
                       LAMINA_STATUS_BAD_PARAM, "ldb");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 5, C.p, 4, 0, 1),
                       LAMINA_STATUS_BAD_PARAM, "ldc");
  // Batch entries of C overlapping (C spans 3*5+5 = 20 elements).
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 5, C.p, 5, 19, 2),
                       LAMINA_STATUS_BAD_STRIDES, "strideC");
  LAMINA_EXPECT_STATUS(laminaMatmul(h, dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, -1, B.p,
                                    5, 0, p0, C.p, 5, 0, 1),
                       LAMINA_STATUS_BAD_STRIDES, "strideA");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, nullptr, A.p, 6, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_NULL_POINTER, "alpha");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, nullptr, 6, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_NULL_POINTER, "'A'");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 5, nullptr, 5, 0, 1),
                       LAMINA_STATUS_NULL_POINTER, "'C'");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, INT64_MAX / 2, 5, 6, p1, A.p, 6, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_SIZE_OVERFLOW, "extent");
}

} // namespace
