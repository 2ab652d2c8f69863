// The tensor-core implicit GEMM shared by the convolutions (conv_tc_fwd.cu for forward and
// backward-data, conv_tc_bwd_filter.cu for backward-filter): warp-level mma.sync with fp32
// accumulation (m16n8k16 for half/bf16, m16n8k8 TF32 for float under TENSOR_OP math), operands
// brought to shared memory by cp.async 16-byte copies in a 4-stage pipeline (zero-filled where the
// implicit im2col reads padding), fragments loaded from swizzled rows (no bank conflicts), and the
// same strided alpha/beta epilogue or split-K partials.
//
// GEMM view of one block: D[BM x BN] = sum over the reduction of A[m][j] * B[n][j]. A stage holds
// 64 bytes of reduction per row: BK = 64 / sizeof(T) elements (32 half, 16 float), in 16-byte chunks
// of EPC = 16 / sizeof(T) elements. Each operand tile sits in shared memory in one of two layouts:
//   K-major  ([rows][BK]): reduction contiguous, e.g. NHWC activations gathered per output pixel;
//   MN-major ([BK][cols]): rows/cols contiguous, e.g. dy read per reduction pixel (backward-filter),
//   read with ldmatrix.trans (half/bf16) or 32-bit shared loads (float: ldmatrix.trans moves 16-bit
//   elements only).
// The loaders (per direction) only issue cp.async copies into a stage; this file owns the pipeline.
#pragma once

#include "cuda/device.cuh"
#include "cuda/wgmma_ops.cuh"

#include <cstdint>

namespace lamina::cuda::tc {

constexpr int kRowBytes = 64; // reduction bytes per stage and row of a K-major tile
constexpr int kThreads = 128; // 4 warps
constexpr int kStages = 4;
// Per storage type: reduction elements per stage, elements per 16-byte chunk (the channel granularity
// of operands read in place; staging pads channels to a multiple of it).
template <class T> constexpr int kBK = kRowBytes / int(sizeof(T));
template <class T> constexpr int kEPC = 16 / int(sizeof(T));

// A block tile of BM x BN outputs computed by WARPS_M x WARPS_N warps (4 in all).
template <int BM_, int BN_, int WARPS_M_, int WARPS_N_> struct Tile {
  static constexpr int BM = BM_, BN = BN_, WARPS_M = WARPS_M_, WARPS_N = WARPS_N_;
  static constexpr int WTM = BM / WARPS_M, WTN = BN / WARPS_N; // warp tile
  static constexpr int MI = WTM / 16, NI = WTN / 8;            // mma tiles per warp
  static constexpr int A_BYTES = BM * kRowBytes, B_BYTES = BN * kRowBytes;
  static constexpr int STAGE_BYTES = A_BYTES + B_BYTES;
  static constexpr int SMEM_BYTES = kStages * STAGE_BYTES;
  static constexpr bool WS = false; // not warp-specialized: all 4 warps load and multiply
  static constexpr int THREADS = kThreads, STAGES = kStages;
  static_assert(WARPS_M * WARPS_N * 32 == kThreads, "4 warps");
  static_assert(MI >= 1 && NI >= 2 && NI % 2 == 0, "warp tile of at least 16 x 16");
};
// Warp-specialized tile (sm_90a, forward half/bf16): warpgroup 0 runs the loaders (the same 128-thread
// cp.async loaders as Tile) into STAGES stages guarded by mbarriers; warpgroups 1 and 2 each multiply
// BM / 2 rows by all BN columns with wgmma m64nBNk16 (MI = BM / 128 m64 blocks each) straight from the
// swizzled stages. The accumulators acc[MI][NI][4] hold wgmma's layout (forEachRowPair).
// ROW_BYTES_: reduction bytes per stage and row (64: 32 half values in the 64B swizzle; 128: 64 values in
// the 128B swizzle, K-major operands only).
template <int BM_, int BN_, int STAGES_, int ROW_BYTES_ = kRowBytes> struct TileWs {
  static constexpr int BM = BM_, BN = BN_, STAGES = STAGES_, ROW_BYTES = ROW_BYTES_;
  static constexpr bool WS = true;
  static constexpr int THREADS = 3 * kThreads;
  static constexpr int MI = BM / 128, NI = BN / 8; // per consumer thread: MI m64 blocks of BN / 2 floats
  static constexpr int WARPS_M = 1, WARPS_N = 1, WTM = BM, WTN = BN; // unused (no mma.sync)
  static constexpr int A_BYTES = BM * ROW_BYTES, B_BYTES = BN * ROW_BYTES;
  static constexpr int STAGE_BYTES = A_BYTES + B_BYTES;
  static constexpr int BAR_OFFSET = STAGES * STAGE_BYTES; // full[STAGES] then empty[STAGES] mbarriers
  static constexpr int SMEM_BYTES = BAR_OFFSET + 2 * STAGES * 8;
  static_assert(BM % 128 == 0 && (BN == 64 || BN == 128 || BN == 256), "wgmma shapes");
  static_assert(ROW_BYTES == 64 || ROW_BYTES == 128, "64B or 128B swizzle rows");
  static_assert(SMEM_BYTES <= 227 * 1024, "shared memory");
};

// The fixed set of tiles (each instantiated once per dtype and direction).
using TileL = Tile<128, 128, 2, 2>;        // warp tile 64 x 64
using TileM = Tile<128, 64, 2, 2>;         // 64 x 32
using TileS = Tile<64, 64, 2, 2>;          // 32 x 32
using TileT = Tile<128, 32, 4, 1>;         // 32 x 32, for thin N (few output channels)
using TileW = TileWs<256, 128, 8>;         // warp-specialized (forward half/bf16 on sm_90a only)
using TileWN = TileWs<256, 64, 8>;         // for 64 output channels
using TileWK = TileWs<128, 256, 8>;        // for many output channels and fewer rows
using TileW64 = TileWs<256, 128, 4, 128>;  // 64-deep slices (TMA forward)
using TileWK64 = TileWs<128, 256, 4, 128>; // 128 x 256, 64 deep (TMA forward)
using TileWN64 = TileWs<256, 64, 5, 128>;  // 256 x 64, 64 deep (TMA backward-filter, 64 output channels)
using TileWM = TileWs<128, 128, 8>;        // 128 x 128: under a wave of the larger tiles (TMA)
using TileWM64 = TileWs<128, 128, 6, 128>; // 128 x 128, 64 deep (TMA)
enum TileId { kTileL, kTileM, kTileS, kTileT, kTileW, kTileWN, kTileWK, kTileCount };
constexpr bool isWsTile(int t) { return t >= kTileW; }

// ---- Host-side planning, shared by both translation units ---------------------------------------
// Plans (tile, splits) are fixed per problem, not per card: the workspace query and the run must
// agree, and results must not depend on the card.
constexpr int kPlanSMs = 132;
// Per tile: its size, blocks resident per SM (registers, shared memory) and relative MMA rate.
struct TileInfo {
  int bm, bn, blocksPerSM;
  double eff;
};
constexpr TileInfo kTiles[kTileCount] = {{TileL::BM, TileL::BN, 2, 1.0},  {TileM::BM, TileM::BN, 3, 0.85},
                                         {TileS::BM, TileS::BN, 5, 0.7},  {TileT::BM, TileT::BN, 4, 0.6},
                                         {TileW::BM, TileW::BN, 1, 1.4},  {TileWN::BM, TileWN::BN, 1, 1.2},
                                         {TileWK::BM, TileWK::BN, 1, 1.4}};

inline int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }
inline bool aligned16(const void *ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 15) == 0; }
// Strides (n, channel, spatial 0..2) an operand can be read in place with: channels contiguous, every
// pixel a whole number of 16-byte chunks (epc elements each).
inline bool stridesOk(const int64_t s[5], int epc) {
  return s[1] == 1 && s[0] % epc == 0 && s[2] % epc == 0 && s[3] % epc == 0 && s[4] % epc == 0;
}

