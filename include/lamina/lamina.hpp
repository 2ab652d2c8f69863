// Lamina C++ wrapper: header-only, C++17, over the C API of lamina.h.
//
// - Every failing call throws lamina::Error carrying the status and laminaGetLastErrorMessage().
// - The handle, every descriptor kind and DeviceBuffer are move-only owners: the destructor calls the
//   matching laminaDestroy*/laminaFree; a moved-from object owns nothing (get() == nullptr).
// - Owners convert implicitly to the C handle type, so any C function still takes them directly.
// - Functions named after the C ones (lamina::convolutionForward for laminaConvolutionForward) take
//   the same arguments in the same order; queries return their result instead of writing through a
//   pointer. alpha/beta stay `const void *` host pointers: double for double data, float otherwise.
// - Lifetimes: a DeviceBuffer and a DropoutDescriptor refer to the handle they were made with (and
//   the dropout descriptor to its states buffer): destroy them before the handle.
// There is no logic here beyond ownership and error translation; docs/api.md documents semantics.
#pragma once

#include <lamina/lamina.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace lamina {

using Status = laminaStatus_t;
using DataType = laminaDataType_t;
using TensorFormat = laminaTensorFormat_t;
using Backend = laminaBackend_t;
using Dims = std::vector<int64_t>;

// ---------------------------------------------------------------- errors

class Error : public std::runtime_error {
public:
  Error(Status status, const std::string &message)
      : std::runtime_error(std::string(laminaGetErrorString(status)) + ": " + message), status_(status),
        message_(message) {}
  Status status() const noexcept { return status_; }
  // The library's message for the failed call ("laminaX: argument 'y': reason").
  const std::string &message() const noexcept { return message_; }

private:
  Status status_;
  std::string message_;
};

// Throws Error for anything but LAMINA_STATUS_SUCCESS. The message is read right away: it is
// thread-local and replaced by the next failing call.
inline void check(Status status) {
  if (status != LAMINA_STATUS_SUCCESS)
    throw Error(status, laminaGetLastErrorMessage());
}

inline size_t version() { return laminaGetVersion(); }
inline const char *errorString(Status status) { return laminaGetErrorString(status); }
inline const char *lastErrorMessage() { return laminaGetLastErrorMessage(); }

