// Device facts for the tensor-core paths: whether the device runs the sm_90a (wgmma) image, planning as
// on Hopper for the offline tools, and the LAMINA_TC_TILE override's tile names.
#include "cuda/conv_tc.h"
#include "cuda/conv_tc_common.cuh"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace lamina::cuda::tc {
namespace {
// Whether this device runs the sm_90a kernels (wgmma): the image CUDA picked for it says so.
__global__ void wgmmaProbeKernel(int *out) { *out = LAMINA_TC_WGMMA; }
constexpr int kMaxDevices = 64;
std::atomic<int> gWgmma[kMaxDevices]; // 0 unknown, 1 no, 2 yes
std::atomic<bool> gAssumeHopper{false};
} // namespace

void probeWgmma() {
  int dev = 0;
  LAMINA_CUDA_CALL(cudaGetDevice(&dev));
  if (dev >= kMaxDevices || gWgmma[dev].load() != 0)
    return;
  int *d = nullptr, h = 0;
  LAMINA_CUDA_CALL(cudaMalloc(&d, sizeof(int)));
  wgmmaProbeKernel<<<1, 1>>>(d);
  const cudaError_t e = cudaGetLastError();
  const cudaError_t c = e == cudaSuccess ? cudaMemcpy(&h, d, sizeof(int), cudaMemcpyDeviceToHost) : e;
  cudaFree(d);
  LAMINA_CUDA_CALL(c);
  gWgmma[dev].store(h ? 2 : 1);
}

void assumeHopperForPlanning() { gAssumeHopper.store(true); }
bool planningAssumesHopper() { return gAssumeHopper.load(std::memory_order_relaxed); }

bool wgmmaReady() {
  if (planningAssumesHopper())
    return true;
  int dev = 0;
  return cudaGetDevice(&dev) == cudaSuccess && dev < kMaxDevices && gWgmma[dev].load() == 2;
}

int forcedTile() {
  const char *e = std::getenv("LAMINA_TC_TILE");
  if (!e)
    return -1;
  static const char *const names[kTileCount] = {"L", "M", "S", "T", "W", "WN", "WK"};
  for (int t = 0; t < kTileCount; ++t)
    if (std::strcmp(e, names[t]) == 0)
      return t;
  return -1;
}

} // namespace lamina::cuda::tc
