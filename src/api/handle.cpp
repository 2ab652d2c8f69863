// Entry points: version, errors, handle, memory.
#include "core/handle.h"
#include "core/checks.h"
#include "core/error.h"

namespace lamina {
const char *lastErrorMessage();
bool cudaBackendAvailable();
void cudaCreateHandle(laminaContext &h);
void cudaDestroyHandle(laminaContext &h) noexcept;
void cudaSetStream(laminaContext &h, void *stream);
int cudaDeviceCount();
void cudaSelectDevice(int device);
} // namespace lamina

using namespace lamina;

extern "C" {

size_t laminaGetVersion(void) { return LAMINA_VERSION; }

const char *laminaGetErrorString(laminaStatus_t status) {
  switch (status) {
#define LAMINA_CASE(s)                                                                                                 \
  case s: return #s;
    LAMINA_CASE(LAMINA_STATUS_SUCCESS)
    LAMINA_CASE(LAMINA_STATUS_NOT_INITIALIZED)
    LAMINA_CASE(LAMINA_STATUS_ALLOC_FAILED)
    LAMINA_CASE(LAMINA_STATUS_BAD_PARAM)
    LAMINA_CASE(LAMINA_STATUS_NULL_POINTER)
    LAMINA_CASE(LAMINA_STATUS_WRONG_DESCRIPTOR)
    LAMINA_CASE(LAMINA_STATUS_SHAPE_MISMATCH)
    LAMINA_CASE(LAMINA_STATUS_TYPE_MISMATCH)
    LAMINA_CASE(LAMINA_STATUS_BAD_STRIDES)
    LAMINA_CASE(LAMINA_STATUS_BAD_DIMS)
    LAMINA_CASE(LAMINA_STATUS_SIZE_OVERFLOW)
    LAMINA_CASE(LAMINA_STATUS_INSUFFICIENT_WORKSPACE)
    LAMINA_CASE(LAMINA_STATUS_NOT_SUPPORTED)
    LAMINA_CASE(LAMINA_STATUS_BACKEND_UNAVAILABLE)
    LAMINA_CASE(LAMINA_STATUS_BAD_POINTER)
    LAMINA_CASE(LAMINA_STATUS_EXECUTION_FAILED)
    LAMINA_CASE(LAMINA_STATUS_INTERNAL_ERROR)
#undef LAMINA_CASE
  }
  return "LAMINA_STATUS_UNKNOWN";
}

const char *laminaGetLastErrorMessage(void) { return lastErrorMessage(); }

laminaStatus_t laminaIsBackendAvailable(laminaBackend_t backend, int *available) {
  return apiCall(__func__, [&] {
    pointerArg(available, "available");
    int b = enumValue(backend);
    if (b == LAMINA_BACKEND_CPU)
      *available = 1;
    else if (b == LAMINA_BACKEND_CUDA)
      *available = cudaBackendAvailable() ? 1 : 0;
    else
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'backend' has invalid value %d", b);
  });
}

laminaStatus_t laminaCudaGetDeviceCount(int *count) {
  return apiCall(__func__, [&] {
    pointerArg(count, "count");
    *count = cudaDeviceCount();
  });
}

laminaStatus_t laminaCudaSetDevice(int device) {
  return apiCall(__func__, [&] {
    int n = cudaDeviceCount();
    if (device < 0 || device >= n)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'device' is %d; this machine has %d CUDA GPU(s)", device, n);
    cudaSelectDevice(device);
  });
}

laminaStatus_t laminaCreateWithBackend(laminaHandle_t *handle, laminaBackend_t backend) {
  return apiCall(__func__, [&] {
    pointerArg(handle, "handle");
    *handle = nullptr;
    int b = enumValue(backend);
    if (b != LAMINA_BACKEND_CPU && b != LAMINA_BACKEND_CUDA)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'backend' has invalid value %d", b);
    auto *h = new laminaContext();
    h->backend = laminaBackend_t(b);
    if (b == LAMINA_BACKEND_CUDA) {
      try {
        cudaCreateHandle(*h);
      } catch (...) {
        h->magic = 0;
        delete h;
        throw;
      }
    }
    *handle = h;
  });
}

laminaStatus_t laminaCreate(laminaHandle_t *handle) {
  return apiCall(__func__, [&] {
    pointerArg(handle, "handle");
    // The GPU when there is one with code for this build: the CUDA backend covers every op.
    laminaBackend_t b = cudaBackendAvailable() ? LAMINA_BACKEND_CUDA : LAMINA_BACKEND_CPU;
    laminaStatus_t s = laminaCreateWithBackend(handle, b);
    if (s != LAMINA_STATUS_SUCCESS)
      fail(s, "%s", laminaGetLastErrorMessage());
  });
}

laminaStatus_t laminaDestroy(laminaHandle_t handle) {
  return apiCall(__func__, [&] {
    if (!handle)
      return;
    laminaContext &h = handleArg(handle);
    if (h.backend == LAMINA_BACKEND_CUDA)
      cudaDestroyHandle(h);
    h.magic = 0;
    delete &h;
  });
}

laminaStatus_t laminaGetBackend(laminaHandle_t handle, laminaBackend_t *backend) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    pointerArg(backend, "backend");
    *backend = h.backend;
  });
}

