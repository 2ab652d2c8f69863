// laminaReduceTensor against the fp64 reference (tests/reference/reduce_ref.cpp): every op, dtype,
// layout and alpha/beta, with flattened indices for MIN/MAX/AMAX; size queries; bad input.
#include "common/test_util.h"
#include "reference/reduce_ref.h"

#include <cmath>
#include <cstring>

namespace {

using lt::Layout;
using Dims = std::vector<int64_t>;

struct ReduceDesc {
  laminaReduceTensorDescriptor_t d = nullptr;
  ReduceDesc(laminaReduceTensorOp_t op, laminaReduceTensorIndices_t idx = LAMINA_REDUCE_TENSOR_NO_INDICES,
             laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN) {
    laminaCreateReduceTensorDescriptor(&d);
    laminaSetReduceTensorDescriptor(d, op, LAMINA_DATA_FLOAT, nan, idx);
  }
  ~ReduceDesc() { laminaDestroyReduceTensorDescriptor(d); }
  operator laminaReduceTensorDescriptor_t() const { return d; }
};

const std::pair<laminaReduceTensorOp_t, ref::Reduce> kOps[] = {
    {LAMINA_REDUCE_TENSOR_ADD, ref::Reduce::Add},     {LAMINA_REDUCE_TENSOR_MUL, ref::Reduce::Mul},
    {LAMINA_REDUCE_TENSOR_MIN, ref::Reduce::Min},     {LAMINA_REDUCE_TENSOR_MAX, ref::Reduce::Max},
    {LAMINA_REDUCE_TENSOR_AMAX, ref::Reduce::Amax},   {LAMINA_REDUCE_TENSOR_AVG, ref::Reduce::Avg},
    {LAMINA_REDUCE_TENSOR_NORM1, ref::Reduce::Norm1}, {LAMINA_REDUCE_TENSOR_NORM2, ref::Reduce::Norm2}};

bool isArg(laminaReduceTensorOp_t op) {
  return op == LAMINA_REDUCE_TENSOR_MIN || op == LAMINA_REDUCE_TENSOR_MAX || op == LAMINA_REDUCE_TENSOR_AMAX;
}

// Runs one reduction and checks values (and indices for the arg ops) against the reference.
void check(const lt::Handle &h, laminaReduceTensorOp_t op, ref::Reduce rop, laminaDataType_t dt, Layout l,
           const Dims &ad, const Dims &cd, double al, double be, uint64_t seed) {
  lt::Tensor a(dt, ad, l), c(dt, cd, l);
  lt::Buffer A(h, a.bytes(), dt), C(h, c.bytes(), dt);
  // MUL: factors near 1 so products of ~100 stay in half's range.
  auto av = op == LAMINA_REDUCE_TENSOR_MUL ? lt::randomValues(a.numel(), seed, dt, 0.6, 1.5)
                                           : lt::randomValues(a.numel(), seed, dt);
  auto cv = lt::randomValues(c.numel(), seed + 1, dt);
  lt::upload(h, a, av, A.p);
  if (be != 0)
    lt::upload(h, c, cv, C.p);
  ReduceDesc rd(op, isArg(op) ? LAMINA_REDUCE_TENSOR_FLATTENED_INDICES : LAMINA_REDUCE_TENSOR_NO_INDICES);
  size_t idxBytes = 1, wsBytes = 1;
  LAMINA_ASSERT_OK(laminaGetReductionIndicesSize(h, rd, a, c, &idxBytes));
  LAMINA_ASSERT_OK(laminaGetReductionWorkspaceSize(h, rd, a, c, &wsBytes));
  EXPECT_EQ(idxBytes, isArg(op) ? size_t(c.numel()) * 4 : 0u);
  lt::Buffer I(h, idxBytes + 4, LAMINA_DATA_INT32), W(h, wsBytes + 1);
  std::vector<int32_t> poison(idxBytes / 4 + 1, -7);
  laminaMemcpy(h, I.p, poison.data(), poison.size() * 4, LAMINA_MEMCPY_HOST_TO_DEVICE);
  lt::Scalar sa(al), sb(be);
  LAMINA_ASSERT_OK(laminaReduceTensor(h, rd, idxBytes ? I.p : nullptr, idxBytes, wsBytes ? W.p : nullptr, wsBytes,
                                      sa.ptr(dt), a, A.p, sb.ptr(dt), c, C.p));
  std::vector<int32_t> wantIdx;
  auto r = ref::reduce(rop, ad, av, cd, &wantIdx);
  for (size_t i = 0; i < r.size(); ++i)
    r[i] = al * r[i] + (be != 0 ? be * cv[i] : 0.0);
  EXPECT_TRUE(lt::allClose(lt::download(h, c, C.p), r, lt::tolerance(dt)));
  if (idxBytes) {
    std::vector<int32_t> got(idxBytes / 4);
    laminaMemcpy(h, got.data(), I.p, idxBytes, LAMINA_MEMCPY_DEVICE_TO_HOST);
    EXPECT_EQ(got, wantIdx);
  }
}

TEST(Reduce, MatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  const std::pair<Dims, Dims> cases[] = {{{2, 3, 4, 5}, {1, 3, 1, 1}}, {{2, 3, 4, 5}, {2, 1, 4, 5}},
                                         {{2, 3, 4, 5}, {1, 1, 1, 1}}, {{2, 3, 4, 5}, {2, 3, 4, 1}},
                                         {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{3, 6, 2, 7}, {3, 1, 2, 1}}};
  const std::pair<double, double> alphaBeta[] = {{1, 0}, {0.7, 0.3}};
  uint64_t seed = 1;
  for (auto [op, rop] : kOps)
    for (const auto &pc : cases)
      for (auto dt : lt::floatTypes())
        for (Layout l : {Layout::NCHW, Layout::NHWC, Layout::Strided})
          for (auto [al, be] : alphaBeta) {
            SCOPED_TRACE(std::string(lt::dtypeName(dt)) + " " + lt::layoutName(l) + " op " + std::to_string(int(op)) +
                         " c=" + std::to_string(pc.second[0]) + std::to_string(pc.second[1]) +
                         std::to_string(pc.second[2]) + std::to_string(pc.second[3]) + " beta=" + std::to_string(be));
            check(h, op, rop, dt, l, pc.first, pc.second, al, be, seed += 2);
          }
}

// Few outputs over a large block: the CPU splits the block across threads and merges in order.
TEST(Reduce, LargeBlockSplitAcrossThreads) {
  LT_HANDLE_OR_SKIP(h);
  const Dims ad = {4, 8, 64, 80}, cd1 = {1, 1, 1, 1}, cd2 = {1, 2, 1, 1};
  for (auto [op, rop] : kOps) {
    if (op == LAMINA_REDUCE_TENSOR_MUL)
      continue; // a product of 160k factors is not a useful check
    for (auto dt : {LAMINA_DATA_FLOAT, LAMINA_DATA_DOUBLE}) {
      SCOPED_TRACE(std::string(lt::dtypeName(dt)) + " op " + std::to_string(int(op)));
      check(h, op, rop, dt, Layout::NHWC, ad, cd1, 1.0, 0.0, 77);
      check(h, op, rop, dt, Layout::Strided, Dims{4, 2, 128, 80}, cd2, 0.5, 0.5, 78);
    }
  }
}

TEST(Reduce, NanPropagation) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Tensor a(dt, {1, 1, 2, 8}), c(dt, {1, 1, 2, 1});
  lt::Buffer A(h, a.bytes(), dt), C(h, c.bytes(), dt), I(h, 8, LAMINA_DATA_INT32);
  auto av = lt::randomValues(16, 3, dt);
  av[5] = NAN; // row 0 has a NaN at index 5
  lt::upload(h, a, av, A.p);
  lt::Scalar one(1.0), zero(0.0);
  for (auto nan : {LAMINA_NOT_PROPAGATE_NAN, LAMINA_PROPAGATE_NAN}) {
    ReduceDesc rd(LAMINA_REDUCE_TENSOR_MAX, LAMINA_REDUCE_TENSOR_FLATTENED_INDICES, nan);
    LAMINA_ASSERT_OK(laminaReduceTensor(h, rd, I.p, 8, nullptr, 0, one.ptr(dt), a, A.p, zero.ptr(dt), c, C.p));
    auto got = lt::download(h, c, C.p);
    int32_t idx[2];
    laminaMemcpy(h, idx, I.p, 8, LAMINA_MEMCPY_DEVICE_TO_HOST);
    std::vector<int32_t> wantIdx;
    auto want = ref::reduce(ref::Reduce::Max, a.dims, av, c.dims, &wantIdx); // NaN skipped
    if (nan == LAMINA_PROPAGATE_NAN) {
      EXPECT_TRUE(std::isnan(got[0]));
      EXPECT_EQ(idx[0], 5);
    } else {
      EXPECT_EQ(got[0], want[0]);
      EXPECT_EQ(idx[0], wantIdx[0]);
    }
    EXPECT_EQ(got[1], want[1]);
    EXPECT_EQ(idx[1], wantIdx[1]);
  }
}