template <class T> struct MmaKind;
template <> struct MmaKind<__half> { static constexpr bool bf16 = false; };
template <> struct MmaKind<__nv_bfloat16> { static constexpr bool bf16 = true; };

// Host side: the per-type constants for a laminaDataType_t (half, bfloat16: 2 bytes; float as TF32: 4).
struct TcTypeInfo {
  int esize = 2;             // bytes per element
  int epc = 8;               // kEPC: elements per 16-byte chunk
  int bk = 32;               // kBK: reduction elements per stage
  double flopsPerMs = 600e9; // the largest tile's sustained mma.sync rate (TF32 runs at half the f16 rate)
};
inline TcTypeInfo tcTypeInfo(laminaDataType_t dt) {
  TcTypeInfo t;
  if (dt == LAMINA_DATA_FLOAT)
    t.esize = 4, t.epc = kEPC<float>, t.bk = kBK<float>, t.flopsPerMs = 300e9;
  return t;
}
// Host-side dispatch over the storage types of these paths: f(TypeTag<T>{}).
template <class T> struct TypeTag { using type = T; };
template <class F> void withTcType(laminaDataType_t dt, F &&f) {
  switch (dt) {
  case LAMINA_DATA_HALF: f(TypeTag<__half>{}); break;
  case LAMINA_DATA_BFLOAT16: f(TypeTag<__nv_bfloat16>{}); break;
  case LAMINA_DATA_FLOAT: f(TypeTag<float>{}); break;
  default: ::lamina::fail(LAMINA_STATUS_INTERNAL_ERROR, "tensor-core path: data type %d", int(dt));
  }
}

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
template <int N> __device__ __forceinline__ void cpAsyncWait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }
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
// TF32: a0 (row g, k t), a1 (g + 8, t), a2 (g, t + 4), a3 (g + 8, t + 4); b0 (k t, col g), b1 (t + 4, g)
// (g = lane / 4, t = lane % 4); accumulators as m16n8k16.
__device__ __forceinline__ void mma1688Tf32(float c[4], const uint32_t a[4], const uint32_t b[2]) {
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
               "{%0,%1,%2,%3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
// float bits -> TF32 (10-bit mantissa), rounded to nearest (ties away), as the mma expects its inputs.
__device__ __forceinline__ uint32_t toTf32(uint32_t bits) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(__uint_as_float(bits)));
  return r;
}
__device__ __forceinline__ uint32_t ldShared32(uint32_t addr) {
  uint32_t r;
  asm volatile("ld.shared.b32 %0, [%1];\n" : "=r"(r) : "r"(addr));
  return r;
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
// MN-major float: 16 rows (reduction) of COLS floats (COLS / 4 chunks, rows of 128 bytes or more).
// Chunk c of row k at slot c ^ 2 (k % 4): a fragment load reads rows k0 + t (t = 0..3) at 8
// consecutive columns (two chunks of the same aligned 8-chunk group), and the four rows' chunk pairs
// land in four different 32-byte bank groups (the XOR keeps chunk pairs together and permutes only
// within an aligned group of 8, so the loaders' 8 consecutive chunks of a row stay conflict-free too).
template <int COLS> __device__ __forceinline__ uint32_t mnMajorOffsetF32(int krow, int chunk) {
  constexpr int CH = COLS / 4;
  static_assert(CH == 8 || CH == 16 || CH == 32, "32, 64 or 128 columns");
  return uint32_t(krow * COLS * 4 + ((chunk ^ ((krow & 3) << 1)) << 4));
}
// Byte offset of chunk `chunk` (EPC elements) of reduction row krow in an MN-major tile of COLS columns.
template <class T, int COLS> __device__ __forceinline__ uint32_t mnMajorChunk(int krow, int chunk) {
  if constexpr (sizeof(T) == 4)
    return mnMajorOffsetF32<COLS>(krow, chunk);
  else
    return mnMajorOffset<COLS>(krow, chunk);
}

// ---- One stage of the product ---------------------------------------------------------------------
// acc[mi][ni][0..3]: the m16n8 accumulator layout (rows lane/4 and lane/4 + 8, columns 2 (lane%4) + 0/1).
// half / bf16: two k16 steps of 32 bytes per row.
template <class Cfg, bool A_KMAJOR, bool B_KMAJOR, bool BF16>
__device__ __forceinline__ void mmaStage(uint32_t sA, uint32_t sB, float (&acc)[Cfg::MI][Cfg::NI][4], int warpM,
                                         int warpN, int lane) {
#pragma unroll
  for (int kk = 0; kk < kBK<__half> / 16; ++kk) {
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

// float (TF32): two k8 steps of 32 bytes per row, the same bytes per step as the half k16 step.
// K-major tiles: ldmatrix (b16) over 32-bit data hands lane (g, t) the word t of row g of each 8 x 16-byte
// matrix, so the half addressing yields exactly the TF32 fragments: A's matrices (rows m0 / m0 + 8,
// chunk 2 kk / 2 kk + 1 = k 0..3 / 4..7 of the step) are a0..a3, B's are b0, b1 of n-tiles ni and ni + 1.
// MN-major tiles: one 32-bit shared load per element (mnMajorOffsetF32). Element (krow, col) with
// col = W + 16 mm + 8 h + g (W: the warp's first column, a multiple of 32) and krow = 8 kk + 4 w + t lies
// at (8 kk + 4 w) ROWB + 4 W + 128 (mm / 2) + laneOff[mm % 2][h]: the swizzle only permutes within
// aligned 8-chunk groups, so the lane's share is one of four offsets computed once.
template <int COLS> struct MnF32Lane {
  static constexpr int ROWB = COLS * 4;
  uint32_t off[2][2];
  __device__ __forceinline__ explicit MnF32Lane(int lane) {
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int p = 0; p < 2; ++p)
#pragma unroll
      for (int h = 0; h < 2; ++h)
        off[p][h] = uint32_t(t * ROWB + (((4 * p + 2 * h + (g >> 2)) ^ (2 * t)) << 4) + (g & 3) * 4);
  }
  // Byte offset of (krow = 8 kk + 4 w + t, col = W + 16 mm + 8 h + g) for this lane.
  __device__ __forceinline__ uint32_t at(int kk, int w, int W, int mm, int h) const {
    return uint32_t((8 * kk + 4 * w) * ROWB + 4 * W + 128 * (mm >> 1)) + off[mm & 1][h];
  }
};

template <class Cfg, bool A_KMAJOR, bool B_KMAJOR>
__device__ __forceinline__ void mmaStageTf32(uint32_t sA, uint32_t sB, float (&acc)[Cfg::MI][Cfg::NI][4], int warpM,
                                             int warpN, int lane) {
  static_assert(Cfg::WTM % 32 == 0 && Cfg::WTN % 32 == 0, "warp columns start on 8-chunk groups");
  const MnF32Lane<Cfg::BM> mnA(lane);
  const MnF32Lane<Cfg::BN> mnB(lane);
#pragma unroll
  for (int kk = 0; kk < kBK<float> / 8; ++kk) {
    uint32_t a[Cfg::MI][4], b[Cfg::NI][2];
#pragma unroll
    for (int mi = 0; mi < Cfg::MI; ++mi) {
      if constexpr (A_KMAJOR) {
        const int m0 = warpM * Cfg::WTM + mi * 16;
        const int row = m0 + (lane & 7) + ((lane >> 3) & 1) * 8, chunk = kk * 2 + (lane >> 4);
        ldmatrixX4(a[mi], sA + kMajorOffset(row, chunk));
      } else {
        const int W = warpM * Cfg::WTM;
        a[mi][0] = ldShared32(sA + mnA.at(kk, 0, W, mi, 0));
        a[mi][1] = ldShared32(sA + mnA.at(kk, 0, W, mi, 1));
        a[mi][2] = ldShared32(sA + mnA.at(kk, 1, W, mi, 0));
        a[mi][3] = ldShared32(sA + mnA.at(kk, 1, W, mi, 1));
      }
#pragma unroll
      for (int e = 0; e < 4; ++e)
        a[mi][e] = toTf32(a[mi][e]);
    }
#pragma unroll
    for (int ni = 0; ni < Cfg::NI; ni += 2) {
      uint32_t r[4];
      if constexpr (B_KMAJOR) {
        const int n0 = warpN * Cfg::WTN + ni * 8;
        const int row = n0 + (lane & 7) + (lane >> 4) * 8, chunk = kk * 2 + ((lane >> 3) & 1);
        ldmatrixX4(r, sB + kMajorOffset(row, chunk));
      } else {
        const int W = warpN * Cfg::WTN, mm = ni / 2;
        r[0] = ldShared32(sB + mnB.at(kk, 0, W, mm, 0));
        r[1] = ldShared32(sB + mnB.at(kk, 1, W, mm, 0));
        r[2] = ldShared32(sB + mnB.at(kk, 0, W, mm, 1));
        r[3] = ldShared32(sB + mnB.at(kk, 1, W, mm, 1));
      }
      b[ni][0] = toTf32(r[0]), b[ni][1] = toTf32(r[1]), b[ni + 1][0] = toTf32(r[2]), b[ni + 1][1] = toTf32(r[3]);
    }
#pragma unroll
    for (int mi = 0; mi < Cfg::MI; ++mi)
#pragma unroll
      for (int ni = 0; ni < Cfg::NI; ++ni)
        mma1688Tf32(acc[mi][ni], a[mi], b[ni]);
  }
}

// The pipelined main loop over `iters` reduction slices. load(stageA, stageB, it) issues the cp.async
// copies of slice `it` (the loader keeps its own running position: it is called with it = 0, 1, 2...
// in order, once each). smem holds kStages stages of A then B.
template <class Cfg, bool A_KMAJOR, bool B_KMAJOR, class T, class Load>
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
    if constexpr (sizeof(T) == 4)
      mmaStageTf32<Cfg, A_KMAJOR, B_KMAJOR>(stageA(s), stageB(s), acc, warpM, warpN, lane);
    else
      mmaStage<Cfg, A_KMAJOR, B_KMAJOR, MmaKind<T>::bf16>(stageA(s), stageB(s), acc, warpM, warpN, lane);
  }
  cpAsyncWait<0>();
}

