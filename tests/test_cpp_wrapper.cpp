// The C++ wrapper (include/lamina/lamina.hpp): ownership and move semantics, error translation, and
// the descriptor and memory calls going through to the C API. Leaks or double destroys show up in
// the ASan+UBSan run (LeakSanitizer, use-after-free), so moves are checked there too.
#include <lamina/lamina.hpp>

#include "common/test_util.h"

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using lamina::Dims;

// Owners are move-only and their moves cannot throw (so std::vector of them moves, not copies).
template <class T> constexpr bool moveOnly() {
  return !std::is_copy_constructible_v<T> && !std::is_copy_assignable_v<T> && std::is_nothrow_move_constructible_v<T> &&
         std::is_nothrow_move_assignable_v<T>;
}
static_assert(moveOnly<lamina::Handle>());
static_assert(moveOnly<lamina::DeviceBuffer>());
static_assert(moveOnly<lamina::TensorDescriptor>());
static_assert(moveOnly<lamina::FilterDescriptor>());
static_assert(moveOnly<lamina::ConvolutionDescriptor>());
static_assert(moveOnly<lamina::PoolingDescriptor>());
static_assert(moveOnly<lamina::ActivationDescriptor>());
static_assert(moveOnly<lamina::LRNDescriptor>());
static_assert(moveOnly<lamina::DropoutDescriptor>());
static_assert(moveOnly<lamina::OpTensorDescriptor>());
static_assert(moveOnly<lamina::ReduceTensorDescriptor>());
static_assert(std::is_base_of_v<std::runtime_error, lamina::Error>);
// A buffer takes a handle that outlives it, never a temporary one.
static_assert(std::is_constructible_v<lamina::DeviceBuffer, lamina::Handle &, size_t>);
static_assert(!std::is_constructible_v<lamina::DeviceBuffer, lamina::Handle &&, size_t>);
static_assert(!std::is_constructible_v<lamina::DeviceBuffer, lamina::Handle &&, const std::vector<float> &>);

// Runs f, which must throw lamina::Error with `status` and a message containing `needle`.
template <class F> void expectError(F &&f, laminaStatus_t status, const std::string &needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected " << laminaGetErrorString(status);
  } catch (const lamina::Error &e) {
    EXPECT_EQ(e.status(), status) << e.what();
    EXPECT_NE(e.message().find(needle), std::string::npos)
        << "message '" << e.message() << "' lacks '" << needle << "'";
    // what() = status name + message, so a plain std::exception handler still sees both.
    EXPECT_NE(std::string(e.what()).find(laminaGetErrorString(status)), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(e.message()), std::string::npos) << e.what();
  }
}

TEST(CppWrapper, CheckTranslatesStatusAndMessage) {
  EXPECT_NO_THROW(lamina::check(LAMINA_STATUS_SUCCESS));
  expectError([] { lamina::check(laminaCreate(nullptr)); }, LAMINA_STATUS_NULL_POINTER, "laminaCreate");
  expectError([] { lamina::check(laminaCreate(nullptr)); }, LAMINA_STATUS_NULL_POINTER, "'handle'");
  // The message is copied at throw time: a later failure does not change a caught error.
  try {
    lamina::check(laminaCreate(nullptr));
    FAIL() << "no exception";
  } catch (const lamina::Error &e) {
    laminaStatus_t s = laminaSetNumThreads(nullptr, 1);
    EXPECT_EQ(s, LAMINA_STATUS_NULL_POINTER);
    EXPECT_NE(std::string(laminaGetLastErrorMessage()).find("laminaSetNumThreads"), std::string::npos);
    EXPECT_NE(e.message().find("laminaCreate:"), std::string::npos) << e.message();
  }
  EXPECT_EQ(lamina::version(), size_t(LAMINA_VERSION));
  EXPECT_STREQ(lamina::errorString(LAMINA_STATUS_BAD_PARAM), "LAMINA_STATUS_BAD_PARAM");
}

TEST(CppWrapper, HandleOwnershipAndSettings) {
  if (!lamina::isBackendAvailable(lt::testBackend()))
    GTEST_SKIP() << "backend unavailable";
  lamina::Handle h(lt::testBackend());
  ASSERT_TRUE(h);
  EXPECT_EQ(h.backend(), lt::testBackend());
  if (h.backend() == LAMINA_BACKEND_CPU) {
    h.setNumThreads(2);
    EXPECT_EQ(h.numThreads(), 2);
    int dummy = 0;
    expectError([&] { h.setStream(&dummy); }, LAMINA_STATUS_NOT_SUPPORTED, "stream");
    EXPECT_EQ(h.stream(), nullptr);
  }
  expectError([&] { h.setNumThreads(-1); }, LAMINA_STATUS_BAD_PARAM, "threads");
  h.synchronize();

  laminaHandle_t raw = h.get();
  lamina::Handle moved(std::move(h));
  EXPECT_FALSE(h); // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_EQ(h.get(), nullptr);
  EXPECT_EQ(moved.get(), raw);
  EXPECT_EQ(moved.backend(), lt::testBackend());
  // Calls on a moved-from (null) handle are errors, not crashes.
  expectError([&] { h.backend(); }, LAMINA_STATUS_NULL_POINTER, "handle");

  // Move assignment destroys what the target held (a leak would fail the ASan run).
  lamina::Handle other(lt::testBackend());
  other = std::move(moved);
  EXPECT_EQ(other.get(), raw);
  lamina::Handle &alias = other;
  other = std::move(alias); // self-move keeps the handle
  EXPECT_EQ(other.get(), raw);

  // release() hands the C handle over; adopt() takes one back.
  laminaHandle_t released = other.release();
  EXPECT_FALSE(other);
  lamina::Handle adopted = lamina::Handle::adopt(released);
  EXPECT_EQ(adopted.backend(), lt::testBackend());
}