// Ties and several NaNs in blocks large enough for the CUDA block kernel's tree merge (1000
// elements): the smallest index must win a tie, and the first NaN under NaN propagation, as in a
// sequential scan.
TEST(Reduce, TiesAndNansKeepTheFirstIndexInLargeBlocks) {
  LT_HANDLE_OR_SKIP(h);
  for (auto dt : {LAMINA_DATA_FLOAT, LAMINA_DATA_HALF}) {
    SCOPED_TRACE(lt::dtypeName(dt));
    lt::Tensor a(dt, {3, 1, 1, 1000}), c(dt, {3, 1, 1, 1});
    std::vector<double> av(3000, 0.25);
    av[300] = av[700] = av[999] = 2.0;                      // row 0: MAX/AMAX tie at 300, 700, 999
    av[1000 + 900] = av[1000 + 400] = -2.0;                 // row 1: MIN and AMAX tie at 400, 900
    av[1000 + 950] = 2.0;                                   //        (AMAX: 400 still first)
    av[2000 + 600] = av[2000 + 200] = av[2000 + 800] = NAN; // row 2: NaNs at 200, 600, 800
    av[2000 + 100] = 3.0;
    lt::Buffer A(h, a.bytes(), dt), C(h, c.bytes(), dt), I(h, 12, LAMINA_DATA_INT32);
    lt::upload(h, a, av, A.p);
    lt::Scalar one(1.0), zero(0.0);
    struct Case {
      laminaReduceTensorOp_t op;
      laminaNanPropagation_t nan;
      std::vector<double> value;
      std::vector<int32_t> index;
    };
    const Case cases[] = {
        {LAMINA_REDUCE_TENSOR_MAX, LAMINA_NOT_PROPAGATE_NAN, {2.0, 2.0, 3.0}, {300, 950, 100}},
        {LAMINA_REDUCE_TENSOR_MAX, LAMINA_PROPAGATE_NAN, {2.0, 2.0, NAN}, {300, 950, 200}},
        {LAMINA_REDUCE_TENSOR_MIN, LAMINA_NOT_PROPAGATE_NAN, {0.25, -2.0, 0.25}, {0, 400, 0}},
        {LAMINA_REDUCE_TENSOR_AMAX, LAMINA_NOT_PROPAGATE_NAN, {2.0, 2.0, 3.0}, {300, 400, 100}},
        {LAMINA_REDUCE_TENSOR_AMAX, LAMINA_PROPAGATE_NAN, {2.0, 2.0, NAN}, {300, 400, 200}},
    };
    for (const Case &k : cases) {
      SCOPED_TRACE("op " + std::to_string(int(k.op)) + " nan " + std::to_string(int(k.nan)));
      ReduceDesc rd(k.op, LAMINA_REDUCE_TENSOR_FLATTENED_INDICES, k.nan);
      C.poison();
      LAMINA_ASSERT_OK(laminaReduceTensor(h, rd, I.p, 12, nullptr, 0, one.ptr(dt), a, A.p, zero.ptr(dt), c, C.p));
      auto got = lt::download(h, c, C.p);
      std::vector<int32_t> idx(3);
      laminaMemcpy(h, idx.data(), I.p, 12, LAMINA_MEMCPY_DEVICE_TO_HOST);
      EXPECT_EQ(idx, k.index);
      for (int r = 0; r < 3; ++r) {
        if (std::isnan(k.value[size_t(r)]))
          EXPECT_TRUE(std::isnan(got[size_t(r)])) << "row " << r;
        else
          EXPECT_EQ(got[size_t(r)], k.value[size_t(r)]) << "row " << r;
      }
    }
  }
}

