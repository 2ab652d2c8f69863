// What the kernel sandboxes (bench/sandbox/*.cu) share: exit-on-error checks for CUDA and Lamina calls,
// and the timer (CUDA events around back-to-back runs after a warm-up).
#pragma once

#include <lamina/lamina.h>

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CK(x)                                                                                                          \
  do {                                                                                                                 \
    cudaError_t e_ = (x);                                                                                              \
    if (e_ != cudaSuccess) {                                                                                           \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_));                          \
      std::exit(1);                                                                                                    \
    }                                                                                                                  \
  } while (0)
#define LK(x)                                                                                                          \
  do {                                                                                                                 \
    laminaStatus_t s_ = (x);                                                                                           \
    if (s_ != LAMINA_STATUS_SUCCESS) {                                                                                 \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, laminaGetLastErrorMessage());                     \
      std::exit(1);                                                                                                    \
    }                                                                                                                  \
  } while (0)

namespace sandbox {

// Milliseconds per run of f: warmup runs, then reps runs between two events on the default stream.
template <class F> double timeMs(F &&f, int reps = 20, int warmup = 3) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int i = 0; i < warmup; ++i)
    f();
  CK(cudaEventRecord(a));
  for (int i = 0; i < reps; ++i)
    f();
  CK(cudaEventRecord(b));
  CK(cudaEventSynchronize(b));
  float ms = 0;
  CK(cudaEventElapsedTime(&ms, a, b));
  CK(cudaEventDestroy(a));
  CK(cudaEventDestroy(b));
  return double(ms) / reps;
}

} // namespace sandbox