TEST(CppWrapper, DeviceBuffer) {
  if (!lamina::isBackendAvailable(lt::testBackend()))
    GTEST_SKIP() << "backend unavailable";
  lamina::Handle h(lt::testBackend());
  std::vector<float> host{1.5f, -2.f, 3.25f, 4.f, 5.f, -6.5f};
  lamina::DeviceBuffer a(h, host);
  EXPECT_EQ(a.bytes(), host.size() * sizeof(float));
  EXPECT_EQ(a.handle(), h.get());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);
  EXPECT_EQ(a.download<float>(), host);
  EXPECT_EQ(a.download<float>(2), (std::vector<float>{1.5f, -2.f}));

  lamina::DeviceBuffer b(h, a.bytes());
  b.copyFrom(a);
  EXPECT_EQ(b.download<float>(), host);
  b.memset(0);
  EXPECT_EQ(b.download<float>(), std::vector<float>(host.size(), 0.f));

  // Copies that do not fit are refused before any byte moves.
  std::vector<float> big(host.size() + 1, 9.f);
  expectError([&] { a.upload(big); }, LAMINA_STATUS_BAD_PARAM, "do not fit");
  expectError([&] { a.download<float>(host.size() + 1); }, LAMINA_STATUS_BAD_PARAM, "do not fit");
  lamina::DeviceBuffer small(h, 4);
  expectError([&] { small.copyFrom(a); }, LAMINA_STATUS_BAD_PARAM, "do not fit");
  EXPECT_EQ(a.download<float>(), host);

  // Moves transfer the allocation; the source is left empty.
  void *p = a.data();
  lamina::DeviceBuffer c(std::move(a));
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(a.data(), nullptr); // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a.bytes(), 0u);
  EXPECT_FALSE(a);
  b = std::move(c); // frees b's old allocation
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.download<float>(), host);
  b.reset();
  EXPECT_FALSE(b);

  // Raw handle memory calls.
  void *raw = h.malloc(16);
  h.memset(raw, 0, 16);
  h.free(raw);
  h.free(nullptr);
  expectError([&] { h.memcpy(nullptr, host.data(), 4, LAMINA_MEMCPY_HOST_TO_DEVICE); }, LAMINA_STATUS_NULL_POINTER,
              "dst");
}