namespace detail {
// Owner of one C object; Destroy is its laminaDestroy* function. The status of Destroy is ignored
// (destructors must not throw, and destroying a valid object cannot fail).
template <class T, Status (*Destroy)(T)> class Owner {
public:
  Owner() = default;
  explicit Owner(T p) noexcept : p_(p) {}
  ~Owner() { reset(); }
  Owner(const Owner &) = delete;
  Owner &operator=(const Owner &) = delete;
  Owner(Owner &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Owner &operator=(Owner &&o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  T get() const noexcept { return p_; }
  operator T() const noexcept { return p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  // Gives up ownership: the caller destroys the returned object.
  T release() noexcept { return std::exchange(p_, nullptr); }
  void reset(T p = nullptr) noexcept {
    if (p_)
      Destroy(p_);
    p_ = p;
  }

protected:
  T p_ = nullptr;
};

// Dim count of a tensor descriptor.
inline int nbDimsOf(laminaTensorDescriptor_t x) {
  laminaDataType_t dt;
  int n = 0;
  int64_t d[LAMINA_DIM_MAX], s[LAMINA_DIM_MAX];
  check(laminaGetTensorNdDescriptor(x, LAMINA_DIM_MAX, &dt, &n, d, s));
  return n;
}

template <class T, Status (*Create)(T *)> T create() {
  T p = nullptr;
  check(Create(&p));
  return p;
}
} // namespace detail

// ---------------------------------------------------------------- handle and memory

inline bool isBackendAvailable(Backend backend) {
  int available = 0;
  check(laminaIsBackendAvailable(backend, &available));
  return available != 0;
}

// CUDA device selection (the handle binds to the calling thread's current GPU at creation).
inline int cudaDeviceCount() {
  int n = 0;
  check(laminaCudaGetDeviceCount(&n));
  return n;
}
inline void cudaSetDevice(int device) { check(laminaCudaSetDevice(device)); }

class Handle : public detail::Owner<laminaHandle_t, laminaDestroy> {
public:
  // The best backend available (laminaCreate).
  Handle() : Owner(detail::create<laminaHandle_t, laminaCreate>()) {}
  explicit Handle(Backend backend) : Owner(nullptr) { check(laminaCreateWithBackend(&p_, backend)); }
  // Takes ownership of a handle made by the C API.
  static Handle adopt(laminaHandle_t h) { return Handle(h, 0); }

  Backend backend() const {
    Backend b;
    check(laminaGetBackend(p_, &b));
    return b;
  }
  void setNumThreads(int threads) { check(laminaSetNumThreads(p_, threads)); }
  int numThreads() const {
    int t = 0;
    check(laminaGetNumThreads(p_, &t));
    return t;
  }
  void setStream(void *stream) { check(laminaSetStream(p_, stream)); }
  void *stream() const {
    void *s = nullptr;
    check(laminaGetStream(p_, &s));
    return s;
  }
  void synchronize() const { check(laminaSynchronize(p_)); }

  // Raw backend memory; prefer DeviceBuffer.
  void *malloc(size_t bytes) const {
    void *p = nullptr;
    check(laminaMalloc(p_, &p, bytes));
    return p;
  }
  void free(void *ptr) const { check(laminaFree(p_, ptr)); }
  void memcpy(void *dst, const void *src, size_t bytes, laminaMemcpyKind_t kind) const {
    check(laminaMemcpy(p_, dst, src, bytes, kind));
  }
  void memset(void *ptr, int byteValue, size_t bytes) const { check(laminaMemset(p_, ptr, byteValue, bytes)); }

private:
  Handle(laminaHandle_t h, int) : Owner(h) {}
};

// Backend memory of one handle (laminaMalloc / laminaFree). The handle must outlive the buffer.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(laminaHandle_t handle, size_t bytes) : handle_(handle), bytes_(bytes) {
    check(laminaMalloc(handle_, &ptr_, bytes));
  }
  // A buffer holding a copy of v.
  template <class T>
  DeviceBuffer(laminaHandle_t handle, const std::vector<T> &v) : DeviceBuffer(handle, v.size() * sizeof(T)) {
    upload(v);
  }
  // A temporary Handle would be destroyed before the buffer: refused at compile time.
  DeviceBuffer(Handle &&, size_t) = delete;
  template <class T> DeviceBuffer(Handle &&, const std::vector<T> &) = delete;
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  DeviceBuffer(DeviceBuffer &&o) noexcept
      : handle_(o.handle_), ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceBuffer &operator=(DeviceBuffer &&o) noexcept {
    if (this != &o) {
      reset();
      handle_ = o.handle_;
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }

  void *data() noexcept { return ptr_; }
  const void *data() const noexcept { return ptr_; }
  size_t bytes() const noexcept { return bytes_; }
  laminaHandle_t handle() const noexcept { return handle_; }
  explicit operator bool() const noexcept { return ptr_ != nullptr; }
  void reset() noexcept {
    if (ptr_)
      laminaFree(handle_, ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
  }

  // Host -> buffer, from the start; more bytes than the buffer holds is BAD_PARAM.
  template <class T> void upload(const std::vector<T> &v) { upload(v.data(), v.size() * sizeof(T)); }
  void upload(const void *src, size_t bytes) {
    fitArg(bytes, "upload");
    check(laminaMemcpy(handle_, ptr_, src, bytes, LAMINA_MEMCPY_HOST_TO_DEVICE));
  }
  // Buffer -> host: `count` elements of T (default: as many as the buffer holds).
  template <class T> std::vector<T> download(size_t count = size_t(-1)) const {
    if (count == size_t(-1))
      count = bytes_ / sizeof(T);
    std::vector<T> v(count);
    download(v.data(), count * sizeof(T));
    return v;
  }
  void download(void *dst, size_t bytes) const {
    fitArg(bytes, "download");
    check(laminaMemcpy(handle_, dst, ptr_, bytes, LAMINA_MEMCPY_DEVICE_TO_HOST));
  }
  void copyFrom(const DeviceBuffer &src) {
    fitArg(src.bytes_, "copyFrom");
    check(laminaMemcpy(handle_, ptr_, src.ptr_, src.bytes_, LAMINA_MEMCPY_DEVICE_TO_DEVICE));
  }
  void memset(int byteValue) { check(laminaMemset(handle_, ptr_, byteValue, bytes_)); }

private:
  // Copies past the end would corrupt memory: refuse them (the only check of this wrapper).
  void fitArg(size_t bytes, const char *what) const {
    if (bytes > bytes_)
      throw Error(LAMINA_STATUS_BAD_PARAM, std::string("lamina::DeviceBuffer::") + what + ": " + std::to_string(bytes) +
                                               " bytes do not fit a buffer of " + std::to_string(bytes_));
  }
  laminaHandle_t handle_ = nullptr;
  void *ptr_ = nullptr;
  size_t bytes_ = 0;
};

// ---------------------------------------------------------------- tensor and filter descriptors

class TensorDescriptor : public detail::Owner<laminaTensorDescriptor_t, laminaDestroyTensorDescriptor> {
public:
  // Created but not set (e.g. for deriveBN or a later set*).
  TensorDescriptor() : Owner(detail::create<laminaTensorDescriptor_t, laminaCreateTensorDescriptor>()) {}
  // Explicit strides in elements (laminaSetTensorNdDescriptor).
  TensorDescriptor(DataType dataType, const Dims &dims, const Dims &strides) : TensorDescriptor() {
    setNd(dataType, dims, strides);
  }
  // Packed in NCHW-like or NHWC-like order; dims in N, C, spatial order (laminaSetTensorNdDescriptorEx).
  TensorDescriptor(DataType dataType, const Dims &dims, TensorFormat format = LAMINA_TENSOR_NCHW) : TensorDescriptor() {
    setNdEx(format, dataType, dims);
  }
  static TensorDescriptor nchw(DataType dt, int64_t n, int64_t c, int64_t h, int64_t w) {
    TensorDescriptor t;
    t.set4d(LAMINA_TENSOR_NCHW, dt, n, c, h, w);
    return t;
  }
  static TensorDescriptor nhwc(DataType dt, int64_t n, int64_t c, int64_t h, int64_t w) {
    TensorDescriptor t;
    t.set4d(LAMINA_TENSOR_NHWC, dt, n, c, h, w);
    return t;
  }
  static TensorDescriptor strided4d(DataType dt, int64_t n, int64_t c, int64_t h, int64_t w, int64_t nStride,
                                    int64_t cStride, int64_t hStride, int64_t wStride) {
    TensorDescriptor t;
    t.set4dEx(dt, n, c, h, w, nStride, cStride, hStride, wStride);
    return t;
  }
  // The scale/bias/mean/variance descriptor of batch norm for x (laminaDeriveBNTensorDescriptor).
  static TensorDescriptor deriveBN(laminaTensorDescriptor_t x, laminaBatchNormMode_t mode) {
    TensorDescriptor t;
    check(laminaDeriveBNTensorDescriptor(t, x, mode));
    return t;
  }

  void set4d(TensorFormat format, DataType dt, int64_t n, int64_t c, int64_t h, int64_t w) {
    check(laminaSetTensor4dDescriptor(p_, format, dt, n, c, h, w));
  }
  void set4dEx(DataType dt, int64_t n, int64_t c, int64_t h, int64_t w, int64_t nStride, int64_t cStride,
               int64_t hStride, int64_t wStride) {
    check(laminaSetTensor4dDescriptorEx(p_, dt, n, c, h, w, nStride, cStride, hStride, wStride));
  }
  // dims.size() and strides.size() must agree: the count comes from dims (the C call sees both).
  void setNd(DataType dt, const Dims &dims, const Dims &strides) {
    if (strides.size() != dims.size())
      throw Error(LAMINA_STATUS_SHAPE_MISMATCH, "lamina::TensorDescriptor::setNd: " + std::to_string(dims.size()) +
                                                    " dims but " + std::to_string(strides.size()) + " strides");
    check(laminaSetTensorNdDescriptor(p_, dt, int(dims.size()), dims.data(), strides.data()));
  }
  void setNdEx(TensorFormat format, DataType dt, const Dims &dims) {
    check(laminaSetTensorNdDescriptorEx(p_, format, dt, int(dims.size()), dims.data()));
  }

  struct Info {
    DataType dataType;
    Dims dims, strides;
  };
  Info info() const {
    Info i{};
    int n = 0;
    int64_t d[LAMINA_DIM_MAX], s[LAMINA_DIM_MAX];
    check(laminaGetTensorNdDescriptor(p_, LAMINA_DIM_MAX, &i.dataType, &n, d, s));
    i.dims.assign(d, d + n);
    i.strides.assign(s, s + n);
    return i;
  }
  DataType dataType() const { return info().dataType; }
  Dims dims() const { return info().dims; }
  Dims strides() const { return info().strides; }
  int nbDims() const { return int(info().dims.size()); }
  // 4-D only (BAD_DIMS otherwise): dims then strides, in n, c, h, w order.
  struct Info4d {
    DataType dataType;
    int64_t n, c, h, w, nStride, cStride, hStride, wStride;
  };
  Info4d info4d() const {
    Info4d i{};
    check(laminaGetTensor4dDescriptor(p_, &i.dataType, &i.n, &i.c, &i.h, &i.w, &i.nStride, &i.cStride, &i.hStride,
                                      &i.wStride));
    return i;
  }
  size_t sizeInBytes() const {
    size_t b = 0;
    check(laminaGetTensorSizeInBytes(p_, &b));
    return b;
  }
};

class FilterDescriptor : public detail::Owner<laminaFilterDescriptor_t, laminaDestroyFilterDescriptor> {
public:
  FilterDescriptor() : Owner(detail::create<laminaFilterDescriptor_t, laminaCreateFilterDescriptor>()) {}
  // dims in K, C (per group), spatial order; NCHW = KCRS, NHWC = KRSC (laminaSetFilterNdDescriptor).
  FilterDescriptor(DataType dt, const Dims &dims, TensorFormat format = LAMINA_TENSOR_NCHW) : FilterDescriptor() {
    setNd(dt, format, dims);
  }
  FilterDescriptor(DataType dt, TensorFormat format, int64_t k, int64_t c, int64_t h, int64_t w) : FilterDescriptor() {
    set4d(dt, format, k, c, h, w);
  }
  void set4d(DataType dt, TensorFormat format, int64_t k, int64_t c, int64_t h, int64_t w) {
    check(laminaSetFilter4dDescriptor(p_, dt, format, k, c, h, w));
  }
  void setNd(DataType dt, TensorFormat format, const Dims &dims) {
    check(laminaSetFilterNdDescriptor(p_, dt, format, int(dims.size()), dims.data()));
  }
  struct Info {
    DataType dataType;
    TensorFormat format;
    Dims dims;
  };
  Info info() const {
    Info i{};
    int n = 0;
    int64_t d[LAMINA_DIM_MAX];
    check(laminaGetFilterNdDescriptor(p_, LAMINA_DIM_MAX, &i.dataType, &i.format, &n, d));
    i.dims.assign(d, d + n);
    return i;
  }
  struct Info4d {
    DataType dataType;
    TensorFormat format;
    int64_t k, c, h, w;
  };
  Info4d info4d() const {
    Info4d i{};
    check(laminaGetFilter4dDescriptor(p_, &i.dataType, &i.format, &i.k, &i.c, &i.h, &i.w));
    return i;
  }
  DataType dataType() const { return info().dataType; }
  TensorFormat format() const { return info().format; }
  Dims dims() const { return info().dims; }
  size_t sizeInBytes() const {
    size_t b = 0;
    check(laminaGetFilterSizeInBytes(p_, &b));
    return b;
  }
};

// ---------------------------------------------------------------- convolution

class ConvolutionDescriptor : public detail::Owner<laminaConvolutionDescriptor_t, laminaDestroyConvolutionDescriptor> {
public:
  ConvolutionDescriptor() : Owner(detail::create<laminaConvolutionDescriptor_t, laminaCreateConvolutionDescriptor>()) {}
  // pads, strides and dilations have one entry per spatial dim (1..3).
  ConvolutionDescriptor(const Dims &pads, const Dims &strides, const Dims &dilations,
                        laminaConvolutionMode_t mode = LAMINA_CROSS_CORRELATION,
                        DataType computeType = LAMINA_DATA_FLOAT)
      : ConvolutionDescriptor() {
    setNd(pads, strides, dilations, mode, computeType);
  }
  static ConvolutionDescriptor conv2d(int64_t padH, int64_t padW, int64_t strideH = 1, int64_t strideW = 1,
                                      int64_t dilationH = 1, int64_t dilationW = 1,
                                      laminaConvolutionMode_t mode = LAMINA_CROSS_CORRELATION,
                                      DataType computeType = LAMINA_DATA_FLOAT) {
    ConvolutionDescriptor c;
    c.set2d(padH, padW, strideH, strideW, dilationH, dilationW, mode, computeType);
    return c;
  }
  void set2d(int64_t padH, int64_t padW, int64_t strideH, int64_t strideW, int64_t dilationH, int64_t dilationW,
             laminaConvolutionMode_t mode, DataType computeType) {
    check(laminaSetConvolution2dDescriptor(p_, padH, padW, strideH, strideW, dilationH, dilationW, mode, computeType));
  }
  // The spatial-dim count is pads.size(); strides and dilations must have as many entries.
  void setNd(const Dims &pads, const Dims &strides, const Dims &dilations, laminaConvolutionMode_t mode,
             DataType computeType) {
    if (strides.size() != pads.size() || dilations.size() != pads.size())
      throw Error(LAMINA_STATUS_SHAPE_MISMATCH, "lamina::ConvolutionDescriptor::setNd: pads, strides and "
                                                "dilations differ in length");
    check(laminaSetConvolutionNdDescriptor(p_, int(pads.size()), pads.data(), strides.data(), dilations.data(), mode,
                                           computeType));
  }
  struct Info {
    Dims pads, strides, dilations;
    laminaConvolutionMode_t mode;
    DataType computeType;
  };
  Info info() const {
    Info i{};
    int n = 0;
    int64_t p[LAMINA_DIM_MAX], s[LAMINA_DIM_MAX], d[LAMINA_DIM_MAX];
    check(laminaGetConvolutionNdDescriptor(p_, LAMINA_DIM_MAX, &n, p, s, d, &i.mode, &i.computeType));
    i.pads.assign(p, p + n);
    i.strides.assign(s, s + n);
    i.dilations.assign(d, d + n);
    return i;
  }
  struct Info2d {
    int64_t padH, padW, strideH, strideW, dilationH, dilationW;
    laminaConvolutionMode_t mode;
    DataType computeType;
  };
  Info2d info2d() const {
    Info2d i{};
    check(laminaGetConvolution2dDescriptor(p_, &i.padH, &i.padW, &i.strideH, &i.strideW, &i.dilationH, &i.dilationW,
                                           &i.mode, &i.computeType));
    return i;
  }
  void setGroupCount(int64_t groups) { check(laminaSetConvolutionGroupCount(p_, groups)); }
  int64_t groupCount() const {
    int64_t g = 0;
    check(laminaGetConvolutionGroupCount(p_, &g));
    return g;
  }
  void setMathType(laminaMathType_t math) { check(laminaSetConvolutionMathType(p_, math)); }
  laminaMathType_t mathType() const {
    laminaMathType_t m;
    check(laminaGetConvolutionMathType(p_, &m));
    return m;
  }
  // Dims (N, K, spatial...) of the forward output of x by w.
  Dims forwardOutputDim(laminaTensorDescriptor_t x, laminaFilterDescriptor_t w) const {
    Dims out(size_t(detail::nbDimsOf(x)));
    int n = int(out.size());
    check(laminaGetConvolutionNdForwardOutputDim(p_, x, w, n, out.data()));
    return out;
  }
  struct Dims4d {
    int64_t n, c, h, w;
  };
  Dims4d forwardOutputDim2d(laminaTensorDescriptor_t x, laminaFilterDescriptor_t w) const {
    Dims4d d{};
    check(laminaGetConvolution2dForwardOutputDim(p_, x, w, &d.n, &d.c, &d.h, &d.w));
    return d;
  }
};

// Forward: y = alpha * conv(x, w) + beta * y.
inline int convolutionForwardAlgorithmMaxCount(laminaHandle_t h) {
  int n = 0;
  check(laminaGetConvolutionForwardAlgorithmMaxCount(h, &n));
  return n;
}
inline size_t convolutionForwardWorkspaceSize(laminaHandle_t h, laminaTensorDescriptor_t x, laminaFilterDescriptor_t w,
                                              laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t y,
                                              laminaConvolutionFwdAlgo_t algo) {
  size_t b = 0;
  check(laminaGetConvolutionForwardWorkspaceSize(h, x, w, conv, y, algo, &b));
  return b;
}
inline laminaConvolutionFwdAlgo_t
convolutionForwardAlgorithm(laminaHandle_t h, laminaTensorDescriptor_t x, laminaFilterDescriptor_t w,
                            laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t y,
                            laminaConvolutionPreference_t preference = LAMINA_CONVOLUTION_PREFER_FASTEST,
                            size_t memoryLimitInBytes = 0) {
  laminaConvolutionFwdAlgo_t a;
  check(laminaGetConvolutionForwardAlgorithm(h, x, w, conv, y, preference, memoryLimitInBytes, &a));
  return a;
}
// requested <= 0: as many as laminaGetConvolutionForwardAlgorithmMaxCount says.
inline std::vector<laminaConvolutionFwdAlgoPerf_t>
convolutionForwardAlgorithmHeuristics(laminaHandle_t h, laminaTensorDescriptor_t x, laminaFilterDescriptor_t w,
                                      laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t y,
                                      int requested = 0) {
  if (requested <= 0)
    requested = convolutionForwardAlgorithmMaxCount(h);
  std::vector<laminaConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(requested));
  int n = 0;
  check(laminaGetConvolutionForwardAlgorithmHeuristics(h, x, w, conv, y, requested, &n, perf.data()));
  perf.resize(size_t(n));
  return perf;
}
inline std::vector<laminaConvolutionFwdAlgoPerf_t>
findConvolutionForwardAlgorithm(laminaHandle_t h, laminaTensorDescriptor_t x, laminaFilterDescriptor_t w,
                                laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t y, int requested = 0) {
  if (requested <= 0)
    requested = convolutionForwardAlgorithmMaxCount(h);
  std::vector<laminaConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(requested));
  int n = 0;
  check(laminaFindConvolutionForwardAlgorithm(h, x, w, conv, y, requested, &n, perf.data()));
  perf.resize(size_t(n));
  return perf;
}
inline std::vector<laminaConvolutionFwdAlgoPerf_t>
findConvolutionForwardAlgorithmEx(laminaHandle_t h, laminaTensorDescriptor_t x, const void *xData,
                                  laminaFilterDescriptor_t w, const void *wData, laminaConvolutionDescriptor_t conv,
                                  laminaTensorDescriptor_t y, void *yData, void *workspace, size_t workspaceBytes,
                                  int requested = 0) {
  if (requested <= 0)
    requested = convolutionForwardAlgorithmMaxCount(h);
  std::vector<laminaConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(requested));
  int n = 0;
  check(laminaFindConvolutionForwardAlgorithmEx(h, x, xData, w, wData, conv, y, yData, requested, &n, perf.data(),
                                                workspace, workspaceBytes));
  perf.resize(size_t(n));
  return perf;
}
inline void convolutionForward(laminaHandle_t h, const void *alpha, laminaTensorDescriptor_t x, const void *xData,
                               laminaFilterDescriptor_t w, const void *wData, laminaConvolutionDescriptor_t conv,
                               laminaConvolutionFwdAlgo_t algo, void *workspace, size_t workspaceBytes,
                               const void *beta, laminaTensorDescriptor_t y, void *yData) {
  check(laminaConvolutionForward(h, alpha, x, xData, w, wData, conv, algo, workspace, workspaceBytes, beta, y, yData));
}

