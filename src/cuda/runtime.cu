// The CUDA backend's runtime: availability, the handle (bound to the current device at creation),
// streams, memory, pointer checks and Find's event timer.
#include "cuda/conv_algorithms.h"
#include "cuda/conv_tc.h"
#include "cuda/cuda_common.h"

#include <cstdio>
#include <mutex>
#include <set>

namespace lamina {

namespace cuda {

void checkCuda(cudaError_t e, const char *what) {
  if (e == cudaSuccess)
    return;
  (void)cudaGetLastError(); // clear a non-sticky error so the next call starts clean
  fail(e == cudaErrorMemoryAllocation ? LAMINA_STATUS_ALLOC_FAILED : LAMINA_STATUS_EXECUTION_FAILED, "%s: %s (%s)",
       what, cudaGetErrorString(e), cudaGetErrorName(e));
}

void checkCublas(cublasStatus_t s, const char *what) {
  if (s == CUBLAS_STATUS_SUCCESS)
    return;
  fail(s == CUBLAS_STATUS_ALLOC_FAILED ? LAMINA_STATUS_ALLOC_FAILED : LAMINA_STATUS_EXECUTION_FAILED,
       "%s: cuBLAS status %d (%s)", what, int(s), cublasGetStatusString(s));
}

// Asked of the driver whether this build has code for the device (only sm_90a by default).
__global__ void probeKernel() {}

} // namespace cuda

void cudaDestroyHandle(laminaContext &h) noexcept;

namespace {
bool deviceHasOurCode(int device) {
  int prev = -1;
  if (cudaGetDevice(&prev) != cudaSuccess)
    return false;
  bool ok = cudaSetDevice(device) == cudaSuccess;
  cudaFuncAttributes attr;
  ok = ok && cudaFuncGetAttributes(&attr, cuda::probeKernel) == cudaSuccess;
  (void)cudaGetLastError();
  cudaSetDevice(prev);
  return ok;
}
} // namespace

bool cudaBackendAvailable() {
  static const bool available = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n <= 0) {
      (void)cudaGetLastError();
      return false;
    }
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess)
      return false;
    return deviceHasOurCode(dev);
  }();
  return available;
}

int cudaDeviceCount() {
  int n = 0;
  if (!cudaBackendAvailable() || cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    fail(LAMINA_STATUS_BACKEND_UNAVAILABLE, "no usable CUDA GPU");
  }
  return n;
}

void cudaSelectDevice(int device) { LAMINA_CUDA_CALL(cudaSetDevice(device)); }

namespace {
// One small GEMM per type the convolutions hand to cuBLAS, once per device and process: cuBLAS loads
// its kernel modules and sets itself up on first use (74 ms for the first fp16 GEMM on the H200),
// which would otherwise land on a user's first convolution. Best effort: a failure here costs only
// that first call's time, so it is cleared rather than failing handle creation, and retried by the
// next handle.
void warmUpBlas(CudaState &st, int dev) {
  static std::mutex mu;
  static std::set<int> done;
  std::lock_guard<std::mutex> lock(mu);
  if (done.count(dev))
    return;
  constexpr int n = 128;
  constexpr size_t matBytes = size_t(n) * n * sizeof(double);
  void *buf = nullptr;
  if (cudaMalloc(&buf, 3 * matBytes) != cudaSuccess) {
    (void)cudaGetLastError();
    return;
  }
  bool ok = cudaMemset(buf, 0, 3 * matBytes) == cudaSuccess;
  char *a = static_cast<char *>(buf), *b = a + matBytes, *c = b + matBytes;
  const float oneF = 1, zeroF = 0;
  const double oneD = 1, zeroD = 0;
  struct Kind {
    cudaDataType_t t;
    cublasComputeType_t ct;
  };
  const Kind kinds[] = {{CUDA_R_32F, CUBLAS_COMPUTE_32F},
                        {CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32},
                        {CUDA_R_16F, CUBLAS_COMPUTE_32F},
                        {CUDA_R_16BF, CUBLAS_COMPUTE_32F},
                        {CUDA_R_64F, CUBLAS_COMPUTE_64F}};
  for (const Kind &k : kinds) {
    const bool dbl = k.t == CUDA_R_64F;
    ok = ok && cublasGemmEx(st.blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, dbl ? static_cast<const void *>(&oneD) : &oneF,
                            a, k.t, n, b, k.t, n, dbl ? static_cast<const void *>(&zeroD) : &zeroF, c, k.t, n, k.ct,
                            CUBLAS_GEMM_DEFAULT) == CUBLAS_STATUS_SUCCESS;
  }
  ok = cudaStreamSynchronize(nullptr) == cudaSuccess && ok;
  cudaFree(buf);
  (void)cudaGetLastError();
  if (ok)
    done.insert(dev);
}
} // namespace