TEST(CppWrapper, TensorDescriptor) {
  auto t = lamina::TensorDescriptor::nhwc(LAMINA_DATA_HALF, 2, 3, 4, 5);
  auto i4 = t.info4d();
  EXPECT_EQ(i4.dataType, LAMINA_DATA_HALF);
  EXPECT_EQ((Dims{i4.n, i4.c, i4.h, i4.w, i4.nStride, i4.cStride, i4.hStride, i4.wStride}),
            (Dims{2, 3, 4, 5, 60, 1, 15, 3}));
  EXPECT_EQ(t.sizeInBytes(), 2u * 120u);
  EXPECT_EQ(t.nbDims(), 4);

  lamina::TensorDescriptor nd(LAMINA_DATA_FLOAT, Dims{2, 3, 4, 5, 6}, LAMINA_TENSOR_NHWC);
  EXPECT_EQ(nd.dims(), (Dims{2, 3, 4, 5, 6}));
  EXPECT_EQ(nd.strides(), (Dims{360, 1, 90, 18, 3}));
  EXPECT_EQ(nd.dataType(), LAMINA_DATA_FLOAT);

  lamina::TensorDescriptor packed(LAMINA_DATA_DOUBLE, Dims{2, 3, 4});
  EXPECT_EQ(packed.strides(), (Dims{12, 4, 1}));
  EXPECT_EQ(packed.sizeInBytes(), 24u * 8u);

  lamina::TensorDescriptor strided(LAMINA_DATA_FLOAT, Dims{2, 3}, Dims{1, 4});
  EXPECT_EQ(strided.strides(), (Dims{1, 4}));
  EXPECT_EQ(strided.sizeInBytes(), (1u + 1u * 1u + 2u * 4u) * 4u);
  auto s4 = lamina::TensorDescriptor::strided4d(LAMINA_DATA_FLOAT, 1, 2, 3, 4, 100, 40, 12, 2);
  EXPECT_EQ(s4.strides(), (Dims{100, 40, 12, 2}));
  EXPECT_EQ(lamina::TensorDescriptor::nchw(LAMINA_DATA_FLOAT, 1, 2, 3, 4).strides(), (Dims{24, 12, 4, 1}));

  // Errors carry the library's status and argument name.
  expectError([] { lamina::TensorDescriptor::nchw(LAMINA_DATA_FLOAT, 1, 0, 2, 2); }, LAMINA_STATUS_BAD_DIMS, "dims[1]");
  expectError(
      [] {
        lamina::TensorDescriptor bad(LAMINA_DATA_FLOAT, Dims{2, 2}, Dims{-1, 1});
      },
      LAMINA_STATUS_BAD_STRIDES, "strides[0]");
  expectError(
      [] {
        lamina::TensorDescriptor bad(laminaDataType_t(7) /* in the enum's value range, so no UB */, Dims{2, 2});
      },
      LAMINA_STATUS_BAD_PARAM, "dataType");
  expectError(
      [] {
        lamina::TensorDescriptor bad(LAMINA_DATA_FLOAT, Dims{2, 2}, Dims{1});
      },
      LAMINA_STATUS_SHAPE_MISMATCH, "strides");
  lamina::TensorDescriptor unset;
  expectError([&] { unset.sizeInBytes(); }, LAMINA_STATUS_NOT_INITIALIZED, "desc");
  expectError([&] { nd.info4d(); }, LAMINA_STATUS_BAD_DIMS, "4");

  // A failed set leaves an already set descriptor unchanged.
  expectError([&] { packed.setNd(LAMINA_DATA_FLOAT, Dims{0}, Dims{1}); }, LAMINA_STATUS_BAD_DIMS, "dims[0]");
  EXPECT_EQ(packed.dims(), (Dims{2, 3, 4}));

  // Moves, release and the implicit conversion to the C type.
  laminaTensorDescriptor_t raw = t.get();
  std::vector<lamina::TensorDescriptor> v;
  v.push_back(std::move(t));
  v.emplace_back(LAMINA_DATA_FLOAT, Dims{1, 2});
  v.emplace_back(LAMINA_DATA_FLOAT, Dims{3, 4}); // reallocation moves the owners
  EXPECT_EQ(v[0].get(), raw);
  EXPECT_EQ(t.get(), nullptr); // NOLINT(bugprone-use-after-move)
  size_t bytes = 0;
  LAMINA_EXPECT_OK(laminaGetTensorSizeInBytes(v[0], &bytes));
  EXPECT_EQ(bytes, 240u);
  v[1] = std::move(v[2]); // destroys v[1]'s descriptor
  EXPECT_EQ(v[1].dims(), (Dims{3, 4}));
  laminaTensorDescriptor_t released = v[0].release();
  EXPECT_FALSE(v[0]);
  LAMINA_EXPECT_OK(laminaDestroyTensorDescriptor(released));
  expectError([&] { t.dims(); }, LAMINA_STATUS_NULL_POINTER, "desc");
}