// y = act(alpha1 * conv(x, w) + alpha2 * z + bias).
inline void convolutionBiasActivationForward(laminaHandle_t h, const void *alpha1, laminaTensorDescriptor_t x,
                                             const void *xData, laminaFilterDescriptor_t w, const void *wData,
                                             laminaConvolutionDescriptor_t conv, laminaConvolutionFwdAlgo_t algo,
                                             void *workspace, size_t workspaceBytes, const void *alpha2,
                                             laminaTensorDescriptor_t z, const void *zData,
                                             laminaTensorDescriptor_t bias, const void *biasData,
                                             laminaActivationDescriptor_t act, laminaTensorDescriptor_t y,
                                             void *yData) {
  check(laminaConvolutionBiasActivationForward(h, alpha1, x, xData, w, wData, conv, algo, workspace, workspaceBytes,
                                               alpha2, z, zData, bias, biasData, act, y, yData));
}

// Backward data: dx = alpha * conv_transpose(dy, w) + beta * dx.
inline int convolutionBackwardDataAlgorithmMaxCount(laminaHandle_t h) {
  int n = 0;
  check(laminaGetConvolutionBackwardDataAlgorithmMaxCount(h, &n));
  return n;
}
inline size_t convolutionBackwardDataWorkspaceSize(laminaHandle_t h, laminaFilterDescriptor_t w,
                                                   laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
                                                   laminaTensorDescriptor_t dx, laminaConvolutionBwdDataAlgo_t algo) {
  size_t b = 0;
  check(laminaGetConvolutionBackwardDataWorkspaceSize(h, w, dy, conv, dx, algo, &b));
  return b;
}
inline laminaConvolutionBwdDataAlgo_t
convolutionBackwardDataAlgorithm(laminaHandle_t h, laminaFilterDescriptor_t w, laminaTensorDescriptor_t dy,
                                 laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t dx,
                                 laminaConvolutionPreference_t preference = LAMINA_CONVOLUTION_PREFER_FASTEST,
                                 size_t memoryLimitInBytes = 0) {
  laminaConvolutionBwdDataAlgo_t a;
  check(laminaGetConvolutionBackwardDataAlgorithm(h, w, dy, conv, dx, preference, memoryLimitInBytes, &a));
  return a;
}
inline std::vector<laminaConvolutionBwdDataAlgoPerf_t>
convolutionBackwardDataAlgorithmHeuristics(laminaHandle_t h, laminaFilterDescriptor_t w, laminaTensorDescriptor_t dy,
                                           laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t dx,
                                           int requested = 0) {
  if (requested <= 0)
    requested = convolutionBackwardDataAlgorithmMaxCount(h);
  std::vector<laminaConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(requested));
  int n = 0;
  check(laminaGetConvolutionBackwardDataAlgorithmHeuristics(h, w, dy, conv, dx, requested, &n, perf.data()));
  perf.resize(size_t(n));
  return perf;
}
inline std::vector<laminaConvolutionBwdDataAlgoPerf_t>
findConvolutionBackwardDataAlgorithm(laminaHandle_t h, laminaFilterDescriptor_t w, laminaTensorDescriptor_t dy,
                                     laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t dx,
                                     int requested = 0) {
  if (requested <= 0)
    requested = convolutionBackwardDataAlgorithmMaxCount(h);
  std::vector<laminaConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(requested));
  int n = 0;
  check(laminaFindConvolutionBackwardDataAlgorithm(h, w, dy, conv, dx, requested, &n, perf.data()));
  perf.resize(size_t(n));
  return perf;
}
inline std::vector<laminaConvolutionBwdDataAlgoPerf_t>
findConvolutionBackwardDataAlgorithmEx(laminaHandle_t h, laminaFilterDescriptor_t w, const void *wData,
                                       laminaTensorDescriptor_t dy, const void *dyData,
                                       laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t dx, void *dxData,
                                       void *workspace, size_t workspaceBytes, int requested = 0) {
  if (requested <= 0)
    requested = convolutionBackwardDataAlgorithmMaxCount(h);
  std::vector<laminaConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(requested));
  int n = 0;
  check(laminaFindConvolutionBackwardDataAlgorithmEx(h, w, wData, dy, dyData, conv, dx, dxData, requested, &n,
                                                     perf.data(), workspace, workspaceBytes));
  perf.resize(size_t(n));
  return perf;
}
inline void convolutionBackwardData(laminaHandle_t h, const void *alpha, laminaFilterDescriptor_t w, const void *wData,
                                    laminaTensorDescriptor_t dy, const void *dyData, laminaConvolutionDescriptor_t conv,
                                    laminaConvolutionBwdDataAlgo_t algo, void *workspace, size_t workspaceBytes,
                                    const void *beta, laminaTensorDescriptor_t dx, void *dxData) {
  check(laminaConvolutionBackwardData(h, alpha, w, wData, dy, dyData, conv, algo, workspace, workspaceBytes, beta, dx,
                                      dxData));
}

