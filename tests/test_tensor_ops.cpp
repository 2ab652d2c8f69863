// AddTensor, SetTensor, ScaleTensor, TransformTensor and OpTensor against the fp64 references in
// tests/reference/tensor_ops_ref.cpp, for every dtype, layout and alpha/beta pair; bad input.
#include "common/test_util.h"
#include "reference/tensor_ops_ref.h"

#include <cmath>

namespace {

using lt::Layout;
using Dims = std::vector<int64_t>;

const Layout kLayouts[] = {Layout::NCHW, Layout::NHWC, Layout::Strided};
const std::pair<double, double> kAlphaBeta[] = {{1.0, 0.0}, {0.7, 0.3}, {-1.5, 1.0}};

struct BroadcastCase {
  Dims c, a;
};
// Elementwise, channel bias, partial broadcast, 5-D, 1-D, and one large enough to run in parallel
// and split into chunks (over the CPU's serial threshold of 32768 elements).
const BroadcastCase kBroadcast[] = {{{2, 3, 4, 5}, {2, 3, 4, 5}},
                                    {{2, 3, 4, 5}, {1, 3, 1, 1}},
                                    {{3, 5, 7}, {3, 1, 7}},
                                    {{2, 3, 4, 5, 6}, {1, 1, 4, 1, 6}},
                                    {{17}, {1}},
                                    {{4, 8, 40, 33}, {1, 8, 1, 33}}};

std::string what(laminaDataType_t dt, Layout l, double al, double be, const Dims &d) {
  std::string s = std::string(lt::dtypeName(dt)) + " " + lt::layoutName(l) + " alpha=" + std::to_string(al) +
                  " beta=" + std::to_string(be) + " dims=";
  for (auto x : d)
    s += std::to_string(x) + ",";
  return s;
}

TEST(AddTensor, MatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  uint64_t seed = 1;
  for (const auto &pc : kBroadcast)
    for (auto dt : lt::floatTypes())
      for (Layout l : kLayouts)
        for (auto [al, be] : kAlphaBeta) {
          SCOPED_TRACE(what(dt, l, al, be, pc.a));
          lt::Tensor a(dt, pc.a, l), c(dt, pc.c, l);
          lt::Buffer A(h, a.bytes(), dt), C(h, c.bytes(), dt);
          auto av = lt::randomValues(a.numel(), seed++, dt), cv = lt::randomValues(c.numel(), seed++, dt);
          lt::upload(h, a, av, A.p);
          if (be != 0)
            lt::upload(h, c, cv, C.p); // beta == 0: C stays NaN and must not leak
          lt::Scalar sa(al), sb(be);
          LAMINA_ASSERT_OK(laminaAddTensor(h, sa.ptr(dt), a, A.p, sb.ptr(dt), c, C.p));
          EXPECT_TRUE(
              lt::allClose(lt::download(h, c, C.p), ref::addTensor(al, pc.a, av, be, pc.c, cv), lt::tolerance(dt)));
        }
}

TEST(SetAndScaleTensor, MatchReference) {
  LT_HANDLE_OR_SKIP(h);
  const Dims dims = {2, 3, 5, 7};
  for (auto dt : lt::floatTypes())
    for (Layout l : kLayouts) {
      SCOPED_TRACE(what(dt, l, 0, 0, dims));
      lt::Tensor y(dt, dims, l);
      lt::Buffer Y(h, y.bytes(), dt);
      lt::Scalar v(-0.375);
      LAMINA_ASSERT_OK(laminaSetTensor(h, y, Y.p, v.ptr(dt)));
      EXPECT_TRUE(lt::allClose(lt::download(h, y, Y.p), std::vector<double>(size_t(y.numel()), -0.375), 0));
      auto yv = lt::randomValues(y.numel(), 7, dt);
      lt::upload(h, y, yv, Y.p);
      lt::Scalar s(-2.5);
      LAMINA_ASSERT_OK(laminaScaleTensor(h, y, Y.p, s.ptr(dt)));
      for (auto &x : yv)
        x *= -2.5;
      EXPECT_TRUE(lt::allClose(lt::download(h, y, Y.p), yv, lt::tolerance(dt)));
    }
}

TEST(TransformTensor, ConvertsLayoutAndType) {
  LT_HANDLE_OR_SKIP(h);
  const Dims dims = {2, 5, 3, 4};
  const std::pair<Layout, Layout> pairs[] = {
      {Layout::NCHW, Layout::NHWC}, {Layout::NHWC, Layout::Strided}, {Layout::Strided, Layout::NCHW}};
  uint64_t seed = 100;
  for (auto xt : lt::floatTypes())
    for (auto yt : lt::floatTypes())
      for (auto [lx, ly] : pairs)
        for (auto [al, be] : kAlphaBeta) {
          SCOPED_TRACE(what(yt, ly, al, be, dims) + " from " + lt::dtypeName(xt) + " " + lt::layoutName(lx));
          lt::Tensor x(xt, dims, lx), y(yt, dims, ly);
          lt::Buffer X(h, x.bytes(), xt), Y(h, y.bytes(), yt);
          auto xv = lt::randomValues(x.numel(), seed++, xt), yv = lt::randomValues(y.numel(), seed++, yt);
          lt::upload(h, x, xv, X.p);
          if (be != 0)
            lt::upload(h, y, yv, Y.p);
          lt::Scalar sa(al), sb(be);
          LAMINA_ASSERT_OK(laminaTransformTensor(h, sa.ptr(yt), x, X.p, sb.ptr(yt), y, Y.p));
          std::vector<double> want(xv.size());
          for (size_t i = 0; i < xv.size(); ++i)
            want[i] = al * xv[i] + (be != 0 ? be * yv[i] : 0.0);
          EXPECT_TRUE(lt::allClose(lt::download(h, y, Y.p), want, lt::tolerance(yt)));
        }
}

struct OpTensorDesc {
  laminaOpTensorDescriptor_t d = nullptr;
  OpTensorDesc(laminaOpTensorOp_t op, laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN) {
    laminaCreateOpTensorDescriptor(&d);
    laminaSetOpTensorDescriptor(d, op, LAMINA_DATA_FLOAT, nan);
  }
  ~OpTensorDesc() { laminaDestroyOpTensorDescriptor(d); }
  operator laminaOpTensorDescriptor_t() const { return d; }
};

const std::pair<laminaOpTensorOp_t, ref::Op> kOps[] = {
    {LAMINA_OP_TENSOR_ADD, ref::Op::Add},     {LAMINA_OP_TENSOR_MUL, ref::Op::Mul},
    {LAMINA_OP_TENSOR_MIN, ref::Op::Min},     {LAMINA_OP_TENSOR_MAX, ref::Op::Max},
    {LAMINA_OP_TENSOR_SQRT, ref::Op::Sqrt},   {LAMINA_OP_TENSOR_NOT, ref::Op::Not},
    {LAMINA_OP_TENSOR_DIV, ref::Op::Div},     {LAMINA_OP_TENSOR_POW, ref::Op::Pow},
    {LAMINA_OP_TENSOR_EXP, ref::Op::Exp},     {LAMINA_OP_TENSOR_LOG, ref::Op::Log},
    {LAMINA_OP_TENSOR_ABS, ref::Op::Abs},     {LAMINA_OP_TENSOR_SIGN, ref::Op::Sign},
    {LAMINA_OP_TENSOR_CMP_GE, ref::Op::CmpGe}};

// Operand ranges inside each op's smooth domain (alpha1 > 0 in every row of the test): a > 0 for
// sqrt, log and pow; |b| >= 0.25 for div, so that half's range holds every quotient.
std::pair<double, double> rangeOfA(laminaOpTensorOp_t op) {
  switch (op) {
  case LAMINA_OP_TENSOR_SQRT:
  case LAMINA_OP_TENSOR_LOG: return {0.05, 1.0};
  case LAMINA_OP_TENSOR_POW: return {0.1, 1.5};
  default: return {-1.0, 1.0};
  }
}
std::pair<double, double> rangeOfB(laminaOpTensorOp_t op) {
  return op == LAMINA_OP_TENSOR_DIV ? std::pair{0.25, 1.0} : std::pair{-1.0, 1.0};
}

TEST(OpTensor, MatchesReference) {
  LT_HANDLE_OR_SKIP(h);
  const BroadcastCase cases[] = {{{2, 3, 4, 5}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {1, 3, 1, 1}}, {{3, 4, 6}, {3, 1, 6}}};
  const double alphas[][3] = {{1, 1, 0}, {0.5, -2, 0.25}, {1.25, 0.75, 1}}; // alpha1, alpha2, beta
  uint64_t seed = 1000;
  for (auto [op, rop] : kOps)
    for (const auto &pc : cases)
      for (auto dt : lt::floatTypes())
        for (Layout l : kLayouts)
          for (const auto &ab : alphas) {
            SCOPED_TRACE(what(dt, l, ab[0], ab[2], pc.a) + " op " + std::to_string(int(op)));
            lt::Tensor a(dt, pc.c, l), b(dt, pc.a, l), c(dt, pc.c, l);
            lt::Buffer A(h, a.bytes(), dt), B(h, b.bytes(), dt), C(h, c.bytes(), dt);
            auto [alo, ahi] = rangeOfA(op);
            auto [blo, bhi] = rangeOfB(op);
            auto av = lt::randomValues(a.numel(), seed++, dt, alo, ahi),
                 bv = lt::randomValues(b.numel(), seed++, dt, blo, bhi), cv = lt::randomValues(c.numel(), seed++, dt);
            lt::upload(h, a, av, A.p);
            lt::upload(h, b, bv, B.p);
            if (ab[2] != 0)
              lt::upload(h, c, cv, C.p);
            OpTensorDesc od(op);
            lt::Scalar a1(ab[0]), a2(ab[1]), be(ab[2]);
            LAMINA_ASSERT_OK(laminaOpTensor(h, od, a1.ptr(dt), a, A.p, a2.ptr(dt), b, B.p, be.ptr(dt), c, C.p));
            auto want = ref::opTensor(rop, false, ab[0], av, ab[1], pc.a, bv, ab[2], pc.c, cv);
            EXPECT_TRUE(lt::allClose(lt::download(h, c, C.p), want, lt::tolerance(dt)));
            EXPECT_TRUE(lt::gapsUntouched(h, c, C.p));
          }
}

// Exact where the IEEE result is exact (inf, NaN, 0, +-1), within tol elsewhere.
::testing::AssertionResult sameValues(const std::vector<double> &got, const std::vector<double> &want, double tol) {
  for (size_t i = 0; i < want.size(); ++i) {
    bool ok = std::isnan(want[i])   ? std::isnan(got[i])
              : std::isinf(want[i]) ? got[i] == want[i]
                                    : std::fabs(got[i] - want[i]) <= tol * std::fabs(want[i]);
    if (!ok)
      return ::testing::AssertionFailure() << "element " << i << ": got " << got[i] << ", want " << want[i];
  }
  return ::testing::AssertionSuccess();
}

// The domain edges of the new ops, every dtype, the unary ones called without b. c starts as NaN
// (beta 0 must not read it).
TEST(OpTensor, DomainEdges) {
  LT_HANDLE_OR_SKIP(h);
  const double inf = INFINITY, nan = NAN;
  struct Case {
    laminaOpTensorOp_t op;
    laminaNanPropagation_t prop;
    std::vector<double> a, b, want; // b empty: unary, called with b = bData = alpha2 = NULL
  };
  const Case cases[] = {
      {LAMINA_OP_TENSOR_DIV,
       LAMINA_NOT_PROPAGATE_NAN,
       {1, -1, 0, 1, nan, 3, inf},
       {0, 0, 0, nan, 1, -2, inf},
       {inf, -inf, nan, nan, nan, -1.5, nan}},
      {LAMINA_OP_TENSOR_DIV, LAMINA_PROPAGATE_NAN, {-2, 0}, {-0.0, inf}, {inf, 0}},
      {LAMINA_OP_TENSOR_POW,
       LAMINA_NOT_PROPAGATE_NAN,
       {0, -8, 2, 1, nan, 4, 0.5},
       {-1, 0.5, 3, nan, 0, -0.5, inf},
       {inf, nan, 8, 1, 1, 0.5, 0}},
      {LAMINA_OP_TENSOR_EXP,
       LAMINA_NOT_PROPAGATE_NAN,
       {-inf, inf, 0, nan, 1000, 1},
       {},
       {0, inf, 1, nan, inf, std::exp(1.0)}},
      {LAMINA_OP_TENSOR_LOG,
       LAMINA_NOT_PROPAGATE_NAN,
       {0, -0.0, -1, 1, inf, nan, -inf},
       {},
       {-inf, -inf, nan, 0, inf, nan, nan}},
      {LAMINA_OP_TENSOR_ABS, LAMINA_PROPAGATE_NAN, {-0.0, -2, nan, -inf, 3}, {}, {0, 2, nan, inf, 3}},
      {LAMINA_OP_TENSOR_SIGN,
       LAMINA_NOT_PROPAGATE_NAN,
       {0, -0.0, 2, -3, nan, inf, -inf, 1e-3},
       {},
       {0, 0, 1, -1, nan, 1, -1, 1}},
      {LAMINA_OP_TENSOR_SIGN, LAMINA_PROPAGATE_NAN, {nan, -0.5}, {}, {nan, -1}},
      {LAMINA_OP_TENSOR_CMP_GE,
       LAMINA_NOT_PROPAGATE_NAN,
       {1, 1, nan, nan, 2, inf, -inf, 0},
       {1, nan, 1, nan, 3, inf, 5, -0.0},
       {1, 0, 0, 0, 0, 1, 0, 1}},
      {LAMINA_OP_TENSOR_CMP_GE,
       LAMINA_PROPAGATE_NAN,
       {1, 1, nan, nan, 2, 3},
       {1, nan, 1, nan, 3, 2},
       {1, nan, nan, nan, 0, 1}},
  };
  for (const auto &k : cases)
    for (auto dt : lt::floatTypes()) {
      SCOPED_TRACE(std::string(lt::dtypeName(dt)) + " op " + std::to_string(int(k.op)) + " nan " +
                   std::to_string(int(k.prop)));
      const Dims dims = {int64_t(k.a.size())};
      const bool unary = k.b.empty();
      lt::Tensor a(dt, dims), b(dt, dims), c(dt, dims);
      lt::Buffer A(h, a.bytes(), dt), B(h, b.bytes(), dt), C(h, c.bytes(), dt);
      lt::upload(h, a, k.a, A.p);
      if (!unary)
        lt::upload(h, b, k.b, B.p);
      OpTensorDesc od(k.op, k.prop);
      lt::Scalar one(1.0), zero(0.0);
      LAMINA_ASSERT_OK(laminaOpTensor(h, od, one.ptr(dt), a, A.p, unary ? nullptr : one.ptr(dt),
                                      unary ? nullptr : static_cast<laminaTensorDescriptor_t>(b), unary ? nullptr : B.p,
                                      zero.ptr(dt), c, C.p));
      std::vector<double> want = k.want;
      for (auto &w : want)
        w = lt::roundTo(dt, w);
      EXPECT_TRUE(sameValues(lt::download(h, c, C.p), want, lt::tolerance(dt)));
    }
}

// A broadcast scalar divisor and exponent (the engine's normalisations), with beta accumulating.
TEST(OpTensor, BroadcastScalarDivAndPow) {
  LT_HANDLE_OR_SKIP(h);
  const Dims cd = {3, 4, 5}, bd = {1, 1, 1};
  for (auto dt : lt::floatTypes())
    for (auto [op, rop] :
         {std::pair{LAMINA_OP_TENSOR_DIV, ref::Op::Div}, std::pair{LAMINA_OP_TENSOR_POW, ref::Op::Pow}}) {
      SCOPED_TRACE(std::string(lt::dtypeName(dt)) + " op " + std::to_string(int(op)));
      lt::Tensor a(dt, cd, Layout::NHWC), b(dt, bd), c(dt, cd, Layout::Strided);
      lt::Buffer A(h, a.bytes(), dt), B(h, b.bytes(), dt), C(h, c.bytes(), dt);
      auto av = lt::randomValues(a.numel(), 77, dt, 0.1, 2.0), cv = lt::randomValues(c.numel(), 78, dt);
      const std::vector<double> bv = {0.75};
      lt::upload(h, a, av, A.p);
      lt::upload(h, b, bv, B.p);
      lt::upload(h, c, cv, C.p);
      OpTensorDesc od(op);
      lt::Scalar a1(1.0), a2(-2.0), be(1.0);
      LAMINA_ASSERT_OK(laminaOpTensor(h, od, a1.ptr(dt), a, A.p, a2.ptr(dt), b, B.p, be.ptr(dt), c, C.p));
      auto want = ref::opTensor(rop, false, 1.0, av, -2.0, bd, bv, 1.0, cd, cv);
      EXPECT_TRUE(lt::allClose(lt::download(h, c, C.p), want, lt::tolerance(dt)));
    }
}

TEST(OpTensor, InPlaceUnaryWithoutBAndNanPropagation) {
  LT_HANDLE_OR_SKIP(h);
  const Dims dims = {2, 3, 4, 4};
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Tensor a(dt, dims, Layout::NHWC);
  lt::Buffer A(h, a.bytes(), dt);
  auto av = lt::randomValues(a.numel(), 5, dt);
  lt::upload(h, a, av, A.p);
  OpTensorDesc notOp(LAMINA_OP_TENSOR_NOT);
  lt::Scalar one(1.0), zero(0.0), half(0.5);
  // c == a, b and bData NULL: c = 1 - a + 0.5 * c
  LAMINA_ASSERT_OK(laminaOpTensor(h, notOp, one.ptr(dt), a, A.p, nullptr, nullptr, nullptr, half.ptr(dt), a, A.p));
  auto want = ref::opTensor(ref::Op::Not, false, 1.0, av, 0, {}, {}, 0.5, dims, av);
  EXPECT_TRUE(lt::allClose(lt::download(h, a, A.p), want, lt::tolerance(dt)));

  // max with NaN in a: propagated or ignored by the descriptor's setting.
  av[3] = NAN;
  auto bv = lt::randomValues(a.numel(), 6, dt);
  lt::Tensor b(dt, dims, Layout::NHWC), c(dt, dims, Layout::NHWC);
  lt::Buffer B(h, b.bytes(), dt), C(h, c.bytes(), dt);
  lt::upload(h, b, bv, B.p);
  for (auto nan : {LAMINA_NOT_PROPAGATE_NAN, LAMINA_PROPAGATE_NAN}) {
    lt::upload(h, a, av, A.p);
    OpTensorDesc maxOp(LAMINA_OP_TENSOR_MAX, nan);
    LAMINA_ASSERT_OK(laminaOpTensor(h, maxOp, one.ptr(dt), a, A.p, one.ptr(dt), b, B.p, zero.ptr(dt), c, C.p));
    auto got = lt::download(h, c, C.p);
    EXPECT_EQ(std::isnan(got[3]), nan == LAMINA_PROPAGATE_NAN);
    if (nan == LAMINA_NOT_PROPAGATE_NAN)
      EXPECT_EQ(got[3], bv[3]);
    got[3] = bv[3];
    auto want2 = ref::opTensor(ref::Op::Max, false, 1, av, 1, dims, bv, 0, dims, {});
    want2[3] = bv[3];
    EXPECT_TRUE(lt::allClose(got, want2, lt::tolerance(dt)));
  }
}

TEST(TensorOps, BadInput) {
  LT_HANDLE_OR_SKIP(h);
  const auto dt = LAMINA_DATA_FLOAT;
  lt::Tensor c(dt, {2, 3, 4, 5}), a(dt, {1, 3, 1, 1}), wrongShape(dt, {1, 2, 1, 1}), wrongRank(dt, {3, 4, 5});
  lt::Tensor dbl(LAMINA_DATA_DOUBLE, {2, 3, 4, 5}), ints(LAMINA_DATA_INT32, {2, 3, 4, 5});
  lt::Tensor overlap(dt, {2, 3, 4, 5}, {0, 20, 5, 1}); // n stride 0: an overlapping output
  lt::Buffer C(h, c.bytes(), dt), A(h, c.bytes(), dt);
  lt::Scalar one(1.0), zero(0.0);
  const void *p1 = one.ptr(dt), *p0 = zero.ptr(dt);
  laminaTensorDescriptor_t unset;
  laminaCreateTensorDescriptor(&unset);

  LAMINA_EXPECT_STATUS(laminaAddTensor(nullptr, p1, a, A.p, p0, c, C.p), LAMINA_STATUS_NULL_POINTER, "handle");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, nullptr, a, A.p, p0, c, C.p), LAMINA_STATUS_NULL_POINTER, "alpha");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, a, A.p, nullptr, c, C.p), LAMINA_STATUS_NULL_POINTER, "beta");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, a, nullptr, p0, c, C.p), LAMINA_STATUS_NULL_POINTER, "aData");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, a, A.p, p0, c, nullptr), LAMINA_STATUS_NULL_POINTER, "cData");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, nullptr, A.p, p0, c, C.p), LAMINA_STATUS_NULL_POINTER, "'a'");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, unset, A.p, p0, c, C.p), LAMINA_STATUS_NOT_INITIALIZED, "'a'");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, wrongShape, A.p, p0, c, C.p), LAMINA_STATUS_SHAPE_MISMATCH, "'a'");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, wrongRank, A.p, p0, c, C.p), LAMINA_STATUS_SHAPE_MISMATCH, "'a'");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, dbl, A.p, p0, c, C.p), LAMINA_STATUS_TYPE_MISMATCH, "'a'");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, a, A.p, p0, overlap, C.p), LAMINA_STATUS_BAD_STRIDES, "'c'");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, ints, A.p, p0, ints, C.p), LAMINA_STATUS_NOT_SUPPORTED, "'c'");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, p1, a, C.p, p0, c, C.p), LAMINA_STATUS_BAD_PARAM, "share memory");

  LAMINA_EXPECT_STATUS(laminaSetTensor(h, c, C.p, nullptr), LAMINA_STATUS_NULL_POINTER, "value");
  LAMINA_EXPECT_STATUS(laminaSetTensor(h, c, nullptr, p1), LAMINA_STATUS_NULL_POINTER, "yData");
  LAMINA_EXPECT_STATUS(laminaSetTensor(h, overlap, C.p, p1), LAMINA_STATUS_BAD_STRIDES, "'y'");
  LAMINA_EXPECT_STATUS(laminaSetTensor(h, nullptr, C.p, p1), LAMINA_STATUS_NULL_POINTER, "'y'");
  LAMINA_EXPECT_STATUS(laminaScaleTensor(h, c, C.p, nullptr), LAMINA_STATUS_NULL_POINTER, "alpha");
  LAMINA_EXPECT_STATUS(laminaScaleTensor(h, overlap, C.p, p1), LAMINA_STATUS_BAD_STRIDES, "'y'");
  LAMINA_EXPECT_STATUS(laminaScaleTensor(nullptr, c, C.p, p1), LAMINA_STATUS_NULL_POINTER, "handle");
  LAMINA_EXPECT_STATUS(laminaScaleTensor(h, ints, C.p, p1), LAMINA_STATUS_NOT_SUPPORTED, "'y'");

  LAMINA_EXPECT_STATUS(laminaTransformTensor(h, p1, wrongRank, A.p, p0, c, C.p), LAMINA_STATUS_SHAPE_MISMATCH, "'x'");
  LAMINA_EXPECT_STATUS(laminaTransformTensor(h, p1, c, A.p, p0, overlap, C.p), LAMINA_STATUS_BAD_STRIDES, "'y'");
  LAMINA_EXPECT_STATUS(laminaTransformTensor(h, p1, ints, A.p, p0, c, C.p), LAMINA_STATUS_NOT_SUPPORTED, "'x'");
  LAMINA_EXPECT_STATUS(laminaTransformTensor(h, p1, c, nullptr, p0, c, C.p), LAMINA_STATUS_NULL_POINTER, "xData");
  LAMINA_EXPECT_STATUS(laminaTransformTensor(h, p1, dbl, C.p, p0, c, C.p), LAMINA_STATUS_BAD_PARAM, "share memory");

  laminaOpTensorDescriptor_t od = nullptr, unsetOp = nullptr;
  LAMINA_ASSERT_OK(laminaCreateOpTensorDescriptor(&od));
  LAMINA_ASSERT_OK(laminaCreateOpTensorDescriptor(&unsetOp));
  LAMINA_EXPECT_STATUS(laminaCreateOpTensorDescriptor(nullptr), LAMINA_STATUS_NULL_POINTER, "desc");
  LAMINA_EXPECT_STATUS(
      laminaSetOpTensorDescriptor(od, laminaOpTensorOp_t(13), LAMINA_DATA_FLOAT, LAMINA_NOT_PROPAGATE_NAN),
      LAMINA_STATUS_BAD_PARAM, "op");
  LAMINA_EXPECT_STATUS(
      laminaSetOpTensorDescriptor(od, laminaOpTensorOp_t(-1), LAMINA_DATA_FLOAT, LAMINA_NOT_PROPAGATE_NAN),
      LAMINA_STATUS_BAD_PARAM, "op");
  // The new binary ops need b; the unary ones do not.
  LAMINA_ASSERT_OK(laminaSetOpTensorDescriptor(od, LAMINA_OP_TENSOR_DIV, LAMINA_DATA_FLOAT, LAMINA_NOT_PROPAGATE_NAN));
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, od, p1, c, A.p, p1, nullptr, nullptr, p0, c, C.p), LAMINA_STATUS_NULL_POINTER,
                       "'b'");
  LAMINA_ASSERT_OK(laminaSetOpTensorDescriptor(od, LAMINA_OP_TENSOR_CMP_GE, LAMINA_DATA_FLOAT, LAMINA_PROPAGATE_NAN));
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, od, p1, c, A.p, p1, wrongShape, A.p, p0, c, C.p), LAMINA_STATUS_SHAPE_MISMATCH,
                       "'b'");
  LAMINA_ASSERT_OK(laminaSetOpTensorDescriptor(od, LAMINA_OP_TENSOR_LOG, LAMINA_DATA_FLOAT, LAMINA_NOT_PROPAGATE_NAN));
  lt::upload(h, c, std::vector<double>(size_t(c.numel()), 1.0), A.p);
  LAMINA_EXPECT_OK(laminaOpTensor(h, od, p1, c, A.p, nullptr, nullptr, nullptr, p0, c, C.p));
  LAMINA_EXPECT_STATUS(
      laminaSetOpTensorDescriptor(od, LAMINA_OP_TENSOR_ADD, LAMINA_DATA_INT8, LAMINA_NOT_PROPAGATE_NAN),
      LAMINA_STATUS_BAD_PARAM, "computeType");
  LAMINA_EXPECT_STATUS(
      laminaSetOpTensorDescriptor(od, LAMINA_OP_TENSOR_ADD, LAMINA_DATA_FLOAT, laminaNanPropagation_t(4)),
      LAMINA_STATUS_BAD_PARAM, "nan");
  LAMINA_EXPECT_STATUS(laminaSetOpTensorDescriptor(reinterpret_cast<laminaOpTensorDescriptor_t>(c.d),
                                                   LAMINA_OP_TENSOR_ADD, LAMINA_DATA_FLOAT, LAMINA_NOT_PROPAGATE_NAN),
                       LAMINA_STATUS_WRONG_DESCRIPTOR, "desc");
  LAMINA_ASSERT_OK(laminaSetOpTensorDescriptor(od, LAMINA_OP_TENSOR_MUL, LAMINA_DATA_DOUBLE, LAMINA_PROPAGATE_NAN));
  laminaOpTensorOp_t gop;
  laminaDataType_t gct;
  laminaNanPropagation_t gnan;
  LAMINA_ASSERT_OK(laminaGetOpTensorDescriptor(od, &gop, &gct, &gnan));
  EXPECT_EQ(gop, LAMINA_OP_TENSOR_MUL);
  EXPECT_EQ(gct, LAMINA_DATA_DOUBLE);
  EXPECT_EQ(gnan, LAMINA_PROPAGATE_NAN);
  LAMINA_EXPECT_STATUS(laminaGetOpTensorDescriptor(unsetOp, &gop, &gct, &gnan), LAMINA_STATUS_NOT_INITIALIZED, "desc");
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, unsetOp, p1, c, A.p, p1, a, A.p, p0, c, C.p), LAMINA_STATUS_NOT_INITIALIZED,
                       "op");
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, od, p1, c, A.p, p1, wrongShape, A.p, p0, c, C.p), LAMINA_STATUS_SHAPE_MISMATCH,
                       "'b'");
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, od, p1, a, A.p, p1, a, A.p, p0, c, C.p), LAMINA_STATUS_SHAPE_MISMATCH, "'a'");
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, od, p1, c, A.p, p1, a, nullptr, p0, c, C.p), LAMINA_STATUS_NULL_POINTER,
                       "bData");
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, od, p1, c, A.p, p1, nullptr, A.p, p0, c, C.p), LAMINA_STATUS_NULL_POINTER,
                       "'b'");
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, od, p1, c, A.p, nullptr, a, A.p, p0, c, C.p), LAMINA_STATUS_NULL_POINTER,
                       "alpha2");
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, od, p1, c, A.p, p1, dbl, A.p, p0, c, C.p), LAMINA_STATUS_TYPE_MISMATCH, "'b'");
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, od, p1, overlap, A.p, p1, a, A.p, p0, overlap, C.p), LAMINA_STATUS_BAD_STRIDES,
                       "'c'");
  LAMINA_EXPECT_STATUS(laminaOpTensor(h, od, p1, c, A.p, p1, a, C.p, p0, c, C.p), LAMINA_STATUS_BAD_PARAM,
                       "share memory");
  LAMINA_EXPECT_OK(laminaDestroyOpTensorDescriptor(od));
  LAMINA_EXPECT_OK(laminaDestroyOpTensorDescriptor(unsetOp));
  laminaDestroyTensorDescriptor(unset);
}

} // namespace
