// Tensor-memory-access helpers shared by the TMA convolutions (conv_tc_tma.cu: forward and
// backward-data; conv_tc_tma_bwd_filter.cu: backward-filter): the bulk tensor copies that complete on
// an mbarrier, and the driver's tensor-map encoder (resolved through the runtime, no libcuda link).
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>

#include <cstdint>

namespace lamina::cuda::tc {

// The driver's cuTensorMapEncodeTiled, or null when the driver lacks it.
PFN_cuTensorMapEncodeTiled_v12000 encodeTiled();

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
__device__ __forceinline__ void tmaLoad4d(uint32_t dst, const CUtensorMap *map, int c0, int c1, int c2, int c3,
                                          uint32_t bar) {
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, "
               "%3, %4, %5}], [%6];\n" ::"r"(dst),
               "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar)
               : "memory");
}

} // namespace lamina::cuda::tc