// ---- wgmma (sm_90a) --------------------------------------------------------------------------------
// The K-major stages above are exactly wgmma's 64-byte-swizzle layout (8-row groups of 64-byte rows,
// 512 bytes apart), so both operands are read through shared-memory descriptors. Validated first in
// bench/sandbox/conv_fwd_sandbox.cu. Builds without the sm_90a features keep mma.sync for Tile and
// never plan the warp-specialized tiles (wgmmaReady() on the host).
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define LAMINA_TC_WGMMA 1
#else
#define LAMINA_TC_WGMMA 0
#endif
// Whether a Tile/type/direction runs on wgmma: the 128x128 tile, half/bf16, both operands K-major.
template <class Cfg, class T, bool B_KMAJOR> constexpr bool useWgmma() {
  return LAMINA_TC_WGMMA && !Cfg::WS && Cfg::BM == 128 && Cfg::BN == 128 && sizeof(T) == 2 && B_KMAJOR;
}

// mainLoop's pipeline with the 128x128 product on one warpgroup (two m64n128k16 per 16-deep step);
// acc holds the two m64 halves' accumulators in order, read back through forEachRowPair<Cfg, true>.
template <class Cfg, class T, class Load>
__device__ __forceinline__ void mainLoopWgmma(uint8_t *smem, int iters, float (&acc)[Cfg::MI][Cfg::NI][4], Load &load) {
#if LAMINA_TC_WGMMA
  static_assert(Cfg::BM == 128 && Cfg::BN == 128 && Cfg::MI * Cfg::NI * 4 == 128, "the 128x128 tile");
  float(&d0)[64] = *reinterpret_cast<float(*)[64]>(&acc[0][0][0]);
  float(&d1)[64] = *reinterpret_cast<float(*)[64]>(&acc[0][0][0] + 64);
#pragma unroll
  for (int e = 0; e < 64; ++e)
    d0[e] = 0.f, d1[e] = 0.f;
  const uint32_t base = smemAddr(smem);
  auto stageA = [&](int s) { return base + uint32_t(s * Cfg::STAGE_BYTES); };
  auto stageB = [&](int s) { return base + uint32_t(s * Cfg::STAGE_BYTES + Cfg::A_BYTES); };
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < iters)
      load(stageA(s), stageB(s), s);
    cpAsyncCommit();
  }
  for (int it = 0; it < iters; ++it) {
    cpAsyncWait<kStages - 2>();
    // cp.async wrote through the generic proxy; wgmma reads through the async proxy.
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();
    const int next = it + kStages - 1;
    if (next < iters)
      load(stageA(next % kStages), stageB(next % kStages), next);
    cpAsyncCommit();
    const uint32_t sA = stageA(it % kStages), sB = stageB(it % kStages);
    wgmmaFence();
#pragma unroll
    for (int kk = 0; kk < 2; ++kk) {
      const uint64_t db = smemDesc64B(sB + kk * 32);
      wgmmaK16<128, MmaKind<T>::bf16>(d0, smemDesc64B(sA + kk * 32), db);
      wgmmaK16<128, MmaKind<T>::bf16>(d1, smemDesc64B(sA + 64 * 64 + kk * 32), db);
    }
    wgmmaCommit();
    wgmmaWait<0>(); // the stage is reused 3 slices later
#pragma unroll
    for (int e = 0; e < 64; ++e) {
      asm volatile("" : "+f"(d0[e])::"memory");
      asm volatile("" : "+f"(d1[e])::"memory");
    }
  }
  cpAsyncWait<0>();
