// Host side of the CUDA backend: the handle's private state, error checks, stream access.
// Every kernel runs on the handle's stream; nothing here synchronises the device.
#pragma once

#include "core/descriptors.h"
#include "core/error.h"
#include "core/handle.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace lamina {

struct CudaState {
  int smCount = 0;
  int ccMajor = 0, ccMinor = 0;
  size_t smemPerBlockOptin = 0; // largest dynamic shared memory a block may opt into
  cublasHandle_t blas = nullptr;
  cublasLtHandle_t blasLt = nullptr;
  // cuBLAS/cuBLASLt scratch, allocated once at handle creation (no allocation per call).
  void *blasWorkspace = nullptr;
  size_t blasWorkspaceBytes = 0;
  cudaEvent_t timerStart = nullptr, timerStop = nullptr; // Find's timing
  // Split-K's per-tile counters (zero between calls: the kernels reset what they count), for the
  // handle's calls in stream order, as the cuBLAS workspace: concurrent calls take separate handles.
  int *splitCounters = nullptr;
  size_t splitCounterCount = 0;
};

namespace cuda {

inline cudaStream_t streamOf(const laminaContext &h) { return static_cast<cudaStream_t>(h.stream); }
inline CudaState &stateOf(const laminaContext &h) { return *h.cuda; }

// Throw EXECUTION_FAILED (ALLOC_FAILED for out-of-memory) with the CUDA/cuBLAS error text.
void checkCuda(cudaError_t e, const char *what);
void checkCublas(cublasStatus_t s, const char *what);

} // namespace cuda
} // namespace lamina

#define LAMINA_CUDA_CALL(expr) ::lamina::cuda::checkCuda((expr), #expr)
#define LAMINA_CUBLAS_CALL(expr) ::lamina::cuda::checkCublas((expr), #expr)
// After every kernel launch: reports a bad launch configuration at once (no synchronisation).
#define LAMINA_CUDA_LAUNCHED() ::lamina::cuda::checkCuda(cudaGetLastError(), "kernel launch")