TEST(CppWrapper, FilterAndConvolutionDescriptors) {
  lamina::FilterDescriptor w(LAMINA_DATA_FLOAT, LAMINA_TENSOR_NHWC, 8, 3, 5, 5);
  EXPECT_EQ(w.sizeInBytes(), 8u * 3 * 25 * 4);
  EXPECT_EQ(w.format(), LAMINA_TENSOR_NHWC);
  EXPECT_EQ(w.dims(), (Dims{8, 3, 5, 5}));
  auto w4 = w.info4d();
  EXPECT_EQ((Dims{w4.k, w4.c, w4.h, w4.w}), (Dims{8, 3, 5, 5}));
  lamina::FilterDescriptor w3(LAMINA_DATA_DOUBLE, Dims{4, 2, 3, 3, 3});
  EXPECT_EQ(w3.dataType(), LAMINA_DATA_DOUBLE);
  EXPECT_EQ(w3.format(), LAMINA_TENSOR_NCHW);
  expectError([] { lamina::FilterDescriptor bad(LAMINA_DATA_FLOAT, Dims{3, 3}); }, LAMINA_STATUS_BAD_DIMS, "nbDims");

  auto conv = lamina::ConvolutionDescriptor::conv2d(1, 1, 2, 2);
  auto c2 = conv.info2d();
  EXPECT_EQ((Dims{c2.padH, c2.padW, c2.strideH, c2.strideW, c2.dilationH, c2.dilationW}), (Dims{1, 1, 2, 2, 1, 1}));
  EXPECT_EQ(c2.mode, LAMINA_CROSS_CORRELATION);
  EXPECT_EQ(c2.computeType, LAMINA_DATA_FLOAT);
  EXPECT_EQ(conv.groupCount(), 1);
  EXPECT_EQ(conv.mathType(), LAMINA_DEFAULT_MATH);

  lamina::TensorDescriptor x(LAMINA_DATA_FLOAT, Dims{2, 6, 9, 8});
  lamina::FilterDescriptor wg(LAMINA_DATA_FLOAT, Dims{4, 3, 3, 3});
  expectError([&] { conv.forwardOutputDim(x, wg); }, LAMINA_STATUS_SHAPE_MISMATCH, "group");
  conv.setGroupCount(2);
  conv.setMathType(LAMINA_FMA_MATH);
  EXPECT_EQ(conv.groupCount(), 2);
  EXPECT_EQ(conv.mathType(), LAMINA_FMA_MATH);
  EXPECT_EQ(conv.forwardOutputDim(x, wg), (Dims{2, 4, 5, 4}));
  auto o = conv.forwardOutputDim2d(x, wg);
  EXPECT_EQ((Dims{o.n, o.c, o.h, o.w}), (Dims{2, 4, 5, 4}));

  lamina::ConvolutionDescriptor c3(Dims{0, 1, 2}, Dims{1, 1, 2}, Dims{1, 2, 1}, LAMINA_CONVOLUTION, LAMINA_DATA_DOUBLE);
  auto i3 = c3.info();
  EXPECT_EQ(i3.pads, (Dims{0, 1, 2}));
  EXPECT_EQ(i3.strides, (Dims{1, 1, 2}));
  EXPECT_EQ(i3.dilations, (Dims{1, 2, 1}));
  EXPECT_EQ(i3.mode, LAMINA_CONVOLUTION);
  EXPECT_EQ(i3.computeType, LAMINA_DATA_DOUBLE);
  expectError([&] { c3.info2d(); }, LAMINA_STATUS_BAD_DIMS, "spatial dims");
  expectError([] { lamina::ConvolutionDescriptor::conv2d(-1, 0); }, LAMINA_STATUS_BAD_PARAM, "pads[0]");
  expectError(
      [] {
        lamina::ConvolutionDescriptor bad(Dims{0, 0}, Dims{1}, Dims{1, 1});
      },
      LAMINA_STATUS_SHAPE_MISMATCH, "differ in length");
  expectError([&] { conv.setGroupCount(0); }, LAMINA_STATUS_BAD_PARAM, "groups");

  lamina::ConvolutionDescriptor moved = std::move(conv);
  EXPECT_EQ(moved.groupCount(), 2);
  EXPECT_FALSE(conv); // NOLINT(bugprone-use-after-move)
}

// A few real ops through the wrapper: the calls reach the library and its errors come back as
// lamina::Error. Values are small and checked by hand; the op tests proper live in their own files.
TEST(CppWrapper, TensorOpsThroughWrapper) {
  if (!lamina::isBackendAvailable(lt::testBackend()))
    GTEST_SKIP() << "backend unavailable";
  lamina::Handle h(lt::testBackend());
  lamina::TensorDescriptor c(LAMINA_DATA_FLOAT, Dims{1, 2, 1, 3});
  lamina::TensorDescriptor bias(LAMINA_DATA_FLOAT, Dims{1, 2, 1, 1});
  lamina::DeviceBuffer cBuf(h, std::vector<float>{1, 2, 3, 4, 5, 6});
  lamina::DeviceBuffer bBuf(h, std::vector<float>{10, 20});
  const float one = 1.f, zero = 0.f, two = 2.f, half = 0.5f;

  lamina::addTensor(h, &one, bias, bBuf.data(), &one, c, cBuf.data()); // c += bias (broadcast)
  EXPECT_EQ(cBuf.download<float>(), (std::vector<float>{11, 12, 13, 24, 25, 26}));
  lamina::scaleTensor(h, c, cBuf.data(), &half);
  EXPECT_EQ(cBuf.download<float>(), (std::vector<float>{5.5f, 6, 6.5f, 12, 12.5f, 13}));

  lamina::OpTensorDescriptor mul(LAMINA_OP_TENSOR_MUL);
  EXPECT_EQ(mul.info().op, LAMINA_OP_TENSOR_MUL);
  EXPECT_EQ(mul.info().computeType, LAMINA_DATA_FLOAT);
  lamina::DeviceBuffer out(h, cBuf.bytes());
  out.upload(std::vector<float>(6, NAN)); // beta == 0: never read
  lamina::opTensor(h, mul, &two, c, cBuf.data(), &one, bias, bBuf.data(), &zero, c, out.data());
  EXPECT_EQ(out.download<float>(), (std::vector<float>{110, 120, 130, 480, 500, 520}));

  lamina::setTensor(h, c, out.data(), &two);
  EXPECT_EQ(out.download<float>(), std::vector<float>(6, 2.f));

  // Layout conversion NCHW -> NHWC.
  lamina::TensorDescriptor nhwc(LAMINA_DATA_FLOAT, Dims{1, 2, 1, 3}, LAMINA_TENSOR_NHWC);
  lamina::transformTensor(h, &one, c, cBuf.data(), &zero, nhwc, out.data());
  EXPECT_EQ(out.download<float>(), (std::vector<float>{5.5f, 12, 6, 12.5f, 6.5f, 13}));

  // Sum over everything but C.
  lamina::ReduceTensorDescriptor sum(LAMINA_REDUCE_TENSOR_ADD);
  EXPECT_EQ(sum.info().indices, LAMINA_REDUCE_TENSOR_NO_INDICES);
  EXPECT_EQ(lamina::reductionIndicesSize(h, sum, c, bias), 0u);
  size_t ws = lamina::reductionWorkspaceSize(h, sum, c, bias);
  lamina::DeviceBuffer wsBuf(h, ws);
  lamina::DeviceBuffer red(h, bBuf.bytes());
  lamina::reduceTensor(h, sum, nullptr, 0, wsBuf.data(), ws, &one, c, cBuf.data(), &zero, bias, red.data());
  EXPECT_EQ(red.download<float>(), (std::vector<float>{18, 37.5f}));

  // Errors from op calls carry status and argument.
  expectError([&] { lamina::addTensor(h, &one, c, cBuf.data(), &one, bias, bBuf.data()); },
              LAMINA_STATUS_SHAPE_MISMATCH, "'a'");
  expectError([&] { lamina::scaleTensor(h, c, cBuf.data(), nullptr); }, LAMINA_STATUS_NULL_POINTER, "alpha");
  expectError([] { lamina::OpTensorDescriptor bad(LAMINA_OP_TENSOR_ADD, LAMINA_DATA_INT32); }, LAMINA_STATUS_BAD_PARAM,
              "computeType");
}