#endif
}

// ---- mbarriers (shared-memory 64-bit barriers with phase parity) ---------------------------------
__device__ __forceinline__ void mbarInit(uint32_t bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void mbarArrive(uint32_t bar) {
  asm volatile("{\n.reg .b64 st;\nmbarrier.arrive.shared::cta.b64 st, [%0];\n}\n" ::"r"(bar) : "memory");
}
// Arrives on bar once all of this thread's earlier cp.async copies have landed (the barrier's count
// includes this arrival: .noinc).
__device__ __forceinline__ void cpAsyncArriveNoinc(uint32_t bar) {
  asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" ::"r"(bar) : "memory");
}
// Waits until the phase with the given parity has completed.
__device__ __forceinline__ void mbarWait(uint32_t bar, uint32_t parity) {
  asm volatile("{\n"
               ".reg .pred done;\n"
               "WAIT_%=:\n"
               "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
               "@!done bra WAIT_%=;\n"
               "}\n" ::"r"(bar),
               "r"(parity)
               : "memory");
}

// ---- Thread-block clusters (sm_90) ----------------------------------------------------------------
__device__ __forceinline__ uint32_t clusterRank() {
  uint32_t r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
  return r;
}
// Every thread of every CTA of the cluster arrives, then waits (release / acquire at cluster scope).
__device__ __forceinline__ void clusterSync() {
  asm volatile("barrier.cluster.arrive.release;\nbarrier.cluster.wait.acquire;\n" ::: "memory");
}
// Arrives on the mbarrier at the same shared-memory offset in CTA `rank` of the cluster. CTA-scope
// release (the default): .release.cluster put a cluster-wide memory barrier (ERRBAR) before every
// arrival, and the consumers stalled on it (ncu, H200: 35% of samples, 2x slower). The arrival only
// says that this warp's wgmma reads of the stage are done (wgmma.wait_group), as in CUTLASS.
__device__ __forceinline__ void mbarArriveCluster(uint32_t bar, uint32_t rank) {
  asm volatile("{\n.reg .b32 remote;\nmapa.shared::cluster.u32 remote, %0, %1;\n"
               "mbarrier.arrive.shared::cluster.b64 _, [remote];\n}\n" ::"r"(bar),
               "r"(rank)
               : "memory");
}

// ---- The warp-specialized main loop (TileWs) -------------------------------------------------------
// Warpgroup 0 (the producer) fills stage it % STAGES with slice it once the consumers have released it
// (empty barrier: one arrival per consumer warp): PRODUCERS of its threads call produce(stageA,
// stageB, fullBarrier, it), which issues the copies and arranges the stage's FULL_COUNT arrivals
// (cp.async: 128 threads, each arriving when its copies land; TMA: one thread, expect_tx + bulk
// copies). Warpgroups 1, 2 wait for full, multiply, keep one wgmma group in flight and release the
// stage of the slice before. Returns true in consumer threads (their acc holds the result), false in
// the producer's.
// B_MN: the B stage is MN-major in the 128B swizzle (64-column blocks of ROW_BYTES / 2 reduction rows x
// 128 bytes: 4 KB apart for 64-byte rows, 8 KB for 128), else K-major in the ROW_BYTES swizzle. A_MN:
// the same for A (64-row blocks; each m64 block is one).
// CLUSTER = 2: the two CTAs of a cluster fill each other's stages (TMA multicast), so a stage is free
// only when the consumers of both have released it: each consumer warp arrives on the empty barrier
// of both CTAs. The caller syncs the cluster before any CTA exits (clusterSync), since a peer may
// still arrive on its barriers.
// The pipeline's shared-memory addresses: the stages from base, full[STAGES] then empty[STAGES] mbarriers.
template <class Cfg> struct WsPipe {
  uint32_t base, full, empty;
  __device__ __forceinline__ explicit WsPipe(uint8_t *smem)
      : base(smemAddr(smem)), full(base + Cfg::BAR_OFFSET), empty(base + Cfg::BAR_OFFSET + 8 * Cfg::STAGES) {}
};

// Initializes the barriers (thread 0), then syncs the block (CLUSTER > 1: the cluster, so the peer's
// barriers are initialized before any copy or arrival reaches them).
template <class Cfg, int FULL_COUNT, int CLUSTER> __device__ __forceinline__ void wsInit(const WsPipe<Cfg> &pp) {
  if (threadIdx.x == 0) {
    for (int s = 0; s < Cfg::STAGES; ++s) {
      mbarInit(pp.full + 8 * s, FULL_COUNT);
      mbarInit(pp.empty + 8 * s, 8 * CLUSTER); // consumer warps of every CTA that writes the stage
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  if constexpr (CLUSTER > 1)
    clusterSync();
  else
    __syncthreads();
}

// Producer: slices g0 .. g0 + iters of the block's running slice sequence (a persistent block continues
// it over its tiles), slice g into stage g % STAGES once the consumers released its previous use.
template <class Cfg, class Produce>
__device__ __forceinline__ void wsProduce(const WsPipe<Cfg> &pp, int g0, int iters, Produce &produce) {
  constexpr int S = Cfg::STAGES;
  for (int it = 0; it < iters; ++it) {
    const int g = g0 + it, s = g % S;
    if (g >= S)
      mbarWait(pp.empty + 8 * s, uint32_t((g / S - 1) & 1));
    const uint32_t sA = pp.base + uint32_t(s * Cfg::STAGE_BYTES);
    produce(sA, sA + Cfg::A_BYTES, pp.full + 8 * s, it);
  }
}

// Consumer warpgroups: multiply slices g0 .. g0 + iters into acc (zeroed first), one wgmma group in
// flight, releasing each slice's stage once its products are done; the last one too when releaseLast
// (a persistent block's producer goes on filling stages).
template <class Cfg, class T, bool B_MN, bool A_MN, int CLUSTER>
__device__ __forceinline__ void wsConsume(const WsPipe<Cfg> &pp, int g0, int iters, float (&acc)[Cfg::MI][Cfg::NI][4],
                                          bool releaseLast, bool fenceProxy) {
#if LAMINA_TC_WGMMA
  constexpr int S = Cfg::STAGES, N = Cfg::BN;
  float(&d)[Cfg::MI][N / 2] = *reinterpret_cast<float(*)[Cfg::MI][N / 2]>(&acc[0][0][0]);
#pragma unroll
  for (int h = 0; h < Cfg::MI; ++h)
#pragma unroll
    for (int e = 0; e < N / 2; ++e)
      d[h][e] = 0.f;
  const int cw = threadIdx.x / kThreads - 1; // consumer warpgroup: rows cw * BM / 2 ..
  const uint32_t aRow0 = uint32_t(cw * (Cfg::BM / 2) * Cfg::ROW_BYTES);
  constexpr uint32_t MN_BLOCK = 64 * Cfg::ROW_BYTES; // bytes of one 64-wide MN-major block
  constexpr int KSTEPS = Cfg::ROW_BYTES / 32;        // 32-byte steps per slice (k16 of half, k8 of float)
  auto release = [&](int g) {
    if ((threadIdx.x & 31) == 0) {
      if constexpr (CLUSTER > 1) {
#pragma unroll
        for (int r = 0; r < CLUSTER; ++r)
          mbarArriveCluster(pp.empty + 8 * (g % S), uint32_t(r));
      } else {
        mbarArrive(pp.empty + 8 * (g % S));
      }
    }
  };
  for (int it = 0; it < iters; ++it) {
    const int g = g0 + it, s = g % S;
    mbarWait(pp.full + 8 * s, uint32_t((g / S) & 1));
    if (fenceProxy) // cp.async writes through the generic proxy, wgmma reads the async one
      asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    const uint32_t sA = pp.base + uint32_t(s * Cfg::STAGE_BYTES), sB = sA + Cfg::A_BYTES;
    wgmmaFence();
#pragma unroll
    for (int kk = 0; kk < KSTEPS; ++kk) {
      // MN-major: a 16-deep step is two 8-row groups (2 KB) further; K-major: 32 bytes along the row.
      const uint64_t db =
          B_MN ? smemDescMn128B(sB + kk * 2048, MN_BLOCK, 1024) : smemDescK<Cfg::ROW_BYTES>(sB + kk * 32);
#pragma unroll
      for (int h = 0; h < Cfg::MI; ++h) {
        const uint32_t aBlock = sA + aRow0 + h * 64 * Cfg::ROW_BYTES; // 64 rows
        const uint64_t da =
            A_MN ? smemDescMn128B(aBlock + kk * 2048, MN_BLOCK, 1024) : smemDescK<Cfg::ROW_BYTES>(aBlock + kk * 32);
        wgmmaStep<T, N, B_MN ? 1 : 0, A_MN ? 1 : 0>(d[h], da, db);
      }
    }
    wgmmaCommit();
    wgmmaWait<1>(); // slice g - 1's products are done: its stage goes back to the producer
#pragma unroll
    for (int h = 0; h < Cfg::MI; ++h)
#pragma unroll
      for (int e = 0; e < N / 2; ++e)
        asm volatile("" : "+f"(d[h][e])::"memory");
    if (it > 0)
      release(g - 1);
  }
  wgmmaWait<0>();
#pragma unroll
  for (int h = 0; h < Cfg::MI; ++h)
#pragma unroll
    for (int e = 0; e < N / 2; ++e)
      asm volatile("" : "+f"(d[h][e])::"memory");
  if (releaseLast && iters > 0)
    release(g0 + iters - 1);
#endif
}

// One tile's whole pipeline: wsInit, then the producer's PRODUCERS threads run wsProduce and the
// consumers wsConsume. Returns true in consumer threads (their acc holds the result), false in the
// producer's.
template <class Cfg, class T, int PRODUCERS, int FULL_COUNT, bool B_MN = false, bool A_MN = false, int CLUSTER = 1,
          class Produce>
__device__ __forceinline__ bool mainLoopWs(uint8_t *smem, int iters, float (&acc)[Cfg::MI][Cfg::NI][4],
                                           Produce &produce) {
#if LAMINA_TC_WGMMA
  const WsPipe<Cfg> pp(smem);
  wsInit<Cfg, FULL_COUNT, CLUSTER>(pp);
  if (threadIdx.x < kThreads) {
    if (threadIdx.x < PRODUCERS) {
      wsProduce(pp, 0, iters, produce);
      cpAsyncWait<0>();
    }
    return false;
  }
  wsConsume<Cfg, T, B_MN, A_MN, CLUSTER>(pp, 0, iters, acc, false, PRODUCERS > 1);
  return true;
#else
  return false; // never launched without wgmma (wgmmaReady)
#endif
}

// Every accumulator row of this thread: rowFn(row) (row within the block tile; false skips the row),
// then pairFn(col, v0, v1) for its pairs (col, col + 1). WG (or a TileWs): wgmma's layout (warp w of
// the warpgroup holds rows 16 w + lane/4 (+8) of each m64 block, n8 block j at columns 8 j + 2 (lane %
// 4)); for TileWs the consumer warpgroup's rows start at cw * BM / 2. Else mma.sync's (warp tiles of
// WTM x WTN).
template <class Cfg, bool WG, class RowFn, class PairFn>
__device__ __forceinline__ void forEachRowPair(const float (&acc)[Cfg::MI][Cfg::NI][4], RowFn rowFn, PairFn pairFn) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if constexpr (WG || Cfg::WS) {
    constexpr int MB = Cfg::WS ? Cfg::MI : 2, NB = Cfg::WS ? Cfg::BN / 8 : 16; // m64 blocks, n8 blocks
    const int row0 = Cfg::WS ? (threadIdx.x / kThreads - 1) * (Cfg::BM / 2) : 0;
    const float *a = &acc[0][0][0];
#pragma unroll
    for (int hh = 0; hh < MB; ++hh)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        if (!rowFn(row0 + hh * 64 + 16 * (warp & 3) + (lane >> 2) + 8 * e))
          continue;
#pragma unroll
        for (int j = 0; j < NB; ++j)
          pairFn(8 * j + 2 * (lane & 3), a[hh * 4 * NB + 4 * j + 2 * e], a[hh * 4 * NB + 4 * j + 2 * e + 1]);
      }
  } else {
    const int warpM = warp % Cfg::WARPS_M, warpN = warp / Cfg::WARPS_M;
#pragma unroll
    for (int mi = 0; mi < Cfg::MI; ++mi)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        if (!rowFn(warpM * Cfg::WTM + mi * 16 + (lane >> 2) + h * 8))
          continue;
#pragma unroll
        for (int ni = 0; ni < Cfg::NI; ++ni)
          pairFn(warpN * Cfg::WTN + ni * 8 + (lane & 3) * 2, acc[mi][ni][2 * h], acc[mi][ni][2 * h + 1]);
      }
  }
}