// Backward filter: dw = alpha * (x correlated with dy) + beta * dw.
inline int convolutionBackwardFilterAlgorithmMaxCount(laminaHandle_t h) {
  int n = 0;
  check(laminaGetConvolutionBackwardFilterAlgorithmMaxCount(h, &n));
  return n;
}
inline size_t convolutionBackwardFilterWorkspaceSize(laminaHandle_t h, laminaTensorDescriptor_t x,
                                                     laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
                                                     laminaFilterDescriptor_t dw,
                                                     laminaConvolutionBwdFilterAlgo_t algo) {
  size_t b = 0;
  check(laminaGetConvolutionBackwardFilterWorkspaceSize(h, x, dy, conv, dw, algo, &b));
  return b;
}
inline laminaConvolutionBwdFilterAlgo_t
convolutionBackwardFilterAlgorithm(laminaHandle_t h, laminaTensorDescriptor_t x, laminaTensorDescriptor_t dy,
                                   laminaConvolutionDescriptor_t conv, laminaFilterDescriptor_t dw,
                                   laminaConvolutionPreference_t preference = LAMINA_CONVOLUTION_PREFER_FASTEST,
                                   size_t memoryLimitInBytes = 0) {
  laminaConvolutionBwdFilterAlgo_t a;
  check(laminaGetConvolutionBackwardFilterAlgorithm(h, x, dy, conv, dw, preference, memoryLimitInBytes, &a));
  return a;
}
inline std::vector<laminaConvolutionBwdFilterAlgoPerf_t>
convolutionBackwardFilterAlgorithmHeuristics(laminaHandle_t h, laminaTensorDescriptor_t x, laminaTensorDescriptor_t dy,
                                             laminaConvolutionDescriptor_t conv, laminaFilterDescriptor_t dw,
                                             int requested = 0) {
  if (requested <= 0)
    requested = convolutionBackwardFilterAlgorithmMaxCount(h);
  std::vector<laminaConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(requested));
  int n = 0;
  check(laminaGetConvolutionBackwardFilterAlgorithmHeuristics(h, x, dy, conv, dw, requested, &n, perf.data()));
  perf.resize(size_t(n));
  return perf;
}
inline std::vector<laminaConvolutionBwdFilterAlgoPerf_t>
findConvolutionBackwardFilterAlgorithm(laminaHandle_t h, laminaTensorDescriptor_t x, laminaTensorDescriptor_t dy,
                                       laminaConvolutionDescriptor_t conv, laminaFilterDescriptor_t dw,
                                       int requested = 0) {
  if (requested <= 0)
    requested = convolutionBackwardFilterAlgorithmMaxCount(h);
  std::vector<laminaConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(requested));
  int n = 0;
  check(laminaFindConvolutionBackwardFilterAlgorithm(h, x, dy, conv, dw, requested, &n, perf.data()));
  perf.resize(size_t(n));
  return perf;
}
inline std::vector<laminaConvolutionBwdFilterAlgoPerf_t>
findConvolutionBackwardFilterAlgorithmEx(laminaHandle_t h, laminaTensorDescriptor_t x, const void *xData,
                                         laminaTensorDescriptor_t dy, const void *dyData,
                                         laminaConvolutionDescriptor_t conv, laminaFilterDescriptor_t dw, void *dwData,
                                         void *workspace, size_t workspaceBytes, int requested = 0) {
  if (requested <= 0)
    requested = convolutionBackwardFilterAlgorithmMaxCount(h);
  std::vector<laminaConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(requested));
  int n = 0;
  check(laminaFindConvolutionBackwardFilterAlgorithmEx(h, x, xData, dy, dyData, conv, dw, dwData, requested, &n,
                                                       perf.data(), workspace, workspaceBytes));
  perf.resize(size_t(n));
  return perf;
}
inline void convolutionBackwardFilter(laminaHandle_t h, const void *alpha, laminaTensorDescriptor_t x,
                                      const void *xData, laminaTensorDescriptor_t dy, const void *dyData,
                                      laminaConvolutionDescriptor_t conv, laminaConvolutionBwdFilterAlgo_t algo,
                                      void *workspace, size_t workspaceBytes, const void *beta,
                                      laminaFilterDescriptor_t dw, void *dwData) {
  check(laminaConvolutionBackwardFilter(h, alpha, x, xData, dy, dyData, conv, algo, workspace, workspaceBytes, beta, dw,
                                        dwData));
}
inline void convolutionBackwardBias(laminaHandle_t h, const void *alpha, laminaTensorDescriptor_t dy,
                                    const void *dyData, const void *beta, laminaTensorDescriptor_t db, void *dbData) {
  check(laminaConvolutionBackwardBias(h, alpha, dy, dyData, beta, db, dbData));
}