TEST(CppWrapper, MatmulDropoutBatchNormThroughWrapper) {
  if (!lamina::isBackendAvailable(lt::testBackend()))
    GTEST_SKIP() << "backend unavailable";
  lamina::Handle h(lt::testBackend());
  const double oneD = 1.0, zeroD = 0.0;
  // [1 2 3; 4 5 6] * [1 0; 0 1; 1 1] = [4 5; 10 11], in double (alpha/beta are doubles then).
  lamina::DeviceBuffer A(h, std::vector<double>{1, 2, 3, 4, 5, 6});
  lamina::DeviceBuffer B(h, std::vector<double>{1, 0, 0, 1, 1, 1});
  lamina::DeviceBuffer C(h, std::vector<double>(4, NAN));
  lamina::matmul(h, LAMINA_DATA_DOUBLE, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_N, 2, 2, 3, &oneD, A.data(), 3, 0,
                 B.data(), 2, 0, &zeroD, C.data(), 2, 0, 1);
  EXPECT_EQ(C.download<double>(), (std::vector<double>{4, 5, 10, 11}));
  expectError(
      [&] {
        lamina::matmul(h, LAMINA_DATA_DOUBLE, LAMINA_DEFAULT_MATH, LAMINA_OP_N, LAMINA_OP_N, 2, 2, 3, &oneD, A.data(),
                       2, 0, B.data(), 2, 0, &zeroD, C.data(), 2, 0, 1);
      },
      LAMINA_STATUS_BAD_PARAM, "lda");

  // Dropout: the same seed gives the same mask; backward applies it.
  lamina::TensorDescriptor x(LAMINA_DATA_FLOAT, Dims{2, 3, 4, 5});
  std::vector<float> xs(120, 1.f);
  lamina::DeviceBuffer xBuf(h, xs), y1(h, xBuf.bytes()), y2(h, xBuf.bytes()), dx(h, xBuf.bytes());
  size_t stateBytes = lamina::dropoutStatesSize(h), reserveBytes = lamina::dropoutReserveSpaceSize(x);
  lamina::DeviceBuffer s1(h, stateBytes), s2(h, stateBytes), r1(h, reserveBytes), r2(h, reserveBytes);
  lamina::DropoutDescriptor d1(h, 0.5f, s1, 42), d2(h, 0.5f, s2, 42);
  EXPECT_EQ(d1.info().dropout, 0.5f);
  EXPECT_EQ(d1.info().seed, 42u);
  EXPECT_EQ(d1.info().states, s1.data());
  lamina::dropoutForward(h, d1, x, xBuf.data(), x, y1.data(), r1.data(), reserveBytes);
  lamina::dropoutForward(h, d2, x, xBuf.data(), x, y2.data(), r2.data(), reserveBytes);
  auto v1 = y1.download<float>();
  EXPECT_EQ(v1, y2.download<float>());
  int kept = 0;
  for (float v : v1) {
    EXPECT_TRUE(v == 0.f || v == 2.f) << v;
    kept += v == 2.f;
  }
  EXPECT_GT(kept, 20);
  EXPECT_LT(kept, 100);
  lamina::dropoutBackward(h, d1, x, xBuf.data(), x, dx.data(), r1.data(), reserveBytes);
  EXPECT_EQ(dx.download<float>(), v1);
  expectError([&] { lamina::dropoutForward(h, d1, x, xBuf.data(), x, y1.data(), r1.data(), reserveBytes - 1); },
              LAMINA_STATUS_INSUFFICIENT_WORKSPACE, "reserveBytes");
  expectError([&] { lamina::DropoutDescriptor bad(h, 1.f, s1, 1); }, LAMINA_STATUS_BAD_PARAM, "dropout");

  // Batch-norm inference: y = scale * (x - mean) / sqrt(var + eps) + bias per channel.
  lamina::TensorDescriptor bx(LAMINA_DATA_FLOAT, Dims{1, 2, 1, 2});
  auto bn = lamina::TensorDescriptor::deriveBN(bx, LAMINA_BATCHNORM_SPATIAL);
  EXPECT_EQ(bn.dims(), (Dims{1, 2, 1, 1}));
  EXPECT_EQ(bn.dataType(), LAMINA_DATA_FLOAT);
  lamina::DeviceBuffer bxBuf(h, std::vector<float>{1, 3, 10, 20}), by(h, bxBuf.bytes());
  lamina::DeviceBuffer scale(h, std::vector<float>{2, 1}), bbias(h, std::vector<float>{0, 1});
  lamina::DeviceBuffer mean(h, std::vector<float>{2, 10}), var(h, std::vector<float>{4, 100});
  const float one = 1.f, zero = 0.f;
  lamina::batchNormalizationForwardInference(h, LAMINA_BATCHNORM_SPATIAL, &one, &zero, bx, bxBuf.data(), bx, by.data(),
                                             bn, scale.data(), bbias.data(), mean.data(), var.data(), 1e-30);
  auto got = by.download<float>();
  std::vector<float> want{-1, 1, 1, 2};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-6) << i;
  expectError(
      [&] {
        lamina::batchNormalizationForwardInference(h, LAMINA_BATCHNORM_SPATIAL, &one, &zero, bx, bxBuf.data(), bx,
                                                   by.data(), bn, scale.data(), bbias.data(), mean.data(), var.data(),
                                                   0.0);
      },
      LAMINA_STATUS_BAD_PARAM, "epsilon");
}