// Each consumer warpgroup's BM / 2 x BN accumulators (fp32) into the now idle pipeline stages, rows LD
// floats apart (pairs as float2 when LD is even), for a coalesced write-out by the same warpgroup (TileWs);
// returns its first staged row. Every slice was consumed by both warpgroups first: no wgmma still reads
// a stage, no copy still writes one.
template <class Cfg, int LD>
__device__ __forceinline__ float *stageAccumulators(const float (&acc)[Cfg::MI][Cfg::NI][4], uint8_t *smem) {
  static_assert(Cfg::BM * LD * 4 <= Cfg::BAR_OFFSET, "staging fits in the stages");
  const int cw = threadIdx.x / kThreads - 1, row0 = cw * (Cfg::BM / 2);
  asm volatile("bar.sync 1, 256;\n" ::: "memory");
  float *st = reinterpret_cast<float *>(smem) + size_t(row0) * LD;
  int cur = 0;
  forEachRowPair<Cfg, true>(
      acc,
      [&](int row) {
        cur = row - row0;
        return true;
      },
      [&](int col, float v0, float v1) {
        if constexpr (LD % 2 == 0)
          *reinterpret_cast<float2 *>(&st[cur * LD + col]) = make_float2(v0, v1);
        else
          st[cur * LD + col] = v0, st[cur * LD + col + 1] = v1;
      });
  asm volatile("bar.sync %0, 128;\n" ::"r"(2 + cw) : "memory");
  return st;
}