// ---------------------------------------------------------------- pooling

class PoolingDescriptor : public detail::Owner<laminaPoolingDescriptor_t, laminaDestroyPoolingDescriptor> {
public:
  PoolingDescriptor() : Owner(detail::create<laminaPoolingDescriptor_t, laminaCreatePoolingDescriptor>()) {}
  // window, pads and strides have one entry per spatial dim (1..3).
  PoolingDescriptor(laminaPoolingMode_t mode, const Dims &window, const Dims &pads, const Dims &strides,
                    laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN)
      : PoolingDescriptor() {
    setNd(mode, nan, window, pads, strides);
  }
  static PoolingDescriptor pooling2d(laminaPoolingMode_t mode, int64_t windowH, int64_t windowW, int64_t padH,
                                     int64_t padW, int64_t strideH, int64_t strideW,
                                     laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN) {
    PoolingDescriptor p;
    p.set2d(mode, nan, windowH, windowW, padH, padW, strideH, strideW);
    return p;
  }
  void set2d(laminaPoolingMode_t mode, laminaNanPropagation_t nan, int64_t windowH, int64_t windowW, int64_t padH,
             int64_t padW, int64_t strideH, int64_t strideW) {
    check(laminaSetPooling2dDescriptor(p_, mode, nan, windowH, windowW, padH, padW, strideH, strideW));
  }
  // The spatial-dim count is window.size(); pads and strides must have as many entries.
  void setNd(laminaPoolingMode_t mode, laminaNanPropagation_t nan, const Dims &window, const Dims &pads,
             const Dims &strides) {
    if (pads.size() != window.size() || strides.size() != window.size())
      throw Error(LAMINA_STATUS_SHAPE_MISMATCH, "lamina::PoolingDescriptor::setNd: window, pads and strides differ "
                                                "in length");
    check(laminaSetPoolingNdDescriptor(p_, mode, nan, int(window.size()), window.data(), pads.data(), strides.data()));
  }
  struct Info {
    laminaPoolingMode_t mode;
    laminaNanPropagation_t nan;
    Dims window, pads, strides;
  };
  Info info() const {
    Info i{};
    int n = 0;
    int64_t w[LAMINA_DIM_MAX], p[LAMINA_DIM_MAX], s[LAMINA_DIM_MAX];
    check(laminaGetPoolingNdDescriptor(p_, LAMINA_DIM_MAX, &i.mode, &i.nan, &n, w, p, s));
    i.window.assign(w, w + n);
    i.pads.assign(p, p + n);
    i.strides.assign(s, s + n);
    return i;
  }
  void setCeilMode(bool ceil) { check(laminaSetPoolingCeilMode(p_, ceil ? 1 : 0)); }
  bool ceilMode() const {
    int c = 0;
    check(laminaGetPoolingCeilMode(p_, &c));
    return c != 0;
  }
  // Dims (N, C, spatial...) of the forward output for input x.
  Dims forwardOutputDim(laminaTensorDescriptor_t x) const {
    Dims out(size_t(detail::nbDimsOf(x)));
    int n = int(out.size());
    check(laminaGetPoolingNdForwardOutputDim(p_, x, n, out.data()));
    return out;
  }
};

