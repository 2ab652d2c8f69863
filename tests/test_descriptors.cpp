// Handle, memory and descriptor behaviour, including every bad-input status they can give.
#include "common/test_util.h"

#include <cmath>
#include <cstring>

namespace {

TEST(Errors, StringsAndLastMessage) {
  EXPECT_STREQ(laminaGetErrorString(LAMINA_STATUS_SUCCESS), "LAMINA_STATUS_SUCCESS");
  EXPECT_STREQ(laminaGetErrorString(LAMINA_STATUS_SIZE_OVERFLOW), "LAMINA_STATUS_SIZE_OVERFLOW");
  EXPECT_EQ(laminaGetVersion(), size_t(LAMINA_VERSION));
  LAMINA_EXPECT_STATUS(laminaCreate(nullptr), LAMINA_STATUS_NULL_POINTER, "handle");
  EXPECT_NE(std::string(laminaGetLastErrorMessage()).find("laminaCreate"), std::string::npos);
}

TEST(Handle, CreateDestroyAndThreads) {
  laminaHandle_t h = nullptr;
  LAMINA_ASSERT_OK(laminaCreateWithBackend(&h, LAMINA_BACKEND_CPU));
  laminaBackend_t b;
  LAMINA_EXPECT_OK(laminaGetBackend(h, &b));
  EXPECT_EQ(b, LAMINA_BACKEND_CPU);
  LAMINA_EXPECT_OK(laminaSetNumThreads(h, 1));
  int t = -1;
  LAMINA_EXPECT_OK(laminaGetNumThreads(h, &t));
  EXPECT_EQ(t, 1);
  LAMINA_EXPECT_STATUS(laminaSetNumThreads(h, -2), LAMINA_STATUS_BAD_PARAM, "threads");
  int dummy;
  LAMINA_EXPECT_STATUS(laminaSetStream(h, &dummy), LAMINA_STATUS_NOT_SUPPORTED, "stream");
  laminaHandle_t h2 = h;
  LAMINA_EXPECT_STATUS(laminaCreateWithBackend(&h2, laminaBackend_t(7)), LAMINA_STATUS_BAD_PARAM, "backend");
  EXPECT_EQ(h2, nullptr); // a failed create leaves NULL behind
  LAMINA_EXPECT_STATUS(laminaGetBackend(nullptr, &b), LAMINA_STATUS_NULL_POINTER, "handle");
  LAMINA_EXPECT_OK(laminaDestroy(h));
}

TEST(Handle, DestroyedStructIsNotAHandle) {
  laminaHandle_t h = nullptr;
  LAMINA_ASSERT_OK(laminaCreateWithBackend(&h, LAMINA_BACKEND_CPU));
  laminaTensorDescriptor_t t;
  LAMINA_ASSERT_OK(laminaCreateTensorDescriptor(&t));
  // A tensor descriptor passed where a handle is expected is caught, not dereferenced as one.
  LAMINA_EXPECT_STATUS(laminaSetNumThreads(reinterpret_cast<laminaHandle_t>(t), 1), LAMINA_STATUS_BAD_PARAM, "handle");
  laminaDestroyTensorDescriptor(t);
  laminaDestroy(h);
}

TEST(Handle, CudaUnavailableIsReported) {
  int avail = -1;
  LAMINA_ASSERT_OK(laminaIsBackendAvailable(LAMINA_BACKEND_CUDA, &avail));
  if (avail)
    GTEST_SKIP() << "CUDA present";
  laminaHandle_t h = nullptr;
  EXPECT_EQ(laminaCreateWithBackend(&h, LAMINA_BACKEND_CUDA), LAMINA_STATUS_BACKEND_UNAVAILABLE);
  EXPECT_EQ(h, nullptr);
  LAMINA_ASSERT_OK(laminaCreate(&h)); // falls back to the CPU
  laminaBackend_t b;
  LAMINA_EXPECT_OK(laminaGetBackend(h, &b));
  EXPECT_EQ(b, LAMINA_BACKEND_CPU);
  laminaDestroy(h);
}

TEST(Memory, RoundTrip) {
  LT_HANDLE_OR_SKIP(h);
  std::vector<float> src(1000), dst(1000);
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = float(i) * 0.5f - 7;
  void *dev = nullptr, *dev2 = nullptr;
  LAMINA_ASSERT_OK(laminaMalloc(h, &dev, 4000));
  LAMINA_ASSERT_OK(laminaMalloc(h, &dev2, 4000));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(dev) % 64, 0u);
  LAMINA_EXPECT_OK(laminaMemcpy(h, dev, src.data(), 4000, LAMINA_MEMCPY_HOST_TO_DEVICE));
  LAMINA_EXPECT_OK(laminaMemcpy(h, dev2, dev, 4000, LAMINA_MEMCPY_DEVICE_TO_DEVICE));
  LAMINA_EXPECT_OK(laminaMemcpy(h, dst.data(), dev2, 4000, LAMINA_MEMCPY_DEVICE_TO_HOST));
  LAMINA_EXPECT_OK(laminaSynchronize(h));
  EXPECT_EQ(src, dst);
  LAMINA_EXPECT_STATUS(laminaMemcpy(h, nullptr, src.data(), 4, LAMINA_MEMCPY_HOST_TO_DEVICE),
                       LAMINA_STATUS_NULL_POINTER, "dst");
  LAMINA_EXPECT_STATUS(laminaMemcpy(h, dev, src.data(), 4, laminaMemcpyKind_t(9)), LAMINA_STATUS_BAD_PARAM, "kind");
  LAMINA_EXPECT_OK(laminaMemset(h, dev, 0, 4000));
  LAMINA_EXPECT_OK(laminaFree(h, dev));
  LAMINA_EXPECT_OK(laminaFree(h, dev2));
  LAMINA_EXPECT_OK(laminaFree(h, nullptr));
}

