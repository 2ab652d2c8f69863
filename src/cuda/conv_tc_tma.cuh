// Tensor-memory-access helpers shared by the TMA convolutions (conv_tc_tma.cu: forward and
// backward-data; conv_tc_tma_bwd_filter.cu: backward-filter): the bulk tensor copies that complete on
// an mbarrier, and the driver's tensor-map encoder (resolved through the runtime, no libcuda link).
#pragma once

#include "core/conv_problem.h"

#include <cuda.h>
#include <cudaTypedefs.h>

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

namespace lamina::cuda::tc {

// The driver's cuTensorMapEncodeTiled, or null when the driver lacks it.
PFN_cuTensorMapEncodeTiled_v12000 encodeTiled();
// The driver's cuTensorMapEncodeIm2col, or null.
PFN_cuTensorMapEncodeIm2col_v12000 encodeIm2col();
// LAMINA_TC_IM2COL (measuring and tests): 0, the TMA kernels read activations in boxes only; 1, in
// im2col mode wherever it applies; -1 (unset): each kernel's rule. Read once.
int im2colForcing();
// Whether the TMA kernels pair CTAs into clusters that share their A loads (multicast): only with
// LAMINA_TC_CLUSTER=1. Correct (conformance and memcheck on the H200) but measured 2x slower than
// unpaired on vgg16.conv3_2 (230 vs 518 TFLOP/s; docs/perf_notes.md), so off by default. Read once.
bool tmaClusters();

// The mbarrier expects `bytes` more bytes of copies in this phase (and counts one arrival).
__device__ __forceinline__ void mbarExpectTx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
// One box of a 2-D / 4-D tensor map at coordinates (c0 innermost, ...) into shared memory at dst.
__device__ __forceinline__ void tmaLoad2d(uint32_t dst, const CUtensorMap *map, int c0, int c1, uint32_t bar) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, "
               "%3}], [%4];\n" ::"r"(dst),
               "l"(map), "r"(c0), "r"(c1), "r"(bar)
               : "memory");
}
__device__ __forceinline__ void tmaLoad3d(uint32_t dst, const CUtensorMap *map, int c0, int c1, int c2, uint32_t bar) {
  asm volatile("cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, "
               "%3, %4}], [%5];\n" ::"r"(dst),
               "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(bar)
               : "memory");
}
__device__ __forceinline__ void tmaLoad4d(uint32_t dst, const CUtensorMap *map, int c0, int c1, int c2, int c3,
                                          uint32_t bar) {
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, "
               "%3, %4, %5}], [%6];\n" ::"r"(dst),
               "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar)
               : "memory");
}
// Im2col mode: the map's pixelsPerColumn pixels of channelsPerPixel channels from c0, starting at the
// bounding-box position (w, h, n) and walking the box W, then H, then N (every element-stride-th
// pixel), each pixel read at its position + (offW, offH): one filter tap of consecutive output pixels,
// across rows and images. Outside the tensor: zeros.
__device__ __forceinline__ void tmaLoadIm2col4d(uint32_t dst, const CUtensorMap *map, int c0, int w, int h, int n,
                                                uint16_t offW, uint16_t offH, uint32_t bar) {
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.im2col.mbarrier::complete_tx::bytes [%0], [%1, {%2, "
               "%3, %4, %5}], [%6], {%7, %8};\n" ::"r"(dst),
               "l"(map), "r"(c0), "r"(w), "r"(h), "r"(n), "r"(bar), "h"(offW), "h"(offH)
               : "memory");
}

// The same, written to the same shared-memory offset in every CTA of the cluster in ctaMask, each
// CTA's mbarrier at offset bar receiving its bytes.
__device__ __forceinline__ void tmaLoad2dMulticast(uint32_t dst, const CUtensorMap *map, int c0, int c1, uint32_t bar,
                                                   uint16_t ctaMask) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster "
               "[%0], [%1, {%2, %3}], [%4], %5;\n" ::"r"(dst),
               "l"(map), "r"(c0), "r"(c1), "r"(bar), "h"(ctaMask)
               : "memory");
}
__device__ __forceinline__ void tmaLoad4dMulticast(uint32_t dst, const CUtensorMap *map, int c0, int c1, int c2, int c3,
                                                   uint32_t bar, uint16_t ctaMask) {
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster "
               "[%0], [%1, {%2, %3, %4, %5}], [%6], %7;\n" ::"r"(dst),
               "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar), "h"(ctaMask)
               : "memory");
}

// Bulk tensor store: the box at shared memory src to the 2-D map's coordinates (c0 innermost, c1), out of
// bounds parts not written; tracked per thread in bulk groups (commit, then wait).
__device__ __forceinline__ void tmaStore2d(const CUtensorMap *map, uint32_t src, int c0, int c1) {
  asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%2, %3}], [%1];\n" ::"l"(map), "r"(src),
               "r"(c0), "r"(c1)
               : "memory");
}
__device__ __forceinline__ void bulkCommit() { asm volatile("cp.async.bulk.commit_group;\n" ::: "memory"); }
// Until at most N of this thread's bulk groups still read shared memory (their sources may be rewritten).
template <int N> __device__ __forceinline__ void bulkWaitRead() {
  asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(N) : "memory");
}
// Until all of this thread's bulk groups are complete (written to global memory).
__device__ __forceinline__ void bulkWaitAll() { asm volatile("cp.async.bulk.wait_group 0;\n" ::: "memory"); }

// Launches kernel on grid x block with dynamic shared memory, in clusters of `cluster` CTAs along x
// (grid a multiple of it).
template <class Kernel, class... Args>
inline cudaError_t launchClustered(Kernel kernel, unsigned grid, unsigned block, size_t smem, cudaStream_t stream,
                                   unsigned cluster, Args... args) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(grid), cfg.blockDim = dim3(block), cfg.dynamicSmemBytes = smem, cfg.stream = stream;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = cluster, attr[0].val.clusterDim.y = 1, attr[0].val.clusterDim.z = 1;
  cfg.attrs = attr, cfg.numAttrs = 1;
  return cudaLaunchKernelEx(&cfg, kernel, args...);
}

} // namespace lamina::cuda::tc