inline void poolingForward(laminaHandle_t h, laminaPoolingDescriptor_t pool, const void *alpha,
                           laminaTensorDescriptor_t x, const void *xData, const void *beta, laminaTensorDescriptor_t y,
                           void *yData) {
  check(laminaPoolingForward(h, pool, alpha, x, xData, beta, y, yData));
}
inline void poolingBackward(laminaHandle_t h, laminaPoolingDescriptor_t pool, const void *alpha,
                            laminaTensorDescriptor_t y, const void *yData, laminaTensorDescriptor_t dy,
                            const void *dyData, laminaTensorDescriptor_t x, const void *xData, const void *beta,
                            laminaTensorDescriptor_t dx, void *dxData) {
  check(laminaPoolingBackward(h, pool, alpha, y, yData, dy, dyData, x, xData, beta, dx, dxData));
}

// ---------------------------------------------------------------- activation

class ActivationDescriptor : public detail::Owner<laminaActivationDescriptor_t, laminaDestroyActivationDescriptor> {
public:
  ActivationDescriptor() : Owner(detail::create<laminaActivationDescriptor_t, laminaCreateActivationDescriptor>()) {}
  // coef: the ceiling of CLIPPED_RELU, the alpha of ELU, the slope of LEAKY_RELU; ignored otherwise.
  explicit ActivationDescriptor(laminaActivationMode_t mode, double coef = 0.0,
                                laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN)
      : ActivationDescriptor() {
    set(mode, nan, coef);
  }
  void set(laminaActivationMode_t mode, laminaNanPropagation_t nan, double coef) {
    check(laminaSetActivationDescriptor(p_, mode, nan, coef));
  }
  struct Info {
    laminaActivationMode_t mode;
    laminaNanPropagation_t nan;
    double coef;
  };
  Info info() const {
    Info i{};
    check(laminaGetActivationDescriptor(p_, &i.mode, &i.nan, &i.coef));
    return i;
  }
};

inline void activationForward(laminaHandle_t h, laminaActivationDescriptor_t act, const void *alpha,
                              laminaTensorDescriptor_t x, const void *xData, const void *beta,
                              laminaTensorDescriptor_t y, void *yData) {
  check(laminaActivationForward(h, act, alpha, x, xData, beta, y, yData));
}
inline void activationBackward(laminaHandle_t h, laminaActivationDescriptor_t act, const void *alpha,
                               laminaTensorDescriptor_t y, const void *yData, laminaTensorDescriptor_t dy,
                               const void *dyData, laminaTensorDescriptor_t x, const void *xData, const void *beta,
                               laminaTensorDescriptor_t dx, void *dxData) {
  check(laminaActivationBackward(h, act, alpha, y, yData, dy, dyData, x, xData, beta, dx, dxData));
}

