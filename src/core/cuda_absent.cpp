// Built only when the CUDA backend is not: every CUDA entry answers BACKEND_UNAVAILABLE.
#include "core/conv_problem.h"
#include "core/error.h"
#include "core/handle.h"

namespace lamina {

bool cudaBackendAvailable() { return false; }
void cudaCreateHandle(laminaContext &) {
  fail(LAMINA_STATUS_BACKEND_UNAVAILABLE, "this build of Lamina has no CUDA backend");
}
void cudaDestroyHandle(laminaContext &) noexcept {}
int cudaDeviceCount() { fail(LAMINA_STATUS_BACKEND_UNAVAILABLE, "this build of Lamina has no CUDA backend"); }
void cudaSelectDevice(int) { fail(LAMINA_STATUS_BACKEND_UNAVAILABLE, "this build of Lamina has no CUDA backend"); }
void cudaSetStream(laminaContext &, void *) {
  fail(LAMINA_STATUS_BACKEND_UNAVAILABLE, "this build of Lamina has no CUDA backend");
}
bool cudaPointerIsDevice(const laminaContext &, const void *) { return false; }
void *cudaMallocBytes(const laminaContext &, size_t) {
  fail(LAMINA_STATUS_BACKEND_UNAVAILABLE, "this build of Lamina has no CUDA backend");
}
void cudaFreeBytes(const laminaContext &, void *) noexcept {}
void cudaMemcpyBytes(const laminaContext &, void *, const void *, size_t, laminaMemcpyKind_t) {
  fail(LAMINA_STATUS_BACKEND_UNAVAILABLE, "this build of Lamina has no CUDA backend");
}
void cudaMemsetBytes(const laminaContext &, void *, int, size_t) {
  fail(LAMINA_STATUS_BACKEND_UNAVAILABLE, "this build of Lamina has no CUDA backend");
}
void cudaSynchronizeHandle(const laminaContext &) {}
void cudaTimerStart(const laminaContext &) {}
double cudaTimerStopMs(const laminaContext &) { return 0.0; }

const std::vector<const ConvAlgorithm *> &cudaConvAlgorithms(ConvDirection) {
  static const std::vector<const ConvAlgorithm *> none;
  return none;
}

} // namespace lamina
