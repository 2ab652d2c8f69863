// laminaMatmul against the fp64 reference GEMM (tests/reference/matmul_ref.cpp): transposes, padded
// leading dims, batch strides (including a broadcast B), alpha/beta, every dtype; bad input.
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

TEST(Matmul, MatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  const std::pair<double, double> alphaBeta[] = {{1, 0}, {0.7, 0.3}, {-2, 1}};
  uint64_t seed = 1;
  for (const Case &c : kCases)
    for (auto dt : lt::floatTypes())
      for (auto [al, be] : alphaBeta) {
        SCOPED_TRACE(std::string(lt::dtypeName(dt)) + " m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) +
                     " k=" + std::to_string(c.k) + " ta=" + std::to_string(c.ta) + " tb=" + std::to_string(c.tb) +
                     " alpha=" + std::to_string(al) + " beta=" + std::to_string(be));
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
        LAMINA_ASSERT_OK(laminaMatmul(h, dt, LAMINA_DEFAULT_MATH, c.ta ? LAMINA_OP_T : LAMINA_OP_N,
                                      c.tb ? LAMINA_OP_T : LAMINA_OP_N, c.m, c.n, c.k, sa.ptr(dt), dA.p, lda, sA, dB.p,
                                      ldb, sB, sb.ptr(dt), dC.p, ldc, sC, c.batch));
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
        EXPECT_TRUE(lt::allClose(g, w, lt::tolerance(dt)));
      }
}

TEST(Matmul, BadInput) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Buffer A(h, 4096), B(h, 4096), C(h, 4096);
  lt::Scalar one(1.0), zero(0.0);
  const void *p1 = one.ptr(dt), *p0 = zero.ptr(dt);
  auto mm = [&](laminaDataType_t t, laminaMathType_t math, laminaOperation_t ta, int64_t m, int64_t n, int64_t k,
                const void *al, const void *a, int64_t lda, int64_t ldb, void *c, int64_t ldc, int64_t sC,
                int64_t batch) {
    return laminaMatmul(h, t, math, ta, LAMINA_OP_N, m, n, k, al, a, lda, 0, B.p, ldb, 0, p0, c, ldc, sC, batch);
  };
  LAMINA_EXPECT_OK(mm(dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 5, C.p, 5, 20, 2));
  LAMINA_EXPECT_STATUS(laminaMatmul(nullptr, dt, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 0,
                                    B.p, 5, 0, p0, C.p, 5, 0, 1),
                       LAMINA_STATUS_NULL_POINTER, "handle");
  LAMINA_EXPECT_STATUS(mm(LAMINA_DATA_INT32, LAMINA_DEFAULT_MATH, LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_NOT_SUPPORTED, "dataType");
  LAMINA_EXPECT_STATUS(mm(dt, laminaMathType_t(7), LAMINA_OP_N, 4, 5, 6, p1, A.p, 6, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_BAD_PARAM, "math");
  LAMINA_EXPECT_STATUS(mm(dt, LAMINA_DEFAULT_MATH, laminaOperation_t(2), 4, 5, 6, p1, A.p, 6, 5, C.p, 5, 0, 1),
                       LAMINA_STATUS_BAD_PARAM, "transA");
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
