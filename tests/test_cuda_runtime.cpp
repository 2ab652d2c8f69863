// The backend runtime through the public API: handle, streams, memory, pointer checks, and stream
// semantics (two handles on two streams give the results each gives alone). Meaningful on CUDA
// (LAMINA_TEST_BACKEND=cuda); on the CPU backend it checks the CPU's side of the same contract and
// skips the rest. CUDA runtime calls (streams, pointer attributes) only where CUDA is built.
#include "common/test_util.h"

#ifdef LAMINA_TEST_HAVE_CUDART
#include <cuda_runtime.h>
#endif

#include <cstring>
#include <vector>

namespace {

bool onCuda() { return lt::testBackend() == LAMINA_BACKEND_CUDA; }

#ifdef LAMINA_TEST_HAVE_CUDART
// A non-blocking stream (no implicit synchronisation with the legacy default stream), destroyed at
// scope exit.
struct Stream {
  cudaStream_t s = nullptr;
  Stream() { EXPECT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess); }
  ~Stream() {
    if (s)
      cudaStreamDestroy(s);
  }
  Stream(const Stream &) = delete;
  Stream &operator=(const Stream &) = delete;
};
#endif

TEST(Runtime, HandleReportsItsBackend) {
  LT_HANDLE_OR_SKIP(h);
  laminaBackend_t b = LAMINA_BACKEND_CPU;
  LAMINA_ASSERT_OK(laminaGetBackend(h, &b));
  EXPECT_EQ(b, lt::testBackend());
  int available = 0;
  LAMINA_ASSERT_OK(laminaIsBackendAvailable(lt::testBackend(), &available));
  EXPECT_EQ(available, 1);
  int threads = -1;
  LAMINA_ASSERT_OK(laminaGetNumThreads(h, &threads));
  if (onCuda())
    EXPECT_EQ(threads, 1); // documented: ignored on CUDA, reads 1
  else
    EXPECT_EQ(threads, 0); // all cores, the default
}

#ifdef LAMINA_TEST_HAVE_CUDART
// The handle is bound to the device current at creation: its memory lives there.
TEST(Runtime, HandleBindsTheCurrentDevice) {
  if (!onCuda())
    GTEST_SKIP() << "CUDA only";
  int dev = -1;
  ASSERT_EQ(cudaGetDevice(&dev), cudaSuccess);
  LT_HANDLE_OR_SKIP(h);
  void *p = nullptr;
  LAMINA_ASSERT_OK(laminaMalloc(h, &p, 4096));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << "allocations are at least 64-byte aligned";
  cudaPointerAttributes a;
  ASSERT_EQ(cudaPointerGetAttributes(&a, p), cudaSuccess);
  EXPECT_EQ(a.type, cudaMemoryTypeDevice);
  EXPECT_EQ(a.device, dev);
  LAMINA_EXPECT_OK(laminaFree(h, p));
  LAMINA_EXPECT_OK(laminaFree(h, nullptr)); // a no-op
}
#endif

TEST(Runtime, NullStreamAccepted) {
  LT_HANDLE_OR_SKIP(h);
  LAMINA_ASSERT_OK(laminaSetStream(h, nullptr));
  void *s = reinterpret_cast<void *>(0x1);
  LAMINA_ASSERT_OK(laminaGetStream(h, &s));
  EXPECT_EQ(s, nullptr);
  LAMINA_EXPECT_OK(laminaSynchronize(h));
  LAMINA_EXPECT_STATUS(laminaGetStream(h, nullptr), LAMINA_STATUS_NULL_POINTER, "stream");
}

TEST(Runtime, CpuRefusesAStream) {
  if (onCuda())
    GTEST_SKIP() << "CPU only";
  LT_HANDLE_OR_SKIP(h);
  int dummy = 0;
  LAMINA_EXPECT_STATUS(laminaSetStream(h, &dummy), LAMINA_STATUS_NOT_SUPPORTED, "stream");
  void *s = reinterpret_cast<void *>(0x1);
  LAMINA_ASSERT_OK(laminaGetStream(h, &s));
  EXPECT_EQ(s, nullptr) << "a refused stream must not be kept";
}