// Two adjacent outputs as one store (at: aligned to two elements).
__device__ __forceinline__ void storePair(__half *at, __half a, __half b) {
  *reinterpret_cast<uint32_t *>(at) = uint32_t(__half_as_ushort(a)) | (uint32_t(__half_as_ushort(b)) << 16);
}
__device__ __forceinline__ void storePair(__nv_bfloat16 *at, __nv_bfloat16 a, __nv_bfloat16 b) {
  *reinterpret_cast<uint32_t *>(at) = uint32_t(__bfloat16_as_ushort(a)) | (uint32_t(__bfloat16_as_ushort(b)) << 16);
}
__device__ __forceinline__ void storePair(float *at, float a, float b) {
  *reinterpret_cast<float2 *>(at) = make_float2(a, b);
}

// The epilogue's store of two adjacent outputs v0 (at `at`) and v1 (one column stride further, only when
// `both`): alpha * v + beta * old (old not read when beta is 0), one paired store when the columns are
// contiguous (vec2) and `at` is aligned to two elements.
template <class T>
__device__ __forceinline__ void storeScaledPair(T *at, int64_t colStride, bool both, bool vec2, float alpha, float beta,
                                                float v0, float v1) {
  auto scaled = [&](float v, const T *src) {
    float r = alpha * v;
    if (beta != 0.f)
      r += beta * toAcc(*src);
    return fromAcc<T>(r);
  };
  if (both && vec2 && (reinterpret_cast<uintptr_t>(at) & (2 * sizeof(T) - 1)) == 0) {
    const T a = scaled(v0, at), b = scaled(v1, at + 1);
    storePair(at, a, b);
  } else {
    *at = scaled(v0, at);
    if (both)
      at[colStride] = scaled(v1, at + colStride);
  }
}

// Calls put(row, col, v0, v1) for every accumulator pair of this thread: (row, col) and (row, col + 1)
// within the block tile.
template <class Cfg, class Put>
__device__ __forceinline__ void forEachPair(const float (&acc)[Cfg::MI][Cfg::NI][4], Put put) {
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

} // namespace lamina::cuda::tc