laminaStatus_t laminaSetNumThreads(laminaHandle_t handle, int threads) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    if (threads < 0)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'threads' is %d; it must be >= 0", threads);
    h.threads = threads;
  });
}

laminaStatus_t laminaGetNumThreads(laminaHandle_t handle, int *threads) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    pointerArg(threads, "threads");
    *threads = h.backend == LAMINA_BACKEND_CPU ? h.threads : 1;
  });
}

laminaStatus_t laminaSetStream(laminaHandle_t handle, void *stream) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    if (h.backend == LAMINA_BACKEND_CUDA) {
      cudaSetStream(h, stream);
    } else if (stream) {
      fail(LAMINA_STATUS_NOT_SUPPORTED, "argument 'stream' must be NULL on the CPU backend");
    }
  });
}

laminaStatus_t laminaGetStream(laminaHandle_t handle, void **stream) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    pointerArg(stream, "stream");
    *stream = h.stream;
  });
}

laminaStatus_t laminaSynchronize(laminaHandle_t handle) {
  return apiCall(__func__, [&] { backendSynchronize(handleArg(handle)); });
}

laminaStatus_t laminaMalloc(laminaHandle_t handle, void **ptr, size_t bytes) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    pointerArg(ptr, "ptr");
    *ptr = nullptr;
    *ptr = backendMalloc(h, bytes);
  });
}

laminaStatus_t laminaFree(laminaHandle_t handle, void *ptr) {
  return apiCall(__func__, [&] { backendFree(handleArg(handle), ptr); });
}

laminaStatus_t laminaMemcpy(laminaHandle_t handle, void *dst, const void *src, size_t bytes, laminaMemcpyKind_t kind) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    if (bytes == 0)
      return;
    pointerArg(dst, "dst");
    pointerArg(src, "src");
    int k = enumValue(kind);
    switch (k) {
    case LAMINA_MEMCPY_HOST_TO_DEVICE: dataArg(h, dst, "dst"); break;
    case LAMINA_MEMCPY_DEVICE_TO_HOST: dataArg(h, src, "src"); break;
    case LAMINA_MEMCPY_DEVICE_TO_DEVICE:
      dataArg(h, dst, "dst");
      dataArg(h, src, "src");
      break;
    default: fail(LAMINA_STATUS_BAD_PARAM, "argument 'kind' has invalid value %d", k);
    }
    backendMemcpy(h, dst, src, bytes, laminaMemcpyKind_t(k));
  });
}

laminaStatus_t laminaMemset(laminaHandle_t handle, void *ptr, int byteValue, size_t bytes) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    if (bytes == 0)
      return;
    dataArg(h, ptr, "ptr");
    backendMemset(h, ptr, byteValue, bytes);
  });
}

} // extern "C"