#ifdef LAMINA_TEST_HAVE_CUDART
TEST(Runtime, StreamRoundTripAndUse) {
  if (!onCuda())
    GTEST_SKIP() << "CUDA only";
  LT_HANDLE_OR_SKIP(h);
  Stream st;
  LAMINA_ASSERT_OK(laminaSetStream(h, st.s));
  void *got = nullptr;
  LAMINA_ASSERT_OK(laminaGetStream(h, &got));
  EXPECT_EQ(got, static_cast<void *>(st.s));
  // Work on the stream: memset, device-to-device copy (asynchronous), copy back.
  const size_t n = 1 << 20;
  void *a = nullptr, *b = nullptr;
  LAMINA_ASSERT_OK(laminaMalloc(h, &a, n));
  LAMINA_ASSERT_OK(laminaMalloc(h, &b, n));
  LAMINA_ASSERT_OK(laminaMemset(h, a, 0x5a, n));
  LAMINA_ASSERT_OK(laminaMemcpy(h, b, a, n, LAMINA_MEMCPY_DEVICE_TO_DEVICE));
  LAMINA_ASSERT_OK(laminaSynchronize(h));
  EXPECT_EQ(cudaStreamQuery(st.s), cudaSuccess) << "laminaSynchronize returned before the stream drained";
  std::vector<unsigned char> host(n, 0);
  LAMINA_ASSERT_OK(laminaMemcpy(h, host.data(), b, n, LAMINA_MEMCPY_DEVICE_TO_HOST));
  size_t bad = 0;
  for (unsigned char c : host)
    bad += c != 0x5a;
  EXPECT_EQ(bad, 0u);
  LAMINA_EXPECT_OK(laminaFree(h, a));
  LAMINA_EXPECT_OK(laminaFree(h, b));
  LAMINA_ASSERT_OK(laminaSetStream(h, nullptr)); // before the stream is destroyed
  LAMINA_ASSERT_OK(laminaGetStream(h, &got));
  EXPECT_EQ(got, nullptr);
}
#endif

TEST(Runtime, MemcpyKindsRoundTrip) {
  LT_HANDLE_OR_SKIP(h);
  const size_t n = 1000;
  std::vector<float> src(n), back(n, -1.f);
  for (size_t i = 0; i < n; ++i)
    src[i] = float(i) * 0.25f - 7.f;
  void *a = nullptr, *b = nullptr;
  LAMINA_ASSERT_OK(laminaMalloc(h, &a, n * sizeof(float)));
  LAMINA_ASSERT_OK(laminaMalloc(h, &b, n * sizeof(float)));
  LAMINA_ASSERT_OK(laminaMemcpy(h, a, src.data(), n * sizeof(float), LAMINA_MEMCPY_HOST_TO_DEVICE));
  LAMINA_ASSERT_OK(laminaMemcpy(h, b, a, n * sizeof(float), LAMINA_MEMCPY_DEVICE_TO_DEVICE));
  LAMINA_ASSERT_OK(laminaMemcpy(h, back.data(), b, n * sizeof(float), LAMINA_MEMCPY_DEVICE_TO_HOST));
  EXPECT_EQ(std::memcmp(src.data(), back.data(), n * sizeof(float)), 0);
  // Memset of part of a buffer, then the whole buffer back: bytes outside the range untouched.
  LAMINA_ASSERT_OK(laminaMemset(h, b, 0, 10 * sizeof(float)));
  LAMINA_ASSERT_OK(laminaMemcpy(h, back.data(), b, n * sizeof(float), LAMINA_MEMCPY_DEVICE_TO_HOST));
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(back[i], i < 10 ? 0.f : src[i]) << "element " << i;
  // Zero bytes: nothing to check, nothing done.
  LAMINA_EXPECT_OK(laminaMemcpy(h, b, a, 0, LAMINA_MEMCPY_DEVICE_TO_DEVICE));
  LAMINA_EXPECT_STATUS(laminaMemcpy(h, b, a, 4, laminaMemcpyKind_t(3)), LAMINA_STATUS_BAD_PARAM, "kind");
  LAMINA_EXPECT_STATUS(laminaMemcpy(h, nullptr, a, 4, LAMINA_MEMCPY_DEVICE_TO_DEVICE), LAMINA_STATUS_NULL_POINTER,
                       "dst");
  LAMINA_EXPECT_OK(laminaFree(h, a));
  LAMINA_EXPECT_OK(laminaFree(h, b));
}