// CUDA: host memory is not device memory (BAD_POINTER), for data and indices alike.
TEST(Reduce, CudaRejectsHostPointers) {
  if (lt::testBackend() != LAMINA_BACKEND_CUDA)
    GTEST_SKIP() << "host pointers are the CPU backend's memory";
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Tensor a(dt, {2, 3, 4, 5}), c(dt, {1, 3, 1, 1});
  lt::Buffer A(h, a.bytes(), dt), C(h, c.bytes(), dt), I(h, 12, LAMINA_DATA_INT32);
  std::vector<float> hostA(120, 1.f), hostC(3);
  std::vector<int32_t> hostI(3);
  lt::Scalar one(1.0), zero(0.0);
  ReduceDesc amax(LAMINA_REDUCE_TENSOR_AMAX, LAMINA_REDUCE_TENSOR_FLATTENED_INDICES);
  LAMINA_EXPECT_STATUS(
      laminaReduceTensor(h, amax, I.p, 12, nullptr, 0, one.ptr(dt), a, hostA.data(), zero.ptr(dt), c, C.p),
      LAMINA_STATUS_BAD_POINTER, "aData");
  LAMINA_EXPECT_STATUS(
      laminaReduceTensor(h, amax, I.p, 12, nullptr, 0, one.ptr(dt), a, A.p, zero.ptr(dt), c, hostC.data()),
      LAMINA_STATUS_BAD_POINTER, "cData");
  LAMINA_EXPECT_STATUS(
      laminaReduceTensor(h, amax, hostI.data(), 12, nullptr, 0, one.ptr(dt), a, A.p, zero.ptr(dt), c, C.p),
      LAMINA_STATUS_BAD_POINTER, "indices");
  LAMINA_EXPECT_OK(laminaReduceTensor(h, amax, I.p, 12, nullptr, 0, one.ptr(dt), a, A.p, zero.ptr(dt), c, C.p));
}