void cudaCreateHandle(laminaContext &h) {
  if (!cudaBackendAvailable())
    fail(LAMINA_STATUS_BACKEND_UNAVAILABLE, "no CUDA device with code for this build (built for %s)",
         "the architectures in LAMINA_CUDA_GENCODE");
  int dev = 0;
  LAMINA_CUDA_CALL(cudaGetDevice(&dev));
  if (!deviceHasOurCode(dev))
    fail(LAMINA_STATUS_BACKEND_UNAVAILABLE, "this build of Lamina has no code for CUDA device %d", dev);
  auto *st = new CudaState();
  try {
    cudaDeviceProp prop;
    LAMINA_CUDA_CALL(cudaGetDeviceProperties(&prop, dev));
    st->smCount = prop.multiProcessorCount;
    st->ccMajor = prop.major;
    st->ccMinor = prop.minor;
    st->smemPerBlockOptin = prop.sharedMemPerBlockOptin;
    LAMINA_CUBLAS_CALL(cublasCreate(&st->blas));
    LAMINA_CUBLAS_CALL(cublasLtCreate(&st->blasLt));
    st->blasWorkspaceBytes = size_t(32) << 20; // what cuBLAS asks for on Hopper
    LAMINA_CUDA_CALL(cudaMalloc(&st->blasWorkspace, st->blasWorkspaceBytes));
    // cublasSetStream resets cuBLAS to its own workspace: set ours after it (and after every stream change).
    LAMINA_CUBLAS_CALL(cublasSetStream(st->blas, nullptr));
    LAMINA_CUBLAS_CALL(cublasSetWorkspace(st->blas, st->blasWorkspace, st->blasWorkspaceBytes));
    st->splitCounterCount = 16384;
    LAMINA_CUDA_CALL(cudaMalloc(&st->splitCounters, st->splitCounterCount * sizeof(int)));
    LAMINA_CUDA_CALL(cudaMemset(st->splitCounters, 0, st->splitCounterCount * sizeof(int)));
    LAMINA_CUDA_CALL(cudaEventCreate(&st->timerStart));
    LAMINA_CUDA_CALL(cudaEventCreate(&st->timerStop));
    // Load the convolution kernels now (CUDA loads modules lazily, on first launch), so a convolution's
    // first call is as fast as its later ones.
    cuda::tc::preloadKernels();
    cuda::preloadConvKernels();
    warmUpBlas(*st, dev);
  } catch (...) {
    h.cuda = st;
    cudaDestroyHandle(h);
    throw;
  }
  h.device = dev;
  h.stream = nullptr; // the legacy default stream until laminaSetStream
  h.cuda = st;
}

void cudaDestroyHandle(laminaContext &h) noexcept {
  CudaState *st = h.cuda;
  if (!st)
    return;
  if (st->timerStart)
    cudaEventDestroy(st->timerStart);
  if (st->timerStop)
    cudaEventDestroy(st->timerStop);
  if (st->blas)
    cublasDestroy(st->blas);
  if (st->blasLt)
    cublasLtDestroy(st->blasLt);
  if (st->blasWorkspace)
    cudaFree(st->blasWorkspace); // waits for work that may still use it
  if (st->splitCounters)
    cudaFree(st->splitCounters);
  delete st;
  h.cuda = nullptr;
}

void cudaSetStream(laminaContext &h, void *stream) {
  if (stream) {
    // A stream of another device (or not a stream) is refused here rather than failing later.
    int dev = -1;
    cudaError_t e = cudaStreamGetDevice(static_cast<cudaStream_t>(stream), &dev);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'stream' is not a valid CUDA stream (%s)", cudaGetErrorString(e));
    }
    if (dev != h.device)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'stream' belongs to device %d, the handle to device %d", dev, h.device);
  }
  LAMINA_CUBLAS_CALL(cublasSetStream(h.cuda->blas, static_cast<cudaStream_t>(stream)));
  LAMINA_CUBLAS_CALL(cublasSetWorkspace(h.cuda->blas, h.cuda->blasWorkspace, h.cuda->blasWorkspaceBytes));
  h.stream = stream;
}

bool cudaPointerIsDevice(const laminaContext &h, const void *p) {
  cudaPointerAttributes a;
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return (a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged) && a.device == h.device;
}

void *cudaMallocBytes(const laminaContext &h, size_t bytes) {
  void *p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    fail(LAMINA_STATUS_ALLOC_FAILED, "could not allocate %zu bytes on GPU %d: %s", bytes, h.device,
         cudaGetErrorString(e));
  }
  return p;
}

void cudaFreeBytes(const laminaContext &, void *p) noexcept { cudaFree(p); }

void cudaMemcpyBytes(const laminaContext &h, void *dst, const void *src, size_t bytes, laminaMemcpyKind_t kind) {
  cudaMemcpyKind k = kind == LAMINA_MEMCPY_HOST_TO_DEVICE   ? cudaMemcpyHostToDevice
                     : kind == LAMINA_MEMCPY_DEVICE_TO_HOST ? cudaMemcpyDeviceToHost
                                                            : cudaMemcpyDeviceToDevice;
  cudaStream_t s = cuda::streamOf(h);
  LAMINA_CUDA_CALL(cudaMemcpyAsync(dst, src, bytes, k, s));
  // Host memory is the caller's again when laminaMemcpy returns; device-to-device stays stream-ordered.
  if (k != cudaMemcpyDeviceToDevice)
    LAMINA_CUDA_CALL(cudaStreamSynchronize(s));
}

void cudaMemsetBytes(const laminaContext &h, void *p, int value, size_t bytes) {
  LAMINA_CUDA_CALL(cudaMemsetAsync(p, value, bytes, cuda::streamOf(h)));
}

void cudaSynchronizeHandle(const laminaContext &h) { LAMINA_CUDA_CALL(cudaStreamSynchronize(cuda::streamOf(h))); }

void cudaTimerStart(const laminaContext &h) {
  LAMINA_CUDA_CALL(cudaEventRecord(h.cuda->timerStart, cuda::streamOf(h)));
}

double cudaTimerStopMs(const laminaContext &h) {
  LAMINA_CUDA_CALL(cudaEventRecord(h.cuda->timerStop, cuda::streamOf(h)));
  LAMINA_CUDA_CALL(cudaEventSynchronize(h.cuda->timerStop));
  float ms = 0.f;
  LAMINA_CUDA_CALL(cudaEventElapsedTime(&ms, h.cuda->timerStart, h.cuda->timerStop));
  return ms;
}

} // namespace lamina