TEST(TensorDescriptor, PackedFormats) {
  laminaTensorDescriptor_t t;
  LAMINA_ASSERT_OK(laminaCreateTensorDescriptor(&t));
  LAMINA_ASSERT_OK(laminaSetTensor4dDescriptor(t, LAMINA_TENSOR_NHWC, LAMINA_DATA_HALF, 2, 3, 4, 5));
  laminaDataType_t dt;
  int64_t n, c, hh, w, ns, cs, hs, ws;
  LAMINA_ASSERT_OK(laminaGetTensor4dDescriptor(t, &dt, &n, &c, &hh, &w, &ns, &cs, &hs, &ws));
  EXPECT_EQ(dt, LAMINA_DATA_HALF);
  EXPECT_EQ((std::vector<int64_t>{n, c, hh, w, ns, cs, hs, ws}), (std::vector<int64_t>{2, 3, 4, 5, 60, 1, 15, 3}));
  size_t bytes = 0;
  LAMINA_ASSERT_OK(laminaGetTensorSizeInBytes(t, &bytes));
  EXPECT_EQ(bytes, 2u * 120u);
  int64_t dims5[5] = {2, 3, 4, 5, 6};
  LAMINA_ASSERT_OK(laminaSetTensorNdDescriptorEx(t, LAMINA_TENSOR_NHWC, LAMINA_DATA_FLOAT, 5, dims5));
  int64_t d[8], s[8];
  int nb = 0;
  LAMINA_ASSERT_OK(laminaGetTensorNdDescriptor(t, 8, &dt, &nb, d, s));
  EXPECT_EQ(nb, 5);
  EXPECT_EQ((std::vector<int64_t>(s, s + 5)), (std::vector<int64_t>{360, 1, 90, 18, 3}));
  laminaDestroyTensorDescriptor(t);
}

TEST(TensorDescriptor, BadInput) {
  laminaTensorDescriptor_t t;
  LAMINA_ASSERT_OK(laminaCreateTensorDescriptor(&t));
  size_t bytes;
  LAMINA_EXPECT_STATUS(laminaGetTensorSizeInBytes(t, &bytes), LAMINA_STATUS_NOT_INITIALIZED, "desc");
  LAMINA_EXPECT_STATUS(laminaSetTensor4dDescriptor(t, LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, 1, 0, 2, 2),
                       LAMINA_STATUS_BAD_DIMS, "dims[1]");
  LAMINA_EXPECT_STATUS(laminaSetTensor4dDescriptor(t, LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, 1, -3, 2, 2),
                       LAMINA_STATUS_BAD_DIMS, "dims[1]");
  LAMINA_EXPECT_STATUS(laminaSetTensor4dDescriptor(t, laminaTensorFormat_t(5), LAMINA_DATA_FLOAT, 1, 1, 2, 2),
                       LAMINA_STATUS_BAD_PARAM, "format");
  LAMINA_EXPECT_STATUS(laminaSetTensor4dDescriptor(t, LAMINA_TENSOR_NCHW, laminaDataType_t(42), 1, 1, 2, 2),
                       LAMINA_STATUS_BAD_PARAM, "dataType");
  LAMINA_EXPECT_STATUS(laminaSetTensor4dDescriptorEx(t, LAMINA_DATA_FLOAT, 1, 2, 2, 2, 8, -4, 2, 1),
                       LAMINA_STATUS_BAD_STRIDES, "strides[1]");
  int64_t big = int64_t(1) << 40;
  LAMINA_EXPECT_STATUS(laminaSetTensor4dDescriptor(t, LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, big, big, 2, 2),
                       LAMINA_STATUS_SIZE_OVERFLOW, "overflows");
  int64_t dims9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  LAMINA_EXPECT_STATUS(laminaSetTensorNdDescriptorEx(t, LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, 9, dims9),
                       LAMINA_STATUS_BAD_DIMS, "nbDims");
  LAMINA_EXPECT_STATUS(laminaSetTensorNdDescriptor(t, LAMINA_DATA_FLOAT, 2, dims9, nullptr), LAMINA_STATUS_NULL_POINTER,
                       "strides");
  // A failed Set leaves the descriptor unset.
  LAMINA_EXPECT_STATUS(laminaGetTensorSizeInBytes(t, &bytes), LAMINA_STATUS_NOT_INITIALIZED, "desc");
  // A filter descriptor where a tensor descriptor is expected.
  laminaFilterDescriptor_t f;
  LAMINA_ASSERT_OK(laminaCreateFilterDescriptor(&f));
  LAMINA_EXPECT_STATUS(laminaGetTensorSizeInBytes(reinterpret_cast<laminaTensorDescriptor_t>(f), &bytes),
                       LAMINA_STATUS_WRONG_DESCRIPTOR, "filter");
  laminaDestroyFilterDescriptor(f);
  laminaDestroyTensorDescriptor(t);
  LAMINA_EXPECT_OK(laminaDestroyTensorDescriptor(nullptr));
}

