// How many 2-CTA clusters of a 1-block-per-SM kernel (384 threads, ~197 KB dynamic shared memory, like
// the TMA convolution tiles) the device keeps resident, against plain blocks; and the time of a
// trivial kernel launched both ways (target lamina-probe-cluster-occupancy). H200, 2026-11-30: 132
// single blocks, 66 pairs (all 132 SMs), 30 quads (120 SMs); the same time for blocks and pairs.
#include <cstdio>
#include <cuda_runtime.h>

__global__ void __launch_bounds__(384, 1) spin(int *out, int iters) {
  extern __shared__ int s[];
  int v = threadIdx.x;
  for (int i = 0; i < iters; ++i)
    v = v * 1664525 + 1013904223;
  s[threadIdx.x] = v;
  __syncthreads();
  if (threadIdx.x == 0)
    out[blockIdx.x] = s[5];
}

int main() {
  const int smem = 197 * 1024;
  cudaFuncSetAttribute(spin, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  int sms = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  int *out;
  cudaMalloc(&out, 1 << 20);
  for (int cl : {1, 2, 4}) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3(sms * 8 / cl * cl), cfg.blockDim = dim3(384), cfg.dynamicSmemBytes = smem;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = cl, attr[0].val.clusterDim.y = 1, attr[0].val.clusterDim.z = 1;
    cfg.attrs = attr, cfg.numAttrs = 1;
    int clusters = -1;
    cudaError_t e = cudaOccupancyMaxActiveClusters(&clusters, spin, &cfg);
    cudaEvent_t a, b;
    cudaEventCreate(&a), cudaEventCreate(&b);
    cudaLaunchKernelEx(&cfg, spin, out, 100000);
    cudaEventRecord(a);
    for (int r = 0; r < 5; ++r)
      cudaLaunchKernelEx(&cfg, spin, out, 100000);
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    printf("cluster %d: max active clusters %d (%s) = %d SMs busy of %d; %u blocks: %.3f ms per launch\n", cl, clusters,
           cudaGetErrorString(e), clusters * cl, sms, cfg.gridDim.x, ms / 5);
  }
  return 0;
}