// ---------------------------------------------------------------- softmax

inline void softmaxForward(laminaHandle_t h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, const void *alpha,
                           laminaTensorDescriptor_t x, const void *xData, const void *beta, laminaTensorDescriptor_t y,
                           void *yData) {
  check(laminaSoftmaxForward(h, algo, mode, alpha, x, xData, beta, y, yData));
}
inline void softmaxBackward(laminaHandle_t h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode,
                            const void *alpha, laminaTensorDescriptor_t y, const void *yData,
                            laminaTensorDescriptor_t dy, const void *dyData, const void *beta,
                            laminaTensorDescriptor_t dx, void *dxData) {
  check(laminaSoftmaxBackward(h, algo, mode, alpha, y, yData, dy, dyData, beta, dx, dxData));
}

// ---------------------------------------------------------------- LRN

class LRNDescriptor : public detail::Owner<laminaLRNDescriptor_t, laminaDestroyLRNDescriptor> {
public:
  // Created with the library's defaults (n 5, alpha 1e-4, beta 0.75, k 2).
  LRNDescriptor() : Owner(detail::create<laminaLRNDescriptor_t, laminaCreateLRNDescriptor>()) {}
  LRNDescriptor(unsigned n, double alpha, double beta, double k) : LRNDescriptor() { set(n, alpha, beta, k); }
  void set(unsigned n, double alpha, double beta, double k) { check(laminaSetLRNDescriptor(p_, n, alpha, beta, k)); }
  struct Info {
    unsigned n;
    double alpha, beta, k;
  };
  Info info() const {
    Info i{};
    check(laminaGetLRNDescriptor(p_, &i.n, &i.alpha, &i.beta, &i.k));
    return i;
  }
};

inline void lrnForward(laminaHandle_t h, laminaLRNDescriptor_t lrn, laminaLRNMode_t mode, const void *alpha,
                       laminaTensorDescriptor_t x, const void *xData, const void *beta, laminaTensorDescriptor_t y,
                       void *yData) {
  check(laminaLRNForward(h, lrn, mode, alpha, x, xData, beta, y, yData));
}
inline void lrnBackward(laminaHandle_t h, laminaLRNDescriptor_t lrn, laminaLRNMode_t mode, const void *alpha,
                        laminaTensorDescriptor_t y, const void *yData, laminaTensorDescriptor_t dy, const void *dyData,
                        laminaTensorDescriptor_t x, const void *xData, const void *beta, laminaTensorDescriptor_t dx,
                        void *dxData) {
  check(laminaLRNBackward(h, lrn, mode, alpha, y, yData, dy, dyData, x, xData, beta, dx, dxData));
}

// ---------------------------------------------------------------- batch normalisation

inline void deriveBNTensorDescriptor(laminaTensorDescriptor_t derived, laminaTensorDescriptor_t x,
                                     laminaBatchNormMode_t mode) {
  check(laminaDeriveBNTensorDescriptor(derived, x, mode));
}
inline void batchNormalizationForwardTraining(laminaHandle_t h, laminaBatchNormMode_t mode, const void *alpha,
                                              const void *beta, laminaTensorDescriptor_t x, const void *xData,
                                              laminaTensorDescriptor_t y, void *yData,
                                              laminaTensorDescriptor_t scaleBiasMeanVar, const void *scale,
                                              const void *bias, double exponentialAverageFactor, void *runningMean,
                                              void *runningVariance, double epsilon, void *saveMean,
                                              void *saveInvVariance) {
  check(laminaBatchNormalizationForwardTraining(h, mode, alpha, beta, x, xData, y, yData, scaleBiasMeanVar, scale, bias,
                                                exponentialAverageFactor, runningMean, runningVariance, epsilon,
                                                saveMean, saveInvVariance));
}
inline void batchNormalizationForwardInference(laminaHandle_t h, laminaBatchNormMode_t mode, const void *alpha,
                                               const void *beta, laminaTensorDescriptor_t x, const void *xData,
                                               laminaTensorDescriptor_t y, void *yData,
                                               laminaTensorDescriptor_t scaleBiasMeanVar, const void *scale,
                                               const void *bias, const void *estimatedMean,
                                               const void *estimatedVariance, double epsilon) {
  check(laminaBatchNormalizationForwardInference(h, mode, alpha, beta, x, xData, y, yData, scaleBiasMeanVar, scale,
                                                 bias, estimatedMean, estimatedVariance, epsilon));
}
inline void batchNormalizationBackward(laminaHandle_t h, laminaBatchNormMode_t mode, const void *alphaData,
                                       const void *betaData, const void *alphaParam, const void *betaParam,
                                       laminaTensorDescriptor_t x, const void *xData, laminaTensorDescriptor_t dy,
                                       const void *dyData, laminaTensorDescriptor_t dx, void *dxData,
                                       laminaTensorDescriptor_t scaleBiasDiff, const void *scale, void *dScale,
                                       void *dBias, double epsilon, const void *savedMean,
                                       const void *savedInvVariance) {
  check(laminaBatchNormalizationBackward(h, mode, alphaData, betaData, alphaParam, betaParam, x, xData, dy, dyData, dx,
                                         dxData, scaleBiasDiff, scale, dScale, dBias, epsilon, savedMean,
                                         savedInvVariance));
}

// ---------------------------------------------------------------- dropout

inline size_t dropoutStatesSize(laminaHandle_t h) {
  size_t b = 0;
  check(laminaDropoutGetStatesSize(h, &b));
  return b;
}
inline size_t dropoutReserveSpaceSize(laminaTensorDescriptor_t x) {
  size_t b = 0;
  check(laminaDropoutGetReserveSpaceSize(x, &b));
  return b;
}

// The states buffer belongs to the caller and must outlive the descriptor's use.
class DropoutDescriptor : public detail::Owner<laminaDropoutDescriptor_t, laminaDestroyDropoutDescriptor> {
public:
  DropoutDescriptor() : Owner(detail::create<laminaDropoutDescriptor_t, laminaCreateDropoutDescriptor>()) {}
  DropoutDescriptor(laminaHandle_t h, float dropout, void *states, size_t stateBytes, unsigned long long seed)
      : DropoutDescriptor() {
    set(h, dropout, states, stateBytes, seed);
  }
  DropoutDescriptor(laminaHandle_t h, float dropout, DeviceBuffer &states, unsigned long long seed)
      : DropoutDescriptor(h, dropout, states.data(), states.bytes(), seed) {}
  void set(laminaHandle_t h, float dropout, void *states, size_t stateBytes, unsigned long long seed) {
    check(laminaSetDropoutDescriptor(p_, h, dropout, states, stateBytes, seed));
  }
  struct Info {
    float dropout;
    void *states;
    unsigned long long seed;
  };
  Info info() const {
    Info i{};
    check(laminaGetDropoutDescriptor(p_, &i.dropout, &i.states, &i.seed));
    return i;
  }
};