TEST(Reduce, BadInput) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Tensor a(dt, {2, 3, 4, 5}), c(dt, {1, 3, 1, 1}), badShape(dt, {1, 2, 1, 1}), badRank(dt, {3, 1, 1});
  lt::Tensor dbl(LAMINA_DATA_DOUBLE, {1, 3, 1, 1}), overlap(dt, {2, 3, 1, 1}, {0, 1, 1, 1});
  lt::Tensor ints(LAMINA_DATA_INT32, {2, 3, 4, 5}), intsC(LAMINA_DATA_INT32, {1, 3, 1, 1});
  lt::Buffer A(h, a.bytes(), dt), C(h, a.bytes(), dt), I(h, 64, LAMINA_DATA_INT32);
  lt::Scalar one(1.0), zero(0.0);
  const void *p1 = one.ptr(dt), *p0 = zero.ptr(dt);
  ReduceDesc add(LAMINA_REDUCE_TENSOR_ADD), amax(LAMINA_REDUCE_TENSOR_AMAX, LAMINA_REDUCE_TENSOR_FLATTENED_INDICES);
  laminaReduceTensorDescriptor_t unset = nullptr;
  LAMINA_ASSERT_OK(laminaCreateReduceTensorDescriptor(&unset));

  auto run = [&](laminaReduceTensorDescriptor_t d, void *idx, size_t idxBytes, laminaTensorDescriptor_t ta,
                 const void *ad, laminaTensorDescriptor_t tc,
                 void *cd) { return laminaReduceTensor(h, d, idx, idxBytes, nullptr, 0, p1, ta, ad, p0, tc, cd); };
  LAMINA_EXPECT_OK(run(add, nullptr, 0, a, A.p, c, C.p));
  LAMINA_EXPECT_OK(run(amax, I.p, 12, a, A.p, c, C.p));
  LAMINA_EXPECT_STATUS(run(add, nullptr, 0, a, A.p, badShape, C.p), LAMINA_STATUS_SHAPE_MISMATCH, "'c'");
  LAMINA_EXPECT_STATUS(run(add, nullptr, 0, a, A.p, badRank, C.p), LAMINA_STATUS_SHAPE_MISMATCH, "'c'");
  LAMINA_EXPECT_STATUS(run(add, nullptr, 0, a, A.p, dbl, C.p), LAMINA_STATUS_TYPE_MISMATCH, "'a'");
  LAMINA_EXPECT_STATUS(run(add, nullptr, 0, ints, A.p, intsC, C.p), LAMINA_STATUS_NOT_SUPPORTED, "'c'");
  LAMINA_EXPECT_STATUS(run(add, nullptr, 0, a, A.p, overlap, C.p), LAMINA_STATUS_BAD_STRIDES, "'c'");
  LAMINA_EXPECT_STATUS(run(amax, nullptr, 12, a, A.p, c, C.p), LAMINA_STATUS_NULL_POINTER, "indices");
  LAMINA_EXPECT_STATUS(run(amax, I.p, 11, a, A.p, c, C.p), LAMINA_STATUS_INSUFFICIENT_WORKSPACE, "indicesBytes");
  LAMINA_EXPECT_STATUS(run(unset, nullptr, 0, a, A.p, c, C.p), LAMINA_STATUS_NOT_INITIALIZED, "desc");
  LAMINA_EXPECT_STATUS(run(nullptr, nullptr, 0, a, A.p, c, C.p), LAMINA_STATUS_NULL_POINTER, "desc");
  LAMINA_EXPECT_STATUS(run(add, nullptr, 0, a, nullptr, c, C.p), LAMINA_STATUS_NULL_POINTER, "aData");
  LAMINA_EXPECT_STATUS(run(add, nullptr, 0, a, A.p, c, nullptr), LAMINA_STATUS_NULL_POINTER, "cData");
  LAMINA_EXPECT_STATUS(laminaReduceTensor(h, add, nullptr, 0, nullptr, 0, nullptr, a, A.p, p0, c, C.p),
                       LAMINA_STATUS_NULL_POINTER, "alpha");
  LAMINA_EXPECT_STATUS(laminaReduceTensor(nullptr, add, nullptr, 0, nullptr, 0, p1, a, A.p, p0, c, C.p),
                       LAMINA_STATUS_NULL_POINTER, "handle");

  size_t bytes = 0;
  LAMINA_EXPECT_OK(laminaGetReductionIndicesSize(h, add, a, c, &bytes));
  EXPECT_EQ(bytes, 0u);
  LAMINA_EXPECT_OK(laminaGetReductionIndicesSize(h, amax, a, c, &bytes));
  EXPECT_EQ(bytes, 12u);
  LAMINA_EXPECT_STATUS(laminaGetReductionIndicesSize(h, amax, a, c, nullptr), LAMINA_STATUS_NULL_POINTER, "bytes");
  LAMINA_EXPECT_STATUS(laminaGetReductionIndicesSize(h, amax, a, badShape, &bytes), LAMINA_STATUS_SHAPE_MISMATCH,
                       "'c'");
  LAMINA_EXPECT_STATUS(laminaGetReductionWorkspaceSize(h, unset, a, c, &bytes), LAMINA_STATUS_NOT_INITIALIZED, "desc");
  LAMINA_EXPECT_STATUS(laminaGetReductionWorkspaceSize(h, add, a, nullptr, &bytes), LAMINA_STATUS_NULL_POINTER, "'c'");

  LAMINA_EXPECT_STATUS(laminaSetReduceTensorDescriptor(unset, laminaReduceTensorOp_t(8), LAMINA_DATA_FLOAT,
                                                       LAMINA_NOT_PROPAGATE_NAN, LAMINA_REDUCE_TENSOR_NO_INDICES),
                       LAMINA_STATUS_BAD_PARAM, "op");
  LAMINA_EXPECT_STATUS(laminaSetReduceTensorDescriptor(unset, LAMINA_REDUCE_TENSOR_ADD, LAMINA_DATA_HALF,
                                                       LAMINA_NOT_PROPAGATE_NAN, LAMINA_REDUCE_TENSOR_NO_INDICES),
                       LAMINA_STATUS_BAD_PARAM, "computeType");
  LAMINA_EXPECT_STATUS(laminaSetReduceTensorDescriptor(unset, LAMINA_REDUCE_TENSOR_ADD, LAMINA_DATA_FLOAT,
                                                       laminaNanPropagation_t(3), LAMINA_REDUCE_TENSOR_NO_INDICES),
                       LAMINA_STATUS_BAD_PARAM, "nan");
  LAMINA_EXPECT_STATUS(laminaSetReduceTensorDescriptor(unset, LAMINA_REDUCE_TENSOR_ADD, LAMINA_DATA_FLOAT,
                                                       LAMINA_NOT_PROPAGATE_NAN, laminaReduceTensorIndices_t(2)),
                       LAMINA_STATUS_BAD_PARAM, "indices");
  LAMINA_EXPECT_STATUS(laminaSetReduceTensorDescriptor(reinterpret_cast<laminaReduceTensorDescriptor_t>(a.d),
                                                       LAMINA_REDUCE_TENSOR_ADD, LAMINA_DATA_FLOAT,
                                                       LAMINA_NOT_PROPAGATE_NAN, LAMINA_REDUCE_TENSOR_NO_INDICES),
                       LAMINA_STATUS_WRONG_DESCRIPTOR, "desc");
  laminaReduceTensorOp_t op;
  laminaDataType_t ct;
  laminaNanPropagation_t nan;
  laminaReduceTensorIndices_t ind;
  LAMINA_EXPECT_OK(laminaGetReduceTensorDescriptor(amax, &op, &ct, &nan, &ind));
  EXPECT_EQ(op, LAMINA_REDUCE_TENSOR_AMAX);
  EXPECT_EQ(ind, LAMINA_REDUCE_TENSOR_FLATTENED_INDICES);
  LAMINA_EXPECT_STATUS(laminaGetReduceTensorDescriptor(unset, &op, &ct, &nan, &ind), LAMINA_STATUS_NOT_INITIALIZED,
                       "desc");
  LAMINA_EXPECT_OK(laminaDestroyReduceTensorDescriptor(unset));
}

} // namespace
