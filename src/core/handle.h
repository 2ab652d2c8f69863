// The handle: which backend, its threads or stream, and backend-private state.
#pragma once

#include <lamina/lamina.h>

#include <cstdint>

namespace lamina {
constexpr uint32_t kHandleMagic = 0x4C4D4841; // "LMHA"
struct CudaState;                             // defined by the CUDA backend (cuBLAS handle, device properties)
} // namespace lamina

struct laminaContext {
  uint32_t magic = lamina::kHandleMagic;
  laminaBackend_t backend = LAMINA_BACKEND_CPU;
  int threads = 0;        // CPU: 0 = all cores
  void *stream = nullptr; // CUDA: cudaStream_t
  int device = -1;        // CUDA: device ordinal
  lamina::CudaState *cuda = nullptr;
};

namespace lamina {
// Backend memory primitives used by the API layer and by Find (scratch buffers).
void *backendMalloc(const laminaContext &h, size_t bytes); // throws ALLOC_FAILED
void backendFree(const laminaContext &h, void *p) noexcept;
void backendMemcpy(const laminaContext &h, void *dst, const void *src, size_t bytes, laminaMemcpyKind_t kind);
void backendMemset(const laminaContext &h, void *p, int value, size_t bytes);
void backendSynchronize(const laminaContext &h);
// Find's clock: wall time on the CPU; CUDA events recorded on the handle's stream on the GPU.
void backendTimerStart(const laminaContext &h);
double backendTimerStopMs(const laminaContext &h); // waits for the work since start
template <class F> double backendTimeMs(const laminaContext &h, F &&work) {
  backendTimerStart(h);
  work();
  return backendTimerStopMs(h);
}
} // namespace lamina
