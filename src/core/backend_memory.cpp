// Backend memory primitives: host memory for the CPU backend; CUDA calls go to src/cuda.
#include "core/error.h"
#include "core/handle.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace lamina {

// Implemented in src/cuda/cuda_memory.cu, or by src/core/cuda_absent.cpp when CUDA is not built.
void *cudaMallocBytes(const laminaContext &h, size_t bytes);
void cudaFreeBytes(const laminaContext &h, void *p) noexcept;
void cudaMemcpyBytes(const laminaContext &h, void *dst, const void *src, size_t bytes, laminaMemcpyKind_t kind);
void cudaMemsetBytes(const laminaContext &h, void *p, int value, size_t bytes);
void cudaSynchronizeHandle(const laminaContext &h);
void cudaTimerStart(const laminaContext &h);
double cudaTimerStopMs(const laminaContext &h);

void *backendMalloc(const laminaContext &h, size_t bytes) {
  if (h.backend == LAMINA_BACKEND_CUDA)
    return cudaMallocBytes(h, bytes);
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded < bytes)
    fail(LAMINA_STATUS_SIZE_OVERFLOW, "allocation of %zu bytes overflows", bytes);
  void *p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p)
    fail(LAMINA_STATUS_ALLOC_FAILED, "could not allocate %zu bytes of host memory", bytes);
  return p;
}

void backendFree(const laminaContext &h, void *p) noexcept {
  if (!p)
    return;
  if (h.backend == LAMINA_BACKEND_CUDA)
    return cudaFreeBytes(h, p);
  std::free(p);
}

void backendMemcpy(const laminaContext &h, void *dst, const void *src, size_t bytes, laminaMemcpyKind_t kind) {
  if (h.backend == LAMINA_BACKEND_CUDA)
    return cudaMemcpyBytes(h, dst, src, bytes, kind);
  if (bytes)
    std::memmove(dst, src, bytes);
}

void backendMemset(const laminaContext &h, void *p, int value, size_t bytes) {
  if (h.backend == LAMINA_BACKEND_CUDA)
    return cudaMemsetBytes(h, p, value, bytes);
  if (bytes)
    std::memset(p, value, bytes);
}

void backendSynchronize(const laminaContext &h) {
  if (h.backend == LAMINA_BACKEND_CUDA)
    cudaSynchronizeHandle(h);
}

namespace {
thread_local std::chrono::steady_clock::time_point cpuTimerStart;
}

void backendTimerStart(const laminaContext &h) {
  if (h.backend == LAMINA_BACKEND_CUDA)
    return cudaTimerStart(h);
  cpuTimerStart = std::chrono::steady_clock::now();
}

double backendTimerStopMs(const laminaContext &h) {
  if (h.backend == LAMINA_BACKEND_CUDA)
    return cudaTimerStopMs(h);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - cpuTimerStart).count();
}

} // namespace lamina