TEST(FilterDescriptor, FormatsAndErrors) {
  laminaFilterDescriptor_t f;
  LAMINA_ASSERT_OK(laminaCreateFilterDescriptor(&f));
  LAMINA_ASSERT_OK(laminaSetFilter4dDescriptor(f, LAMINA_DATA_FLOAT, LAMINA_TENSOR_NHWC, 8, 3, 5, 5));
  size_t bytes;
  LAMINA_ASSERT_OK(laminaGetFilterSizeInBytes(f, &bytes));
  EXPECT_EQ(bytes, 8u * 3 * 25 * 4);
  int64_t dims2[2] = {3, 3};
  LAMINA_EXPECT_STATUS(laminaSetFilterNdDescriptor(f, LAMINA_DATA_FLOAT, LAMINA_TENSOR_NCHW, 2, dims2),
                       LAMINA_STATUS_BAD_DIMS, "nbDims");
  laminaDestroyFilterDescriptor(f);
}

TEST(ConvolutionDescriptor, OutputDimsAndErrors) {
  laminaConvolutionDescriptor_t c;
  LAMINA_ASSERT_OK(laminaCreateConvolutionDescriptor(&c));
  LAMINA_ASSERT_OK(laminaSetConvolution2dDescriptor(c, 1, 1, 2, 2, 1, 1, LAMINA_CROSS_CORRELATION, LAMINA_DATA_FLOAT));
  lt::Tensor x(LAMINA_DATA_FLOAT, {2, 6, 9, 8});
  lt::Filter w(LAMINA_DATA_FLOAT, {4, 3, 3, 3});
  int64_t n, k, oh, ow;
  LAMINA_EXPECT_STATUS(laminaGetConvolution2dForwardOutputDim(c, x, w, &n, &k, &oh, &ow), LAMINA_STATUS_SHAPE_MISMATCH,
                       "group");
  LAMINA_ASSERT_OK(laminaSetConvolutionGroupCount(c, 2));
  LAMINA_ASSERT_OK(laminaGetConvolution2dForwardOutputDim(c, x, w, &n, &k, &oh, &ow));
  EXPECT_EQ((std::vector<int64_t>{n, k, oh, ow}), (std::vector<int64_t>{2, 4, 5, 4}));
  LAMINA_EXPECT_STATUS(
      laminaSetConvolution2dDescriptor(c, -1, 1, 1, 1, 1, 1, LAMINA_CROSS_CORRELATION, LAMINA_DATA_FLOAT),
      LAMINA_STATUS_BAD_PARAM, "pads[0]");
  LAMINA_EXPECT_STATUS(
      laminaSetConvolution2dDescriptor(c, 1, 1, 0, 1, 1, 1, LAMINA_CROSS_CORRELATION, LAMINA_DATA_FLOAT),
      LAMINA_STATUS_BAD_PARAM, "strides[0]");
  LAMINA_EXPECT_STATUS(laminaSetConvolutionGroupCount(c, 0), LAMINA_STATUS_BAD_PARAM, "groups");
  laminaDestroyConvolutionDescriptor(c);
}

TEST(TestSupport, HalfAndBf16RoundingMatchesIeee) {
  // The test-side conversions must round to nearest even, like the hardware.
  EXPECT_EQ(lt::roundTo(LAMINA_DATA_HALF, 1.0 + 1.0 / 2048), 1.0);              // tie to even
  EXPECT_EQ(lt::roundTo(LAMINA_DATA_HALF, 1.0 + 3.0 / 2048), 1.0 + 2.0 / 1024); // tie to even, up
  EXPECT_EQ(lt::roundTo(LAMINA_DATA_HALF, 70000.0), INFINITY);
  EXPECT_EQ(lt::roundTo(LAMINA_DATA_HALF, std::ldexp(1.0, -24)), std::ldexp(1.0, -24));
  EXPECT_EQ(lt::roundTo(LAMINA_DATA_BFLOAT16, 1.0 + 1.0 / 256), 1.0);
  EXPECT_EQ(lt::roundTo(LAMINA_DATA_BFLOAT16, 1.0 + 3.0 / 256), 1.0 + 2.0 / 128);
}

} // namespace