inline void dropoutForward(laminaHandle_t h, laminaDropoutDescriptor_t desc, laminaTensorDescriptor_t x,
                           const void *xData, laminaTensorDescriptor_t y, void *yData, void *reserveSpace,
                           size_t reserveBytes) {
  check(laminaDropoutForward(h, desc, x, xData, y, yData, reserveSpace, reserveBytes));
}
inline void dropoutBackward(laminaHandle_t h, laminaDropoutDescriptor_t desc, laminaTensorDescriptor_t dy,
                            const void *dyData, laminaTensorDescriptor_t dx, void *dxData, void *reserveSpace,
                            size_t reserveBytes) {
  check(laminaDropoutBackward(h, desc, dy, dyData, dx, dxData, reserveSpace, reserveBytes));
}

// ---------------------------------------------------------------- tensor operations

inline void addTensor(laminaHandle_t h, const void *alpha, laminaTensorDescriptor_t a, const void *aData,
                      const void *beta, laminaTensorDescriptor_t c, void *cData) {
  check(laminaAddTensor(h, alpha, a, aData, beta, c, cData));
}
inline void setTensor(laminaHandle_t h, laminaTensorDescriptor_t y, void *yData, const void *value) {
  check(laminaSetTensor(h, y, yData, value));
}
inline void scaleTensor(laminaHandle_t h, laminaTensorDescriptor_t y, void *yData, const void *alpha) {
  check(laminaScaleTensor(h, y, yData, alpha));
}
inline void transformTensor(laminaHandle_t h, const void *alpha, laminaTensorDescriptor_t x, const void *xData,
                            const void *beta, laminaTensorDescriptor_t y, void *yData) {
  check(laminaTransformTensor(h, alpha, x, xData, beta, y, yData));
}

class OpTensorDescriptor : public detail::Owner<laminaOpTensorDescriptor_t, laminaDestroyOpTensorDescriptor> {
public:
  OpTensorDescriptor() : Owner(detail::create<laminaOpTensorDescriptor_t, laminaCreateOpTensorDescriptor>()) {}
  explicit OpTensorDescriptor(laminaOpTensorOp_t op, DataType computeType = LAMINA_DATA_FLOAT,
                              laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN)
      : OpTensorDescriptor() {
    set(op, computeType, nan);
  }
  void set(laminaOpTensorOp_t op, DataType computeType, laminaNanPropagation_t nan) {
    check(laminaSetOpTensorDescriptor(p_, op, computeType, nan));
  }
  struct Info {
    laminaOpTensorOp_t op;
    DataType computeType;
    laminaNanPropagation_t nan;
  };
  Info info() const {
    Info i{};
    check(laminaGetOpTensorDescriptor(p_, &i.op, &i.computeType, &i.nan));
    return i;
  }
};

inline void opTensor(laminaHandle_t h, laminaOpTensorDescriptor_t op, const void *alpha1, laminaTensorDescriptor_t a,
                     const void *aData, const void *alpha2, laminaTensorDescriptor_t b, const void *bData,
                     const void *beta, laminaTensorDescriptor_t c, void *cData) {
  check(laminaOpTensor(h, op, alpha1, a, aData, alpha2, b, bData, beta, c, cData));
}

class ReduceTensorDescriptor
    : public detail::Owner<laminaReduceTensorDescriptor_t, laminaDestroyReduceTensorDescriptor> {
public:
  ReduceTensorDescriptor()
      : Owner(detail::create<laminaReduceTensorDescriptor_t, laminaCreateReduceTensorDescriptor>()) {}
  explicit ReduceTensorDescriptor(laminaReduceTensorOp_t op, DataType computeType = LAMINA_DATA_FLOAT,
                                  laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN,
                                  laminaReduceTensorIndices_t indices = LAMINA_REDUCE_TENSOR_NO_INDICES)
      : ReduceTensorDescriptor() {
    set(op, computeType, nan, indices);
  }
  void set(laminaReduceTensorOp_t op, DataType computeType, laminaNanPropagation_t nan,
           laminaReduceTensorIndices_t indices) {
    check(laminaSetReduceTensorDescriptor(p_, op, computeType, nan, indices));
  }
  struct Info {
    laminaReduceTensorOp_t op;
    DataType computeType;
    laminaNanPropagation_t nan;
    laminaReduceTensorIndices_t indices;
  };
  Info info() const {
    Info i{};
    check(laminaGetReduceTensorDescriptor(p_, &i.op, &i.computeType, &i.nan, &i.indices));
    return i;
  }
};

inline size_t reductionIndicesSize(laminaHandle_t h, laminaReduceTensorDescriptor_t desc, laminaTensorDescriptor_t a,
                                   laminaTensorDescriptor_t c) {
  size_t b = 0;
  check(laminaGetReductionIndicesSize(h, desc, a, c, &b));
  return b;
}
inline size_t reductionWorkspaceSize(laminaHandle_t h, laminaReduceTensorDescriptor_t desc, laminaTensorDescriptor_t a,
                                     laminaTensorDescriptor_t c) {
  size_t b = 0;
  check(laminaGetReductionWorkspaceSize(h, desc, a, c, &b));
  return b;
}
inline void reduceTensor(laminaHandle_t h, laminaReduceTensorDescriptor_t desc, void *indices, size_t indicesBytes,
                         void *workspace, size_t workspaceBytes, const void *alpha, laminaTensorDescriptor_t a,
                         const void *aData, const void *beta, laminaTensorDescriptor_t c, void *cData) {
  check(laminaReduceTensor(h, desc, indices, indicesBytes, workspace, workspaceBytes, alpha, a, aData, beta, c, cData));
}

// ---------------------------------------------------------------- matrix multiply

inline void matmul(laminaHandle_t h, DataType dataType, laminaMathType_t math, laminaOperation_t transA,
                   laminaOperation_t transB, int64_t m, int64_t n, int64_t k, const void *alpha, const void *A,
                   int64_t lda, int64_t strideA, const void *B, int64_t ldb, int64_t strideB, const void *beta, void *C,
                   int64_t ldc, int64_t strideC, int64_t batch) {
  check(laminaMatmul(h, dataType, math, transA, transB, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                     strideC, batch));
}

} // namespace lamina