// On CUDA a host pointer where device memory is expected is BAD_POINTER, naming the argument.
TEST(Runtime, HostPointerIsBadPointer) {
  if (!onCuda())
    GTEST_SKIP() << "CUDA only (host memory is the CPU backend's memory)";
  LT_HANDLE_OR_SKIP(h);
  std::vector<float> host(64, 1.f);
  void *dev = nullptr;
  LAMINA_ASSERT_OK(laminaMalloc(h, &dev, 64 * sizeof(float)));
  LAMINA_EXPECT_STATUS(laminaMemset(h, host.data(), 0, 16), LAMINA_STATUS_BAD_POINTER, "ptr");
  LAMINA_EXPECT_STATUS(laminaMemcpy(h, host.data(), dev, 16, LAMINA_MEMCPY_HOST_TO_DEVICE), LAMINA_STATUS_BAD_POINTER,
                       "dst");
  LAMINA_EXPECT_STATUS(laminaMemcpy(h, dev, host.data(), 16, LAMINA_MEMCPY_DEVICE_TO_HOST), LAMINA_STATUS_BAD_POINTER,
                       "src");
  LAMINA_EXPECT_STATUS(laminaMemcpy(h, dev, host.data(), 16, LAMINA_MEMCPY_DEVICE_TO_DEVICE), LAMINA_STATUS_BAD_POINTER,
                       "src");
  lt::Tensor t(LAMINA_DATA_FLOAT, {1, 4, 4, 4});
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, one.ptr(t.dtype), t, host.data(), zero.ptr(t.dtype), t, dev),
                       LAMINA_STATUS_BAD_POINTER, "aData");
  LAMINA_EXPECT_STATUS(laminaAddTensor(h, one.ptr(t.dtype), t, dev, zero.ptr(t.dtype), t, host.data()),
                       LAMINA_STATUS_BAD_POINTER, "cData");
  LAMINA_EXPECT_STATUS(laminaScaleTensor(h, t, host.data(), one.ptr(t.dtype)), LAMINA_STATUS_BAD_POINTER, "yData");
  EXPECT_EQ(host[0], 1.f) << "a refused call must not touch the memory";
  LAMINA_EXPECT_OK(laminaFree(h, dev));
}

#ifdef LAMINA_TEST_HAVE_CUDART
// One step of the sequence: c = 0.5 * a + c; c *= 0.9; c = c + 0.25 * a (OpTensor ADD in place).
void step(laminaHandle_t h, const lt::Tensor &t, laminaOpTensorDescriptor_t add, const void *a, void *c) {
  lt::Scalar half(0.5), one(1.0), scale(0.9), quarter(0.25), zero(0.0);
  const laminaDataType_t dt = t.dtype;
  LAMINA_EXPECT_OK(laminaAddTensor(h, half.ptr(dt), t, a, one.ptr(dt), t, c));
  LAMINA_EXPECT_OK(laminaScaleTensor(h, t, c, scale.ptr(dt)));
  LAMINA_EXPECT_OK(laminaOpTensor(h, add, one.ptr(dt), t, c, quarter.ptr(dt), t, a, zero.ptr(dt), t, c));
}