TEST(CppWrapper, ActivationThroughWrapper) {
  if (!lamina::isBackendAvailable(lt::testBackend()))
    GTEST_SKIP() << "backend unavailable";
  lamina::Handle h(lt::testBackend());
  lamina::ActivationDescriptor leaky(LAMINA_ACTIVATION_LEAKY_RELU, 0.25);
  auto info = leaky.info();
  EXPECT_EQ(info.mode, LAMINA_ACTIVATION_LEAKY_RELU);
  EXPECT_EQ(info.nan, LAMINA_NOT_PROPAGATE_NAN);
  EXPECT_EQ(info.coef, 0.25);
  lamina::TensorDescriptor x(LAMINA_DATA_FLOAT, Dims{1, 4});
  std::vector<float> xs{-2, -1, 1, 2};
  lamina::DeviceBuffer xBuf(h, xs), y(h, xBuf.bytes()), dy(h, std::vector<float>{1, 1, 1, 1}), dx(h, xBuf.bytes());
  const float one = 1.f, zero = 0.f;
  lamina::activationForward(h, leaky, &one, x, xBuf.data(), &zero, x, y.data());
  EXPECT_EQ(y.download<float>(), (std::vector<float>{-0.5f, -0.25f, 1, 2}));
  lamina::activationBackward(h, leaky, &one, x, y.data(), x, dy.data(), x, xBuf.data(), &zero, x, dx.data());
  EXPECT_EQ(dx.download<float>(), (std::vector<float>{0.25f, 0.25f, 1, 1}));
  lamina::activationForward(h, leaky, &one, x, xBuf.data(), &zero, x, xBuf.data()); // in place
  EXPECT_EQ(xBuf.download<float>(), (std::vector<float>{-0.5f, -0.25f, 1, 2}));
  expectError([] { lamina::ActivationDescriptor bad(LAMINA_ACTIVATION_CLIPPED_RELU, -1.0); }, LAMINA_STATUS_BAD_PARAM,
              "coef");
  lamina::TensorDescriptor wrong(LAMINA_DATA_FLOAT, Dims{1, 5});
  expectError([&] { lamina::activationForward(h, leaky, &one, x, xBuf.data(), &zero, wrong, y.data()); },
              LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
}

// Convolution through the wrapper: selection helpers return vectors, workspace from a DeviceBuffer,
// and every algorithm the heuristics call applicable gives the hand-computed result (to float rounding).
TEST(CppWrapper, ConvolutionThroughWrapper) {
  if (!lamina::isBackendAvailable(lt::testBackend()))
    GTEST_SKIP() << "backend unavailable";
  lamina::Handle h(lt::testBackend());
  // 1x1x3x3 input 1..9, 2x2 filter of ones, no padding: y = sums of 2x2 windows = [12 16; 24 28].
  lamina::TensorDescriptor x(LAMINA_DATA_FLOAT, Dims{1, 1, 3, 3});
  lamina::FilterDescriptor w(LAMINA_DATA_FLOAT, Dims{1, 1, 2, 2});
  auto conv = lamina::ConvolutionDescriptor::conv2d(0, 0);
  lamina::TensorDescriptor y(LAMINA_DATA_FLOAT, conv.forwardOutputDim(x, w));
  EXPECT_EQ(y.dims(), (Dims{1, 1, 2, 2}));
  lamina::DeviceBuffer xBuf(h, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  lamina::DeviceBuffer wBuf(h, std::vector<float>(4, 1.f)), yBuf(h, y.sizeInBytes());
  const float one = 1.f, zero = 0.f;
  const std::vector<float> want{12, 16, 24, 28};

  auto ranked = lamina::convolutionForwardAlgorithmHeuristics(h, x, w, conv, y);
  EXPECT_EQ(int(ranked.size()), lamina::convolutionForwardAlgorithmMaxCount(h));
  int applicable = 0;
  for (const auto &perf : ranked) {
    if (perf.status != LAMINA_STATUS_SUCCESS)
      continue;
    ++applicable;
    EXPECT_EQ(perf.time, -1.f);
    size_t ws = lamina::convolutionForwardWorkspaceSize(h, x, w, conv, y, perf.algo);
    EXPECT_EQ(ws, perf.memory);
    lamina::DeviceBuffer wsBuf(h, ws);
    yBuf.upload(std::vector<float>(4, NAN));
    lamina::convolutionForward(h, &one, x, xBuf.data(), w, wBuf.data(), conv, perf.algo, wsBuf.data(), ws, &zero, y,
                               yBuf.data());
    // Exact but for FFT's rounding (twiddles are not exact in float): a few ulps.
    const std::vector<float> got = yBuf.download<float>();
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-5f * want[i]) << "algo " << perf.algo << " element " << i;
  }
  EXPECT_GT(applicable, 0);

  auto algo = lamina::convolutionForwardAlgorithm(h, x, w, conv, y, LAMINA_CONVOLUTION_NO_WORKSPACE);
  EXPECT_EQ(lamina::convolutionForwardWorkspaceSize(h, x, w, conv, y, algo), 0u);
  auto found = lamina::findConvolutionForwardAlgorithm(h, x, w, conv, y);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].status, LAMINA_STATUS_SUCCESS);
  EXPECT_GE(found[0].time, 0.f);

  // Backward data with the all-ones dy: each dx element counts the windows covering it.
  lamina::DeviceBuffer dyBuf(h, std::vector<float>(4, 1.f)), dxBuf(h, x.sizeInBytes());
  auto bd = lamina::convolutionBackwardDataAlgorithm(h, w, y, conv, x, LAMINA_CONVOLUTION_NO_WORKSPACE);
  lamina::convolutionBackwardData(h, &one, w, wBuf.data(), y, dyBuf.data(), conv, bd, nullptr, 0, &zero, x,
                                  dxBuf.data());
  EXPECT_EQ(dxBuf.download<float>(), (std::vector<float>{1, 2, 1, 2, 4, 2, 1, 2, 1}));
  // Backward filter: dw[r][s] = sum of the window of x at offset (r, s).
  lamina::DeviceBuffer dwBuf(h, w.sizeInBytes());
  auto bf = lamina::convolutionBackwardFilterAlgorithm(h, x, y, conv, w, LAMINA_CONVOLUTION_NO_WORKSPACE);
  lamina::convolutionBackwardFilter(h, &one, x, xBuf.data(), y, dyBuf.data(), conv, bf, nullptr, 0, &zero, w,
                                    dwBuf.data());
  EXPECT_EQ(dwBuf.download<float>(), (std::vector<float>{12, 16, 24, 28}));
  // Backward bias: the sum of dy per channel.
  lamina::TensorDescriptor db(LAMINA_DATA_FLOAT, Dims{1, 1, 1, 1});
  lamina::DeviceBuffer dbBuf(h, db.sizeInBytes());
  lamina::convolutionBackwardBias(h, &one, y, dyBuf.data(), &zero, db, dbBuf.data());
  EXPECT_EQ(dbBuf.download<float>(), std::vector<float>{4});

  // Errors: y of the wrong shape, too small a workspace, an algorithm value out of range.
  lamina::TensorDescriptor badY(LAMINA_DATA_FLOAT, Dims{1, 1, 3, 3});
  expectError(
      [&] {
        lamina::convolutionForward(h, &one, x, xBuf.data(), w, wBuf.data(), conv, algo, nullptr, 0, &zero, badY,
                                   yBuf.data());
      },
      LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
  for (const auto &perf : ranked)
    if (perf.status == LAMINA_STATUS_SUCCESS && perf.memory > 0) {
      lamina::DeviceBuffer small(h, perf.memory - 1);
      expectError(
          [&] {
            lamina::convolutionForward(h, &one, x, xBuf.data(), w, wBuf.data(), conv, perf.algo, small.data(),
                                       small.bytes(), &zero, y, yBuf.data());
          },
          LAMINA_STATUS_INSUFFICIENT_WORKSPACE, "workspace");
    }
  expectError([&] { lamina::convolutionForwardWorkspaceSize(h, x, w, conv, y, laminaConvolutionFwdAlgo_t(15)); },
              LAMINA_STATUS_BAD_PARAM, "algo");
}

