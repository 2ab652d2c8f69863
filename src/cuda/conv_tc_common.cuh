// The tensor-core implicit GEMM shared by the half/bf16 convolutions (conv_tc_fwd.cu for forward and
// backward-data, conv_tc_bwd_filter.cu for backward-filter): warp-level mma.sync m16n8k16 with fp32
// accumulation, operands brought to shared memory by cp.async 16-byte copies in a 4-stage pipeline
// (zero-filled where the implicit im2col reads padding), fragments loaded with ldmatrix from swizzled
// rows (no bank conflicts), and the same strided alpha/beta epilogue or split-K partials.
//
// GEMM view of one block: D[BM x BN] = sum over the reduction of A[m][j] * B[n][j]. Each operand tile
// sits in shared memory in one of two layouts:
//   K-major  ([rows][32]): reduction contiguous, e.g. NHWC activations gathered per output pixel;
//   MN-major ([32][cols]): rows/cols contiguous, e.g. dy read per reduction pixel (backward-filter),
//   read with ldmatrix.trans.
// The loaders (per direction) only issue cp.async copies into a stage; this file owns the pipeline.
#pragma once

#include "cuda/device.cuh"

#include <cstdint>

namespace lamina::cuda::tc {

constexpr int kBK = 32;      // reduction elements per stage (64 bytes of half per row)
constexpr int kThreads = 128; // 4 warps
constexpr int kStages = 4;

// A block tile of BM x BN outputs computed by WARPS_M x WARPS_N warps (4 in all).
template <int BM_, int BN_, int WARPS_M_, int WARPS_N_> struct Tile {
  static constexpr int BM = BM_, BN = BN_, WARPS_M = WARPS_M_, WARPS_N = WARPS_N_;
  static constexpr int WTM = BM / WARPS_M, WTN = BN / WARPS_N; // warp tile
  static constexpr int MI = WTM / 16, NI = WTN / 8;            // mma tiles per warp
  static constexpr int A_BYTES = BM * kBK * 2, B_BYTES = BN * kBK * 2;
  static constexpr int STAGE_BYTES = A_BYTES + B_BYTES;
  static constexpr int SMEM_BYTES = kStages * STAGE_BYTES;
  static_assert(WARPS_M * WARPS_N * 32 == kThreads, "4 warps");
  static_assert(MI >= 1 && NI >= 2 && NI % 2 == 0, "warp tile of at least 16 x 16");
};
// The fixed set of tiles (each instantiated once per dtype and direction).
using TileL = Tile<128, 128, 2, 2>; // warp tile 64 x 64
using TileM = Tile<128, 64, 2, 2>;  // 64 x 32
using TileS = Tile<64, 64, 2, 2>;   // 32 x 32
using TileT = Tile<128, 32, 4, 1>;  // 32 x 32, for thin N (few output channels)
enum TileId { kTileL, kTileM, kTileS, kTileT, kTileCount };

template <class T> struct MmaKind;
template <> struct MmaKind<__half> { static constexpr bool bf16 = false; };
template <> struct MmaKind<__nv_bfloat16> { static constexpr bool bf16 = true; };

// ---- PTX wrappers -------------------------------------------------------------------------------
__device__ __forceinline__ uint32_t smemAddr(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
// 16-byte global -> shared copy, zero-filling the destination when !valid (src is then not read).
__device__ __forceinline__ void cpAsync16(uint32_t dst, const void *src, bool valid) {
  const int bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes));
}
__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
__device__ __forceinline__ void ldmatrixX4(uint32_t r[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void ldmatrixX4Trans(uint32_t r[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
template <bool BF16> __device__ __forceinline__ void mma16816(float c[4], const uint32_t a[4], const uint32_t b[2]) {
  if constexpr (BF16)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  else
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// ---- Shared-memory layouts (byte offsets of 16-byte chunks) -----------------------------------------
// K-major: rows of 64 bytes (4 chunks); chunk c of row r at slot c ^ ((r >> 1) & 3), so the 8 rows an
// ldmatrix reads at one logical chunk fall in 8 different 16-byte bank groups.
__device__ __forceinline__ uint32_t kMajorOffset(int row, int chunk) {
  return uint32_t(row * 64 + ((chunk ^ ((row >> 1) & 3)) << 4));
}
// MN-major: 32 rows (reduction) of COLS elements (COLS / 8 chunks); the same idea for 4, 8 or 16 chunks.
template <int COLS> __device__ __forceinline__ uint32_t mnMajorOffset(int krow, int chunk) {
  constexpr int CH = COLS / 8;
  static_assert(CH == 4 || CH == 8 || CH == 16, "32, 64 or 128 columns");
  const int sw = CH >= 8 ? (krow & 7) : ((krow >> 1) & 3);
  return uint32_t(krow * COLS * 2 + ((chunk ^ sw) << 4));
}

// ---- One stage of the product ---------------------------------------------------------------------
// acc[mi][ni][0..3]: the m16n8 accumulator layout (rows lane/4 and lane/4 + 8, columns 2 (lane%4) + 0/1).
template <class Cfg, bool A_KMAJOR, bool B_KMAJOR, bool BF16>
__device__ __forceinline__ void mmaStage(uint32_t sA, uint32_t sB, float (&acc)[Cfg::MI][Cfg::NI][4], int warpM,
                                         int warpN, int lane) {
#pragma unroll
  for (int kk = 0; kk < kBK / 16; ++kk) {
    uint32_t a[Cfg::MI][4], b[Cfg::NI][2];
#pragma unroll
    for (int mi = 0; mi < Cfg::MI; ++mi) {
      const int m0 = warpM * Cfg::WTM + mi * 16;
      if constexpr (A_KMAJOR) {
        const int row = m0 + (lane & 7) + ((lane >> 3) & 1) * 8, chunk = kk * 2 + (lane >> 4);
        ldmatrixX4(a[mi], sA + kMajorOffset(row, chunk));
      } else {
        const int krow = kk * 16 + (lane & 7) + (lane >> 4) * 8, chunk = m0 / 8 + ((lane >> 3) & 1);
        ldmatrixX4Trans(a[mi], sA + mnMajorOffset<Cfg::BM>(krow, chunk));
      }
    }
#pragma unroll
    for (int ni = 0; ni < Cfg::NI; ni += 2) {
      const int n0 = warpN * Cfg::WTN + ni * 8;
      uint32_t r[4];
      if constexpr (B_KMAJOR) {
        const int row = n0 + (lane & 7) + (lane >> 4) * 8, chunk = kk * 2 + ((lane >> 3) & 1);
        ldmatrixX4(r, sB + kMajorOffset(row, chunk));
      } else {
        const int krow = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, chunk = n0 / 8 + (lane >> 4);
        ldmatrixX4Trans(r, sB + mnMajorOffset<Cfg::BN>(krow, chunk));
      }
      b[ni][0] = r[0], b[ni][1] = r[1], b[ni + 1][0] = r[2], b[ni + 1][1] = r[3];
    }
#pragma unroll
    for (int mi = 0; mi < Cfg::MI; ++mi)
#pragma unroll
      for (int ni = 0; ni < Cfg::NI; ++ni)
        mma16816<BF16>(acc[mi][ni], a[mi], b[ni]);
  }
}

// The pipelined main loop over `iters` reduction slices. load(stageA, stageB, it) issues the cp.async
// copies of slice `it` (the loader keeps its own running position: it is called with it = 0, 1, 2...
// in order, once each). smem holds kStages stages of A then B.
template <class Cfg, bool A_KMAJOR, bool B_KMAJOR, bool BF16, class Load>
__device__ __forceinline__ void mainLoop(uint8_t *smem, int iters, float (&acc)[Cfg::MI][Cfg::NI][4], Load &load) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warpM = warp % Cfg::WARPS_M, warpN = warp / Cfg::WARPS_M;
#pragma unroll
  for (int mi = 0; mi < Cfg::MI; ++mi)
#pragma unroll
    for (int ni = 0; ni < Cfg::NI; ++ni)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        acc[mi][ni][e] = 0.f;
  const uint32_t base = smemAddr(smem);
  auto stageA = [&](int s) { return base + uint32_t(s * Cfg::STAGE_BYTES); };
  auto stageB = [&](int s) { return base + uint32_t(s * Cfg::STAGE_BYTES + Cfg::A_BYTES); };
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < iters)
      load(stageA(s), stageB(s), s);
    cpAsyncCommit(); // empty groups keep the wait count uniform
  }
  for (int it = 0; it < iters; ++it) {
    cpAsyncWait<kStages - 2>();
    __syncthreads(); // slice `it` visible to all; every warp is done with slice it - 1's stage
    const int next = it + kStages - 1;
    if (next < iters)
      load(stageA(next % kStages), stageB(next % kStages), next);
    cpAsyncCommit();
    const int s = it % kStages;
    mmaStage<Cfg, A_KMAJOR, B_KMAJOR, BF16>(stageA(s), stageB(s), acc, warpM, warpN, lane);
  }
  cpAsyncWait<0>();
}

// Calls put(row, col, v0, v1) for every accumulator pair of this thread: (row, col) and (row, col + 1)
// within the block tile.
template <class Cfg, class Put> __device__ __forceinline__ void forEachPair(const float (&acc)[Cfg::MI][Cfg::NI][4], Put put) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warpM = warp % Cfg::WARPS_M, warpN = warp / Cfg::WARPS_M;
#pragma unroll
  for (int mi = 0; mi < Cfg::MI; ++mi)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int row = warpM * Cfg::WTM + mi * 16 + (lane >> 2) + h * 8;
#pragma unroll
      for (int ni = 0; ni < Cfg::NI; ++ni) {
        const int col = warpN * Cfg::WTN + ni * 8 + (lane & 3) * 2;
        put(row, col, acc[mi][ni][2 * h], acc[mi][ni][2 * h + 1]);
      }
    }
}

// Unsigned division by a run-time constant (n, d < 2^31): q = (umulhi(n, mul) + n) >> shift.
struct FastDiv {
  uint32_t d = 1, mul = 0, shift = 0;
  FastDiv() = default;
  explicit FastDiv(uint32_t divisor) : d(divisor) {
    while ((1u << shift) < d)
      ++shift;
    mul = uint32_t(((uint64_t(1) << 32) * ((uint64_t(1) << shift) - d)) / d + 1);
  }
  __device__ __forceinline__ uint32_t div(uint32_t n) const { return (__umulhi(n, mul) + n) >> shift; }
};

} // namespace lamina::cuda::tc