// Two handles on two non-blocking streams, their ops enqueued interleaved from one thread, give
// bit for bit what each sequence gives alone: every op runs on its handle's stream, in order.
TEST(Runtime, TwoStreamsMatchSequentialRuns) {
  if (!onCuda())
    GTEST_SKIP() << "CUDA only";
  lt::Handle h1, h2;
  if (!h1.ok() || !h2.ok())
    GTEST_SKIP() << "backend unavailable: " << laminaGetLastErrorMessage();
  Stream s1, s2;
  LAMINA_ASSERT_OK(laminaSetStream(h1, s1.s));
  LAMINA_ASSERT_OK(laminaSetStream(h2, s2.s));
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  lt::Tensor t(dt, {4, 32, 64, 64}); // 512 Ki elements: kernels long enough to overlap
  laminaOpTensorDescriptor_t add = nullptr;
  LAMINA_ASSERT_OK(laminaCreateOpTensorDescriptor(&add));
  LAMINA_ASSERT_OK(laminaSetOpTensorDescriptor(add, LAMINA_OP_TENSOR_ADD, LAMINA_DATA_FLOAT, LAMINA_NOT_PROPAGATE_NAN));
  const int kSteps = 300;
  const auto a1 = lt::randomValues(t.numel(), 11, dt), c1 = lt::randomValues(t.numel(), 12, dt);
  const auto a2 = lt::randomValues(t.numel(), 21, dt), c2 = lt::randomValues(t.numel(), 22, dt);

  // Alone: each sequence on its handle, drained before the next starts.
  std::vector<double> alone1, alone2;
  {
    lt::Buffer a(h1, t.bytes(), dt), c(h1, t.bytes(), dt);
    lt::upload(h1, t, a1, a.p);
    lt::upload(h1, t, c1, c.p);
    for (int i = 0; i < kSteps; ++i)
      step(h1, t, add, a.p, c.p);
    LAMINA_ASSERT_OK(laminaSynchronize(h1));
    alone1 = lt::download(h1, t, c.p);
  }
  {
    lt::Buffer a(h2, t.bytes(), dt), c(h2, t.bytes(), dt);
    lt::upload(h2, t, a2, a.p);
    lt::upload(h2, t, c2, c.p);
    for (int i = 0; i < kSteps; ++i)
      step(h2, t, add, a.p, c.p);
    LAMINA_ASSERT_OK(laminaSynchronize(h2));
    alone2 = lt::download(h2, t, c.p);
  }
  // Together: interleaved, synchronised only at the end.
  lt::Buffer a1b(h1, t.bytes(), dt), c1b(h1, t.bytes(), dt), a2b(h2, t.bytes(), dt), c2b(h2, t.bytes(), dt);
  lt::upload(h1, t, a1, a1b.p);
  lt::upload(h1, t, c1, c1b.p);
  lt::upload(h2, t, a2, a2b.p);
  lt::upload(h2, t, c2, c2b.p);
  for (int i = 0; i < kSteps; ++i) {
    step(h1, t, add, a1b.p, c1b.p);
    step(h2, t, add, a2b.p, c2b.p);
  }
  LAMINA_ASSERT_OK(laminaSynchronize(h1));
  LAMINA_ASSERT_OK(laminaSynchronize(h2));
  EXPECT_EQ(cudaStreamQuery(s1.s), cudaSuccess);
  EXPECT_EQ(cudaStreamQuery(s2.s), cudaSuccess);
  const auto together1 = lt::download(h1, t, c1b.p), together2 = lt::download(h2, t, c2b.p);
  EXPECT_TRUE(lt::allClose(together1, alone1, 0.0));
  EXPECT_TRUE(lt::allClose(together2, alone2, 0.0));
  EXPECT_FALSE(lt::allClose(alone1, alone2, 1e-3)) << "the two sequences must differ, or a mix-up would go unseen";
  laminaDestroyOpTensorDescriptor(add);
  LAMINA_EXPECT_OK(laminaSetStream(h1, nullptr));
  LAMINA_EXPECT_OK(laminaSetStream(h2, nullptr));
}
#endif

} // namespace