TEST(CppWrapper, PoolingSoftmaxLrnThroughWrapper) {
  if (!lamina::isBackendAvailable(lt::testBackend()))
    GTEST_SKIP() << "backend unavailable";
  lamina::Handle h(lt::testBackend());
  const float one = 1.f, zero = 0.f;
  auto pool = lamina::PoolingDescriptor::pooling2d(LAMINA_POOLING_MAX, 2, 2, 0, 0, 2, 2);
  auto pi = pool.info();
  EXPECT_EQ(pi.mode, LAMINA_POOLING_MAX);
  EXPECT_EQ(pi.window, (Dims{2, 2}));
  EXPECT_EQ(pi.strides, (Dims{2, 2}));
  EXPECT_FALSE(pool.ceilMode());
  lamina::TensorDescriptor x(LAMINA_DATA_FLOAT, Dims{1, 1, 3, 4});
  EXPECT_EQ(pool.forwardOutputDim(x), (Dims{1, 1, 1, 2}));
  pool.setCeilMode(true);
  EXPECT_TRUE(pool.ceilMode());
  EXPECT_EQ(pool.forwardOutputDim(x), (Dims{1, 1, 2, 2}));
  pool.setCeilMode(false);
  lamina::TensorDescriptor y(LAMINA_DATA_FLOAT, pool.forwardOutputDim(x));
  lamina::DeviceBuffer xBuf(h, std::vector<float>{1, 5, 2, 0, 3, 4, 8, 7, 9, 9, 9, 9}), yBuf(h, y.sizeInBytes());
  lamina::poolingForward(h, pool, &one, x, xBuf.data(), &zero, y, yBuf.data());
  EXPECT_EQ(yBuf.download<float>(), (std::vector<float>{5, 8}));
  lamina::DeviceBuffer dy(h, std::vector<float>{1, 2}), dx(h, x.sizeInBytes());
  lamina::poolingBackward(h, pool, &one, y, yBuf.data(), y, dy.data(), x, xBuf.data(), &zero, x, dx.data());
  EXPECT_EQ(dx.download<float>(), (std::vector<float>{0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0}));
  expectError(
      [] {
        lamina::PoolingDescriptor bad(LAMINA_POOLING_MAX, Dims{2, 2}, Dims{2, 0}, Dims{1, 1});
      },
      LAMINA_STATUS_BAD_PARAM, "pads[0]");

  // Softmax over C of two equal logits and one that dominates.
  lamina::TensorDescriptor s(LAMINA_DATA_DOUBLE, Dims{2, 2});
  lamina::DeviceBuffer sx(h, std::vector<double>{0.5, 0.5, 0, 100}), sy(h, s.sizeInBytes());
  const double oneD = 1, zeroD = 0;
  lamina::softmaxForward(h, LAMINA_SOFTMAX_ACCURATE, LAMINA_SOFTMAX_MODE_CHANNEL, &oneD, s, sx.data(), &zeroD, s,
                         sy.data());
  auto sv = sy.download<double>();
  EXPECT_DOUBLE_EQ(sv[0], 0.5);
  EXPECT_DOUBLE_EQ(sv[1], 0.5);
  EXPECT_NEAR(sv[3], 1.0, 1e-15);

  // LRN: the descriptor starts with the defaults; n = 1 across channels is x / (k + alpha x^2)^beta.
  lamina::LRNDescriptor lrn;
  auto li = lrn.info();
  EXPECT_EQ(li.n, 5u);
  EXPECT_EQ(li.alpha, 1e-4);
  EXPECT_EQ(li.beta, 0.75);
  EXPECT_EQ(li.k, 2.0);
  lrn.set(1, 1.0, 1.0, 1.0);
  lamina::TensorDescriptor lx(LAMINA_DATA_DOUBLE, Dims{1, 2, 1, 1});
  lamina::DeviceBuffer lxBuf(h, std::vector<double>{1, 2}), lyBuf(h, lx.sizeInBytes());
  lamina::lrnForward(h, lrn, LAMINA_LRN_CROSS_CHANNEL, &oneD, lx, lxBuf.data(), &zeroD, lx, lyBuf.data());
  auto lv = lyBuf.download<double>();
  EXPECT_NEAR(lv[0], 0.5, 1e-15);
  EXPECT_NEAR(lv[1], 0.4, 1e-15);
  expectError([&] { lrn.set(4, 1.0, 1.0, 1.0); }, LAMINA_STATUS_BAD_PARAM, "'n'");
}

} // namespace
